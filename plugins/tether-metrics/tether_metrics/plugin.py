"""MetricsPlugin: Tether's events as Prometheus metrics, served on a loopback port."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from wsgiref.simple_server import WSGIServer

import structlog
from prometheus_client import CollectorRegistry, start_http_server
from pydantic import BaseModel

from tether.plugins import (
    APPROVAL_REQUESTED,
    APPROVAL_RESOLVED,
    MESSAGE_IN,
    MESSAGE_OUT,
    TOOL_ALLOWED,
    TOOL_DENIED,
    Event,
    HandlerStats,
    PluginContext,
    PluginError,
    PluginEventBus,
    PluginMeta,
    hook,
)
from tether_metrics.metrics import HandlerStatsCollector, TetherMetrics
from tether_metrics.settings import HOST, MetricsSettings

__all__ = ["MetricsPlugin"]

__version__ = "0.1.0"

logger = structlog.get_logger(__name__)


class MetricsPlugin:
    """Counts messages, tool calls, approvals and handler failures; serves `/metrics`.

    Args:
        settings: what to serve on; None: what Tether read from
            `TETHER_PLUGIN_METRICS_*` and `.env` (the `settings` hook).

    The page is served by `prometheus_client`'s HTTP server, in a thread of its
    own, on `127.0.0.1` only; `port` is the port it got (useful with port 0).
    """

    meta = PluginMeta(
        name="metrics",
        version=__version__,
        description="Prometheus metrics on a loopback port (TETHER_PLUGIN_METRICS_PORT)",
    )

    def __init__(self, settings: MetricsSettings | None = None) -> None:
        self._settings = settings
        self._registry = CollectorRegistry(auto_describe=True)
        self._metrics = TetherMetrics(self._registry)
        self._bus: PluginEventBus | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stats: Sequence[HandlerStats] = ()
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int | None:
        """The port `/metrics` is served on, once started."""
        return None if self._server is None else int(self._server.server_port)

    @property
    def registry(self) -> CollectorRegistry:
        """Where the metrics live (for a test, or another exporter in the same process)."""
        return self._registry

    @hook
    def settings(self) -> type[BaseModel]:
        """The model of the plugin's settings, which Tether reads and validates."""
        return MetricsSettings

    async def initialize(self, context: PluginContext) -> None:
        """Take the settings and subscribe to the events counted."""
        if self._settings is None:
            given = context.settings
            # Registered without Tether's settings hook having run: the defaults.
            self._settings = given if isinstance(given, MetricsSettings) else MetricsSettings()
        bus = context.event_bus
        if not isinstance(bus, PluginEventBus):
            raise PluginError("the metrics plugin needs its own view of the bus (PluginEventBus)")
        self._bus = bus
        bus.subscribe(MESSAGE_IN, self._on_message_in)
        bus.subscribe(MESSAGE_OUT, self._on_message_out)
        bus.subscribe(TOOL_ALLOWED, self._on_tool_allowed)
        bus.subscribe(TOOL_DENIED, self._on_tool_denied)
        bus.subscribe(APPROVAL_REQUESTED, self._on_approval_requested)
        bus.subscribe(APPROVAL_RESOLVED, self._on_approval_resolved)
        self._registry.register(HandlerStatsCollector(self._read_stats))

    async def start(self) -> None:
        """Serve `/metrics` on the loopback port.

        Raises:
            PluginError: the port is taken or cannot be bound; the message says
                which variable to change.
        """
        assert self._settings is not None, "initialize comes first"
        self._loop = asyncio.get_running_loop()
        port = self._settings.port
        try:
            self._server, self._thread = start_http_server(port, addr=HOST, registry=self._registry)
        except OSError as error:
            raise PluginError(
                f"cannot serve metrics on {HOST}:{port} ({error.strerror or error}); "
                "set TETHER_PLUGIN_METRICS_PORT to a free port"
            ) from error
        logger.info("metrics_serving", host=HOST, port=self.port)

    async def stop(self) -> None:
        """Stop serving; safe when `start` never ran or failed."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        # shutdown() waits for the serving loop to notice (up to half a second):
        # in a thread, so Tether's loop keeps going meanwhile.
        await asyncio.to_thread(server.shutdown)
        server.server_close()
        if thread is not None:
            await asyncio.to_thread(thread.join, 5.0)

    # -- the HTTP thread reads the bus's counters on Tether's loop ----------------------

    def _read_stats(self) -> Sequence[HandlerStats]:
        # Called from the HTTP server's thread at each scrape. The bus belongs to
        # the event loop and is not thread-safe, so the reading runs on the loop;
        # a loop too busy or stopping gets the last reading instead of a hung scrape.
        loop, bus, settings = self._loop, self._bus, self._settings
        if loop is None or bus is None or settings is None or loop.is_closed():
            return self._stats
        reading: Future[list[HandlerStats]] = Future()

        def read() -> None:
            if reading.set_running_or_notify_cancel():
                try:
                    reading.set_result(bus.stats())
                except Exception as error:  # noqa: BLE001 - handed to the scrape, which logs it
                    reading.set_exception(error)

        try:
            loop.call_soon_threadsafe(read)
            self._stats = reading.result(timeout=settings.stats_timeout_seconds)
        except Exception as error:  # noqa: BLE001 - a scrape shows the last reading, whatever failed
            reading.cancel()
            logger.warning("metrics_stats_not_read", error=repr(error))
        return self._stats

    # -- event handlers: each is a few dictionary reads and a counter -------------------

    async def _on_message_in(self, event: Event) -> None:
        self._metrics.message("in")

    async def _on_message_out(self, event: Event) -> None:
        self._metrics.message("out", event.data.get("cost"))

    async def _on_tool_allowed(self, event: Event) -> None:
        self._metrics.tool_call("allowed", event.data.get("rule"))

    async def _on_tool_denied(self, event: Event) -> None:
        self._metrics.tool_call("denied", event.data.get("rule"))

    async def _on_approval_requested(self, event: Event) -> None:
        self._metrics.approval_requested(event.data.get("approval_id"), event.timestamp)

    async def _on_approval_resolved(self, event: Event) -> None:
        data = event.data
        self._metrics.approval_resolved(
            data.get("approval_id"), data.get("outcome"), event.timestamp
        )
