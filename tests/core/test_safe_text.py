"""Text about untrusted objects never raises, whatever the object does when asked."""

from __future__ import annotations

from typing import Any

import pytest

from tether.core.safe_text import (
    MAX_TEXT_CHARS,
    describe_exception,
    safe_repr,
    safe_str,
    type_name,
)


class _ExitingTextError(Exception):
    def __repr__(self) -> str:
        raise SystemExit(12)

    def __str__(self) -> str:
        raise KeyboardInterrupt


class _NotTextError(Exception):
    def __repr__(self) -> Any:
        return 42

    def __str__(self) -> Any:
        return None


class _HugeError(Exception):
    def __repr__(self) -> str:
        return "x" * 1_000_000

    def __str__(self) -> str:
        return "y" * 1_000_000


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(_ExitingTextError(), id="repr-and-str-exit"),
        pytest.param(_NotTextError(), id="not-a-string"),
        pytest.param(_HugeError(), id="a-megabyte"),
    ],
)
def test_text_about_a_hostile_object_is_bounded_and_never_raises(value: Exception) -> None:
    for text in (safe_repr(value), safe_str(value), describe_exception(value), type_name(value)):
        assert isinstance(text, str)
        assert len(text) < MAX_TEXT_CHARS + 40


def test_ordinary_objects_read_as_usual() -> None:
    assert safe_repr(ValueError("bad")) == "ValueError('bad')"
    assert safe_str(ValueError("bad")) == "bad"
    assert describe_exception(ValueError("bad")) == "ValueError: bad"
    assert describe_exception(ValueError()) == "ValueError"
    assert "its repr failed" in safe_repr(_ExitingTextError())
