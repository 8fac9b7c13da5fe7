"""Boundary models the gate builds on every call, made without validating values it made itself.

`Verdict`, `PolicyDecision`, `PartDecision` and the checked `Classification`
are frozen pydantic models because they are handed on (to the gate, to
plugins, to `tether check --json`). On the hot path the pipeline builds
several per call from values that are already of their fields' types (enums,
str, tuples of slotted dataclasses, other such models); validating them again
took a third of the pipeline's own time. `built` makes the same object as
validation would, field for field; pydantic's `model_construct` does too, but
its loop over the fields (aliases, defaults) costs more than validating.

The caller gives every field of the model, each already of its type: the
tests rebuild each kind of model the pipeline returns through validation and
compare them.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["built"]

_Model = TypeVar("_Model", bound=BaseModel)

_new = object.__new__
_set = object.__setattr__


def built(cls: type[_Model], values: dict[str, Any]) -> _Model:
    """A `cls` holding `values` (every field, each of its type), not validated again."""
    model = _new(cls)
    _set(model, "__dict__", values)
    _set(model, "__pydantic_fields_set__", set(values))
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model
