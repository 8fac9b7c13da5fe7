"""PolicyEngine: first match per file, strictest across files, floors nobody can lower."""

from __future__ import annotations

from typing import Any

import pytest

from tether.core.safety.classify import CallPart, Classification, Classifier
from tether.core.safety.facts import FACTS, PathUse, RiskFact, RiskLevel, make_fact
from tether.core.safety.floor import FLOOR_FACTS, FLOOR_LAYER
from tether.core.safety.policy import Action, Policy, PolicyEngine, PolicyRule
from tether.core.safety.tools import ToolKind

P = pytest.param


def rule(**fields: Any) -> PolicyRule:
    fields.setdefault("name", "r")
    fields.setdefault("action", "allow")
    return PolicyRule.model_validate(fields)


def policy(*rules: PolicyRule, name: str = "p", default: str | None = None) -> Policy:
    settings = {"default_action": default} if default else {}
    return Policy.model_validate({"name": name, "rules": rules, "settings": settings})


def shell(*parts: CallPart) -> Classification:
    return Classification(tool_name="Bash", kind=ToolKind.SHELL, command="x", parts=parts)


def part(program: str | None = "ls", *facts: str, **fields: Any) -> CallPart:
    fields.setdefault("text", program or "")
    return CallPart(program=program, facts=tuple(make_fact(f) for f in facts), **fields)


@pytest.mark.parametrize(
    ("matcher", "target", "matches"),
    [
        P({"tools": ["Bash"]}, part(), True, id="tool"),
        P({"tools": ["mcp__*"]}, part(), False, id="tool-glob-miss"),
        P({"programs": ["ls"]}, part("ls"), True, id="program"),
        P({"programs": ["LS"]}, part("ls"), True, id="program-case"),
        P({"programs": ["py*"]}, part("pytest"), True, id="program-glob"),
        P({"programs": ["ls"]}, part(None), False, id="program-on-non-shell"),
        P(
            {"programs": ["git"], "subcommands": ["status"]},
            part("git", subcommand=("status",)),
            True,
            id="subcommand",
        ),
        P(
            {"programs": ["npm"], "subcommands": ["run test"]},
            part("npm", subcommand=("run", "build")),
            False,
            id="subcommand-two-words",
        ),
        P(
            {"programs": ["npm"], "subcommands": ["test", "run test"]},
            part("npm", subcommand=("run", "test", "-x")),
            True,
            id="subcommand-two-words-prefix",
        ),
        P(
            {"programs": ["git"], "subcommands": ["status"]},
            part("git"),
            False,
            id="subcommand-none-given",
        ),
        P(
            {"programs": ["git"], "subcommands": ["status"]},
            part("git", subcommand=("statusx",)),
            False,
            id="subcommand-whole-word",
        ),
        P(
            {"programs": ["git"], "subcommands": ["", "status"]},
            part("git", subcommand=("push",)),
            True,
            id="subcommand-empty-matches-any",
        ),
        P({"command_patterns": [r"^ls\b"]}, part("ls", text="ls -la"), True, id="pattern"),
        P({"command_patterns": ["^rm"]}, part("ls"), False, id="pattern-miss"),
        P(
            {"path_patterns": ["*.lock"]},
            part("cat", paths=(PathUse(path="deps/x.lock", access="read"),)),
            True,
            id="path-basename",
        ),
        P(
            {"path_patterns": ["/etc/**"]},
            part("cat", resolved=("/etc/ssh/x",)),
            True,
            id="path-anchored-resolved",
        ),
        P(
            {"path_patterns": ["docs/**"]},
            part("cat", paths=(PathUse(path="src/x", access="read"),)),
            False,
            id="path-miss",
        ),
        P({"risk_facts": ["network"]}, part("curl", "network"), True, id="fact"),
        P({"risk_facts": ["network"]}, part("ls"), False, id="fact-miss"),
        P({"min_risk_level": "high"}, part("rm", "file_delete"), True, id="risk-level"),
        P({"min_risk_level": "critical"}, part("rm", "file_delete"), False, id="risk-level-miss"),
        P(
            {"tools": ["Bash"], "programs": ["rm"], "risk_facts": ["network"]},
            part("rm", "file_delete"),
            False,
            id="all-keys-must-match",
        ),
    ],
)
def test_rule_matching(matcher: dict[str, Any], target: CallPart, matches: bool) -> None:
    assert rule(**matcher).matches("Bash", target) is matches


def evaluate(classifier: Classifier, policies: list[Policy], target: Classification) -> Any:
    return PolicyEngine(policies, classifier).evaluate(target)


def test_first_match_wins_within_a_file(classifier: Classifier) -> None:
    first = rule(name="ask-rm", programs=["rm"], action="ask")
    second = rule(name="allow-rm", programs=["rm"], action="allow")
    decision = evaluate(classifier, [policy(first, second)], shell(part("rm")))
    assert decision.action is Action.REQUIRE_APPROVAL
    assert decision.rule == "ask-rm"


def test_strictest_file_wins(classifier: Classifier) -> None:
    base = policy(rule(name="allow-ls", programs=["ls"]), name="base")
    overlay = policy(rule(name="ask-ls", programs=["ls"], action="ask"), name="overlay")
    decision = evaluate(classifier, [base, overlay], shell(part("ls")))
    assert decision.action is Action.REQUIRE_APPROVAL
    assert (decision.rule, decision.policy) == ("ask-ls", "overlay")


def test_overlay_fills_gaps_but_cannot_relax(classifier: Classifier) -> None:
    base = policy(rule(name="ask-writes", risk_facts=["file_write"], action="ask"), default="ask")
    overlay = policy(rule(name="allow-ruff", programs=["ruff", "sed"]), name="dev")
    engine = PolicyEngine([base, overlay], classifier)
    assert engine.evaluate(shell(part("ruff"))).action is Action.ALLOW
    assert engine.evaluate(shell(part("sed", "file_write"))).action is Action.REQUIRE_APPROVAL


def test_deny_anywhere_denies(classifier: Classifier) -> None:
    base = policy(rule(name="allow-all-ls", programs=["ls"]))
    overlay = policy(rule(name="no-ls", programs=["ls"], action="deny"), name="overlay")
    assert evaluate(classifier, [base, overlay], shell(part("ls"))).action is Action.DENY


def test_default_action_when_every_file_abstains(classifier: Classifier) -> None:
    base = policy(rule(programs=["ls"]), default="deny")
    overlay = policy(rule(name="o", programs=["cat"]), name="overlay")
    decision = evaluate(classifier, [base, overlay], shell(part("frob")))
    assert decision.action is Action.DENY
    assert decision.rule is None
    assert "default" in decision.reason


def test_default_action_defaults_to_asking(classifier: Classifier) -> None:
    decision = evaluate(classifier, [policy(rule(programs=["ls"]))], shell(part("frob")))
    assert decision.action is Action.REQUIRE_APPROVAL


def test_later_default_action_wins(classifier: Classifier) -> None:
    engine = PolicyEngine([policy(default="deny"), policy(default="allow", name="b")], classifier)
    assert engine.default_action is Action.ALLOW


def test_one_denied_part_denies_the_call(classifier: Classifier) -> None:
    rules = policy(
        rule(name="ok", programs=["ls"]), rule(name="no", programs=["rm"], action="deny")
    )
    decision = evaluate(classifier, [rules], shell(part("ls"), part("rm")))
    assert decision.action is Action.DENY
    assert [p.action for p in decision.parts] == [Action.ALLOW, Action.DENY]


def test_allowed_only_if_every_part_is(classifier: Classifier) -> None:
    rules = policy(rule(name="ok", programs=["ls"]), default="ask")
    decision = evaluate(classifier, [rules], shell(part("ls"), part("python")))
    assert decision.action is Action.REQUIRE_APPROVAL


@pytest.mark.parametrize(
    "fact",
    ["not_understood", "dynamic_command", "unresolved_path", "unknown_tool"],
)
def test_what_the_analysis_cannot_see_always_asks(classifier: Classifier, fact: str) -> None:
    everything = policy(rule(name="allow-all", min_risk_level="none"), default="allow")
    decision = evaluate(classifier, [everything], shell(part("x", fact)))
    assert decision.action is Action.REQUIRE_APPROVAL
    assert "never allowed without a person" in decision.reason


@pytest.mark.parametrize("fact", sorted(FLOOR_FACTS))
def test_the_floor_denies_every_critical_fact_whatever_the_files_say(
    classifier: Classifier, fact: str
) -> None:
    everything = policy(rule(name="allow-all", min_risk_level="none"), default="allow")
    decision = evaluate(classifier, [everything], shell(part("x", fact)))
    assert decision.action is Action.DENY
    assert decision.rule == f"floor:{fact}"
    assert decision.policy == FLOOR_LAYER


@pytest.mark.parametrize("fact", [*sorted(FLOOR_FACTS), "plugin_secret"])
@pytest.mark.parametrize("detail", ["", "rm -rf /"])
@pytest.mark.parametrize("text", ["rm -rf /", "", "x" * 121], ids=["text", "no-text", "long"])
def test_a_floor_denial_is_worded_with_its_kind_summary_and_detail(
    classifier: Classifier, fact: str, detail: str, text: str
) -> None:
    """The floor's words, taken from a table made once, read as the catalogue words them;
    a critical fact the catalogue does not know (a plugin's) is named by its kind."""
    critical = RiskFact(kind=fact, level=RiskLevel.CRITICAL, detail=detail)
    target = CallPart(program="rm", text=text, facts=(critical,))
    decision = evaluate(classifier, [policy(rule(programs=["rm"]))], shell(target))
    summary = FACTS[fact].summary if fact in FACTS else fact
    shown = text if len(text) <= 120 else text[:117] + "..."
    subject = f"Bash `{shown}`" if text else "Bash"
    tail = f" — {detail}" if detail else ""
    assert decision.parts[0].reason == f"{summary} [floor: {fact}]: {subject}{tail}"
    assert decision.reason == decision.parts[0].reason
    assert (decision.rule, decision.parts[0].facts) == (f"floor:{fact}", (fact,))


def test_whole_call_facts_are_judged_too(classifier: Classifier) -> None:
    target = Classification(
        tool_name="Bash",
        kind=ToolKind.SHELL,
        command="ls ((",
        parts=(part("ls"),),
        facts=(make_fact("not_understood"),),
    )
    decision = evaluate(classifier, [policy(rule(programs=["ls"]), default="allow")], target)
    assert decision.action is Action.REQUIRE_APPROVAL


def test_command_that_runs_nothing_is_allowed(classifier: Classifier) -> None:
    assert evaluate(classifier, [policy(default="deny")], shell()).action is Action.ALLOW


def test_deny_reason_names_rule_and_command(classifier: Classifier) -> None:
    deny = rule(name="no-net", risk_facts=["network"], action="deny", reason="No network")
    decision = evaluate(classifier, [policy(deny)], shell(part("curl", "network", text="curl x")))
    assert decision.reason.startswith("No network [no-net]")
    assert "curl x" in decision.reason


def test_classifications_are_cached_by_what_they_read(classifier: Classifier) -> None:
    engine = PolicyEngine([policy(default="ask")], classifier, cache_size=2)
    first = engine.classify("Write", {"file_path": "a", "content": "1"})
    assert engine.classify("Write", {"file_path": "a", "content": "2"}) is first
    engine.classify("Bash", {"command": "ls"})
    engine.classify("Bash", {"command": "pwd"})
    assert engine.classify("Write", {"file_path": "a", "content": "3"}) is not first


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        P({"action": "maybe"}, "not an action", id="bad-action"),
        P({"risk_facts": ["nope"]}, "unknown risk fact", id="unknown-fact"),
        P({"command_patterns": ["("]}, "not a valid regular expression", id="bad-regex"),
        P({"programs": ["ls"], "colour": "red"}, "Extra inputs", id="unknown-key"),
        P({}, "matches nothing in particular", id="no-matcher"),
        P({"subcommands": ["status"]}, "subcommands need programs", id="subcommands-alone"),
    ],
)
def test_malformed_rules_are_refused(fields: dict[str, Any], message: str) -> None:
    fields.setdefault("name", "r")
    fields.setdefault("action", "deny")
    with pytest.raises(ValueError, match=message):
        PolicyRule.model_validate(fields)


@pytest.mark.parametrize("alias", ["ask", "require_approval", "require-approval", "ASK"])
def test_ask_is_an_alias(alias: str) -> None:
    assert rule(programs=["x"], action=alias).action is Action.REQUIRE_APPROVAL


def test_rule_names_are_unique() -> None:
    with pytest.raises(ValueError, match="named 'r'"):
        policy(rule(programs=["a"]), rule(programs=["b"]))


def test_needs_a_policy(classifier: Classifier) -> None:
    with pytest.raises(ValueError, match="at least one"):
        PolicyEngine([], classifier)
