"""Learned rules: the scopes offered, the file they are remembered in, and what they cover."""

from __future__ import annotations

from pathlib import Path

import pytest

from tether.core.safety.classify import Classifier
from tether.core.safety.learned import (
    LearnedRules,
    LearnedRuleStore,
    Lifetime,
    ScopeKind,
    offer_scopes,
)
from tether.exceptions import ConfigError


def _offers(classifier: Classifier, command: str) -> list[str]:
    classification = classifier.classify("Bash", {"command": command})
    return [o.label for o in offer_scopes(classification, classification.parts, "/p")]


@pytest.mark.parametrize(
    ("command", "program_scope"),
    [
        pytest.param("npm install lodash", "`npm install *` in /p", id="npm-install"),
        pytest.param("docker compose up -d", "`docker compose up *` in /p", id="compose-group"),
        pytest.param("npm run build", "`npm run build *` in /p", id="run-group"),
        pytest.param("make", "`make *` in /p", id="no-subcommand"),
        pytest.param("pip install -r req.txt", "`pip install *` in /p", id="option-after"),
    ],
)
def test_the_program_scope_keeps_the_subcommand(
    classifier: Classifier, command: str, program_scope: str
) -> None:
    assert _offers(classifier, command) == [f"exactly `{command}`", program_scope]


@pytest.mark.parametrize(
    "command",
    [
        pytest.param("$TOOL install", id="dynamic-program"),
        pytest.param('eval "$X"', id="eval"),
        pytest.param("ls ((", id="not-understood"),
    ],
)
def test_nothing_is_offered_for_what_the_analysis_could_not_see(
    classifier: Classifier, command: str
) -> None:
    assert _offers(classifier, command) == []


def test_a_dynamic_argument_offers_only_the_exact_command(classifier: Classifier) -> None:
    offers = _offers(classifier, "npm install $PKG")
    assert len(offers) <= 1


def _grant(
    rules: LearnedRules, classifier: Classifier, lifetime: Lifetime
) -> tuple[str, str | None]:
    classification = classifier.classify("Bash", {"command": "npm install x"})
    offer = offer_scopes(classification, classification.parts, "/p")[1]
    rule, warning = rules.grant(offer, lifetime, chat_id="1", granted_by="7", approval_id="a1")
    return rule.lifetime.value, warning


def test_remembered_rules_survive_a_restart(classifier: Classifier, tmp_path: Path) -> None:
    store = LearnedRuleStore(tmp_path / "state" / "learned.jsonl")
    assert _grant(LearnedRules(store), classifier, Lifetime.REMEMBERED) == ("remembered", None)
    again = LearnedRules(store).rules()
    assert [(r.kind, r.program, r.subcommand, r.granted_by) for r in again] == [
        (ScopeKind.PROGRAM, "npm", ("install",), "7")
    ]


def test_chat_rules_are_not_written(classifier: Classifier, tmp_path: Path) -> None:
    store = LearnedRuleStore(tmp_path / "learned.jsonl")
    _grant(LearnedRules(store), classifier, Lifetime.CHAT)
    assert LearnedRules(store).rules() == ()


def test_an_unwritable_file_keeps_the_rule_for_the_chat_and_says_so(
    classifier: Classifier, tmp_path: Path
) -> None:
    (tmp_path / "blocker").write_text("a file where a directory should be")
    rules = LearnedRules(LearnedRuleStore(tmp_path / "blocker" / "learned.jsonl"))
    lifetime, warning = _grant(rules, classifier, Lifetime.REMEMBERED)
    assert lifetime == "chat"
    assert warning is not None and "cannot be written" in warning
    assert len(rules.rules("1")) == 1


def test_duplicate_ids_in_the_file_are_refused(classifier: Classifier, tmp_path: Path) -> None:
    store = LearnedRuleStore(tmp_path / "learned.jsonl")
    _grant(LearnedRules(store), classifier, Lifetime.REMEMBERED)
    line = store.path.read_text()
    store.path.write_text(line + line)
    with pytest.raises(ConfigError, match="share an id"):
        store.load()
