"""The metrics, and how each event of Tether updates them.

Every metric lives in the plugin's own `CollectorRegistry` (never the process's
global one), so two engines in one process, or a test's, do not share counts.
Label values that come from configuration or plugins (rule names, handler
names) are bounded in number and length: whatever a policy or a plugin calls
itself, the page stays small.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from tether.plugins import HandlerStats

__all__ = ["HandlerStatsCollector", "LabelBound", "TetherMetrics"]

MAX_LABEL_VALUES = 200
"""Distinct values one label may take before the rest are counted as `other`."""

MAX_LABEL_CHARS = 120

MAX_PENDING_APPROVALS = 10_000
"""Approvals remembered for their latency; past that the oldest are forgotten."""

# A person answers in seconds to minutes; the approval timeout is 300 s by default.
APPROVAL_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)


class LabelBound:
    """Keeps a label to `MAX_LABEL_VALUES` distinct values of `MAX_LABEL_CHARS` at most."""

    def __init__(self, limit: int = MAX_LABEL_VALUES) -> None:
        self._limit = limit
        self._seen: set[str] = set()

    def __call__(self, value: object) -> str:
        text = value if isinstance(value, str) else "none" if value is None else "other"
        text = text[:MAX_LABEL_CHARS]
        if text in self._seen:
            return text
        if len(self._seen) >= self._limit:
            return "other"
        self._seen.add(text)
        return text


class TetherMetrics:
    """The counters and histograms, registered in `registry`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.messages = Counter(
            "tether_messages",
            "Messages handled: in (arrived) and out (replied).",
            ("direction",),
            registry=registry,
        )
        self.request_cost = Counter(
            "tether_request_cost_usd",
            "What the agent's requests cost, in US dollars, as the agent reported it.",
            registry=registry,
        )
        self.tool_calls = Counter(
            "tether_tool_calls",
            "Tool calls the gate decided, by decision (allowed, denied) and the rule that decided.",
            ("decision", "rule"),
            registry=registry,
        )
        self.approvals = Counter(
            "tether_approvals",
            "Approvals that ended, by outcome (approved, rejected, timeout, …).",
            ("outcome",),
            registry=registry,
        )
        self.approvals_requested = Counter(
            "tether_approvals_requested",
            "Approvals a person was asked for.",
            registry=registry,
        )
        self.approval_latency = Histogram(
            "tether_approval_latency_seconds",
            "From asking a person to the approval's end, by outcome.",
            ("outcome",),
            buckets=APPROVAL_BUCKETS,
            registry=registry,
        )
        self._rules = LabelBound()
        self._outcomes = LabelBound(limit=16)
        self._asked: OrderedDict[str, datetime] = OrderedDict()

    def message(self, direction: str, cost: object = None) -> None:
        self.messages.labels(direction).inc()
        # The cost comes from the agent: only a finite, non-negative number is counted.
        if isinstance(cost, bool) or not isinstance(cost, int | float):
            return
        if math.isfinite(cost) and cost >= 0:
            self.request_cost.inc(cost)

    def tool_call(self, decision: str, rule: object) -> None:
        self.tool_calls.labels(decision, self._rules(rule)).inc()

    def approval_requested(self, approval_id: object, at: datetime) -> None:
        self.approvals_requested.inc()
        if isinstance(approval_id, str):
            self._asked[approval_id] = at
            while len(self._asked) > MAX_PENDING_APPROVALS:
                self._asked.popitem(last=False)

    def approval_resolved(self, approval_id: object, outcome: object, at: datetime) -> None:
        label = self._outcomes(outcome)
        self.approvals.labels(label).inc()
        asked = self._asked.pop(approval_id, None) if isinstance(approval_id, str) else None
        if asked is not None:
            self.approval_latency.labels(label).observe(max(0.0, (at - asked).total_seconds()))


class HandlerStatsCollector(Collector):
    """Event handlers' calls, errors and timeouts per plugin, read at each scrape.

    `read` returns the bus's counters; it is called from the HTTP server's
    thread and must hand the reading over to Tether's event loop (see the plugin).
    """

    def __init__(self, read: Callable[[], Sequence[HandlerStats]]) -> None:
        self._read = read
        self._plugins = LabelBound()
        self._handlers = LabelBound()

    def collect(self) -> Iterator[CounterMetricFamily]:
        labels = ("plugin", "handler")
        calls = CounterMetricFamily(
            "tether_event_handler_calls", "Events delivered to a handler.", labels=labels
        )
        errors = CounterMetricFamily(
            "tether_event_handler_errors", "Handler calls that raised.", labels=labels
        )
        timeouts = CounterMetricFamily(
            "tether_event_handler_timeouts",
            "Handler calls cancelled at the handler timeout.",
            labels=labels,
        )
        totals: dict[tuple[str, str], tuple[int, int, int]] = {}
        for stats in self._read():
            key = (self._plugins(stats.owner or "tether"), self._handlers(stats.handler))
            before = totals.get(key, (0, 0, 0))
            totals[key] = (
                before[0] + stats.calls,
                before[1] + stats.errors,
                before[2] + stats.timeouts,
            )
        for key, (called, failed, timed_out) in totals.items():
            calls.add_metric(key, called)
            errors.add_metric(key, failed)
            timeouts.add_metric(key, timed_out)
        yield calls
        yield errors
        yield timeouts
