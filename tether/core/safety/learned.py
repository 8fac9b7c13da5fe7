"""Learned rules: narrow, revocable approvals made from a person's "always".

When a person answers an approval with "always", the gate offers scopes derived
from the parsed call, narrowest first (`offer_scopes`):

- this exact command (or this tool on this exact path);
- this program and subcommand with any arguments, inside the approved
  directory (`npm install *`);
- this file tool on a path glob (`Edit on src/**`).

The person picks one and a lifetime: this chat (until /clear) or remembered.
A remembered rule is written, one JSON object per line, to the learned-rules
file outside every approved directory, with who granted it, when, and from
which approval. A rule applies only in the approved directory it was granted
in, only where the policy would ask (never to a deny, the floor, or what the
analysis could not see), and never to a whole tool.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tether.core.safety.classify import CallPart, Classification
from tether.core.safety.facts import NEVER_AUTO_ALLOWED
from tether.core.safety.patterns import path_glob_match
from tether.core.safety.tools import ToolKind
from tether.exceptions import ConfigError
from tether.log import get_logger

__all__ = [
    "MAX_LEARNED_RULES",
    "LearnedRule",
    "LearnedRuleStore",
    "LearnedRules",
    "Lifetime",
    "ScopeKind",
    "ScopeOffer",
    "offer_scopes",
]

logger = get_logger(__name__)

MAX_LEARNED_RULES = 500
"""The most rules the learned-rules file may hold (each call checks them all)."""

_MAX_FILE_BYTES = 1_000_000
_FILE_TOOLS = frozenset({"Write", "Edit", "MultiEdit", "NotebookEdit", "Read", "NotebookRead"})


class ScopeKind(StrEnum):
    EXACT = "exact"
    PROGRAM = "program"
    PATH = "path"


class Lifetime(StrEnum):
    CHAT = "chat"
    """Until /clear in the chat it was granted in (kept in memory)."""
    REMEMBERED = "remembered"
    """Kept in the learned-rules file, for the approved directory it was granted in."""


class ScopeOffer(BaseModel):
    """One scope a person may choose for "always": what it covers, in words and as a rule."""

    model_config = ConfigDict(frozen=True)

    kind: ScopeKind
    label: str
    tool: str
    command: str | None = None
    program: str | None = None
    subcommand: tuple[str, ...] = ()
    path_glob: str | None = None
    directory: str


class LearnedRule(BaseModel):
    """A granted scope, with its provenance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=32)
    kind: ScopeKind
    label: str = Field(max_length=400)
    tool: str = Field(min_length=1, max_length=200)
    command: str | None = Field(default=None, max_length=4096)
    program: str | None = Field(default=None, max_length=200)
    subcommand: tuple[str, ...] = ()
    path_glob: str | None = Field(default=None, max_length=1000)
    directory: str = Field(min_length=1)
    lifetime: Lifetime
    chat_id: str | None = None
    granted_by: str
    granted_at: str
    approval_id: str
    uses: int = Field(default=0, ge=0)

    def covers_call(self, classification: Classification) -> bool:
        """An exact rule: the same tool and the same whole command (or path)."""
        if self.kind is not ScopeKind.EXACT or classification.tool_name != self.tool:
            return False
        if classification.kind is ToolKind.SHELL:
            return classification.command == self.command
        return bool(classification.parts) and all(
            _resolved_equal(part, self.command) for part in classification.parts
        )

    def covers_part(self, tool_name: str, part: CallPart) -> bool:
        """A program or path rule: this part, inside the rule's directory."""
        if tool_name != self.tool or part.fact_kinds & NEVER_AUTO_ALLOWED:
            return False
        inside = all(_inside(path, self.directory) for path in part.resolved)
        if self.kind is ScopeKind.PROGRAM:
            return (
                not part.opaque
                and inside
                and part.program == self.program
                and part.subcommand[: len(self.subcommand)] == self.subcommand
            )
        if self.kind is ScopeKind.PATH and self.path_glob is not None and part.resolved:
            glob = f"/{self.directory.strip('/')}/{self.path_glob}"
            return inside and all(path_glob_match(glob, path) for path in part.resolved)
        return False


def offer_scopes(
    classification: Classification, asking: Sequence[CallPart], directory: str
) -> tuple[ScopeOffer, ...]:
    """The scopes "always" may grant for a call whose `asking` parts need approval.

    Empty when nothing may be learned (what the analysis could not see).
    """
    tool = classification.tool_name
    if any(part.fact_kinds & NEVER_AUTO_ALLOWED for part in asking) or not asking:
        return ()
    if classification.facts:
        return ()
    offers: list[ScopeOffer] = []
    if classification.kind is ToolKind.SHELL and classification.command:
        command = classification.command
        shown = command if len(command) <= 80 else command[:79] + "…"
        offers.append(
            ScopeOffer(
                kind=ScopeKind.EXACT,
                label=f"exactly `{shown}`",
                tool=tool,
                command=command,
                directory=directory,
            )
        )
        first = asking[0]
        if first.program and not first.opaque:
            sub = _scope_words(first.subcommand)
            words = " ".join((first.program, *sub))
            offers.append(
                ScopeOffer(
                    kind=ScopeKind.PROGRAM,
                    label=f"`{words} *` in {directory}",
                    tool=tool,
                    program=first.program,
                    subcommand=sub,
                    directory=directory,
                )
            )
        return tuple(offers)
    part = asking[0]
    if not part.resolved:
        return ()
    target = part.resolved[0]
    offers.append(
        ScopeOffer(
            kind=ScopeKind.EXACT,
            label=f"{tool} on {target}",
            tool=tool,
            command=target,
            directory=directory,
        )
    )
    if tool in _FILE_TOOLS and _inside(target, directory):
        relative = os.path.relpath(Path(target).parent, directory)
        if relative != ".":
            glob = f"{relative}/**"
            offers.append(
                ScopeOffer(
                    kind=ScopeKind.PATH,
                    label=f"{tool} on {glob} in {directory}",
                    tool=tool,
                    path_glob=glob,
                    directory=directory,
                )
            )
    return tuple(offers)


class LearnedRuleStore:
    """The learned-rules file: one JSON object per line, written atomically.

    Args:
        path: the file (in Tether's state directory by default).
    """

    def __init__(self, path: Path) -> None:
        self._path = path.expanduser()

    @property
    def path(self) -> Path:
        return self._path

    def load(self) -> list[LearnedRule]:
        """The remembered rules; none when the file does not exist.

        Raises:
            ConfigError: the file is unreadable or malformed (names file and line).
        """
        try:
            if not self._path.exists():
                return []
            if self._path.stat().st_size > _MAX_FILE_BYTES:
                raise ConfigError(
                    f"{self._path}: the learned-rules file is larger than "
                    f"{_MAX_FILE_BYTES:,} bytes; revoke rules with `tether rules revoke`"
                )
            text = self._path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(
                f"{self._path}: the learned-rules file cannot be read ({error}); fix or delete it"
            ) from error
        rules: list[LearnedRule] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rules.append(LearnedRule.model_validate_json(line))
            except ValidationError as error:
                problem = error.errors(include_url=False)[0]
                where = ".".join(str(p) for p in problem.get("loc", ())) or "entry"
                message = str(problem.get("msg", "invalid"))
                raise ConfigError(
                    f"{self._path}:{number}: not a learned rule ({where}: {message}); fix the "
                    "line, or delete it to forget the rule"
                ) from None
            if len(rules) > MAX_LEARNED_RULES:
                raise ConfigError(
                    f"{self._path}:{number}: more than {MAX_LEARNED_RULES} learned rules; "
                    "revoke some with `tether rules revoke`"
                )
        if len({rule.id for rule in rules}) != len(rules):
            raise ConfigError(f"{self._path}: two learned rules share an id; delete one")
        return rules

    def save(self, rules: Sequence[LearnedRule]) -> None:
        """Write `rules` (replacing the file). Raises OSError when it cannot be written."""
        self._path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._path.with_name(f".{self._path.name}.{secrets.token_hex(4)}")
        body = "".join(rule.model_dump_json() + "\n" for rule in rules)
        try:
            with open(temporary, "w", encoding="utf-8") as stream:
                stream.write(body)
                stream.flush()
                os.fsync(stream.fileno())
            temporary.replace(self._path)
        finally:
            temporary.unlink(missing_ok=True)


class LearnedRules:
    """Every learned rule in force: remembered ones (from the file) and chat ones.

    Args:
        store: the learned-rules file; None keeps rules for the chat only.
    """

    def __init__(self, store: LearnedRuleStore | None = None) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._rules: list[LearnedRule] = store.load() if store is not None else []
        self._index: dict[tuple[str, str], _Bucket] = {}
        self._tools: frozenset[str] = frozenset()
        self._reindex()

    @property
    def store(self) -> LearnedRuleStore | None:
        return self._store

    def rules(self, chat_id: str | None = None) -> tuple[LearnedRule, ...]:
        """The rules that apply in `chat_id` (remembered ones and the chat's own), or all."""
        return tuple(
            rule
            for rule in self._rules
            if chat_id is None or rule.lifetime is Lifetime.REMEMBERED or rule.chat_id == chat_id
        )

    def grant(
        self,
        offer: ScopeOffer,
        lifetime: Lifetime,
        *,
        chat_id: str,
        granted_by: str,
        approval_id: str,
    ) -> tuple[LearnedRule, str | None]:
        """Add a rule from `offer`; returns it and a warning when it could not be remembered."""
        rule = LearnedRule(
            id=secrets.token_hex(4),
            kind=offer.kind,
            label=offer.label,
            tool=offer.tool,
            command=offer.command,
            program=offer.program,
            subcommand=offer.subcommand,
            path_glob=offer.path_glob,
            directory=offer.directory,
            lifetime=lifetime,
            chat_id=chat_id,
            granted_by=granted_by,
            granted_at=datetime.now(UTC).isoformat(timespec="seconds"),
            approval_id=approval_id,
        )
        warning = None
        with self._lock:
            if len(self._rules) >= MAX_LEARNED_RULES:
                raise ConfigError(
                    f"there are already {MAX_LEARNED_RULES} learned rules; revoke some first"
                )
            self._rules.append(rule)
            if lifetime is Lifetime.REMEMBERED:
                warning = self._persist()
                if warning is not None:
                    self._rules[-1] = rule = rule.model_copy(update={"lifetime": Lifetime.CHAT})
            self._reindex()
        return rule, warning

    def revoke(self, rule_ids: Sequence[str]) -> tuple[LearnedRule, ...]:
        """Remove the rules with these ids; returns those removed."""
        with self._lock:
            removed = tuple(rule for rule in self._rules if rule.id in rule_ids)
            self._rules = [rule for rule in self._rules if rule.id not in rule_ids]
            if any(rule.lifetime is Lifetime.REMEMBERED for rule in removed):
                self._persist()
            self._reindex()
        return removed

    def forget_chat(self, chat_id: str) -> int:
        """Drop the chat-lifetime rules of `chat_id` (on /clear); returns how many."""
        with self._lock:
            before = len(self._rules)
            self._rules = [
                rule
                for rule in self._rules
                if rule.lifetime is Lifetime.REMEMBERED or rule.chat_id != chat_id
            ]
            self._reindex()
            return before - len(self._rules)

    def may_cover(self, tool_name: str) -> bool:
        """Whether a rule of `tool_name` exists, in any directory or chat: without one,
        `covering` finds nothing for its calls, and the gate does not look (nor
        resolve the directory it would look in)."""
        return tool_name in self._tools

    def covering(
        self,
        classification: Classification,
        asking: Sequence[tuple[int, CallPart]],
        *,
        chat_id: str,
        directory: str | None,
    ) -> tuple[LearnedRule, ...] | None:
        """The rules that together cover every asking part, or None when one is not covered."""
        if directory is None:
            return None
        bucket = self._index.get((directory, classification.tool_name))
        if bucket is None:
            return None
        for exact in bucket.exact.get(_exact_key(classification), ()):
            if _applies(exact, chat_id) and exact.covers_call(classification):
                return (exact,)
        used: list[LearnedRule] = []
        for _, part in asking:
            candidates = bucket.programs.get(part.program or "", ()) or bucket.others
            rule = next(
                (
                    r
                    for r in candidates
                    if r.kind is not ScopeKind.EXACT
                    and _applies(r, chat_id)
                    and r.covers_part(classification.tool_name, part)
                ),
                None,
            )
            if rule is None:
                return None
            if rule not in used:
                used.append(rule)
        return tuple(used)

    def _reindex(self) -> None:
        """Rules by (directory, tool), then by command or program: a call looks at few."""
        index: dict[tuple[str, str], _Bucket] = {}
        for rule in self._rules:
            bucket = index.setdefault((rule.directory, rule.tool), _Bucket())
            if rule.kind is ScopeKind.EXACT and rule.command is not None:
                bucket.exact.setdefault(rule.command, []).append(rule)
            elif rule.kind is ScopeKind.PROGRAM and rule.program is not None:
                bucket.programs.setdefault(rule.program, []).append(rule)
            else:
                bucket.others.append(rule)
        self._index = index
        self._tools = frozenset(tool for _, tool in index)

    def record_use(self, rules: Sequence[LearnedRule]) -> None:
        """Count a use of each rule (kept in the file for remembered rules, best effort)."""
        ids = {rule.id for rule in rules}
        with self._lock:
            self._rules = [
                rule.model_copy(update={"uses": rule.uses + 1}) if rule.id in ids else rule
                for rule in self._rules
            ]
            if any(rule.lifetime is Lifetime.REMEMBERED for rule in rules):
                self._persist()
            self._reindex()

    def _persist(self) -> str | None:
        if self._store is None:
            return "no learned-rules file is configured"
        try:
            self._store.save([r for r in self._rules if r.lifetime is Lifetime.REMEMBERED])
        except OSError as error:
            logger.error("learned_rules_not_saved", path=str(self._store.path), error=str(error))
            return f"the learned-rules file {self._store.path} cannot be written ({error.strerror})"
        return None


class _Bucket:
    """The learned rules of one directory and tool, looked up by what a call names."""

    __slots__ = ("exact", "others", "programs")

    def __init__(self) -> None:
        self.exact: dict[str, list[LearnedRule]] = {}
        self.programs: dict[str, list[LearnedRule]] = {}
        self.others: list[LearnedRule] = []


def _exact_key(classification: Classification) -> str:
    if classification.kind is ToolKind.SHELL:
        return classification.command or ""
    parts = classification.parts
    return parts[0].resolved[0] if parts and parts[0].resolved else ""


def _applies(rule: LearnedRule, chat_id: str) -> bool:
    return rule.lifetime is Lifetime.REMEMBERED or rule.chat_id == chat_id


def _inside(path: str, directory: str) -> bool:
    directory = directory.rstrip("/") or "/"
    return path == directory or path.startswith(directory + "/")


def _resolved_equal(part: CallPart, target: str | None) -> bool:
    return target is not None and bool(part.resolved) and all(p == target for p in part.resolved)


def _is_word(words: tuple[str, ...]) -> bool:
    return all(word and not any(c in word for c in "*?[/=") for word in words)


# A first operand that groups subcommands: the second one is part of the scope
# (`docker compose up *`, `npm run build *`), not an argument.
_GROUPS = frozenset(
    {"compose", "run", "container", "image", "pip", "exec", "workspace", "stash", "submodule",
     "worktree", "remote", "x", "tool", "cache", "network", "volume", "system"}
)  # fmt: skip


def _scope_words(subcommand: tuple[str, ...]) -> tuple[str, ...]:
    words = [w for w in subcommand[:2] if _is_word((w,)) and not w.startswith("-")]
    if not words:
        return ()
    if words[0] in _GROUPS and len(words) > 1 and subcommand[:2] == tuple(words):
        return tuple(words)
    return (words[0],) if subcommand[:1] == (words[0],) else ()
