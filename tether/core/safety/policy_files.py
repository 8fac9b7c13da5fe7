"""Loading policy files: preset names or YAML paths, with errors that name file and line.

A malformed policy must stop Tether at start-up, not weaken it at run time:
every problem (YAML syntax, a duplicated key, an unknown field, a bad action,
an unknown risk fact, a regex that does not compile) is a `ConfigError`
naming the file, the line (the rule's line for a bad rule) and what to fix.

A file is read by libyaml (PyYAML's C parser) when it is installed: its events
are checked for depth and aliases first, then libyaml composes it (a second,
cheap pass) and it is constructed in Python. Anything unusual about the text, and every error,
sends the file through the pure-Python reader instead, the one that writes the
error messages: a person sees the same message, file and line whichever reader
ran, and a file either reader refuses is refused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, SequenceNode
from yaml.resolver import Resolver

from tether.core.safety.policy import Policy
from tether.exceptions import ConfigError

__all__ = [
    "MAX_POLICY_BYTES",
    "MAX_POLICY_DEPTH",
    "PRESETS",
    "load_policies",
    "load_policy",
    "parse_policy",
    "read_policy_text",
]

PRESETS = ("default", "strict", "permissive", "dev-tools")
"""Policies shipped with Tether, in tether/policies/."""


def load_policies(sources: Sequence[str]) -> tuple[Policy, ...]:
    """Load each preset name or YAML path in `sources`, in order.

    Raises:
        ConfigError: a name is not a preset, a file cannot be read, or a policy is malformed.
    """
    if not sources:
        raise ConfigError("no policy given; use a preset (default, strict, ...) or a YAML path")
    return tuple(load_policy(source) for source in sources)


def load_policy(source: str) -> Policy:
    """Load one policy: a preset name (`default`) or a path to a YAML file.

    Raises:
        ConfigError: see `load_policies`.
    """
    label, text = _read(source.strip())
    return parse_policy(text, label)


MAX_POLICY_BYTES = 1_000_000
"""The largest policy file read (the shipped presets are a few kilobytes)."""

MAX_POLICY_DEPTH = 32
"""The deepest nesting of mappings and lists a policy may have (rules need four)."""

_RESERVED_KEYS = ("source", "layer")
"""Policy fields the loader sets; a file may not."""


def parse_policy(text: str, label: str) -> Policy:
    """Parse and validate the YAML `text` of a policy; `label` names it in errors.

    Raises:
        ConfigError: the text is not a valid policy; the message is one line.
    """
    try:
        return _parse(text, label)
    except ConfigError as error:
        raise ConfigError(_one_line(str(error))) from error.__cause__
    except RecursionError as error:
        raise ConfigError(
            f"{label}: the policy is nested too deeply to read; a policy needs at most "
            f"{MAX_POLICY_DEPTH} levels"
        ) from error


def _one_line(message: str) -> str:
    """A YAML error can quote the source over several lines; a person reads one."""
    return " ".join(message.replace("\x00", "\\x00").split())


def _parse(text: str, label: str) -> Policy:
    _check_text(text, label)
    fast = _read_fast(text)
    if fast is not None:
        try:
            return _build(*fast, label)
        except ConfigError:
            pass  # the pure-Python reader below writes the message, with its marks
    return _parse_slowly(text, label)


def _parse_slowly(text: str, label: str) -> Policy:
    """The pure-Python reader: every error message a policy can get is written here."""
    _check_structure(text, label)
    try:
        root = yaml.compose(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{label}{line}: not valid YAML: {error.problem}") from error
    except yaml.YAMLError as error:
        raise ConfigError(f"{label}: not valid YAML: {error}") from error
    if root is None:
        raise ConfigError(f"{label}: the policy file is empty; see docs/policies.md")
    try:
        data = _StrictLoader("").construct_document(root)
    except ConstructorError as error:
        mark = error.problem_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{label}{line}: {error.problem}") from error
    return _build(root, data, label)


def _build(root: Node, data: Any, label: str) -> Policy:
    """The policy from the YAML document `data` composed as `root` (whose marks give lines)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{label}:1: a policy is a mapping with version, name and rules")
    for key in _RESERVED_KEYS:
        if key in data:
            raise ConfigError(
                f"{label}:{_line(root, (key,))}: unknown key {key!r}; a policy has version, "
                "name, description, extends, settings and rules"
            )
    data.setdefault("name", Path(label).stem)
    data["source"] = label
    _check_rule_names(data, root, label)
    try:
        policy = Policy.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_describe(error, data, root, label)) from error
    return _with_lines(policy, root)


def _with_lines(policy: Policy, root: Node) -> Policy:
    """Each rule knows its line, so every decision can say where its rule came from."""
    rules = tuple(
        rule.model_copy(update={"line": _line(root, ("rules", index))})
        for index, rule in enumerate(policy.rules)
    )
    return policy.model_copy(update={"rules": rules})


def _check_text(text: str, label: str) -> None:
    if len(text) > MAX_POLICY_BYTES:
        raise ConfigError(
            f"{label}: the policy is {len(text):,} characters long; the limit is "
            f"{MAX_POLICY_BYTES:,} (a policy holds rules, not data)"
        )
    control = _CONTROL.search(text)
    if control is not None:
        line = text.count("\n", 0, control.start()) + 1
        raise ConfigError(
            f"{label}:{line}: the file holds a control character "
            f"(U+{ord(control.group()):04X}); a policy is YAML text: is this a binary file?"
        )


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
"""The C0 control characters other than tab, line feed and carriage return."""

_UNUSUAL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
"""What the fast reader leaves to the pure-Python one: tabs (the two parsers disagree
on where a tab may stand), carriage returns and the other line breaks (NEL, U+2028,
U+2029), a byte-order mark, C1 controls and the characters YAML does not allow."""


def _read_fast(text: str) -> tuple[Node, Any] | None:
    """The document of `text` read by libyaml, or None when the pure-Python reader must.

    None for text with an unusual character (`_UNUSUAL`), more than one
    document, an anchor or alias, nesting deeper than `MAX_POLICY_DEPTH`, or
    any error: those all take the slow path, which refuses or reads them
    exactly as before. The depth is bounded while the events are collected,
    before anything recursive reads them (libyaml's own composer recurses in C,
    where a deep document would overflow the stack).
    """
    if _CComposer is None or _UNUSUAL.search(text):
        return None
    depth = 0
    try:
        parser = _CComposer(text)
        while True:
            event = parser.get_event()
            if event is None:
                return None
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                return None
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_POLICY_DEPTH:
                    return None
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
            elif isinstance(event, yaml.StreamEndEvent):
                break
        # Bounded and alias-free: libyaml may now compose it (its recursion is as deep
        # as the document, 32 levels at most), reading the text a second time. Its
        # nodes are the pure-Python composer's, tags resolved by the same resolver.
        root = _CComposer(text).get_single_node()
        if root is None:
            return None
        return root, _StrictLoader("").construct_document(root)
    except (yaml.YAMLError, RecursionError):
        return None


def _check_structure(text: str, label: str) -> None:
    """Depth and aliases, from the event stream, before anything recursive reads the tree.

    Composing a document 5,000 levels deep overflows Python's stack, and an alias
    can make a small file stand for an exponentially large one (billion laughs).
    """
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_StrictLoader):
            line = event.start_mark.line + 1 if event.start_mark is not None else 1
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise ConfigError(
                    f"{label}:{line}: YAML anchors and aliases (&name, "
                    "*name) are not supported in policies; write the values out"
                )
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_POLICY_DEPTH:
                    raise ConfigError(
                        f"{label}:{line}: the policy is nested more than "
                        f"{MAX_POLICY_DEPTH} levels deep; a policy needs a few"
                    )
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return  # the composer reports syntax errors with their line


def _read(source: str) -> tuple[str, str]:
    if not source:
        raise ConfigError("an empty policy name was given; use a preset name or a YAML path")
    is_path = "/" in source or source.endswith((".yaml", ".yml")) or source.startswith("~")
    if not is_path:
        if source not in PRESETS:
            raise ConfigError(
                f"unknown policy preset {source!r}; presets are {', '.join(PRESETS)}, "
                "or give the path of a YAML file"
            )
        text = resources.files("tether.policies").joinpath(f"{source}.yaml").read_text("utf-8")
        return source, text
    path = Path(source).expanduser()
    return str(path), read_policy_text(path)


def read_policy_text(path: Path) -> str:
    """The text of the policy file at `path`, bounded and decoded.

    Raises:
        ConfigError: the file is missing, unreadable, too large or not UTF-8.
    """
    try:
        if path.is_dir():
            raise ConfigError(f"policy file {str(path)!r} is a directory; give a YAML file")
        with path.open("rb") as stream:
            data = stream.read(MAX_POLICY_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"policy file {str(path)!r} does not exist") from None
    except OSError as error:
        raise ConfigError(
            f"policy file {str(path)!r} cannot be read: {error.strerror or error}"
        ) from error
    if len(data) > MAX_POLICY_BYTES:
        raise ConfigError(
            f"policy file {str(path)!r} is larger than {MAX_POLICY_BYTES:,} bytes; "
            "a policy holds rules, not data"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ConfigError(
            f"{path}:{line}: the file is not UTF-8 text (byte 0x{data[error.start]:02x}); "
            "save it as UTF-8"
        ) from error


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicated keys (YAML would keep the last one silently)."""

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except ValueError as error:  # read as a date that is none (`2024-13-45`)
            raise ConstructorError(
                None, None, f"{node.value!r} is not a valid value: {error}", node.start_mark
            ) from error

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise ConstructorError(
                    None,
                    None,
                    "a key must be a plain word, not a list or mapping",
                    key_node.start_mark,
                )
            if key in seen:
                raise ConstructorError(
                    None, None, f"the key {key!r} appears twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_CComposer: type[Any] | None
try:
    from yaml._yaml import CParser

    class _LibyamlComposer(CParser, Resolver):
        """libyaml's parser and composer, resolving tags as `_StrictLoader` does."""

        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            Resolver.__init__(self)

    _CComposer = _LibyamlComposer
except ImportError:  # PyYAML built without libyaml: every file takes the pure-Python reader
    _CComposer = None


def _check_rule_names(data: dict[str, Any], root: Node, label: str) -> None:
    rules = data.get("rules")
    if not isinstance(rules, list):
        return
    seen: dict[str, int] = {}
    for index, rule in enumerate(rules):
        name = rule.get("name") if isinstance(rule, dict) else None
        if not isinstance(name, str):
            continue
        if name in seen:
            line = _line(root, ("rules", index))
            raise ConfigError(
                f"{label}:{line}: rule {index + 1} is named {name!r} like rule "
                f"{seen[name] + 1}; rule names must be unique"
            )
        seen[name] = index


def _describe(error: ValidationError, data: dict[str, Any], root: Node, label: str) -> str:
    problems = []
    for problem in error.errors(include_url=False):
        location = tuple(problem.get("loc", ()))
        message = str(problem.get("msg", "invalid")).removeprefix("Value error, ")
        line = _line(root, location)
        where = ".".join(str(part) for part in location)
        if len(location) >= 2 and location[0] == "rules" and isinstance(location[1], int):
            index = location[1]
            rule = data["rules"][index] if index < len(data.get("rules", [])) else None
            name = rule.get("name") if isinstance(rule, dict) else None
            named = f" ({name!r})" if isinstance(name, str) else ""
            field = ".".join(str(part) for part in location[2:])
            field_line = line
            line = _line(root, location[:2])
            where = f"rule {index + 1}{named}"
            if field:
                where += f", field {field!r}" + (
                    f" (line {field_line})" if field_line != line else ""
                )
            if problem.get("type") == "extra_forbidden":
                message = f"unknown field {field!r}; see docs/policies.md for the rule keys"
                where = f"rule {index + 1}{named}"
        elif problem.get("type") == "extra_forbidden":
            message = (
                f"unknown key {where!r}; a policy has version, name, description, settings "
                "and rules"
            )
        problems.append(f"{label}:{line}: {where or 'policy'}: {message}")
    return "; ".join(problems)


def _line(root: Node, location: tuple[Any, ...]) -> int:
    """The line of the deepest node `location` reaches (1-based)."""
    node = root
    for part in location:
        child: Node | None = None
        if isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                if getattr(key_node, "value", None) == part:
                    child = value_node
                    break
        elif isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            break
        node = child
    return int(node.start_mark.line) + 1
