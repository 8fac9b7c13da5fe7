"""`tether check`: evaluate tool calls against the sandbox and policy, without an agent.

It runs the same pipeline as the gatekeeper, so what it prints is what the
agent would meet; a call that needs approval is reported as such, never
resolved. One call with `--input` (or `--command`), or many with `--batch`
(JSON Lines in, one JSON line out per input, in order).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path
from typing import IO, Any

from tether.app import build_judging_pipeline
from tether.commands.collector import collector_paused
from tether.core.config import load_config
from tether.core.safety.pipeline import Layer, SafetyPipeline, Verdict
from tether.exceptions import ConfigError

__all__ = ["register", "run"]

_EXIT_USER_ERROR = 2
_EXIT_CODES = {"allow": 0, "deny": 1, "require_approval": 3}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "check",
        help="explain the decision for a tool call",
        description="Evaluate tool calls against the sandbox and the policy, without an agent. "
        "Prints the decision (allow, deny, require_approval), the layer that decided "
        "(input, sandbox, policy), the rule, the reason and the risk facts.",
        epilog='Example: tether check --dir . --tool Bash --input \'{"command": "rm -rf /"}\'',
    )
    parser.add_argument(
        "--dir",
        dest="directories",
        action="append",
        metavar="DIR",
        help="an approved directory (repeatable; default: TETHER_APPROVED_DIRECTORIES or here)",
    )
    parser.add_argument(
        "--cwd", help="the session's working directory (default: the first approved directory)"
    )
    parser.add_argument(
        "--policy",
        dest="policies",
        action="append",
        metavar="NAME_OR_PATH",
        help="a preset (default, strict, permissive, dev-tools) or a YAML file; repeatable, "
        "in order (default: TETHER_POLICY_FILES)",
    )
    parser.add_argument("--tool", default="Bash", help="the tool name (default: Bash)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--input", metavar="JSON", help="the tool input, a JSON object")
    source.add_argument(
        "--command",
        metavar="COMMAND",
        help="shorthand for --tool Bash --input '{\"command\": ...}'",
    )
    source.add_argument(
        "--batch",
        metavar="FILE",
        help='JSON Lines of {"tool_name": ..., "tool_input": {...}}; "-" reads stdin',
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument(
        "--exit-code",
        action="store_true",
        help="exit 0 for allow, 1 for deny, 3 for require_approval (single call only)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run `tether check`; returns the exit status."""
    if isinstance(sys.stdout, io.TextIOWrapper):
        # Commands may hold any character; the report must still print.
        sys.stdout.reconfigure(errors="backslashreplace")
    pipeline = _build_uncollected(args)
    cwd = args.cwd
    if args.batch is not None:
        if args.exit_code:
            raise ConfigError(
                "--exit-code describes one decision; with --batch, read each line's "
                "'decision' instead"
            )
        return _run_batch(pipeline, args.batch, cwd)
    if args.command is not None:
        tool_name, tool_input = "Bash", {"command": args.command}
    elif args.input is not None:
        tool_name = args.tool
        try:
            tool_input = json.loads(args.input)
        except (ValueError, RecursionError) as error:
            message = f"--input is not valid JSON: {_json_problem(error)}"
            if args.json:
                _write_line(sys.stdout, {"decision": "deny", "error": message})
            print(f"tether: {message}", file=sys.stderr)
            return _EXIT_USER_ERROR
    else:
        print("tether: give --input JSON, --command COMMAND or --batch FILE", file=sys.stderr)
        return _EXIT_USER_ERROR
    verdict = pipeline.decide(tool_name, tool_input, cwd=cwd)
    if args.json:
        _write_line(sys.stdout, _as_json(tool_name, verdict))
    else:
        _print_text(tool_name, verdict)
    return _EXIT_CODES[verdict.decision.value] if args.exit_code else 0


def _build_uncollected(args: argparse.Namespace) -> SafetyPipeline:
    """The judging pipeline, built with the cyclic garbage collector paused (see there)."""
    with collector_paused():
        return build_judging_pipeline(load_config(**_overrides(args)))


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    if args.directories:
        for directory in args.directories:
            if not Path(directory).expanduser().is_dir():
                raise ConfigError(f"--dir {directory!r} is not an existing directory")
        overrides["approved_directories"] = tuple(args.directories)
    if args.policies:
        overrides["policy_files"] = tuple(args.policies)
    return overrides


def _run_batch(pipeline: SafetyPipeline, source: str, cwd: str | None) -> int:
    try:
        stream = sys.stdin.buffer if source == "-" else open(source, "rb")  # noqa: SIM115
    except OSError as error:
        print(f"tether: --batch {source!r} cannot be read: {error.strerror}", file=sys.stderr)
        return _EXIT_USER_ERROR
    out = sys.stdout
    buffer: list[str] = []
    render = _Rendered()
    try:
        for number, raw in enumerate(stream, start=1):
            line = raw.strip()
            if not line:
                continue  # blank lines are skipped (their numbers still count)
            buffer.append(_batch_line(pipeline, number, line, cwd, render))
            if len(buffer) >= 512:
                out.write("".join(buffer))
                buffer.clear()
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    out.write("".join(buffer))
    out.flush()
    return 0


def _batch_line(
    pipeline: SafetyPipeline,
    number: int,
    raw: bytes,
    cwd: str | None,
    render: _Rendered | None = None,
) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return _bad_line(number, f"line {number} is not valid UTF-8 (byte {error.start})")
    try:
        item = _loads(text)
    except (ValueError, RecursionError) as error:
        return _bad_line(number, f"line {number} is not JSON: {_json_problem(error)}")
    if not isinstance(item, dict):
        return _bad_line(number, f"line {number} is not a JSON object")
    if "tool_name" not in item or "tool_input" not in item:
        return _bad_line(number, f"line {number} needs 'tool_name' and 'tool_input'")
    tool_name = item["tool_name"]
    verdict = pipeline.decide(tool_name, item["tool_input"], cwd=cwd)
    shown = tool_name if isinstance(tool_name, str) else repr(tool_name)
    # What json.dumps writes for {"line": …, "id": …, **the verdict, "error": …}, with
    # the verdict's part encoded once per verdict (a repeated call reuses its verdict).
    body = (render or _Rendered()).body(shown, verdict)
    malformed = verdict.violation_type in _MALFORMED
    if not malformed and "id" not in item:
        return f'{{"line": {number}, {body}}}\n'  # (most lines)
    head = f'{{"line": {number}, '
    if "id" in item:
        head += f'"id": {json.dumps(item["id"])}, '
    tail = "}"
    if malformed:
        # A malformed call is a malformed line too: say so as the other bad lines do.
        tail = f', "error": {json.dumps(f"line {number}: {verdict.reason}")}}}'
    return f"{head}{body}{tail}\n"


_MALFORMED = frozenset({"invalid_input", "error"})
"""The violation types of a call that is malformed (its line says so as an error)."""

_raw_decode = json.JSONDecoder().raw_decode

_SCANNED_CHARS = 400
"""The longest line `_loads` scans itself: it nests at most 200 levels, far inside the
recursion limit, so reading it a frame or two less deep than `json.loads` reads it
cannot decide whether it is too deeply nested."""


def _loads(text: str) -> Any:
    """`json.loads(text)` for a line stripped of whitespace: one scan of the text.

    `json.loads` skips whitespace before and after the value (a stripped line has
    none to skip) and checks that nothing follows it. Anything else (a longer
    line, a value that ends early, any error) goes to `json.loads` itself, which
    returns or raises what it does.
    """
    if len(text) > _SCANNED_CHARS:
        return json.loads(text)
    try:
        item, end = _raw_decode(text)
    except ValueError:
        return json.loads(text)
    if end != len(text):
        return json.loads(text)
    return item


class _Rendered:
    """The JSON of recent verdicts, without braces, by verdict (identity) and tool name."""

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._kept: dict[tuple[int, str], tuple[Verdict, str]] = {}

    def body(self, tool_name: str, verdict: Verdict) -> str:
        key = (id(verdict), tool_name)
        kept = self._kept.get(key)
        if kept is not None and kept[0] is verdict:
            return kept[1]
        text = json.dumps(_as_json(tool_name, verdict))[1:-1]
        if len(self._kept) >= self._size:
            self._kept.clear()
        # The verdict is held beside its text, so its id cannot be reused meanwhile.
        self._kept[key] = (verdict, text)
        return text


def _json_problem(error: ValueError | RecursionError) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at column {error.colno}"
    if isinstance(error, RecursionError):
        return "it is nested too deeply"
    return str(error)  # e.g. an integer with more digits than Python converts


def _bad_line(number: int, message: str) -> str:
    return json.dumps({"line": number, "decision": "deny", "error": message}) + "\n"


def _as_json(tool_name: str, verdict: Verdict) -> dict[str, Any]:
    result: dict[str, Any] = {
        "decision": verdict.decision.value,
        "layer": verdict.layer.value,
        "rule": verdict.rule,
        "policy": verdict.policy,
        "reason": verdict.reason,
        "risk_level": verdict.risk_level.value,
        "risk_facts": list(verdict.risk_facts),
        "violation_type": verdict.violation_type,
        "tool_name": tool_name,
    }
    if verdict.policy_decision is not None and verdict.classification is not None:
        result["parts"] = [
            {
                "command": part.text,
                "decision": part.action.value,
                "rule": part.rule,
                "risk_facts": list(part.facts),
            }
            for part in verdict.policy_decision.parts
        ]
    return result


def _write_line(stream: IO[str], value: dict[str, Any]) -> None:
    stream.write(json.dumps(value) + "\n")


def _print_text(tool_name: str, verdict: Verdict) -> None:
    out = sys.stdout
    facts = ", ".join(verdict.risk_facts) or "none"
    rule = verdict.rule or ("(none: the default action)" if verdict.layer is Layer.POLICY else "-")
    if verdict.policy and verdict.rule:
        rule = f"{verdict.rule} (policy {verdict.policy})"
    lines = [
        f"decision:  {verdict.decision.value}",
        f"layer:     {verdict.layer.value}",
        f"rule:      {rule}",
        f"reason:    {verdict.reason}",
        f"risk:      {verdict.risk_level.value} ({facts})",
    ]
    decision = verdict.policy_decision
    if decision is not None and len(decision.parts) > 1:
        lines.append("commands:")
        for part in decision.parts:
            shown = part.text if len(part.text) <= 80 else part.text[:77] + "..."
            part_facts = f" [{', '.join(part.facts)}]" if part.facts else ""
            lines.append(f"  {part.action.value:<16} {shown}{part_facts}")
    out.write("\n".join(lines) + "\n")
