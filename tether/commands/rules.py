"""`tether rules`: list and revoke the rules learned from "always", from the terminal."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tether.core.config import load_config
from tether.exceptions import ConfigError

if TYPE_CHECKING:
    from tether.core.safety.learned import LearnedRule

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "rules",
        help="list or revoke the rules learned from Always",
        description="List the remembered learned rules (number, scope, directory, uses, who "
        "granted them and when), or revoke them by number or all. Revocations are audited.",
        epilog="Examples: tether rules; tether rules revoke 2 3; tether rules revoke all",
    )
    parser.add_argument("action", nargs="?", choices=["list", "revoke"], default="list")
    parser.add_argument("numbers", nargs="*", metavar="N|all")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    # Imported here: every `tether` command registers this one, and only it reads the rules.
    import asyncio

    from tether.core.safety.learned import LearnedRuleStore

    config = load_config()
    store = LearnedRuleStore(config.learned_rules_path)
    rules = store.load()
    if args.action == "list":
        if args.numbers:
            raise ConfigError("`tether rules list` takes no numbers; use `tether rules revoke N`")
        sys.stdout.write(f"Learned rules in {store.path}:\n")
        if not rules:
            sys.stdout.write("  (none)\n")
        for number, rule in enumerate(rules, start=1):
            sys.stdout.write(
                f"  {number}. {rule.label} — in {rule.directory}, used {rule.uses}×, granted "
                f"by {rule.granted_by} on {rule.granted_at} (approval {rule.approval_id}) "
                f"[{rule.id}]\n"
            )
        return 0
    chosen = _chosen(args.numbers, len(rules))
    removed = [rules[index] for index in chosen]
    kept = [rule for index, rule in enumerate(rules) if index not in set(chosen)]
    try:
        store.save(kept)
    except OSError as error:
        raise ConfigError(f"{store.path} cannot be written: {error.strerror}") from error
    asyncio.run(_audit(config.audit_log_path, removed))
    sys.stdout.write(f"Revoked {len(removed)} learned rule(s).\n")
    return 0


def _chosen(numbers: list[str], count: int) -> list[int]:
    if [n.lower() for n in numbers] == ["all"]:
        return list(range(count))
    if not numbers:
        raise ConfigError("say which rules to revoke: numbers from `tether rules`, or all")
    bad = [n for n in numbers if not n.isdigit() or not 1 <= int(n) <= count]
    if bad:
        raise ConfigError(
            f"{bad[0]!r} is not a rule number; `tether rules` lists 1 to {count}"
            if count
            else "there are no learned rules to revoke"
        )
    return sorted({int(n) - 1 for n in numbers})


async def _audit(path: Path, removed: list[LearnedRule]) -> None:
    from tether.core.safety.audit import AuditLogger

    logger = AuditLogger(path)
    try:
        for rule in removed:
            await logger.log("rule_revoked", rule_id=rule.id, label=rule.label, user_id="terminal")
    finally:
        await logger.close()
