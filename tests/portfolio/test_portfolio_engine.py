"""``simulate_portfolio`` (docs/strategy.md §12): one cell is ``simulate``; independent cells add up; the pool and
re-allocation follow their rules with numbers derived by hand; value is conserved except costs (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import ConfigError, DataError, StrategyConfig, simulate
from core.data.samples import load_sample
from core.portfolio import POOL, PortfolioCell, PortfolioRules, simulate_portfolio
from tests.engine_helpers import NO_COSTS, daily

# No trading at all: triggers far away, no auto-rebalance, so only the portfolio's rules move money.
STILL = {**NO_COSTS, "trigger_up": 50.0, "trigger_down": 0.99, "auto_rebalance": False, "guardrail_min": 0.0,
         "guardrail_max": 1.0, "fractional_shares": True}


@pytest.fixture(scope="module")
def samples():
    return {name: load_sample(name) for name in ("INTC", "MMM", "COST")}


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def test_one_cell_without_a_pool_is_simulate_exactly(samples):
    md = samples["INTC"]
    cfg = StrategyConfig(trigger_up=0.04, trigger_down=0.05, commission_rate=0.001, commission_min=1.0)
    single = simulate(md.prices, cfg.replace(initial_capital=50_000.0), md.dividends)
    pf = simulate_portfolio([PortfolioCell("INTC", md.prices, cfg, 1.0, md.dividends)],
                            PortfolioRules(initial_capital=50_000.0))
    np.testing.assert_array_equal(pf.equity.to_numpy(), single.equity.to_numpy())
    assert all(_same(pf.metrics[k], v) for k, v in single.metrics.items()), {
        k: (pf.metrics[k], v) for k, v in single.metrics.items() if not _same(pf.metrics[k], v)}
    pd.testing.assert_frame_equal(pf.trades.drop(columns="cell"), single.trades)
    np.testing.assert_array_equal(pf.benchmarks["equal_weight_buy_and_hold"], single.benchmarks["buy_and_hold"])
    np.testing.assert_array_equal(pf.benchmarks["initial_mix"], single.benchmarks["static_mix"])
    assert pf.transfers.empty and (pf.allocation["INTC"] == 1.0).all()


def test_two_cells_add_up_when_no_portfolio_rule_binds(samples):
    a, b = samples["MMM"], samples["COST"]
    cfg_a = StrategyConfig(trigger_up=0.03, trigger_down=0.03)
    cfg_b = StrategyConfig(trigger_up=0.06, trigger_down=0.04, sizing="fixed_fraction", trade_fraction=0.2)
    pf = simulate_portfolio(
        [PortfolioCell("MMM", a.prices, cfg_a, 0.4, a.dividends), PortfolioCell("COST", b.prices, cfg_b, 0.6,
                                                                                 b.dividends)],
        PortfolioRules(initial_capital=200_000.0),
    )
    ra = simulate(a.prices, cfg_a.replace(initial_capital=80_000.0), a.dividends)
    rb = simulate(b.prices, cfg_b.replace(initial_capital=120_000.0), b.dividends)
    assert a.prices.index.equals(b.prices.index)  # the bundle's two histories share one calendar
    np.testing.assert_allclose(pf.equity.to_numpy(), (ra.equity + rb.equity).to_numpy(), rtol=0, atol=1e-9)
    assert len(pf.trades) == len(ra.trades) + len(rb.trades)
    assert pf.metrics["n_trades"] == ra.metrics["n_trades"] + rb.metrics["n_trades"]
    assert pf.metrics["dividends_net"] == pytest.approx(ra.metrics["dividends_net"] + rb.metrics["dividends_net"])
    contrib = pf.contributions.set_index("cell")["profit"]
    assert contrib["MMM"] == pytest.approx(ra.equity.iloc[-1] - 80_000.0)
    assert contrib.sum() == pytest.approx(pf.equity.iloc[-1] - 200_000.0)
    assert pf.correlation.shape == (2, 2) and pf.correlation.loc["MMM", "MMM"] == pytest.approx(1.0)


def test_a_cell_without_a_bar_carries_its_last_price():
    a = daily([100, 102, 104, 106])
    b = daily([50, 51, 52, 53]).drop(index=daily([0, 0, 0, 0]).index[2])  # B has no third bar
    cfg = StrategyConfig(**STILL)
    pf = simulate_portfolio([PortfolioCell("A", a, cfg, 0.5), PortfolioCell("B", b, cfg, 0.5)],
                            PortfolioRules(initial_capital=2_000.0))
    # Each cell: 1 000 of capital, half bought at the first close (A 5 sh, B 10 sh), 500 cash.
    expected = [5 * pa + 500 + 10 * pb + 500 for pa, pb in [(100, 50), (102, 51), (104, 51), (106, 53)]]
    np.testing.assert_allclose(pf.equity.to_numpy(), expected, rtol=0, atol=1e-9)


def test_a_monthly_reallocation_takes_cash_first_then_sells_with_its_commission():
    # Two cells of 500 each, 90 % in stock at 100; A doubles on the first bar of February, B stays.
    index = pd.DatetimeIndex(["2024-01-30", "2024-01-31", "2024-02-01", "2024-02-02"])
    a = pd.DataFrame({"close": [100.0, 100.0, 200.0, 200.0]}, index=index)
    b = pd.DataFrame({"close": [100.0, 100.0, 100.0, 100.0]}, index=index)
    cfg = StrategyConfig(**{**STILL, "initial_stock_share": 0.9, "commission_rate": 0.01})
    pf = simulate_portfolio([PortfolioCell("A", a, cfg, 0.5), PortfolioCell("B", b, cfg, 0.5)],
                            PortfolioRules(initial_capital=1_000.0, reallocation="monthly"))
    # First bar (§5.0): budget 450 buys 450/1.01 of stock, fee 450 − 450/1.01; 50 cash left in each cell.
    shares0 = 450 / 1.01 / 100
    value_a, value_b = shares0 * 200 + 50, shares0 * 100 + 50  # 1 Feb, before the bar trades
    target = (value_a + value_b) / 2
    need = value_a - target
    # A gives its 50 of cash, then sells notional n with n − 0.01·n = need − 50.
    notional = (need - 50) / 0.99
    fee = 0.01 * notional
    sold = notional / 200
    moves = pf.transfers.set_index("cell")["amount"]
    assert moves["A"] == pytest.approx(-need, rel=1e-12)
    assert moves["B"] == pytest.approx(need, rel=1e-12)
    sale = pf.trades[pf.trades["kind"] == "reallocate"].iloc[0]
    assert (sale["cell"], sale["side"]) == ("A", "SELL")
    assert sale["qty"] == pytest.approx(sold, rel=1e-12) and sale["commission"] == pytest.approx(fee, rel=1e-12)
    feb = pf.equity.loc["2024-02-01"]
    assert feb == pytest.approx(value_a + value_b - fee, rel=1e-12)  # conserved except the commission
    assert pf.cell_values.loc["2024-02-01", "A"] == pytest.approx(target - fee, rel=1e-12)
    assert pf.cell_values.loc["2024-02-01", "B"] == pytest.approx(target, rel=1e-12)
    assert pf.metrics["total_commission"] == pytest.approx(2 * (450 - 450 / 1.01) + fee, rel=1e-12)
    # Anchor unchanged by the re-allocation sale (§12.3): A's timeline still anchors at the first close.
    assert pf.cells["A"].timeline["anchor_after"].iloc[-1] == 100.0


def test_a_band_reallocation_waits_for_the_band_to_be_left():
    index = pd.bdate_range("2024-03-04", periods=5)
    a = pd.DataFrame({"close": [100.0, 104.0, 150.0, 150.0, 150.0]}, index=index)
    b = pd.DataFrame({"close": [100.0] * 5}, index=index)
    cfg = StrategyConfig(**STILL)
    pf = simulate_portfolio([PortfolioCell("A", a, cfg, 0.5), PortfolioCell("B", b, cfg, 0.5)],
                            PortfolioRules(initial_capital=2_000.0, reallocation="band", reallocation_band=0.05))
    # Weights at the close: bar 1 A = (5·104 + 500)/2020 = 50.5 % (inside 5 pp); bar 2 (5·150 + 500)/2250 =
    # 55.6 % (outside) → the re-allocation happens before bar 3, once; afterwards both are at 50 %.
    assert list(pf.transfers["timestamp"].unique()) == [index[3]]
    assert pf.allocation.loc[index[3], "A"] == pytest.approx(0.5, rel=1e-12)


def test_the_pool_lends_a_buy_its_shortfall_up_to_the_cap_and_is_repaid_by_the_next_sale():
    # A cell 95 % in stock (40 of cash) that falls 10 %: its buy needs more cash than it has.
    prices = daily([100, 90, 99])
    cfg = StrategyConfig(**{**NO_COSTS, "initial_stock_share": 0.95, "guardrail_min": 0.0, "guardrail_max": 1.0,
                            "trigger_up": 0.05, "trigger_down": 0.05, "auto_rebalance": False})
    rules = PortfolioRules(initial_capital=1_000.0, cash_pool=True, pool_cap=0.2)
    pf = simulate_portfolio([PortfolioCell("A", prices, cfg, 0.8)], rules)
    draws = pf.transfers[(pf.transfers["kind"] == "draw") & (pf.transfers["cell"] == "A")]
    buy = pf.trades[(pf.trades["kind"] == "trigger") & (pf.trades["side"] == "BUY")].iloc[0]
    # The draw is what the buy costs beyond the cell's 40 of cash (no costs), within the 200 cap.
    assert len(draws) == 1 and draws["amount"].iloc[0] == pytest.approx(buy["notional"] - 40.0, rel=1e-12)
    assert 40.0 < buy["notional"] <= 240.0 + 1e-9
    assert pf.timeline["pool"].iloc[1] == pytest.approx(200.0 - (buy["notional"] - 40.0), rel=1e-12)
    # Bar 2 rises 10 % over the anchor 90: the cell sells; the pool is repaid at its next bar (none here).
    assert pf.trades["side"].iloc[-1] == "SELL"
    assert (pf.timeline["pool"] >= -1e-9).all()


def test_a_pool_draw_stops_at_the_cap():
    prices = daily([100, 80])
    cfg = StrategyConfig(**{**NO_COSTS, "initial_stock_share": 0.95, "guardrail_min": 0.0, "guardrail_max": 1.0,
                            "trigger_down": 0.05, "auto_rebalance": False, "rebalance_ratio": 5.0})
    rules = PortfolioRules(initial_capital=1_000.0, cash_pool=True, pool_cap=0.01)
    pf = simulate_portfolio([PortfolioCell("A", prices, cfg, 0.5)], rules)
    assert pf.transfers.set_index("cell")["amount"].to_dict() == {"A": pytest.approx(10.0),  # 1 % of 1 000
                                                                   POOL: pytest.approx(-10.0)}
    assert pf.timeline["pool"].iloc[-1] == pytest.approx(490.0)
    assert pf.cells["A"].timeline["cash"].iloc[-1] >= 0.0


def test_bad_portfolios_are_refused_with_what_to_do():
    p = daily([1, 2, 3])
    with pytest.raises(ConfigError, match=r"add up to 90\.00 %.*cash pool"):
        simulate_portfolio([PortfolioCell("A", p, weight=0.5), PortfolioCell("B", p, weight=0.4)])
    with pytest.raises(ConfigError, match="unique"):
        simulate_portfolio([PortfolioCell("A", p, weight=0.5), PortfolioCell("A", p, weight=0.5)])
    with pytest.raises(ConfigError, match="at least one cell"):
        simulate_portfolio([])
    with pytest.raises(DataError, match="do not overlap"):
        simulate_portfolio([PortfolioCell("A", daily([1, 2]), weight=0.5),
                            PortfolioCell("B", daily([1, 2], start="2025-01-02"), weight=0.5)])
    with pytest.raises(ConfigError, match="reallocation must be one of"):
        PortfolioRules(reallocation="weekly")
    with pytest.raises(ConfigError, match="pool_cap must be in"):
        PortfolioRules(pool_cap=1.5)


@st.composite
def _portfolios(draw):
    n = draw(st.integers(10, 60))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    k = draw(st.integers(1, 3))
    cells = []
    for j in range(k):
        closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.04, n)))
        cfg = StrategyConfig(
            initial_stock_share=float(rng.uniform(0.2, 1.0)), guardrail_min=0.0, guardrail_max=1.0,
            trigger_up=float(rng.uniform(0.01, 0.08)), trigger_down=float(rng.uniform(0.01, 0.08)),
            commission_rate=float(rng.choice([0.0, 0.001])), commission_min=float(rng.choice([0.0, 1.0])),
            slippage_bps=float(rng.choice([0.0, 5.0])), min_notional=0.0,
            fractional_shares=bool(rng.integers(0, 2)),
        )
        cells.append(PortfolioCell(f"c{j}", pd.DataFrame({"close": closes}, index=pd.bdate_range("2024-01-02",
                                                                                                  periods=n)),
                                   cfg, 0.8 / k))
    rules = PortfolioRules(initial_capital=float(rng.choice([10_000.0, 1_000_000.0])), cash_pool=True,
                           pool_cap=float(rng.uniform(0.0, 0.2)),
                           reallocation=draw(st.sampled_from(["none", "monthly", "band"])), reallocation_band=0.02)
    return cells, rules


@given(_portfolios())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_invariants_no_negative_cash_or_shares_pool_within_its_rules_value_conserved_except_costs(case):
    cells, rules = case
    pf = simulate_portfolio(cells, rules)
    for r in pf.cells.values():
        assert (r.timeline["cash"] >= -1e-9).all() and (r.timeline["shares"] >= -1e-12).all()
    assert (pf.timeline["pool"] >= -1e-6).all()
    cap = rules.pool_cap * rules.initial_capital
    draws = pf.transfers[(pf.transfers["kind"] == "draw") & (pf.transfers["cell"] != POOL)]
    assert (draws["amount"] <= cap + 1e-6).all()
    # Every transfer nets to zero across cells and pool at its bar, so the portfolio's value equals the cells' plus
    # the pool's at every bar, and changes only by prices, dividends and costs.
    per_bar = pf.transfers.groupby("timestamp")["amount"].sum()
    assert (per_bar.abs() < 1e-6 * rules.initial_capital).all()
    np.testing.assert_allclose(pf.cell_values.sum(axis=1), pf.equity, rtol=1e-12)
    assert pf.contributions["profit"].sum() == pytest.approx(pf.equity.iloc[-1] - rules.initial_capital,
                                                             abs=1e-6 * rules.initial_capital)
    assert set(pf.allocation.columns) == {c.name for c in cells} | {POOL}


def test_the_portfolio_is_part_of_the_cores_public_contract():
    import core

    assert core.simulate_portfolio is simulate_portfolio and core.PortfolioCell is PortfolioCell
