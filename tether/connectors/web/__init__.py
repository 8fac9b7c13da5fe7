"""The web connector: Tether's own page, served on this machine (see docs/connectors.md)."""

from tether.connectors.web.connector import CHAT_PREFIX, WebConnector
from tether.connectors.web.settings import WebSettings

__all__ = ["CHAT_PREFIX", "WebConnector", "WebSettings"]
