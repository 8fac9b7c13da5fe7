"""OwnSessionTransport: only Tether's CLI processes start in a session of their own."""

from __future__ import annotations

from pathlib import Path

from claude_agent_sdk import ClaudeAgentOptions, ClaudeSDKClient

from tests.agents.support import FakeLog, RecordingGate
from tether.agents.claude_code import ClaudeCodeAgent
from tether.agents.claude_transport import OwnSessionTransport
from tether.core.session import Session


async def test_other_users_of_the_sdk_keep_its_usual_spawning(
    agent: ClaudeCodeAgent,
    session: Session,
    gate: RecordingGate,
    fake_cli: Path,
    project_dir: Path,
    fake_log: FakeLog,
) -> None:
    await agent.execute("text", session, can_use_tool=gate)
    async with ClaudeSDKClient(ClaudeAgentOptions(cli_path=fake_cli, cwd=project_dir)) as client:
        await client.query("text")
        [message async for message in client.receive_response()]

    ours, theirs = fake_log.starts()
    assert ours["sid"] == ours["pid"]
    assert theirs["sid"] != theirs["pid"]


async def test_the_transport_reports_its_process_until_it_ends(
    fake_cli: Path, project_dir: Path
) -> None:
    options = ClaudeAgentOptions(cli_path=fake_cli, cwd=project_dir)
    transport = OwnSessionTransport(prompt="", options=options)
    assert transport.pid is None
    assert transport.exited

    await transport.connect()
    try:
        assert transport.pid is not None
        assert not transport.exited
    finally:
        await transport.close()

    assert transport.exited
