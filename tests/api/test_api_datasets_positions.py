"""Datasets (list, CSV upload, quality) and held positions (advice, idempotent fills)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from api_helpers import TestClient, assert_problem

from api.app import Settings, create_app
from core import StrategyConfig
from core.advisor import evaluate
from core.data import list_samples, load_csv, quality_report
from core.json_values import plain
from usecases.ledger import ledger

GOOG_CSV = Path(__file__).resolve().parents[2] / "data" / "goog.csv"


def _csv_bytes(rows: int = 300) -> bytes:
    lines = GOOG_CSV.read_text().splitlines()
    return ("\n".join(["Date" + lines[0], *lines[1 : rows + 1]]) + "\n").encode()


def test_list_datasets_shows_samples_and_stored(client, store) -> None:
    body = client.get("/v1/datasets").json()
    assert [s["key"] for s in body["samples"]] == [s.key for s in list_samples()]
    assert body["datasets"] == []
    client.post("/v1/backtests", json={"dataset": "MSFT", "save": True, "include_trades": False})
    stored = client.get("/v1/datasets").json()["datasets"]
    assert [d["id"] for d in stored] == [d.id for d in store.list_datasets()] and stored[0]["symbol"] == "MSFT"


def test_upload_a_csv_and_read_its_quality(client, store) -> None:
    data = _csv_bytes()
    response = client.post("/v1/datasets", files={"file": ("goog_part.csv", data, "text/csv")},
                           data={"symbol": "GOOG", "name": "GOOG first 300"})
    assert response.status_code == 201, response.text
    body = response.json()
    expected = load_csv(data, symbol="GOOG")
    assert body["rows"] == 300 and body["name"] == "GOOG first 300" and body["sha256"] == expected.sha256()
    stored = store.load_market_data(body["id"])
    pd.testing.assert_series_equal(stored.prices["close"], expected.prices["close"], check_freq=False)
    quality = client.get(f"/v1/datasets/{body['id']}/quality").json()
    report = quality_report(stored)
    assert quality["summary"] == plain(report.summary) and quality["issues"] == report.issues
    assert len(quality["findings"]) == len(report.findings)
    # the uploaded dataset can be backtested by id
    bt = client.post("/v1/backtests", json={"dataset": body["id"], "include_trades": False})
    assert bt.status_code == 200 and bt.json()["dataset"]["id"] == body["id"]


def test_a_malformed_csv_is_a_422_problem(client) -> None:
    bad = b"Date,Open,High,Low,Close,Volume\n2020-01-02,1,1,1,1,10\n2020-01-03,1,1,1,-3,10\n"
    problem = assert_problem(client.post("/v1/datasets", files={"file": ("bad.csv", bad, "text/csv")}), 422)
    assert problem["type"].endswith("invalid-data") and "bad.csv" in problem["detail"]
    garbage = assert_problem(client.post("/v1/datasets", files={"file": ("x.csv", b"\x00\x01nothing", "text/csv")}),
                             422)
    assert "x.csv" in garbage["detail"]
    assert_problem(client.post("/v1/datasets", data={"name": "no file"}), 422)


def test_uploads_above_the_limit_are_refused(settings: Settings) -> None:
    small = Settings(**{**settings.__dict__, "max_upload_bytes": 2000})
    with TestClient(create_app(small)) as c:
        problem = assert_problem(c.post("/v1/datasets", files={"file": ("big.csv", _csv_bytes(), "text/csv")}),
                                 413)
        assert "2,000" in problem["detail"]


def test_quality_of_a_missing_dataset_is_404(client) -> None:
    assert_problem(client.get("/v1/datasets/77/quality"), 404)


# --- positions --------------------------------------------------------------------------------------------------


@pytest.fixture
def position_id(store) -> int:
    return ledger(store).create("GOOG", StrategyConfig(), price=100.0, at="2024-01-02 16:00").id


def test_evaluate_equals_the_advisor(client, store, position_id: int) -> None:
    response = client.post(f"/v1/positions/{position_id}/evaluate", json={"price": 95.5, "at": "2024-01-03 11:00"})
    assert response.status_code == 200, response.text
    position = ledger(store).get(position_id)
    expected = evaluate(position.state, 95.5, position.config, pd.Timestamp("2024-01-03 11:00"),
                        timezone=position.timezone)
    decision = response.json()["decision"]
    assert decision == plain(expected)
    assert decision["action"] == "BUY"
    assert_problem(client.post(f"/v1/positions/{position_id}/evaluate", json={"price": -1}), 422)
    assert_problem(client.post("/v1/positions/999/evaluate", json={"price": 10}), 404)


def test_fills_are_idempotent_by_key(client, store, position_id: int) -> None:
    fill = {"side": "BUY", "qty": 5, "price": 96.0, "commission": 0.5, "at": "2024-01-03 11:05"}
    first = client.post(f"/v1/positions/{position_id}/fills", json=fill, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201, first.text
    again = client.post(f"/v1/positions/{position_id}/fills", json=fill, headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert len(ledger(store).list_fills(position_id)) == 1
    state = ledger(store).get(position_id).state
    assert first.json()["state"]["shares"] == state.shares and state.anchor == 96.0

    changed = client.post(f"/v1/positions/{position_id}/fills", json={**fill, "qty": 6},
                          headers={"Idempotency-Key": "k-1"})
    assert "already used" in assert_problem(changed, 409)["detail"]
    assert len(ledger(store).list_fills(position_id)) == 1

    other = client.post(f"/v1/positions/{position_id}/fills", json=fill, headers={"Idempotency-Key": "k-2"})
    assert other.status_code == 201 and len(ledger(store).list_fills(position_id)) == 2

    overdraw = {"side": "BUY", "qty": 1_000_000, "price": 96.0}
    assert "cash" in assert_problem(client.post(f"/v1/positions/{position_id}/fills", json=overdraw), 422)["detail"]
    assert_problem(client.post(f"/v1/positions/{position_id}/fills", json={**fill, "side": "HOLD"}), 422)
    assert_problem(client.post("/v1/positions/999/fills", json=fill), 404)
    assert client.get(f"/v1/positions/{position_id}").json()["state"]["shares"] == ledger(store).get(
        position_id).state.shares
