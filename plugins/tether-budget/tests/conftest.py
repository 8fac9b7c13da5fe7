"""The plugin's tests run against its source, whether or not it is installed."""

from __future__ import annotations

import sys
from pathlib import Path

PLUGIN_ROOT = Path(__file__).resolve().parents[1]
"""plugins/tether-budget: the package's source and its pyproject."""

if str(PLUGIN_ROOT) not in sys.path:
    sys.path.insert(0, str(PLUGIN_ROOT))
