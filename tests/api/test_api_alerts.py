"""``/v1/alerts``: the watch list over HTTP, equal to the use case's (tests/test_alerts.py has the rule's numbers)."""

from __future__ import annotations

from api_helpers import TestClient
from test_alerts import held  # noqa: F401 - the fixture: two held positions, one with stored data

from api.app import Settings, create_app
from storage import Store


def test_api_alerts(held: Store) -> None:  # noqa: F811 - the imported fixture
    with TestClient(create_app(Settings.from_env()), raise_server_exceptions=False) as client:
        body = client.get("/v1/alerts", params={"now": "2026-12-07T10:00"}).json()
        assert [(a["ticker"], a["state"]) for a in body["items"]] == [("ACME", "near_trigger")]
        assert body["unpriced"] == ["BETA"] and body["action_due"] is False
        body = client.post("/v1/alerts", json={"now": "2026-12-07T10:00", "near_pct": 0.5,
                                               "prices": {"BETA": {"price": 107, "at": "2026-12-07T09:45"}}}).json()
        assert [(a["ticker"], a["state"]) for a in body["items"]] == [("ACME", "ok"), ("BETA", "action_due")]
        assert body["action_due"] is True
        assert client.post("/v1/alerts", json={"near_pct": 90}).status_code == 422
