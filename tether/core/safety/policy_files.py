"""Loading policy files: preset names or YAML paths, with errors that name file and line.

A malformed policy must stop Tether at start-up, not weaken it at run time:
every problem (YAML syntax, a duplicated key, an unknown field, a bad action,
an unknown risk fact, a regex that does not compile) is a `ConfigError`
naming the file, the line (the rule's line for a bad rule) and what to fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, SequenceNode

from tether.core.safety.policy import Policy
from tether.exceptions import ConfigError

__all__ = ["PRESETS", "load_policies", "load_policy", "parse_policy"]

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


def parse_policy(text: str, label: str) -> Policy:
    """Parse and validate the YAML `text` of a policy; `label` names it in errors.

    Raises:
        ConfigError: the text is not a valid policy.
    """
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
    if not isinstance(data, dict):
        raise ConfigError(f"{label}:1: a policy is a mapping with version, name and rules")
    data.setdefault("name", Path(label).stem)
    data["source"] = label
    _check_rule_names(data, root, label)
    try:
        return Policy.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_describe(error, data, root, label)) from error


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
    try:
        return str(path), path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"policy file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"policy file {str(path)!r} cannot be read: {error}") from error


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicated keys (YAML would keep the last one silently)."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ConstructorError(
                    None, None, f"the key {key!r} appears twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


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
