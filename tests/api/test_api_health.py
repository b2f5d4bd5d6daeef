"""``/health`` and ``/ready``: probes without a token; not ready is a 503 problem."""

from __future__ import annotations

import pytest
from api_helpers import TestClient

from api.app import Settings as ApiSettings
from api.app import create_app


def test_health_and_ready_need_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VBL_API_TOKEN", "secret-token")
    with TestClient(create_app(ApiSettings.from_env()), raise_server_exceptions=False) as client:
        assert client.get("/health").json() == {"status": "ok"}
        ready = client.get("/ready")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        assert client.get("/v1/runs").status_code == 401
    monkeypatch.setenv("VBL_DATABASE_URL", "postgresql+psycopg://vbl@127.0.0.1:1/vbl")
    with TestClient(create_app(ApiSettings.from_env()), raise_server_exceptions=False) as client:
        response = client.get("/ready")
        assert response.status_code == 503 and response.headers["content-type"] == "application/problem+json"
