"""Alerts on held positions: the worked example of docs/strategy.md §11 with numbers derived from the rule, the
watch list from the store, audit entries on state changes, the CLI's exit code and the API."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pandas as pd
import pytest

from cli.main import main
from core import StrategyConfig
from core.alerts import ACTION_DUE, NEAR_TRIGGER, OK, STALE_PRICE, AlertSettings, alerts_frame, position_alert
from core.data import MarketData
from core.position_state import PositionState
from storage import Store
from usecases.alerts import Quote, record_changes, stored_quote, watch_list
from usecases.ledger import ledger

CONFIG = StrategyConfig(trigger_up=0.05, trigger_down=0.05, commission_rate=0.0, min_notional=0.0,
                        auto_rebalance=False)
STATE = PositionState(shares=50.0, cash=5000.0, anchor=100.0)
NOW = datetime(2026, 12, 7, 15, 0)  # a Monday, in session


def _alert(price: float, age_hours: float = 1.0):
    return position_alert(1, "ACME", STATE, CONFIG, price, NOW - timedelta(hours=age_hours), now=NOW)


def test_the_worked_example() -> None:
    ok = _alert(103.0)
    assert ok.state == OK
    assert ok.sell_trigger_price == pytest.approx(105.0) and ok.buy_trigger_price == pytest.approx(95.0)
    assert ok.to_sell_trigger == pytest.approx(105 / 103 - 1) and ok.to_buy_trigger == pytest.approx(95 / 103 - 1)
    assert ok.upper_guardrail_price == pytest.approx(0.75 * 5000 / (50 * 0.25))  # 300
    assert ok.lower_guardrail_price == pytest.approx(0.25 * 5000 / (50 * 0.75))  # 33.33
    assert ok.to_upper_guardrail == pytest.approx(300 / 103 - 1)
    near = _alert(104.0)
    assert near.state == NEAR_TRIGGER and near.to_sell_trigger == pytest.approx(1 / 104)
    assert "0.96% from the sell trigger" in near.message
    due = _alert(106.0)
    assert (due.state, due.action) == (ACTION_DUE, "SELL") and due.quantity < 0
    assert due.message.startswith("ACME at 106") and "SELL" in due.message
    stale = _alert(104.0, age_hours=100)
    assert stale.state == STALE_PRICE and "4.2 days old" in stale.message
    # the price crossing the buy trigger
    assert _alert(94.0).state == ACTION_DUE and _alert(94.0).action == "BUY"


def test_settings_are_checked_and_used() -> None:
    assert position_alert(1, "ACME", STATE, CONFIG, 103.0, NOW, now=NOW,
                          settings=AlertSettings(near_fraction=0.02)).state == NEAR_TRIGGER
    assert position_alert(1, "ACME", STATE, CONFIG, 103.0, NOW - timedelta(hours=3), now=NOW,
                          settings=AlertSettings(stale_after_hours=2)).state == STALE_PRICE
    with pytest.raises(ValueError, match="0 % to 50 %"):
        AlertSettings(near_fraction=0.9)
    with pytest.raises(ValueError, match="stale-price age"):
        AlertSettings(stale_after_hours=math.nan)


def test_the_watch_list_orders_the_most_urgent_first() -> None:
    frame = alerts_frame([_alert(103.0), _alert(106.0), _alert(104.0, age_hours=100), _alert(104.0)])
    assert list(frame["state"]) == ["Action due", "Stale price", "Near trigger", "OK"]


def _market_data(symbol: str, last_close: float) -> MarketData:
    index = pd.date_range("2026-11-30", periods=5, freq="B")
    prices = pd.DataFrame({"close": [100.0, 101.0, 102.0, 101.5, last_close]}, index=index)
    return MarketData(prices=prices, dividends=pd.DataFrame(columns=["ex_date", "amount", "pay_date"]),
                      name=f"{symbol} daily", symbol=symbol, interval="1d", price_basis="raw", source="csv")


@pytest.fixture
def held() -> Store:
    store = Store()
    book = ledger(store)
    book.create("ACME", CONFIG, shares=50.0, cash=5000.0, anchor=100.0, at="2026-11-30")
    book.create("BETA", CONFIG, shares=50.0, cash=5000.0, anchor=100.0, at="2026-11-30")
    store.save_dataset(_market_data("ACME", 104.0))
    return store


def test_watch_list_prices_from_stored_data_and_typed_prices(held: Store) -> None:
    quote = stored_quote(held, "acme")
    assert quote.price == 104.0 and quote.at == datetime(2026, 12, 4)  # Friday's close
    alerts = watch_list(held, now=datetime(2026, 12, 7, 10, 0))
    assert [(a.ticker, a.state) for a in alerts] == [("ACME", NEAR_TRIGGER)]  # BETA has no price
    assert alerts[0].price_age_hours == pytest.approx(66.0)
    typed = {"BETA": Quote(107.0, datetime(2026, 12, 7, 9, 45), "typed")}
    alerts = watch_list(held, typed=typed, now=datetime(2026, 12, 7, 10, 0))
    assert [(a.ticker, a.state) for a in alerts] == [("ACME", NEAR_TRIGGER), ("BETA", ACTION_DUE)]


def test_state_changes_are_audited_once(held: Store) -> None:
    first = watch_list(held, now=datetime(2026, 12, 7, 10, 0))
    assert [a.ticker for a in record_changes(held, first)] == ["ACME"]
    assert record_changes(held, watch_list(held, now=datetime(2026, 12, 7, 11, 0))) == []
    later = watch_list(held, now=datetime(2026, 12, 9, 10, 0))  # Friday's close is now 114 h old
    assert [a.state for a in record_changes(held, later)] == [STALE_PRICE]
    entries = held.list_audit(entity="position_alert")
    assert [(e.details["state"], e.details["previous"]) for e in entries] == [
        (STALE_PRICE, NEAR_TRIGGER), (NEAR_TRIGGER, None)]


def test_cli_alerts_exit_code_says_whether_an_action_is_due(held: Store, capsys) -> None:
    code = main(["alerts", "--now", "2026-12-07T10:00"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "ACME" in out and "Near trigger" in out and "BETA: no price" in out
    code = main(["alerts", "--now", "2026-12-07T10:00", "--price", "BETA=107@2026-12-07T09:45"])
    out, _ = capsys.readouterr()
    assert code == 1 and "Action due" in out and "SELL" in out
    code = main(["alerts", "--price", "BETA=abc"])
    _, err = capsys.readouterr()
    assert code == 2 and "TICKER=PRICE" in err


def test_the_watch_list_as_a_delivered_report(held: Store, tmp_path) -> None:
    import json

    from usecases.delivery import ReportSubject, RetryPolicy, send_now

    policy = RetryPolicy(attempts=1)
    subject = ReportSubject("alerts", 0, "json", {"near_pct": 1.0})
    [record] = send_now(held, subject, [f"file://{tmp_path}/"], policy=policy)
    assert record.status == "sent", record.error
    items = json.loads((tmp_path / "watch_list.json").read_text())["items"]
    assert [(i["ticker"], i["state"]) for i in items] == [("ACME", "Near trigger")]
    [record] = send_now(held, ReportSubject("alerts", 0, "csv"), [f"file://{tmp_path}/"], policy=policy)
    assert (tmp_path / "watch_list.csv").read_text().splitlines()[0].startswith("position,ticker,state,price")
