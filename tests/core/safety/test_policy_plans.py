"""The engine's plans for parts without facts decide exactly as the general way does.

`PolicyEngine` decides a shell part without facts from a plan made when the
engine is built: for its program, each file's rules that can match such a part,
with only their word and path tests left (`RuleIndex.plain`). Every test here
holds that shortcut to the general way (the rule index, itself held to a scan of
every rule in `test_rule_index.py`) and to a plain scan of the files: the whole
decision, model for model, over every corpus call under every preset and with
layers, and over generated rule sets and parts. A broken plan must fail them.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tether.core.safety import policy as policy_module
from tether.core.safety.classify import CallPart, Classification, Classifier
from tether.core.safety.facts import PathUse, RiskFact, RiskLevel, make_fact
from tether.core.safety.pipeline import SafetyPipeline
from tether.core.safety.policy import (
    Action,
    Policy,
    PolicyDecision,
    PolicyEngine,
    PolicyRule,
    RuleIndex,
)
from tether.core.safety.tools import tool_kind

P = pytest.param
_CORPUS = Path(__file__).parent / "corpus"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# A layer above the base with rules of every kind a plan must carry: literal and
# glob programs, subcommands of one and more words, command globs, patterns and
# paths, and an allow the layer may only apply to a part the analysis saw whole.
_LAYER = Policy.model_validate(
    yaml.safe_load(
        """
        name: team
        layer: user
        rules:
          - {name: team-status, programs: [git], subcommands: [status], action: deny}
          - {name: team-log, programs: [git], subcommands: [log -p], action: ask}
          - {name: team-py, programs: ['py*'], action: allow}
          - {name: team-npm, commands: ['npm run *'], action: allow}
          - {name: team-echo, tools: [Bash], command_patterns: ['^echo x'], action: ask}
          - {name: team-src, programs: [cat, ls], path_patterns: ['src/**'], action: deny}
          - {name: team-ls, programs: [ls, '['], action: allow}
          - {name: team-cd, programs: [cd], action: ask}
        """
    )
)


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


@pytest.fixture(scope="module")
def corpus_classifications(shared_pipelines: dict[str, SafetyPipeline]) -> list[Classification]:
    """Every corpus call as the engine sees it: classified, paths resolved."""
    pipeline = shared_pipelines["default"]
    found = []
    for tool, tool_input in _corpus_calls():
        verdict = pipeline.decide(tool, tool_input)
        if verdict.classification is not None:
            found.append(verdict.classification)
    assert len(found) > 1000
    return found


def _without_plans(engine: PolicyEngine) -> PolicyEngine:
    """The same engine deciding every part the general way."""
    general = PolicyEngine(engine.policies, engine.classifier, layers=engine.layers)
    general._plain = {}
    general._one_fact = {}
    return general


def _mismatches(engine: PolicyEngine, classifications: list[Classification]) -> list[str]:
    general = _without_plans(engine)
    wrong = []
    for classification in classifications:
        got, expected = engine.evaluate(classification), general.evaluate(classification)
        # Every field, every part: action, rule, file, reason, facts and line.
        if got.model_dump() != expected.model_dump():
            wrong.append(f"{classification.command or classification.tool_name!r}: {got.reason}")
    return wrong


ENGINES = [
    P(("default",), (), id="default"),
    P(("strict",), (), id="strict"),
    P(("permissive",), (), id="permissive"),
    P(("dev-tools",), (), id="dev-tools"),
    P(("default", "dev-tools"), (), id="default+dev-tools"),
    P(("default",), (_LAYER,), id="default-with-layer"),
    P(("strict", "dev-tools"), (_LAYER,), id="strict+dev-tools-with-layer"),
]


@pytest.mark.parametrize(("base", "layers"), ENGINES)
def test_every_corpus_call_is_decided_as_the_general_way_decides_it(
    classifier: Classifier,
    presets: dict[str, Policy],
    corpus_classifications: list[Classification],
    base: tuple[str, ...],
    layers: tuple[Policy, ...],
) -> None:
    engine = PolicyEngine([presets[name] for name in base], classifier, layers=layers)
    assert _mismatches(engine, corpus_classifications) == []


def _without_fixed_outcomes(engine: PolicyEngine) -> PolicyEngine:
    """The same engine following every plan part by part (none taken as fixed, for every
    part or for a subcommand's first word)."""
    stepwise = PolicyEngine(engine.policies, engine.classifier, layers=engine.layers)
    stepwise._plain = {
        tool: {program: (*plan[:2], None, None) for program, plan in plans.items()}
        for tool, plans in engine._plain.items()
    }
    stepwise._one_fact = {
        tool: {
            kind: ((*plan[:2], None, None), level, rank)
            for kind, (plan, level, rank) in one.items()
        }
        for tool, one in engine._one_fact.items()
    }
    return stepwise


@pytest.mark.parametrize(("base", "layers"), ENGINES)
def test_a_fixed_outcome_is_what_following_the_plan_chooses(
    classifier: Classifier,
    presets: dict[str, Policy],
    corpus_classifications: list[Classification],
    base: tuple[str, ...],
    layers: tuple[Policy, ...],
) -> None:
    """A plan whose outcome is the same for every part decides it once: as its steps do,
    each part's fields in the same order (an outcome's fields are copied, not written)."""
    engine = PolicyEngine([presets[name] for name in base], classifier, layers=layers)
    stepwise = _without_fixed_outcomes(engine)
    for classification in corpus_classifications:
        got, expected = engine.evaluate(classification), stepwise.evaluate(classification)
        assert got.model_dump() == expected.model_dump()
        assert [list(part.__dict__.items()) for part in got.parts] == [
            list(part.__dict__.items()) for part in expected.parts
        ]


def test_most_plans_have_a_fixed_outcome_and_a_tested_one_has_none(
    classifier: Classifier, presets: dict[str, Policy]
) -> None:
    """Programs with one rule (`pytest`) are decided once; `git`'s subcommands per part,
    and so is every part a layer may decide (the layer reads whether it is opaque)."""
    plans = PolicyEngine([presets["default"]], classifier)._plain["Bash"]
    assert plans["pytest"][2] is not None
    assert plans["git"][2] is None
    assert sum(plan[2] is not None for plan in plans.values()) > len(plans) // 2
    layered = PolicyEngine([presets["default"]], classifier, layers=[_LAYER])._plain["Bash"]
    # `team-echo` names the tool Bash: it is a candidate for every Bash part.
    assert all(plan[2] is None for plan in layered.values())


def test_most_corpus_parts_take_a_plan(
    classifier: Classifier,
    presets: dict[str, Policy],
    corpus_classifications: list[Classification],
) -> None:
    """The differential tests above are about the plans only if the plans are used."""
    engine = PolicyEngine([presets["default"]], classifier)
    plans = engine._plain["Bash"]
    parts = [p for c in corpus_classifications if c.tool_name == "Bash" for p in c.parts]
    planned = [p for p in parts if not p.facts and p.program in plans]
    assert len(planned) > 300


def _part(program: str, *words: str, **fields: Any) -> CallPart:
    fields.setdefault("text", " ".join((program, *words)))
    return CallPart(program=program, args=words, **fields)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        P(_part("git", "status", subcommand=("status",)), ("deny", "team-status"), id="layer-deny"),
        P(_part("git", "log", "-p", subcommand=("log", "-p")), ("ask", "team-log"), id="two-words"),
        P(_part("git", "log", subcommand=("log",)), ("allow", "git-read"), id="prefix-only"),
        P(_part("pytest", "-q"), ("allow", "test-runners"), id="base-allow-kept"),
        P(_part("ls", "d/a", resolved=("/p/d/a",)), ("allow", "read-only-shell"), id="path"),
        P(_part("ls", "d", resolved=("/p/src/a",)), ("deny", "team-src"), id="resolved"),
        P(_part("ls", paths=(PathUse("src/a", "read"),)), ("deny", "team-src"), id="path-given"),
        P(_part("[", "-f", "x"), ("allow", "read-only-shell"), id="bracket-program"),
        P(_part("npm", "run", "x", opaque=True), ("ask", None), id="opaque-wildcard"),
        P(_part("npm", "run", "x"), ("allow", "team-npm"), id="command-glob"),
        P(_part("echo", "x"), ("ask", "team-echo"), id="pattern-tightens"),
        P(_part("cd", "src"), ("ask", "team-cd"), id="layer-asks"),
    ],
)
def test_a_plan_finds_the_rule_a_scan_finds(
    classifier: Classifier,
    presets: dict[str, Policy],
    target: CallPart,
    expected: tuple[str, str | None],
) -> None:
    engine = PolicyEngine([presets["default"]], classifier, layers=[_LAYER])
    assert target.program in engine._plain["Bash"]
    decision = engine.evaluate(Classification(tool_name="Bash", kind="shell", parts=(target,)))
    assert (decision.action.value, decision.parts[0].rule) == (
        Action.parse(expected[0]).value,
        expected[1],
    )
    general = _without_plans(engine).evaluate(
        Classification(tool_name="Bash", kind="shell", parts=(target,))
    )
    assert decision == general


def test_a_broken_plan_fails_the_differential_test(
    monkeypatch: pytest.MonkeyPatch,
    classifier: Classifier,
    presets: dict[str, Policy],
    corpus_classifications: list[Classification],
) -> None:
    """A plan that forgets a rule's subcommand test (a plausible slip) is caught."""
    real = RuleIndex.plain

    def careless(self: RuleIndex, tool_name: str, program: str) -> tuple[Any, ...]:
        return tuple((None, matcher) for _, matcher in real(self, tool_name, program))

    monkeypatch.setattr(RuleIndex, "plain", careless)
    engine = PolicyEngine([presets["default"]], classifier)
    assert _mismatches(engine, corpus_classifications) != []


def test_a_subcommand_word_fixes_the_outcome_where_it_decides_every_test(
    classifier: Classifier, presets: dict[str, Policy]
) -> None:
    """`git status` is decided by its first word once the plan is made; a word a layer
    tests further (`log -p`), or any word under a layer that reads opaqueness, is not."""
    plans = PolicyEngine([presets["default"]], classifier)._plain["Bash"]
    words = plans["git"][3]
    assert words is not None
    rule, source, action, _, _ = words["status"]
    assert (rule is not None and rule.name, source, action) == ("git-read", "default", "allow")
    layered = PolicyEngine([presets["default"]], classifier, layers=[_LAYER])._plain["Bash"]
    assert layered["git"][3] is None


@pytest.mark.parametrize(("base", "layers"), ENGINES)
def test_every_first_word_outcome_is_what_following_the_plan_chooses(
    classifier: Classifier,
    presets: dict[str, Policy],
    base: tuple[str, ...],
    layers: tuple[Policy, ...],
) -> None:
    """Each word's outcome, for parts starting with that word in every way a plan reads
    a part (more words, options, opaque, paths), against the plan followed step by step."""
    engine = PolicyEngine([presets[name] for name in base], classifier, layers=layers)
    stepwise = _without_fixed_outcomes(engine)
    checked = 0
    for program, plan in engine._plain["Bash"].items():
        for word in plan[3] or ():
            for target in (
                _part(program, word, subcommand=(word,)),
                _part(program, word, "x", "--force", subcommand=(word, "x")),
                _part(program, word, "-v", subcommand=(word,), opaque=True),
                _part(program, word, "/etc", subcommand=(word,), resolved=("/etc",)),
            ):
                classification = Classification(tool_name="Bash", kind="shell", parts=(target,))
                got = engine.evaluate(classification).model_dump()
                assert got == stepwise.evaluate(classification).model_dump(), (program, word)
                checked += 1
    if base == ("default",) and not layers:
        assert checked > 100


def _same_models(got: PolicyDecision, expected: PolicyDecision) -> bool:
    """The same fields in the same order (`repr` shows the order), parts and all."""
    return list(got.__dict__.items()) == list(expected.__dict__.items()) and [
        list(part.__dict__.items()) for part in got.parts
    ] == [list(part.__dict__.items()) for part in expected.parts]


@pytest.mark.parametrize(("base", "layers"), ENGINES)
def test_a_call_of_one_or_several_parts_takes_each_allowed_outcome_as_its_plan_does(
    classifier: Classifier,
    presets: dict[str, Policy],
    base: tuple[str, ...],
    layers: tuple[Policy, ...],
) -> None:
    """`evaluate` words a part its plan's outcome allows without `_decide_plain` (and a
    call of that one part from the outcome): the same fields in the same order as the
    plan followed step by step, for every program's plan and first word, with texts a
    subject shortens, quotes or leaves empty."""
    engine = PolicyEngine([presets[name] for name in base], classifier, layers=layers)
    stepwise = _without_fixed_outcomes(engine)
    long = "x" * 130
    checked = 0
    for program, plan in engine._plain["Bash"].items():
        for word in (None, *(plan[3] or ())):
            sub = () if word is None else (word,)
            first = _part(program, *sub, subcommand=sub)
            for second in (
                _part(program, *sub, long, subcommand=sub),
                _part(program, *sub, "`a`", subcommand=sub, text=f"{program} `a` {long[:3]}"),
                _part(program, *sub, subcommand=sub, text=""),
                _part("cd", "src", subcommand=("src",)),
            ):
                for parts in ((first, second), (second,)):
                    classification = Classification(tool_name="Bash", kind="shell", parts=parts)
                    got = engine.evaluate(classification)
                    expected = stepwise.evaluate(classification)
                    assert got.model_dump() == expected.model_dump(), (program, word)
                    assert _same_models(got, expected), (program, word)
                    checked += got.action is Action.ALLOW
    if base == ("default",) and not layers:
        assert checked > 100


def test_a_word_outcome_that_forgets_the_word_fails_the_differential_test(
    monkeypatch: pytest.MonkeyPatch,
    classifier: Classifier,
    presets: dict[str, Policy],
    corpus_classifications: list[Classification],
) -> None:
    """Word outcomes made as if every one-word subcommand test passed are caught."""

    def careless(files: Any, word: str) -> Any:
        return tuple((name, tuple((None, m) for _, m in entries[:1])) for name, entries in files)

    monkeypatch.setattr(policy_module, "_given_word", careless)
    engine = PolicyEngine([presets["default"]], classifier)
    assert _mismatches(engine, corpus_classifications) != []


# -- generated rule sets and parts ---------------------------------------------------

_PROGRAMS = ["git", "ls", "LS", "curl", "rm", "pytest", "npm", "cat", "make", "["]
_rule_specs = st.fixed_dictionaries(
    {"action": st.sampled_from(["allow", "ask", "deny"])},
    optional={
        "tools": st.lists(
            st.sampled_from(["Bash", "Read", "Write", "mcp__*", "B*", "[BR]*", "Web*"]), min_size=1
        ),
        "programs": st.lists(st.sampled_from([*_PROGRAMS, "py*", "g?t", "[cl]*"]), min_size=1),
        "subcommands": st.lists(st.sampled_from(["status", "run test", "x", ""]), min_size=1),
        "commands": st.lists(st.sampled_from(["git *", "npm run *", "ls -la", "rm -r? *"])),
        "command_patterns": st.lists(st.sampled_from([r"^git\b", "force", "x$"]), max_size=2),
        "path_patterns": st.lists(st.sampled_from(["*.py", "/etc/**", "src/**", "a?"])),
        "risk_facts": st.lists(
            st.sampled_from(["network", "file_write", "file_read", "web_search"]), min_size=1
        ),
        "min_risk_level": st.sampled_from(["none", "low", "high"]),
    },
)
_parts = st.builds(
    lambda program, words, sub, path, resolved, opaque, facts: CallPart(
        program=program,
        subcommand=tuple(sub),
        text=" ".join([program, *words]),
        facts=tuple(make_fact(kind) for kind in facts),
        paths=tuple(PathUse(p, "read") for p in path),
        resolved=tuple(resolved),
        args=tuple(words),
        opaque=opaque,
    ),
    st.sampled_from(_PROGRAMS),
    st.lists(st.sampled_from(["run", "test", "-la", "status", "--force", "x"]), max_size=3),
    st.lists(st.sampled_from(["status", "run", "test", "x"]), max_size=2),
    st.lists(st.sampled_from(["src/a.py", "a1", "../x"]), max_size=2),
    st.lists(st.sampled_from(["/etc/hosts", "/p/src/m.py"]), max_size=1),
    st.booleans(),
    # Mostly no facts (the planned case); sometimes some, which take the general way.
    st.lists(st.sampled_from(["network", "file_write"]), max_size=1) | st.just([]),
)


def _policy(name: str, specs: list[dict[str, Any]], layer: str = "base") -> Policy:
    rules = []
    for number, spec in enumerate(specs):
        fields = {"name": f"{name}{number}", **spec}
        if "subcommands" in fields and "programs" not in fields:
            fields["programs"] = ["git"]
        matchers = ("tools", "programs", "commands", "command_patterns", "path_patterns")
        if not any(fields.get(k) for k in (*matchers, "risk_facts", "min_risk_level")):
            fields["min_risk_level"] = "none"
        rules.append(PolicyRule.model_validate(fields))
    return Policy(name=name, layer=layer, rules=tuple(rules))


def _scan(engine: PolicyEngine, part: CallPart) -> tuple[Action, str | None]:
    """A part's action and rule, every file scanned rule by rule (docs/policies.md)."""
    strictness = {Action.ALLOW: 0, Action.REQUIRE_APPROVAL: 1, Action.DENY: 2}
    best: PolicyRule | None = None
    for policy in engine.policies:
        rule = policy.first_match("Bash", part)
        if rule is not None and (best is None or strictness[rule.action] > strictness[best.action]):
            best = rule
        if rule is not None and rule.action is Action.DENY:
            break
    action = engine.default_action if best is None else best.action
    for layer in engine.layers:
        if action is Action.DENY:
            break
        rule = layer.first_match("Bash", part)
        if rule is None or rule.action is action:
            continue
        if rule.action is Action.ALLOW and part.opaque:
            continue
        best, action = rule, rule.action
    return action, None if best is None else best.name


@settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    files=st.lists(st.lists(_rule_specs, max_size=8), min_size=1, max_size=3),
    layers=st.lists(st.lists(_rule_specs, max_size=5), max_size=2),
    parts=st.lists(_parts, min_size=1, max_size=5),
)
def test_generated_rules_and_parts_are_decided_as_the_general_way_and_a_scan_decide(
    classifier: Classifier,
    files: list[list[dict[str, Any]]],
    layers: list[list[dict[str, Any]]],
    parts: list[CallPart],
) -> None:
    engine = PolicyEngine(
        [_policy(f"f{n}_", specs) for n, specs in enumerate(files)],
        classifier,
        layers=[_policy(f"l{n}_", specs, "user") for n, specs in enumerate(layers)],
    )
    general = _without_plans(engine)
    classification = Classification(tool_name="Bash", kind="shell", parts=tuple(parts))
    decision: PolicyDecision = engine.evaluate(classification)
    assert decision.model_dump() == general.evaluate(classification).model_dump()
    for part, decided in zip(parts, decision.parts, strict=True):
        if not part.facts:
            assert (decided.action, decided.rule) == _scan(engine, part)


# -- compiling rules ------------------------------------------------------------------


def _shlex_words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


@pytest.mark.parametrize(
    "text",
    [
        P("status", id="word"),
        P("run  test", id="two-spaces"),
        P(" log -p ", id="edges"),
        P("", id="empty"),
        P("a#b #c", id="hash"),
        P("x\ty", id="tab"),
        P("x\x0by", id="vertical-tab"),
        P("x\u00a0y", id="no-break-space"),
        P("'run test'", id="quoted"),
        P('a\\ b "c', id="escape-and-unclosed"),
        P("é ü", id="non-ascii"),
    ],
)
def test_subcommand_words_are_split_as_shlex_splits_them(text: str) -> None:
    assert policy_module._split_words(text) == _shlex_words(text)


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(alphabet=" \t\x0b'\"\\#*?[]!-az.é\u00a0", max_size=12))
def test_any_subcommand_is_split_as_shlex_splits_it(text: str) -> None:
    assert policy_module._split_words(text) == _shlex_words(text)


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(alphabet="*?[]!-az.\\^", max_size=8))
def test_a_name_is_a_glob_exactly_when_it_matches_more_than_itself(text: str) -> None:
    """`_is_glob` against its definition: some other text matches, or a `fnmatch` regex
    that is not the escaped text (the reference reads every pattern character)."""
    reference = any(c in text for c in "*?[") and (
        fnmatch.translate(text) != f"(?s:{re.escape(text)})\\Z"
    )
    assert policy_module._is_glob(text) == reference


# -- one-fact plans (the file tools, WebFetch, WebSearch) -------------------------------

_TOOL_FACTS = {
    "Read": "file_read",
    "NotebookRead": "file_read",
    "Write": "file_write",
    "Edit": "file_write",
    "WebFetch": "network",
    "WebSearch": "web_search",
}
_tool_parts = st.builds(
    lambda tool, text, level, detail, path, resolved, opaque: (
        tool,
        CallPart(
            text=text,
            # Mostly the fact the tool's kind gives, at its level; sometimes another level
            # (a fact a plugin made), which the plan does not take.
            facts=(
                RiskFact(_TOOL_FACTS[tool], level, detail)
                if level is not None
                else make_fact(_TOOL_FACTS[tool], detail),
            ),
            paths=tuple(PathUse(p, "read") for p in path),
            resolved=tuple(resolved),
            opaque=opaque,
        ),
    ),
    st.sampled_from(sorted(_TOOL_FACTS)),
    st.sampled_from(["", "src/a.py", "x" * 130, "https://example.com/force"]),
    st.sampled_from([RiskLevel.LOW, RiskLevel.HIGH, RiskLevel.CRITICAL]) | st.just(None),
    st.sampled_from(["", "Read", "fetches x"]),
    st.lists(st.sampled_from(["src/a.py", "a1", "../x"]), max_size=2),
    st.lists(st.sampled_from(["/etc/hosts", "/p/src/m.py"]), max_size=1),
    st.booleans(),
)


@settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    files=st.lists(st.lists(_rule_specs, max_size=8), min_size=1, max_size=3),
    layers=st.lists(st.lists(_rule_specs, max_size=5), max_size=2),
    call=_tool_parts,
)
def test_a_tool_part_with_its_one_fact_is_decided_as_the_general_way_decides_it(
    classifier: Classifier,
    files: list[list[dict[str, Any]]],
    layers: list[list[dict[str, Any]]],
    call: tuple[str, CallPart],
) -> None:
    tool, part = call
    engine = PolicyEngine(
        [_policy(f"f{n}_", specs) for n, specs in enumerate(files)],
        classifier,
        layers=[_policy(f"l{n}_", specs, "user") for n, specs in enumerate(layers)],
    )
    assert _TOOL_FACTS[tool] in engine._one_fact[tool]
    classification = Classification(tool_name=tool, kind=tool_kind(tool), parts=(part,))
    decision = engine.evaluate(classification)
    assert decision.model_dump() == _without_plans(engine).evaluate(classification).model_dump()
    assert _same_models(decision, _without_fixed_outcomes(engine).evaluate(classification))


@pytest.mark.parametrize("tool", sorted(_TOOL_FACTS))
def test_a_one_fact_plan_never_allows_a_fact_no_policy_may_allow(
    monkeypatch: pytest.MonkeyPatch, classifier: Classifier, tool: str
) -> None:
    """Were a tool's own fact one no policy may allow, its plan's allow would be an ask,
    worded as the general way words it (no tool's fact is one today: the guard is for
    the day a kind's fact is)."""
    never = policy_module.NEVER_AUTO_ALLOWED | {_TOOL_FACTS[tool]}
    monkeypatch.setattr(policy_module, "NEVER_AUTO_ALLOWED", never)
    allow = _policy("f", [{"action": "allow", "tools": [tool]}])
    engine = PolicyEngine([allow], classifier)
    part = CallPart(text="src/a.py", facts=(make_fact(_TOOL_FACTS[tool], "x"),))
    classification = Classification(tool_name=tool, kind=tool_kind(tool), parts=(part,))
    decision = engine.evaluate(classification)
    assert decision.action is Action.REQUIRE_APPROVAL
    assert decision.reason.endswith("that is never allowed without a person")
    assert _same_models(decision, _without_plans(engine).evaluate(classification))


def test_a_broken_one_fact_plan_fails_the_differential_test(
    monkeypatch: pytest.MonkeyPatch,
    classifier: Classifier,
    presets: dict[str, Policy],
    corpus_classifications: list[Classification],
) -> None:
    """A one-fact plan that forgets a rule's path test (a plausible slip) is caught: the
    corpus reads and writes credential and project paths under path rules."""
    real = RuleIndex.entries

    def careless(
        self: RuleIndex, tool_name: str, program: str | None, kinds: frozenset[str], rank: int
    ) -> tuple[Any, ...]:
        entries = real(self, tool_name, program, kinds, rank)
        if not kinds:
            return entries  # the plain plans as they are
        return tuple((None, matcher) for _, matcher in entries)

    monkeypatch.setattr(RuleIndex, "entries", careless)
    engine = PolicyEngine([presets["strict"]], classifier, layers=[_LAYER_FILES])
    assert _mismatches(engine, corpus_classifications) != []


_LAYER_FILES = Policy.model_validate(
    {
        "name": "team-files",
        "layer": "user",
        "rules": [
            {"name": "no-src", "tools": ["Read"], "path_patterns": ["**/src/**"], "action": "deny"},
        ],
    }
)


def test_a_call_allowed_by_several_rules_quotes_their_names_as_rule_list_does(
    classifier: Classifier,
) -> None:
    """The names quoted once per engine are `repr`'s, in the order `_rule_list` sorts them,
    whatever quotes a name holds; a name the engine's files do not hold is quoted when
    asked for."""
    names = ["z-plain", "it's", 'say "hi"', "back\\slash"]
    rules = [
        {"name": name, "programs": [program], "action": "allow"}
        for name, program in zip(names, ("ls", "pwd", "true", "date"), strict=True)
    ]
    engine = PolicyEngine([Policy.model_validate({"name": "quoting", "rules": rules})], classifier)
    parts = (_part("ls"), _part("pwd"), _part("true"), _part("date"), _part("ls", "-a"))
    decision = engine.evaluate(Classification(tool_name="Bash", kind="shell", parts=parts))
    assert decision.action is Action.ALLOW
    assert decision.reason == "allowed by " + policy_module._rule_list(sorted(names))
    for name in (*names, "unknown 'one'"):
        assert engine._quoted[name] == repr(name)
