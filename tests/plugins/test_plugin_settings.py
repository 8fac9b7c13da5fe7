"""A plugin's settings: its own model, read from TETHER_PLUGIN_<NAME>_* and .env."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, Field, SecretStr

from tether.exceptions import ConfigError
from tether.plugins import PluginContext, PluginMeta, TetherPlugin, hook
from tether.plugins.settings import load_plugin_settings, settings_prefix
from tether.testing import running_engine


class _Limits(BaseModel):
    daily_usd: float = Field(default=5.0, gt=0)
    label: str = "x"


class _WithSettings(TetherPlugin):
    meta = PluginMeta(name="my-budget", version="1")

    def __init__(self) -> None:
        self.context: PluginContext | None = None

    async def initialize(self, context: PluginContext) -> None:
        self.context = context

    @hook
    def settings(self) -> type[BaseModel]:
        return _Limits


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        pytest.param("budget", "TETHER_PLUGIN_BUDGET_", id="plain"),
        pytest.param("my-budget", "TETHER_PLUGIN_MY_BUDGET_", id="dash"),
        pytest.param("a.b", "TETHER_PLUGIN_A_B_", id="dot"),
    ],
)
def test_the_prefix_is_the_name_upper_cased(name: str, prefix: str) -> None:
    assert settings_prefix(name) == prefix


def test_values_come_from_the_environment_before_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("TETHER_PLUGIN_B_DAILY_USD=1\nTETHER_PLUGIN_B_LABEL=file\n")
    loaded = load_plugin_settings(
        "b", _Limits, environ={"TETHER_PLUGIN_B_DAILY_USD": "2.5"}, env_file=env_file
    )
    assert loaded.values == _Limits(daily_usd=2.5, label="file")
    assert loaded.source == "environment, .env"


def test_nothing_set_gives_the_defaults() -> None:
    loaded = load_plugin_settings("b", _Limits, environ={"OTHER": "1"}, env_file=None)
    assert loaded.values == _Limits() and loaded.source == "defaults"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        pytest.param(
            {"TETHER_PLUGIN_B_DAILY_USD": "lots"},
            "TETHER_PLUGIN_B_DAILY_USD='lots' is invalid: Input should be a valid number",
            id="not-a-number",
        ),
        pytest.param(
            {"TETHER_PLUGIN_B_DAILY_USD": "-1"},
            "TETHER_PLUGIN_B_DAILY_USD='-1' is invalid: Input should be greater than 0",
            id="negative",
        ),
        pytest.param(
            {"TETHER_PLUGIN_B_DAYLY_USD": "1"},
            "TETHER_PLUGIN_B_DAYLY_USD is not a setting of plugin 'b'; its settings: "
            "TETHER_PLUGIN_B_DAILY_USD, TETHER_PLUGIN_B_LABEL",
            id="typo",
        ),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(
    environ: dict[str, str], expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_plugin_settings("b", _Limits, environ=environ, env_file=None)
    assert str(caught.value).startswith(expected)
    assert "\n" not in str(caught.value)


def test_a_secret_is_never_shown() -> None:
    class Secret(BaseModel):
        token: SecretStr = Field(min_length=10)

    with pytest.raises(ConfigError) as caught:
        load_plugin_settings("b", Secret, environ={"TETHER_PLUGIN_B_TOKEN": "short"}, env_file=None)
    assert "short" not in str(caught.value) and "<hidden>" in str(caught.value)


def test_tethers_own_settings_are_not_read_as_a_plugins() -> None:
    loaded = load_plugin_settings(
        "lifecycle",
        _Limits,
        environ={"TETHER_PLUGIN_LIFECYCLE_TIMEOUT_SECONDS": "3"},
        env_file=None,
    )
    assert loaded.source == "defaults"


@pytest.mark.asyncio
async def test_the_plugin_receives_its_settings_in_its_context_and_keeps_config() -> None:
    plugin = _WithSettings()
    async with running_engine(
        [plugin], environ={"TETHER_PLUGIN_MY_BUDGET_DAILY_USD": "7"}
    ) as running:
        assert plugin.context is not None
        assert plugin.context.settings == _Limits(daily_usd=7)
        assert plugin.context.config is running.config
        [info] = [i for i in running.engine.plugins.describe() if i.name == "my-budget"]
        assert info.settings_source == "environment"


@pytest.mark.asyncio
async def test_a_bad_plugin_setting_stops_start_up_with_one_line() -> None:
    with pytest.raises(ConfigError, match=r"^TETHER_PLUGIN_MY_BUDGET_DAILY_USD='0' is invalid"):
        async with running_engine(
            [_WithSettings()], environ={"TETHER_PLUGIN_MY_BUDGET_DAILY_USD": "0"}
        ):
            pass


@pytest.mark.asyncio
async def test_a_settings_hook_returning_no_model_is_a_plugin_error() -> None:
    from tether.plugins import PluginError

    class Wrong(_WithSettings):
        @hook
        def settings(self) -> type[BaseModel]:
            return dict  # type: ignore[return-value]

    with pytest.raises(PluginError, match="plugin 'my-budget': hook 'settings' must return"):
        async with running_engine([Wrong()], environ={}):
            pass
