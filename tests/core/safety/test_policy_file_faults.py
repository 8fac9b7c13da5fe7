"""Broken policy files: one line naming the file, the line and the problem, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tether.core.safety.policy_files import MAX_POLICY_BYTES, load_policy, parse_policy
from tether.exceptions import ConfigError

P = pytest.param

_HEAD = "version: 1\nname: x\n"


def _rule(pattern: str) -> str:
    return _HEAD + f"rules:\n  - name: r\n    command_patterns: ['{pattern}']\n    action: deny\n"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        P(_HEAD + "rules: " + "[" * 5000 + "]" * 5000, 3, "nested more than", id="deep-flow"),
        P(
            "a:\n" + "".join(" " * (i + 1) + "b:\n" for i in range(200)),
            None,
            "nested more than",
            id="deep-block",
        ),
        P(_HEAD + "description: a\x00b\n", 3, "control character", id="nul"),
        P(_HEAD + "description: a\x1bb\n", 3, "control character", id="escape"),
        P(
            "a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b]\n",
            1,
            "anchors and aliases",
            id="billion-laughs",
        ),
        P(_HEAD + "rules:\n\t- name: a\n", 4, "not valid YAML", id="tab"),
        P(_HEAD + "name: y\n", 3, "appears twice", id="duplicate-key"),
        P(_HEAD + "description: 2024-13-45\n", 3, "not a valid value", id="impossible-date"),
        P(_HEAD + "rules: {a: 1}\n", 3, "tuple", id="rules-mapping"),
        P(_HEAD + "rules: [hello]\n", 3, "dictionary", id="rule-string"),
        P(_HEAD + "settings: [1]\n", 3, "dictionary", id="settings-list"),
        P(_HEAD + "settings: {default_action: maybe}\n", 3, "not an action", id="bad-action"),
        P(_HEAD + "version: x\n", None, "appears twice", id="version-twice"),
        P("version: two\nname: x\n", 1, "integer", id="version-type"),
        P("? [a]\n: b\n", 1, "plain word", id="unhashable-key"),
        P(_HEAD + "layer: user\n", 3, "unknown key 'layer'", id="reserved-layer"),
        P(_HEAD + "source: x\n", 3, "unknown key 'source'", id="reserved-source"),
        P(_rule("(a+)+b"), 4, "nests one quantifier", id="redos-nested"),
        P(_rule("(a|ab)*c"), 4, "alternation", id="redos-alternation"),
        P(_rule("(.*)*"), 4, "can match nothing", id="redos-star-star"),
        P(_rule("(a)\\1"), 4, "backreference", id="redos-backref"),
        P(_rule("a{1,99999}"), 4, "repetition count", id="redos-count"),
        P(_rule(".*a.*b"), 4, "polynomially", id="redos-polynomial"),
        P(
            _HEAD + "rules:\n  - name: r\n    commands: ['ls && rm']\n    action: allow\n",
            4,
            "shell syntax",
            id="command-glob-syntax",
        ),
        P(
            _HEAD + "rules:\n  - name: r\n    programs: [ls]\n    action: allow\n"
            "    examples: {allow: [1]}\n",
            4,
            "examples",
            id="example-type",
        ),
    ],
)
def test_malformed_policy_is_one_line(text: str, line: int | None, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_policy(text, "p.yaml")
    error = str(caught.value)
    assert "\n" not in error
    assert error.startswith("p.yaml" + (f":{line}:" if line else ""))
    assert message in error


def test_non_utf8_file_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_bytes(b"version: 1\nname: caf\xe9\n")
    with pytest.raises(ConfigError, match=r"p\.yaml:2: the file is not UTF-8"):
        load_policy(str(path))


def test_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ConfigError) as caught:
        load_policy(str(path))
    assert "\n" not in str(caught.value)


def test_huge_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("# x\n" * (MAX_POLICY_BYTES // 4 + 10))
    with pytest.raises(ConfigError, match="larger than"):
        load_policy(str(path))


def test_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "d.yaml").mkdir()
    with pytest.raises(ConfigError, match="is a directory"):
        load_policy(str(tmp_path / "d.yaml"))


def test_rules_carry_their_line() -> None:
    policy = parse_policy(
        _HEAD + "rules:\n  - name: a\n    programs: [ls]\n    action: allow\n"
        "  - name: b\n    programs: [rm]\n    action: ask\n",
        "p.yaml",
    )
    assert [rule.line for rule in policy.rules] == [4, 7]
