"""Risk facts: the named things an analysis can say about a tool call.

A fact has a kind (`recursive_delete`), a level and a detail saying where it
came from (`rm -rf /`). Policies match facts by kind (`risk_facts:` in YAML),
so the kinds below are a public vocabulary: `FACTS` lists each with its level
and a one-line meaning, and docs/policies.md prints the same table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from tether.core.safety.built import slot_setters

__all__ = [
    "FACTS",
    "NEVER_AUTO_ALLOWED",
    "FactInfo",
    "PathAccess",
    "PathUse",
    "RiskFact",
    "RiskLevel",
    "make_fact",
    "open_slots",
]


class RiskLevel(StrEnum):
    """How bad the worst outcome is: none < low < medium < high < critical."""

    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {level: rank for rank, level in enumerate(RiskLevel)}


class FactInfo(BaseModel):
    """A fact kind's level and what it means."""

    model_config = ConfigDict(frozen=True)

    level: RiskLevel
    summary: str


# The frozen dataclasses below write their own `__init__` (`init=False`): the generated
# one sets each field through `object.__setattr__`, which finds the slot by name on every
# call; theirs sets it through the slot's descriptor, kept once (`slot_setters`), at
# about half the cost. The analysis makes several of each per command on every fresh call.


@dataclass(frozen=True, slots=True, init=False)
class RiskFact:
    """Something risky a tool call would do: a kind from `FACTS`, its level, and where.

    A slotted dataclass, like `PathUse`: the analysis makes several per command on
    every fresh gate call. The classification models holding them serialise them.
    """

    kind: str
    level: RiskLevel
    detail: str = ""

    def __init__(self, kind: str, level: RiskLevel, detail: str = "") -> None:
        _set_kind(self, kind)
        _set_level(self, level)
        _set_detail(self, detail)


PathAccess = Literal["read", "write", "delete", "exec", "cd", "list", "arg"]
"""How a path is used; "arg" is an argument of an unknown program that may be a path."""


@dataclass(frozen=True, slots=True, init=False)
class PathUse:
    """A path a tool call names, as written (`~/.ssh/id_rsa`, `../x`, `$OUT`)."""

    path: str
    access: PathAccess
    dynamic: bool = False
    """Only known at run time (contains a variable or a command's output)."""
    glob: bool = False
    """Contains unquoted `*`, `?` or `[...]`: the shell expands it to existing files."""

    def __init__(
        self, path: str, access: PathAccess, dynamic: bool = False, glob: bool = False
    ) -> None:
        _set_path(self, path)
        _set_access(self, access)
        _set_dynamic(self, dynamic)
        _set_glob(self, glob)

    @classmethod
    def model_construct(
        cls, *, path: str, access: PathAccess, dynamic: bool = False, glob: bool = False
    ) -> PathUse:
        """The constructor under the name program handlers written against the former
        pydantic model still call."""
        return cls(path, access, dynamic, glob)


def open_slots(cls: type) -> type:
    """A class of `cls`'s slots that sets them as plain attributes: an object is filled in
    as one, then made a `cls` (`obj.__class__ = cls`).

    Python lets an object change its class between two classes of the same slots. A
    frozen dataclass's slots set one descriptor call at a time (`slot_setters`) cost two
    to three times as much as attribute stores and that one class change, several times
    per command of every fresh call. The slots must be `cls`'s fields in order (checked
    here), so a field added to `cls` is a slot of this class too.
    """
    fields = tuple(getattr(cls, "__dataclass_fields__", ()))
    if getattr(cls, "__slots__", None) != fields:
        raise TypeError(f"{cls.__name__}'s slots are not its fields {fields} in order")
    return type(f"_Open{cls.__name__}", (), {"__slots__": fields})


_set_kind, _set_level, _set_detail = slot_setters(RiskFact, "kind", "level", "detail")
_set_path, _set_access, _set_dynamic, _set_glob = slot_setters(
    PathUse, "path", "access", "dynamic", "glob"
)
_OPEN_FACT = open_slots(RiskFact)


_C = RiskLevel.CRITICAL
_H = RiskLevel.HIGH
_M = RiskLevel.MEDIUM
_L = RiskLevel.LOW

FACTS: dict[str, FactInfo] = {
    kind: FactInfo(level=level, summary=summary)
    for kind, level, summary in (
        # Critical: the default policies deny these; no preset relaxes them.
        ("destructive_delete", _C, "deletes a broad or unknown target recursively (/, ~, ., *)"),
        ("disk_destruction", _C, "writes to, formats or wipes a disk device (dd, mkfs, shred)"),
        ("system_shutdown", _C, "shuts down or reboots the machine, or kills every process"),
        ("fork_bomb", _C, "defines a function that calls itself (fork bomb)"),
        ("privilege_escalation", _C, "runs as another user or gains privileges (sudo, su, setuid)"),
        ("force_push", _C, "rewrites or deletes remote git history (push --force, --delete)"),
        (
            "pipe_to_shell",
            _C,
            "runs code from a pipe, a download or a substitution (curl piped to sh)",
        ),
        ("decode_execute", _C, "runs decoded or obfuscated code (base64 -d piped to sh)"),
        ("reverse_shell", _C, "opens a shell or a raw connection (nc -e, /dev/tcp)"),
        ("sql_destruction", _C, "drops or truncates database tables or databases"),
        ("credential_access", _C, "reads or writes a credential file (.env, ~/.ssh, *.pem)"),
        ("secrets_read", _C, "reveals secrets from variables, keychains or credential managers"),
        ("env_dump", _C, "prints the whole environment (printenv, env, /proc/*/environ)"),
        ("persistence", _C, "installs something that runs later (crontab, at, systemctl enable)"),
        ("git_hooks", _C, "writes git hooks or git settings that run commands"),
        ("destructive_permissions", _C, "changes permissions or owners of a broad target"),
        ("system_admin", _C, "changes the system (mount, firewall, users, kernel modules)"),
        ("cloud_destruction", _C, "destroys cloud or cluster resources (terraform destroy)"),
        # High: the default policy asks a person.
        ("recursive_delete", _H, "deletes a directory tree inside the project"),
        ("file_delete", _H, "deletes files"),
        ("file_write", _H, "creates or changes files"),
        ("permission_change", _H, "changes file permissions or owners"),
        ("git_mutation", _H, "changes the git repository (commit, merge, branch, push...)"),
        ("git_discard", _H, "discards uncommitted work (reset --hard, clean -f, checkout .)"),
        ("network", _H, "uses the network (curl, ssh, git push, WebFetch)"),
        ("package_install", _H, "installs, removes or publishes packages"),
        ("inline_code", _H, "runs code given inline (python -c, node -e, a here-document)"),
        ("run_script", _H, "runs a script or program file whose content is not checked"),
        ("code_execution", _H, "runs a command named in an option or setting (rg --pre)"),
        ("process_control", _H, "signals or kills processes"),
        ("system_service", _H, "starts, stops or changes system services"),
        ("container", _H, "runs or changes containers or clusters (docker, kubectl)"),
        ("database", _H, "runs commands against a database"),
        ("env_change", _H, "changes how later programs are found or loaded (PATH, LD_PRELOAD)"),
        ("secret_env_use", _H, "passes a secret-looking variable to a program"),
        ("shell_state", _H, "changes the shell itself (alias, umask)"),
        ("mcp_tool", _H, "calls a tool of an MCP server"),
        ("unknown_tool", _H, "a tool Tether does not know"),
        ("dynamic_command", _H, "what runs is only known at run time ($CMD, eval $X)"),
        ("not_understood", _H, "the command could not be fully parsed"),
        (
            "unvetted",
            _H,
            "uses an option, subcommand, variable or feature its program's spec does not list",
        ),
        ("unresolved_path", _H, "names a path only known at run time"),
        ("plugin_ask", _H, "a plugin's program knowledge asks a person about this call"),
        (
            "tree_read",
            _H,
            "reads a whole tree holding a credential file or a link out of the project, "
            "or too large to check",
        ),
        # Low: everyday reading and bookkeeping.
        ("file_read", _L, "reads or lists files inside the project"),
        ("web_search", _L, "searches the web"),
        ("agent_internal", _L, "the agent's own bookkeeping (todo list, plan, sub-agents)"),
        ("skill", _M, "runs a skill or slash command of the agent"),
    )
}
"""Every fact kind, with its level and meaning."""

NEVER_AUTO_ALLOWED = frozenset(
    {
        "not_understood",
        "dynamic_command",
        "unresolved_path",
        "unknown_tool",
        "unvetted",
        "tree_read",
        "plugin_ask",
    }
)
"""Facts that keep a call from being allowed without a person, whatever a policy says:
what the analysis could not see, it cannot vouch for."""


_LEVELS = {kind: info.level for kind, info in FACTS.items()}
"""Each kind's level, read from `FACTS` once (a plain dict: no model attribute per fact)."""


def make_fact(kind: str, detail: str = "") -> RiskFact:
    """A fact of `kind` (a key of `FACTS`) at its catalogue level."""
    # The kind is checked against FACTS here (a KeyError for an unknown kind).
    level = _LEVELS[kind]
    # What `RiskFact(kind, level, detail)` makes, without the call through the class.
    fact: Any = _new(_OPEN_FACT)
    fact.kind = kind
    fact.level = level
    fact.detail = detail
    fact.__class__ = RiskFact
    return fact  # type: ignore[no-any-return]  # a RiskFact since the line above


_new = object.__new__
