"""build_engine(): the one place that constructs Tether's components and wires them."""

from __future__ import annotations

from collections.abc import Sequence

from tether.core.config import TetherConfig, load_config
from tether.core.engine import Engine
from tether.core.events import EventBus
from tether.core.safety.audit import AuditLogger
from tether.plugins.base import TetherPlugin
from tether.plugins.builtin.audit_plugin import AuditPlugin
from tether.plugins.registry import PluginRegistry, PluginSource, load_entry_point_plugins

__all__ = ["build_engine"]


def build_engine(
    config: TetherConfig | None = None,
    *,
    plugins: Sequence[TetherPlugin] | None = None,
) -> Engine:
    """Construct an engine and everything it needs, wired together.

    Args:
        config: the settings; read from the environment and `.env` when None.
        plugins: plugins to register after the built-in AuditPlugin, in order.
            The installed plugins named in `TETHER_PLUGINS` come after them.

    Raises:
        ConfigError: the settings are invalid, or `TETHER_PLUGINS` names a plugin
            that is not installed.
        PluginError: a plugin is malformed or two share a name.
    """
    config = config if config is not None else load_config()
    event_bus = EventBus(handler_timeout=config.event_handler_timeout_seconds)
    audit_logger = AuditLogger(config.audit_log_path, fsync=config.audit_fsync)

    registry = PluginRegistry()
    registry.register(AuditPlugin(audit_logger), source=PluginSource.BUILTIN)
    for plugin in plugins or ():
        registry.register(plugin, source=PluginSource.CODE)
    for plugin in load_entry_point_plugins(config.plugins):
        registry.register(plugin, source=PluginSource.ENTRY_POINT)

    return Engine(
        config=config,
        event_bus=event_bus,
        plugins=registry,
        audit_logger=audit_logger,
    )
