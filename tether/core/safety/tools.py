"""The agent's tools: what each one does, and what well-formed input for it looks like.

Claude Code's tool schemas change between releases, so fields are checked
where Tether reads them (types, presence, NUL bytes, invalid Unicode, size)
and a field Tether does not know is reported rather than ignored: it might
change what the call does (a newer release's `_host` runs the tool on
another machine). Tools that only touch the agent's own state are checked
loosely.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

__all__ = [
    "MAX_COMMAND_CHARS",
    "MAX_PATH_CHARS",
    "PATH_FIELDS",
    "TOOLS",
    "InputProblem",
    "ToolKind",
    "ToolSpec",
    "classification_key",
    "tool_kind",
    "validate_input",
    "well_formed",
]

MAX_COMMAND_CHARS = 100_000
"""A shell command longer than this is refused: nobody can review it on a phone."""

MAX_PATH_CHARS = 4096
MAX_PATTERN_CHARS = 10_000
MAX_NESTING = 32

PATH_FIELDS = ("file_path", "notebook_path", "path")
"""Fields that name a file or directory in any file tool."""


class ToolKind(StrEnum):
    """What a tool does, as far as safety is concerned."""

    SHELL = "shell"
    READ = "read"
    WRITE = "write"
    NETWORK = "network"
    WEB_SEARCH = "web_search"
    INTERNAL = "internal"
    SKILL = "skill"
    MCP = "mcp"
    UNKNOWN = "unknown"


FieldType = Literal["str", "number", "bool", "list", "dict", "any"]


class ToolSpec(BaseModel):
    """A tool's kind and its fields: name -> (type, required)."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: ToolKind
    fields: dict[str, tuple[FieldType, bool]] = {}
    interpreted: tuple[str, ...] = ()
    """The fields whose values Tether reads to judge the call (a command, a path, a URL):
    checked strictly (size, emptiness) and, all of them, the classification's cache key."""
    strict: bool = True
    """Unknown fields are reported (file and shell tools); loose tools take any dict."""


def _spec(
    name: str, kind: ToolKind, interpreted: str, **fields: tuple[FieldType, bool]
) -> ToolSpec:
    reads = tuple(interpreted.split())
    unknown = [field for field in reads if field not in fields]
    if unknown:
        raise ValueError(f"tool spec {name}: interpreted fields {unknown} are not its fields")
    return ToolSpec(name=name, kind=kind, fields=fields, interpreted=reads)


_S: tuple[FieldType, bool] = ("str", False)
_SR: tuple[FieldType, bool] = ("str", True)
_N: tuple[FieldType, bool] = ("number", False)
_B: tuple[FieldType, bool] = ("bool", False)
_L: tuple[FieldType, bool] = ("list", False)

TOOLS: dict[str, ToolSpec] = {
    spec.name: spec
    for spec in (
        _spec(
            "Bash",
            ToolKind.SHELL,
            "command",
            command=_SR,
            description=_S,
            timeout=_N,
            run_in_background=_B,
            dangerouslyDisableSandbox=_B,
        ),
        _spec(
            "Read",
            ToolKind.READ,
            "file_path",
            file_path=_SR,
            offset=_N,
            limit=_N,
            pages=_S,
            allow_large=_B,
        ),
        _spec("Write", ToolKind.WRITE, "file_path", file_path=_SR, content=_SR),
        _spec(
            "Edit",
            ToolKind.WRITE,
            "file_path",
            file_path=_SR,
            old_string=_SR,
            new_string=_SR,
            replace_all=_B,
        ),
        _spec("MultiEdit", ToolKind.WRITE, "file_path", file_path=_SR, edits=("list", True)),
        _spec(
            "NotebookEdit",
            ToolKind.WRITE,
            "notebook_path",
            notebook_path=_SR,
            new_source=_S,
            cell_id=_S,
            cell_type=_S,
            edit_mode=_S,
        ),
        _spec("NotebookRead", ToolKind.READ, "notebook_path", notebook_path=_SR, cell_id=_S),
        _spec("Glob", ToolKind.READ, "pattern path", pattern=_SR, path=_S),
        _spec(
            "Grep",
            ToolKind.READ,
            "pattern path file_path glob",
            pattern=_SR,
            path=_S,
            file_path=_S,
            glob=_S,
            output_mode=_S,
            type=_S,
            head_limit=_N,
            offset=_N,
            context=_N,
            multiline=_B,
            **{"-A": _N, "-B": _N, "-C": _N, "-n": _B, "-i": _B, "-o": _B},
            **{"-l": _B, "-c": _B, "-r": _B},
        ),
        _spec("LS", ToolKind.READ, "path", path=_SR, ignore=_L),
        _spec("WebFetch", ToolKind.NETWORK, "url", url=_SR, prompt=_S, offset=_N),
        _spec(
            "WebSearch",
            ToolKind.WEB_SEARCH,
            "query",
            query=_SR,
            allowed_domains=_L,
            blocked_domains=_L,
        ),
    )
}
"""The tools whose input Tether reads, with their fields."""

_KEY_FIELDS = {
    spec.name: (
        spec.interpreted[0] if len(spec.interpreted) == 1 else None,
        spec.interpreted,
        frozenset(spec.fields),
    )
    for spec in TOOLS.values()
}
"""Per tool: the one field its classification reads (None: several), the fields it
reads, and every field it knows."""

_INTERNAL = frozenset(
    [
        *("TodoWrite", "Task", "Agent", "ExitPlanMode", "EnterPlanMode", "AskUserQuestion"),
        *("BashOutput", "TaskOutput", "KillShell", "KillBash", "TaskStop", "TaskCreate"),
        *("TaskUpdate", "TaskGet", "TaskList", "ToolSearch"),
    ]
)
_SKILLS = frozenset({"Skill", "SlashCommand"})
_MCP_BUILTINS = frozenset({"ListMcpResourcesTool", "ReadMcpResourceTool"})
_NAMED_KINDS: dict[str, ToolKind] = {
    **dict.fromkeys(_MCP_BUILTINS, ToolKind.MCP),
    **dict.fromkeys(_SKILLS, ToolKind.SKILL),
    **dict.fromkeys(_INTERNAL, ToolKind.INTERNAL),
    **{name: spec.kind for name, spec in TOOLS.items()},
}
"""The kind of each tool known by name, in one lookup (a spec's kind first, as
`tool_kind` tested them: a later entry wins)."""
_NON_EMPTY = frozenset({"command", "file_path", "notebook_path", "pattern", "url", "query"})
"""Fields whose empty value means nothing: the call is malformed."""


def classification_key(tool_name: str, tool_input: Mapping[str, Any]) -> tuple[str, ...]:
    """What a call's classification depends on: the tool and its spec's interpreted fields.

    A Write's content or a Bash description does not change what the call does;
    a tool without a spec (internal, MCP, unknown) is classified by its name alone.
    A field the spec does not know is part of the key too: the call still goes
    through classification (it asks), and such a field may be one it reads
    (`notebook_path` on a Read).
    """
    fields = _KEY_FIELDS.get(tool_name)
    if fields is None:
        return (tool_name,)
    field, interpreted, known = fields
    if field is not None:
        key: tuple[str, ...] = (tool_name, str(tool_input.get(field, "\x00")))
    else:
        key = (tool_name, *[str(tool_input.get(field, "\x00")) for field in interpreted])
    if known.issuperset(tool_input):
        return key
    extra = sorted(field for field in tool_input if field not in known)
    return (*key, *[text for field in extra for text in (field, str(tool_input[field]))])


def tool_kind(tool_name: str) -> ToolKind:
    """The kind of `tool_name`: shell, read, write, network, internal, MCP... or unknown."""
    kind = _NAMED_KINDS.get(tool_name)
    if kind is not None:
        return kind
    if tool_name.startswith("mcp__"):
        return ToolKind.MCP
    return ToolKind.UNKNOWN


class InputProblem(BaseModel):
    """Something wrong with a tool call's input, and what it calls for."""

    model_config = ConfigDict(frozen=True)

    message: str
    field: str | None = None
    action: Literal["deny", "require_approval"] = "deny"


def validate_input(tool_name: Any, tool_input: Any) -> tuple[InputProblem, ...]:
    """Every problem with `tool_name` and `tool_input`; empty when the input is well-formed.

    Structural problems (not a dict, a wrong type, a missing field, NUL bytes,
    invalid Unicode, a huge value) deny; an unexpected field asks a person.
    """
    if type(tool_input) is dict and well_formed(tool_name, tool_input):
        return ()
    if not isinstance(tool_name, str) or not tool_name:
        return (InputProblem(message=f"the tool name {_show(tool_name)} is not a name"),)
    name_problem = _text_problem("tool name", tool_name, 256)
    if name_problem is not None:
        return (InputProblem(message=name_problem),)
    if not isinstance(tool_input, Mapping):
        return (
            InputProblem(
                message=f"the input of {tool_name} is {_type_name(tool_input)}, not an object"
            ),
        )
    problems: list[InputProblem] = []
    for key in tool_input:
        if not isinstance(key, str):
            problems.append(InputProblem(message=f"a field name is not text: {_show(key)}"))
    if problems:
        return tuple(problems)
    depth_problem, surrogate = _nesting_problem(tool_input)
    if depth_problem is not None:
        return (InputProblem(message=f"the input of {tool_name} {depth_problem}"),)
    invalid_text = f"the input of {tool_name} holds text that is not valid UTF-8 (a lone surrogate)"
    spec = TOOLS.get(tool_name)
    if spec is None:
        return (InputProblem(message=invalid_text),) if surrogate else ()
    for field, (kind, required) in spec.fields.items():
        if field not in tool_input:
            if required:
                problems.append(
                    InputProblem(field=field, message=f"{tool_name} needs the field {field!r}")
                )
            continue
        problem = _field_problem(field, kind, tool_input[field], field in spec.interpreted)
        if problem is not None:
            problems.append(InputProblem(field=field, message=f"{tool_name}.{field} {problem}"))
    if spec.name == "MultiEdit" and isinstance(tool_input.get("edits"), list):
        problems.extend(_edits_problems(tool_input["edits"]))
    if surrogate and not problems:
        problems.append(InputProblem(message=invalid_text))
    for field in tool_input:
        if field not in spec.fields:
            problems.append(
                InputProblem(
                    field=field,
                    message=f"{tool_name} has an unexpected field {field!r}",
                    action="require_approval",
                )
            )
    return tuple(problems)


def well_formed(tool_name: Any, tool_input: dict[Any, Any]) -> bool:
    """Whether a call to a known tool is plainly well-formed: the common case, decided fast.

    True only when `validate_input`'s full check would find no problem: every
    field is one the tool's spec knows, holds a plain value of its type (text,
    a finite number, a boolean), and every required field is there; text that
    Tether reads is within its limit, holds no NUL and is not empty where that
    matters; no text holds a lone surrogate. A flat object of a few such values
    cannot be nested too deep or hold too many values. Anything else (lists,
    objects, a subclass, an unknown field, a problem) goes through the full
    check, which words the problems.
    """
    known = _FAST_FIELDS.get(tool_name) if type(tool_name) is str else None
    if known is None or len(tool_input) > _FAST_MAX_FIELDS:
        return False
    fields, required = known
    # Each required field present counts one (a dict's keys are distinct): all of them
    # are there when the count is the number the tool requires.
    present = 0
    for key, value in tool_input.items():
        check = fields.get(key) if type(key) is str else None
        if check is None:
            return False
        kind, limit, non_empty, needed = check
        present += needed
        value_type = type(value)
        if kind == "str":
            if value_type is not str:
                return False
            if not value.isascii() and _has_surrogate(value):
                return False
            if limit and (
                len(value) > limit
                or "\x00" in value
                or (non_empty and (not value or value.isspace()))  # empty or only whitespace
            ):
                return False
        elif kind == "number":
            if value_type is float:
                if not math.isfinite(value):
                    return False
            elif value_type is not int:
                return False
        elif kind != "bool" or value_type is not bool:
            return False
    return present == required


def _limit(field: str) -> int:
    """The length limit of an interpreted text field."""
    if field in {"pattern", "glob", "query"}:
        return MAX_PATTERN_CHARS
    return MAX_COMMAND_CHARS if field == "command" else MAX_PATH_CHARS


_FAST_MAX_FIELDS = 64
_FAST_FIELDS: dict[str, tuple[dict[str, tuple[FieldType, int, bool, int]], int]] = {
    spec.name: (
        {
            field: (
                kind,
                _limit(field) if field in spec.interpreted else 0,
                field in _NON_EMPTY,
                1 if required else 0,
            )
            for field, (kind, required) in spec.fields.items()
        },
        sum(1 for _, required in spec.fields.values() if required),
    )
    for spec in TOOLS.values()
    if spec.name != "MultiEdit"  # its edits are checked one by one: always the full check
}
"""Per tool: each field's type, its length limit when Tether reads it (0: not read),
whether it must not be empty, and 1 when it is required; then how many are required."""


def _field_problem(field: str, kind: FieldType, value: Any, interpreted: bool) -> str | None:
    if kind == "str":
        if not isinstance(value, str):
            return f"is {_type_name(value)}, not text"
        if interpreted:
            required_text = field in _NON_EMPTY
            return _text_problem("it", value, _limit(field), empty_ok=not required_text)
        return None
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"is {_type_name(value)}, not a number"
        if value != value or value in {float("inf"), float("-inf")}:
            return "is not a finite number"
        return None
    if kind == "bool":
        return None if isinstance(value, bool) else f"is {_type_name(value)}, not true/false"
    if kind == "list":
        return None if isinstance(value, list) else f"is {_type_name(value)}, not a list"
    if kind == "dict":
        return None if isinstance(value, Mapping) else f"is {_type_name(value)}, not an object"
    return None


def _text_problem(what: str, value: str, limit: int, *, empty_ok: bool = True) -> str | None:
    if not value.strip() and not empty_ok:
        return f"{what} is empty" if what != "it" else "is empty"
    if len(value) > limit:
        return f"is {len(value):,} characters long (the limit is {limit:,})"
    if "\x00" in value:
        return "contains a NUL byte"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid UTF-8 (it holds a lone surrogate)"
    return None


def _edits_problems(edits: list[Any]) -> list[InputProblem]:
    problems: list[InputProblem] = []
    if not edits:
        problems.append(InputProblem(field="edits", message="MultiEdit.edits is empty"))
    for index, edit in enumerate(edits):
        if not isinstance(edit, Mapping):
            problems.append(
                InputProblem(field="edits", message=f"MultiEdit.edits[{index}] is not an object")
            )
            continue
        for key in ("old_string", "new_string"):
            if not isinstance(edit.get(key), str):
                problems.append(
                    InputProblem(
                        field="edits", message=f"MultiEdit.edits[{index}].{key} is not text"
                    )
                )
    return problems


def _nesting_problem(value: Any) -> tuple[str | None, bool]:
    """What is wrong with the shape of `value`, and whether any text in it is not UTF-8."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    seen = 0
    surrogate = False
    while stack:
        current, depth = stack.pop()
        seen += 1
        if depth > MAX_NESTING:
            return f"is nested more than {MAX_NESTING} levels deep", surrogate
        if seen > 100_000:
            return "has more than 100,000 values", surrogate
        if isinstance(current, str):
            # Any text, not only the fields Tether reads: a lone surrogate cannot be
            # written as UTF-8, so the tool would get something other than was judged.
            if not current.isascii() and _has_surrogate(current):
                surrogate = True
        elif isinstance(current, Mapping):
            stack.extend((item, depth + 1) for item in current.values())
            stack.extend((key, depth + 1) for key in current if isinstance(key, str))
        elif isinstance(current, (list, tuple)):
            stack.extend((item, depth + 1) for item in current)
    return None, surrogate


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__}"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
