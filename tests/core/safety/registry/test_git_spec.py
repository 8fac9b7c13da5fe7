"""git's spec is the one list of its read-only subcommands; the presets agree with it."""

from __future__ import annotations

from tether.core.safety.policy import Policy
from tether.core.safety.registry import REGISTRY


def test_every_git_subcommand_a_preset_allows_only_reads(presets: dict[str, Policy]) -> None:
    """A preset naming a git subcommand to allow names one the spec vets as a read."""
    git = REGISTRY["git"]
    changing = {
        (policy.name, subcommand)
        for policy in presets.values()
        for rule in policy.rules
        if rule.action == "allow" and "git" in rule.programs
        for subcommand in rule.subcommands
        if (node := git.subs.get(subcommand.split()[0])) is None or node.facts or node.any_options
    }
    assert not changing


def test_the_subcommands_that_change_the_repository_carry_git_mutation() -> None:
    git = REGISTRY["git"]
    for word, node in git.subs.items():
        if node.any_options:
            assert "git_mutation" in node.facts, word
