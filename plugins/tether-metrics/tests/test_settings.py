"""The plugin's settings: a documented default, `TETHER_PLUGIN_METRICS_*`, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("prometheus_client", reason="tether-metrics is not installed with its deps")

from prometheus_client import CollectorRegistry
from tether_metrics import DEFAULT_PORT, MetricsPlugin, MetricsSettings
from tether_metrics.metrics import MAX_LABEL_CHARS, LabelBound, TetherMetrics

from tether.exceptions import ConfigError
from tether.plugins.settings import load_plugin_settings


def _load(environ: dict[str, str] | None = None) -> MetricsSettings:
    """The settings as Tether reads them for the plugin (its `settings` hook's model)."""
    model = MetricsPlugin().settings()
    loaded = load_plugin_settings("metrics", model, environ=environ or {}, env_file=None)
    assert isinstance(loaded.values, MetricsSettings)
    return loaded.values


def test_the_default_port_is_the_documented_one() -> None:
    assert _load().port == DEFAULT_PORT == 9464
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert f"`{DEFAULT_PORT}`" in readme


def test_the_port_is_read_from_the_environment() -> None:
    assert _load({"TETHER_PLUGIN_METRICS_PORT": "9100"}).port == 9100


def test_the_port_is_read_from_dot_env(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TETHER_PLUGIN_METRICS_PORT=9101\n", encoding="utf-8")
    loaded = load_plugin_settings(
        "metrics", MetricsSettings, environ={}, env_file=tmp_path / ".env"
    )
    assert loaded.values == MetricsSettings(port=9101)
    assert loaded.source == ".env"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("abc", id="word"),
        pytest.param("-1", id="negative"),
        pytest.param("65536", id="past-the-last-port"),
        pytest.param("99999999999999999999", id="huge"),
        pytest.param("", id="empty"),
        pytest.param("80.5", id="fraction"),
        pytest.param("0x1f90", id="hex"),
        pytest.param("9 100", id="inner-space"),
        pytest.param("٩١٠٠", id="arabic-indic-digits"),
    ],
)
def test_an_invalid_port_is_one_line_naming_the_variable(value: str) -> None:
    with pytest.raises(ConfigError) as failure:
        _load({"TETHER_PLUGIN_METRICS_PORT": value})
    message = str(failure.value)
    assert message.startswith("TETHER_PLUGIN_METRICS_PORT=")
    assert "\n" not in message


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("TETHER_PLUGIN_METRICS_PROT", id="misspelt"),
        pytest.param("TETHER_PLUGIN_METRICS_HOST", id="no-host-setting"),
        pytest.param("tether_plugin_metrics_bind", id="lower-case"),
    ],
)
def test_an_unknown_variable_is_refused_not_ignored(name: str) -> None:
    with pytest.raises(ConfigError, match="is not a setting of plugin 'metrics'"):
        _load({name: "1"})


def test_a_label_keeps_to_its_bound() -> None:
    bound = LabelBound(limit=2)
    assert [bound("a"), bound("b"), bound("c"), bound("a")] == ["a", "b", "other", "a"]
    assert bound(None) == "other"  # the bound is full; a new value joins the rest
    assert len(LabelBound()("x" * 10_000)) == MAX_LABEL_CHARS


@pytest.mark.parametrize(
    ("cost", "counted"),
    [
        pytest.param(0.5, 0.5, id="reported"),
        pytest.param(None, 0.0, id="no-request"),
        pytest.param(float("nan"), 0.0, id="nan"),
        pytest.param(float("inf"), 0.0, id="infinite"),
        pytest.param(-1.0, 0.0, id="negative"),
        pytest.param("1.0", 0.0, id="text"),
        pytest.param(True, 0.0, id="bool"),
    ],
)
def test_only_a_real_cost_is_counted(cost: object, counted: float) -> None:
    registry = CollectorRegistry()
    TetherMetrics(registry).message("out", cost)
    assert registry.get_sample_value("tether_request_cost_usd_total") == counted
