"""Policies that test themselves: each rule's `examples:` checked against the whole policy.

An example is a call and the decision the rule's author expects for it
(`examples: {allow: ["npm run build"], ask: [...], deny: [...]}`). It is run
through the same pipeline as a real call (analysis, sandbox, every layer), so
an example fails when any layer decides otherwise, and the failure says which
rule did decide. `tether policy test` prints them; start-up refuses a policy
whose examples fail.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from tether.core.safety.pipeline import SafetyPipeline
from tether.core.safety.policy import Action, Policy

__all__ = ["ExampleResult", "check_examples", "describe_failures"]


class ExampleResult(BaseModel):
    """One example: where it is written, what was expected, what was decided and by what."""

    model_config = ConfigDict(frozen=True)

    source: str
    line: int
    rule: str
    tool_name: str
    shown: str
    expected: Action
    actual: Action
    decided_by: str

    @property
    def passed(self) -> bool:
        return self.expected is self.actual

    def describe(self) -> str:
        verb = {"allow": "allow", "deny": "deny", "require_approval": "ask"}
        return (
            f"{self.source}:{self.line}: rule {self.rule!r} expects {verb[self.expected.value]} "
            f"for {self.tool_name} {self.shown!r}, but the policy says "
            f"{verb[self.actual.value]} ({self.decided_by})"
        )


def check_examples(
    stages: Sequence[tuple[Sequence[Policy], SafetyPipeline]], cwd: Path | str | None = None
) -> list[ExampleResult]:
    """Run the examples of each stage's files through that stage's pipeline.

    A stage is some files and the pipeline of the layers up to them: a preset's
    examples are judged by the base, a layer's by the base and the layers up to
    it. So your file relaxing one ask does not break the preset's own examples.
    """
    results: list[ExampleResult] = []
    for policies, pipeline in stages:
        results.extend(_check(policies, pipeline, cwd))
    return results


def _check(
    policies: Sequence[Policy], pipeline: SafetyPipeline, cwd: Path | str | None
) -> list[ExampleResult]:
    results: list[ExampleResult] = []
    for policy in policies:
        for rule in policy.rules:
            if rule.examples is None:
                continue
            for expected, item in rule.examples.items():
                tool_name, tool_input = _call(item)
                verdict = pipeline.decide(tool_name, tool_input, cwd=cwd)
                decided_by = verdict.rule or verdict.layer.value
                if verdict.policy:
                    decided_by = f"rule {decided_by!r} of {verdict.policy}"
                results.append(
                    ExampleResult(
                        source=policy.source,
                        line=rule.line,
                        rule=rule.name,
                        tool_name=tool_name,
                        shown=str(tool_input.get("command", tool_input))[:200],
                        expected=expected,
                        actual=verdict.decision,
                        decided_by=decided_by,
                    )
                )
    return results


def describe_failures(results: list[ExampleResult], limit: int = 5) -> str:
    """One line listing the first failures (for a start-up error)."""
    failures = [r for r in results if not r.passed]
    shown = "; ".join(r.describe() for r in failures[:limit])
    more = f" (and {len(failures) - limit} more)" if len(failures) > limit else ""
    return f"{len(failures)} policy example(s) fail: {shown}{more}"


def _call(item: str | dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if isinstance(item, str):
        return "Bash", {"command": item}
    tool = str(item.get("tool", "Bash"))
    given = item.get("input")
    tool_input = dict(given) if isinstance(given, dict) else {}
    return tool, tool_input
