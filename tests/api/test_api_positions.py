"""Held positions over HTTP: open, list, status, cash flows (idempotent), dividends — against the ledger itself."""

from __future__ import annotations

import pandas as pd
import pytest
from api_helpers import assert_problem

from core import StrategyConfig
from core.advisor import PositionState, apply_ex_dividend, initial_state
from core.json_values import plain
from usecases.ledger import ledger


def _open(client, **body) -> dict:
    response = client.post("/v1/positions", json={"ticker": "goog", **body})
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/v1/positions/{response.json()['id']}"
    return response.json()


def test_open_at_a_price_buys_like_the_backtests_first_bar(client, store) -> None:
    config = {"initial_capital": 20_000.0, "initial_stock_share": 0.6, "trigger_up": 0.05}
    body = _open(client, name="Alphabet", config=config, price=100.0, at="2024-01-02 16:00")
    expected = initial_state(StrategyConfig(**config), 100.0, pd.Timestamp("2024-01-02 16:00"))
    assert body["ticker"] == "GOOG" and body["name"] == "Alphabet" and body["status"] == "active"
    assert body["state"] == plain(expected)
    assert body["config"] == StrategyConfig(**config).to_dict()
    stored = ledger(store).get(body["id"])
    assert stored.state == expected and stored.timezone == "America/New_York"
    assert client.get(f"/v1/positions/{body['id']}").json() == body


def test_open_with_existing_holdings(client, store) -> None:
    body = _open(client, shares=12.5, cash=800.0, anchor=141.2, timezone="Europe/Berlin")
    assert body["state"]["shares"] == 12.5 and body["state"]["cash"] == 800.0 and body["state"]["anchor"] == 141.2
    assert body["name"] == "GOOG" and body["timezone"] == "Europe/Berlin"
    assert ledger(store).get(body["id"]).state.anchor == 141.2


def test_opening_errors_are_problems(client) -> None:
    problem = assert_problem(client.post("/v1/positions", json={"ticker": "GOOG"}), 422)
    assert "price" in problem["detail"] and problem["type"].endswith("invalid-position")
    mars = {"ticker": "GOOG", "price": 10, "timezone": "Mars/Base"}
    problem = assert_problem(client.post("/v1/positions", json=mars), 422)
    assert problem["errors"][0]["field"] == "timezone" and "Mars/Base" in problem["errors"][0]["message"]
    problem = assert_problem(client.post("/v1/positions", json={"ticker": "GOOG", "price": 10,
                                                                "config": {"trigger_up": -1.0}}), 422)
    assert problem["errors"][0]["field"] == "trigger_up" and problem["errors"][0]["range"] == "(0, inf)"
    assert_problem(client.post("/v1/positions", json={"ticker": "", "price": 10}), 422)
    assert_problem(client.post("/v1/positions", json={"ticker": "GOOG", "price": -5}), 422)
    assert_problem(client.post("/v1/positions", json={"ticker": "GOOG", "price": 10, "at": "someday"}), 422)


def test_list_and_filter_by_status(client) -> None:
    msft = _open(client, ticker="MSFT", price=300.0)
    goog = _open(client, price=100.0)
    listed = client.get("/v1/positions").json()["items"]
    assert [p["ticker"] for p in listed] == ["GOOG", "MSFT"]
    paused = client.post(f"/v1/positions/{msft['id']}/status", json={"status": "paused"})
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert [p["id"] for p in client.get("/v1/positions", params={"status": "paused"}).json()["items"]] == [msft["id"]]
    assert [p["id"] for p in client.get("/v1/positions", params={"status": "active"}).json()["items"]] == [goog["id"]]
    assert client.get("/v1/positions", params={"status": "closed"}).json()["items"] == []
    assert_problem(client.get("/v1/positions", params={"status": "gone"}), 422)
    assert_problem(client.post(f"/v1/positions/{msft['id']}/status", json={"status": "sold"}), 422)
    assert_problem(client.post("/v1/positions/999/status", json={"status": "paused"}), 404)
    assert_problem(client.get("/v1/positions/999"), 404)


@pytest.fixture
def position(client) -> dict:
    return _open(client, shares=10.0, cash=1_000.0, anchor=100.0)


def test_deposits_and_withdrawals(client, store, position: dict) -> None:
    pid = position["id"]
    deposit = client.post(f"/v1/positions/{pid}/cash-flows", json={"type": "deposit", "amount": 250.5,
                                                                    "note": "top-up"})
    assert deposit.status_code == 201, deposit.text
    assert deposit.json()["state"]["cash"] == 1_250.5 == ledger(store).get(pid).state.cash
    withdrawal = client.post(f"/v1/positions/{pid}/cash-flows", json={"type": "withdrawal", "amount": 50})
    assert withdrawal.json()["state"]["cash"] == 1_200.5
    flows = client.get(f"/v1/positions/{pid}/cash-flows").json()["items"]
    assert [(f["amount"], f["note"]) for f in flows] == [(250.5, "top-up"), (-50.0, "")]
    assert flows == [plain(f) for f in ledger(store).list_cash_flows(pid)]

    too_much = assert_problem(client.post(f"/v1/positions/{pid}/cash-flows",
                                          json={"type": "withdrawal", "amount": 5_000}), 422)
    assert "holds only" in too_much["detail"] and too_much["type"].endswith("operation-refused")
    assert ledger(store).get(pid).state.cash == 1_200.5
    assert_problem(client.post(f"/v1/positions/{pid}/cash-flows", json={"type": "deposit", "amount": 0}), 422)
    assert_problem(client.post(f"/v1/positions/{pid}/cash-flows", json={"type": "gift", "amount": 5}), 422)
    assert_problem(client.post("/v1/positions/999/cash-flows", json={"type": "deposit", "amount": 5}), 404)
    assert_problem(client.get("/v1/positions/999/cash-flows"), 404)


def test_cash_flows_are_idempotent_by_key(client, store, position: dict) -> None:
    pid = position["id"]
    body = {"type": "deposit", "amount": 100.0}
    first = client.post(f"/v1/positions/{pid}/cash-flows", json=body, headers={"Idempotency-Key": "dep-1"})
    again = client.post(f"/v1/positions/{pid}/cash-flows", json=body, headers={"Idempotency-Key": "dep-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers.get("idempotent-replayed") == "true"
    assert "idempotent-replayed" not in first.headers
    assert len(ledger(store).list_cash_flows(pid)) == 1 and ledger(store).get(pid).state.cash == 1_100.0
    reused = assert_problem(client.post(f"/v1/positions/{pid}/cash-flows", json={**body, "amount": 101.0},
                                        headers={"Idempotency-Key": "dep-1"}), 409)
    assert "already used" in reused["detail"] and reused["type"].endswith("idempotency-key-reused")
    other = client.post(f"/v1/positions/{pid}/cash-flows", json=body, headers={"Idempotency-Key": "dep-2"})
    assert other.status_code == 201 and len(ledger(store).list_cash_flows(pid)) == 2


def test_dividends_booked_and_paid_as_the_simulator_does(client, store, position: dict) -> None:
    pid = position["id"]
    booked = client.post(f"/v1/positions/{pid}/dividends", json={"ex_date": "2024-03-08", "amount": 0.5,
                                                                  "pay_date": "2024-03-20"})
    assert booked.status_code == 201, booked.text
    dividend, state = booked.json()["dividend"], booked.json()["state"]
    expected, net = apply_ex_dividend(opened_state(position), 0.5, StrategyConfig())
    assert dividend["net"] == net and dividend["gross"] == 5.0 and dividend["status"] == "booked"
    assert (dividend["ex_date"], dividend["pay_date"]) == ("2024-03-08", "2024-03-20")
    assert state["anchor"] == expected.anchor and state["receivable"] == expected.receivable
    assert client.get(f"/v1/positions/{pid}/dividends").json()["items"] == [dividend]

    again = assert_problem(client.post(f"/v1/positions/{pid}/dividends", json={"ex_date": "2024-03-08",
                                                                                "amount": 0.5}), 422)
    assert "already booked" in again["detail"]
    early = assert_problem(client.post(f"/v1/positions/{pid}/dividends", json={"ex_date": "2024-06-07",
                                                                                "amount": 0.5,
                                                                                "pay_date": "2024-06-01"}), 422)
    assert "before the ex-date" in early["detail"]
    lagged = client.post(f"/v1/positions/{pid}/dividends", json={"ex_date": "2024-06-07", "amount": 0.5}).json()
    assert lagged["dividend"]["pay_date"] == str(pd.Timestamp("2024-06-07").date() + pd.Timedelta(days=14))

    paid = client.post(f"/v1/positions/{pid}/dividends/{dividend['id']}/pay")
    assert paid.status_code == 200, paid.text
    assert paid.json()["dividend"]["status"] == "paid"
    assert paid.json()["state"]["cash"] == 1_000.0 + net == ledger(store).get(pid).state.cash
    assert "already paid" in assert_problem(client.post(f"/v1/positions/{pid}/dividends/{dividend['id']}/pay"),
                                            422)["detail"]
    other = _open(client, ticker="MSFT", price=300.0)
    assert_problem(client.post(f"/v1/positions/{other['id']}/dividends/{dividend['id']}/pay"), 404)
    assert_problem(client.post(f"/v1/positions/{pid}/dividends/999/pay"), 404)
    assert_problem(client.post("/v1/positions/999/dividends", json={"ex_date": "2024-03-08", "amount": 1}), 404)


def opened_state(position: dict) -> PositionState:
    """The state a position was opened with, from its JSON."""
    s = position["state"]
    return PositionState(shares=s["shares"], cash=s["cash"], anchor=s["anchor"], receivable=s["receivable"],
                         orders_today=s["orders_today"], day=None if s["day"] is None else pd.Timestamp(
                             s["day"]).date())


def test_a_closed_position_refuses_changes_with_the_reason(client, store, position: dict) -> None:
    pid = position["id"]
    assert client.post(f"/v1/positions/{pid}/status", json={"status": "closed"}).json()["status"] == "closed"
    for path, body in ((f"/v1/positions/{pid}/cash-flows", {"type": "deposit", "amount": 5}),
                       (f"/v1/positions/{pid}/dividends", {"ex_date": "2024-03-08", "amount": 0.5})):
        problem = assert_problem(client.post(path, json=body), 422)
        assert "closed" in problem["detail"] and "re-activate" in problem["detail"]
    assert ledger(store).get(pid).state.cash == 1_000.0
    assert client.post(f"/v1/positions/{pid}/status", json={"status": "active"}).json()["status"] == "active"
    assert client.post(f"/v1/positions/{pid}/cash-flows", json={"type": "deposit", "amount": 5}).status_code == 201
