"""collector_paused: no collection while start-up builds; the collector as it was after."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from tether.commands.collector import collector_paused


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if enabled:
        gc.enable()
    else:
        gc.disable()


def _collections_during(build: list[object]) -> int:
    seen: list[str] = []

    def count(phase: str, _: dict[str, int]) -> None:
        if phase == "start":
            seen.append(phase)

    gc.callbacks.append(count)
    try:
        with collector_paused():
            for _ in range(50_000):
                build.append([[]])  # containers: each is tracked, so would count to a collection
    finally:
        gc.callbacks.remove(count)
    return len(seen)


def test_nothing_is_collected_and_what_was_built_is_frozen() -> None:
    gc.enable()
    gc.unfreeze()
    built: list[object] = []
    assert _collections_during(built) == 0
    assert gc.isenabled()
    assert gc.get_freeze_count() > 50_000


def test_a_collector_that_was_off_stays_off_and_nothing_is_frozen() -> None:
    gc.disable()
    gc.unfreeze()
    _collections_during([])
    assert not gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_a_failed_build_still_resumes_collection() -> None:
    gc.enable()
    with pytest.raises(RuntimeError, match="broken policy"), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("broken policy")
    assert gc.isenabled()
