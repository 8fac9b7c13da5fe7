"""Every timeout is finite and bounded; every allowed user id names one user in 64 bits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated

import pytest
from pydantic import BaseModel, ValidationError

from tether.core.config import USER_ID_MAX, bounded_seconds, load_config
from tether.exceptions import ConfigError

# (variable, lowest accepted, highest accepted)
TIMEOUTS = [
    pytest.param("TETHER_APPROVAL_TIMEOUT_SECONDS", 0.1, 86_400, id="approval"),
    pytest.param("TETHER_EVENT_HANDLER_TIMEOUT_SECONDS", 0.01, 300, id="event-handler"),
    pytest.param("TETHER_AGENT_TIMEOUT_SECONDS", 1, 86_400, id="agent"),
    pytest.param("TETHER_STREAMING_THROTTLE_SECONDS", 0, 60, id="streaming-throttle"),
    pytest.param("TETHER_APPROVAL_BATCH_SECONDS", 0, 5, id="approval-batch"),
    pytest.param("TETHER_PLUGIN_LIFECYCLE_TIMEOUT_SECONDS", 0.01, 300, id="plugin-lifecycle"),
]

OUT_OF_RANGE = [
    pytest.param("inf", id="inf"),
    pytest.param("Infinity", id="Infinity"),
    pytest.param("-inf", id="minus-inf"),
    pytest.param("nan", id="nan"),
    pytest.param("NaN", id="NaN-capital"),
    pytest.param("-1", id="minus-one"),
    pytest.param("1e308", id="1e308"),
    pytest.param("1e309", id="1e309-overflows-to-inf"),
    pytest.param("100000", id="past-the-top"),
    pytest.param("-0.000001", id="just-below-zero"),
]


@pytest.mark.parametrize(("variable", "low", "high"), TIMEOUTS)
@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_a_timeout_out_of_range_is_one_line_naming_the_variable_and_the_range(
    monkeypatch: pytest.MonkeyPatch, variable: str, low: float, high: float, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_config()
    message = str(caught.value)
    assert message.startswith(f"{variable}={value!r} is invalid")
    assert f"from {low:g} to {high:g}" in message
    assert "(" in message  # the reason for the range follows it
    assert "\n" not in message


@pytest.mark.parametrize(("variable", "low", "high"), TIMEOUTS)
def test_zero_is_refused_where_it_would_never_wait(
    monkeypatch: pytest.MonkeyPatch, variable: str, low: float, high: float
) -> None:
    monkeypatch.setenv(variable, "0")
    if low == 0:
        load_config()  # throttle 0: every change is sent at once
    else:
        with pytest.raises(ConfigError, match=variable):
            load_config()


@pytest.mark.parametrize(("variable", "low", "high"), TIMEOUTS)
def test_the_bounds_themselves_are_accepted(
    monkeypatch: pytest.MonkeyPatch, variable: str, low: float, high: float
) -> None:
    field = variable.removeprefix("TETHER_").lower()
    for value in (low, high):
        monkeypatch.setenv(variable, repr(value))
        assert getattr(load_config(), field) == value


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        pytest.param("TETHER_RATE_LIMIT_RPM", "10001", id="rpm-huge"),
        pytest.param("TETHER_RATE_LIMIT_BURST", "99999999999999999999999", id="burst-huge"),
        pytest.param("TETHER_CLAUDE_MAX_TURNS", "1e308", id="turns-float"),
        pytest.param("TETHER_CLAUDE_MAX_TURNS", "10001", id="turns-huge"),
    ],
)
def test_counts_are_bounded_too(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=f"^{variable}="):
        load_config()


def test_the_bound_is_one_reusable_annotation() -> None:
    class Settings(BaseModel):
        lifecycle: Annotated[float, bounded_seconds(1, 60, why="because")] = 10

    assert Settings(lifecycle=60).lifecycle == 60
    for bad in (float("inf"), float("nan"), 0.5, 61, -1):
        with pytest.raises(ValidationError, match=r"from 1 to 60 \(because\)"):
            Settings(lifecycle=bad)


class TestAllowedUserIds:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            pytest.param("1001,1002,1003", (1001, 1002, 1003), id="plain"),
            pytest.param(" 1001 , 1002 ", (1001, 1002), id="spaces-around-items"),
            pytest.param(str(USER_ID_MAX), (USER_ID_MAX,), id="largest-64-bit"),
            pytest.param("0", (0,), id="zero"),
            pytest.param("-1001234567890", (-1001234567890,), id="negative"),
        ],
    )
    def test_accepted(
        self, monkeypatch: pytest.MonkeyPatch, value: str, expected: tuple[int, ...]
    ) -> None:
        monkeypatch.setenv("TETHER_ALLOWED_USER_IDS", value)
        assert load_config().allowed_user_ids == expected

    @pytest.mark.parametrize(
        ("value", "bad", "reason"),
        [
            pytest.param(str(2**63), str(2**63), "beyond 64 bits", id="2-to-the-63"),
            pytest.param(str(-(2**63) - 1), str(-(2**63) - 1), "beyond 64 bits", id="below-64"),
            pytest.param("1" * 400, "1" * 400, "beyond 64 bits", id="400-digits"),
            pytest.param("1001,+1003", "+1003", "plain decimal", id="plus-sign"),
            pytest.param("01003", "01003", "plain decimal", id="leading-zero"),
            pytest.param("1003.0", "1003.0", "plain decimal", id="float-text"),
            pytest.param("1_003", "1_003", "plain decimal", id="underscore"),
            pytest.param("0x3eb", "0x3eb", "plain decimal", id="hex"),
            pytest.param("١٠٠٣", "١٠٠٣", "plain decimal", id="arabic-indic-digits"),
            pytest.param("1e3", "1e3", "plain decimal", id="exponent"),
        ],
    )
    def test_refused_in_one_line(
        self, monkeypatch: pytest.MonkeyPatch, value: str, bad: str, reason: str
    ) -> None:
        monkeypatch.setenv("TETHER_ALLOWED_USER_IDS", value)
        with pytest.raises(ConfigError) as caught:
            load_config()
        message = str(caught.value)
        assert message.startswith(f"TETHER_ALLOWED_USER_IDS={bad!r} is invalid")
        assert reason in message
        assert "\n" not in message

    @pytest.mark.parametrize(
        "value",
        [
            pytest.param(True, id="true"),
            pytest.param(1003.0, id="float"),
            pytest.param(2**64, id="big"),
        ],
    )
    def test_code_cannot_pass_a_bool_a_float_or_a_huge_int(self, value: object) -> None:
        with pytest.raises(ConfigError, match="TETHER_ALLOWED_USER_IDS"):
            load_config(allowed_user_ids=[value])


# Each run starts a Python process (seconds): one per path, each with its own bad setting.
@pytest.mark.parametrize(
    ("variable", "value", "command"),
    [
        pytest.param("TETHER_APPROVAL_TIMEOUT_SECONDS", "inf", [], id="repl-approval-inf"),
        pytest.param(
            "TETHER_ALLOWED_USER_IDS",
            str(2**64),
            ["check", "--command", "ls"],
            id="check-user-id-65-bits",
        ),
    ],
)
def test_the_command_line_says_it_in_one_line_and_exits_2(
    tmp_path: Path, variable: str, value: str, command: list[str]
) -> None:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")}
    env[variable] = value
    done = subprocess.run(
        [sys.executable, "-m", "tether", *command],
        cwd=tmp_path,
        env=env,
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"tether: {variable}=")
    assert "Traceback" not in done.stderr + done.stdout
