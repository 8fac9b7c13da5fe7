"""A kit for testing plugins (and Tether itself) against a real engine.

The same fakes Tether's own tests and benchmarks use:

- `ScriptedAgent` with its steps (`Say`, `UseTool`, `Parallel`, `Wait`, `Fail`):
  an in-process agent that plays a script and asks the real gate about each
  tool call;
- `RecordingConnector`: an in-memory connector that records what it was asked
  to show, approval requests included;
- `capture_events(bus)`: a context manager recording every event emitted;
- `running_engine(plugins, ...)`: an engine built by `build_engine` with the
  given plugins, started in a temporary directory.
"""

from tether.testing.agent import Call, Fail, Parallel, Say, ScriptedAgent, Step, UseTool, Wait
from tether.testing.connector import ApprovalRequest, RecordedReply, RecordingConnector
from tether.testing.engine import TEST_USER, EngineUnderTest, running_engine
from tether.testing.events import CapturedEvents, capture_events

__all__ = [
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
]
