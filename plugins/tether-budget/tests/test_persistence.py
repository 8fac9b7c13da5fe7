"""The ledger survives a restart: a real engine, started again on the same ledger file."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs
from tether_budget import BudgetPlugin, LedgerState
from tether_budget.ledger_file import read_ledger, write_ledger

from tether.testing import ScriptedAgent, UseTool, running_engine

_LS = UseTool("Bash", {"command": "ls"})
"""A call the default policy allows without asking."""

TODAY = date(2026, 12, 3)


class _Clock:
    def __init__(self, day: date = TODAY) -> None:
        self.day = day

    def __call__(self) -> date:
        return self.day


def _engine(cost: float, path: Path, plugin: BudgetPlugin | None = None, **limits: str) -> Any:
    environ = {"TETHER_PLUGIN_BUDGET_LEDGER_PATH": str(path)}
    environ.update({f"TETHER_PLUGIN_BUDGET_{k.upper()}": v for k, v in limits.items()})
    return running_engine(
        [plugin or BudgetPlugin(today=_Clock())],
        agent=ScriptedAgent([_LS], cost=cost),
        environ=environ,
        approval_timeout_seconds=0.2,
    )


def _allowed(running: Any) -> list[bool]:
    return [decision.allowed for call in running.agent.calls for _, decision in call.decisions]


async def _saved(running: Any) -> None:
    """Wait for the writes the plugin has started so far."""
    plugin = running.engine.plugins.get("budget")
    assert isinstance(plugin, BudgetPlugin) and plugin.saver is not None
    await plugin.saver.flush()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _state(**fields: Any) -> LedgerState:
    values: dict[str, Any] = {
        "version": 1,
        "day": TODAY,
        "spent_usd": 0.0,
        "requests": 0,
        "crossed": None,
    }
    values.update(fields)
    return LedgerState(**values)


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    return tmp_path / "state" / "budget.json"


@pytest.mark.parametrize(
    ("costs", "then_allowed", "spent"),
    [
        pytest.param((0.4, 0.4), [True], "$0.8000 in 2 request(s)", id="within-budget"),
        pytest.param((0.4, 0.7), [False], "$1.1000 in 2 request(s)", id="over-budget"),
        pytest.param((2.0,), [False], "$2.0000 in 1 request(s)", id="one-request-over"),
    ],
)
async def test_spending_survives_a_restart(
    ledger: Path, costs: tuple[float, ...], then_allowed: list[bool], spent: str
) -> None:
    for cost in costs:
        async with _engine(cost, ledger, daily_usd="1") as running:
            await running.send("go")
    async with _engine(0.1, ledger, daily_usd="1") as running:
        assert f"Spent today: {spent}" in await running.send("/budget")
        await running.send("go")
        assert _allowed(running) == then_allowed


async def test_the_ledger_is_on_disk_after_each_request_before_any_shutdown(ledger: Path) -> None:
    """What a crash would leave: the file already holds every request so far."""
    async with _engine(0.25, ledger, request_usd="0.2") as running:
        await running.send("go")
        await _saved(running)
        saved = read_ledger(ledger)
        assert saved is not None
        assert (saved.day, saved.spent_usd, saved.requests) == (TODAY, 0.25, 1)
        assert saved.crossed is not None and "per-request limit $0.20" in saved.crossed
        assert _mode(ledger) == 0o600
    # The next start asks at once: the crossed limit was remembered.
    async with _engine(0.0, ledger, request_usd="0.2") as running:
        await running.send("go")
        assert _allowed(running) == [False]
        assert "per-request limit $0.20" in running.connector.approvals[0].description


async def test_reset_is_saved_too(ledger: Path) -> None:
    async with _engine(2.0, ledger, daily_usd="1") as running:
        await running.send("go")
        await running.send("/budget reset")
    assert read_ledger(ledger) == _state()
    async with _engine(0.1, ledger, daily_usd="1") as running:
        await running.send("go")
        assert _allowed(running) == [True]


@pytest.mark.parametrize(
    "saved_day",
    [
        pytest.param(date(2026, 12, 2), id="yesterday"),
        pytest.param(date(2025, 12, 3), id="a-year-ago"),
        pytest.param(date(1970, 1, 1), id="epoch"),
    ],
)
async def test_a_ledger_from_an_earlier_day_starts_a_fresh_day(
    ledger: Path, saved_day: date
) -> None:
    write_ledger(ledger, _state(day=saved_day, spent_usd=50.0, requests=9, crossed="over"))
    async with _engine(0.1, ledger, daily_usd="1") as running:
        assert "Spent today: $0.0000 in 0 request(s)" in await running.send("/budget")
        await running.send("go")
        assert _allowed(running) == [True]
    assert read_ledger(ledger) == _state(spent_usd=0.1, requests=1)


async def test_a_ledger_from_a_later_day_still_counts_when_the_clock_was_set_back(
    ledger: Path,
) -> None:
    later = date(2026, 12, 4)
    write_ledger(ledger, _state(day=later, spent_usd=3.0, requests=2, crossed="over the limit"))
    clock = _Clock()
    async with _engine(0.1, ledger, BudgetPlugin(today=clock), daily_usd="1") as running:
        await running.send("go")
        assert _allowed(running) == [False]
        clock.day = date(2026, 12, 5)  # the clock passes the saved day: a new one starts
        await running.send("go")
        assert _allowed(running) == [False, True]
    assert read_ledger(ledger) == _state(day=date(2026, 12, 5), spent_usd=0.1, requests=1)


async def test_a_new_day_while_running_is_saved(ledger: Path) -> None:
    clock = _Clock()
    async with _engine(2.0, ledger, BudgetPlugin(today=clock), daily_usd="1") as running:
        await running.send("go")
        clock.day = date(2026, 12, 4)
        assert "Spent today: $0.0000" in await running.send("/budget")  # the roll is noticed
        await _saved(running)
        assert read_ledger(ledger) == _state(day=date(2026, 12, 4))


# A ledger that cannot be read: the engine starts, every call asks with the
# reason, the file is left for a person to look at, and /budget reset starts over.

_GOOD = '{"version": 1, "day": "2026-12-03", "spent_usd": 0.5, "requests": 2, "crossed": null}'


def _file(content: str | bytes) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)

    return make


def _directory(path: Path) -> None:
    path.mkdir(parents=True)


def _contents(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        pytest.param(_file(""), "it is empty", id="empty"),
        pytest.param(_file(_GOOD[:30]), "it is not JSON", id="truncated"),
        pytest.param(_file(f"[{_GOOD}]"), "Input should be an object", id="list"),
        pytest.param(_file(_GOOD.replace("0.5", '"0.5"')), "spent_usd", id="spent-text"),
        pytest.param(_file(_GOOD.replace(": 2", ': "2"')), "requests", id="requests-text"),
        pytest.param(_file(_GOOD.replace("0.5", "NaN")), "finite number", id="nan"),
        pytest.param(_file(_GOOD.replace("0.5", "Infinity")), "finite number", id="infinity"),
        pytest.param(_file(_GOOD.replace("0.5", "1e999")), "finite number", id="overflowing"),
        pytest.param(_file(_GOOD.replace("0.5", "-0.5")), "greater than or equal", id="negative"),
        pytest.param(_file(_GOOD.replace(": 2", ": 1" + "0" * 20)), "less than", id="huge"),
        pytest.param(_file(_GOOD + " " * 70_000), "larger than 64 KiB", id="huge-file"),
        pytest.param(_file(b"\x89PNG\r\n\x1a\n"), "not UTF-8", id="binary"),
        pytest.param(_directory, "it is a directory", id="directory"),
    ],
)
async def test_an_unreadable_ledger_fails_closed_until_reset(
    ledger: Path, make: Callable[[Path], None], fragment: str
) -> None:
    make(ledger)
    before = _contents(ledger)
    with capture_logs() as logs:
        async with _engine(0.01, ledger, daily_usd="100") as running:
            await running.send("go")
            assert _allowed(running) == [False]
            [asked] = running.connector.approvals
            assert asked.preview is not None  # the description shortens a long reason
            reason = asked.preview.reason
            assert reason.startswith(
                f"Over budget: the budget ledger at {ledger} could not be read: "
            )
            assert fragment in reason and "/budget reset starts over" in reason
            assert "over budget: the budget ledger" in await running.send("/budget")
            await _saved(running)
            # Untouched until the reset: a person may want to see what was in it.
            assert _contents(ledger) == before
            await running.send("/budget reset")
            await running.send("go")
            assert _allowed(running) == [False, True]
    [unreadable] = [entry for entry in logs if entry["event"] == "budget_ledger_unreadable"]
    assert unreadable["path"] == str(ledger) and fragment in unreadable["error"]
    if before is not None:  # a file is replaced by a fresh ledger; a directory stays one
        assert read_ledger(ledger) == _state(spent_usd=0.01, requests=1)


@pytest.mark.parametrize(
    "parts",
    [
        pytest.param(("x" * 300, "budget.json"), id="name-too-long"),
        pytest.param(("y" * 200,) * 100 + ("budget.json",), id="path-too-long"),
    ],
)
async def test_a_path_too_long_to_open_fails_closed_without_a_traceback(
    tmp_path: Path, parts: tuple[str, ...]
) -> None:
    """The reason names the path by its end, short enough for the gate and for a reply."""
    ledger = tmp_path.joinpath(*parts)
    with capture_logs() as logs:
        async with _engine(0.01, ledger, daily_usd="100") as running:
            await running.send("go")
            assert _allowed(running) == [False]
            [asked] = running.connector.approvals
            assert asked.preview is not None
            assert asked.preview.reason.startswith("Over budget: the budget ledger at …")
            assert (
                f"{parts[-2][-10:]}/budget.json could not be read: File name too long; "
                "/budget reset starts over"
            ) in asked.preview.reason
            reply = await running.send("/budget")
            assert "File name too long" in reply and "Ledger: left as it is until" in reply
    assert not [entry for entry in logs if entry["event"] == "plugin_hook_failed"]


async def test_an_unreadable_ledger_gives_way_to_a_new_day(ledger: Path) -> None:
    _file("{")(ledger)
    clock = _Clock()
    async with _engine(0.01, ledger, BudgetPlugin(today=clock), daily_usd="100") as running:
        await running.send("go")
        clock.day = date(2026, 12, 4)
        await running.send("go")
        assert _allowed(running) == [False, True]
    assert read_ledger(ledger) == _state(day=date(2026, 12, 4), spent_usd=0.01, requests=1)


# A ledger that cannot be written: the plugin works on from memory, says so
# in /budget, and logs it once.


def _under_a_file(tmp_path: Path) -> Path:
    (tmp_path / "a-file").write_text("")
    return tmp_path / "a-file" / "budget.json"


def _an_uncreatable_directory(tmp_path: Path) -> Path:
    # Two directories to make, the first of which is a file already.
    (tmp_path / "state").write_text("not a directory")
    return tmp_path / "state" / "deeper" / "budget.json"


@pytest.mark.parametrize(
    "where",
    [
        pytest.param(_under_a_file, id="parent-is-a-file"),
        pytest.param(_an_uncreatable_directory, id="ancestor-is-a-file"),
    ],
)
async def test_a_ledger_that_cannot_be_written_keeps_the_budget_working(
    tmp_path: Path, where: Callable[[Path], Path]
) -> None:
    path = where(tmp_path)
    await _budget_works_without_saving(path)


async def test_a_full_disk_keeps_the_budget_working(
    small_disk: Path, fill_disk: Callable[[Path], None]
) -> None:
    path = small_disk / "budget.json"
    write_ledger(path, _state(spent_usd=0.5, requests=1))
    fill_disk(small_disk)
    await _budget_works_without_saving(path, spent_before=0.5)
    assert read_ledger(path) == _state(spent_usd=0.5, requests=1)  # the last good one


async def _budget_works_without_saving(path: Path, spent_before: float = 0.0) -> None:
    with capture_logs() as logs:
        async with _engine(0.4, path, daily_usd="1") as running:
            for _ in range(4):
                await running.send("go")
            # The limit still holds from memory: three times 0.4 crosses $1 (with what was saved).
            crossing = (
                [True, True, True, False] if spent_before == 0 else [True, True, False, False]
            )
            assert _allowed(running) == crossing
            summary = await running.send("/budget")
            assert f"Spent today: ${spent_before + 1.6:.4f} in" in summary
            assert f"Ledger: ⚠️ not saved to {path}" in summary
            assert "a restart would forget today's spending" in summary
    failures = [entry for entry in logs if entry["event"] == "budget_ledger_not_saved"]
    assert len(failures) == 1  # logged once, not on every request
    assert failures[0]["path"] == str(path) and failures[0]["log_level"] == "warning"


async def test_saving_again_after_a_failure_is_logged_and_shown(tmp_path: Path) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("in the way")
    path = blocker / "budget.json"
    with capture_logs() as logs:
        async with _engine(0.1, path, daily_usd="1") as running:
            await running.send("go")
            await _saved(running)
            assert "not saved" in await running.send("/budget")
            blocker.unlink()  # the way is clear again
            await running.send("go")
            await _saved(running)
            assert f"Ledger: {path}" in await running.send("/budget")
    events = [entry["event"] for entry in logs if entry["event"].startswith("budget_ledger")]
    assert events == ["budget_ledger_not_saved", "budget_ledger_saved_again"]
    assert read_ledger(path) == _state(spent_usd=0.2, requests=2)


async def test_the_file_holds_the_ledger_as_plain_json(ledger: Path) -> None:
    async with _engine(0.125, ledger, daily_usd="1") as running:
        await running.send("go")
    assert json.loads(_contents(ledger) or b"") == {
        "version": 1,
        "day": "2026-12-03",
        "spent_usd": 0.125,
        "requests": 1,
        "crossed": None,
    }
