"""Replay: re-judge the tool calls of an audit log under a proposed policy.

Each `tool_attempt` entry holds the call, its working directory and the
approved directories of the run. Replay runs the call through the same
pipeline as the gate (analysis, sandbox, every layer; nothing is executed)
and compares the new decision with the recorded one (what the pipeline
decided before any person). Entries whose input was cut for the log, or that
lack a working directory, are skipped and counted.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from tether.core.config import TetherConfig
from tether.core.safety.pipeline import SafetyPipeline
from tether.core.safety.registry.layered import ProgramLookup
from tether.exceptions import ConfigError

__all__ = ["ReplayChange", "ReplayReport", "replay_entries", "replay_file"]

_VERBS = {"allow": "allow", "deny": "deny", "require_approval": "ask"}
_MAX_LINE = 2_000_000


class ReplayChange(BaseModel):
    """One call whose decision would change."""

    model_config = ConfigDict(frozen=True)

    line: int
    tool_name: str
    shown: str
    before: str
    after: str
    rule: str | None


class ReplayReport(BaseModel):
    """What a policy would change over a recorded history."""

    model_config = ConfigDict(frozen=True)

    calls: int
    replayed: int
    skipped_truncated: int
    skipped_no_cwd: int
    skipped_malformed: int
    before: dict[str, int]
    after: dict[str, int]
    changes: tuple[ReplayChange, ...]
    by_rule: dict[str, int]
    top_asks: tuple[tuple[str, int], ...]

    def text(self) -> str:
        lines = [
            f"{self.calls} tool calls; {self.replayed} replayed, skipped: "
            f"{self.skipped_truncated} truncated in the log, {self.skipped_no_cwd} without a "
            f"working directory, {self.skipped_malformed} malformed",
            "before: " + _counts(self.before),
            "after:  " + _counts(self.after),
        ]
        relaxed = [c for c in self.changes if c.after == "allow"]
        tightened = [c for c in self.changes if c.after != "allow"]
        lines.append(
            f"{len(relaxed)} would now be allowed, {len(tightened)} would ask or deny more"
        )
        for change in self.changes[:40]:
            lines.append(
                f"  line {change.line}: {_VERBS.get(change.before, change.before)} -> "
                f"{_VERBS.get(change.after, change.after)}  {change.tool_name} {change.shown}"
                + (f"  ({change.rule})" if change.rule else "")
            )
        if self.by_rule:
            lines.append(
                "changes by rule: " + ", ".join(f"{r} {n}" for r, n in self.by_rule.items())
            )
        if self.top_asks:
            lines.append("most frequent asks left (a user or learned rule could remove them):")
            lines.extend(f"  {count}× {text}" for text, count in self.top_asks)
        return "\n".join(lines) + "\n"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{_VERBS.get(k, k)} {v}" for k, v in sorted(counts.items()))


def replay_file(
    path: Path, config: TetherConfig, *, programs: ProgramLookup | None = None
) -> ReplayReport:
    """Replay the audit log at `path` under the policy `config` names.

    `programs`: the plugins' program knowledge the daemon layers on Tether's.

    Raises:
        ConfigError: the file cannot be read, or the policy is malformed.
    """
    try:
        stream = path.expanduser().open("rb")
    except OSError as error:
        raise ConfigError(f"audit log {str(path)!r} cannot be read: {error.strerror}") from error
    with stream:
        return replay_entries(_entries(stream), config, programs=programs)


def _entries(stream: Any) -> Iterator[tuple[int, dict[str, Any] | None]]:
    for number, raw in enumerate(stream, start=1):
        if len(raw) > _MAX_LINE:
            yield number, None
            continue
        try:
            entry = json.loads(raw)
        except (ValueError, RecursionError):
            yield number, None
            continue
        if isinstance(entry, dict) and entry.get("event_type") == "tool_attempt":
            yield number, entry


def replay_entries(
    entries: Iterator[tuple[int, dict[str, Any] | None]],
    config: TetherConfig,
    *,
    programs: ProgramLookup | None = None,
) -> ReplayReport:
    """Replay `(line, entry)` pairs (None: a malformed line) under `config`'s policy."""
    pipelines: dict[tuple[str, ...], SafetyPipeline | None] = {}
    calls = replayed = truncated = no_cwd = malformed = 0
    before: Counter[str] = Counter()
    after: Counter[str] = Counter()
    by_rule: Counter[str] = Counter()
    asks: Counter[str] = Counter()
    changes: list[ReplayChange] = []
    for line, entry in entries:
        calls += 1
        if entry is None:
            malformed += 1
            continue
        decision = entry.get("decision")
        tool_name = entry.get("tool_name")
        tool_input = entry.get("tool_input")
        if not isinstance(decision, dict) or not isinstance(tool_name, str):
            malformed += 1
            continue
        if entry.get("input_truncated") is not False:
            truncated += 1
            continue
        cwd = entry.get("cwd")
        directories = entry.get("approved_directories")
        if not isinstance(cwd, str) or not isinstance(directories, list) or not directories:
            no_cwd += 1
            continue
        key = tuple(str(d) for d in directories)
        if key not in pipelines:
            pipelines[key] = _pipeline(config, key, programs)
        pipeline = pipelines[key]
        if pipeline is None:
            no_cwd += 1
            continue
        replayed += 1
        old = str(decision.get("decision") or ("allow" if decision.get("allowed") else "deny"))
        verdict = pipeline.decide(tool_name, tool_input, cwd=cwd)
        new = verdict.decision.value
        before[old] += 1
        after[new] += 1
        shown = _shown(tool_input)
        if new == "require_approval":
            asks[f"{tool_name} {shown}"] += 1
        if new != old:
            rule = verdict.rule or verdict.layer.value
            by_rule[rule] += 1
            changes.append(
                ReplayChange(
                    line=line, tool_name=tool_name, shown=shown, before=old, after=new, rule=rule
                )
            )
    return ReplayReport(
        calls=calls,
        replayed=replayed,
        skipped_truncated=truncated,
        skipped_no_cwd=no_cwd,
        skipped_malformed=malformed,
        before=dict(before),
        after=dict(after),
        changes=tuple(changes),
        by_rule=dict(by_rule.most_common()),
        top_asks=tuple(asks.most_common(5)),
    )


def _pipeline(
    config: TetherConfig, directories: tuple[str, ...], programs: ProgramLookup | None
) -> SafetyPipeline | None:
    """A pipeline for the recorded run's approved directories (None: they no longer exist)."""
    from tether.app import build_safety_pipeline  # app.py is the one place that wires parts

    existing = tuple(Path(d) for d in directories if Path(d).is_dir())
    if not existing:
        return None
    update = {"approved_directories": existing}
    return build_safety_pipeline(
        config.model_copy(update=update), check_examples=False, programs=programs
    )


def _shown(tool_input: Any) -> str:
    if isinstance(tool_input, dict):
        for field in ("command", "file_path", "path", "url", "pattern"):
            value = tool_input.get(field)
            if isinstance(value, str):
                return value if len(value) <= 100 else value[:99] + "…"
    return json.dumps(tool_input)[:100]
