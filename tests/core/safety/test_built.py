"""`built` makes the model validation would make, fields set included."""

from __future__ import annotations

from tether.core.safety.built import built
from tether.core.safety.classify import CallPart, Classification
from tether.core.safety.facts import make_fact
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
