"""The registry of program specs: consistency, the allowlist rule, both spellings, properties.

The consistency tests walk every spec: every option it names parses and is
vetted, both spellings of an option mean the same, every program a preset
names is registered. The table tests pin the allowlist rule per program:
listed options are vetted, anything else is `unvetted` (and never allowed
without a person).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tether.core.safety.analyzer import CommandAnalyzer
from tether.core.safety.pipeline import SafetyPipeline
from tether.core.safety.policy import Policy
from tether.core.safety.registry import REGISTRY, Node, Opt
from tether.core.safety.shell import ShellParser

P = pytest.param


def _nodes(root: Node) -> Iterator[tuple[tuple[str, ...], Node]]:
    """Every node of one program's spec once (a node shared by subcommands is walked once)."""
    seen: set[int] = set()
    stack: list[tuple[tuple[str, ...], Node]] = [((), root)]
    while stack:
        words, node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield words, node
        stack.extend(((*words, word), child) for word, child in node.subs.items())


_ROOTS = {id(node): (name, node) for name, node in REGISTRY.items()}
PROGRAMS = [P(name, node, id=name) for name, node in _ROOTS.values()]


def _spelled(option: str, opt: Opt, node: Node) -> list[str]:
    if opt.role == "argv":
        return [option, "echo", "{}", ";"]
    if opt.takes_value:
        return [f"{option}=x"] if node.words else [option, "x"]
    if opt.optional_value:
        return [f"{option}=x" if option.startswith("--") or node.words else f"{option}x"]
    return [option]


def _facts(analyzer: CommandAnalyzer, parser: ShellParser, words: list[str]) -> dict[str, str]:
    script = parser.parse(shlex.join(words))
    analysis = analyzer.analyze(script.commands[0])
    return {fact.kind: fact.detail for fact in analysis.facts}


@pytest.mark.parametrize(("program", "root"), PROGRAMS)
def test_every_listed_option_parses_and_is_vetted(
    command_analyzer: CommandAnalyzer, shell_parser: ShellParser, program: str, root: Node
) -> None:
    failures = []
    for words, node in _nodes(root):
        for option, opt in node.options.items():
            if option.endswith("*") or opt.fact is not None:
                continue
            call = [program, *words, *_spelled(option, opt, node)]
            facts = _facts(command_analyzer, shell_parser, call)
            if "unvetted" in facts:
                failures.append(f"{shlex.join(call)}: {facts['unvetted']}")
    assert not failures


@pytest.mark.parametrize(("program", "root"), PROGRAMS)
def test_every_spelling_of_an_option_means_the_same(
    command_analyzer: CommandAnalyzer, shell_parser: ShellParser, program: str, root: Node
) -> None:
    failures = []
    for words, node in _nodes(root):
        seen: set[int] = set()
        for opt in node.options.values():
            if id(opt) in seen or len(opt.names) < 2:
                continue
            seen.add(id(opt))
            if any(node.options.get(n) is not opt for n in opt.names):
                continue  # a subcommand's own option shadows one spelling of an inherited one
            kinds = [
                set(
                    _facts(
                        command_analyzer, shell_parser, [program, *words, *_spelled(n, opt, node)]
                    )
                )
                for n in opt.names
            ]
            if any(k != kinds[0] for k in kinds):
                failures.append(dict(zip(opt.names, kinds, strict=True)))
    assert not failures


def test_every_program_a_preset_names_is_registered(presets: dict[str, Policy]) -> None:
    missing = {
        (policy.name, program)
        for policy in presets.values()
        for rule in policy.rules
        for program in rule.programs
        if not any(c in program for c in "*?[") and program.lower() not in REGISTRY
    }
    assert not missing


def test_nodes_that_take_any_option_say_why() -> None:
    """A node that does not vet its options must carry a fact that asks on its own,
    or be a program that runs code, judged by the code detector its spec names."""
    code = {"interpreter", "shell", "eval", "source"}
    loose = [
        (name, words)
        for name, root in _ROOTS.values()
        for words, node in _nodes(root)
        if node.any_options and not node.facts and not code & set(root.scan)
    ]
    assert not loose


UNVETTED = [
    P("ls --weird-new-flag", id="ls-unknown-long"),
    P("ls -la -Q9", id="ls-unknown-cluster-letter"),
    P("cat --output=x README.md", id="cat-unknown-with-value"),
    P("grep --pre=x foo README.md", id="grep-unknown"),
    P("rg --frobnicate foo", id="rg-unknown"),
    P("head --follow README.md", id="head-unknown"),
    P("git log --output=x", id="git-log-output-not-listed"),
    P("git log --ext-diff", id="git-log-ext-diff"),
    P("git frobnicate", id="git-unknown-subcommand"),
    P("git remote add x https://x", id="git-remote-add"),
    P("git stash pop", id="git-stash-pop"),
    P("git worktree add ../x", id="git-worktree-add"),
    P("git grep -O foo", id="git-grep-open-in-pager"),
    P("pytest -p evil", id="pytest-plugin"),
    P("pytest -o addopts=-pevil", id="pytest-ini-override"),
    P("npm frobnicate", id="npm-unknown"),
    P("make test deploy", id="make-two-targets"),
    P("make --eval='x:=$(shell id)' test", id="make-eval"),
    P("docker --context prod ps", id="docker-context"),
    P("docker -H tcp://x ps", id="docker-host"),
    P("cargo test --config build.rustflags=x", id="cargo-config"),
    P("go test -toolexec=x ./...", id="go-toolexec-is-code"),
    P("sort --compress-program=sh README.md", id="sort-compress-program"),
    P("awk -o out.awk 1 README.md", id="awk-pretty-print-file"),
    P("jq -L lib '.a' x.json", id="jq-library-path"),
    P("tar --to-command=sh -xf x.tar", id="tar-to-command"),
    P("ruff check --frob .", id="ruff-unknown"),
    P("find . -fls x", id="find-fls-writes"),
    P("find . -frobnicate", id="find-unknown-primary"),
    P("echo hi | wc -l --files0-from=-", id="wc-files0-from-stdin"),
]


def _kinds(pipeline: SafetyPipeline, command: str) -> tuple[str, str]:
    verdict = pipeline.decide("Bash", {"command": command})
    return verdict.decision.value, ",".join(verdict.risk_facts)


@pytest.mark.parametrize("command", UNVETTED)
def test_what_a_spec_does_not_list_is_not_allowed(
    shared_pipelines: dict[str, SafetyPipeline], command: str
) -> None:
    decision, kinds = _kinds(shared_pipelines["default"], command)
    assert decision != "allow", kinds


VETTED = [
    P("ls -la", id="ls-la"),
    P("ls --all --human-readable -l src", id="ls-long-spellings"),
    P("grep -rn TODO src", id="grep-rn"),
    P("grep --recursive --line-number TODO src", id="grep-long"),
    P("grep -3 foo README.md", id="grep-numeric-context"),
    P("rg -n --hidden foo src", id="rg"),
    P("find . -name '*.py' -type f", id="find"),
    P("find src -maxdepth 2 -print0", id="find-maxdepth"),
    P("git status --short", id="git-status-short"),
    P("git -C src status -sb", id="git-C"),
    P("git diff --stat HEAD~1", id="git-diff-stat"),
    P("git log -5 --oneline --graph", id="git-log"),
    P("git branch -a", id="git-branch-all"),
    P("git stash list", id="git-stash-list"),
    P("git remote -v", id="git-remote-v"),
    P("pytest -q", id="pytest-q"),
    P("pytest -x -k 'not slow' tests", id="pytest-k"),
    P("npm test", id="npm-test"),
    P("npm run test -- --watch=false", id="npm-run-test"),
    P("cargo test --workspace", id="cargo-test"),
    P("go test -run=TestX ./...", id="go-test"),
    P("go test --run TestX ./...", id="go-test-double-dash"),
    P("make test", id="make-test"),
    P("make -j4 test", id="make-jobs"),
    P("head -n 5 README.md", id="head"),
    P("tail -20 README.md", id="tail-numeric"),
    P("sort -u README.md | uniq -c", id="sort-uniq"),
    P("wc -l src/app.py", id="wc"),
    P("cat README.md", id="cat"),
    P("sed -n '1,5p' README.md", id="sed-print"),
    P("awk '{print $1}' README.md", id="awk-print"),
    P("jq -r .name package.json", id="jq"),
    P("tar tzf x.tgz", id="tar-old-style-list"),
    P("docker ps -a", id="docker-ps"),
    P("ruff check .", id="ruff-check"),
    P("mypy .", id="mypy"),
    P("mypy --strict --warn-unreachable src", id="mypy-family"),
    P("test -f README.md", id="test"),
    P("[ -d src ]", id="bracket"),
    P("set -euo pipefail", id="set-strict"),
]


@pytest.mark.parametrize("command", VETTED)
def test_what_a_spec_lists_is_vetted(
    shared_pipelines: dict[str, SafetyPipeline], command: str
) -> None:
    _, kinds = _kinds(shared_pipelines["default"], command)
    assert "unvetted" not in kinds.split(","), kinds


SUBCOMMANDS = [
    P("kubectl -n prod delete pod x", "kubectl", id="option-value-is-not-a-subcommand"),
    P("git -C src -c x=y log", "git", id="git-global-values"),
    P("npm --prefix src test", "npm", id="npm-prefix-value"),
]


@pytest.mark.parametrize(("command", "program"), SUBCOMMANDS)
def test_option_values_are_never_subcommands(
    command_analyzer: CommandAnalyzer, shell_parser: ShellParser, command: str, program: str
) -> None:
    analysis = command_analyzer.analyze(shell_parser.parse(command).commands[0])
    spec = REGISTRY.get(program)
    if spec is None:
        pytest.skip(f"{program} is judged by its handler")
    value_words = {"prod", "src", "x=y"}
    assert not value_words & set(analysis.subcommand[:1])


@pytest.mark.parametrize(
    ("command", "fact"),
    [
        P("git push --force origin main", "force_push", id="push-force"),
        P("git push -f", "force_push", id="push-f"),
        P("git push --forc origin main", "force_push", id="push-abbreviated"),
        P("git push --force-with-lease", "force_push", id="push-lease"),
        P("git push --mirror", "force_push", id="push-mirror"),
        P("ruff check --fix .", "file_write", id="ruff-fix"),
        P("ruff format .", "file_write", id="ruff-format-writes"),
        P("black .", "file_write", id="black-writes"),
        P("isort src", "file_write", id="isort-writes"),
        P("eslint --fix .", "file_write", id="eslint-fix"),
        P("prettier --write .", "file_write", id="prettier-write"),
        P("prettier -w .", "file_write", id="prettier-w"),
        P("cargo fmt", "file_write", id="cargo-fmt"),
        P("gofmt -w x.go", "file_write", id="gofmt-w"),
        P("tsc", "file_write", id="tsc-emits"),
        P("jest -u", "file_write", id="jest-update-snapshots"),
        P("sort -o out.txt README.md", "file_write", id="sort-output"),
        P("sort --output=out.txt README.md", "file_write", id="sort-output-long"),
    ],
)
def test_spec_facts_hold_in_every_spelling(
    command_analyzer: CommandAnalyzer, shell_parser: ShellParser, command: str, fact: str
) -> None:
    analysis = command_analyzer.analyze(shell_parser.parse(command).commands[0])
    assert fact in {f.kind for f in analysis.facts}


@pytest.mark.parametrize(
    "command",
    [
        P("ruff format --check .", id="ruff-format-check"),
        P("black --check .", id="black-check"),
        P("black --diff src", id="black-diff"),
        P("isort --check-only src", id="isort-check"),
        P("cargo fmt --check", id="cargo-fmt-check"),
        P("tsc --noEmit", id="tsc-no-emit"),
        P("prettier --check .", id="prettier-check"),
    ],
)
def test_check_mode_does_not_write(
    command_analyzer: CommandAnalyzer, shell_parser: ShellParser, command: str
) -> None:
    analysis = command_analyzer.analyze(shell_parser.parse(command).commands[0])
    kinds = {f.kind for f in analysis.facts}
    assert not kinds & {"file_write", "unvetted"}, kinds


_LISTED_SAFE = ["ls -la", "git status", "grep -rn TODO src", "pytest -q", "cat README.md"]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    base=st.sampled_from(_LISTED_SAFE),
    option=st.from_regex(r"--[a-z]{3,12}(-[a-z]{2,8})?", fullmatch=True),
)
def test_an_unknown_option_never_turns_ask_into_allow(
    shared_pipelines: dict[str, SafetyPipeline], base: str, option: str
) -> None:
    program, _, rest = base.partition(" ")
    spec = REGISTRY[program]
    node = spec.subs.get(rest.split()[0], spec) if rest else spec
    known = option in node.options or any(option.startswith(p) for p, _ in node.prefixes)
    if known or any(n.startswith(option) for n in node.options):
        return
    decision, kinds = _kinds(shared_pipelines["default"], f"{base} {option}")
    assert decision != "allow", (option, kinds)
