"""The scripted agent, which lives in `tether.testing` for plugin authors too."""

from tether.testing.agent import Call, Fail, Parallel, Say, ScriptedAgent, Step, UseTool, Wait

__all__ = ["Call", "Fail", "Parallel", "Say", "ScriptedAgent", "Step", "UseTool", "Wait"]
