"""What `--` ends is a fact about each program's parser, written in its spec.

For getopt's programs `--` ends the options. find's `--` ends only its leading
options: the expression, with its output actions, still follows. pytest reads
options after `--` too. `cargo test -- ...` hands the words to the test binary,
whose own options are vetted (`--logfile PATH` writes anywhere).
"""

from __future__ import annotations

import pytest

from tests.core.safety.registry.conftest import Decide


@pytest.mark.parametrize(
    "command",
    [
        # find: output actions after `--`
        "find -- src -fprintf .git/config x -quit",
        "find -- src -fprint out.txt",
        "find -- src -fprint0 .env",
        "find -- src -fls listing",
        "find -L -- src -fprint out",
        "find -P -- src -fprint out",
        "find -D tree -- src -fprint out",
        "find -O3 -- src -fprint out",
        "find -- -- src -fprint out",
        "nice find -- src -fprint out",
        "cd src && find -- . -fprint ../.git/config",
        "bash -c 'find -- src -fprint out'",
        "find -- src -exec rm {} +",
        "find -- src -delete",
        "find -- . -newer .env",
        # pytest: options after `--`
        "pytest -- --junitxml=/tmp/report.xml",
        "pytest -- --junit-xml=/tmp/report.xml",
        "pytest -x -- --junit-xml=/tmp/report.xml",
        "pytest tests -- --log-file=/tmp/log",
        "pytest -- --debug=/tmp/debug",
        "pytest -- --pastebin=all",
        "pytest -- -p evilplugin",
        "pytest -- -o cache_dir=/tmp/x",
        "pytest -- --rootdir=/tmp",
        "pytest -- --confcutdir=/",
        "python3 -m pytest -- --junitxml=/tmp/report.xml",
        "py.test -- --junitxml=/tmp/report.xml",
        # cargo test: the test binary's options
        "cargo test -- --logfile ~/.bashrc",
        "cargo test -- --logfile=/root/.ssh/authorized_keys",
        "cargo test -- --logfile .env",
        "cargo test -- --logfile .git/hooks/pre-commit",
        "cargo test --doc -- --logfile /tmp/x",
        "cargo t -- --logfile out.txt",
        "timeout 60 cargo test -- --logfile out.txt",
        "cargo test -- --nocapture --logfile out.txt",
        "cargo bench -- --logfile out.txt",
    ],
)
def test_options_after_dashes_are_still_vetted(decide: Decide, command: str) -> None:
    decision, _ = decide(command)
    assert decision != "allow", command


@pytest.mark.parametrize(
    "command",
    [
        "find -- src -name '*.py'",
        "find -- . -type f",
        "find -L -- src -name '*.md' -print",
        "pytest -q -- tests",
        "pytest -- tests/test_app.py",
        "python3 -m pytest -q -- tests",
        "cargo test -- --nocapture",
        "cargo test -- --test-threads=1 my_test",
        "cargo test my_test -- --exact --show-output",
        "cargo test -- --include-ignored -q",
        "grep -n -- -pattern README.md",
    ],
)
def test_the_everyday_forms_stay_allowed(decide: Decide, command: str) -> None:
    decision, facts = decide(command)
    assert decision == "allow", (command, facts)
