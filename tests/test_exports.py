"""The public names users' plugins import: pinned, so a rename cannot slip through."""

from __future__ import annotations
import __future__

import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

import tether
from tether import exceptions

CONTRACT: dict[str, set[str]] = {
    "tether.plugins.base": {"PluginContext", "PluginMeta", "TetherPlugin"},
    "tether.plugins.registry": {"PluginRegistry"},
    "tether.plugins.builtin.audit_plugin": {"AuditPlugin"},
    "tether.core.events": {
        "Event",
        "EventBus",
        "EventHandler",
        "MESSAGE_IN",
        "MESSAGE_OUT",
        "TOOL_GATED",
        "TOOL_ALLOWED",
        "TOOL_DENIED",
        "APPROVAL_REQUESTED",
        "APPROVAL_RESOLVED",
        "SAFETY_VIOLATION",
        "ENGINE_STARTED",
        "ENGINE_STOPPED",
    },
    "tether.core.config": {"TetherConfig", "load_config"},
    "tether.core.event_payloads": {
        "PAYLOAD_MODELS",
        "EventPayload",
        "MessageIn",
        "MessageOut",
        "ToolGated",
        "ToolAllowed",
        "ToolDenied",
        "SafetyViolation",
        "ApprovalRequested",
        "ApprovalResolved",
        "EnginePayload",
        "payload_of",
    },
    "tether.core.safety.audit": {"AuditLogger"},
    "tether.core.engine": {"Engine"},
    "tether.app": {"build_engine"},
    "tether.exceptions": {
        "TetherError",
        "ConfigError",
        "AgentError",
        "SafetyError",
        "ApprovalTimeoutError",
        "SessionError",
        "StorageError",
        "PluginError",
        "InteractionTimeoutError",
    },
}


@pytest.mark.parametrize(
    ("module_name", "names"), [pytest.param(m, n, id=m) for m, n in CONTRACT.items()]
)
def test_contract_names_are_exported(module_name: str, names: set[str]) -> None:
    module = importlib.import_module(module_name)
    missing = names - set(module.__all__)
    assert not missing, f"{module_name}.__all__ lacks {sorted(missing)}"
    for name in names:
        assert hasattr(module, name)


# The curated namespaces: exactly these names, so that one cannot grow or shrink
# without this list (and the docs) saying so.
CURATED: dict[str, set[str]] = {
    "tether.plugins": {
        "APPROVAL_REQUESTED",
        "APPROVAL_RESOLVED",
        "ENGINE_STARTED",
        "ENGINE_STOPPED",
        "MESSAGE_IN",
        "MESSAGE_OUT",
        "PLUGIN_EVENT_PREFIX",
        "SAFETY_VIOLATION",
        "TOOL_ALLOWED",
        "TOOL_DENIED",
        "TOOL_GATED",
        "WILDCARD",
        "ApprovalRequested",
        "ApprovalResolved",
        "EnginePayload",
        "Event",
        "EventHandler",
        "HandlerStats",
        "MessageIn",
        "MessageOut",
        "PluginContext",
        "PluginError",
        "PluginEventBus",
        "PluginMeta",
        "SafetyViolation",
        "TetherPlugin",
        "ToolAllowed",
        "ToolDenied",
        "ToolGated",
        "payload_of",
        "plugin_namespace",
        "HOOKS",
        "CommandCall",
        "CommandServices",
        "GateCall",
        "ProgramSpec",
        "SlashCommand",
        "Tighten",
        "hook",
    },
    "tether.testing": {
        "TEST_USER",
        "ApprovalRequest",
        "Call",
        "CapturedEvents",
        "EngineUnderTest",
        "Fail",
        "Parallel",
        "RecordedReply",
        "RecordingConnector",
        "Say",
        "ScriptedAgent",
        "Step",
        "UseTool",
        "Wait",
        "capture_events",
        "running_engine",
    },
}


@pytest.mark.parametrize(
    ("module_name", "names"), [pytest.param(m, n, id=m) for m, n in CURATED.items()]
)
def test_curated_namespaces_export_exactly_their_names(module_name: str, names: set[str]) -> None:
    module = importlib.import_module(module_name)
    assert set(module.__all__) == names
    for name in names:
        assert hasattr(module, name), f"{module_name}.{name} is listed but missing"


def test_the_plugins_namespace_re_exports_the_same_objects() -> None:
    plugins = importlib.import_module("tether.plugins")
    for module_name in ("tether.plugins.base", "tether.core.events", "tether.exceptions"):
        module = importlib.import_module(module_name)
        for name in set(module.__all__) & set(plugins.__all__):
            assert getattr(plugins, name) is getattr(module, name), name


@pytest.mark.parametrize(
    ("constant", "value"),
    [
        pytest.param("MESSAGE_IN", "message.in", id="message.in"),
        pytest.param("MESSAGE_OUT", "message.out", id="message.out"),
        pytest.param("TOOL_GATED", "tool.gated", id="tool.gated"),
        pytest.param("TOOL_ALLOWED", "tool.allowed", id="tool.allowed"),
        pytest.param("TOOL_DENIED", "tool.denied", id="tool.denied"),
        pytest.param("APPROVAL_REQUESTED", "approval.requested", id="approval.requested"),
        pytest.param("APPROVAL_RESOLVED", "approval.resolved", id="approval.resolved"),
        pytest.param("SAFETY_VIOLATION", "safety.violation", id="safety.violation"),
        pytest.param("ENGINE_STARTED", "engine.started", id="engine.started"),
        pytest.param("ENGINE_STOPPED", "engine.stopped", id="engine.stopped"),
    ],
)
def test_event_names(constant: str, value: str) -> None:
    events = importlib.import_module("tether.core.events")
    assert getattr(events, constant) == value


@pytest.mark.parametrize(
    ("error", "parent"),
    [
        pytest.param(exceptions.ConfigError, exceptions.TetherError, id="config"),
        pytest.param(exceptions.PluginError, exceptions.TetherError, id="plugin"),
        pytest.param(exceptions.AgentError, exceptions.TetherError, id="agent"),
        pytest.param(exceptions.SessionError, exceptions.TetherError, id="session"),
        pytest.param(exceptions.StorageError, exceptions.TetherError, id="storage"),
        pytest.param(exceptions.SafetyError, exceptions.TetherError, id="safety"),
        pytest.param(
            exceptions.ApprovalTimeoutError, exceptions.SafetyError, id="approval-timeout"
        ),
        pytest.param(
            exceptions.InteractionTimeoutError, exceptions.TetherError, id="interaction-timeout"
        ),
        pytest.param(exceptions.TetherError, Exception, id="base"),
    ],
)
def test_error_tree(error: type[Exception], parent: type[Exception]) -> None:
    assert issubclass(error, parent)


def test_plugin_protocol_members() -> None:
    from tether.plugins.base import TetherPlugin

    for method in ("initialize", "start", "stop"):
        assert inspect.iscoroutinefunction(getattr(TetherPlugin, method))
    assert "meta" in TetherPlugin.__annotations__
    assert list(inspect.signature(TetherPlugin.initialize).parameters) == ["self", "context"]


def test_registry_members() -> None:
    from tether.plugins.registry import PluginRegistry

    for method in ("init_all", "start_all", "stop_all"):
        assert inspect.iscoroutinefunction(getattr(PluginRegistry, method))
    for method in ("register", "get"):
        assert callable(getattr(PluginRegistry, method))
    assert isinstance(inspect.getattr_static(PluginRegistry, "plugins"), property)


def test_event_bus_members() -> None:
    from tether.core.events import EventBus

    assert inspect.iscoroutinefunction(EventBus.emit)
    assert list(inspect.signature(EventBus.subscribe).parameters) == ["self", "pattern", "handler"]
    assert list(inspect.signature(EventBus.unsubscribe).parameters) == [
        "self",
        "pattern",
        "handler",
    ]


def test_build_engine_signature() -> None:
    from tether.app import build_engine

    parameters = inspect.signature(build_engine).parameters
    assert next(iter(parameters)) == "config"
    assert parameters["config"].default is None
    for keyword in ("plugins", "agent", "connector"):
        assert parameters[keyword].kind is inspect.Parameter.KEYWORD_ONLY
        assert parameters[keyword].default is None


def _modules() -> list[str]:
    names = ["tether"]
    for info in pkgutil.walk_packages(tether.__path__, prefix="tether."):
        if info.name != "tether.__main__":  # running it is importing it
            names.append(info.name)
    return sorted(names)


def _public_definitions(module: ModuleType) -> list[str]:
    return [
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, ModuleType | __future__._Feature)
    ]


@pytest.mark.parametrize("module_name", [pytest.param(m, id=m) for m in _modules()])
def test_every_module_declares_all_and_every_name_in_it_exists(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = getattr(module, "__all__", None)
    if exported is None:
        # Only a package's __init__ with nothing of its own may go without.
        assert _public_definitions(module) == [], f"{module_name} has no __all__"
        return
    assert isinstance(exported, list | tuple)
    assert len(set(exported)) == len(exported), f"{module_name}.__all__ repeats a name"
    for name in exported:
        assert hasattr(module, name), f"{module_name}.__all__ names {name!r}, which is missing"
