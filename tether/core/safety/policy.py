"""PolicyEngine: YAML rules decide allow, deny or require_approval for each part of a call.

Evaluation (docs/policies.md has the full story):

- Each part of a call (each simple command of a Bash call; the whole call for
  other tools) is judged by every policy file: within a file, the first rule
  that matches wins; a file where no rule matches abstains.
- Files combine by strictness: deny beats require_approval beats allow. A
  later file (an overlay such as dev-tools) can therefore fill gaps and
  tighten, but never relax a decision an earlier file made. When every file
  abstains, the default action applies (the last file that sets one).
- The floor (`floor.py`) comes first: a part with a critical fact is denied,
  whatever any file says.
- Layers above the base (files that `extends:` a preset, the user's file) are
  applied in order after it: each layer's first matching rule may tighten
  anything, and may relax an ask to allow when the part is one the analysis
  vouches for. Nothing relaxes a deny.
- What the analysis could not see (`NEVER_AUTO_ALLOWED`: not understood,
  dynamic commands, unresolved paths, unknown tools) is never allowed without
  a person, whatever the rules say: it is raised to require_approval.
- A call is denied if any part is denied, allowed only if every part is
  allowed, and otherwise needs approval.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
import shlex
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from operator import attrgetter
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tether.core.safety.built import built
from tether.core.safety.classify import KIND_FACTS, CallPart, Classification, Classifier
from tether.core.safety.facts import FACTS, NEVER_AUTO_ALLOWED, RiskFact, RiskLevel
from tether.core.safety.floor import FLOOR_FACTS, FLOOR_LAYER, FLOOR_RULE
from tether.core.safety.patterns import (
    REGEX_TEXT_LIMIT,
    CommandGlob,
    PathGlob,
    command_glob_problem,
    path_glob_problem,
    regex_problem,
)
from tether.core.safety.tools import TOOLS, ToolKind, classification_key

__all__ = [
    "Action",
    "CallPart",
    "Classification",
    "PartDecision",
    "Policy",
    "PolicyDecision",
    "PolicyEngine",
    "PolicyRule",
    "PolicySettings",
    "RuleExamples",
    "RuleIndex",
]


class Action(StrEnum):
    """What a policy decides. In YAML, `ask` is accepted for require_approval."""

    ALLOW = "allow"
    DENY = "deny"
    REQUIRE_APPROVAL = "require_approval"

    @property
    def strictness(self) -> int:
        return _STRICTNESS[self]

    @classmethod
    def parse(cls, value: Any) -> Action:
        if isinstance(value, cls):
            return value
        text = str(value).strip().lower().replace("-", "_")
        if text in {"ask", "approve", "approval", "require_approval"}:
            return cls.REQUIRE_APPROVAL
        return cls(text)


_STRICTNESS = {Action.ALLOW: 0, Action.REQUIRE_APPROVAL: 1, Action.DENY: 2}
_NO_KINDS: frozenset[str] = frozenset()
# The actions as plain names: on Python 3.11 `Action.DENY` goes through the enum
# class's `__getattr__` hook, a cost on every part of every call.
_ALLOW, _DENY, _REQUIRE_APPROVAL = Action.ALLOW, Action.DENY, Action.REQUIRE_APPROVAL


def _action(value: Any) -> Action:
    try:
        return Action.parse(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not an action; use allow, deny or ask (require_approval)"
        ) from None


class PolicySettings(BaseModel):
    """A file's settings; unset values come from earlier files or the defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default_action: Action | None = None
    approval_timeout_seconds: float | None = Field(default=None, gt=0, le=86_400)

    @field_validator("default_action", mode="before")
    @classmethod
    def _parse_action(cls, value: Any) -> Any:
        return None if value is None else _action(value)


class RuleExamples(BaseModel):
    """Calls a rule is meant to decide: checked by `tether policy test` and at start-up.

    Each item is a shell command (for Bash) or a mapping `{tool: NAME, input: {...}}`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    allow: tuple[str | dict[str, Any], ...] = ()
    ask: tuple[str | dict[str, Any], ...] = ()
    deny: tuple[str | dict[str, Any], ...] = ()

    def items(self) -> tuple[tuple[Action, str | dict[str, Any]], ...]:
        return (
            *((Action.ALLOW, item) for item in self.allow),
            *((Action.REQUIRE_APPROVAL, item) for item in self.ask),
            *((Action.DENY, item) for item in self.deny),
        )


class PolicyRule(BaseModel):
    """One rule: what it matches (every key given must match) and what it decides."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    description: str = ""
    action: Action
    reason: str = ""
    risk_level: RiskLevel | None = None
    tools: tuple[str, ...] = ()
    """Tool names or globs (`Bash`, `mcp__*`)."""
    programs: tuple[str, ...] = ()
    """Programs of shell commands, after wrappers (`pytest`, `git`); globs allowed."""
    subcommands: tuple[str, ...] = ()
    """Leading operands after the program (`status`, `run test`); needs `programs`."""
    commands: tuple[str, ...] = ()
    """Globs of whole simple commands (`npm run *`, `docker compose up`), word by word."""
    command_patterns: tuple[str, ...] = ()
    """Regular expressions searched in the normalised command (or the tool's main argument)."""
    path_patterns: tuple[str, ...] = ()
    """Globs matched against every path the call names, as given and resolved."""
    risk_facts: tuple[str, ...] = ()
    """Fact kinds (`recursive_delete`, `network`...); any one of them matches."""
    min_risk_level: RiskLevel | None = None
    """Matches parts whose highest fact is at least this level."""
    examples: RuleExamples | None = None
    line: int = Field(default=0, exclude=True)
    """The rule's line in its file (set by the loader; 0 when built in code)."""

    @field_validator("action", mode="before")
    @classmethod
    def _parse_action(cls, value: Any) -> Any:
        return _action(value)

    @field_validator(
        "tools",
        "programs",
        "subcommands",
        "commands",
        "command_patterns",
        "path_patterns",
        "risk_facts",
        mode="before",
    )
    @classmethod
    def _listify(cls, value: Any) -> Any:
        if isinstance(value, str):
            return (value,)
        return value

    @field_validator("risk_facts")
    @classmethod
    def _known_facts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [kind for kind in value if kind not in FACTS]
        if unknown:
            raise ValueError(
                f"unknown risk fact {unknown[0]!r}; known facts: {', '.join(sorted(FACTS))}"
            )
        return value

    @field_validator("command_patterns")
    @classmethod
    def _valid_patterns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            problem = regex_problem(pattern)
            if problem is not None:
                raise ValueError(f"command pattern {pattern!r} is refused: {problem}")
        return value

    @field_validator("commands")
    @classmethod
    def _valid_commands(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            problem = command_glob_problem(pattern)
            if problem is not None:
                raise ValueError(f"command {pattern!r} is refused: {problem}")
        return value

    @field_validator("path_patterns")
    @classmethod
    def _valid_paths(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            problem = path_glob_problem(pattern)
            if problem is not None:
                raise ValueError(f"path pattern {pattern!r} is refused: {problem}")
        return value

    @model_validator(mode="after")
    def _has_a_matcher(self) -> PolicyRule:
        matchers = (
            self.tools,
            self.programs,
            self.commands,
            self.command_patterns,
            self.path_patterns,
            self.risk_facts,
        )
        if self.subcommands and not self.programs:
            raise ValueError("subcommands need programs (e.g. programs: [git])")
        if not any(matchers) and self.min_risk_level is None:
            raise ValueError(
                "the rule matches nothing in particular (give tools, programs, commands, "
                "command_patterns, path_patterns, risk_facts or min_risk_level); "
                "use settings.default_action for a catch-all"
            )
        return self

    def matches(self, tool_name: str, part: CallPart) -> bool:
        """Whether every condition of the rule holds for `part` of a call to `tool_name`."""
        return _Matcher.of(self).matches(tool_name, part, part.fact_kinds, part.risk_level.rank)


@dataclass(frozen=True, slots=True)
class _Matcher:
    """A rule compiled for matching: sets and compiled patterns, plain attributes.

    Pydantic models reach private attributes through `__getattr__`; on the
    gate's hot path (every rule, every part, every call) that cost dominated,
    so the engine matches with these instead. Globs are compiled once here:
    matching them is a regex match, the same test `fnmatch.fnmatchcase` makes.
    """

    rule: PolicyRule
    action: Action
    name: str
    line: int
    allows: bool
    strictness: int
    tools: frozenset[str]
    tool_globs: tuple[Callable[[str], object], ...]
    programs: frozenset[str]
    program_globs: tuple[Callable[[str], object], ...]
    subcommands: tuple[tuple[str, ...], ...]
    first_words: frozenset[str]
    """The one-word subcommands: a set lookup for the common case."""
    longer: tuple[tuple[str, ...], ...]
    """The other subcommands (several words, or none), compared as prefixes."""
    commands: tuple[CommandGlob, ...]
    patterns: tuple[re.Pattern[str], ...]
    paths: tuple[PathGlob, ...]
    facts: frozenset[str]
    min_rank: int | None
    reason_head: str
    """What a reason for this rule starts with, before the call's subject."""
    reason_tail: str
    """What an allow's reason ends with, after the subject."""

    @classmethod
    def of(cls, rule: PolicyRule) -> _Matcher:
        programs = [p.lower() for p in rule.programs]
        subcommands = tuple(tuple(_split_words(s)) for s in rule.subcommands)
        return cls(
            rule=rule,
            action=rule.action,
            name=rule.name,
            line=rule.line,
            allows=rule.action is Action.ALLOW,
            strictness=_STRICTNESS[rule.action],
            tools=frozenset(t for t in rule.tools if not _is_glob(t)),
            tool_globs=tuple(_glob_matcher(t) for t in rule.tools if _is_glob(t)),
            programs=frozenset(p for p in programs if not _is_glob(p)),
            program_globs=tuple(_glob_matcher(p) for p in programs if _is_glob(p)),
            subcommands=subcommands,
            first_words=frozenset(s[0] for s in subcommands if len(s) == 1),
            longer=tuple(s for s in subcommands if len(s) != 1),
            commands=tuple(CommandGlob(c) for c in rule.commands),
            patterns=tuple(re.compile(p) for p in rule.command_patterns),
            paths=tuple(PathGlob(p) for p in rule.path_patterns),
            facts=frozenset(rule.risk_facts),
            min_rank=rule.min_risk_level.rank if rule.min_risk_level is not None else None,
            # The reason's words that depend on the rule alone, made once.
            reason_head=f"{rule.reason or rule.description or f'rule {rule.name!r}'} "
            f"[{rule.name}]: ",
            reason_tail=f": allowed by rule {rule.name!r}",
        )

    def reason(self, tool_name: str, part: CallPart) -> str:
        """Why this rule decides `part` of a call to `tool_name` as it does."""
        if self.allows:
            return f"{_subject(tool_name, part)}{self.reason_tail}"
        wanted = self.facts
        matched = next((f for f in part.facts if f.kind in wanted), None) if wanted else None
        detail = f" — {matched.detail}" if matched is not None and matched.detail else ""
        return f"{self.reason_head}{_subject(tool_name, part)}{detail}"

    def matches(self, tool_name: str, part: CallPart, kinds: frozenset[str], rank: int) -> bool:
        if (self.tools or self.tool_globs) and not (
            tool_name in self.tools or any(g(tool_name) for g in self.tool_globs)
        ):
            return False
        if self.programs or self.program_globs:
            program = part.program
            if program is None or not (
                program in self.programs or any(g(program) for g in self.program_globs)
            ):
                return False
        if self.subcommands:
            # Any subcommand a prefix of the part's: one word, a set lookup; else compared.
            words = part.subcommand
            if not (words and words[0] in self.first_words):
                for longer in self.longer:
                    if words[: len(longer)] == longer:
                        break
                else:
                    return False
        if self.facts and self.facts.isdisjoint(kinds):
            return False
        if self.min_rank is not None and rank < self.min_rank:
            return False
        if self.commands and not self._matches_command(part):
            return False
        if self.patterns and not self._matches_pattern(part.text):
            return False
        return not self.paths or self._matches_path(part)

    def plain_entry(
        self, tool_name: str, program: str | None, kinds: frozenset[str] = _NO_KINDS, rank: int = 0
    ) -> _Entry | None:
        """This rule for a part of `tool_name` running `program` with the fact kinds
        `kinds` and the risk rank `rank` (no facts, rank 0: a plain part), or None.

        None when the rule cannot match such a part whatever its words: a tool or
        program it does not name, fact kinds it needs (the part has none of them), a
        risk level above the part's. Otherwise the entry holds what is left to test,
        only the part's words and paths (`_Residual`), or None when nothing is: the
        rule matches every such part. The conditions decided here are `matches`'s own
        tests with the tool, the program, the kinds and the rank put in.
        """
        if (self.tools or self.tool_globs) and not (
            tool_name in self.tools or any(g(tool_name) for g in self.tool_globs)
        ):
            return None
        if (self.programs or self.program_globs) and (
            program is None
            or not (program in self.programs or any(g(program) for g in self.program_globs))
        ):
            return None
        if self.facts and self.facts.isdisjoint(kinds):
            return None
        if self.min_rank is not None and rank < self.min_rank:
            return None
        if not (self.subcommands or self.commands or self.patterns or self.paths):
            return (None, self)
        return (_residual(self), self)

    def _matches_command(self, part: CallPart) -> bool:
        if part.program is None:
            return False
        if part.opaque and self.allows:
            # A wildcard vouches only for words the analysis understood.
            return False
        words = (part.program, *part.args)
        return any(pattern.match(words) for pattern in self.commands)

    def _matches_pattern(self, text: str) -> bool:
        if len(text) > REGEX_TEXT_LIMIT:
            # Too long to search in bounded time: fail closed (a deny or ask rule
            # holds, an allow rule does not).
            return not self.allows
        return any(p.search(text) for p in self.patterns)

    def _matches_path(self, part: CallPart) -> bool:
        candidates = [posixpath.normpath(use.path) for use in part.paths if use.path]
        candidates.extend(part.resolved)
        return any(p.match(c) for p in self.paths for c in candidates)


def _residual(matcher: _Matcher) -> _Residual:
    """What is left of `matcher`'s test once the tool and program are known: words and paths.

    `_Matcher.matches` with its tool, program, fact and level tests taken as passed
    (`plain_entry` decided them). A rule naming one-word subcommands and nothing
    else (most rules that are left with a test) gets a test of just that.
    """
    first, longer = matcher.first_words, matcher.longer
    if not (matcher.commands or matcher.patterns or matcher.paths or longer):

        def subcommand(part: CallPart) -> bool:
            words = part.subcommand
            return bool(words) and words[0] in first

        return subcommand

    subs = bool(matcher.subcommands)
    commands, patterns, paths = bool(matcher.commands), bool(matcher.patterns), bool(matcher.paths)

    def residual(part: CallPart) -> bool:
        if subs:
            words = part.subcommand
            if not (words and words[0] in first):
                for prefix in longer:
                    if words[: len(prefix)] == prefix:
                        break
                else:
                    return False
        if commands and not matcher._matches_command(part):
            return False
        if patterns and not matcher._matches_pattern(part.text):
            return False
        return not paths or matcher._matches_path(part)

    return residual


_Residual = Callable[[CallPart], bool]
_Entry = tuple[_Residual | None, _Matcher]
"""A rule as a plain part meets it: what is left to test (None: nothing), and the rule."""


class RuleIndex:
    """One file's rules, compiled, and indexed by what each one can match.

    A rule naming only literal programs can match only a part running one of
    them; one naming fact kinds only a part carrying one; one naming only
    literal tools only a call to one. Each rule is filed under one of those
    keys (the first that applies, in that order), or else among the rules
    that every part must try. A part's candidates are the union of its keys'
    rules, tried in file order: every rule left out could not have matched,
    so the first candidate that matches is the file's first match, exactly
    as a scan of every rule finds it (`Policy.first_match`, the reference the
    tests compare it with). Rules are bits of an int: the union is an `|`,
    and taking the lowest bit first keeps file order.

    Args:
        rules: the file's rules, in order.
    """

    __slots__ = ("_always", "_by_fact", "_by_program", "_by_tool", "_matchers")

    def __init__(self, rules: Sequence[PolicyRule]) -> None:
        self._matchers = tuple(_Matcher.of(rule) for rule in rules)
        self._always = 0
        self._by_program: dict[str, int] = {}
        self._by_fact: dict[str, int] = {}
        self._by_tool: dict[str, int] = {}
        for position, matcher in enumerate(self._matchers):
            bit = 1 << position
            if matcher.programs and not matcher.program_globs:
                keys, index = matcher.programs, self._by_program
            elif matcher.facts:
                keys, index = matcher.facts, self._by_fact
            elif matcher.tools and not matcher.tool_globs:
                keys, index = matcher.tools, self._by_tool
            else:
                self._always |= bit
                continue
            for key in keys:
                index[key] = index.get(key, 0) | bit

    def plain(self, tool_name: str, program: str) -> tuple[_Entry, ...]:
        """The rules a part of `tool_name` running `program`, with no facts, can meet, in order.

        Only the candidates `first_matcher` would try for such a part, less those
        `plain_entry` rules out; the list ends at the first rule left with nothing
        to test, since it matches every such part and no later rule is reached.
        """
        return self.entries(tool_name, program, _NO_KINDS, 0)

    def entries(
        self, tool_name: str, program: str | None, kinds: frozenset[str], rank: int
    ) -> tuple[_Entry, ...]:
        """`plain` for a part with the fact kinds `kinds` and the risk rank `rank`."""
        candidates = self._always | self._by_tool.get(tool_name, 0)
        if program is not None:
            candidates |= self._by_program.get(program, 0)
        for kind in kinds:
            candidates |= self._by_fact.get(kind, 0)
        entries: list[_Entry] = []
        while candidates:
            lowest = candidates & -candidates
            matcher = self._matchers[lowest.bit_length() - 1]
            entry = matcher.plain_entry(tool_name, program, kinds, rank)
            candidates ^= lowest
            if entry is not None:
                entries.append(entry)
                if entry[0] is None:
                    break
        return tuple(entries)

    def programs(self) -> frozenset[str]:
        """The programs the file's rules name literally."""
        return frozenset(self._by_program)

    def first_match(
        self,
        tool_name: str,
        part: CallPart,
        kinds: frozenset[str] | None = None,
        rank: int | None = None,
    ) -> PolicyRule | None:
        """The first rule matching `part` of a call to `tool_name`, or None.

        `kinds` and `rank` are the part's fact kinds and risk rank, when the
        caller has them already.
        """
        if kinds is None:
            kinds = part.fact_kinds
        if rank is None:
            rank = part.risk_level.rank
        matcher = self.first_matcher(tool_name, part, kinds, rank)
        return None if matcher is None else matcher.rule

    def first_matcher(
        self, tool_name: str, part: CallPart, kinds: frozenset[str], rank: int
    ) -> _Matcher | None:
        """`first_match`, as the compiled rule (the engine words reasons with it)."""
        candidates = self._always
        if self._by_tool:
            candidates |= self._by_tool.get(tool_name, 0)
        if part.program is not None:
            candidates |= self._by_program.get(part.program, 0)
        by_fact = self._by_fact
        for kind in kinds:
            candidates |= by_fact.get(kind, 0)
        matchers = self._matchers
        while candidates:
            lowest = candidates & -candidates
            matcher = matchers[lowest.bit_length() - 1]
            if matcher.matches(tool_name, part, kinds, rank):
                return matcher
            candidates ^= lowest
        return None


def _glob_matcher(pattern: str) -> Callable[[str], object]:
    """`pattern` compiled: its match is truthy exactly when `fnmatchcase` is true."""
    return re.compile(fnmatch.translate(pattern)).match


def _is_glob(text: str) -> bool:
    """Whether `text` matches anything but itself as a glob (`[` alone, unclosed, is literal).

    `fnmatch` reads an unclosed `[` as the character itself: when its regex is the
    escaped text, the pattern matches exactly the text, and a set lookup is the
    same test (it lets a program like `[` be indexed by name).
    """
    if "*" not in text and "?" not in text and "[" not in text:
        return False
    return fnmatch.translate(text) != f"(?s:{re.escape(text)})\\Z"


def _split_words(text: str) -> list[str]:
    if text.isascii() and text.isprintable() and not _QUOTING.intersection(text):
        # Printable ASCII without quotes or backslashes: shlex splits it at its spaces
        # and nothing else, as `str.split` does (most subcommands: `status`, `run test`).
        return text.split()
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


_QUOTING = frozenset("'\"\\")
"""What `shlex` reads as more than a word character or a space: quotes and the escape."""


class Policy(BaseModel):
    """One policy file: its settings and ordered rules."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = 1
    name: str = Field(min_length=1)
    description: str = ""
    settings: PolicySettings = PolicySettings()
    rules: tuple[PolicyRule, ...] = ()
    extends: str | None = None
    """A preset name or a path: this file is a layer above that base (it may relax asks)."""
    source: str = ""
    """Where the policy came from (a preset name or a file path)."""
    layer: str = "base"
    """Which layer the file is in: base, extends or user (set by the loader)."""

    @field_validator("version")
    @classmethod
    def _supported_version(cls, value: int) -> int:
        if value != 1:
            raise ValueError(f"version {value} is not supported; this Tether reads version 1")
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> Policy:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ValueError(f"two rules are named {rule.name!r}; rule names must be unique")
            seen.add(rule.name)
        return self

    def first_match(self, tool_name: str, part: CallPart) -> PolicyRule | None:
        """The first rule matching `part`, or None (this file abstains).

        A plain scan of every rule: the engine matches through a `RuleIndex`,
        which the tests hold to this scan's answer.
        """
        kinds, rank = part.fact_kinds, part.risk_level.rank
        for rule in self.rules:
            if _Matcher.of(rule).matches(tool_name, part, kinds, rank):
                return rule
        return None


class PartDecision(BaseModel):
    """The decision for one part, and the rule (and file) that made it."""

    model_config = ConfigDict(frozen=True)

    text: str
    action: Action
    rule: str | None = None
    policy: str | None = None
    reason: str = ""
    facts: tuple[str, ...] = ()
    line: int = 0
    """The deciding rule's line in its file (0: built in, or no rule)."""


class PolicyDecision(BaseModel):
    """The policy's decision for a whole call."""

    model_config = ConfigDict(frozen=True)

    action: Action
    rule: str | None = None
    """The rule behind the decision (the first deny, the first ask, or an allow)."""
    policy: str | None = None
    reason: str
    risk_level: RiskLevel = RiskLevel.NONE
    parts: tuple[PartDecision, ...] = ()


_PART_FIELDS = frozenset(PartDecision.model_fields)
_DECISION_FIELDS = frozenset(PolicyDecision.model_fields)
"""Every field of each decision: the engine gives them all, so validation would count
all of them as set (`built` copies the set from this one instead of from the values)."""


class _AllowedBy(dict[str, str]):
    """The reason of a call that one rule allowed, by the rule's name: each engine words
    its rules' reasons once, at construction, and any other name when it is asked for."""

    def __missing__(self, rule: str) -> str:
        return f"allowed by rule {rule!r}"


class _Quoted(dict[str, str]):
    """Each rule's name as `_rule_list` quotes it (`repr`), worded once per engine, and
    any other name when it is asked for."""

    def __missing__(self, rule: str) -> str:
        return repr(rule)


_DEFAULT_ACTION = Action.REQUIRE_APPROVAL
_DEFAULT_TIMEOUT = 300.0


class PolicyEngine:
    """Classifies tool calls and evaluates them against policy files.

    Args:
        policies: the base policy files, in order (strictest decision wins).
        classifier: turns tool calls into classifications.
        layers: the files above the base, in order (files that `extends:` a
            preset, then the user's file): each may tighten, or relax an ask.
        cache_size: how many classifications to keep (repeated calls are common).
    """

    def __init__(
        self,
        policies: Sequence[Policy],
        classifier: Classifier,
        *,
        layers: Sequence[Policy] = (),
        cache_size: int = 2048,
    ) -> None:
        if not policies:
            raise ValueError("at least one policy is needed")
        self._policies = tuple(policies)
        self._layers = tuple(layers)
        # Each file's rules indexed, beside the file's name (all a decision takes from it).
        self._compiled = tuple((policy.name, RuleIndex(policy.rules)) for policy in policies)
        self._compiled_layers = tuple((policy.name, RuleIndex(policy.rules)) for policy in layers)
        self._classifier = classifier
        self._cache: OrderedDict[tuple[str, ...], Classification] = OrderedDict()
        self._cache_size = cache_size
        every = (*self._policies, *self._layers)
        self._default_action = next(
            (
                p.settings.default_action
                for p in reversed(self._policies)
                if p.settings.default_action is not None
            ),
            _DEFAULT_ACTION,
        )
        self._timeout = next(
            (
                p.settings.approval_timeout_seconds
                for p in reversed(every)
                if p.settings.approval_timeout_seconds is not None
            ),
            None,
        )
        self._allowed_by = _AllowedBy(
            (rule.name, f"allowed by rule {rule.name!r}") for p in every for rule in p.rules
        )
        self._quoted = _Quoted((rule.name, repr(rule.name)) for p in every for rule in p.rules)
        # (The plans read the default action and the allows' reasons.)
        self._plain = self._plain_plans()
        self._one_fact = self._one_fact_plans()

    def _plain_plans(self) -> dict[str, dict[str, _Plan]]:
        """Each shell tool's plans, by program, for parts without facts (`_decide_plain`).

        Made from the rules alone, once per engine (an engine is never changed: new
        rules make a new engine). A program no rule names literally has no plan, and
        its parts take the general way.
        """
        named: set[str] = set()
        for _, index in (*self._compiled, *self._compiled_layers):
            named |= index.programs()
        plans: dict[str, dict[str, _Plan]] = {}
        for tool_name in _SHELL_TOOLS:
            by_program: dict[str, _Plan] = {}
            for program in named:
                base = tuple(
                    (name, index.plain(tool_name, program)) for name, index in self._compiled
                )
                layers = tuple(
                    (name, index.plain(tool_name, program)) for name, index in self._compiled_layers
                )
                fixed = self._fixed_outcome(base, layers)
                words = None if fixed is not None else self._word_outcomes(base, layers)
                by_program[program] = (base, layers, fixed, words)
            plans[tool_name] = by_program
        return plans

    def _one_fact_plans(self) -> dict[str, dict[str, tuple[_Plan, RiskLevel, int]]]:
        """Each named tool's plan for a part with one fact, the one its kind gives every
        call (a Read's `file_read`), at its catalogue level: `_decide_plain` with the fact.

        Plans only for a fact the floor does not take (a critical one is denied before
        any rule is read). Made once per engine, like `_plain_plans`.
        """
        plans: dict[str, dict[str, tuple[_Plan, RiskLevel, int]]] = {}
        for tool_name, spec in TOOLS.items():
            kind = KIND_FACTS.get(spec.kind)
            if kind is None:
                continue
            level = FACTS[kind].level
            rank = _RANKS[level]
            if kind in FLOOR_FACTS or rank == _CRITICAL:
                continue
            kinds = frozenset((kind,))
            base = tuple(
                (name, index.entries(tool_name, None, kinds, rank))
                for name, index in self._compiled
            )
            layers = tuple(
                (name, index.entries(tool_name, None, kinds, rank))
                for name, index in self._compiled_layers
            )
            never = kind in NEVER_AUTO_ALLOWED
            plan = (base, layers, self._fixed_outcome(base, layers, (kind,), rank, never), None)
            plans[tool_name] = {kind: (plan, level, rank)}
        return plans

    def _fixed_outcome(
        self,
        base: _FileEntries,
        layers: _FileEntries,
        kinds: tuple[str, ...] = (),
        rank: int = 0,
        never: bool = False,
    ) -> _Outcome | None:
        """The rule, file and action `_decide_plain`'s steps choose for every part, or None.

        Most programs' plans test nothing: each base file's first entry matches every
        part (`pytest`, `cat`: one rule for the program) or the file has none, and no
        layer has an entry. The steps then choose the same for every part; they are
        taken here, once, as `_decide_plain` takes them. None when an entry tests the
        part's words or paths, or a layer could apply (it reads whether the part is
        opaque): those plans are followed part by part.

        With a rule, the outcome holds the part's fields too, all but its text and
        reason, for a part with the fact kinds `kinds` (the plan's). When the rule
        allows, it holds what `evaluate` words such a part with (`_Allowed`), the
        decision of a call of that one part at the risk rank `rank` among it; not when
        the plan's fact is one `never` allowed without a person (`_decide_plain` raises
        that allow to an ask).
        """
        rule: _Matcher | None = None
        source = ""
        for name, entries in base:
            if not entries:
                continue
            test, found = entries[0]
            if test is not None:
                return None
            if rule is None or found.strictness > rule.strictness:
                rule, source = found, name
            if found.action is _DENY:
                break
        action = self._default_action if rule is None else rule.action
        if action is not _DENY and any(entries for _, entries in layers):
            return None
        if rule is None:
            return None, source, action, None, None
        fields = {
            "text": "",
            "action": action,
            "rule": rule.name,
            "policy": source,
            "reason": "",
            "facts": kinds,
            "line": rule.line,
        }
        if action is not _ALLOW or never:
            return rule, source, action, fields, None
        # The loop in `evaluate` with one part: it chooses that part, and the reason of
        # one rule's allow is `_rule_list` of its name.
        call = {
            "action": action,
            "rule": rule.name,
            "policy": source,
            "reason": self._allowed_by[rule.name],
            "risk_level": _LEVELS[rank],
        }
        return rule, source, action, fields, (rule.reason_tail, fields, call)

    def _word_outcomes(
        self, base: _FileEntries, layers: _FileEntries
    ) -> dict[str, _Outcome] | None:
        """For a plan with no fixed outcome: the outcome for a part whose subcommand
        starts with each word the plan's one-word subcommand tests name, where that word
        decides the plan (None when no word does).

        A rule whose only test left is its one-word subcommands (`git-read`: status,
        log, diff...) matches such a part exactly when the word is one of them: with
        the word known, the rule's entry tests nothing or is dropped (`_given_word`).
        When the plan then tests nothing, `_fixed_outcome` takes its steps once, for
        every part starting with that word (`git status`), and `_decide_plain` looks
        the word up instead of following the plan.
        """
        words = {
            word
            for _, entries in (*base, *layers)
            for test, matcher in entries
            if test is not None and _first_word_test(matcher)
            for word in matcher.first_words
        }
        outcomes: dict[str, _Outcome] = {}
        for word in words:
            fixed = self._fixed_outcome(_given_word(base, word), _given_word(layers, word))
            if fixed is not None:
                outcomes[word] = fixed
        return outcomes or None

    @property
    def policies(self) -> tuple[Policy, ...]:
        """The base files."""
        return self._policies

    @property
    def classifier(self) -> Classifier:
        return self._classifier

    @property
    def layers(self) -> tuple[Policy, ...]:
        """The files above the base, in order."""
        return self._layers

    @property
    def default_action(self) -> Action:
        return self._default_action

    @property
    def approval_timeout_seconds(self) -> float | None:
        """The timeout the policies set (the last file that sets one), or None."""
        return self._timeout

    def clear_cache(self) -> None:
        """Forget the kept classifications."""
        self._cache.clear()

    def classify(self, tool_name: str, tool_input: Mapping[str, Any]) -> Classification:
        """What the call would do (cached: the result depends on the call alone)."""
        key = classification_key(tool_name, tool_input)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        classification = self._classifier.classify(tool_name, tool_input)
        self._cache[key] = classification
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return classification

    def evaluate(self, classification: Classification) -> PolicyDecision:
        """Decide allow, deny or require_approval for `classification`."""
        # Read through the instance dict: a pydantic model's attributes cost a hook each.
        fields = classification.__dict__
        tool_name = fields["tool_name"]
        parts = fields["parts"]
        if fields["facts"]:
            parts = (
                *parts,
                CallPart(text=fields["command"] or tool_name, facts=fields["facts"]),
            )
        if not parts:
            return built(
                PolicyDecision,
                {
                    "action": _ALLOW,
                    "rule": None,
                    "policy": None,
                    "reason": "the command runs nothing",
                    "risk_level": _LEVELS[0],
                    "parts": (),
                },
                _DECISION_FIELDS,
            )
        if len(parts) == 1:
            # One part (most calls): the loop below with one part chooses it, and
            # `_rule_list` of its one rule is its name.
            part = parts[0]
            # `_part_values`, without its frame.
            facts = part.facts
            plan: _Plan | None = None
            fact: RiskFact | None = None
            rank = 0
            if not facts:
                plans = self._plain.get(tool_name)
                if plans is not None:
                    plan = plans.get(part.program)
            elif len(facts) == 1:
                fact = facts[0]
                ones = self._one_fact.get(tool_name)
                if ones is not None:
                    found = ones.get(fact.kind)
                    if found is not None and fact.level is found[1]:
                        plan, rank = found[0], found[2]
            if plan is not None:
                fixed = plan[2]
                if fixed is None and plan[3] is not None:
                    words = part.subcommand
                    if words:
                        fixed = plan[3].get(words[0])
                allowed = None if fixed is None else fixed[4]
                text = part.text
                if allowed is not None and text:
                    # `_decide_plain` for a part its plan's outcome allows by a rule,
                    # without its frame, in a call made from the outcome (`_subject`
                    # quotes the text of a part that names a program).
                    shown = text if len(text) <= 120 else text[:117] + "..."
                    values = allowed[1].copy()
                    values["text"] = text
                    values["reason"] = (
                        f"{tool_name} `{shown}`{allowed[0]}"
                        if part.program is not None
                        else f"{tool_name} {shown}{allowed[0]}"
                    )
                    call = allowed[2].copy()
                    call["parts"] = (built(PartDecision, values, _PART_FIELDS),)
                    return built(PolicyDecision, call, _DECISION_FIELDS)
                chosen = self._decide_plain(tool_name, part, plan, fact)
            else:
                chosen, rank = self._general_values(tool_name, part)
            action = chosen["action"]
            rule = chosen["rule"]
            return built(
                PolicyDecision,
                {
                    "action": action,
                    "rule": rule,
                    "policy": chosen["policy"],
                    "reason": self._allowed_by[rule]
                    if action is _ALLOW and rule
                    else chosen["reason"],
                    "risk_level": _LEVELS[rank],
                    "parts": (built(PartDecision, chosen, _PART_FIELDS),),
                },
                _DECISION_FIELDS,
            )
        models: list[PartDecision] = []
        # The rules that allowed parts, each once (a part the default allowed names none).
        allowing: set[str] = set()
        denied: dict[str, Any] | None = None
        asking: dict[str, Any] | None = None
        rank = 0
        plans = self._plain.get(tool_name)
        for part in parts:
            plan = plans.get(part.program) if plans is not None and not part.facts else None
            if plan is not None:
                # `_part_values`'s own first step, without its frame.
                fixed = plan[2]
                if fixed is None and plan[3] is not None and part.subcommand:
                    fixed = plan[3].get(part.subcommand[0])
                allowed = None if fixed is None else fixed[4]
                text = part.text
                if allowed is not None and text:
                    # `_decide_plain` for a part its plan's outcome allows by a rule (most
                    # parts of a call), without its frame: the outcome's fields, with the
                    # part's text and reason (a planned part names a program: `_subject`
                    # quotes its text).
                    values = allowed[1].copy()
                    values["text"] = text
                    shown = text if len(text) <= 120 else text[:117] + "..."
                    values["reason"] = f"{tool_name} `{shown}`{allowed[0]}"
                    models.append(built(PartDecision, values, _PART_FIELDS))
                    allowing.add(values["rule"])
                    continue
                decision = self._decide_plain(tool_name, part, plan, None)
                part_rank = 0
            else:
                decision, part_rank = self._general_values(tool_name, part)
            models.append(built(PartDecision, decision, _PART_FIELDS))
            if part_rank > rank:
                rank = part_rank
            action = decision["action"]
            if action is _ALLOW:
                if decision["rule"] is not None:
                    allowing.add(decision["rule"])
            elif action is _DENY:
                if denied is None:
                    denied = decision
            elif asking is None or (
                # "Could not analyse" (too large, unparsable) explains an ask better than
                # any one command guessed from the text: the first such ask is shown.
                "not_understood" in decision["facts"] and "not_understood" not in asking["facts"]
            ):
                asking = decision
        deciding = denied or asking
        if deciding is None:
            # Every part allowed: the first part's rule and file (a model's fields are
            # the values it was built from), and the rules named.
            deciding = models[0].__dict__
            if len(allowing) == 1:
                reason = self._allowed_by[allowing.pop()]
            elif allowing:
                # `_rule_list` of several, in one piece, with the names quoted at construction.
                reason = "allowed by rules " + ", ".join(
                    map(self._quoted.__getitem__, sorted(allowing))
                )
            else:
                reason = deciding["reason"]
        else:
            reason = deciding["reason"]
        # Every value below is already of its field's type (`built` says why it skips
        # validation); the call's risk level is the highest of its parts' facts, the
        # classification's own facts being the last part's.
        return built(
            PolicyDecision,
            {
                "action": deciding["action"],
                "rule": deciding["rule"],
                "policy": deciding["policy"],
                "reason": reason,
                "risk_level": _LEVELS[rank],
                "parts": tuple(models),
            },
            _DECISION_FIELDS,
        )

    def _decide_part(self, tool_name: str, part: CallPart) -> tuple[PartDecision, int]:
        """The part's decision, and its risk rank (its highest fact's)."""
        values, rank = self._part_values(tool_name, part)
        return built(PartDecision, values, _PART_FIELDS), rank

    def _part_values(self, tool_name: str, part: CallPart) -> tuple[dict[str, Any], int]:
        """The fields of the part's `PartDecision`, and its risk rank (its highest fact's).

        Plain values, not the model: the call's decision reads them as it combines
        the parts, and each model is built once, at the end. From a plan when the
        part has one (`_decide_plain`), else the general way (`_general_values`).
        """
        facts = part.facts
        if not facts:
            plans = self._plain.get(tool_name)
            if plans is not None:
                plan = plans.get(part.program)  # type: ignore[arg-type]
                if plan is not None:
                    return self._decide_plain(tool_name, part, plan, None), 0
        elif len(facts) == 1:
            ones = self._one_fact.get(tool_name)
            if ones is not None:
                found = ones.get(facts[0].kind)
                if found is not None and facts[0].level is found[1]:
                    return self._decide_plain(tool_name, part, found[0], facts[0]), found[2]
        return self._general_values(tool_name, part)

    def _general_values(self, tool_name: str, part: CallPart) -> tuple[dict[str, Any], int]:
        """`_part_values` the general way: the floor, then each file's first match."""
        facts = part.facts
        rank = 0
        critical: RiskFact | None = None
        if facts:
            for fact in facts:
                fact_rank = _RANKS[fact.level]
                if fact_rank > rank:
                    rank = fact_rank
                if critical is None and (fact.kind in FLOOR_FACTS or fact_rank == _CRITICAL):
                    critical = fact  # `floor_fact`'s answer: the first critical fact
            if len(facts) == 1:
                kinds_in_order: tuple[str, ...] = (facts[0].kind,)
            else:
                kinds_in_order = tuple(dict.fromkeys(map(_KIND, facts)))
        else:
            kinds_in_order = ()
        if critical is not None:
            kind = critical.kind
            words = _FLOOR_WORDS.get(kind) or _floor_words(kind)
            # Every value is of its field's type (`built` says why it is not validated).
            floor = {
                "text": part.text,
                "action": _DENY,
                "rule": words[0],
                "policy": FLOOR_LAYER,
                "reason": _floor_reason(words[1], critical, tool_name, part),
                "facts": kinds_in_order,
                "line": 0,
            }
            return floor, rank
        kinds = frozenset(kinds_in_order) if facts else _NO_KINDS
        # The deciding rule and its file, as plain values: the reason is worded once,
        # for the rule that decides in the end.
        rule: _Matcher | None = None
        source = ""
        for name, index in self._compiled:
            found = index.first_matcher(tool_name, part, kinds, rank)
            if found is None:
                continue
            if rule is None or _STRICTNESS[found.action] > _STRICTNESS[rule.action]:
                rule, source = found, name
            if found.action is _DENY:
                break
        action = self._default_action if rule is None else rule.action
        for name, index in self._compiled_layers:
            if action is _DENY:
                break
            found = index.first_matcher(tool_name, part, kinds, rank)
            if found is None or found.action is action:
                continue
            if found.allows and (part.opaque or not kinds.isdisjoint(NEVER_AUTO_ALLOWED)):
                continue  # a layer relaxes only a part the analysis saw all of
            rule, source, action = found, name, found.action
        if action is _ALLOW and not kinds.isdisjoint(NEVER_AUTO_ALLOWED):
            # What no policy may allow: what the analysis could not see.
            for worst in facts:  # (the first such fact: one is there)
                if worst.kind in NEVER_AUTO_ALLOWED:
                    break
            reason = (
                f"{_subject(tool_name, part)}: {FACTS[worst.kind].summary} "
                f"({worst.detail}); that is never allowed without a person"
            )
            action = _REQUIRE_APPROVAL
        elif rule is None:
            reason = f"{_subject(tool_name, part)}: no rule matches; the default is {action.value}"
        else:
            reason = rule.reason(tool_name, part)
        values = {
            "text": part.text,
            "action": action,
            "rule": None if rule is None else rule.name,
            "policy": None if rule is None else source,
            "reason": reason,
            "facts": kinds_in_order,
            "line": 0 if rule is None else rule.line,
        }
        return values, rank

    def _decide_plain(
        self, tool_name: str, part: CallPart, plan: _Plan, fact: RiskFact | None
    ) -> dict[str, Any]:
        """`_general_values` for a part without facts, or with the one `fact` (not
        critical, at its catalogue level), from the plan for its tool and program or fact.

        The same steps as the general way, on fewer rules: each file's entries are
        the candidates its index would try, in file order, less the rules that
        cannot match a part with this tool, program and fact (their outcome is known
        already, `RuleIndex.entries`). With no facts there is no floor, no fact detail
        in a reason, and nothing `NEVER_AUTO_ALLOWED`; with one below critical there
        is no floor, and a reason's detail is that fact's.
        """
        never = fact is not None and fact.kind in NEVER_AUTO_ALLOWED
        fixed = plan[2]
        if fixed is None and plan[3] is not None:
            words = part.subcommand
            if words:
                fixed = plan[3].get(words[0])  # (`_word_outcomes`)
        if fixed is not None:
            # The steps below, taken once (`_fixed_outcome`), and the fields they give.
            rule, source, action, fields, _ = fixed
        else:
            fields = None
            rule = None
            source = ""
            for name, entries in plan[0]:
                found = None
                for test, candidate in entries:
                    if test is None or test(part):
                        found = candidate
                        break
                if found is None:
                    continue
                if rule is None or found.strictness > rule.strictness:
                    rule, source = found, name
                if found.action is _DENY:
                    break
            action = self._default_action if rule is None else rule.action
            for name, entries in plan[1]:
                if action is _DENY:
                    break
                found = None
                for test, candidate in entries:
                    if test is None or test(part):
                        found = candidate
                        break
                if found is None:
                    continue
                if found.action is action or (found.allows and (part.opaque or never)):
                    continue  # a layer relaxes only a part the analysis saw all of
                rule, source, action = found, name, found.action
        text = part.text
        if text:
            shown = text if len(text) <= 120 else text[:117] + "..."
            subject = (
                f"{tool_name} `{shown}`" if part.program is not None else f"{tool_name} {shown}"
            )
        else:
            subject = tool_name
        if fact is None:
            kinds: tuple[str, ...] = ()
        else:
            kinds = (fact.kind,)
            if never and action is _ALLOW:
                return {
                    "text": text,
                    "action": _REQUIRE_APPROVAL,
                    "rule": None if rule is None else rule.name,
                    "policy": None if rule is None else source,
                    "reason": f"{subject}: {FACTS[fact.kind].summary} ({fact.detail}); "
                    "that is never allowed without a person",
                    "facts": kinds,
                    "line": 0 if rule is None else rule.line,
                }
        if rule is None:
            return {
                "text": text,
                "action": action,
                "rule": None,
                "policy": None,
                "reason": f"{subject}: no rule matches; the default is {action.value}",
                "facts": kinds,
                "line": 0,
            }
        if rule.allows:
            reason = subject + rule.reason_tail
        elif fact is not None and rule.facts and fact.detail:
            # `_Matcher.reason`'s detail: a rule naming facts names this one (`entries`).
            reason = f"{rule.reason_head}{subject} — {fact.detail}"
        else:
            reason = rule.reason_head + subject
        if fields is not None:
            # The outcome's fields, the same in the same order, with this part's words.
            values = fields.copy()
            values["text"] = text
            values["reason"] = reason
            return values
        return {
            "text": text,
            "action": action,
            "rule": rule.name,
            "policy": source,
            "reason": reason,
            "facts": kinds,
            "line": rule.line,
        }


_FileEntries = tuple[tuple[str, tuple[_Entry, ...]], ...]
"""Each file's name and entries, in order."""
_Allowed = tuple[str, dict[str, Any], dict[str, Any]]
"""A part allowed by its plan's outcome: the reason's words after the part's subject,
the part's fields but its text and reason, and the fields but the parts of the decision
of a call of that one part."""
_Outcome = tuple[_Matcher | None, str, Action, dict[str, Any] | None, _Allowed | None]
"""The deciding rule (None: the default action), its file's name, the action, a part's
fields but its text and reason (None without a rule), and when the rule allows, how
such a part is worded (`PolicyEngine._fixed_outcome`)."""
_Plan = tuple[_FileEntries, _FileEntries, _Outcome | None, dict[str, _Outcome] | None]
"""A plain part's rules: the base files' entries, then the layers', the outcome when
it is the same for every part (`PolicyEngine._fixed_outcome`), and else the outcomes
fixed by the subcommand's first word (`PolicyEngine._word_outcomes`)."""


def _first_word_test(matcher: _Matcher) -> bool:
    """Whether the test `_residual` leaves for `matcher` is its one-word subcommands alone."""
    return not (matcher.commands or matcher.patterns or matcher.paths or matcher.longer)


def _given_word(files: _FileEntries, word: str) -> _FileEntries:
    """`files`' entries for a part whose subcommand starts with `word`: each one-word
    subcommand test is decided (the entry tests nothing, or is dropped), and a file's
    entries end at the first that tests nothing, as `RuleIndex.entries` ends them."""
    given = []
    for name, entries in files:
        kept: list[_Entry] = []
        for test, matcher in entries:
            if test is not None and _first_word_test(matcher):
                if word not in matcher.first_words:
                    continue
                test = None
            kept.append((test, matcher))
            if test is None:
                break
        given.append((name, tuple(kept)))
    return tuple(given)


_SHELL_TOOLS = tuple(name for name, spec in TOOLS.items() if spec.kind is ToolKind.SHELL)
_RANKS = {level: level.rank for level in RiskLevel}
_LEVELS = tuple(sorted(RiskLevel, key=lambda level: level.rank))
_CRITICAL = RiskLevel.CRITICAL.rank
_KIND = attrgetter("kind")


def _floor_words(kind: str) -> tuple[str, str]:
    """A floor denial's rule name, and its reason's words before the call's subject."""
    summary = FACTS[kind].summary if kind in FACTS else kind
    return f"{FLOOR_RULE}:{kind}", f"{summary} [{FLOOR_RULE}: {kind}]: "


_FLOOR_WORDS = {kind: _floor_words(kind) for kind in FACTS}
"""`_floor_words` of each catalogued kind, worded once (a fact the catalogue does not
know, which the floor denies at the critical level, is worded when it is denied)."""


def _floor_reason(head: str, fact: RiskFact, tool_name: str, part: CallPart) -> str:
    if fact.detail:
        return f"{head}{_subject(tool_name, part)} — {fact.detail}"
    return head + _subject(tool_name, part)


def _subject(tool_name: str, part: CallPart) -> str:
    if part.text:
        shown = part.text if len(part.text) <= 120 else part.text[:117] + "..."
        return f"{tool_name} `{shown}`" if part.program is not None else f"{tool_name} {shown}"
    return tool_name


def _rule_list(rules: Sequence[str]) -> str:
    if len(rules) == 1:
        return f"rule {rules[0]!r}"
    return "rules " + ", ".join(map(repr, rules))
