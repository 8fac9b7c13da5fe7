"""Press Ctrl-C while Claude Code works, the way a terminal does it, and report what survived.

Run in a process group of its own (the test starts it with
`start_new_session=True`), so the SIGINT it sends to its group reaches only
itself and the processes in that group, as a terminal's Ctrl-C reaches the
foreground group. Usage:

    ctrl_c_driver.py tether|sdk CLI_PATH PROJECT_DIR

`tether` runs the request through ClaudeCodeAgent and cancels it on SIGINT,
as the REPL does; `sdk` runs it through a plain ClaudeSDKClient, for contrast.
Prints one JSON line: whether the CLI was alive after the signal, and how the
request ended.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from claude_agent_sdk import AssistantMessage, ClaudeAgentOptions, ClaudeSDKClient

from tether.agents.claude_code import ClaudeCodeAgent
from tether.core.config import TetherConfig
from tether.core.safety.gatekeeper import GateDecision
from tether.core.session import Session

# Long enough for a SIGINT to end a process that does not shield itself from it.
_SETTLE_SECONDS = 0.3


def _cli_pid() -> int:
    log = Path(os.environ["FAKE_CLAUDE_DIR"]) / "log.jsonl"
    starts = [json.loads(line) for line in log.read_text().splitlines()]
    return int(next(entry["pid"] for entry in starts if entry["event"] == "start"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child that died but was not reaped yet is a zombie: dead for our purpose.
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split(") ")[1].startswith("Z"))


async def _press_ctrl_c(pressed: asyncio.Event) -> bool:
    os.killpg(os.getpgrp(), signal.SIGINT)
    await pressed.wait()
    await asyncio.sleep(_SETTLE_SECONDS)
    return _alive(_cli_pid())


async def _through_tether(cli: Path, project: Path, pressed: asyncio.Event) -> dict[str, Any]:
    config = TetherConfig(approved_directories=(project,), claude_cli_path=cli)
    agent = ClaudeCodeAgent(config)
    session = Session(user_id=1, chat_id=1, working_directory=project)
    started = asyncio.Event()

    async def allow(name: str, tool_input: dict[str, Any]) -> GateDecision:
        return GateDecision(allowed=True)

    async def on_text(text: str) -> None:
        started.set()

    running = asyncio.create_task(
        agent.execute("slow", session, can_use_tool=allow, on_text=on_text)
    )
    await started.wait()
    alive = await _press_ctrl_c(pressed)
    await agent.cancel(session.session_id)
    response = await running
    await agent.shutdown()
    return {"alive": alive, "cancelled": response.cancelled, "content": response.content}


async def _through_plain_sdk(cli: Path, project: Path, pressed: asyncio.Event) -> dict[str, Any]:
    options = ClaudeAgentOptions(cli_path=cli, cwd=project)
    client = ClaudeSDKClient(options)
    await client.connect()
    try:
        await client.query("slow")
        async for message in client.receive_messages():
            if isinstance(message, AssistantMessage):
                break
        alive = await _press_ctrl_c(pressed)
    finally:
        await client.disconnect()
    return {"alive": alive, "cancelled": None, "content": None}


async def main(mode: str, cli: Path, project: Path) -> None:
    pressed = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGINT, pressed.set)
    run = _through_tether if mode == "tether" else _through_plain_sdk
    report = await asyncio.wait_for(run(cli, project, pressed), 20)
    print(json.dumps(report))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])))
