"""The web connector's settings, checked before anything listens.

Binding beyond loopback exposes a page that drives an agent running code: it
is refused unless TLS is configured, or the person says they reach it over a
network that already encrypts (`TETHER_WEB_ALLOW_REMOTE=true`, with a warning).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from tether.connectors.web.api import MAX_BODY_BYTES
from tether.connectors.web.security import is_loopback
from tether.connectors.web.token import default_state_dir
from tether.core.config import TetherConfig
from tether.exceptions import ConfigError

__all__ = ["WebSettings"]


class WebSettings(BaseModel):
    """Where and how the web connector listens."""

    model_config = ConfigDict(frozen=True)

    host: str = "127.0.0.1"
    port: int = 8765
    tls_cert: Path | None = None
    tls_key: Path | None = None
    allow_remote: bool = False
    allowed_hosts: tuple[str, ...] = ()
    state_dir: Path
    max_body: int = MAX_BODY_BYTES

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None

    @property
    def exposed_without_tls(self) -> bool:
        """True when the server is reachable beyond this machine in clear text."""
        return not is_loopback(self.host) and not self.tls

    @classmethod
    def from_config(cls, config: TetherConfig) -> WebSettings:
        """The settings from `TETHER_WEB_*`.

        Raises:
            ConfigError: only one of the TLS files is set, or a non-loopback
                address is set without TLS or TETHER_WEB_ALLOW_REMOTE.
        """
        if (config.web_tls_cert is None) != (config.web_tls_key is None):
            raise ConfigError(
                "TETHER_WEB_TLS_CERT and TETHER_WEB_TLS_KEY go together: set both or neither"
            )
        settings = cls(
            host=config.web_host,
            port=config.web_port,
            tls_cert=config.web_tls_cert,
            tls_key=config.web_tls_key,
            allow_remote=config.web_allow_remote,
            allowed_hosts=config.web_allowed_hosts,
            state_dir=config.web_state_dir or default_state_dir(),
        )
        if settings.exposed_without_tls and not settings.allow_remote:
            raise ConfigError(
                f"TETHER_WEB_HOST={config.web_host!r} would serve the page beyond this machine "
                "without encryption; set TETHER_WEB_TLS_CERT and TETHER_WEB_TLS_KEY, reach it "
                "through an SSH tunnel to 127.0.0.1, or set TETHER_WEB_ALLOW_REMOTE=true if a "
                "VPN already encrypts the way"
            )
        return settings
