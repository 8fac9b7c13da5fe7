"""Boundary models the gate builds on every call, made without validating values it made itself.

`Verdict`, `PolicyDecision`, `PartDecision` and the checked `Classification`
are frozen pydantic models because they are handed on (to the gate, to
plugins, to `tether check --json`). On the hot path the pipeline builds
several per call from values that are already of their fields' types (enums,
str, tuples of slotted dataclasses, other such models); validating them again
took a third of the pipeline's own time. `built` makes the same object as
validation would, field for field; pydantic's `model_construct` does too, but
its loop over the fields (aliases, defaults) costs more than validating.

A model's four slots (`__dict__` and pydantic's three) are filled in on an object of
`_OpenModel`, a model class of the same layout whose attributes are set as plain
slots, and the object is then given its class (`obj.__class__ = cls`), as `open_slots`
does for the slotted dataclasses: a model's own `__setattr__` refuses (frozen), and a
call of each slot's descriptor costs about three times the store.

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


class _OpenModel(BaseModel):
    """A model of no fields whose attributes are plain slot stores: `built` fills an
    object of it in, then makes it the model's class. Python allows that change between
    classes of one layout: a model class that adds no slots of its own to BaseModel's."""

    __setattr__ = object.__setattr__
    __delattr__ = object.__delattr__  # (both, or Python's own setattr hook calls this one)
    # Made by a call of the class, which validates nothing: cheaper than `object.__new__`,
    # which takes its class in a tuple of arguments and slices it off again.
    __init__ = object.__init__


def built(cls: type[_Model], values: dict[str, Any], given: frozenset[str] | None = None) -> _Model:
    """A `cls` holding `values` (every field, each of its type), not validated again.

    `given` names the fields validation would count as set (`model_fields_set`) when
    the others hold their defaults; every field in `values` when None. `values` is the
    model's own from then on: the caller makes it for this model and keeps no hold on it.
    """
    model: _Model = _OpenModel()
    model.__dict__ = values
    model.__pydantic_fields_set__ = set(values if given is None else given)
    model.__pydantic_extra__ = None
    model.__pydantic_private__ = None
    model.__class__ = cls
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
