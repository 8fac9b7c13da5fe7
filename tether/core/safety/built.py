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

The slotted frozen dataclasses the analysis makes per command (`RiskFact`,
`PathUse`, `CallPart`) are made the same way: each field set through its slot's
descriptor (`slot_setters`), not through `object.__setattr__` by name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["built", "slot_setters"]

_Model = TypeVar("_Model", bound=BaseModel)

_new = object.__new__
# The slots every model has, `__dict__` among them, set through their descriptors: the
# same slots `object.__setattr__` reaches, without looking each name up on the class.
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def built(cls: type[_Model], values: dict[str, Any], given: frozenset[str] | None = None) -> _Model:
    """A `cls` holding `values` (every field, each of its type), not validated again.

    `given` names the fields validation would count as set (`model_fields_set`) when
    the others hold their defaults; every field in `values` when None.
    """
    model = _new(cls)
    _set_dict(model, values)
    _set_fields_set(model, set(values if given is None else given))
    _set_extra(model, None)
    _set_private(model, None)
    return model


def slot_setters(cls: type, *fields: str) -> tuple[Callable[[Any, Any], None], ...]:
    """The `__set__` of each of `cls`'s field slots, in the order given.

    `fields` must be the dataclass's fields in their order, which is checked: a field
    added or moved is a `TypeError` at import, not a part missing a field.
    """
    declared = tuple(getattr(cls, "__dataclass_fields__", ()))
    if declared != fields:
        raise TypeError(
            f"{cls.__name__} has the fields {declared}, not {fields}: update its setters"
        )
    return tuple(getattr(cls, name).__set__ for name in fields)
