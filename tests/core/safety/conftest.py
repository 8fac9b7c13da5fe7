"""Fixtures for the safety tests: parser, presets, pipelines over a real project, and fakes."""

from __future__ import annotations

import asyncio
import posixpath
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from tether.core.events import Event, EventBus
from tether.core.safety import tree_reads
from tether.core.safety.analyzer import CommandAnalyzer, PathAnalyzer
from tether.core.safety.approvals import ApprovalCoordinator
from tether.core.safety.audit import AuditLogger
from tether.core.safety.classify import Classifier
from tether.core.safety.gatekeeper import ToolGatekeeper
from tether.core.safety.pipeline import SafetyPipeline
from tether.core.safety.policy import Policy, PolicyEngine
from tether.core.safety.policy_files import PRESETS, load_policy
from tether.core.safety.preview import ApprovalPreview
from tether.core.safety.sandbox import UNREADABLE_LINK, SandboxEnforcer, probe
from tether.core.safety.shell import ShellParser

MakePipeline = Callable[..., SafetyPipeline]


@pytest.fixture(scope="session")
def shell_parser() -> ShellParser:
    return ShellParser()


@pytest.fixture(scope="session")
def command_analyzer(shell_parser: ShellParser) -> CommandAnalyzer:
    return CommandAnalyzer(shell_parser, PathAnalyzer())


@pytest.fixture(scope="session")
def classifier(shell_parser: ShellParser, command_analyzer: CommandAnalyzer) -> Classifier:
    return Classifier(shell_parser, command_analyzer, PathAnalyzer())


@pytest.fixture(scope="session")
def presets() -> dict[str, Policy]:
    """Every shipped preset, loaded once."""
    return {name: load_policy(name) for name in PRESETS}


@pytest.fixture(scope="session")
def shared_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project for table tests that only read the file system."""
    project = tmp_path_factory.mktemp("shared") / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "app.py").write_text("print('hello')\n")
    (project / "README.md").write_text("# demo\n")
    (project / "build").mkdir()
    return project


def _make(
    classifier: Classifier, presets: dict[str, Policy], directories: Sequence[Path]
) -> MakePipeline:
    def make(*policies: str | Policy, home: Path | None = None) -> SafetyPipeline:
        chosen = [presets[p] if isinstance(p, str) else p for p in (policies or ("default",))]
        sandbox = SandboxEnforcer(directories, home=home)
        return SafetyPipeline(PolicyEngine(chosen, classifier), sandbox, PathAnalyzer())

    return make


@pytest.fixture
def make_pipeline(
    classifier: Classifier, presets: dict[str, Policy], project_dir: Path
) -> MakePipeline:
    """Pipelines over this test's own project directory: `make_pipeline("strict")`."""
    return _make(classifier, presets, [project_dir])


@pytest.fixture(scope="session")
def shared_pipelines(
    classifier: Classifier, presets: dict[str, Policy], shared_project: Path
) -> dict[str, SafetyPipeline]:
    """One pipeline per preset combination, over the shared project (for big tables)."""
    make = _make(classifier, presets, [shared_project])
    return {
        "default": make("default"),
        "strict": make("strict"),
        "permissive": make("permissive"),
        "default+dev-tools": make("default", "dev-tools"),
        "strict+dev-tools": make("strict", "dev-tools"),
    }


class FakeRequester:
    """An in-memory connector for approvals: records requests and closes; can fail or hang."""

    def __init__(self, *, fail: bool = False, hang: bool = False) -> None:
        self.requests: list[tuple[object, str, str, str]] = []
        self.closed: list[tuple[object, str, str]] = []
        self.previews: list[ApprovalPreview | None] = []
        self.fail = fail
        self.hang = hang
        self.asked = asyncio.Event()
        """Set when a request has been shown."""

    async def request_approval(
        self,
        chat_id: object,
        approval_id: str,
        description: str,
        tool_name: str,
        *,
        preview: ApprovalPreview | None = None,
    ) -> str:
        self.previews.append(preview)
        if self.fail:
            raise ConnectionError("chat unreachable")
        if self.hang:
            await asyncio.Event().wait()
        self.requests.append((chat_id, approval_id, description, tool_name))
        self.asked.set()
        return f"msg-{approval_id}"

    async def close_approval(self, chat_id: object, message_id: str, outcome: str) -> None:
        self.closed.append((chat_id, message_id, outcome))

    @property
    def last_id(self) -> str:
        return self.requests[-1][1]


class EventLog:
    """Every event the bus delivers, in order."""

    def __init__(self, bus: EventBus) -> None:
        self.events: list[Event] = []
        bus.subscribe("*", self._record)

    async def _record(self, event: Event) -> None:
        self.events.append(event)

    def names(self) -> list[str]:
        return [event.name for event in self.events]

    def named(self, name: str) -> list[Event]:
        return [event for event in self.events if event.name == name]


@pytest.fixture
def event_bus() -> EventBus:
    return EventBus(handler_timeout=1.0)


@pytest.fixture
def event_log(event_bus: EventBus) -> EventLog:
    return EventLog(event_bus)


@pytest.fixture
def audit_logger(tmp_path: Path) -> AuditLogger:
    return AuditLogger(tmp_path / "audit.jsonl")


@pytest.fixture
def requester() -> FakeRequester:
    return FakeRequester()


@pytest.fixture
def approvals(
    event_bus: EventBus, audit_logger: AuditLogger, requester: FakeRequester
) -> ApprovalCoordinator:
    return ApprovalCoordinator(
        event_bus=event_bus, audit_logger=audit_logger, requester=requester, timeout_seconds=2
    )


@pytest.fixture
def gate(
    make_pipeline: MakePipeline,
    approvals: ApprovalCoordinator,
    event_bus: EventBus,
    audit_logger: AuditLogger,
) -> ToolGatekeeper:
    return ToolGatekeeper(make_pipeline(), approvals, event_bus, audit_logger)


def reference_resolve(base: str, path: str, probes: list[tuple[str, str | None]]) -> str | None:
    """`path` resolved from `base` the careful way, for tests of the sandbox's fast lookup:
    every component looked up with `probe`, `..` applied to where the walk really is, at
    most 40 links followed (None past that, or at a link that cannot be read)."""
    current = "/" if path.startswith("/") else base
    pending = path.split("/")[::-1]
    hops = 0
    while pending:
        part = pending.pop()
        if not part or part == ".":
            continue
        if part == "..":
            current = posixpath.dirname(current) or "/"
            continue
        candidate = current + part if current.endswith("/") else f"{current}/{part}"
        target = probe(candidate)
        probes.append((candidate, target))
        if target is None:
            current = candidate
            continue
        hops += 1
        if hops > 40 or target == UNREADABLE_LINK:
            return None
        if target.startswith("/"):
            current = "/"
        pending.extend(reversed(target.split("/")))
    return current


@pytest.fixture
def listed_directories(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every directory the tree reads list from now on, in order (a walk's work)."""
    listed: list[str] = []
    scandir = tree_reads.os.scandir

    def counted(path: str) -> object:
        listed.append(str(path))
        return scandir(path)

    monkeypatch.setattr(tree_reads.os, "scandir", counted)
    return listed
