"""Positions in the run store, on SQLite and a real PostgreSQL server: every state change, idempotent fills
(including two processes racing with the same key), refusals, dividends around open orders, restarts, and a replay
through the stored position that gives exactly ``simulate``'s trades."""

from __future__ import annotations

import multiprocessing as mp
import os
import traceback
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from engine_helpers import NO_COSTS, random_config, random_path

from core import StrategyConfig, simulate
from core import kernel as K
from core.advisor import evaluate
from storage import ConflictError, FillRejected, NotFound, Store
from storage.database import dispose_engine
from usecases.ledger import ledger

CTX = mp.get_context("fork")
CFG = StrategyConfig(**NO_COSTS)


def _open(store: Store, **kwargs: Any) -> int:
    base = {"shares": 50.0, "cash": 5000.0, "anchor": 100.0}
    return ledger(store).create("goog", CFG, name="Alphabet", **{**base, **kwargs}).id


def test_create_evaluate_propose_submit_fill(store: Store) -> None:
    pid = _open(store)
    position = ledger(store).get(pid)
    assert position.ticker == "GOOG" and position.name == "Alphabet" and position.status == "active"
    assert position.config == CFG and position.state.shares == 50 and position.state.cash == 5000

    decision = evaluate(position.state, 90.0, position.config, "2024-01-03")
    assert decision.action == "BUY"
    order = ledger(store).propose_order(pid, decision)
    assert order.status == "proposed" and order.qty == pytest.approx(abs(decision.qty))
    assert ledger(store).submit_order(order.id).status == "submitted"

    result = ledger(store).record_fill(pid, "BUY", order.qty, 90.0, 1.5, at="2024-01-03 10:00", order_id=order.id)
    shares, cash = K.execute_order(order.qty, 90.0, 1.5, 50.0, 5000.0)  # the simulator's own state update
    after = ledger(store).get(pid).state
    assert (after.shares, after.cash, after.anchor) == (shares, cash, 90.0)
    assert after.orders_today == 1 and after.day == date(2024, 1, 3)
    assert result.state == after and not result.replayed
    assert ledger(store).get_order(order.id).status == "filled"
    assert [f.id for f in ledger(store).list_fills(pid)] == [result.fill.id]

    kinds = [e.kind for e in ledger(store).list_events(pid)]
    assert kinds == ["created", "order_proposed", "order_submitted", "fill"]
    last = ledger(store).list_events(pid)[-1]
    assert (last.shares, last.cash, last.anchor) == (shares, cash, 90.0)  # events carry the state after them
    assert [a.action for a in store.list_audit(entity="position", entity_id=pid)] == ["create"]

    # a filled order cannot be filled, cancelled or rejected again
    with pytest.raises(ConflictError, match="filled"):
        ledger(store).cancel_order(order.id)
    with pytest.raises(ConflictError, match="only proposed or submitted"):
        ledger(store).record_fill(pid, "BUY", 1, 90.0, order_id=order.id)


def test_order_cancel_and_reject_leave_the_position_alone(store: Store) -> None:
    pid = _open(store)
    state = ledger(store).get(pid).state
    d = evaluate(state, 110.0, CFG, "2024-01-03")
    assert d.action == "SELL"
    cancelled = ledger(store).cancel_order(ledger(store).propose_order(pid, d).id, "changed my mind")
    rejected = ledger(store).reject_order(ledger(store).propose_order(pid, d).id, "broker: market closed")
    assert (cancelled.status, cancelled.note) == ("cancelled", "changed my mind")
    assert rejected.status == "rejected"
    assert ledger(store).get(pid).state == state
    assert ledger(store).list_orders(pid, open_only=True) == []
    with pytest.raises(ValueError, match="nothing to order"):
        ledger(store).propose_order(pid, evaluate(state, 100.5, CFG, "2024-01-03"))
    with pytest.raises(ConflictError, match="is a SELL"):
        order = ledger(store).propose_order(pid, d)
        ledger(store).record_fill(pid, "BUY", 1, 110.0, order_id=order.id)


def test_the_same_fill_twice_is_recorded_once_and_a_different_request_is_refused(store: Store) -> None:
    pid = _open(store)
    first = ledger(store).record_fill(pid, "SELL", 10, 110.0, 2.0, at="2024-01-03 11:00", idempotency_key="k-1")
    again = ledger(store).record_fill(pid, "SELL", 10, 110.0, 2.0, at="2024-01-03 11:00", idempotency_key="k-1")
    assert again.replayed and not first.replayed
    assert again.fill == first.fill and again.state == first.state
    assert len(ledger(store).list_fills(pid)) == 1
    assert ledger(store).get(pid).state == first.state  # nothing changed the second time
    with pytest.raises(ConflictError, match="idempotency key 'k-1' was already used for a different request"):
        ledger(store).record_fill(pid, "SELL", 11, 110.0, 2.0, at="2024-01-03 11:00", idempotency_key="k-1")
    assert len(ledger(store).list_fills(pid)) == 1 and ledger(store).get(pid).state == first.state
    # a retry without a time ("now") is the same request as its first attempt
    now_first = ledger(store).record_fill(pid, "SELL", 1, 110.0, idempotency_key="k-now")
    assert ledger(store).record_fill(pid, "SELL", 1, 110.0, idempotency_key="k-now").fill == now_first.fill
    # a new key is a new fill
    ledger(store).record_fill(pid, "SELL", 10, 110.0, 2.0, at="2024-01-03 11:00", idempotency_key="k-2")
    assert len(ledger(store).list_fills(pid)) == 3
    # deposits are idempotent too
    ledger(store).deposit(pid, 100, idempotency_key="dep-1")
    cash = ledger(store).get(pid).state.cash
    ledger(store).deposit(pid, 100, idempotency_key="dep-1")
    assert ledger(store).get(pid).state.cash == cash
    with pytest.raises(ConflictError, match="different request"):
        ledger(store).withdraw(pid, 100, idempotency_key="dep-1")


def test_an_expired_key_may_be_used_again(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import storage.positions as positions_module

    pid = _open(store)
    monkeypatch.setattr(positions_module, "IDEMPOTENCY_TTL", timedelta(seconds=-1))  # expired on arrival
    ledger(store).deposit(pid, 10, idempotency_key="old")
    ledger(store).deposit(pid, 20, idempotency_key="old")  # a different request, but the key had expired
    assert [c.amount for c in ledger(store).list_cash_flows(pid)] == [10, 20]
    assert ledger(store).purge_expired_keys() == 1


def test_fills_that_overdraw_cash_or_oversell_are_refused_and_noted(store: Store) -> None:
    pid = _open(store)
    before = ledger(store).get(pid).state
    with pytest.raises(FillRejected, match=r"costs \$5,001.00 but the position holds only \$5,000.00"):
        ledger(store).record_fill(pid, "BUY", 50, 100.0, 1.0, idempotency_key="too-big")
    with pytest.raises(FillRejected, match=r"holds only 50\.0000"):
        ledger(store).record_fill(pid, "SELL", 50.5, 100.0)
    with pytest.raises(ValueError, match="quantity must be a positive number"):
        ledger(store).record_fill(pid, "SELL", -1, 100.0)
    assert ledger(store).get(pid).state == before
    assert ledger(store).list_fills(pid) == []
    assert [e.kind for e in ledger(store).list_events(pid)][-2:] == ["fill_rejected", "fill_rejected"]
    # the refused key was not consumed: the corrected fill may use it
    ledger(store).deposit(pid, 1.0)
    assert not ledger(store).record_fill(pid, "BUY", 50, 100.0, 1.0, idempotency_key="too-big").replayed
    assert ledger(store).get(pid).state.cash == 0.0
    # selling everything is allowed
    assert ledger(store).record_fill(pid, "SELL", 100, 100.0).state.shares == 0.0


def test_dividend_while_an_order_is_open(store: Store) -> None:
    pid = _open(store, shares=80.0, cash=12000.0, anchor=150.0)
    cfg = ledger(store).get(pid).config
    d = evaluate(ledger(store).get(pid).state, 140.0, cfg, "2024-03-01")
    order = ledger(store).submit_order(ledger(store).propose_order(pid, d).id)

    div = ledger(store).book_dividend(pid, "2024-03-04", 0.82)
    assert div.pay_date == date(2024, 3, 4 + 14) and div.status == "booked"
    assert div.net == pytest.approx(80 * 0.82 * (1 - cfg.withholding_tax_rate))
    assert div.anchor_after == pytest.approx(149.18)
    assert div.badge == f"Ex-dividend $0.82/sh; receivable ${div.net:,.2f}; anchor adjusted to $149.18"
    state = ledger(store).get(pid).state
    assert state.receivable == pytest.approx(div.net) and state.anchor == pytest.approx(149.18)
    assert ledger(store).get_order(order.id).status == "submitted"  # the order stays open…
    assert "open order(s) were proposed against the old anchor" in ledger(store).list_events(pid)[-1].message
    with pytest.raises(ConflictError, match="already booked"):
        ledger(store).book_dividend(pid, "2024-03-04", 0.82)

    # …and fills normally: the receivable is untouched, the anchor moves to the fill price
    filled = ledger(store).record_fill(pid, "BUY", order.qty, 140.0, at="2024-03-05 10:00", order_id=order.id)
    assert filled.state.receivable == pytest.approx(div.net) and filled.state.anchor == 140.0

    assert ledger(store).pay_due_dividends(pid, today="2024-03-17") == []
    paid = ledger(store).pay_due_dividends(pid, today="2024-03-18")
    assert [p.status for p in paid] == ["paid"]
    final = ledger(store).get(pid).state
    assert final.receivable == 0.0 and final.cash == pytest.approx(filled.state.cash + div.net)
    with pytest.raises(ConflictError, match="already paid"):
        ledger(store).pay_dividend(div.id)
    kinds = [e.kind for e in ledger(store).list_events(pid)]
    assert kinds[-3:] == ["ex_dividend", "fill", "dividend_paid"]


def test_cash_flows_anchor_and_status(store: Store) -> None:
    pid = _open(store)
    assert ledger(store).deposit(pid, 250, "top up").state.cash == 5250
    assert ledger(store).withdraw(pid, 5250).state.cash == 0
    with pytest.raises(ConflictError, match=r"cannot withdraw \$0.01"):
        ledger(store).withdraw(pid, 0.01)
    assert [c.amount for c in ledger(store).list_cash_flows(pid)] == [250, -5250]

    with pytest.raises(ValueError, match="reason"):
        ledger(store).set_anchor(pid, 95, "  ")
    assert ledger(store).set_anchor(pid, 95, "broker moved the reference").state.anchor == 95
    change = ledger(store).list_anchor_changes(pid)[0]
    assert (change.old_anchor, change.new_anchor, change.actor) == (100, 95, "tester")
    audit = store.list_audit(entity="position", entity_id=pid, action="update")[0]
    assert audit.details["anchor"] == {"old": 100.0, "new": 95.0}

    ledger(store).set_status(pid, "closed")
    with pytest.raises(ConflictError, match="closed"):
        ledger(store).deposit(pid, 1)
    ledger(store).set_status(pid, "active")
    assert [p.id for p in ledger(store).list(status="active")] == [pid]
    with pytest.raises(NotFound):
        ledger(store).get(pid + 1000)


def test_a_restart_loses_nothing(db_url: str) -> None:
    store = Store(db_url, actor="tester")
    pid = _open(store)
    ledger(store).record_fill(pid, "SELL", 5, 110.0, 1.0, at="2024-01-03 11:00", idempotency_key="restart")
    ledger(store).book_dividend(pid, "2024-01-04", 0.5)
    history = ledger(store).history(pid)
    store.close()  # the process's connections are gone; a new Store is what a restarted app opens
    dispose_engine(db_url)
    reopened = Store(db_url, actor="someone else")
    assert ledger(reopened).history(pid) == history
    replay = ledger(reopened).record_fill(pid, "SELL", 5, 110.0, 1.0, at="2024-01-03 11:00",
                                            idempotency_key="restart")
    assert replay.replayed and replay.fill == history.fills[0]


def _crash_mid_fill(url: str, pid: int) -> None:
    """Record a fill but die (no cleanup, no rollback) after its rows are written and before the commit."""
    from storage.positions import PositionsAPI

    dispose_engine(url)
    store = Store(url, actor="crasher", migrate=False)
    original = PositionsAPI._log

    def log_then_die(self: Any, conn: Any, position_id: int, kind: str, *args: Any, **kwargs: Any) -> int:
        event_id = original(self, conn, position_id, kind, *args, **kwargs)
        if kind == "fill":
            os._exit(3)  # the process vanishes inside the open transaction
        return event_id

    PositionsAPI._log = log_then_die  # type: ignore[method-assign]
    ledger(store).record_fill(pid, "SELL", 5, 110.0, 1.0, at="2024-01-03 11:00", idempotency_key="crash")


def test_a_crash_in_the_middle_of_a_fill_leaves_nothing_half_written(store: Store, db_url: str) -> None:
    pid = _open(store)
    before = ledger(store).history(pid)
    proc = CTX.Process(target=_crash_mid_fill, args=(db_url, pid))
    proc.start()
    proc.join(60)
    assert proc.exitcode == 3
    dispose_engine(db_url)
    reopened = Store(db_url, actor="tester")
    assert ledger(reopened).history(pid) == before  # no fill, no event, same holdings
    # the key was never claimed: the retry records the fill once
    result = ledger(reopened).record_fill(pid, "SELL", 5, 110.0, 1.0, at="2024-01-03 11:00",
                                            idempotency_key="crash")
    assert not result.replayed and len(ledger(reopened).list_fills(pid)) == 1


def _race_fill(url: str, pid: int, key: str, start: Any, results: Any) -> None:
    try:
        dispose_engine(url)  # never reuse the parent's pooled connections
        store = Store(url, actor="racer", migrate=False)
        start.wait(30)
        result = ledger(store).record_fill(pid, "SELL", 3, 105.0, 1.0, at="2024-01-03 12:00",
                                             idempotency_key=key)
        results.put(("ok", result.fill.id, result.replayed))
    except BaseException:
        results.put(("error", traceback.format_exc(), None))


def test_two_processes_recording_the_same_fill_produce_one_fill(store: Store, db_url: str) -> None:
    pid = _open(store)
    for round_ in range(3):  # a few rounds, each with a fresh key, so that the two really overlap at least once
        start, results = CTX.Barrier(2), CTX.Queue()
        key = f"race-{round_}"
        procs = [CTX.Process(target=_race_fill, args=(db_url, pid, key, start, results)) for _ in range(2)]
        for p in procs:
            p.start()
        outcomes = [results.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(30)
        assert all(o[0] == "ok" for o in outcomes), outcomes
        assert outcomes[0][1] == outcomes[1][1]  # both were told about the same fill
        assert sorted(o[2] for o in outcomes) == [False, True]  # one recorded it, the other got the first result
        assert len(ledger(store).list_fills(pid)) == round_ + 1
        assert ledger(store).get(pid).state.shares == 50 - 3 * (round_ + 1)


def test_replaying_a_series_through_the_stored_position_gives_simulates_trades(tmp_path: Path) -> None:
    """Bar by bar as a live user: book dividends, evaluate, record the advised fill; the stored fills are
    ``simulate``'s trades exactly."""
    store = Store(f"sqlite:///{tmp_path / 'replay.sqlite3'}", actor="tester")
    rng = np.random.default_rng(21)  # 141 bars, 65 trades, commissions
    prices, _ = random_path(rng, intraday_bars=False)
    prices = prices.iloc[:160]
    cfg = random_config(rng).replace(dividend_pay_lag_days=3)
    n = len(prices)
    ex_dates = prices.index[[n // 4, n // 2, 3 * n // 4]]
    dividends = pd.DataFrame({"ex_date": ex_dates, "amount": [0.3, 0.5, 0.2], "pay_date": pd.NaT})
    first_ts, first_price = prices.index[0], float(prices["close"].iloc[0])
    pid = ledger(store).create("TEST", cfg, price=first_price, at=first_ts).id
    for ts, price in zip(prices.index[1:], prices["close"].iloc[1:], strict=True):
        for d in dividends.itertuples():
            if d.ex_date == ts.normalize():
                ledger(store).book_dividend(pid, d.ex_date, d.amount)
        ledger(store).pay_due_dividends(pid, today=ts.normalize())
        position = ledger(store).get(pid)
        decision = evaluate(position.state, float(price), position.config, ts)
        if decision.action in ("BUY", "SELL"):
            ledger(store).record_fill(pid, decision.side, abs(decision.qty), decision.exec_price,
                                        decision.commission, at=ts)
    fills = ledger(store).list_fills(pid)
    expected = simulate(prices, cfg, dividends).trades
    expected = expected[expected["kind"] != "initial"].reset_index(drop=True)
    assert len(fills) == len(expected) > 5
    assert [pd.Timestamp(f.filled_at) for f in fills] == list(expected["timestamp"])
    assert [f.side for f in fills] == list(expected["side"])
    for attr, column in (("qty", "qty"), ("price", "price"), ("commission", "commission")):
        np.testing.assert_allclose([getattr(f, attr) for f in fills], expected[column].to_numpy(float), rtol=1e-12)
    final = simulate(prices, cfg, dividends).timeline.iloc[-1]
    state = ledger(store).get(pid).state
    assert state.shares == pytest.approx(final["shares"], rel=1e-12)
    assert state.cash == pytest.approx(final["cash"], rel=1e-9)
