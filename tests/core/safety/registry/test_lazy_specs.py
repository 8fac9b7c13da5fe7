"""Specs are read and compiled on their first lookup, and come out as compiling them at once would.

`program()` fixes what it will compile (its plan) and the registry compiles it
when a program is first looked up. These tests compile every spec both ways in
fresh interpreters (the registry is built once per process) and compare every
node; they check that names are still checked at import (a program specified
twice), that plugins' specs are still checked when they are loaded, and that
threads looking up one program at once all see it compiled.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tether.core.safety.registry import REGISTRY, Registry, _merge, spec
from tether.core.safety.registry.spec import program, realise, sub

_ROOT = Path(__file__).resolve().parents[4]

_DIGEST = """
import json, sys
from tether.core.safety.registry import REGISTRY, nodes

def digest(root):
    out = []
    for n in nodes(root):
        out.append([
            n.name, sorted((k, repr(v)) for k, v in n.options.items()), sorted(n.subs),
            sorted(n.parsing.short_values), sorted(n.parsing.long_values),
            sorted(n.parsing.optional_attached), n.parsing.numeric_flags,
            n.parsing.stop_at_operand, repr(n.prefixes), n.facts, n.operands, n.last,
            n.keyed, n.scan, n.detect, n.operand_facts, n.any_options, n.inherit,
            n.numeric, n.max_operands, sorted(n.operand_values or ()), n.words,
            n.one_target, n.nocase, n.other is not None,
            n.passes_to.name if n.passes_to is not None else None,
        ])
    return out
"""

_EAGER = """
import importlib.util, pathlib, sys
import tether.core.safety

# `spec` is loaded before the registry package, so the tables see the patched helpers.
path = pathlib.Path(tether.core.safety.__file__).parent / "registry" / "spec.py"
found = importlib.util.spec_from_file_location("tether.core.safety.registry.spec", path)
spec = importlib.util.module_from_spec(found)
sys.modules[found.name] = spec
found.loader.exec_module(spec)

# What the registry did before it compiled on first lookup: options read by
# `sub()` and every program compiled by `program()` as it is defined.
_sub, _program = spec.sub, spec.program

def eager_sub(*args, **kwargs):
    node = _sub(*args, **kwargs)
    node.options = spec._parse_options(node.unread)
    node.unread = None
    return node

def eager_program(*args, **kwargs):
    specs = _program(*args, **kwargs)
    for root in specs.values():
        spec.realise(root)
    return specs

spec.sub, spec.program = eager_sub, eager_program
import tether.core.safety.registry
assert sys.modules["tether.core.safety.registry.spec"] is spec
assert all(s.ready for s in tether.core.safety.registry.REGISTRY.unrealised().values())
"""


def _digests(prelude: str, order: str) -> dict[str, object]:
    script = (
        prelude
        + _DIGEST
        + f"""
names = sorted(REGISTRY)
order = {order!r}
if order == "reversed":
    names.reverse()
elif order.isdigit():
    random.Random(int(order)).shuffle(names)
print(json.dumps({{name: digest(REGISTRY[name]) for name in names}}))
"""
    )
    done = subprocess.run(
        [sys.executable, "-c", "import random\n" + script],
        capture_output=True,
        text=True,
        cwd=_ROOT,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module")
def eager() -> dict[str, object]:
    return _digests(_EAGER, "sorted")


@pytest.mark.parametrize("order", ["sorted", "reversed", "1", "2"])
def test_every_spec_compiles_on_lookup_as_it_did_at_import(
    eager: dict[str, object], order: str
) -> None:
    lazy = _digests("", order)
    assert len(lazy) > 400
    assert sorted(lazy) == sorted(eager)
    differing = [name for name in eager if lazy[name] != eager[name]]
    assert not differing


def test_specs_are_not_compiled_at_import() -> None:
    script = (
        "import tether.app\n"  # everything `tether check` imports
        "from tether.core.safety.registry import REGISTRY\n"
        "specs = REGISTRY.unrealised()\n"
        "print(sum(not s.ready for s in specs.values()), len(specs))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=_ROOT, check=True
    )
    waiting, total = map(int, done.stdout.split())
    assert waiting > total * 3 // 4


def test_threads_looking_up_at_once_all_see_it_compiled() -> None:
    script = """
import threading
from tether.core.safety.registry import REGISTRY
barrier = threading.Barrier(8)
seen = []
def look():
    barrier.wait()
    for name in ("git", "npx", "cargo", "kubectl", "find", "docker"):
        node = REGISTRY[name]
        seen.append((name, len(node.options), node.unread is None, node.parsing.long_values))
threads = [threading.Thread(target=look) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
by_name = {}
for name, count, read, values in seen:
    by_name.setdefault(name, set()).add((count, read, values))
assert len(seen) == 48, len(seen)
assert all(len(v) == 1 and next(iter(v))[1] for v in by_name.values()), by_name
print("ok")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=_ROOT, check=False
    )
    assert done.stdout.strip() == "ok", done.stderr


@pytest.fixture
def deferring(monkeypatch: pytest.MonkeyPatch) -> None:
    """Specs written as the registry's own tables are: planned, compiled on lookup."""
    monkeypatch.setattr(spec, "_deferring", True)


def test_a_spec_written_after_import_is_compiled_as_it_is_written() -> None:
    root = program("later", "-n|--lines=", subs={"x": sub("-q")})["later"]
    assert root.ready and root.plan is None
    assert root.parsing.long_values == frozenset({"--lines"})
    assert set(root.subs["x"].options) == {"-n", "--lines", "-q"}
    assert sub("-a=r").options["-a"].role == "read"


@pytest.mark.usefixtures("deferring")
def test_a_program_specified_twice_is_refused_before_any_lookup() -> None:
    first = program("twice", "-a")
    second = program("twice other", "-b")
    with pytest.raises(ValueError, match=r"programs specified twice in the registry: \['twice'\]"):
        _merge(first, second)
    assert not first["twice"].ready  # names alone decide it


def test_one_spec_under_two_modules_is_one_program() -> None:
    shared = program("shared", "-a")
    assert _merge(shared, {"shared": shared["shared"]}) == shared


_SPELLINGS = [
    "-a",
    "-a|--all",
    "-n|--lines=",
    "-f|--file=r",
    "--in-place=?!file_write",
    "--check!~file_write",
    "-e|--regexp^=",
    "--arg==",
    "--slurpfile==r",
    "+x",
    "-",
    "--warn-*",
    "-o=o",
    "-x|--exec=c",
    "-g=g",
    "-a^^",
    "-a!",
    "-a=!x",
    "-a|-b|-c=w!f  -d",
    "",
    "   ",
    "-a\t-b\n--c=l",
    "-a=z",
    "x",
    "-a|",
    "|-a",
    "-a||-b",
    "-a==z",
    "-a=r=x",
    "-a==r=",
    "-a=rr",
    "-a^=q",
    "--ok plain",
    "-a =r",
    "=r",
    "-a|b",
    "-a=R",
    "-a=-",
    "!x",
    "-a=é",
    "—a",
]


@pytest.mark.parametrize("deferred", [True, False], ids=["deferred", "at-once"])
@pytest.mark.parametrize("options", _SPELLINGS)
def test_an_option_is_refused_when_written_exactly_as_reading_it_refuses_it(
    options: str, deferred: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spec, "_deferring", deferred)
    try:
        spec._parse_options(options)
    except ValueError as error:
        with pytest.raises(ValueError, match=re.escape(str(error))):
            program("prog", options)
    else:
        root = realise(program("prog", options)["prog"])
        assert root.options == spec._parse_options(options)


@pytest.mark.usefixtures("deferring")
@pytest.mark.parametrize(
    ("operands", "keyed"),
    [pytest.param("q", None, id="operand-role"), pytest.param("a", "if=z", id="keyed-role")],
)
def test_operand_notation_is_still_checked_when_written(operands: str, keyed: str | None) -> None:
    with pytest.raises(ValueError):
        sub("-a", operands=operands, keyed=keyed)


@pytest.mark.usefixtures("deferring")
def test_the_registry_reads_as_a_mapping_of_compiled_specs() -> None:
    specs = {"one": program("one", "-n|--lines=")["one"]}
    assert not specs["one"].ready
    registry = Registry(specs)
    assert "one" in registry and "two" not in registry
    assert registry.get("two") is None
    node = registry["one"]
    assert node.ready and node.unread is None
    assert node.parsing.long_values == frozenset({"--lines"})
    assert dict(registry.items()) == {"one": node}
    assert "git" in REGISTRY and REGISTRY["git"].ready


_WHOLE_TEXT = re.compile(
    r"\s*(?:[-+][^\s|=!]*(?:\|[-+][^\s|=!]*)*(?:==?[rwltdxf?cgo]?)?(?:![^\s]*)?(?:\s+|\Z))*"
)
"""The check as one pattern over the whole option text: what checking token by token,
each spelling once, must agree with."""


@pytest.mark.usefixtures("deferring")
@settings(max_examples=300, deadline=None)
@given(
    tokens=st.lists(
        st.one_of(
            st.sampled_from([*_SPELLINGS, "-q", "--ok", "-n|--lines="]), st.text("-+=|!rq a")
        ),
        max_size=4,
    )
)
def test_an_option_text_is_checked_token_by_token_as_a_whole(tokens: list[str]) -> None:
    text = " ".join(tokens)
    try:
        spec._parse_options(text)
    except ValueError:
        refused = True
    else:
        refused = False
    # Checked twice: the second time every well-written spelling has been seen.
    for _ in range(2):
        try:
            spec._check_options(text)
        except ValueError:
            assert refused and _WHOLE_TEXT.fullmatch(text) is None
        else:
            assert _WHOLE_TEXT.fullmatch(text) is not None or not refused


def _derived_as_written_first(node: spec.Node) -> tuple[object, ...]:
    """What compiling a node derives from its options, as `_compile` first wrote it (one
    pass per field), to hold its single pass to."""
    options = node.options
    short_values, long_values, attached = set(), set(), set()
    for name, opt in options.items():
        if name.startswith("--") or (name.startswith("-") and len(name) > 2):
            if opt.takes_value:
                long_values.add(name)
        elif len(name) == 2:
            if opt.takes_value:
                short_values.add(name[1])
            elif opt.optional_value:
                attached.add(name[1])
    quiet = {
        n: o for n, o in options.items() if o.fact is None and o.clears is None and not o.pattern
    }
    return (
        tuple((name[:-1], opt) for name, opt in options.items() if name.endswith("*")),
        any(len(name) > 2 and name[1] != "-" for name in options),
        any(o.second is not None or o.role == "argv" for o in options.values()),
        frozenset(quiet),
        frozenset(
            n
            for n, o in quiet.items()
            if o.role == "value" and (o.takes_value or o.optional_value or node.any_options)
        ),
        spec.OptionSpec(
            short_values=frozenset(short_values),
            long_values=frozenset(long_values),
            optional_attached=frozenset(attached),
            numeric_flags=node.numeric,
        ),
    )


def _derived(node: spec.Node) -> tuple[object, ...]:
    return (node.prefixes, node.whole, node.follows, node.quiet, node.quiet_values, node.parsing)


def test_every_compiled_node_derives_what_one_pass_per_field_derives() -> None:
    from tether.core.safety.registry import nodes

    differ = []
    for name in REGISTRY:
        for node in nodes(REGISTRY[name]):
            if node.compiled and _derived(node) != _derived_as_written_first(node):
                differ.append(f"{name} {node.name}")
    assert differ == []


_NAMES = st.text("-+*ab", min_size=0, max_size=4).filter(
    lambda name: name.startswith(("-", "+")) and "|" not in name
)


@settings(max_examples=300, deadline=None)
@given(
    tokens=st.lists(
        st.tuples(_NAMES, st.sampled_from(["", "=", "=?", "=c", "==", "=r", "!f", "!~f", "^="])),
        max_size=6,
    ),
    any_options=st.booleans(),
)
def test_a_node_of_any_option_names_derives_what_one_pass_per_field_derives(
    tokens: list[tuple[str, str]], any_options: bool
) -> None:
    """Names of every length and first characters: `--`, `+-`, `-`, `-*`, `+ab`."""
    text = " ".join(name + suffix for name, suffix in tokens)
    root = program("prog", text, any_options=any_options, numeric=any_options)["prog"]
    assert _derived(root) == _derived_as_written_first(root)


@pytest.mark.parametrize("options", _SPELLINGS)
def test_an_option_read_again_is_what_reading_it_afresh_gives(
    options: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tokens are read once and their `Opt`s shared; a refused one is refused every time."""
    try:
        kept = spec._parse_options(options)
    except ValueError as error:
        for _ in range(2):
            with pytest.raises(ValueError, match=re.escape(str(error))):
                spec._parse_options(options)
        assert not any(token in spec._READ for token in options.split() if token in str(error))
        return
    again = spec._parse_options(options)
    monkeypatch.setattr(spec, "_READ", {})
    afresh = spec._parse_options(options)
    assert kept == again == afresh
    assert list(kept) == list(afresh)  # in the same order
