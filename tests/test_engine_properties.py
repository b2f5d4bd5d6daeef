"""Invariants on random price paths and configurations (hypothesis), fixed and volatility-scaled triggers
(docs/strategy.md §5.4a) alike."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from engine_helpers import random_vol_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import METRIC_NAMES, simulate, simulate_many
from core import kernel as K

moves = st.lists(st.floats(min_value=-0.15, max_value=0.15, allow_nan=False), min_size=2, max_size=120)
seeds = st.integers(min_value=0, max_value=2**32 - 1)
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _path(steps: list[float]) -> pd.DataFrame:
    close = 100.0 * np.exp(np.cumsum(np.r_[0.0, steps[1:]]))
    return pd.DataFrame({"close": close}, index=pd.bdate_range("2020-01-02", periods=len(steps)))


def _dividends(prices: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    k = int(rng.integers(0, 4))
    dates = pd.DatetimeIndex(rng.choice(prices.index, size=k)).sort_values()
    return pd.DataFrame({"ex_date": dates, "amount": rng.uniform(0.1, 3.0, k), "pay_date": [pd.NaT] * k})


@SETTINGS
@given(steps=moves, seed=seeds)
def test_cash_and_shares_never_negative(steps, seed):
    prices = _path(steps)
    res = simulate(prices, random_vol_config(np.random.default_rng(seed)), _dividends(prices, seed))
    tl = res.timeline
    assert (tl["cash"] >= 0).all(), tl.loc[tl["cash"] < 0, ["cash", "reason"]]
    assert (tl["shares"] >= 0).all()
    assert (tl["receivable"] >= 0).all()


@SETTINGS
@given(steps=moves, seed=seeds)
def test_a_trimmed_trade_leaves_the_share_on_its_bound(steps, seed):
    cfg = random_vol_config(np.random.default_rng(seed)).replace(fractional_shares=True, max_trade_share=None)
    res = simulate(_path(steps), cfg)
    tl = res.timeline
    # Trimmed orders that no later hard limit (cash, shares, max trade) changed land exactly on the bound.
    clean = tl["trimmed"] & (tl["limit_flags"] == K.FLAG_TRIMMED) & tl["action"].isin(["BUY", "SELL"])
    for _, row in tl[clean].iterrows():
        assert math.isclose(row["stock_share"], row["guardrail_bound"], rel_tol=0, abs_tol=1e-9), row
    rebalanced = (tl["kind"] == "rebalance") & (tl["limit_flags"] == 0) & tl["action"].isin(["BUY", "SELL"])
    for _, row in tl[rebalanced].iterrows():
        assert math.isclose(row["stock_share"], row["guardrail_bound"], rel_tol=0, abs_tol=1e-9), row


@SETTINGS
@given(steps=moves, seed=seeds)
def test_value_changes_at_a_trade_by_exactly_the_fee_and_slippage(steps, seed):
    prices = _path(steps)
    res = simulate(prices, random_vol_config(np.random.default_rng(seed)), _dividends(prices, seed))
    tl = res.timeline
    prev = tl.shift(1)
    traded = tl["action"].isin(["BUY", "SELL"]) & (tl["kind"] != "initial")
    for ts in tl.index[traded]:
        row, before = tl.loc[ts], prev.loc[ts]
        # Dividend cash moves between receivable and cash at the same bar and leaves value unchanged.
        marked = before["shares"] * row["price"] + before["cash"] + before["receivable"] + row["dividend_net"]
        cost = row["commission"] + abs(row["qty"]) * abs(row["exec_price"] - row["price"])
        assert math.isclose(row["value"], marked - cost, rel_tol=1e-11, abs_tol=1e-9)


@SETTINGS
@given(steps=moves, seed=seeds)
def test_a_triggered_order_never_flips_side_and_never_leaves_the_band_it_was_in(steps, seed):
    cfg = random_vol_config(np.random.default_rng(seed))
    tl = simulate(_path(steps), cfg).timeline
    for _, row in tl[(tl["kind"] == "trigger") & tl["action"].isin(["BUY", "SELL"])].iterrows():
        assert row["action"] == row["trigger"]
        if row["action"] == "BUY" and row["pre_trade_stock_share"] <= cfg.guardrail_max:
            assert row["stock_share"] <= cfg.guardrail_max + 1e-9
        if row["action"] == "SELL" and row["pre_trade_stock_share"] >= cfg.guardrail_min:
            assert row["stock_share"] >= cfg.guardrail_min - 1e-9


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=moves, seed=seeds)
def test_simulate_and_simulate_many_agree(steps, seed):
    prices = _path(steps)
    divs = _dividends(prices, seed)
    rng = np.random.default_rng(seed)
    configs = [random_vol_config(rng) for _ in range(3)]
    fast = simulate_many(prices, configs, divs)
    for i, cfg in enumerate(configs):
        slow = simulate(prices, cfg, divs).metrics
        for m in METRIC_NAMES:
            a, b = slow[m], float(fast[m].iloc[i])
            assert (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (m, a, b)


@SETTINGS
@given(steps=moves, seed=seeds)
def test_metrics_are_never_infinite(steps, seed):
    res = simulate(_path(steps), random_vol_config(np.random.default_rng(seed)))
    assert not any(math.isinf(v) for v in res.metrics.values())


@SETTINGS
@given(steps=moves, seed=seeds)
def test_the_trigger_in_force_stays_within_its_clamps_and_the_prices_follow_it(steps, seed):
    cfg = random_vol_config(np.random.default_rng(seed))
    tl = simulate(_path(steps), cfg).timeline
    for side, base in (("up", cfg.trigger_up), ("down", cfg.trigger_down)):
        in_force = tl[f"trigger_{side}_in_force"]
        if cfg.threshold_mode == "fixed":
            assert (in_force == base).all()
        else:
            warm = tl["window_volatility"].isna()
            assert (in_force[warm] == base).all()
            assert in_force[~warm].between(cfg.trigger_min, cfg.trigger_max).all()
    assert np.allclose(tl["sell_trigger_price"], tl["anchor"] * (1 + tl["trigger_up_in_force"]), rtol=1e-15)
    assert np.allclose(tl["buy_trigger_price"], tl["anchor"] * (1 - tl["trigger_down_in_force"]), rtol=1e-15)
