"""Binding beyond loopback needs TLS or an explicit choice; TLS needs both files."""

from __future__ import annotations

from pathlib import Path

import pytest

from tether.connectors.web.settings import WebSettings
from tether.core.config import TetherConfig, load_config
from tether.exceptions import ConfigError


def _config(project_dir: Path, **values: object) -> TetherConfig:
    return TetherConfig(approved_directories=(project_dir,), web_enabled=True, **values)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "::", "tether.example"])
def test_a_public_bind_without_tls_is_refused(project_dir: Path, host: str) -> None:
    with pytest.raises(ConfigError, match="TETHER_WEB_ALLOW_REMOTE"):
        WebSettings.from_config(_config(project_dir, web_host=host))


def test_a_public_bind_with_the_explicit_flag_is_allowed(project_dir: Path) -> None:
    settings = WebSettings.from_config(
        _config(project_dir, web_host="0.0.0.0", web_allow_remote=True)
    )
    assert settings.exposed_without_tls


def test_a_public_bind_with_tls_is_allowed(project_dir: Path, tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("cert")
    key.write_text("key")
    settings = WebSettings.from_config(
        _config(project_dir, web_host="0.0.0.0", web_tls_cert=cert, web_tls_key=key)
    )
    assert settings.tls and not settings.exposed_without_tls


def test_half_a_tls_configuration_is_refused(project_dir: Path, tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("cert")
    with pytest.raises(ConfigError, match="set both or neither"):
        WebSettings.from_config(_config(project_dir, web_tls_cert=cert))


def test_defaults_are_loopback_and_xdg(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", "/srv/xdg")
    settings = WebSettings.from_config(_config(project_dir))
    assert settings.host == "127.0.0.1"
    assert settings.port == 8765
    assert settings.state_dir == Path("/srv/xdg/tether")


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("TETHER_WEB_PORT", "http", "TETHER_WEB_PORT"),
        ("TETHER_WEB_PORT", "70000", "TETHER_WEB_PORT"),
        ("TETHER_WEB_ENABLED", "maybe", "TETHER_WEB_ENABLED"),
        ("TETHER_WEB_TLS_CERT", "/no/such/cert.pem", "TETHER_WEB_TLS_CERT"),
    ],
)
def test_bad_web_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=named):
        load_config()
