"""build_engine: the wiring users' plugins rely on, and the plugin example from the docs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.plugins.dist_info import FakeSite
from tether.app import build_engine
from tether.core.config import TetherConfig
from tether.core.events import MESSAGE_IN, TOOL_DENIED, Event
from tether.core.safety.audit import read_audit_log
from tether.exceptions import ConfigError, PluginError
from tether.plugins.base import PluginContext, PluginMeta, TetherPlugin
from tether.plugins.builtin.audit_plugin import AuditPlugin
from tether.plugins.registry import PluginSource, PluginState

# The example from the plugin docs, as a user would write it.


class MetricsPlugin(TetherPlugin):
    meta = PluginMeta(name="metrics", version="1.0.0", description="Counts messages per user")

    def __init__(self) -> None:
        self.messages_per_user: Counter[int] = Counter()

    async def initialize(self, context: PluginContext) -> None:
        context.event_bus.subscribe(MESSAGE_IN, self.on_message)

    async def on_message(self, event: Event) -> None:
        self.messages_per_user[event.data["user_id"]] += 1


class Named:
    """A plain-class plugin with a given name."""

    def __init__(self, name: str) -> None:
        self.meta = PluginMeta(name=name, version="0.1")

    async def initialize(self, context: PluginContext) -> None:
        return None

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


NOTIFY_MODULE = """
    from tether.plugins.base import PluginContext, PluginMeta, TetherPlugin

    class NotifyPlugin(TetherPlugin):
        meta = PluginMeta(name="notify", version="2.0.0", description="Pings a webhook")

        async def initialize(self, context: PluginContext) -> None:
            self.started_with = context.config.plugins

    class DigestPlugin(TetherPlugin):
        meta = PluginMeta(name="digest", version="0.3.0")

        async def initialize(self, context: PluginContext) -> None:
            return None
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSite]:
    fake = FakeSite(tmp_path / "site-packages", monkeypatch)
    fake.install(
        "tether-notify",
        entry_points={
            "notify": "tether_notify:NotifyPlugin",
            "digest": "tether_notify:DigestPlugin",
        },
        modules={"tether_notify": NOTIFY_MODULE},
    )
    yield fake
    fake.forget_modules()


async def test_the_metrics_plugin_example_runs_as_written() -> None:
    plugin = MetricsPlugin()
    engine = build_engine(plugins=[plugin])
    async with engine:
        for user_id in (1, 2, 1):
            await engine.event_bus.emit(
                Event(name=MESSAGE_IN, data={"user_id": user_id, "chat_id": 9, "text": "hi"})
            )
    assert plugin.messages_per_user == Counter({1: 2, 2: 1})
    assert engine.plugins.get("metrics") is plugin


def test_audit_plugin_is_registered_first(config: TetherConfig) -> None:
    engine = build_engine(config, plugins=[Named("zeta"), Named("alpha")])
    first = engine.plugins.plugins[0]
    assert isinstance(first, AuditPlugin)
    assert engine.plugins.describe()[0].source is PluginSource.BUILTIN


def test_plugins_follow_in_the_order_given(config: TetherConfig) -> None:
    engine = build_engine(config, plugins=[Named("zeta"), Named("alpha"), Named("mid")])
    infos = engine.plugins.describe()
    assert [info.name for info in infos] == ["audit", "zeta", "alpha", "mid"]
    assert [info.source for info in infos[1:]] == [PluginSource.CODE] * 3
    assert all(info.state is PluginState.REGISTERED for info in infos)


def test_entry_point_plugins_named_in_config_come_last(
    config: TetherConfig, site: FakeSite
) -> None:
    config = config.model_copy(update={"plugins": ("digest", "notify")})
    engine = build_engine(config, plugins=[Named("mine")])
    infos = engine.plugins.describe()
    assert [(info.name, info.source) for info in infos] == [
        ("audit", PluginSource.BUILTIN),
        ("mine", PluginSource.CODE),
        ("digest", PluginSource.ENTRY_POINT),
        ("notify", PluginSource.ENTRY_POINT),
    ]


def test_installed_plugins_not_named_in_config_are_not_registered(
    config: TetherConfig, site: FakeSite
) -> None:
    engine = build_engine(config)
    assert [plugin.meta.name for plugin in engine.plugins.plugins] == ["audit"]


async def test_entry_point_plugins_are_enabled_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, site: FakeSite
) -> None:
    monkeypatch.setenv("TETHER_PLUGINS", "notify")
    engine = build_engine()
    async with engine:
        plugin = engine.plugins.get("notify")
        assert plugin is not None
        assert engine.plugins.state("notify") is PluginState.STARTED
        assert plugin.started_with == ("notify",)  # type: ignore[attr-defined]


def test_a_plugin_name_that_is_not_installed_is_a_config_error(
    config: TetherConfig, site: FakeSite
) -> None:
    # Not a name any plugin uses, those shipped under plugins/ included (they may be installed).
    config = config.model_copy(update={"plugins": ("no-such-plugin",)})
    with pytest.raises(ConfigError) as caught:
        build_engine(config)
    message = str(caught.value)
    assert "'no-such-plugin'" in message
    assert "digest" in message and "notify" in message


def test_two_plugins_with_one_name_is_a_plugin_error(config: TetherConfig) -> None:
    with pytest.raises(PluginError, match="'twin' is already registered"):
        build_engine(config, plugins=[Named("twin"), Named("twin")])


def test_a_plugin_cannot_take_the_audit_plugins_name(config: TetherConfig) -> None:
    with pytest.raises(PluginError, match="'audit' is already registered"):
        build_engine(config, plugins=[Named("audit")])


def test_something_that_is_not_a_plugin_is_refused(config: TetherConfig) -> None:
    with pytest.raises(PluginError, match="str is not a Tether plugin"):
        build_engine(config, plugins=["metrics"])  # type: ignore[list-item]


def test_config_is_read_from_the_environment_when_not_given(
    monkeypatch: pytest.MonkeyPatch, project_dir: Path
) -> None:
    monkeypatch.setenv("TETHER_APPROVED_DIRECTORY", str(project_dir))
    monkeypatch.setenv("TETHER_EVENT_HANDLER_TIMEOUT_SECONDS", "0.25")
    engine = build_engine()
    assert engine.config.approved_directories == (project_dir.resolve(),)
    assert engine.event_bus.handler_timeout == 0.25


def test_a_bad_environment_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TETHER_EVENT_HANDLER_TIMEOUT_SECONDS", "never")
    with pytest.raises(ConfigError, match="TETHER_EVENT_HANDLER_TIMEOUT_SECONDS='never'"):
        build_engine()


def test_building_an_engine_touches_no_file(config: TetherConfig) -> None:
    build_engine(config)
    assert not config.audit_log_path.exists()


async def test_sandbox_denials_reach_the_audit_log_through_the_engine(
    config: TetherConfig,
) -> None:
    async with build_engine(config) as engine:
        await engine.event_bus.emit(
            Event(
                name=TOOL_DENIED,
                data={
                    "session_id": "s1",
                    "chat_id": 5,
                    "tool_name": "Write",
                    "reason": "/etc/passwd is outside the approved directories",
                    "violation_type": "sandbox",
                },
            )
        )
    violations = [
        entry
        for entry in read_audit_log(config.audit_log_path)
        if entry["event_type"] == "security_violation"
    ]
    assert len(violations) == 1
    assert violations[0]["risk_level"] == "high"
    assert violations[0]["tool_name"] == "Write"


_USER_LAYER = """\
extends: default
rules:
  - name: compose-up
    commands: ["docker compose up"]
    action: allow
    examples:
      {examples}
"""


@pytest.mark.parametrize(
    ("examples", "passes"),
    [
        pytest.param('allow: ["docker compose up"]', True, id="holds"),
        pytest.param('deny: ["docker compose up"]', False, id="contradicts-its-rule"),
        pytest.param('allow: ["rm -rf /"]', False, id="floor-still-denies"),
    ],
)
def test_the_top_layers_examples_are_checked_with_every_layer(
    project_dir: Path, tmp_path: Path, examples: str, passes: bool
) -> None:
    """The last stage of the examples is the pipeline's own engine, with every layer."""
    from tether.app import build_safety_pipeline, check_policy_examples

    user_file = tmp_path / "user.yaml"
    user_file.write_text(_USER_LAYER.format(examples=examples))
    config = TetherConfig(approved_directories=(project_dir,), user_policy_file=user_file)
    if passes:
        pipeline = build_safety_pipeline(config)
        results = check_policy_examples(pipeline)
        assert results and all(result.passed for result in results)
    else:
        with pytest.raises(ConfigError, match=r"user\.yaml"):
            build_safety_pipeline(config)
