"""The advisor decides through the simulator's own rules: replaying a series through it gives simulate's trades."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from engine_helpers import NO_COSTS, random_config, random_path

from core import StrategyConfig, simulate
from core.advisor import (
    PositionState,
    apply_ex_dividend,
    apply_fill,
    evaluate,
    guardrail_prices,
    initial_state,
    receive_dividend,
)
from core.errors import ConfigError


def _replay(prices: pd.DataFrame, cfg: StrategyConfig, dividends: pd.DataFrame | None = None) -> pd.DataFrame:
    """Walk the series bar by bar as a live user would: book dividends, ask for advice, record the fills."""
    state = initial_state(cfg, prices["close"].iloc[0], prices.index[0])
    first_day = prices.index[0].normalize()
    pending: list[tuple[pd.Timestamp, float]] = []
    divs = [] if dividends is None else list(dividends.sort_values("ex_date", kind="mergesort").itertuples())
    divs = [d for d in divs if d.ex_date > first_day]
    fills = []
    for ts, price in zip(prices.index[1:], prices["close"].iloc[1:], strict=True):
        while divs and divs[0].ex_date <= ts.normalize():
            d = divs.pop(0)
            state, net = apply_ex_dividend(state, d.amount, cfg)
            pay = d.pay_date if pd.notna(d.pay_date) else d.ex_date + pd.Timedelta(days=cfg.dividend_pay_lag_days)
            pending.append((max(pay, d.ex_date), net))
        for due in [x for x in pending if x[0] <= ts.normalize()]:
            pending.remove(due)
            state = receive_dividend(state, due[1], outstanding=len(pending))
        decision = evaluate(state, float(price), cfg, ts)
        if decision.action in ("BUY", "SELL"):
            state = apply_fill(state, decision)
            fills.append((ts, decision.action, abs(decision.qty), decision.exec_price, decision.commission))
    return pd.DataFrame(fills, columns=["timestamp", "side", "qty", "price", "commission"])


def test_replaying_a_series_through_evaluate_gives_simulates_trades():
    n_compared = 0
    for seed in range(8):
        rng = np.random.default_rng(300 + seed)
        prices, dividends = random_path(rng, intraday_bars=seed % 2 == 1)
        dividends["pay_date"] = pd.NaT  # the replay books pay dates with the configured lag
        cfg = random_config(rng).replace(dividend_pay_lag_days=3)
        replayed = _replay(prices, cfg, dividends)
        expected = simulate(prices, cfg, dividends).trades
        expected = expected[expected["kind"] != "initial"].reset_index(drop=True)
        assert len(replayed) == len(expected), seed
        assert list(replayed["timestamp"]) == list(expected["timestamp"])
        assert list(replayed["side"]) == list(expected["side"])
        for column in ("qty", "price", "commission"):
            np.testing.assert_allclose(replayed[column].to_numpy(float), expected[column].to_numpy(float), rtol=1e-12)
        n_compared += len(expected)
    assert n_compared > 50  # the replay really exercised trades


def test_advice_for_a_buy_that_is_trimmed_to_the_guardrail():
    cfg = StrategyConfig(rebalance_ratio=5, **NO_COSTS)
    state = PositionState(shares=50, cash=5000, anchor=100)
    d = evaluate(state, 90.0, cfg, "2024-01-03")
    v = 50 * 90 + 5000
    assert d.action == "BUY" and d.kind == "trigger" and d.trimmed
    assert d.raw_qty == pytest.approx((100 / 90 - 1) * 5 * v / 90, rel=1e-12)
    assert d.qty == pytest.approx((0.75 * v - 50 * 90) / (90 - 0.75 * 90 + 0.75 * 90), rel=1e-12)
    assert d.projected_stock_share == pytest.approx(0.75, abs=1e-12)
    assert d.sell_trigger_price == pytest.approx(103.0) and d.buy_trigger_price == pytest.approx(97.0)
    assert "trimmed to" in d.reason
    after = apply_fill(state, d)
    assert after.anchor == 90.0 and after.orders_today == 1 and after.day == date(2024, 1, 3)


def test_hold_after_hours_and_daily_cap():
    cfg = StrategyConfig(**NO_COSTS, max_orders_per_day=1)
    state = PositionState(shares=50, cash=5000, anchor=100)
    assert evaluate(state, 101.0, cfg, "2024-01-03").action == "HOLD"
    assert evaluate(state, 90.0, cfg, "2024-01-03 17:30").status == "after_hours"
    assert evaluate(state, 90.0, cfg.replace(allow_after_hours=True), "2024-01-03 17:30").action == "BUY"
    capped = PositionState(shares=50, cash=5000, anchor=100, orders_today=1, day=date(2024, 1, 3))
    assert evaluate(capped, 90.0, cfg, "2024-01-03 11:00").status == "daily_cap"
    assert evaluate(capped, 90.0, cfg, "2024-01-04 11:00").action == "BUY"  # a new day resets the count


def test_skip_below_minimum_keeps_the_anchor():
    d = evaluate(PositionState(shares=50, cash=5000, anchor=100), 96.9, StrategyConfig(min_notional=5000), "2024-01-03")
    assert d.action == "SKIP" and d.skip_reason == "below minimum"
    assert d.projected_stock_share == d.stock_share
    with pytest.raises(ConfigError, match="nothing to fill"):
        apply_fill(PositionState(shares=50, cash=5000, anchor=100), d)


def test_ex_dividend_books_a_receivable_and_lowers_the_anchor():
    cfg = StrategyConfig()
    state, net = apply_ex_dividend(PositionState(shares=80, cash=100, anchor=150), 0.82, cfg)
    assert net == pytest.approx(80 * 0.82 * 0.75)
    assert state.receivable == pytest.approx(net) and state.anchor == pytest.approx(149.18)
    paid = receive_dividend(state, net, outstanding=0)
    assert paid.receivable == 0.0 and paid.cash == pytest.approx(100 + net)


def test_guardrail_prices_are_where_the_share_reaches_each_bound():
    cfg = StrategyConfig()
    state = PositionState(shares=50, cash=5000, anchor=100)
    upper, lower = guardrail_prices(state, cfg)
    assert 50 * upper / (50 * upper + 5000) == pytest.approx(0.75)
    assert 50 * lower / (50 * lower + 5000) == pytest.approx(0.25)


def test_invalid_state_and_price_are_refused():
    with pytest.raises(ConfigError, match="cash must be"):
        PositionState(shares=1, cash=-5, anchor=10)
    with pytest.raises(ConfigError, match="price must be"):
        evaluate(PositionState(shares=1, cash=5, anchor=10), 0.0, StrategyConfig(), "2024-01-03")
