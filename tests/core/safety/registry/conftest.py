"""Helpers for the registry's table tests: analyse one command, decide one command."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tether.core.safety.analyzer import CommandAnalysis, CommandAnalyzer
from tether.core.safety.pipeline import SafetyPipeline
from tether.core.safety.shell import ShellParser

Analyse = Callable[[str], CommandAnalysis]
Decide = Callable[[str], tuple[str, set[str]]]


@pytest.fixture(scope="session")
def analyse(command_analyzer: CommandAnalyzer, shell_parser: ShellParser) -> Analyse:
    """The analysis of the first simple command of a line."""

    def run(command: str) -> CommandAnalysis:
        return command_analyzer.analyze(shell_parser.parse(command).commands[0])

    return run


@pytest.fixture(scope="session")
def decide(shared_pipelines: dict[str, SafetyPipeline]) -> Decide:
    """The default preset's decision on a command, and its facts."""

    def run(command: str) -> tuple[str, set[str]]:
        verdict = shared_pipelines["default"].decide("Bash", {"command": command})
        return verdict.decision.value, set(verdict.risk_facts)

    return run
