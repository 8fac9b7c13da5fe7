#!/usr/bin/env python3
"""A stand-in for the `claude` CLI that speaks the SDK's stream-json control protocol.

The real claude-agent-sdk starts it (through `cli_path`) exactly as it would
start Claude Code: it answers `initialize`, reads user messages, writes
system/assistant/user/result messages and stream events, asks the SDK's
PreToolUse hooks and `can_use_tool` callback over control requests, and honours
`interrupt`. Tool permissions follow Claude Code's own order: hooks, deny
rules, permission mode, allow rules, its auto-approval of read-only tools, and
only then `can_use_tool`, so a test can see what would slip past a gate.

What it does for a message is chosen by the first word of the prompt (see
SCENARIOS). Everything it sees and decides is appended as JSON lines to
`$FAKE_CLAUDE_DIR/log.jsonl`; conversations it knows (for `--resume`) live in
`$FAKE_CLAUDE_DIR/sessions/`. Other switches, read from the environment:

- FAKE_CLAUDE_AUTH=missing: every message fails as "Not logged in".
- FAKE_CLAUDE_OLD=1: the initialize reply lacks `hook_on_failure_supported`.
- FAKE_CLAUDE_STALE_AT=startup|initialized|query: when an unknown `--resume` id
  fails: before answering `initialize` (as Claude Code does), right after it,
  or at the first message.
- FAKE_CLAUDE_IGNORE_INTERRUPT=1: acknowledge `interrupt` but keep working.

Only the standard library is used: it runs in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

READ_ONLY_TOOLS = frozenset({"Read", "Glob", "Grep", "LS", "Task", "Agent", "TodoWrite"})
EDIT_TOOLS = frozenset({"Write", "Edit", "MultiEdit", "NotebookEdit"})
BOOLEAN_FLAGS = frozenset(
    {
        "--verbose",
        "--include-partial-messages",
        "--include-hook-events",
        "--strict-mcp-config",
        "--continue",
        "--fork-session",
        "--session-mirror",
    }
)
VERSION = "2.1.331"


class TurnInterruptedError(Exception):
    """The SDK asked to stop the turn."""


@dataclass
class Pending:
    done: threading.Event = field(default_factory=threading.Event)
    response: dict[str, Any] | None = None
    cancelled: bool = False


@dataclass
class Decision:
    allowed: bool
    reason: str = ""
    tool_input: dict[str, Any] = field(default_factory=dict)
    result: str = ""


class FakeClaude:
    def __init__(self, argv: list[str]) -> None:
        self.home = Path(os.environ["FAKE_CLAUDE_DIR"])
        (self.home / "sessions").mkdir(parents=True, exist_ok=True)
        (self.home / "counters").mkdir(parents=True, exist_ok=True)
        self.args = parse_args(argv)
        self.cwd = str(Path.cwd())
        self.write_lock = threading.Lock()
        self.pending: dict[str, Pending] = {}
        self.pending_lock = threading.Lock()
        self.inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.interrupted = threading.Event()
        self.initialized = threading.Event()
        self.refuse_initialize = False
        self.hooks: dict[str, list[dict[str, Any]]] = {}
        self.next_request = 0
        self.next_id = 0
        self.session_id = str(uuid.uuid4())
        self.turns = 0

    # -- plumbing -----------------------------------------------------------

    def log(self, event: str, **data: Any) -> None:
        line = json.dumps({"event": event, "pid": os.getpid(), **data}) + "\n"
        with open(self.home / "log.jsonl", "a", encoding="utf-8") as file:
            file.write(line)

    def send(self, message: dict[str, Any]) -> None:
        with self.write_lock:
            sys.stdout.write(json.dumps(message) + "\n")
            sys.stdout.flush()

    def new_id(self, prefix: str) -> str:
        self.next_id += 1
        return f"{prefix}_{os.getpid()}_{self.next_id}"

    def read_stdin(self) -> None:
        for line in sys.stdin:
            if not line.strip():
                continue
            message = json.loads(line)
            self.log("received", message=message)
            kind = message.get("type")
            if kind == "control_response":
                response = message["response"]
                with self.pending_lock:
                    pending = self.pending.get(response["request_id"])
                if pending is not None:
                    pending.response = response
                    pending.done.set()
            elif kind == "control_request":
                self.answer_control_request(message)
            elif kind == "user":
                self.inbox.put(message)
        # The SDK closed stdin: the session is over.
        self.log("stdin_closed")
        os._exit(0)

    def answer_control_request(self, message: dict[str, Any]) -> None:
        request = message["request"]
        subtype = request.get("subtype")
        response: dict[str, Any] = {}
        if subtype == "initialize" and self.refuse_initialize:
            self.initialized.set()
            return
        if subtype == "initialize":
            self.hooks = request.get("hooks") or {}
            response = {"commands": [], "models": [], "account": {}}
            if os.environ.get("FAKE_CLAUDE_OLD") != "1":
                response["hook_on_failure_supported"] = True
        elif subtype == "interrupt" and os.environ.get("FAKE_CLAUDE_IGNORE_INTERRUPT") != "1":
            self.interrupted.set()
            with self.pending_lock:
                waiting = [(rid, p) for rid, p in self.pending.items() if not p.done.is_set()]
            for request_id, pending in waiting:
                self.send({"type": "control_cancel_request", "request_id": request_id})
                pending.cancelled = True
                pending.done.set()
        self.send(
            {
                "type": "control_response",
                "response": {
                    "subtype": "success",
                    "request_id": message["request_id"],
                    "response": response,
                },
            }
        )
        if subtype == "initialize":
            self.initialized.set()

    def ask(self, request: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """Send a control request to the SDK; its response, or None when it timed out."""
        pending = Pending()
        with self.pending_lock:
            # Parallel tool calls ask from several threads at once.
            self.next_request += 1
            request_id = f"fake_{self.next_request}"
            self.pending[request_id] = pending
        self.send({"type": "control_request", "request_id": request_id, "request": request})
        answered = pending.done.wait(timeout)
        with self.pending_lock:
            self.pending.pop(request_id, None)
        if pending.cancelled:
            raise TurnInterruptedError
        return pending.response if answered else None

    def check_interrupt(self) -> None:
        if self.interrupted.is_set():
            raise TurnInterruptedError

    # -- messages -----------------------------------------------------------

    def system_init(self) -> None:
        self.send(
            {
                "type": "system",
                "subtype": "init",
                "session_id": self.session_id,
                "cwd": self.cwd,
                "tools": sorted(READ_ONLY_TOOLS | EDIT_TOOLS | {"Bash"}),
                "model": self.args.get("--model", "fake-model"),
                "permissionMode": self.args.get("--permission-mode", "default"),
                "claude_code_version": VERSION,
                "uuid": str(uuid.uuid4()),
            }
        )

    def assistant(
        self, content: list[dict[str, Any]], parent: str | None = None, **extra: Any
    ) -> None:
        self.send(
            {
                "type": "assistant",
                "message": {
                    "id": extra.pop("message_id", None) or self.new_id("msg"),
                    "type": "message",
                    "role": "assistant",
                    "model": "fake-model",
                    "content": content,
                    "stop_reason": None,
                    "usage": {"input_tokens": 10, "output_tokens": 5},
                },
                "parent_tool_use_id": parent,
                "session_id": self.session_id,
                "uuid": str(uuid.uuid4()),
                **extra,
            }
        )

    def stream_event(self, event: dict[str, Any]) -> None:
        self.send(
            {
                "type": "stream_event",
                "uuid": str(uuid.uuid4()),
                "session_id": self.session_id,
                "event": event,
                "parent_tool_use_id": None,
            }
        )

    def say(self, text: str) -> None:
        """Write `text` as the agent: streamed in pieces when partial messages are on."""
        message_id = self.new_id("msg")
        if "--include-partial-messages" in self.args:
            self.stream_event({"type": "message_start", "message": {"id": message_id}})
            self.stream_event(
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                }
            )
            for start in range(0, len(text), 12):
                self.check_interrupt()
                self.stream_event(
                    {
                        "type": "content_block_delta",
                        "index": 0,
                        "delta": {"type": "text_delta", "text": text[start : start + 12]},
                    }
                )
            self.stream_event({"type": "content_block_stop", "index": 0})
            self.stream_event({"type": "message_stop"})
        self.assistant([{"type": "text", "text": text}], message_id=message_id)

    def result(self, text: str, **fields: Any) -> None:
        message = {
            "type": "result",
            "subtype": "success",
            "duration_ms": 42,
            "duration_api_ms": 40,
            "is_error": False,
            "num_turns": 2,
            "session_id": self.session_id,
            "total_cost_usd": 0.0123,
            "usage": {"input_tokens": 10, "output_tokens": 5},
            "result": text,
            "terminal_reason": "completed",
            "uuid": str(uuid.uuid4()),
        }
        message.update(fields)
        self.send(message)

    def fail(self, text: str, **fields: Any) -> None:
        """An error result, then exit 1, as Claude Code ends a failed run."""
        self.result(text, is_error=True, **fields)
        self.log("exit", code=1)
        os._exit(1)

    # -- tools ----------------------------------------------------------------

    def run_tool(self, name: str, tool_input: dict[str, Any]) -> tuple[str, bool]:
        """What a tool returns. The interactive ones answer as Claude Code's do."""
        if name == "AskUserQuestion":
            answers = tool_input.get("answers")
            if not isinstance(answers, dict) or not answers:
                # Headless, nobody answered: Claude Code reports an error to the model.
                return "The user did not answer the questions.", True
            pairs = ", ".join(f'"{q}"="{a}"' for q, a in answers.items())
            return (
                f"User has answered your questions: {pairs}. "
                "You can now continue with the user's answers in mind.",
                False,
            )
        if name == "ExitPlanMode":
            # Approving the plan takes the conversation out of plan mode.
            self.args["--permission-mode"] = "default"
            return "User has approved your plan. You can now start coding.", False
        return f"ok: {name}", False

    def use_tools_at_once(self, calls: list[tuple[str, dict[str, Any]]]) -> list[Decision]:
        """Several tool calls in one assistant message, their permissions asked at once,
        as Claude Code does for the model's parallel calls."""
        ids = [self.new_id("toolu") for _ in calls]
        self.assistant(
            [
                {"type": "tool_use", "id": tool_id, "name": name, "input": tool_input}
                for tool_id, (name, tool_input) in zip(ids, calls, strict=True)
            ]
        )
        decisions: list[Decision | None] = [None] * len(calls)

        def decide(index: int) -> None:
            name, tool_input = calls[index]
            decisions[index] = self.decide(name, tool_input, ids[index], None)

        threads = [threading.Thread(target=decide, args=(i,)) for i in range(len(calls))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        results = []
        for tool_id, decision in zip(ids, decisions, strict=True):
            assert decision is not None
            decision.result = "ok" if decision.allowed else decision.reason
            self.send(
                {
                    "type": "user",
                    "message": {
                        "role": "user",
                        "content": [
                            {
                                "type": "tool_result",
                                "tool_use_id": tool_id,
                                "content": decision.result,
                                "is_error": not decision.allowed,
                            }
                        ],
                    },
                    "parent_tool_use_id": None,
                    "session_id": self.session_id,
                    "uuid": str(uuid.uuid4()),
                }
            )
            results.append(decision)
        return results

    def use_tool(
        self,
        name: str,
        tool_input: dict[str, Any],
        parent: str | None = None,
        agent_id: str | None = None,
    ) -> Decision:
        tool_use_id = self.new_id("toolu")
        self.assistant(
            [{"type": "tool_use", "id": tool_use_id, "name": name, "input": tool_input}], parent
        )
        decision = self.decide(name, tool_input, tool_use_id, agent_id)
        if decision.allowed:
            self.log("tool_ran", tool=name, input=decision.tool_input, tool_use_id=tool_use_id)
            content, is_error = self.run_tool(name, decision.tool_input)
        else:
            content, is_error = decision.reason, True
        decision.result = content
        self.send(
            {
                "type": "user",
                "message": {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": tool_use_id,
                            "content": content,
                            "is_error": is_error,
                        }
                    ],
                },
                "parent_tool_use_id": parent,
                "session_id": self.session_id,
                "uuid": str(uuid.uuid4()),
            }
        )
        return decision

    def decide(
        self, name: str, tool_input: dict[str, Any], tool_use_id: str, agent_id: str | None
    ) -> Decision:
        def record(via: str, decision: Decision) -> Decision:
            self.log(
                "permission",
                tool=name,
                tool_use_id=tool_use_id,
                agent_id=agent_id,
                via=via,
                allowed=decision.allowed,
                reason=decision.reason,
                input=decision.tool_input,
            )
            return decision

        # 1. PreToolUse hooks.
        for matcher in self.hooks.get("PreToolUse", []):
            if not matches(matcher.get("matcher"), name):
                continue
            for callback_id in matcher.get("hookCallbackIds", []):
                hook_input = {
                    "hook_event_name": "PreToolUse",
                    "session_id": self.session_id,
                    "transcript_path": str(self.home / "transcript.jsonl"),
                    "cwd": self.cwd,
                    "permission_mode": self.args.get("--permission-mode", "default"),
                    "tool_name": name,
                    "tool_input": tool_input,
                    "tool_use_id": tool_use_id,
                }
                if agent_id is not None:
                    hook_input.update(agent_id=agent_id, agent_type="general-purpose")
                response = self.ask(
                    {
                        "subtype": "hook_callback",
                        "callback_id": callback_id,
                        "input": hook_input,
                        "tool_use_id": tool_use_id,
                    },
                    timeout=float(matcher.get("timeout") or 60),
                )
                if response is None or response.get("subtype") != "success":
                    if matcher.get("onFailure") == "block":
                        return record(
                            "hook", Decision(False, "the PreToolUse hook failed", tool_input)
                        )
                    continue
                output = response.get("response") or {}
                specific = output.get("hookSpecificOutput") or {}
                verdict = specific.get("permissionDecision")
                reason = specific.get("permissionDecisionReason") or ""
                if verdict == "deny":
                    return record("hook", Decision(False, reason, tool_input))
                if verdict == "allow":
                    return record(
                        "hook", Decision(True, reason, specific.get("updatedInput") or tool_input)
                    )
        # 2. Deny rules.
        if name in split_list(self.args.get("--disallowedTools", "")):
            return record("deny_rule", Decision(False, f"{name} is disallowed", tool_input))
        # 3. Permission mode.
        mode = self.args.get("--permission-mode", "default")
        if mode == "bypassPermissions" or (mode == "acceptEdits" and name in EDIT_TOOLS):
            return record("mode", Decision(True, mode, tool_input))
        # 4. Allow rules.
        if name in split_list(self.args.get("--allowedTools", "")):
            return record("allow_rule", Decision(True, "allowed_tools", tool_input))
        # 5. Claude Code's own approval of read-only calls.
        if name in READ_ONLY_TOOLS:
            return record("read_only", Decision(True, "read-only", tool_input))
        # 6. The SDK's can_use_tool.
        if self.args.get("--permission-prompt-tool") == "stdio":
            response = self.ask(
                {
                    "subtype": "can_use_tool",
                    "tool_name": name,
                    "input": tool_input,
                    "permission_suggestions": [],
                    "tool_use_id": tool_use_id,
                    **({"agent_id": agent_id} if agent_id else {}),
                },
                timeout=3600,
            )
            answer = (response or {}).get("response") or {}
            if answer.get("behavior") == "allow":
                return record(
                    "can_use_tool", Decision(True, "", answer.get("updatedInput") or tool_input)
                )
            return record(
                "can_use_tool", Decision(False, answer.get("message", "denied"), tool_input)
            )
        return record("no_prompt", Decision(False, "no way to ask for permission", tool_input))

    # -- scenarios ------------------------------------------------------------

    def count(self, name: str) -> int:
        path = self.home / "counters" / name
        value = int(path.read_text()) + 1 if path.exists() else 1
        path.write_text(str(value))
        return value

    def remember_session(self) -> int:
        path = self.home / "sessions" / self.session_id
        value = int(path.read_text()) + 1 if path.exists() else 1
        path.write_text(str(value))
        return value

    def run_turn(self, prompt: str) -> None:
        self.interrupted.clear()
        self.system_init()
        if os.environ.get("FAKE_CLAUDE_AUTH") == "missing":
            text = "Not logged in · Please run /login"
            self.assistant([{"type": "text", "text": text}], error="authentication_failed")
            self.fail(text, total_cost_usd=0, num_turns=1)
        self.turns = self.remember_session()
        word = (prompt.split() or ["text"])[0]
        scenario = SCENARIOS.get(word, scenario_text)
        try:
            scenario(self, prompt)
        except TurnInterruptedError:
            self.log("interrupted")
            self.result(
                "",
                subtype="error_during_execution",
                is_error=True,
                terminal_reason="aborted_tools",
                num_turns=1,
            )

    def main(self) -> None:
        self.log("start", argv=self.args, cwd=self.cwd, sid=os.getsid(0), pgid=os.getpgrp())
        resume = self.args.get("--resume")
        stale_at = os.environ.get("FAKE_CLAUDE_STALE_AT", "startup")
        known = resume is not None and (self.home / "sessions" / resume).exists()
        # Claude Code refuses an unknown --resume before anything runs.
        self.refuse_initialize = resume is not None and not known and stale_at == "startup"
        threading.Thread(target=self.read_stdin, daemon=True).start()
        if resume is not None:
            if known:
                self.session_id = resume
            elif stale_at in ("startup", "initialized"):
                self.initialized.wait(10)
                self.fail(
                    "",
                    subtype="error_during_execution",
                    errors=[f"No conversation found with session ID: {resume}"],
                    num_turns=0,
                    total_cost_usd=0,
                )
        while True:
            message = self.inbox.get()
            if message is None:
                return
            content = message["message"]["content"]
            prompt = content if isinstance(content, str) else json.dumps(content)
            if resume is not None and self.session_id != resume:
                self.fail(
                    "",
                    subtype="error_during_execution",
                    errors=[f"No conversation found with session ID: {resume}"],
                    num_turns=0,
                    total_cost_usd=0,
                )
            self.run_turn(prompt)


def scenario_text(fake: FakeClaude, prompt: str) -> None:
    text = f"Hello from the fake. This is message {fake.turns} of this conversation."
    fake.say(text)
    fake.result(text)


def scenario_bash(fake: FakeClaude, prompt: str) -> None:
    fake.say("Running the tests.")
    decision = fake.use_tool("Bash", {"command": "pytest -q"})
    verdict = "ran" if decision.allowed else f"was refused: {decision.reason}"
    fake.say(f"pytest {verdict}")
    fake.result(f"pytest {verdict}")


def scenario_danger(fake: FakeClaude, prompt: str) -> None:
    """`danger`: a command the floor denies, then the agent's own text about it."""
    decision = fake.use_tool("Bash", {"command": "rm -rf ~"})
    fake.say("I could not clean up." if not decision.allowed else "Cleaned up.")
    fake.result("done")


def read_app(fake: FakeClaude) -> Decision:
    return fake.use_tool("Read", {"file_path": str(Path(fake.cwd) / "src" / "app.py")})


def scenario_read(fake: FakeClaude, prompt: str) -> None:
    decision = read_app(fake)
    text = "Read the file." if decision.allowed else f"Could not read: {decision.reason}"
    fake.say(text)
    fake.result(text)


def run_subagent(fake: FakeClaude, tool_name: str) -> None:
    spawn = fake.new_id("toolu")
    fake.assistant(
        [
            {
                "type": "tool_use",
                "id": spawn,
                "name": tool_name,
                "input": {
                    "description": "Survey the project",
                    "prompt": "List and read",
                    "subagent_type": "general-purpose",
                },
            }
        ]
    )
    decision = fake.decide(tool_name, {"description": "Survey the project"}, spawn, None)
    if decision.allowed:
        agent_id = "agent_" + spawn
        fake.use_tool("Glob", {"pattern": "**/*.py"}, parent=spawn, agent_id=agent_id)
        fake.use_tool("Bash", {"command": "ls -la"}, parent=spawn, agent_id=agent_id)
    fake.send(
        {
            "type": "user",
            "message": {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": spawn,
                        "content": "survey done",
                        "is_error": not decision.allowed,
                    }
                ],
            },
            "parent_tool_use_id": None,
            "session_id": fake.session_id,
            "uuid": str(uuid.uuid4()),
        }
    )


def scenario_subagent(fake: FakeClaude, prompt: str) -> None:
    words = prompt.split()
    run_subagent(fake, words[1] if len(words) > 1 else "Agent")
    fake.say("The sub-agent finished.")
    fake.result("The sub-agent finished.")


def scenario_everything(fake: FakeClaude, prompt: str) -> None:
    read_app(fake)
    fake.use_tool("Bash", {"command": "pytest -q"})
    fake.use_tool(
        "Edit",
        {
            "file_path": str(Path(fake.cwd) / "src" / "app.py"),
            "old_string": "a",
            "new_string": "b",
        },
    )
    run_subagent(fake, "Agent")
    fake.say("All done.")
    fake.result("All done.")


def scenario_edit(fake: FakeClaude, prompt: str) -> None:
    """`edit`: change src/app.py's greeting, then say what came of it (the denial verbatim)."""
    decision = fake.use_tool(
        "Edit",
        {
            "file_path": str(Path(fake.cwd) / "src" / "app.py"),
            "old_string": "hello",
            "new_string": "bye",
        },
    )
    text = "Edited." if decision.allowed else f"The edit was refused: {decision.reason}"
    fake.say(text)
    fake.result(text)


QUESTIONS = [
    {
        "question": "Which package manager should I use?",
        "header": "Packages",
        "options": [
            {"label": "uv", "description": "Fast, with a lock file"},
            {"label": "pip", "description": "What is installed already"},
        ],
        "multiSelect": False,
    },
    {
        "question": "Which checks should run in CI?",
        "header": "CI",
        "options": [
            {"label": "tests", "description": "pytest"},
            {"label": "types", "description": "mypy"},
            {"label": "lint", "description": "ruff"},
        ],
        "multiSelect": True,
    },
]

PLAN = """# Plan: add a greeting

1. Add `greet(name)` to **src/app.py**.
2. Test it in `tests/test_app.py`.

```python
def greet(name: str) -> str:
    return f"Hello, {name} <3"
```
"""


def scenario_ask(fake: FakeClaude, prompt: str) -> None:
    """`ask`: two questions (the second multi-select) through AskUserQuestion."""
    decision = fake.use_tool("AskUserQuestion", {"questions": QUESTIONS})
    fake.say(decision.result)
    fake.result(decision.result)


def scenario_ask_bad(fake: FakeClaude, prompt: str) -> None:
    """`ask-bad`: AskUserQuestion with questions that are not a list."""
    decision = fake.use_tool("AskUserQuestion", {"questions": "which one?"})
    fake.say(decision.result)
    fake.result(decision.result)


def scenario_plan(fake: FakeClaude, prompt: str) -> None:
    """`plan`: a plan through ExitPlanMode, then an edit (refused while still planning)."""
    decision = fake.use_tool("ExitPlanMode", {"plan": PLAN})
    fake.say(decision.result)
    if decision.allowed:
        edit = fake.use_tool(
            "Edit",
            {
                "file_path": str(Path(fake.cwd) / "src" / "app.py"),
                "old_string": "hello",
                "new_string": "bye",
            },
        )
        fake.say(f" Then the edit: {edit.result}")
    fake.result(decision.result)


def scenario_parallel(fake: FakeClaude, prompt: str) -> None:
    """`parallel`: three Writes issued at once (one assistant message), asked at once."""
    calls = [
        ("Write", {"file_path": str(Path(fake.cwd) / f"{name}.md"), "content": f"note {name}\n"})
        for name in ("a", "b", "c")
    ]
    decisions = fake.use_tools_at_once(calls)
    summary = ", ".join(
        f"{Path(c[1]['file_path']).name}={'ran' if d.allowed else 'denied: ' + d.reason}"
        for c, d in zip(calls, decisions, strict=True)
    )
    fake.say(f"Parallel: {summary}")
    fake.result(summary)


def scenario_slow(fake: FakeClaude, prompt: str) -> None:
    fake.say("Working on it.")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        fake.check_interrupt()
        time.sleep(0.02)
    fake.say("Finished.")
    fake.result("Finished.")


def scenario_slow_tool(fake: FakeClaude, prompt: str) -> None:
    fake.use_tool("Bash", {"command": "make deploy"})
    fake.say("Deployed.")
    fake.result("Deployed.")


def scenario_tools(fake: FakeClaude, prompt: str) -> None:
    """`tools N`: N shell calls in a row, for measuring the cost of gating one."""
    words = prompt.split()
    count = int(words[1]) if len(words) > 1 else 10
    for index in range(count):
        fake.use_tool("Bash", {"command": f"echo {index}"})
    fake.say(f"Ran {count} commands.")
    fake.result(f"Ran {count} commands.")


def scenario_crash_once(fake: FakeClaude, prompt: str) -> None:
    if fake.count("crash-once") == 1:
        fake.say("Starting")
        fake.log("exit", code=1)
        os._exit(1)
    fake.say("Recovered after a crash.")
    fake.result("Recovered after a crash.")


def scenario_crash_always(fake: FakeClaude, prompt: str) -> None:
    fake.count("crash-always")
    fake.say("Starting")
    fake.log("exit", code=1)
    os._exit(1)


def scenario_rate_limit_once(fake: FakeClaude, prompt: str) -> None:
    if fake.count("rate-limit-once") == 1:
        text = 'API Error: 429 {"type":"error","error":{"type":"rate_limit_error"}}'
        fake.assistant([{"type": "text", "text": text}], error="rate_limit")
        fake.fail(text, api_error_status=429, terminal_reason="api_error", total_cost_usd=0)
    fake.say("Answered after the rate limit.")
    fake.result("Answered after the rate limit.")


def scenario_max_turns(fake: FakeClaude, prompt: str) -> None:
    fake.say("Still going.")
    fake.fail(
        "",
        subtype="error_max_turns",
        errors=[f"Reached maximum number of turns ({fake.args.get('--max-turns')})"],
        terminal_reason="max_turns",
    )


def malformed_messages(fake: FakeClaude) -> dict[str, Any]:
    """Messages of a wrong shape, by name, for `malformed NAME` (see scenario_malformed)."""
    sid = fake.session_id

    def assistant(body: Any, **extra: Any) -> dict[str, Any]:
        return {"type": "assistant", "message": body, "session_id": sid, **extra}

    def content(blocks: Any) -> dict[str, Any]:
        return assistant({"id": fake.new_id("msg"), "model": "fake-model", "content": blocks})

    def result(**changes: Any) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "result",
            "subtype": "success",
            "duration_ms": 42,
            "duration_api_ms": 40,
            "is_error": False,
            "num_turns": 1,
            "session_id": sid,
            "total_cost_usd": 0.01,
            "result": "done",
        }
        message.update(changes)
        return {key: value for key, value in message.items() if value != "<absent>"}

    return {
        "null-body": assistant(None),
        "body-is-text": assistant("hello"),
        "content-null": content(None),
        "content-text": content("hello"),
        "content-dict": content({"type": "text", "text": "x"}),
        "block-not-dict": content(["hello"]),
        "block-null": content([None]),
        "block-unknown": content([{"type": "hologram", "data": 1}]),
        "block-no-type": content([{"text": "x"}]),
        "text-missing": content([{"type": "text"}]),
        "text-not-str": content([{"type": "text", "text": 5}]),
        "tool-use-input-list": content(
            [{"type": "tool_use", "id": "t1", "name": "Bash", "input": []}]
        ),
        "tool-use-no-id": content([{"type": "tool_use", "name": "Bash", "input": {}}]),
        "thinking-no-signature": content([{"type": "thinking", "thinking": "hm"}]),
        "model-missing": assistant({"content": []}),
        "error-not-str": assistant({"model": "m", "content": []}, error={"x": 1}),
        "parent-not-str": assistant({"model": "m", "content": []}, parent_tool_use_id=7),
        "no-type": {"message": {"content": []}},
        "type-number": {"type": 5},
        "top-level-list": [1, 2, 3],
        "top-level-null": None,
        "top-level-text": "hello",
        "user-null-body": {"type": "user", "message": None},
        "user-content-number": {"type": "user", "message": {"content": 5}},
        "system-no-subtype": {"type": "system"},
        "system-task-missing-fields": {"type": "system", "subtype": "task_started"},
        "stream-event-null": {
            "type": "stream_event",
            "uuid": "u",
            "session_id": sid,
            "event": None,
        },
        "stream-event-no-uuid": {"type": "stream_event", "session_id": sid, "event": {}},
        "result-duration-text": result(duration_ms="42"),
        "result-is-error-text": result(is_error="no"),
        "result-turns-null": result(num_turns=None),
        "result-session-missing": result(session_id="<absent>"),
        "result-cost-text": result(total_cost_usd="0.01"),
        "result-text-number": result(result=5),
        "result-errors-not-list": result(is_error=True, errors="bad"),
        "result-bool-as-number": result(duration_ms=True),
    }


def scenario_malformed(fake: FakeClaude, prompt: str) -> None:
    """`malformed NAME`: send that malformed message amid an otherwise ordinary turn.

    A malformed result stands for the turn's result; anything else is followed
    by more text and an ordinary result, to show the turn goes on.
    """
    name = prompt.split()[1]
    fake.say("Before.")
    if name == "broken-json":
        with fake.write_lock:
            sys.stdout.write('{"type": "assistant", "message": {\n')
            sys.stdout.flush()
    elif name == "deep-json":
        # Valid JSON nested deeper than Python's json module can decode.
        depth = 5000
        with fake.write_lock:
            sys.stdout.write('{"type": "assistant", "x": ' + "[" * depth + "]" * depth + "}\n")
            sys.stdout.flush()
    elif name == "huge-int-json":
        # Valid JSON with an integer longer than Python converts (4,300 digits).
        with fake.write_lock:
            sys.stdout.write('{"type": "assistant", "x": ' + "1" * 5000 + "}\n")
            sys.stdout.flush()
    else:
        fake.send(malformed_messages(fake)[name])
    if name.startswith("result-"):
        return
    fake.say("After.")
    fake.result("Before.\n\nAfter.")


SCENARIOS = {
    "text": scenario_text,
    "malformed": scenario_malformed,
    "bash": scenario_bash,
    "read": scenario_read,
    "subagent": scenario_subagent,
    "everything": scenario_everything,
    "edit": scenario_edit,
    "ask": scenario_ask,
    "ask-bad": scenario_ask_bad,
    "plan": scenario_plan,
    "parallel": scenario_parallel,
    "danger": scenario_danger,
    "slow": scenario_slow,
    "slow-tool": scenario_slow_tool,
    "tools": scenario_tools,
    "crash-once": scenario_crash_once,
    "crash-always": scenario_crash_always,
    "rate-limit-once": scenario_rate_limit_once,
    "max-turns": scenario_max_turns,
}


def matches(matcher: str | None, name: str) -> bool:
    if not matcher or matcher in ("*", ".*"):
        return True
    return name in matcher.split("|")


def split_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def parse_args(argv: list[str]) -> dict[str, Any]:
    args: dict[str, Any] = {}
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg.startswith("--") and "=" in arg:
            name, value = arg.split("=", 1)
            args[name] = value
        elif arg in BOOLEAN_FLAGS:
            args[arg] = True
        elif arg.startswith("--") and index + 1 < len(argv):
            args[arg] = argv[index + 1]
            index += 1
        else:
            args[arg] = True
        index += 1
    return args


if __name__ == "__main__":
    FakeClaude(sys.argv[1:]).main()
