"""RuleIndex: a file's first matching rule, found among fewer rules, is the scan's answer.

`Policy.first_match` scans every rule in order; the engine asks a `RuleIndex`
that tries only the rules a part could match. Every test here holds the two
to the same answer: on every corpus call under every preset, on a user file
using every kind of matcher, and on generated rules and parts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tether.core.safety.classify import CallPart, Classification
from tether.core.safety.facts import FACTS, PathUse, RiskLevel, make_fact
from tether.core.safety.pipeline import SafetyPipeline
from tether.core.safety.policy import Policy, PolicyRule, RuleIndex
from tether.core.safety.policy_files import load_policy

P = pytest.param
_CORPUS = Path(__file__).parent / "corpus"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# A user's file with every kind of matcher, alone and combined, literal and glob,
# interleaved so that rules filed under different keys alternate in file order.
_EVERY_MATCHER = """
version: 1
name: every-matcher
rules:
  - {name: net-fact, risk_facts: [network], action: ask}
  - {name: curl-program, programs: [curl], action: allow}
  - {name: bash-tool, tools: [Bash], command_patterns: ['--force'], action: deny}
  - {name: mcp-glob, tools: ['mcp__*'], action: ask}
  - {name: read-tool, tools: [Read, Grep], path_patterns: ['*.md'], action: allow}
  - {name: git-status, programs: [git], subcommands: [status, 'log --oneline'], action: allow}
  - {name: upper-program, programs: [LS, Cat], action: allow}
  - {name: glob-program, programs: ['py*', make], action: allow}
  - {name: npm-run, commands: ['npm run *', 'git * --stat'], action: allow}
  - {name: regex, command_patterns: ['^echo\\b', 'rm\\s+-rf'], action: ask}
  - {name: etc-paths, path_patterns: ['/etc/**', 'src/**', '*.pem'], action: deny}
  - {name: high-level, min_risk_level: high, action: ask}
  - {name: writes-in-bash, tools: [Bash], risk_facts: [file_write], action: ask}
  - {name: facts-and-program, programs: [rm], risk_facts: [recursive_delete], action: deny}
  - {name: tool-glob-and-fact, tools: ['W*'], risk_facts: [file_write], action: ask}
  - {name: medium-git, programs: [git], min_risk_level: medium, action: ask}
  - {name: low-anything, min_risk_level: low, action: allow}
"""


def _corpus_calls() -> list[tuple[str, Any]]:
    calls: list[tuple[str, Any]] = []
    for path in sorted(_CORPUS.glob("*.yaml")):
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
        for case in document["cases"]:
            if "cmd" in case:
                calls.append(("Bash", {"command": case["cmd"]}))
            else:
                calls.append((case["tool"], case["input"]))
    return calls


def _parts(classification: Classification) -> list[CallPart]:
    """The parts the engine judges: each part, and the whole call's own facts."""
    parts = list(classification.parts)
    if classification.facts:
        parts.append(
            CallPart(
                text=classification.command or classification.tool_name,
                facts=classification.facts,
            )
        )
    return parts


@pytest.fixture(scope="module")
def every_matcher(tmp_path_factory: pytest.TempPathFactory) -> Policy:
    path = tmp_path_factory.mktemp("policy") / "policy.yaml"
    path.write_text(_EVERY_MATCHER, encoding="utf-8")
    return load_policy(str(path))


@pytest.fixture(scope="module")
def corpus_classifications(
    shared_pipelines: dict[str, SafetyPipeline],
) -> list[Classification]:
    """Every corpus call as the engine sees it: classified, paths resolved."""
    pipeline = shared_pipelines["default"]
    found = []
    for tool, tool_input in _corpus_calls():
        verdict = pipeline.decide(tool, tool_input)
        if verdict.classification is not None:
            found.append(verdict.classification)
    assert len(found) > 1000
    return found


def _mismatches(policy: Policy, classifications: list[Classification]) -> list[str]:
    index = RuleIndex(policy.rules)
    wrong = []
    for classification in classifications:
        tool = classification.tool_name
        for part in _parts(classification):
            indexed, scanned = index.first_match(tool, part), policy.first_match(tool, part)
            if indexed is not scanned:
                wrong.append(f"{tool} {part.text!r}: index {indexed}, scan {scanned}")
    return wrong


@pytest.mark.parametrize("preset", ["default", "strict", "permissive", "dev-tools"])
def test_every_corpus_call_finds_the_scans_rule_under_each_preset(
    preset: str, presets: dict[str, Policy], corpus_classifications: list[Classification]
) -> None:
    assert _mismatches(presets[preset], corpus_classifications) == []


def test_every_corpus_call_finds_the_scans_rule_in_a_file_with_every_matcher(
    every_matcher: Policy, corpus_classifications: list[Classification]
) -> None:
    assert _mismatches(every_matcher, corpus_classifications) == []


def _part(program: str | None, *facts: str, **fields: Any) -> CallPart:
    fields.setdefault("text", program or "")
    return CallPart(program=program, facts=tuple(make_fact(f) for f in facts), **fields)


@pytest.mark.parametrize(
    ("tool", "target", "expected"),
    [
        P("Bash", _part("curl", "network"), "net-fact", id="fact-rule-before-program-rule"),
        P("Bash", _part("curl"), "curl-program", id="program-rule-when-fact-absent"),
        P("Bash", _part("git", text="git push --force"), "bash-tool", id="tool-rule-first"),
        P("mcp__db__query", _part(None, "mcp_tool"), "mcp-glob", id="tool-glob"),
        P(
            "Read",
            _part(None, "file_read", paths=(PathUse("README.md", "read"),), text="README.md"),
            "read-tool",
            id="literal-tools-and-path",
        ),
        P("Bash", _part("git", subcommand=("status",)), "git-status", id="subcommand"),
        P("Bash", _part("git", subcommand=("log", "--oneline")), "git-status", id="two-words"),
        P("Bash", _part("ls"), "upper-program", id="program-written-in-capitals"),
        P("Bash", _part("LS", "file_read"), "low-anything", id="capitals-are-another-program"),
        P("Bash", _part("pytest"), "glob-program", id="program-glob"),
        P("Bash", _part("make"), "glob-program", id="literal-beside-a-glob"),
        P("Bash", _part("npm", args=("run", "build")), "npm-run", id="command-glob"),
        P("Bash", _part("echo", text="echo hi"), "regex", id="command-pattern"),
        P("Bash", _part("head", resolved=("/etc/passwd",)), "etc-paths", id="path-pattern"),
        P("Bash", _part("sed", "file_write"), "high-level", id="min-level-before-facts"),
        P("Bash", _part("git", "git_mutation"), "high-level", id="min-level-before-program"),
        P("Bash", _part("git", "inline_code"), "high-level", id="fact-level"),
        P("Bash", _part("true", "file_read"), "low-anything", id="always-tried"),
        P("Bash", _part("true"), None, id="nothing-matches"),
    ],
)
def test_the_first_rule_in_file_order_wins_across_index_keys(
    every_matcher: Policy, tool: str, target: CallPart, expected: str | None
) -> None:
    found = RuleIndex(every_matcher.rules).first_match(tool, target)
    assert (found.name if found else None) == expected
    assert found is every_matcher.first_match(tool, target)


def test_an_empty_file_abstains() -> None:
    assert RuleIndex(()).first_match("Bash", _part("ls")) is None


# Generated rules and parts: small pools, so that matches are common.
_PROGRAMS = ["git", "ls", "LS", "curl", "rm", "pytest", "npm", "cat", "Make"]
_TOOLS = ["Bash", "Read", "Write", "mcp__x__y", "WebFetch", "Grep"]
_FACT_KINDS = ["network", "file_write", "file_read", "recursive_delete", "git_mutation", "unvetted"]
_rule_specs = st.fixed_dictionaries(
    {},
    optional={
        "tools": st.lists(st.sampled_from([*_TOOLS, "mcp__*", "W*", "[BR]*"]), min_size=1),
        "programs": st.lists(st.sampled_from([*_PROGRAMS, "py*", "g?t", "[cl]*"]), min_size=1),
        "commands": st.lists(st.sampled_from(["git *", "npm run *", "ls -la", "rm -r? *"])),
        "command_patterns": st.lists(st.sampled_from([r"^git\b", "force", "x$"]), max_size=2),
        "path_patterns": st.lists(st.sampled_from(["*.py", "/etc/**", "src/**", "a?"])),
        "risk_facts": st.lists(st.sampled_from(_FACT_KINDS), min_size=1, max_size=3),
        "min_risk_level": st.sampled_from([level.value for level in RiskLevel]),
        "action": st.sampled_from(["allow", "ask", "deny"]),
    },
)
_parts_strategy = st.builds(
    lambda program, facts, words, sub, path, resolved, opaque: CallPart(
        program=program,
        subcommand=tuple(sub),
        text=" ".join([program or "", *words]),
        facts=tuple(make_fact(kind) for kind in facts),
        paths=tuple(PathUse(p, "read") for p in path),
        resolved=tuple(resolved),
        args=tuple(words),
        opaque=opaque,
    ),
    st.none() | st.sampled_from(_PROGRAMS),
    st.lists(st.sampled_from(sorted(FACTS)[:12] + _FACT_KINDS), max_size=3),
    st.lists(st.sampled_from(["run", "test", "-la", "status", "--force", "x"]), max_size=3),
    st.lists(st.sampled_from(["status", "run", "test"]), max_size=2),
    st.lists(st.sampled_from(["src/a.py", "a1", "../x"]), max_size=2),
    st.lists(st.sampled_from(["/etc/hosts", "/p/src/m.py"]), max_size=1),
    st.booleans(),
)


def _rules(specs: list[dict[str, Any]]) -> tuple[PolicyRule, ...]:
    rules = []
    for number, spec in enumerate(specs):
        fields = {"name": f"r{number}", "action": "allow", **spec}
        if not any(k in fields for k in ("tools", "programs", "risk_facts", "min_risk_level")):
            fields["min_risk_level"] = "none"
        if "programs" in fields and number % 3 == 0:
            fields["subcommands"] = ["status", "run test"]
        rules.append(PolicyRule.model_validate(fields))
    return tuple(rules)


@settings(
    max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    specs=st.lists(_rule_specs, max_size=12),
    parts=st.lists(_parts_strategy, min_size=1, max_size=6),
    tool=st.sampled_from(_TOOLS),
)
def test_generated_rules_and_parts_find_the_scans_rule(
    specs: list[dict[str, Any]], parts: list[CallPart], tool: str
) -> None:
    policy = Policy(name="generated", rules=_rules(specs))
    index = RuleIndex(policy.rules)
    for target in parts:
        assert index.first_match(tool, target) is policy.first_match(tool, target)
