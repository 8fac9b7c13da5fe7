"""Over TLS: HTTPS only, the cookie Secure and pinned to the origin, https origins only."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.connectors.web.support import ServedTether, scenarios
from tether.core.config import TetherConfig


@pytest.fixture
def tls_served(
    web_config: TetherConfig, tmp_path: Path, project_dir: Path
) -> Iterator[ServedTether]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    config = web_config.model_copy(update={"web_tls_cert": cert, "web_tls_key": key})
    with ServedTether(config, scenarios(project_dir)) as served:
        yield served


def test_tls_sessions_use_a_secure_host_cookie(tls_served: ServedTether, tmp_path: Path) -> None:
    assert tls_served.web is not None
    base = f"https://127.0.0.1:{tls_served.web.port}"
    assert tls_served.web.login_link.startswith(base + "/#token=")
    trust = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
    with httpx.Client(base_url=base, verify=trust) as client:
        plain = client.post(
            "/api/login",
            json={"token": tls_served.token},
            headers={"origin": base.replace("https", "http")},
        )
        assert plain.status_code == 403
        response = client.post(
            "/api/login", json={"token": tls_served.token}, headers={"origin": base}
        )
        assert response.status_code == 200
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("__Host-tether=")
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
        state = client.get("/api/state")
        assert state.status_code == 200


def test_plain_http_is_not_served_on_a_tls_port(tls_served: ServedTether) -> None:
    assert tls_served.web is not None
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{tls_served.web.port}/", timeout=3)
