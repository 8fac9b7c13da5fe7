"""Classification: what a tool call would do, as parts with risk facts and paths.

A Bash call has one part per simple command it would run; any other tool has
one part. Facts about the call as a whole (a command that was not fully
understood, a fork bomb) are kept apart. A classification depends only on the
call itself, never on the file system, so it can be cached; paths are
resolved (and symlinks followed) afresh by the sandbox on every call.
"""

from __future__ import annotations

import itertools
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from tether.core.safety.analyzer import CommandAnalyzer, PathAnalyzer, max_level
from tether.core.safety.built import built, slot_setters
from tether.core.safety.facts import (
    PathAccess,
    PathUse,
    RiskFact,
    RiskLevel,
    make_fact,
    open_slots,
)
from tether.core.safety.shell import ShellParser
from tether.core.safety.shell_words import brace_expand
from tether.core.safety.tools import ToolKind, tool_kind

__all__ = ["KIND_FACTS", "CallPart", "Classification", "Classifier"]


@dataclass(frozen=True, slots=True, init=False)
class CallPart:
    """One thing a call does: a simple command of a Bash call, or the whole of another tool.

    A slotted dataclass built once per command on every fresh call; the
    `Classification` model holding the parts is what is handed on and serialised.
    Its `__init__` sets each field through its slot (`_set_*`), as `RiskFact`'s does.
    """

    program: str | None = None
    """The program of a shell command (None for other tools)."""
    subcommand: tuple[str, ...] = ()
    text: str = ""
    """The normalised command, or the main argument of another tool (path, URL, query)."""
    facts: tuple[RiskFact, ...] = ()
    paths: tuple[PathUse, ...] = ()
    resolved: tuple[str, ...] = ()
    """The paths resolved by the sandbox (absolute, symlinks followed), once checked."""
    subshell: bool = False
    """A shell command run in a subshell (its `cd` does not last)."""
    args: tuple[str, ...] = ()
    """The arguments of a shell command after its program, quotes removed."""
    opaque: bool = False
    """Some of the command's words are only known at run time (a variable, a glob, a
    substitution, arguments from stdin): a `commands:` wildcard never matches them."""

    def __init__(
        self,
        program: str | None = None,
        subcommand: tuple[str, ...] = (),
        text: str = "",
        facts: tuple[RiskFact, ...] = (),
        paths: tuple[PathUse, ...] = (),
        resolved: tuple[str, ...] = (),
        subshell: bool = False,
        args: tuple[str, ...] = (),
        opaque: bool = False,
    ) -> None:
        _set_program(self, program)
        _set_subcommand(self, subcommand)
        _set_text(self, text)
        _set_facts(self, facts)
        _set_paths(self, paths)
        _set_resolved(self, resolved)
        _set_subshell(self, subshell)
        _set_args(self, args)
        _set_opaque(self, opaque)

    @property
    def fact_kinds(self) -> frozenset[str]:
        return frozenset(fact.kind for fact in self.facts)

    @property
    def risk_level(self) -> RiskLevel:
        return max_level(self.facts)


_new = object.__new__
# The slot setters of CallPart's fields, in order: a frozen dataclass's fields are set the
# same way by its own constructor (`object.__setattr__` reaches the same slot descriptors).
(
    _set_program,
    _set_subcommand,
    _set_text,
    _set_facts,
    _set_paths,
    _set_resolved,
    _set_subshell,
    _set_args,
    _set_opaque,
) = slot_setters(
    CallPart,
    "program",
    "subcommand",
    "text",
    "facts",
    "paths",
    "resolved",
    "subshell",
    "args",
    "opaque",
)


_OPEN_PART = open_slots(CallPart)
"""A part is filled in as one of these, then made the CallPart it is (`open_slots`)."""


class Classification(BaseModel):
    """What a tool call would do."""

    model_config = ConfigDict(frozen=True)

    tool_name: str
    kind: ToolKind
    command: str | None = None
    """The shell command of a Bash call."""
    parts: tuple[CallPart, ...] = ()
    facts: tuple[RiskFact, ...] = ()
    """Facts about the call as a whole (not understood, fork bomb)."""

    @property
    def all_facts(self) -> tuple[RiskFact, ...]:
        return (*self.facts, *(fact for part in self.parts for fact in part.facts))

    @property
    def fact_kinds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(fact.kind for fact in self.all_facts))

    @property
    def risk_level(self) -> RiskLevel:
        return max_level(self.all_facts)


KIND_FACTS: dict[ToolKind, str] = {
    ToolKind.READ: "file_read",
    ToolKind.WRITE: "file_write",
    ToolKind.NETWORK: "network",
    ToolKind.WEB_SEARCH: "web_search",
    ToolKind.INTERNAL: "agent_internal",
    ToolKind.SKILL: "skill",
    ToolKind.MCP: "mcp_tool",
}
"""The fact every call of a tool of this kind carries (a shell call has none of its own;
a tool of any other kind carries `unknown_tool`). The policy plans for these facts."""


# Case-insensitive: on macOS and Windows file systems `.GIT/HOOKS` is `.git/hooks`.
_GIT_INTERNALS = re.compile(r"(^|/)\.git/(hooks(/|$)|config$)", re.IGNORECASE)
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")


class Classifier:
    """Turns a tool call into a `Classification`.

    Args:
        parser: parses Bash commands.
        commands: analyses each simple command.
        paths: recognises credential files.
    """

    def __init__(self, parser: ShellParser, commands: CommandAnalyzer, paths: PathAnalyzer) -> None:
        self._parser = parser
        self._commands = commands
        self._paths = paths

    def classify(self, tool_name: str, tool_input: Mapping[str, Any]) -> Classification:
        """Classify a call whose input has passed `validate_input`."""
        kind = tool_kind(tool_name)
        if kind is _SHELL:
            return self._shell(tool_name, str(tool_input.get("command", "")))
        if kind is _READ or kind is _WRITE:
            path = tool_input.get("file_path")
            if (
                type(path) is str
                and tool_name not in _DIRECTORY_TOOLS
                and ":" not in path
                and "\\" not in path
                and "notebook_path" not in tool_input
            ):
                return self._one_path(tool_name, kind, path)
            return self._file_tool(tool_name, kind, tool_input)
        if kind is ToolKind.NETWORK:
            url = str(tool_input.get("url", ""))
            paths: tuple[PathUse, ...] = ()
            if url.lower().startswith("file://"):
                paths = (PathUse(path=url[7:] or "/", access="read"),)
            fact = make_fact(KIND_FACTS[kind], f"fetches {url}")
            part = CallPart(text=url, facts=(fact,), paths=paths)
            return Classification(tool_name=tool_name, kind=kind, parts=(part,))
        fact_kind = KIND_FACTS.get(kind, "unknown_tool")
        text = str(tool_input.get("query", "")) if kind is ToolKind.WEB_SEARCH else ""
        part = CallPart(text=text, facts=(make_fact(fact_kind, tool_name),))
        return Classification(tool_name=tool_name, kind=kind, parts=(part,))

    def _shell(self, tool_name: str, command: str) -> Classification:
        script = self._parser.parse(command)
        analysis = self._commands.analyze_script(script)
        parts = []
        for simple, facts, paths, subcommand in analysis.commands:
            if paths:
                for use in paths:
                    if use.access == "write" and _git_internal(use.path):
                        facts = (*facts, make_fact("git_hooks", f"writes {use.path}"))
                        break
            elif not facts and (not simple.program or simple.code_walked):
                # A bare `NAME=value` runs nothing; `bash -c CODE` is a wrapper: CODE's
                # commands are the parts.
                continue
            # Filled in as an `_OPEN_PART`, then made the CallPart it is: CallPart's own
            # constructor adds a call through the class, once per command of every fresh call.
            part: Any = _new(_OPEN_PART)
            part.program = simple.program or None
            part.subcommand = subcommand
            part.text = simple.text
            part.facts = facts
            part.paths = paths
            part.resolved = ()
            part.subshell = simple.subshell
            part.args = simple.args
            # Opaque: some word is only known at run time (see `CallPart.opaque`).
            known = not (
                simple.dynamic_program
                or simple.dynamic_args
                or simple.glob_args
                or simple.procsub_args
                or simple.dynamic_code
                or simple.substituted
                or simple.args_from_stdin
            )
            part.opaque = not known
            part.__class__ = CallPart
            parts.append(part)
        # Every field given, each of its type (`built`): what validation would make. The
        # fields set are named by a frozenset made once: a set copied from it is made in
        # fewer steps than one from the dict's keys.
        return built(
            Classification,
            {
                "tool_name": tool_name,
                "kind": _SHELL,
                "command": command,
                "parts": tuple(parts),
                "facts": analysis.facts,
            },
            _SHELL_GIVEN,
        )

    def _one_path(self, tool_name: str, kind: ToolKind, path: str) -> Classification:
        """`_file_tool` for a Read, Write or Edit naming one plain path (the common call).

        The same steps for a `file_path` with no `:` or `\\` (so no other reading), no
        `notebook_path`, and a tool that names no directory and filters nothing; the
        tests hold it to `_file_tool`.
        """
        write = kind is _WRITE
        use = PathUse(path, "write" if write else "read")
        fact = make_fact(KIND_FACTS[kind], tool_name)
        reason = self._paths.credential_reason(path)
        if reason is None and not (write and _git_internal(path)):
            facts: tuple[RiskFact, ...] = (fact,)
        else:
            found = [fact]
            if reason is not None:
                found.append(make_fact("credential_access", f"{path}: {reason}"))
            if write and _git_internal(path):
                found.append(make_fact("git_hooks", f"writes {path}"))
            facts = tuple(found)
        # Filled in as an `_OPEN_PART`, as `_shell` makes its parts.
        part: Any = _new(_OPEN_PART)
        part.program = None
        part.subcommand = ()
        part.text = path
        part.facts = facts
        part.paths = (use,)
        part.resolved = ()
        part.subshell = False
        part.args = ()
        part.opaque = False
        part.__class__ = CallPart
        return built(
            Classification,
            {"tool_name": tool_name, "kind": kind, "command": None, "parts": (part,), "facts": ()},
            _FILE_TOOL_GIVEN,
        )

    def _file_tool(
        self, tool_name: str, kind: ToolKind, tool_input: Mapping[str, Any]
    ) -> Classification:
        access: PathAccess = "write" if kind is _WRITE else "read"
        uses: list[PathUse] = []
        for field in ("file_path", "notebook_path"):
            value = tool_input.get(field)
            if isinstance(value, str):
                uses.append(PathUse(value, access))
                # Without a `:` or a `\\` no other reading exists (`_path_readings` needs a
                # `file:` scheme, a drive letter or a backslash): the common path skips it.
                if ":" in value or "\\" in value:
                    uses.extend(PathUse(v, access) for v in _path_readings(value))
        if tool_name in _DIRECTORY_TOOLS:
            base = tool_input.get("path")
            directory = base if isinstance(base, str) and base else "."
            # Grep reads the contents of what `path` names; Glob and LS list names.
            directory_access: PathAccess = "read" if tool_name == "Grep" else "list"
            uses.append(PathUse(path=directory, access=directory_access))
            uses.extend(PathUse(path=v, access=directory_access) for v in _path_readings(directory))
            pattern = tool_input.get("pattern")
            if tool_name == "Glob" and isinstance(pattern, str):
                roots = dict.fromkeys(_glob_root(directory, p) for p in _glob_alternatives(pattern))
                uses.extend(PathUse(path=root, access="list") for root in roots)
        facts = [make_fact(KIND_FACTS[kind], tool_name)]
        for use in uses:
            reason = self._paths.credential_reason(use.path) if use.access != "list" else None
            if reason is not None:
                facts.append(make_fact("credential_access", f"{use.path}: {reason}"))
            if use.access == "write" and _git_internal(use.path):
                facts.append(make_fact("git_hooks", f"writes {use.path}"))
        file_filter = tool_input.get("glob") if tool_name == "Grep" else None
        if isinstance(file_filter, str):
            # ripgrep globs take `{a,b}` alternatives, and a leading `!` excludes.
            for alternative in _glob_alternatives(file_filter.removeprefix("!")):
                reason = self._paths.credential_reason(alternative, glob=True)
                if reason is not None:
                    facts.append(
                        make_fact("credential_access", f"searches {file_filter}: {reason}")
                    )
                    break
        text = uses[0].path if uses else ""
        part = CallPart(text=text, facts=tuple(facts), paths=tuple(uses))
        # Every field of its type (`built`), and set as validation of the three given
        # fields would count them: `command` and `facts` keep their defaults.
        return built(
            Classification,
            {"tool_name": tool_name, "kind": kind, "command": None, "parts": (part,), "facts": ()},
            _FILE_TOOL_GIVEN,
        )


_FILE_TOOL_GIVEN = frozenset({"tool_name", "kind", "parts"})
_SHELL_GIVEN = frozenset(Classification.model_fields)
"""Every field of a shell call's classification: `_shell` gives them all."""
_DIRECTORY_TOOLS = frozenset({"Glob", "Grep", "LS"})
"""The file tools that name a directory (`path`) and may filter what they read."""
# The kinds as plain names: on Python 3.11 a member read through its enum class goes
# through the class's `__getattr__` hook, a cost on every call.
_SHELL, _READ, _WRITE = ToolKind.SHELL, ToolKind.READ, ToolKind.WRITE


def _path_readings(path: str) -> list[str]:
    """Other ways a file tool's path may be read: a `file://` URI, or a Windows path.

    Both are plain relative names on POSIX, but a tool (or a later release) may
    take them as what they look like, so each reading must pass the sandbox too:
    `file:///etc/passwd` as /etc/passwd, `..\\..\\x` as ../../x, and `C:\\x` or
    `\\\\server\\share` as outside (an absolute path on another system).
    """
    readings: list[str] = []
    if path[:7].lower() == "file://":
        rest = path[7:]
        host, slash, tail = rest.partition("/")
        readings.append("/" + tail if host.lower() in {"", "localhost"} and slash else "//" + rest)
    if "\\" in path or (len(path) > 1 and path[1] == ":" and path[0].isalpha()):
        slashed = path.replace("\\", "/")
        if _WINDOWS_DRIVE.match(slashed):
            # `C:\x`: rooted on a drive Tether does not know; judged as `/C/x`, a path
            # outside every approved directory (as `\\server\x` is, read as `//server/x`).
            slashed = f"/{slashed[0]}/{slashed[2:].lstrip('/')}"
        readings.append(slashed)
    return [r for r in readings if r != path]


def _git_internal(path: str) -> bool:
    return bool(_GIT_INTERNALS.search(posixpath.normpath(path)))


def _glob_alternatives(pattern: str) -> list[str]:
    """A Glob pattern with its `{a,b}` alternatives written out (`{..,src}/*`: `../*`, `src/*`)."""
    return brace_expand(pattern) if "{" in pattern else [pattern]


def _glob_root(directory: str, pattern: str) -> str:
    """The directory a Glob pattern starts from: `path` joined with the pattern's fixed part.

    A `..` after a wildcard climbs from wherever the wildcard matched: `**` may match
    nothing and `*` one directory, so `**/../..` starts two levels up.
    """
    if pattern.startswith(("/", "~")) or directory == ".":
        joined = pattern
    else:
        joined = posixpath.join(directory, pattern)
    parts = joined.split("/")
    fixed = list(itertools.takewhile(lambda p: not any(c in p for c in "*?[{"), parts))
    rest = parts[len(fixed) :]
    if ".." in rest:
        climbed = [*fixed]
        for part in rest[: len(rest) - rest[::-1].index("..")]:
            if part == "**":
                continue
            climbed.append("x" if any(c in part for c in "*?[{") else part)
        return posixpath.normpath("/".join(climbed) or ".")
    return "/".join(fixed) or ("/" if joined.startswith("/") else ".")
