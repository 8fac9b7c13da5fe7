"""What a plugin author imports, in one place.

```python
from tether.plugins import MESSAGE_IN, Event, PluginContext, PluginMeta, TetherPlugin
from tether.plugins import GateCall, ProgramSpec, SlashCommand, Tighten, hook
```

The longer paths (`tether.plugins.base`, `tether.core.events`,
`tether.exceptions`) keep working; these are the same objects.
"""

from tether.core.event_payloads import (
    ApprovalRequested,
    ApprovalResolved,
    EnginePayload,
    MessageIn,
    MessageOut,
    SafetyViolation,
    ToolAllowed,
    ToolDenied,
    ToolGated,
    payload_of,
)
from tether.core.events import (
    APPROVAL_REQUESTED,
    APPROVAL_RESOLVED,
    ENGINE_STARTED,
    ENGINE_STOPPED,
    MESSAGE_IN,
    MESSAGE_OUT,
    SAFETY_VIOLATION,
    TOOL_ALLOWED,
    TOOL_DENIED,
    TOOL_GATED,
    WILDCARD,
    Event,
    EventHandler,
    HandlerStats,
)
from tether.core.safety.contributions import ProgramSpec
from tether.core.safety.gate_hooks import GateCall, Tighten
from tether.core.services import CommandServices
from tether.exceptions import PluginError
from tether.plugins.base import PluginContext, PluginMeta, TetherPlugin
from tether.plugins.bus import PLUGIN_EVENT_PREFIX, PluginEventBus, plugin_namespace
from tether.plugins.commands import CommandCall, SlashCommand
from tether.plugins.hooks import HOOKS, hook

__all__ = [
    "APPROVAL_REQUESTED",
    "APPROVAL_RESOLVED",
    "ENGINE_STARTED",
    "ENGINE_STOPPED",
    "HOOKS",
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
    "CommandCall",
    "CommandServices",
    "EnginePayload",
    "Event",
    "EventHandler",
    "GateCall",
    "HandlerStats",
    "MessageIn",
    "MessageOut",
    "PluginContext",
    "PluginError",
    "PluginEventBus",
    "PluginMeta",
    "ProgramSpec",
    "SafetyViolation",
    "SlashCommand",
    "TetherPlugin",
    "Tighten",
    "ToolAllowed",
    "ToolDenied",
    "ToolGated",
    "hook",
    "payload_of",
    "plugin_namespace",
]
