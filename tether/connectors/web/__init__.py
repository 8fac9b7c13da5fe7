"""The web connector: Tether's own page, served on this machine (see docs/connectors.md).

The names below load on first use: the web stack (Starlette, uvicorn) is only
imported by a run that serves the page, while the token's location (which the
sandbox protects in every run) is cheap to ask for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tether.connectors.web.connector import CHAT_PREFIX, WebConnector
    from tether.connectors.web.settings import WebSettings

__all__ = ["CHAT_PREFIX", "WebConnector", "WebSettings"]

_HOMES = {
    "CHAT_PREFIX": "tether.connectors.web.connector",
    "WebConnector": "tether.connectors.web.connector",
    "WebSettings": "tether.connectors.web.settings",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
