"""Fixtures of the command tests: an installed plugin that knows a program."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.plugins.dist_info import FakeSite

_INHOUSE_PLUGIN = """
from tether.plugins import PluginContext, PluginMeta, ProgramSpec, TetherPlugin, hook

class Inhouse(TetherPlugin):
    meta = PluginMeta(name="inhouse", version="1")

    async def initialize(self, context: PluginContext) -> None:
        raise AssertionError("tether check runs no plugin")

    @hook
    def programs(self):
        return [ProgramSpec(names="inhouse", subcommands={"status": ProgramSpec(read_only=True)})]

class Broken(Inhouse):
    meta = PluginMeta(name="broken", version="1")

    @hook
    def programs(self):
        raise RuntimeError("the plugin's own bug")

class Malformed(Inhouse):
    meta = PluginMeta(name="malformed", version="1")

    @hook
    def programs(self):
        return ["not a spec"]
"""


@pytest.fixture
def inhouse_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSite]:
    """Installs `inhouse` (knows `inhouse status` is read-only), `broken` and `malformed`."""
    site = FakeSite(tmp_path / "site-packages", monkeypatch)
    site.install(
        "tether-inhouse",
        entry_points={
            "inhouse": "tether_inhouse_check:Inhouse",
            "broken": "tether_inhouse_check:Broken",
            "malformed": "tether_inhouse_check:Malformed",
        },
        modules={"tether_inhouse_check": _INHOUSE_PLUGIN},
    )
    yield site
    site.forget_modules()
