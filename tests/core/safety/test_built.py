"""`built` makes the model validation would make, fields set included."""

from __future__ import annotations

import copy
import pickle

import pytest
from pydantic import BaseModel, ValidationError

from tether.core.safety.built import _OpenModel, built
from tether.core.safety.classify import CallPart, Classification
from tether.core.safety.facts import make_fact
from tether.core.safety.pipeline import Verdict
from tether.core.safety.policy import Action, PartDecision, PolicyDecision
from tether.core.safety.tools import ToolKind


def _values() -> dict[str, object]:
    part = CallPart(text="src/app.py", facts=(make_fact("file_read", "Read"),))
    return {"tool_name": "Read", "kind": ToolKind.READ, "command": None, "parts": (part,)}


def test_a_model_built_with_the_given_fields_is_the_validated_one() -> None:
    values = _values()
    given = frozenset(values) - {"command"}
    ours = built(Classification, {**values, "facts": ()}, given)
    theirs = Classification(tool_name="Read", kind=ToolKind.READ, parts=values["parts"])  # type: ignore[arg-type]
    assert ours == theirs
    assert ours.model_fields_set == theirs.model_fields_set == given
    assert ours.model_dump(mode="json") == theirs.model_dump(mode="json")
    assert ours.model_dump(exclude_unset=True) == theirs.model_dump(exclude_unset=True)


def test_a_model_built_without_given_fields_counts_every_field_set() -> None:
    ours = built(Classification, {**_values(), "facts": ()})
    assert ours.model_fields_set == set(Classification.model_fields)
    copied = ours.model_copy(update={"command": "x"})
    assert copied.command == "x"
    assert ours.command is None


def test_a_built_model_is_of_its_class_and_frozen_like_a_validated_one() -> None:
    """Filled in on the open class, the object ends as the model's own, which refuses
    assignment as a validated one does."""
    values = _values()
    ours = built(Classification, {**values, "facts": ()})
    assert type(ours) is Classification
    theirs = Classification(**values)  # type: ignore[arg-type]
    for model in (ours, theirs):
        with pytest.raises(ValidationError):
            model.tool_name = "Write"
        with pytest.raises(ValidationError):
            del model.tool_name
    assert ours.__pydantic_extra__ is None is theirs.__pydantic_extra__
    assert ours.__pydantic_private__ is None is theirs.__pydantic_private__
    assert ours.__dict__ == theirs.__dict__
    assert hash(ours) == hash(theirs)
    assert pickle.loads(pickle.dumps(ours)) == theirs
    assert copy.deepcopy(ours) == theirs
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("given", [None, frozenset({"text", "action"})])
def test_no_two_built_models_share_their_set_of_fields(given: frozenset[str] | None) -> None:
    """Each model's `model_fields_set` is its own set, as validation makes one per model."""
    values = {"text": "ls", "action": Action.ALLOW, "rule": None, "policy": None}
    first = built(PartDecision, {**values, "reason": "", "facts": (), "line": 0}, given)
    second = built(PartDecision, {**values, "reason": "", "facts": (), "line": 0}, given)
    assert first.model_fields_set is not second.model_fields_set
    assert first.model_fields_set is not given
    first.model_fields_set.add("surprise")
    assert "surprise" not in second.model_fields_set
    assert given is None or "surprise" not in given


def test_the_open_class_is_a_model_of_no_fields_that_sets_attributes_plainly() -> None:
    """What makes the class change allowed: BaseModel's layout and nothing added but what
    every model class adds; and stores that are not the model's refusing hook."""
    assert _OpenModel.__bases__ == (BaseModel,)
    assert _OpenModel.model_fields == {}
    assert _OpenModel.__setattr__ is object.__setattr__
    assert _OpenModel.__delattr__ is object.__delattr__
    assert _OpenModel.__init__ is object.__init__  # made by a call that validates nothing
    for cls in (Classification, PartDecision, PolicyDecision, Verdict):
        assert cls.__basicsize__ == _OpenModel.__basicsize__
        assert cls.__bases__ == (BaseModel,)


def test_a_model_class_with_slots_of_its_own_is_refused_not_filled_in_wrongly() -> None:
    """A layout the open class does not share cannot take the object: a TypeError, never a
    model missing a slot."""

    class Slotted(BaseModel):
        __slots__ = ("extra",)
        name: str

    with pytest.raises(TypeError):
        built(Slotted, {"name": "x"})
