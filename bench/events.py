"""EventBus cost: emit next to a bare loop, and what a failing or stuck handler costs others.

Three measurements, each repeated; medians are printed.

1. Emit cost in µs with 0, 1, 10 and 100 no-op handlers, next to the lower
   bound measured in the same run: a plain loop awaiting the same handlers
   directly (no containment, no timeout, no counters). Target: under 2x at 10.
2. How long `emit` keeps its caller waiting when one handler sleeps past the
   timeout (0.2 s here), against that timeout.
3. When ten fast handlers finish, counted from the start of the emit: alone;
   next to a handler that raises; and next to one that sleeps past the
   timeout, compared with the same handlers emitted right after another bus's
   timeout (an emit after a timeout's clean-up runs with colder caches). The
   troublesome handler is subscribed first, so every fast one runs after it.
   Target: no difference. Logging is configured as the `tether` command
   configures it (into a null stream), so logging a failure is part of the
   cost. Other work keeps the loop busy meanwhile, so that no case is measured
   on an idle CPU.
4. One emit whose handler emits two events per event it handles (fan-out
   recursion): how long it keeps its emitter, and how many handler calls the
   nesting bounds let through, next to one emit to the same handler that
   emits nothing.

    python bench/events.py
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import time
from collections.abc import Awaitable, Callable

from tether.core.events import Event, EventBus
from tether.log import configure_logging
from tether.plugins.bus import PluginEventBus

ROUNDS = 7
BATCHES = 32  # alternating emit / bare batches per round
HANDLER_COUNTS = (0, 1, 10, 100)
TIMEOUT = 0.2
FAST_HANDLERS = 10
SIBLING_TIMEOUT = 0.02  # each emit next to a sleeping handler waits this long
SLEEPER_REPEATS = 25
PLUGINS = 10

Handler = Callable[[Event], Awaitable[None]]


def _no_op_handlers(count: int) -> list[Handler]:
    handlers: list[Handler] = []
    for _ in range(count):

        async def no_op(event: Event) -> None:
            return None

        handlers.append(no_op)
    return handlers


async def _emit_cost(count: int) -> tuple[float, float]:
    """(emit µs, bare loop µs) per event for `count` no-op handlers.

    The two are timed in alternating short batches, so that a noisy neighbour on
    the machine slows both alike; each figure is the median batch.
    """
    handlers = _no_op_handlers(count)
    bus = EventBus(handler_timeout=5)
    for handler in handlers:
        bus.subscribe("tool.gated", handler)
    event = Event(name="tool.gated", data={"tool_name": "Bash"})
    batch = 1_000 if count <= 10 else 200
    clock = time.perf_counter

    for _ in range(200):  # warm the route cache and the interpreter
        await bus.emit(event)

    emit_batches: list[float] = []
    bare_batches: list[float] = []
    for _ in range(BATCHES):
        started = clock()
        for _ in range(batch):
            await bus.emit(event)
        emit_batches.append((clock() - started) / batch * 1e6)

        started = clock()
        for _ in range(batch):
            for handler in handlers:
                await handler(event)
        bare_batches.append((clock() - started) / batch * 1e6)
    return statistics.median(emit_batches), statistics.median(bare_batches)


async def _wait_past_timeout() -> float:
    """Seconds `emit` keeps its caller when one handler sleeps far past the timeout."""
    bus = EventBus(handler_timeout=TIMEOUT)

    async def sleeps(event: Event) -> None:
        await asyncio.sleep(60)

    bus.subscribe("tool.gated", sleeps)
    started = time.perf_counter()
    await bus.emit(Event(name="tool.gated"))
    return time.perf_counter() - started


async def _keep_warm(stop: asyncio.Event) -> None:
    """Keep the loop busy in short slices, as a busy Tether would be.

    An idle CPU runs the next microseconds several times slower; without other
    work, an emit that waits out a timeout would be measured cold and the others
    warm.
    """
    while not stop.is_set():
        deadline = time.perf_counter() + 0.0002
        while time.perf_counter() < deadline:
            pass
        await asyncio.sleep(0)


async def _fast_handlers_done(sibling: str) -> float:
    """µs from the start of an emit until the last of the fast handlers has finished.

    `sibling`: "none", "raises" or "sleeps" (past the timeout), subscribed first
    so that every fast handler runs after it; or "none-after-timeout", no
    sibling but each emit follows another bus's timed-out emit, the control for
    "sleeps": an emit after a timeout's clean-up runs with colder caches.
    """
    bus = EventBus(handler_timeout=SIBLING_TIMEOUT)
    other_bus = EventBus(handler_timeout=SIBLING_TIMEOUT)
    finished: list[float] = []

    async def raises(event: Event) -> None:
        raise RuntimeError("a plugin bug")

    async def sleeps(event: Event) -> None:
        await asyncio.sleep(60)

    if sibling == "raises":
        bus.subscribe("tool.gated", raises)
    elif sibling == "sleeps":
        bus.subscribe("tool.gated", sleeps)
    other_bus.subscribe("tool.gated", sleeps)
    for _ in range(FAST_HANDLERS):

        async def fast(event: Event) -> None:
            finished.append(time.perf_counter())

        bus.subscribe("tool.gated", fast)

    event = Event(name="tool.gated")
    await bus.emit(event)  # build the route
    waits = sibling in ("sleeps", "none-after-timeout")
    samples = []
    stop = asyncio.Event()
    warmer = asyncio.create_task(_keep_warm(stop))
    for _ in range(SLEEPER_REPEATS if waits else 2_000):
        if sibling == "none-after-timeout":
            await other_bus.emit(event)
        finished.clear()
        started = time.perf_counter()
        await bus.emit(event)
        samples.append((max(finished) - started) * 1e6)
    stop.set()
    await warmer
    return statistics.median(samples)


async def _fan_out() -> tuple[float, float, int]:
    """(ms for one runaway emit, ms for one quiet emit, handler calls of the runaway)."""
    bus = EventBus(handler_timeout=1.0)
    calls = 0

    async def fan_out(event: Event) -> None:
        nonlocal calls
        calls += 1
        if event.data.get("quiet"):
            return
        await bus.emit(Event(name="fan"))
        await bus.emit(Event(name="fan"))

    bus.subscribe("fan", fan_out)
    started = time.perf_counter()
    await bus.emit(Event(name="fan"))
    runaway = time.perf_counter() - started
    runaway_calls = calls
    started = time.perf_counter()
    await bus.emit(Event(name="fan", data={"quiet": True}))
    quiet = time.perf_counter() - started
    return runaway * 1000, quiet * 1000, runaway_calls


async def _view_cost() -> tuple[float, float]:
    """(view µs, full bus µs) per emit to 10 plugins, in alternating batches; medians."""
    bus = EventBus(handler_timeout=5)
    for index, handler in enumerate(_no_op_handlers(PLUGINS)):
        PluginEventBus(bus, f"listener{index}").subscribe("plugin.*", handler)
    view = PluginEventBus(bus, "emitter")
    event = Event(name="plugin.emitter.tick", data={"n": 1})
    batch = 1_000
    clock = time.perf_counter
    for _ in range(200):
        await view.emit(event)
        await bus.emit(event)
    view_batches: list[float] = []
    bus_batches: list[float] = []
    for _ in range(BATCHES):
        started = clock()
        for _ in range(batch):
            await view.emit(event)
        view_batches.append((clock() - started) / batch * 1e6)
        started = clock()
        for _ in range(batch):
            await bus.emit(event)
        bus_batches.append((clock() - started) / batch * 1e6)
    return statistics.median(view_batches), statistics.median(bus_batches)


async def main() -> None:
    costs: dict[int, list[tuple[float, float]]] = {count: [] for count in HANDLER_COUNTS}
    waits: list[float] = []
    fast: dict[str, list[float]] = {
        "none": [],
        "raises": [],
        "none-after-timeout": [],
        "sleeps": [],
    }
    fans: list[tuple[float, float, int]] = []
    views: list[tuple[float, float]] = []
    for _ in range(ROUNDS):
        views.append(await _view_cost())
        fans.append(await _fan_out())
        for count in HANDLER_COUNTS:
            costs[count].append(await _emit_cost(count))
        waits.append(await _wait_past_timeout())
        for sibling in fast:
            fast[sibling].append(await _fast_handlers_done(sibling))

    print(f"EventBus.emit, median of {ROUNDS} rounds")
    print(f"{'handlers':>9} {'emit µs':>9} {'bare µs':>9} {'ratio':>7}")
    for count in HANDLER_COUNTS:
        emit_us = statistics.median(c[0] for c in costs[count])
        bare_us = statistics.median(c[1] for c in costs[count])
        ratio = f"{emit_us / bare_us:6.2f}x" if count else "     -"
        print(f"{count:>9} {emit_us:>9.2f} {bare_us:>9.2f} {ratio:>7}")

    view_us = statistics.median(v[0] for v in views)
    full_us = statistics.median(v[1] for v in views)
    ratio = statistics.median(v[0] / v[1] for v in views)
    print(
        f"\nEmit to {PLUGINS} plugins through a plugin's view: {view_us:.2f} µs against "
        f"{full_us:.2f} µs on the full bus ({ratio:.2f}x, median of the rounds' ratios)"
    )

    wait = statistics.median(waits)
    print(
        f"\nOne handler sleeping past a {TIMEOUT:.1f} s timeout: emit returned after "
        f"{wait * 1000:.1f} ms (timeout {TIMEOUT * 1000:.0f} ms, overshoot "
        f"{(wait - TIMEOUT) * 1000:.2f} ms; worst {(max(waits) - TIMEOUT) * 1000:.2f} ms)"
    )

    print(f"\n{FAST_HANDLERS} fast handlers all finished, µs after the emit began:")

    def row(label: str, sibling: str, baseline: str) -> None:
        median = statistics.median(fast[sibling])
        extra = median - statistics.median(fast[baseline])
        print(f"  {label:<52} {median:7.2f} µs  ({extra:+.2f} µs)")

    row("alone", "none", "none")
    row("next to a handler that raises", "raises", "none")
    row("alone, each emit right after a timeout elsewhere", "none-after-timeout", "none")
    row("next to a handler sleeping past the timeout", "sleeps", "none-after-timeout")
    print("  (the last is compared with the one above it: both follow a timeout's clean-up)")

    runaway_ms = statistics.median(f[0] for f in fans)
    quiet_ms = statistics.median(f[1] for f in fans)
    print(
        f"\nA handler emitting two events per event it handles: one emit took "
        f"{runaway_ms:.2f} ms and {fans[0][2]} handler calls (the same handler emitting "
        f"nothing: {quiet_ms:.3f} ms)"
    )


if __name__ == "__main__":
    # As the `tether` command logs (WARNING and up, readable lines), into a null stream.
    with open(os.devnull, "w") as null, contextlib.redirect_stderr(null):
        configure_logging("WARNING")
        asyncio.run(main())
