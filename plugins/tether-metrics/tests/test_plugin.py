"""The metrics plugin, loaded by its entry point into a real engine, scraped over real HTTP."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("prometheus_client", reason="tether-metrics is not installed with its deps")

import httpx
from prometheus_client.parser import text_string_to_metric_families
from tether_metrics import MetricsPlugin, MetricsSettings

from tether.connectors.base import ApprovalAnswer, ApprovalChoice
from tether.exceptions import ConfigError, PluginError
from tether.plugins import (
    MESSAGE_IN,
    TOOL_ALLOWED,
    TOOL_DENIED,
    Event,
    PluginContext,
    PluginMeta,
)
from tether.testing import TEST_USER, EngineUnderTest, Say, ScriptedAgent, UseTool, running_engine

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def _scrape(port: int) -> Samples:
    """GET /metrics on the loopback port, parsed: (sample name, labels) -> value."""
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert response.status_code == 200
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _metrics_of(tether: EngineUnderTest) -> MetricsPlugin:
    plugin = tether.engine.plugins.get("metrics")
    assert isinstance(plugin, MetricsPlugin)
    assert plugin.port is not None
    return plugin


class _Raises:
    """A plugin whose handler always fails."""

    meta = PluginMeta(name="raises", version="1")

    async def initialize(self, context: PluginContext) -> None:
        context.event_bus.subscribe(MESSAGE_IN, self.on_message)

    async def on_message(self, event: Event) -> None:
        raise RuntimeError("a plugin bug")

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class _Hangs(_Raises):
    """A plugin whose handler outlives the handler timeout."""

    meta = PluginMeta(name="hangs", version="1")

    async def on_message(self, event: Event) -> None:
        await asyncio.sleep(60)


@pytest.fixture
def enabled(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The plugin is installed (as pip would leave it) and listens on any free port."""
    monkeypatch.setenv("TETHER_PLUGIN_METRICS_PORT", "0")


async def test_installed_plugin_serves_the_engines_traffic(enabled: None, tmp_path: Path) -> None:
    """Messages, cost, tool calls by decision and rule, and approvals with their latency."""
    agent = ScriptedAgent(
        script_for=lambda prompt: [
            Say("working"),
            UseTool("Read", {"file_path": prompt + "/README.md"}),
            UseTool("Read", {"file_path": "/etc/shadow"}),
            UseTool("Write", {"file_path": prompt + "/notes.txt", "content": "x"}),
        ],
        cost=0.25,
    )
    async with running_engine(agent=agent, workdir=tmp_path, installed=("metrics",)) as tether:
        (tether.project / "README.md").write_text("# demo\n")
        running = asyncio.create_task(tether.send(str(tether.project)))
        request = await tether.connector.next_approval()
        await tether.engine.handle_approval(
            ApprovalAnswer(
                approval_id=request.approval_id,
                choice=ApprovalChoice.APPROVE,
                user_id=TEST_USER,
                chat_id=TEST_USER,
            )
        )
        await asyncio.wait_for(running, 10)
        await tether.send("/status")
        samples = await _scrape(_metrics_of(tether).port or 0)

        assert _value(samples, "tether_messages_total", direction="in") == 2
        assert _value(samples, "tether_messages_total", direction="out") == 2
        assert _value(samples, "tether_request_cost_usd_total") == pytest.approx(0.25)
        for name, decision in ((TOOL_ALLOWED, "allowed"), (TOOL_DENIED, "denied")):
            rules: dict[str, int] = {}
            for event in tether.events.named(name):
                rule = event.data["rule"] or "none"
                rules[rule] = rules.get(rule, 0) + 1
            assert rules, f"the script makes at least one {decision} call"
            for rule, count in rules.items():
                assert (
                    _value(samples, "tether_tool_calls_total", decision=decision, rule=rule)
                    == count
                )
        assert _value(samples, "tether_approvals_requested_total") == 1
        assert _value(samples, "tether_approvals_total", outcome="approved") == 1
        assert _value(samples, "tether_approval_latency_seconds_count", outcome="approved") == 1
        assert _value(samples, "tether_approval_latency_seconds_sum", outcome="approved") > 0


async def test_handler_errors_and_timeouts_are_counted_per_plugin(
    enabled: None, tmp_path: Path
) -> None:
    async with running_engine(
        [_Raises(), _Hangs()],
        workdir=tmp_path,
        installed=("metrics",),
        event_handler_timeout_seconds=0.05,
    ) as tether:
        await tether.send("hello")
        await tether.send("again")
        samples = await _scrape(_metrics_of(tether).port or 0)

    errors = {
        dict(labels)["plugin"]: value
        for (name, labels), value in samples.items()
        if name == "tether_event_handler_errors_total"
    }
    timeouts = {
        dict(labels)["plugin"]: value
        for (name, labels), value in samples.items()
        if name == "tether_event_handler_timeouts_total"
    }
    assert errors["raises"] == 2
    assert timeouts["hangs"] == 2
    assert errors["metrics"] == timeouts["metrics"] == 0
    assert errors["hangs"] == timeouts["raises"] == 0


async def test_metrics_are_served_on_the_loopback_interface_only(tmp_path: Path) -> None:
    plugin = MetricsPlugin(MetricsSettings(port=0))
    async with running_engine([plugin], workdir=tmp_path):
        port = plugin.port
        assert port is not None
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        address = _other_local_address()
        if address is not None:
            with pytest.raises(OSError):
                socket.create_connection((address, port), timeout=2).close()


def _other_local_address() -> str | None:
    """An address of this machine that is not loopback, when it has one."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        # A UDP connect sends nothing; it only picks the interface a packet would leave by.
        probe.connect(("192.0.2.1", 9))
        address: str = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") else address


@pytest.fixture
def taken_port() -> Iterator[int]:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    yield holder.getsockname()[1]
    holder.close()


async def test_a_taken_port_stops_start_up_naming_the_variable(
    taken_port: int, tmp_path: Path
) -> None:
    plugin = MetricsPlugin(MetricsSettings(port=taken_port))
    with pytest.raises(PluginError, match="TETHER_PLUGIN_METRICS_PORT") as failure:
        async with running_engine([plugin], workdir=tmp_path):
            pass
    assert "metrics" in str(failure.value)
    assert "\n" not in str(failure.value)


async def test_stopping_releases_the_port(tmp_path: Path) -> None:
    plugin = MetricsPlugin(MetricsSettings(port=0))
    async with running_engine([plugin], workdir=tmp_path / "first"):
        port = plugin.port
    assert port is not None and plugin.port is None
    again = MetricsPlugin(MetricsSettings(port=port))
    async with running_engine([again], workdir=tmp_path / "second"):
        assert again.port == port
        assert _value(await _scrape(port), "tether_messages_total", direction="in") == 0


async def test_an_invalid_setting_stops_start_up_in_one_line(
    enabled: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TETHER_PLUGIN_METRICS_PORT", "99999")
    with pytest.raises(ConfigError, match=r"TETHER_PLUGIN_METRICS_PORT='99999' is invalid"):
        async with running_engine(workdir=tmp_path, installed=("metrics",)):
            pass


async def test_a_scrape_while_tether_is_busy_shows_the_last_reading(tmp_path: Path) -> None:
    """The handler counters are read on Tether's loop; a blocked loop does not hang the scrape."""
    plugin = MetricsPlugin(MetricsSettings(port=0, stats_timeout_seconds=0.2))
    async with running_engine([plugin], workdir=tmp_path):
        port = plugin.port or 0
        before = await _scrape(port)
        answered: list[tuple[int, float]] = []

        def scrape() -> None:
            started = time.monotonic()
            response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
            answered.append((response.status_code, time.monotonic() - started))

        scraper = threading.Thread(target=scrape)
        scraper.start()
        time.sleep(1.5)  # noqa: ASYNC251 - blocking the loop on purpose: the bus cannot be read
        scraper.join(10)
        ((status, took),) = answered
        assert status == 200
        assert took < 1.5
    assert any(name == "tether_event_handler_calls_total" for name, _ in before)
