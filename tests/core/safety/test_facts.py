"""Risk facts, path uses and call parts: their written constructors make what the generated
ones would."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tether.core.safety.built import slot_setters
from tether.core.safety.classify import CallPart
from tether.core.safety.facts import FACTS, PathUse, RiskFact, RiskLevel, make_fact, open_slots


def _generated(cls: type, *args: Any, **kwargs: Any) -> Any:
    """What the dataclass's generated `__init__` would make: each field set by name."""
    values = dict(zip([f.name for f in dataclasses.fields(cls)], args, strict=False))
    values.update(kwargs)
    made = object.__new__(cls)
    for field in dataclasses.fields(cls):
        value = values.get(field.name, field.default)
        assert value is not dataclasses.MISSING, field.name
        object.__setattr__(made, field.name, value)
    return made


def _same(ours: Any, theirs: Any) -> None:
    assert type(ours) is type(theirs)
    assert dataclasses.astuple(ours) == dataclasses.astuple(theirs)
    assert ours == theirs
    assert hash(ours) == hash(theirs)
    assert repr(ours) == repr(theirs)


@settings(max_examples=200, deadline=None)
@given(
    path=st.text(max_size=12),
    access=st.sampled_from(["read", "write", "delete", "exec", "cd", "list", "arg"]),
    dynamic=st.booleans(),
    glob=st.booleans(),
)
def test_a_path_use_holds_what_the_generated_constructor_would(
    path: str, access: Any, dynamic: bool, glob: bool
) -> None:
    _same(PathUse(path, access, dynamic, glob), _generated(PathUse, path, access, dynamic, glob))
    _same(
        PathUse(path=path, access=access, glob=glob),
        _generated(PathUse, path=path, access=access, glob=glob),
    )
    _same(PathUse(path, access), _generated(PathUse, path, access))
    _same(
        PathUse.model_construct(path=path, access=access, dynamic=dynamic),
        _generated(PathUse, path, access, dynamic),
    )


@settings(max_examples=200, deadline=None)
@given(kind=st.sampled_from(sorted(FACTS)), detail=st.text(max_size=12))
def test_a_risk_fact_holds_what_the_generated_constructor_would(kind: str, detail: str) -> None:
    level = FACTS[kind].level
    _same(RiskFact(kind, level, detail), _generated(RiskFact, kind, level, detail))
    _same(RiskFact(kind=kind, level=level), _generated(RiskFact, kind, level))
    _same(make_fact(kind, detail), _generated(RiskFact, kind, level, detail))


def test_facts_and_paths_stay_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        make_fact("network").kind = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        PathUse("a", "read").path = "b"  # type: ignore[misc]


def test_a_changed_copy_goes_through_the_constructor() -> None:
    use = PathUse("a", "read")
    assert dataclasses.replace(use, glob=True) == PathUse("a", "read", glob=True)
    fact = make_fact("network", "x")
    assert dataclasses.replace(fact, detail="y") == RiskFact("network", RiskLevel.HIGH, "y")


def test_every_kind_is_made_at_its_catalogue_level() -> None:
    for kind, info in FACTS.items():
        assert make_fact(kind).level is info.level
    with pytest.raises(KeyError):
        make_fact("no_such_kind")


@pytest.mark.parametrize("cls", [RiskFact, PathUse, CallPart], ids=lambda c: c.__name__)
def test_each_written_constructor_takes_the_fields_in_order_with_their_defaults(cls: type) -> None:
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    fields = dataclasses.fields(cls)
    assert [p.name for p in parameters] == [f.name for f in fields]
    for parameter, field in zip(parameters, fields, strict=True):
        expected = (
            inspect.Parameter.empty if field.default is dataclasses.MISSING else field.default
        )
        assert parameter.default == expected, field.name
        assert field.default_factory is dataclasses.MISSING, field.name


def test_a_call_part_holds_what_the_generated_constructor_would() -> None:
    fact = make_fact("file_read", "x")
    use = PathUse("src", "read")
    given = {
        "program": "ls",
        "subcommand": ("a",),
        "text": "ls src",
        "facts": (fact,),
        "paths": (use,),
        "resolved": ("/p/src",),
        "subshell": True,
        "args": ("src",),
        "opaque": True,
    }
    _same(CallPart(**given), _generated(CallPart, **given))
    _same(CallPart(*given.values()), _generated(CallPart, **given))
    _same(CallPart(text="t"), _generated(CallPart, text="t"))


def test_slot_setters_refuse_fields_that_are_not_the_class_s_in_order() -> None:
    with pytest.raises(TypeError, match="update its setters"):
        slot_setters(PathUse, "access", "path", "dynamic", "glob")
    with pytest.raises(TypeError, match="update its setters"):
        slot_setters(PathUse, "path", "access")


@pytest.mark.parametrize("cls", [RiskFact, PathUse, CallPart], ids=lambda c: c.__name__)
def test_an_object_filled_in_through_open_slots_becomes_one_of_its_class(cls: type) -> None:
    # `open_slots`' class has the same slots, so Python lets a filled-in object take `cls`:
    # it is then what the constructor makes, frozen as any other.
    values = {
        "kind": "network",
        "level": RiskLevel.HIGH,
        "detail": "d",
        "path": "src",
        "access": "read",
        "dynamic": True,
        "glob": False,
        "program": "ls",
        "subcommand": ("a",),
        "text": "ls src",
        "facts": (),
        "paths": (),
        "resolved": (),
        "subshell": False,
        "args": ("src",),
        "opaque": True,
    }
    given = {field.name: values[field.name] for field in dataclasses.fields(cls)}
    filled: Any = object.__new__(open_slots(cls))
    for name, value in given.items():
        setattr(filled, name, value)
    filled.__class__ = cls
    _same(filled, cls(**given))
    assert hash(filled) == hash(cls(**given))
    with pytest.raises(dataclasses.FrozenInstanceError):
        filled.__setattr__(next(iter(given)), "changed")


def test_open_slots_refuses_a_class_whose_slots_are_not_its_fields() -> None:
    @dataclasses.dataclass(frozen=True)
    class Unslotted:
        name: str

    with pytest.raises(TypeError, match="not its fields"):
        open_slots(Unslotted)
