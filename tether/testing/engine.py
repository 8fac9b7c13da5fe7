"""running_engine: a real engine, with given plugins, in a temporary directory."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tether.app import build_engine
from tether.core.config import TetherConfig
from tether.core.engine import Engine
from tether.core.safety.audit import read_audit_log
from tether.core.types import ChatId, UserId
from tether.plugins.base import TetherPlugin
from tether.testing.agent import Say, ScriptedAgent
from tether.testing.connector import RecordingConnector
from tether.testing.events import CapturedEvents, capture_events

__all__ = ["TEST_USER", "EngineUnderTest", "running_engine"]

TEST_USER = 1
"""The user (and chat) `running_engine` lets in unless told otherwise."""


@dataclass(frozen=True)
class EngineUnderTest:
    """What `running_engine` started: the engine, its parts, and where it works."""

    engine: Engine
    agent: ScriptedAgent
    connector: RecordingConnector
    project: Path
    """The approved directory (empty but for what the test puts there)."""
    config: TetherConfig
    events: CapturedEvents
    """Every event emitted from before start-up until the engine stopped."""

    async def send(
        self, text: str, *, user_id: UserId = TEST_USER, chat_id: ChatId = TEST_USER
    ) -> str:
        """Handle `text` as a message from `user_id` in `chat_id`; the reply."""
        return await self.engine.handle_message(user_id, text, chat_id)

    @property
    def audit_log_path(self) -> Path:
        return self.config.audit_log_path

    def audit_entries(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """The audit log's entries so far (of `event_type` only, when given), oldest first."""
        entries = read_audit_log(self.config.audit_log_path)
        return [e for e in entries if event_type is None or e["event_type"] == event_type]


@asynccontextmanager
async def running_engine(
    plugins: Sequence[TetherPlugin] = (),
    *,
    agent: ScriptedAgent | None = None,
    connector: RecordingConnector | None = None,
    workdir: Path | None = None,
    installed: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
    **settings: Any,
) -> AsyncIterator[EngineUnderTest]:
    """Start an engine built by `build_engine` with `plugins`, in a temporary directory.

    The approved directory (`project`), the audit log and the session store are
    in `workdir` (pytest's `tmp_path`, say), or else in a fresh directory
    removed when the block ends; `TEST_USER` is let in, unlimited. `settings`
    override any `TetherConfig` field (`approval_timeout_seconds=1`, ...);
    `TETHER_*` environment variables apply to the rest, except `TETHER_PLUGINS`:
    only the plugins given run, and the installed ones named in `installed`
    (entry points of the `tether.plugins` group, loaded as `TETHER_PLUGINS`
    would load them, after `plugins`). `environ` holds the plugins' settings
    (`TETHER_PLUGIN_<NAME>_*`; None: the process environment and `.env`).
    The agent is a `ScriptedAgent` (one that says "ok" by default), the
    connector a `RecordingConnector`. The engine is shut down when the block
    ends, whatever happened in it.
    """
    agent = agent if agent is not None else ScriptedAgent([Say("ok")])
    connector = connector if connector is not None else RecordingConnector()
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tether-test-")))
        root = workdir
        project = root / "project"
        project.mkdir(parents=True, exist_ok=True)
        values: dict[str, Any] = {
            "approved_directories": (project,),
            "audit_log_path": root / "audit.jsonl",
            "storage_path": root / "tether.db",
            "allowed_user_ids": (TEST_USER,),
            # A test sends as fast as it can: the highest limits allowed, so none is met.
            "rate_limit_rpm": 10_000,
            "rate_limit_burst": 10_000,
            "plugins": tuple(installed),
        }
        values.update(settings)
        config = TetherConfig(**values)
        engine = build_engine(
            config, plugins=plugins, agent=agent, connector=connector, environ=environ
        )
        with capture_events(engine.event_bus) as events:
            async with engine:
                yield EngineUnderTest(engine, agent, connector, project, config, events)
