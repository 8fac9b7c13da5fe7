"""Text for objects that untrusted code made (a plugin's exception), which never raises.

A plugin controls its exception's `__repr__`, `__str__`, its `SystemExit`
code and even its class's name (through a metaclass): any of them may raise
anything, `SystemExit` included, or return something enormous. Logging such an
exception must not become the plugin's way out, so what is said about it
comes from here: bounded, and a placeholder when asking raised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["MAX_TEXT_CHARS", "describe_exception", "safe_repr", "safe_str", "type_name"]

MAX_TEXT_CHARS = 500
"""Longer text is cut: a log line is not the place for a plugin's megabytes."""


def _bounded(render: Callable[[Any], object], value: Any, what: str) -> str:
    try:
        text = render(value)
        if not isinstance(text, str):
            raise TypeError(what)
    except BaseException:  # noqa: BLE001 - untrusted code: whatever it raises is not obeyed
        return f"<{type_name(value)}: its {what} failed>"
    if len(text) > MAX_TEXT_CHARS:
        return text[:MAX_TEXT_CHARS] + f"... ({len(text)} chars)"
    return text


def type_name(value: Any) -> str:
    """The name of `value`'s class, read past any metaclass trickery."""
    try:
        name = type.__dict__["__qualname__"].__get__(type(value))
    except BaseException:  # noqa: BLE001 - untrusted code: whatever it raises is not obeyed
        return "object"
    return name if isinstance(name, str) else "object"


def safe_repr(value: Any) -> str:
    """`repr(value)`, bounded; a placeholder naming the class when it raises."""
    return _bounded(repr, value, "repr")


def safe_str(value: Any) -> str:
    """`str(value)`, bounded; a placeholder naming the class when it raises."""
    return _bounded(str, value, "str")


def describe_exception(error: BaseException) -> str:
    """`Type: text`, or just `Type` when the text is empty; never raises."""
    text = safe_str(error)
    name = type_name(error)
    return f"{name}: {text}" if text else name
