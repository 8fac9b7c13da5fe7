"""`tether policy show|test|replay`: see the layers, run their examples, replay a history.

- `show` lists every layer, bottom to top, with the file and line of each rule,
  and where Tether keeps its own files.
- `test [FILE...]` runs every rule's `examples:` against the effective policy
  (FILEs are added as if named in `TETHER_POLICY_FILES`) and prints each
  mismatch with the rule that decided; exit 1 when one fails.
- `replay AUDIT.jsonl` re-judges recorded tool calls under a proposed policy
  (see `replay.py`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tether.app import build_safety_pipeline, check_policy_examples, enabled_plugin_programs
from tether.core.config import TetherConfig, load_config
from tether.core.safety.facts import FACTS
from tether.core.safety.floor import FLOOR_FACTS
from tether.core.safety.policy import Policy
from tether.exceptions import ConfigError

__all__ = ["register"]

_VERBS = {"allow": "allow", "deny": "deny", "require_approval": "ask"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "policy",
        help="show the policy layers, test their examples, replay an audit log",
        description="Inspect the layered policy: the built-in floor, the base presets, files "
        "that extend them, your own file, learned rules. See docs/policies.md.",
    )
    commands = parser.add_subparsers(title="policy commands", metavar="ACTION", required=True)

    show = commands.add_parser("show", help="list every layer and rule with its file and line")
    _common(show)
    show.set_defaults(handler=_show)

    test = commands.add_parser(
        "test",
        help="run every rule's examples against the effective policy",
        description="Run the `examples:` of every rule through the whole policy (analysis, "
        "sandbox, every layer). Exit 0 when all pass, 1 when one fails.",
    )
    test.add_argument("files", nargs="*", metavar="FILE", help="more policy files to add")
    _common(test)
    test.set_defaults(handler=_test)

    replay = commands.add_parser(
        "replay",
        help="re-judge the tool calls of an audit log under a proposed policy",
        description="Re-judge every recorded tool call (nothing is executed) and print what "
        "would change: asks now allowed, allows now asking or denied, counts by rule, and "
        "the most frequent asks left.",
    )
    replay.add_argument("audit_log", metavar="AUDIT.jsonl")
    replay.add_argument("--json", action="store_true", help="print JSON instead of text")
    _common(replay)
    replay.set_defaults(handler=_replay)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--policy",
        dest="policies",
        action="append",
        metavar="NAME_OR_PATH",
        help="a preset or YAML file, repeatable (default: TETHER_POLICY_FILES)",
    )
    parser.add_argument(
        "--user-policy",
        metavar="PATH",
        help="your own policy file (default: policy.yaml in Tether's config directory)",
    )
    parser.add_argument(
        "--dir",
        dest="directories",
        action="append",
        metavar="DIR",
        help="an approved directory (default: TETHER_APPROVED_DIRECTORIES or here)",
    )


def _config(args: argparse.Namespace, extra: tuple[str, ...] = ()) -> TetherConfig:
    overrides: dict[str, Any] = {}
    base = load_config()
    if args.policies or extra:
        overrides["policy_files"] = (*(args.policies or base.policy_files), *extra)
    if args.user_policy:
        overrides["user_policy_file"] = Path(args.user_policy)
    if args.directories:
        for directory in args.directories:
            if not Path(directory).expanduser().is_dir():
                raise ConfigError(f"--dir {directory!r} is not an existing directory")
        overrides["approved_directories"] = tuple(args.directories)
    return load_config(**overrides) if overrides else base


def _show(args: argparse.Namespace) -> int:
    config = _config(args)
    # As the daemon has them: the enabled plugins' program knowledge adds its `plugins` policy.
    programs = enabled_plugin_programs(config)
    pipeline = build_safety_pipeline(config, check_examples=False, programs=programs)
    engine = pipeline.policy
    out = sys.stdout
    out.write("Layers, bottom to top (a higher layer may tighten, or relax an ask):\n\n")
    out.write("1. built-in floor (in code; denies whatever the files say)\n")
    for kind in sorted(FLOOR_FACTS):
        out.write(f"   deny  {kind:<24} {FACTS[kind].summary}\n")
    out.write("\n2. base (strictest decision wins)\n")
    for policy in engine.policies:
        _show_policy(policy)
    out.write(f"   default action: {_VERBS[engine.default_action.value]}\n")
    out.write("\n3. files that extend a base, then your own file\n")
    if not engine.layers:
        out.write("   (none)\n")
    for policy in engine.layers:
        _show_policy(policy)
    user = config.user_policy_file.expanduser()
    out.write(f"   your file: {user}" + ("" if user.is_file() else " (not created)") + "\n")
    # Imported here: every `tether` command registers this one; only `show` reads these.
    from tether.core.safety.learned import LearnedRuleStore

    store = LearnedRuleStore(config.learned_rules_path)
    try:
        count = len(store.load())
        learned = f"{count} remembered rule(s)"
    except ConfigError as error:
        learned = f"unreadable: {error}"
    out.write(f"\n4. learned rules: {config.learned_rules_path} ({learned}); `tether rules`\n")
    out.write("5. per-chat modes: /edit (file edits in the project), /plan (read only)\n")
    out.write(f"\nAudit log: {config.audit_log_path.expanduser()}\n")
    return 0


def _show_policy(policy: Policy) -> None:
    label = policy.source if policy.source == policy.name else f"{policy.name} ({policy.source})"
    extends = f", extends {policy.extends}" if policy.extends else ""
    sys.stdout.write(f"   {label} [{policy.layer}{extends}]\n")
    for rule in policy.rules:
        where = f"{policy.source}:{rule.line}" if rule.line else policy.source
        sys.stdout.write(f"     {_VERBS[rule.action.value]:<5} {rule.name:<28} {where}\n")


def _test(args: argparse.Namespace) -> int:
    for file in args.files:
        if not Path(file).expanduser().is_file():
            raise ConfigError(f"policy file {file!r} does not exist")
    config = _config(args, tuple(args.files))
    pipeline = build_safety_pipeline(config, check_examples=False)
    policies = (*pipeline.policy.policies, *pipeline.policy.layers)
    results = check_policy_examples(pipeline)
    failures = [r for r in results if not r.passed]
    for failure in failures:
        sys.stdout.write(f"FAIL {failure.describe()}\n")
    rules = {(r.source, r.rule) for r in results}
    sys.stdout.write(
        f"{len(results) - len(failures)} of {len(results)} examples pass "
        f"({len(rules)} rules with examples, {len(policies)} files)\n"
    )
    return 1 if failures else 0


def _replay(args: argparse.Namespace) -> int:
    from tether.core.safety.replay import replay_file

    config = _config(args)
    report = replay_file(Path(args.audit_log), config, programs=enabled_plugin_programs(config))
    if args.json:
        sys.stdout.write(json.dumps(report.model_dump(mode="json"), ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(report.text())
    return 0
