"""Concurrency over real HTTP: 50 simultaneous mixed requests (readers and writers) all answer correctly, and one
fill posted from several threads at once with one Idempotency-Key is recorded once with identical answers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import httpx
import pytest
from live_server import LiveServer, live_server

from core import StrategyConfig, simulate
from core.data import load_sample, select_period
from usecases.ledger import ledger
from usecases.store import Store

PERIOD = {"dataset": "GOOG", "start": "2011-01-01", "end": "2012-06-30"}
TRIGGERS = [round(0.02 + 0.005 * i, 4) for i in range(8)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with live_server(tmp_path_factory.mktemp("concurrency")) as running:
        yield running


def all_at_once(server: LiveServer, calls: list[Callable[[httpx.Client], Any]]) -> list[Any]:
    """Run every call in its own thread with its own client, released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[httpx.Client], Any]) -> Any:
        with server.new_client() as client:
            client.get("/health")  # connect first, so the barrier releases requests, not handshakes
            barrier.wait(timeout=60)
            return call(client)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _expected_sharpe() -> dict[float, float]:
    goog = load_sample("GOOG")
    prices, dividends = select_period(goog.prices, goog.dividends, date(2011, 1, 1), date(2012, 6, 30))
    divs = dividends if dividends is not None and len(dividends) else None
    return {t: simulate(prices, StrategyConfig(trigger_up=t), divs).metrics["sharpe"] for t in TRIGGERS}


def test_fifty_concurrent_mixed_requests_all_succeed_with_correct_answers(server: LiveServer) -> None:
    client = server.client
    saved = client.post("/v1/backtests", json={**PERIOD, "save": True, "name": "base", "include_trades": False})
    assert saved.status_code == 201, saved.text
    run_id = saved.json()["run_id"]
    stored_sharpe = saved.json()["metrics"]["sharpe"]
    position = client.post("/v1/positions", json={"ticker": "GOOG", "shares": 0, "cash": 1000.0, "anchor": 100.0})
    assert position.status_code == 201, position.text
    pid = position.json()["id"]
    expected = _expected_sharpe()

    def backtest(trigger: float, save: bool) -> Callable[[httpx.Client], Any]:
        def call(c: httpx.Client) -> Any:
            r = c.post("/v1/backtests", json={**PERIOD, "config": {"trigger_up": trigger}, "save": save,
                                              "include_trades": False})
            assert r.status_code == (201 if save else 200), r.text
            assert r.json()["metrics"]["sharpe"] == expected[trigger], trigger
            return ("saved" if save else "backtest", r.json().get("run_id"))
        return call

    def get(path: str, check: Callable[[Any], bool]) -> Callable[[httpx.Client], Any]:
        def call(c: httpx.Client) -> Any:
            r = c.get(path)
            assert r.status_code == 200, r.text
            assert check(r.json()), (path, r.text[:300])
            return (path, None)
        return call

    def deposit(c: httpx.Client) -> Any:
        r = c.post(f"/v1/positions/{pid}/cash-flows", json={"type": "deposit", "amount": 10.0})
        assert r.status_code == 201, r.text
        return ("deposit", None)

    calls: list[Callable[[httpx.Client], Any]] = []
    calls += [backtest(TRIGGERS[i % len(TRIGGERS)], save=False) for i in range(16)]
    calls += [backtest(TRIGGERS[i], save=True) for i in range(6)]
    calls += [get("/v1/runs", lambda b: b["total"] >= 1 and run_id in [r["id"] for r in b["items"]])
              for _ in range(8)]
    calls += [get(f"/v1/runs/{run_id}/report.json", lambda b: b["metrics"]["sharpe"] == stored_sharpe)
              for _ in range(6)]
    calls += [get("/v1/datasets", lambda b: len(b["datasets"]) == 1 and len(b["samples"]) >= 3) for _ in range(4)]
    calls += [get("/v1/optimization/metrics", lambda b: len(b["metrics"]) > 10) for _ in range(3)]
    calls += [get(f"/v1/positions/{pid}", lambda b: b["ticker"] == "GOOG") for _ in range(2)]
    calls += [deposit for _ in range(5)]
    assert len(calls) == 50

    answers = all_at_once(server, calls)
    assert len(answers) == 50
    new_runs = [run for kind, run in answers if kind == "saved"]
    assert len(set(new_runs)) == 6
    listed = client.get("/v1/runs", params={"limit": 100}).json()
    assert listed["total"] == 7 and {r["id"] for r in listed["items"]} == {run_id, *new_runs}
    assert client.get(f"/v1/positions/{pid}").json()["state"]["cash"] == 1050.0
    assert len(client.get(f"/v1/positions/{pid}/cash-flows").json()["items"]) == 5


def test_one_fill_posted_concurrently_with_one_key_is_recorded_once(server: LiveServer) -> None:
    opened = server.client.post("/v1/positions", json={"ticker": "MSFT", "price": 300.0, "at": "2024-01-02 16:00"})
    assert opened.status_code == 201, opened.text
    pid = opened.json()["id"]
    fill = {"side": "BUY", "qty": 3, "price": 290.0, "commission": 1.0, "at": "2024-01-03 10:00"}

    def post(c: httpx.Client) -> httpx.Response:
        return c.post(f"/v1/positions/{pid}/fills", json=fill, headers={"Idempotency-Key": "same-fill-1"})

    responses = all_at_once(server, [post] * 8)
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses]
    bodies = [r.json() for r in responses]
    assert all(b == bodies[0] for b in bodies)
    assert sum(r.headers.get("idempotent-replayed") != "true" for r in responses) == 1
    fills = ledger(Store(server.database_url)).list_fills(pid)
    assert len(fills) == 1 and fills[0].id == bodies[0]["fill"]["id"]
    state = server.client.get(f"/v1/positions/{pid}").json()["state"]
    assert state == bodies[0]["state"] and state["anchor"] == 290.0
