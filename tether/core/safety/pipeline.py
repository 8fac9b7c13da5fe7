"""SafetyPipeline: the decision for one tool call, before any person is asked.

Input check, sandbox, policy, in that order; the first layer that denies
decides. This is the code `ToolGatekeeper` runs on every call and `tether
check` runs without an agent, so both always agree. It never raises: an
unexpected failure is a deny that says so.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from enum import StrEnum
from functools import partial
from itertools import chain
from operator import attrgetter
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from tether.core.safety.analyzer import PathAnalyzer
from tether.core.safety.built import built
from tether.core.safety.classify import _OPEN_PART, CallPart, Classification
from tether.core.safety.decision_cache import DecisionCache, Probes, Recheck
from tether.core.safety.facts import PathUse, RiskFact, RiskLevel, make_fact
from tether.core.safety.path_facts import resolved_credential_reason
from tether.core.safety.policy import Action, PolicyDecision, PolicyEngine
from tether.core.safety.sandbox import PathVerdict, SandboxEnforcer
from tether.core.safety.tools import InputProblem, ToolKind, validate_input, well_formed
from tether.core.safety.tree_reads import (
    WALKING_PROGRAMS,
    WALKING_TOOLS,
    CallWalks,
    TreeReads,
    Walk,
    may_walk,
    walk_of,
)
from tether.log import get_logger

__all__ = ["Layer", "SafetyPipeline", "Verdict"]

logger = get_logger(__name__)


class Layer(StrEnum):
    """Which layer decided: the input check, the sandbox, the policy, or a plugin's gate hook."""

    INPUT = "input"
    SANDBOX = "sandbox"
    POLICY = "policy"
    PLUGIN = "plugin"
    """A plugin's gate hook tightened the policy's decision (gate_hooks.py)."""


class Verdict(BaseModel):
    """The pipeline's decision for one call (require_approval is not resolved here)."""

    model_config = ConfigDict(frozen=True)

    decision: Action
    layer: Layer
    reason: str
    rule: str | None = None
    policy: str | None = None
    risk_level: RiskLevel = RiskLevel.NONE
    risk_facts: tuple[str, ...] = ()
    violation_type: str | None = None
    """For a deny: "invalid_input", "sandbox", "policy" or "error"."""
    classification: Classification | None = None
    policy_decision: PolicyDecision | None = None
    problems: tuple[InputProblem, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.decision is Action.ALLOW


_PATH_KINDS = frozenset({ToolKind.SHELL, ToolKind.READ, ToolKind.WRITE, ToolKind.NETWORK})
_FILE_KINDS = frozenset({ToolKind.READ, ToolKind.WRITE})
_NAMES_ONLY = frozenset({"list", "cd"})
_DIRECTORY_CHANGES = frozenset({"cd", "pushd", "popd"})
_NO_KINDS: frozenset[str] = frozenset()
_KIND = attrgetter("kind")
_LEVEL = attrgetter("level")
_FACTS = attrgetter("facts")
_NONE_CHECKED: list[PathVerdict] = []
"""What a part without paths checked (never appended to)."""
# The members as plain names: on Python 3.11 a member read through its enum class goes
# through the class's `__getattr__` hook, a cost on every call.
_ALLOW, _DENY = Action.ALLOW, Action.DENY
_POLICY, _SANDBOX = Layer.POLICY, Layer.SANDBOX
_CRITICAL, _HIGH = RiskLevel.CRITICAL, RiskLevel.HIGH


class SafetyPipeline:
    """Runs the input check, the sandbox and the policy for one tool call.

    Args:
        policy: classifies calls and evaluates the policy files.
        sandbox: resolves and checks paths.
        paths: recognises credential files among resolved paths (symlink targets).
    """

    def __init__(
        self,
        policy: PolicyEngine,
        sandbox: SandboxEnforcer,
        paths: PathAnalyzer,
        trees: TreeReads | None = None,
        decisions: DecisionCache | None = None,
    ) -> None:
        self._trees = trees if trees is not None else TreeReads(paths.credential_reason)
        self._policy = policy
        self._sandbox = sandbox
        self._paths = paths
        # A resolved path's credential test: the plain analyzer's, with its shortcut for
        # resolved paths (`path_facts`); any other analyzer's own test as it is.
        self._credential_reason = (
            resolved_credential_reason if type(paths) is PathAnalyzer else paths.credential_reason
        )
        self._decisions = decisions if decisions is not None else DecisionCache()
        self._volatile = False
        """Set while deciding when the verdict read what no lookup witnesses (a glob)."""
        self._rechecks: list[Recheck] = []
        """The tree reads made while deciding, with their findings, to be asked again
        (made anew with `_walks`: only a call whose `_walks` is set made any)."""
        # What this call's tree reads found, shared by its other tree reads (one per call).
        self._walks: CallWalks | None = None
        self._shortcuts = True
        """Whether `_check_parts` takes its one-path shortcut (the tests turn it off to
        hold it to the general steps)."""

    @property
    def policy(self) -> PolicyEngine:
        return self._policy

    @property
    def sandbox(self) -> SandboxEnforcer:
        return self._sandbox

    @property
    def paths(self) -> PathAnalyzer:
        return self._paths

    def clear_caches(self) -> None:
        """Forget every kept verdict, classification and tree walk: the next calls
        are decided afresh, as the first call after start-up is."""
        self._decisions.clear()
        self._policy.clear_cache()
        self._trees.clear()

    def decide(self, tool_name: Any, tool_input: Any, *, cwd: Path | str | None = None) -> Verdict:
        """The decision for a call; never raises (a failure is a deny that says so).

        A repeated identical call reuses the verdict while every path lookup it
        made answers as before (`decision_cache` says why that is the same decision).
        """
        try:
            key = self._decisions.key(tool_name, tool_input, cwd, self._sandbox.home)
            if key is not None:
                kept = self._decisions.get(key)
                if kept is not None:
                    return kept
            probes: Probes = []
            self._volatile = False
            self._walks = None  # (`_tree_read` starts this call's rechecks with its walks)
            self._sandbox.record_probes(probes)
            try:
                verdict = self._decide(tool_name, tool_input, cwd)
            finally:
                self._sandbox.record_probes(None)
            if key is not None and not self._volatile:
                # No tree read, no recheck: most calls make no list for them.
                rechecks = () if self._walks is None else tuple(self._rechecks)
                # `get` missed: the key is not kept, nothing to take out first.
                self._decisions.put_missed(key, verdict, probes, rechecks)
            return verdict
        except Exception as error:  # the safety path fails closed, whatever broke
            logger.error(
                "safety_pipeline_failed",
                tool_name=str(tool_name)[:100],
                error=repr(error),
                exc_info=error,
            )
            return Verdict(
                decision=Action.DENY,
                layer=Layer.POLICY,
                reason=f"the safety check failed ({type(error).__name__}); denied to be safe",
                violation_type="error",
                risk_level=RiskLevel.HIGH,
            )

    def _decide(self, tool_name: Any, tool_input: Any, cwd: Path | str | None) -> Verdict:
        # A plainly well-formed call (the common case) has no problem to word; it is a
        # dict, and its tool name is text (`well_formed` knows only named tools).
        if type(tool_input) is dict and well_formed(tool_name, tool_input):
            problems: tuple[InputProblem, ...] = ()
        else:
            problems = validate_input(tool_name, tool_input)
            refusals = [p for p in problems if p.action == "deny"]
            if refusals:
                return Verdict(
                    decision=Action.DENY,
                    layer=Layer.INPUT,
                    reason="invalid input: " + "; ".join(p.message for p in refusals[:3]),
                    violation_type="invalid_input",
                    risk_level=RiskLevel.HIGH,
                    problems=problems,
                )
            if not isinstance(tool_name, str) or (
                type(tool_input) is not dict and not isinstance(tool_input, Mapping)
            ):
                raise TypeError("validate_input let a malformed call through")
        classification = self._policy.classify(tool_name, tool_input)
        if classification.kind in _PATH_KINDS:
            classification, violation = self._check_paths(classification, cwd)
            if violation is not None:
                return violation
        decision = self._policy.evaluate(classification)
        # The decision's fields read from its `__dict__` at once (`_checked` says why).
        fields = decision.__dict__
        action = fields["action"]
        reason = fields["reason"]
        layer = _POLICY
        rule = fields["rule"]
        decided = fields["parts"]
        # `_fact_kinds`'s one-part case without its frame (most calls).
        kinds = decided[0].facts if len(decided) == 1 else _fact_kinds(classification, decision)
        if action is _ALLOW and problems:
            # An unexpected field might change what the tool does: a person decides.
            action, layer, rule = Action.REQUIRE_APPROVAL, Layer.INPUT, None
            reason = "; ".join(p.message for p in problems[:3])
        # Every value is of its field's type already (`built` says why it is not validated).
        return built(
            Verdict,
            {
                "decision": action,
                "layer": layer,
                "reason": reason,
                "rule": rule,
                "policy": fields["policy"],
                "risk_level": fields["risk_level"],
                "risk_facts": kinds,
                "violation_type": "policy" if action is _DENY else None,
                "classification": classification,
                "policy_decision": decision,
                "problems": problems,
            },
        )

    def _check_paths(
        self, classification: Classification, cwd: Path | str | None
    ) -> tuple[Classification, Verdict | None]:
        """Resolve and check every path; a violation ends the decision (sandbox deny)."""
        directory = self._sandbox.working_directory(cwd)
        start = directory.resolved
        if not directory.allowed or start is None:
            return classification, self._sandbox_deny(classification, [directory])
        file_tool = classification.kind in _FILE_KINDS
        parts = classification.parts
        if len(parts) == 1:
            index = 0
            part = parts[0]
            uses = part.paths
            if not uses and not may_walk(
                classification.tool_name,
                part.program,
                part.text,
                # One part: no later part to hand names to (`_names_handed_on`).
                "xargs" in (classification.command or ""),
            ):
                return classification, None  # (see below: one such part)
        else:
            tool_name = classification.tool_name
            piped = _names_handed_on(classification)
            index = 0
            moved = False
            for part in parts:
                if part.paths:
                    break
                program = part.program
                if program is None:
                    walks = tool_name in WALKING_TOOLS
                else:
                    walks = program in WALKING_PROGRAMS
                # (`walk_of` asks `may_walk` first: a part it rules out costs no more.)
                if walks and walk_of(tool_name, program, part.text, piped) is not None:
                    break
                moved = moved or program in _DIRECTORY_CHANGES
                index += 1
            else:
                # No part names a path or walks a tree (`git status && git diff | head`):
                # each is a part `_check_parts` passes on as it came (a `cd` with no path
                # moves nothing a later path is checked against; a recursive delete with
                # no path deletes no approved directory): nothing to check or add.
                return classification, None
            # The parts before the first that names a path or may walk a tree are passed
            # on as they came, likewise: `_check_parts` starts at that part.
            if moved:
                return self._check_parts(classification, start, file_tool, index)
            for later in parts[index + 1 :]:
                if later.paths or may_walk(tool_name, later.program, later.text, piped):
                    return self._check_parts(classification, start, file_tool, index)
            # The only part to check (`cd src && pytest -q`), with nothing before it that
            # moves the working directory: it is checked as a call of that part alone
            # would be (where it leaves the directory moves no later path: there is none).
            part = parts[index]
            uses = part.paths
        if len(uses) == 1:
            use = uses[0]
            if not use.glob and not use.dynamic:
                return self._check_path(classification, index, part, use, start, file_tool)
        for use in uses:
            if use.glob or use.dynamic:
                return self._check_parts(classification, start, file_tool, index)
        return self._check_one(classification, index, part, start, file_tool)

    def _check_path(
        self,
        classification: Classification,
        index: int,
        part: CallPart,
        use: PathUse,
        base: str,
        file_tool: bool,
    ) -> tuple[Classification, Verdict | None]:
        """`_check_one` for a part naming one path (a file tool's, `cd src`'s): its
        verdict alone, with no lists or tables; the same steps in the same order."""
        one = self._sandbox.check(use.path, base, file_tool=file_tool)
        if not one.allowed:
            # The deny is the decision: what else the path would reveal is never used.
            return classification, self._sandbox_deny(classification, (one,))
        resolved = one.resolved
        facts = part.facts
        kinds = set(map(_KIND, facts)) if facts else _NO_KINDS
        listing = use.access in _NAMES_ONLY
        extra: list[RiskFact] = []
        if resolved is not None and not listing and "credential_access" not in kinds:
            reason = self._credential_reason(resolved)
            if reason is not None:
                extra.append(_credential_fact(one, reason))
        program = part.program
        tool_name = classification.tool_name
        if "recursive_delete" in kinds or (
            program in WALKING_PROGRAMS if program is not None else tool_name in WALKING_TOOLS
        ):
            ones = [one]
            piped = _names_handed_on(classification)
            read = _NONE_CHECKED if listing else ones
            self._whole_tree_facts(extra, tool_name, part, piped, base, ones, read, kinds)
        if resolved is None:  # (an allowed path is always resolved)
            return _checked(classification, index, part, extra, ()), None
        # The part with the path's facts and resolved path, every other field as it
        # was, and the call around it: built directly (see `_checked`).
        checked = _checked_part(part, extra, (resolved,))
        given = classification.parts
        return built(
            Classification,
            {
                **classification.__dict__,
                "parts": (checked,)
                if len(given) == 1
                else (*given[:index], checked, *given[index + 1 :]),
            },
        ), None

    def _check_parts(
        self, classification: Classification, start: str, file_tool: bool, first: int = 0
    ) -> tuple[Classification, Verdict | None]:
        """`_check_paths` part by part, from the resolved working directory `start`.

        The parts before `first` name no path and walk no tree: each is passed on as
        it came, and only moves the working directory (a `cd` with no path).
        """
        directories = _Directories(start)
        tool_name = classification.tool_name
        # Whether the line hands a list of files to xargs: the same for every part.
        piped = _names_handed_on(classification)
        given = classification.parts
        parts: list[CallPart] = list(given[:first])
        for part in parts:
            if part.program in _DIRECTORY_CHANGES:
                directories.change(part, _NONE_CHECKED)
        violations: list[PathVerdict] = []
        changed = False
        # Each distinct (path, directory) of the call is resolved once (see `_check_uses`),
        # and each distinct resolved path named by its credential test once: that test
        # reads the text alone, and the table lives for this call only.
        seen: dict[tuple[str, str, bool], PathVerdict] = {}
        credentials: dict[str, str | None] = {}
        check = self._sandbox.check
        others = directories.others  # (grows in place as subshells `cd`)
        shortcuts = self._shortcuts
        for part in given[first:] if first else given:
            program = part.program
            walks = (
                program in WALKING_PROGRAMS if program is not None else tool_name in WALKING_TOOLS
            )
            if walks and shortcuts:
                # A program that may walk but surely does not here (`git status`): no
                # walk for `walk_of` to find (`may_walk`), so none is looked for.
                walks = may_walk(tool_name, program, part.text, piped)
            if not part.paths and not walks:
                # Nothing to resolve and no tree to walk (a recursive delete without a
                # path deletes no approved directory): the part as it came.
                parts.append(part)
                if program in _DIRECTORY_CHANGES:
                    directories.change(part, _NONE_CHECKED)
                continue
            current = directories.current
            extra: list[RiskFact] = []
            kinds = set(map(_KIND, part.facts)) if part.facts else _NO_KINDS
            resolved: tuple[str, ...] = ()
            uses = part.paths
            if uses:
                use = uses[0]
                path = use.path
                if (
                    len(uses) == 1
                    and self._shortcuts
                    and not use.glob
                    and not use.dynamic
                    and (path.startswith(("/", "~")) or (directories.known and not others))
                ):
                    # `_check_uses` for one plain path with one directory to check it
                    # against: the same lookup in the same table, without its passes,
                    # and the steps below for its one verdict.
                    key = (path, current, file_tool)
                    verdict = seen.get(key)
                    if verdict is None:
                        verdict = seen[key] = check(path, current, file_tool=file_tool)
                    checked = [verdict]
                    if use.access in _NAMES_ONLY:
                        read, listed = _NONE_CHECKED, checked
                    else:
                        read, listed = checked, _NONE_CHECKED
                    if not verdict.allowed:
                        violations.append(verdict)
                    elif verdict.resolved is not None:
                        resolved = (verdict.resolved,)
                else:
                    read, listed, unresolved = self._check_uses(part, directories, file_tool, seen)
                    checked = [*read, *listed] if listed else read
                    usable: list[str] = []
                    for verdict in checked:
                        if not verdict.allowed:
                            violations.append(verdict)
                        elif verdict.resolved is not None:
                            usable.append(verdict.resolved)
                    resolved = tuple(usable)
                    if unresolved is not None and "unresolved_path" not in kinds:
                        extra.append(
                            make_fact("unresolved_path", f"{unresolved} is only known at run time")
                        )
                if read and not violations and "credential_access" not in kinds:
                    credential = self._credential(read, credentials)
                    if credential is not None:
                        extra.append(credential)
            else:
                checked = read = listed = _NONE_CHECKED
            # Once a path is denied, the deny is the decision: what else a part would
            # reveal is never used (its paths are still checked: each is named in the
            # deny, and a `cd` moves where later paths resolve).
            if (walks or "recursive_delete" in kinds) and not violations:
                self._whole_tree_facts(extra, tool_name, part, piped, current, checked, read, kinds)
            if extra or resolved:
                part = _checked_part(part, extra, resolved)
                changed = True
            parts.append(part)
            if program in _DIRECTORY_CHANGES:
                directories.change(part, listed)
        if violations:
            return classification, self._sandbox_deny(classification, violations)
        if not changed:
            return classification, None  # nothing to add: the classification as it came
        # Every value is of its field's type already (`built` says why it is not validated).
        checked_classification = built(
            Classification, {**classification.__dict__, "parts": tuple(parts)}
        )
        return checked_classification, None

    def _check_one(
        self,
        classification: Classification,
        index: int,
        part: CallPart,
        base: str,
        file_tool: bool,
    ) -> tuple[Classification, Verdict | None]:
        """`_check_paths` for the one part at `index` of a call that has only it to check,
        with no glob and no path only known at run time (a Read, a Write, most commands):
        the same steps, in the same order, without what only a later part or such a path
        needs.

        The parts before it name no path, walk no tree and change no directory, and
        none after it names a path or may walk a tree: the working directory is `base`
        throughout (a `cd` moves it only for the parts after it, which use none) and
        there is no other directory a subshell's `cd` may have left; with no dynamic
        path nothing is unresolved, and with no glob nothing is volatile. A part whose
        program reads no whole tree and that deletes nothing recursively has no
        whole-tree fact to look for (`walk_of` finds no walk for it). A denied path's
        other findings are never used: the deny is the decision. The tests hold it to
        the general steps.
        """
        facts = part.facts
        kinds = set(map(_KIND, facts)) if facts else _NO_KINDS
        uses = part.paths
        tool_name = classification.tool_name
        program = part.program
        whole_trees = "recursive_delete" in kinds or (
            program in WALKING_PROGRAMS if program is not None else tool_name in WALKING_TOOLS
        )
        extra: list[RiskFact] = []
        if not uses:
            if whole_trees:
                piped = _names_handed_on(classification)
                self._whole_tree_facts(
                    extra, tool_name, part, piped, base, _NONE_CHECKED, _NONE_CHECKED, kinds
                )
                if extra:
                    return _checked(classification, index, part, extra, ()), None
            return classification, None  # nothing to add: the classification as it came
        read: list[PathVerdict] = []
        listed: list[PathVerdict] = []
        violations: list[PathVerdict] = []
        usable: list[str] = []
        check = self._sandbox.check
        seen: dict[str, PathVerdict] = {}
        for use in uses:
            path = use.path
            verdict = seen.get(path)
            if verdict is None:
                verdict = seen[path] = check(path, base, file_tool=file_tool)
            if use.access in _NAMES_ONLY:
                listed.append(verdict)
            else:
                read.append(verdict)
        checked = [*read, *listed] if listed else read
        for verdict in checked:
            if not verdict.allowed:
                violations.append(verdict)
            elif verdict.resolved is not None:
                usable.append(verdict.resolved)
        if violations:
            # The deny is the decision: what else the paths would reveal is never used.
            return classification, self._sandbox_deny(classification, violations)
        if "credential_access" not in kinds:
            credential = self._credential(read, {})
            if credential is not None:
                extra.append(credential)
        if whole_trees:
            piped = _names_handed_on(classification)
            self._whole_tree_facts(extra, tool_name, part, piped, base, checked, read, kinds)
        return _checked(classification, index, part, extra, tuple(usable)), None

    def _check_uses(
        self,
        part: CallPart,
        directories: _Directories,
        file_tool: bool,
        seen: dict[tuple[str, str, bool], PathVerdict],
    ) -> tuple[list[PathVerdict], list[PathVerdict], str | None]:
        """The part's paths checked against the sandbox (`SandboxEnforcer.check`, `check_glob`):
        what it reads, writes or runs; what it lists; and the first path only known at run time.

        One pass over the paths. The first unknown path is the one a pass over what
        is read and then over what is listed would find: a relative path after a `cd`
        to an unknown place first, then a dynamic path read, then one listed.
        """
        sandbox = self._sandbox
        check = sandbox.check
        current, others, known = directories.current, directories.others, directories.known
        read: list[PathVerdict] = []
        listed: list[PathVerdict] = []
        relative_unknown: str | None = None
        read_dynamic: str | None = None
        listed_dynamic: str | None = None
        # The directories a path is checked against: a relative one against each
        # place a subshell's `cd` may have left too (made once per part, not per path).
        here = (current,)
        everywhere = (current, *others) if others else here
        for use in part.paths:
            path = use.path
            relative = not path.startswith(("/", "~"))
            if relative and not known:
                if relative_unknown is None:
                    relative_unknown = path
                continue
            if use.glob:
                self._volatile = True  # what a glob matches changes with its directory
            # Listing a directory shows names, not contents: only what is read, written
            # or run is checked for credentials once resolved.
            listing = use.access in _NAMES_ONLY
            if use.dynamic:
                if listing and listed_dynamic is None:
                    listed_dynamic = path
                elif not listing and read_dynamic is None:
                    read_dynamic = path  # (it may be empty: `>$EMPTY` names "")
                continue
            verdicts = listed if listing else read
            for base in everywhere if relative else here:
                if use.glob:
                    verdicts.extend(sandbox.check_glob(path, base, file_tool=file_tool))
                    continue
                # A path named twice in one call (same directory) is resolved once: one
                # call is judged on one look at the file system.
                key = (path, base, file_tool)
                verdict = seen.get(key)
                if verdict is None:
                    verdict = seen[key] = check(path, base, file_tool=file_tool)
                verdicts.append(verdict)
        for first_unknown in (relative_unknown, read_dynamic, listed_dynamic):
            if first_unknown is not None:
                return read, listed, first_unknown
        return read, listed, None

    def _credential(
        self, checked: Sequence[PathVerdict], credentials: dict[str, str | None]
    ) -> RiskFact | None:
        """The first resolved path that is a credential file (a symlink's target may be)."""
        for verdict in checked:
            resolved = verdict.resolved
            if resolved is None:
                continue
            if resolved in credentials:
                reason = credentials[resolved]
            else:
                reason = credentials[resolved] = self._credential_reason(resolved)
            if reason is not None:
                return _credential_fact(verdict, reason)
        return None

    def _whole_tree_facts(
        self,
        extra: list[RiskFact],
        tool_name: str,
        part: CallPart,
        piped: bool,
        current: str,
        checked: Sequence[PathVerdict],
        read: Sequence[PathVerdict],
        kinds: Collection[str],
    ) -> None:
        """Add to `extra` what a part does to whole trees: what a recursive read would
        reach (`_tree_read`) and a recursive delete of an approved directory."""
        walk = walk_of(tool_name, part.program, part.text, piped)
        if walk is not None:
            tree = self._tree_read(walk, part, current, checked)
            if tree is not None:
                extra.append(tree)
        if "recursive_delete" in kinds:
            extra.extend(self._deletes_project(part, read))

    def _tree_read(
        self,
        walk: Walk,
        part: CallPart,
        current: str,
        checked: Sequence[PathVerdict],
    ) -> RiskFact | None:
        """A walk of what a whole-tree read would really reach (see `tree_reads`)."""
        trees = self._trees
        approved = self._sandbox.approved_directories
        if self._walks is None:
            # This call's first tree read: its walks and the rechecks of its findings.
            self._walks = CallWalks()
            self._rechecks = []
        named = tuple([v.resolved for v in checked if v.resolved is not None and v.allowed])
        if not named and not part.paths:
            # `grep -r x`, `rg x`, Grep without a path: the working directory.
            finding = trees.check(walk, (current,), approved, self._walks)
            again = partial(trees.check, walk, (current,), approved)
        else:
            finding = trees.check(walk, _roots(named, current), approved, self._walks)
            # Whether a named root exists is no lookup of the path's resolution (a name
            # missing and a directory answer alike): a kept verdict asks it again too.
            again = partial(_reach, trees, walk, named, current, approved)
        # The walk reads whole directories: a kept verdict asks it again (cheap while
        # the tree is unchanged: `TreeReads` keeps walks by directory mtimes).
        self._rechecks.append((again, finding))
        return None if finding is None else make_fact("tree_read", finding)

    def _deletes_project(self, part: CallPart, checked: Sequence[PathVerdict]) -> list[RiskFact]:
        """`rm -rf /abs/path/to/project`: a recursive delete of an approved directory itself."""
        targets = {u.path for u in part.paths if u.access == "delete"}
        approved = self._sandbox.approved_directories
        for verdict in checked:
            if verdict.path in targets and verdict.resolved is not None:
                resolved = verdict.resolved.rstrip("/") or "/"
                if any(d == resolved or d.startswith(resolved + "/") for d in approved):
                    return [make_fact("destructive_delete", f"{verdict.path} is the project")]
        return []

    def _sandbox_deny(
        self, classification: Classification, violations: Sequence[PathVerdict]
    ) -> Verdict:
        first = violations[0]
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        # `classification.fact_kinds` and `risk_level` in C-level passes over the facts:
        # the call's own, then each part's. At least high: only critical ranks above it.
        parts = classification.parts
        if len(parts) == 1:
            facts = parts[0].facts
            if classification.facts:
                facts = (*classification.facts, *facts)
        else:
            facts = (*classification.facts, *chain.from_iterable(map(_FACTS, parts)))
        level = _CRITICAL if _CRITICAL in map(_LEVEL, facts) else _HIGH
        # Every value is of its field's type already (`built` says why it is not validated).
        return built(
            Verdict,
            {
                "decision": _DENY,
                "layer": _SANDBOX,
                "reason": f"{first.reason}{more}",
                "rule": "sandbox",
                "policy": None,
                "risk_level": level,
                "risk_facts": tuple(dict.fromkeys(map(_KIND, facts))),
                "violation_type": "sandbox",
                "classification": classification,
                "policy_decision": None,
                "problems": (),
            },
        )


def _names_handed_on(classification: Classification) -> bool:
    """Whether a listing's names may become another program's arguments (`walk_of`'s
    `piped`): `find . | xargs cat`, and every spelling of it.

    The program that takes them is known by what the shell model made of it, never
    by the text: `xa''rgs`, `x\\args`, `xa${u}rgs` and `parallel` take names from
    stdin too. Such a part's arguments are known only at run time, so it is opaque; a
    listing comes first, so any opaque part after the first counts. That also counts
    a later part opaque for another reason (a glob, a variable): it walks a tree more
    often than needed, never less.
    """
    later = False
    for part in classification.parts:
        if later and part.opaque:
            return True
        later = True
    return "xargs" in (classification.command or "")


def _roots(named: tuple[str, ...], current: str) -> tuple[str, ...]:
    """Where a tree read naming the resolved paths `named` walks from."""
    if any(map(os.path.lexists, named)):
        return named
    # No word names a tree that exists: the words were patterns or revisions, not roots
    # (`git grep KEY`, `git ls-tree -r HEAD | xargs cat`), and the program reads from
    # where it stands. Walk that rather than nothing.
    return (current,)


def _reach(
    trees: TreeReads,
    walk: Walk,
    named: tuple[str, ...],
    current: str,
    approved: tuple[str, ...],
) -> str | None:
    """What a tree read naming `named` finds now, its roots chosen afresh (`_roots`)."""
    return trees.check(walk, _roots(named, current), approved)


def _credential_fact(verdict: PathVerdict, reason: str) -> RiskFact:
    """The fact that `verdict`'s path is a credential file (through a symlink, shown so)."""
    resolved = verdict.resolved
    shown = verdict.path if verdict.path == resolved else f"{verdict.path} (-> {resolved})"
    return make_fact("credential_access", f"{shown}: {reason}")


_new = object.__new__


def _checked(
    classification: Classification,
    index: int,
    part: CallPart,
    extra: Sequence[RiskFact],
    resolved: tuple[str, ...],
) -> Classification:
    """The call with its part `part` at `index` given the checked paths' facts and
    resolved paths.

    The classification as it came when there is nothing to add; else the checked part
    and the classification around it, built directly (every value is of its type).
    """
    if not extra and not resolved:
        return classification
    given = classification.parts
    checked = _checked_part(part, extra, resolved)
    # The call's fields as they are (a model's `__dict__` holds every field, in order),
    # its parts replaced: one read of the dict, where each field read by name goes
    # through pydantic's `__getattr__` hook, a generic lookup on every call.
    return built(
        Classification,
        {
            **classification.__dict__,
            "parts": (checked,)
            if len(given) == 1
            else (*given[:index], checked, *given[index + 1 :]),
        },
    )


def _checked_part(part: CallPart, extra: Sequence[RiskFact], resolved: tuple[str, ...]) -> CallPart:
    """`part` with `extra` after its facts and the paths `resolved`, every other field as
    it was: filled in as classify fills in a part (`open_slots`), since
    `dataclasses.replace` looks up the fields on every call."""
    checked: Any = _new(_OPEN_PART)
    checked.program = part.program
    checked.subcommand = part.subcommand
    checked.text = part.text
    checked.facts = (*part.facts, *extra) if extra else part.facts
    checked.paths = part.paths
    checked.resolved = resolved
    checked.subshell = part.subshell
    checked.args = part.args
    checked.opaque = part.opaque
    checked.__class__ = CallPart
    return checked  # type: ignore[no-any-return]


def _fact_kinds(classification: Classification, decision: PolicyDecision) -> tuple[str, ...]:
    """`classification.fact_kinds`, from the kinds the policy listed for each part.

    `PolicyEngine.evaluate` decides one part per part of the classification and,
    when the call has facts of its own, one more part holding them, last; each
    part's `facts` are its fact kinds in order, without repeats. The call's kinds
    are its own facts' first, then each part's, without repeats: the same tuple.
    """
    parts = decision.parts
    if len(parts) == 1:
        return parts[0].facts
    # Most calls of several parts have facts in one part at most (`cd src && pytest -q`
    # in none): that part's kinds, already without repeats, are the call's, wherever the
    # part stands. Only two parts with facts need the general pass.
    only: tuple[str, ...] = ()
    for part in parts:
        if part.facts:
            if only:
                break
            only = part.facts
    else:
        return only
    if classification.facts:
        parts = (parts[-1], *parts[:-1])
    return tuple(dict.fromkeys(chain.from_iterable(map(_FACTS, parts))))


class _Directories:
    """The working directory as a shell command moves through `cd`, `pushd` and `popd`.

    A `cd` at the top level moves the directory for the commands after it. A
    `cd` in a subshell (`(cd x)`, a pipeline stage) may or may not apply to
    what follows, so later relative paths are checked against both. A `cd`
    to a place only known at run time makes later relative paths unknown.
    """

    __slots__ = ("current", "known", "others", "stack")

    def __init__(self, start: str) -> None:
        self.current = start
        self.others: list[str] = []
        self.stack: list[str] = []
        self.known = True

    def change(self, part: CallPart, checked: Sequence[PathVerdict]) -> None:
        if part.program == "popd":
            if self.stack:
                self.current = self.stack.pop()
            else:
                self.known = False
            return
        for use in part.paths:
            if use.dynamic and use.access == "cd":
                self.known = False  # a `cd` to a place only known at run time
                return
        last = None
        for verdict in checked:
            if verdict.resolved is not None and verdict.allowed:
                last = verdict.resolved
        if last is None:
            self.known = False
            return
        if part.subshell:
            self.others.extend(v.resolved for v in checked if v.resolved is not None and v.allowed)
            return
        if part.program == "pushd":
            self.stack.append(self.current)
        self.current = last
