"""tether-metrics: Tether's messages, tool calls, approvals and plugin handler failures as
Prometheus metrics, served on a loopback port. Enable it with `TETHER_PLUGINS=metrics`."""

from tether_metrics.plugin import MetricsPlugin, __version__
from tether_metrics.settings import DEFAULT_PORT, MetricsSettings

__all__ = ["DEFAULT_PORT", "MetricsPlugin", "MetricsSettings", "__version__"]
