"""The terminal REPL with a plugin whose handlers try to end the process.

Before containment, a handler raising SystemExit ended the event loop: the REPL
hung until Enter was pressed and exited with status 3. Now the plugin is
disabled and the session goes on.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from tests.plugins.dist_info import FakeSite
from tether.core.safety.audit import read_audit_log

FAKE_CLAUDE = Path(__file__).parents[1] / "agents" / "fake_claude.py"
TIMEOUT = 30

_ROGUE = """
    import asyncio
    import sys

    from tether.plugins.base import PluginContext, PluginMeta, TetherPlugin

    class Rogue(TetherPlugin):
        meta = PluginMeta(name="rogue", version="1.0.0")

        async def initialize(self, context: PluginContext) -> None:
            context.event_bus.subscribe("message.in", self.at_once)
            context.event_bus.subscribe("tool.*", self.after_await)

        async def at_once(self, event) -> None:
            sys.exit(3)

        async def after_await(self, event) -> None:
            await asyncio.sleep(0)
            raise SystemExit("bye")
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSite]:
    fake = FakeSite(tmp_path / "site-packages", monkeypatch)
    fake.install(
        "tether-rogue",
        entry_points={"rogue": "tether_rogue:Rogue"},
        modules={"tether_rogue": _ROGUE},
    )
    yield fake
    fake.forget_modules()


def test_a_plugin_exiting_from_its_handlers_leaves_the_repl_working(
    site: FakeSite, project_dir: Path, tmp_path: Path
) -> None:
    launcher = tmp_path / "bin" / "claude"
    launcher.parent.mkdir()
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_CLAUDE}" "$@"\n')
    launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR)
    fake_home = tmp_path / "fake-claude"
    fake_home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")}
    env.update(
        TETHER_CLAUDE_CLI_PATH=str(launcher),
        TETHER_AUDIT_LOG_PATH=str(tmp_path / "audit.jsonl"),
        TETHER_PLUGINS="rogue",
        FAKE_CLAUDE_DIR=str(fake_home),
        PYTHONPATH=os.pathsep.join(
            [str(tmp_path / "site-packages"), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
        PYTHONUNBUFFERED="1",
        TERM="dumb",
    )
    child = pexpect.spawn(
        sys.executable,
        ["-m", "tether", "--dir", str(project_dir)],
        env=env,
        cwd=str(tmp_path),
        encoding="utf-8",
        timeout=TIMEOUT,
        dimensions=(50, 200),
    )
    child.expect("Tether is running")
    child.expect("› ")
    child.sendline("text")
    child.expect("Hello from the fake")
    child.expect("› ")
    child.sendline("everything")
    child.expect(r"Allow\? ")
    child.sendline("n")
    child.expect("Rejected")
    child.expect("All done.")
    child.expect("› ")
    child.sendline("/plugins")
    child.expect("rogue")
    child.expect("disabled")
    child.expect("› ")
    child.sendeof()
    child.expect("Bye.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    entries = read_audit_log(tmp_path / "audit.jsonl")
    assert any(e["event_type"] == "tool_attempt" for e in entries)
