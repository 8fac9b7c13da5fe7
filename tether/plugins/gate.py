"""GateHooks: the plugins' gate hooks, run for each call the policy would allow or ask about.

Each hook is bounded by the event-handler timeout and contained (`call_hook`).
The hooks can only tighten, and they fail closed: a hook that raises, times
out or returns something other than a `Tighten` or None turns an allow into an
ask (and leaves an ask an ask), logged and counted against its plugin. The
strictest answer wins (deny over ask); the first deny ends the review.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tether.core.safety.gate_hooks import GateCall, GateReview, Tighten
from tether.log import get_logger
from tether.plugins.calls import HookCounters, call_hook

__all__ = ["GateHooks"]

logger = get_logger(__name__)

_HOOK = "gate"


class GateHooks:
    """The registered gate hooks, in registration order; implements `GateReviewer`.

    Args:
        timeout: how long one hook may take (`TETHER_EVENT_HANDLER_TIMEOUT_SECONDS`).
    """

    __slots__ = ("_hooks", "_timeout")

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._hooks: list[tuple[str, Callable[..., Any], HookCounters]] = []

    def add(self, plugin: str, function: Callable[..., Any], counters: HookCounters) -> None:
        """Run `function` (plugin `plugin`'s verified `gate` hook) on every reviewed call."""
        self._hooks.append((plugin, function, counters))

    @property
    def active(self) -> bool:
        return bool(self._hooks)

    @property
    def plugins(self) -> tuple[str, ...]:
        return tuple(plugin for plugin, _, _ in self._hooks)

    async def review(self, call: GateCall) -> GateReview | None:
        """The strictest tightening the hooks ask for, or None to leave the decision."""
        strictest: GateReview | None = None
        for plugin, function, counters in self._hooks:
            outcome = await call_hook(plugin, _HOOK, function, counters, self._timeout, call)
            answer = _tightening(plugin, outcome.value) if outcome.error is None else None
            if answer is _MISBEHAVED:
                counters.errors += 1
                logger.error(
                    "plugin_hook_failed",
                    plugin=plugin,
                    hook=_HOOK,
                    error=f"returned {type(outcome.value).__name__}, not a Tighten or None",
                    timed_out=False,
                )
            if outcome.error is not None or answer is _MISBEHAVED:
                if call.decision == "allow" and strictest is None:
                    why = outcome.describe() if outcome.error is not None else "a wrong answer"
                    strictest = GateReview(
                        action="ask",
                        reason=f"the gate hook of plugin {plugin!r} failed ({why}); "
                        "a person decides instead",
                        plugin=plugin,
                    )
                continue
            if isinstance(answer, GateReview):
                if answer.action == "deny":
                    return answer
                if strictest is None:
                    strictest = answer
        return strictest


_MISBEHAVED = object()


def _tightening(plugin: str, value: object) -> GateReview | object | None:
    if value is None:
        return None
    if not isinstance(value, Tighten):
        return _MISBEHAVED
    # Read once, as plain values: the object is the plugin's.
    action, reason = value.action, value.reason
    if action not in ("ask", "deny") or type(reason) is not str or not reason:
        return _MISBEHAVED
    return GateReview(action=action, reason=" ".join(reason.split())[:500], plugin=plugin)
