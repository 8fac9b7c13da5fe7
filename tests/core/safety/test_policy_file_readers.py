"""The two YAML readers of policy files (libyaml and pure Python) give one result.

A file libyaml reads must load exactly as the pure-Python reader loads it (the
same rules, values and lines), and a broken file must get the same one-line
error, naming the same file and line, whichever reader saw it first.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from tether.core.safety import policy_files
from tether.core.safety.policy import Policy
from tether.core.safety.policy_files import PRESETS, parse_policy
from tether.exceptions import ConfigError

P = pytest.param

_HEAD = "version: 1\nname: x\n"
_RULE = "rules:\n  - name: r\n    programs: [ls]\n    action: allow\n"


def _preset(name: str) -> str:
    return resources.files("tether.policies").joinpath(f"{name}.yaml").read_text("utf-8")


def _python_only(text: str, monkeypatch: pytest.MonkeyPatch) -> Policy | str:
    with monkeypatch.context() as patch:
        patch.setattr(policy_files, "_CComposer", None)
        return _outcome(text)


def _outcome(text: str) -> Policy | str:
    try:
        return parse_policy(text, "p.yaml")
    except ConfigError as error:
        return str(error)


_VALID = [
    P(_HEAD + _RULE, id="plain"),
    P("# comment\n" + _HEAD + _RULE + "# trailing\n", id="comments"),
    P("---\n" + _HEAD + _RULE + "...\n", id="document-markers"),
    P("%YAML 1.1\n---\n" + _HEAD + _RULE, id="directive"),
    P('version: 1\nname: "x"\ndescription: "a\\tb \\u00e9 \\x41"\n' + _RULE, id="double-quoted"),
    P("version: 1\nname: 'it''s'\n" + _RULE, id="single-quoted"),
    P(_HEAD + "description: |\n  one\n  two\n\n" + _RULE, id="literal-block"),
    P(_HEAD + "description: >-\n  one\n  two\n\n  three\n" + _RULE, id="folded-block"),
    P(_HEAD + "description: a\n  continued\n  plain\n" + _RULE, id="multi-line-plain"),
    P(_HEAD + "description: café ☕ 𝄞\n" + _RULE, id="non-ascii"),
    P(_HEAD + "rules: [{name: r, programs: [ls], action: allow}]\n", id="flow-rules"),
    P(
        _HEAD + "rules:\n- name: r\n  programs:\n  - ls\n  - cat\n  action: allow\n",
        id="unindented-sequence",
    ),
    P(
        _HEAD + "rules:\n  - name: r\n    command_patterns: ['^git\\s+(status|log)\\b']\n"
        "    action: allow\n",
        id="regex",
    ),
    P(
        _HEAD + "settings: {default_action: ask}\n" + _RULE + "  - name: s\n"
        "    programs: [rm]\n    action: deny\n    reason: 'no'\n",
        id="two-rules",
    ),
    P(_HEAD + _RULE + "    examples: {allow: ['ls -la']}\n", id="examples"),
    P(_HEAD + "description: !!str 12\n" + _RULE, id="explicit-tag"),
    P(_HEAD + "\n\n\n" + _RULE, id="blank-lines"),
    P(_HEAD + _RULE.replace("    action", "    \n    action"), id="blank-in-rule"),
]


@pytest.mark.parametrize("name", PRESETS)
def test_presets_take_the_fast_reader_and_load_the_same(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _preset(name)
    assert policy_files._read_fast(text) is not None
    assert _outcome(text) == _python_only(text, monkeypatch)


@pytest.mark.parametrize("text", _VALID)
def test_valid_files_load_the_same_with_either_reader(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = _outcome(text)
    assert isinstance(fast, Policy), fast
    assert fast == _python_only(text, monkeypatch)
    assert [rule.line for rule in fast.rules] == [
        rule.line
        for rule in _python_only(text, monkeypatch).rules  # type: ignore[union-attr]
    ]


_BROKEN = [
    P(_HEAD + "description: null\n" + _RULE, id="null-description"),
    P(_HEAD + "description: ~\n" + _RULE, id="tilde"),
    P(_HEAD + "description: yes\n" + _RULE, id="yaml11-boolean"),
    P(_HEAD + "description: 2024-01-01\n" + _RULE, id="timestamp"),
    P(_HEAD + "description: 0x1F\n" + _RULE, id="hex-int"),
    P(_HEAD + "description: 1_000\n" + _RULE, id="underscore-int"),
    P(_HEAD + "description: .inf\n" + _RULE, id="infinity"),
    P(_HEAD + "rules: " + "[" * 5000 + "]" * 5000, id="deep-flow"),
    P("a:\n" + "".join(" " * (i + 1) + "b:\n" for i in range(200)), id="deep-block"),
    P(_HEAD + "rules: " + "[" * 33 + "]" * 33, id="depth-33"),
    P(_HEAD + "rules: " + "[" * 300000, id="deep-unclosed"),
    P("a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b]\n", id="billion-laughs"),
    P(_HEAD + "description: &d x\n" + _RULE, id="anchor-only"),
    P(_HEAD + "description: *d\n" + _RULE, id="undefined-alias"),
    P(_HEAD + "rules:\n\t- name: a\n", id="tab-indent"),
    P(_HEAD + "description:\ta\n" + _RULE, id="tab-after-colon"),
    P(_HEAD + "description: 'a\tb'\n" + _RULE, id="tab-in-quotes"),
    P(_HEAD.replace("\n", "\r\n") + "rules: [\r\n", id="crlf-broken"),
    P(_HEAD.replace("\n", "\r\n") + _RULE.replace("\n", "\r\n"), id="crlf-valid"),
    P(_HEAD + "description: a\rb: c\n" + _RULE, id="lone-cr"),
    P(_HEAD + "description: a\x85b: c\n" + _RULE, id="nel"),
    P(_HEAD + "description: a\u2028b\n" + _RULE, id="line-separator"),
    P(_HEAD + "description: \ufeffa\n" + _RULE, id="inner-bom"),
    P(_HEAD + "description: a\x7fb\n" + _RULE, id="delete"),
    P(_HEAD + "description: a\x9bb\n" + _RULE, id="c1-control"),
    P(_HEAD + "description: a\ufffeb\n" + _RULE, id="non-character"),
    P(_HEAD + "description: a\x00b\n", id="nul"),
    P(_HEAD + "name: y\n", id="duplicate-key"),
    P(_HEAD + "version: 2\n" + _RULE, id="duplicate-version"),
    P("? [a]\n: b\n", id="unhashable-key"),
    P("? {a: 1}\n: b\n", id="mapping-key"),
    P(_HEAD + "rules: {a: 1}\n", id="rules-mapping"),
    P(_HEAD + "rules: [hello]\n", id="rule-string"),
    P(_HEAD + "layer: user\n", id="reserved-layer"),
    P(_HEAD + "source: x\n", id="reserved-source"),
    P(_HEAD + _RULE + "  - name: r\n    programs: [cat]\n    action: allow\n", id="rule-twice"),
    P(_HEAD + "rules:\n  - name: r\n    programs: [ls]\n    action: maybe\n", id="bad-action"),
    P(_HEAD + "rules:\n  - name: r\n    programs: [ls]\n    colour: red\n", id="unknown-field"),
    P(_HEAD + "colour: red\n", id="unknown-key"),
    P("version: two\nname: x\n", id="version-type"),
    P("", id="empty"),
    P("# only a comment\n", id="only-comment"),
    P("---\n...\n", id="empty-document"),
    P("- a\n- b\n", id="top-level-list"),
    P("just a string\n", id="top-level-scalar"),
    P(_HEAD + _RULE + "---\n" + _HEAD, id="two-documents"),
    P(_HEAD + _RULE + "---\na: &x 1\n", id="anchor-in-second-document"),
    P(_HEAD + "description: [a, b\n" + _RULE, id="unclosed-flow"),
    P(_HEAD + "description: 'a\n" + _RULE, id="unclosed-quote"),
    P(_HEAD + 'description: "\\q"\n' + _RULE, id="bad-escape"),
    P(_HEAD + "description: @x\n" + _RULE, id="reserved-indicator"),
    P(_HEAD + "description: `x\n" + _RULE, id="backquote"),
    P(_HEAD + " bad: indent\n" + _RULE, id="bad-indent"),
    P(_HEAD + "rules:\n  - name: r\n   programs: [ls]\n", id="misaligned-rule"),
    P(_HEAD + "description: !!python/object:os.system x\n", id="python-tag"),
    P(_HEAD + "description: !custom x\n", id="unknown-tag"),
    P("%YAML 2.0\n---\n" + _HEAD, id="yaml-2"),
    P("%TAG ! tag:x,2000:\n---\n" + _HEAD + "description: !a b\n", id="tag-directive"),
    P(_HEAD + "description: 2024-13-45\n" + _RULE, id="bad-timestamp-like"),
    P(
        _HEAD + "rules:\n  - name: r\n    command_patterns: ['(a+)+b']\n    action: deny\n",
        id="redos",
    ),
    P(
        _HEAD + "rules:\n  - name: r\n    command_patterns: ['(']\n    action: deny\n",
        id="bad-regex",
    ),
    P(
        _HEAD + "rules:\n  - name: r\n    programs: [ls]\n    action: allow\n"
        "    examples: {deny: ['ls']}\n",
        id="failing-example-shape",
    ),
    P(_HEAD + "x: " + "y" * 2000 + ": z\n", id="long-key"),
    P("{" * 20 + "a: 1" + "}" * 20 + "\n", id="nested-flow-maps"),
]


@pytest.mark.parametrize("text", _BROKEN)
def test_either_reader_gives_the_same_outcome(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = _outcome(text)
    assert fast == _python_only(text, monkeypatch)
    if isinstance(fast, str):
        assert "\n" not in fast
        assert fast.startswith("p.yaml")


def _shape(node: Node) -> tuple[Any, ...]:
    """A node and everything below it: kind, tag, value and where it starts and ends."""
    if isinstance(node, ScalarNode):
        below: Any = node.value
    elif isinstance(node, MappingNode):
        below = tuple((_shape(key), _shape(value)) for key, value in node.value)
    else:
        below = tuple(_shape(item) for item in node.value)
    marks = (node.start_mark.line, node.start_mark.column, node.end_mark.line, node.end_mark.column)
    # Styles are left out: the constructor reads tags and values only (libyaml marks a
    # plain scalar "" and an unindented sequence as a block, where the pure-Python
    # composer leaves None).
    return type(node).__name__, node.tag, below, marks


@pytest.mark.parametrize(
    "text",
    [
        *(P(_preset(name), id=name) for name in PRESETS),
        *_VALID,
        P("a: \"1\"\nb: 'x'\nc: |\n  t\nd: >\n  u\ne: [1, 2.5, true, null, ~]\n", id="styles"),
        P("a: 2024-01-02\nb: 0x1F\nc: .inf\nd: !!str 5\n", id="resolved-tags"),
    ],
)
def test_libyaml_composes_the_nodes_the_pure_python_composer_does(text: str) -> None:
    """Same nodes, tags resolved alike, at the same marks: lines in messages stay the same."""
    fast = policy_files._read_fast(text)
    assert fast is not None
    assert _shape(fast[0]) == _shape(yaml.compose(text, Loader=policy_files._StrictLoader))
