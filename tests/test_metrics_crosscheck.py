"""core.metrics against empyrical-reloaded (an independent implementation, pinned, test-only) to 1e-9."""

from __future__ import annotations

import math

import empyrical
import numpy as np
import pandas as pd
import pytest

from core import metrics as M
from core import simulate

K = 252


def _returns(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # Continuous draws: no ties at the 5th percentile, where CVaR conventions differ.
    return rng.normal(0.0004, float(rng.uniform(0.005, 0.03)), n)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-15)


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("rf", [0.0, 0.03])
def test_risk_metrics_match_empyrical(seed, rf):
    r = _returns(seed, int(np.random.default_rng(seed).integers(20, 3000)))
    rf_d = M.daily_risk_free(rf, K)
    assert _close(M.sharpe(r, rf, K), empyrical.sharpe_ratio(r, risk_free=rf_d, annualization=K))
    assert _close(M.sortino(r, rf, K), empyrical.sortino_ratio(r, required_return=rf_d, annualization=K))
    assert _close(M.volatility(r, K), empyrical.annual_volatility(r, annualization=K))
    values = 10_000 * np.r_[1.0, np.cumprod(1 + r)]
    total = M.total_return(values[-1], 10_000)
    assert _close(M.cagr(total, r.size, K), empyrical.annual_return(r, annualization=K))
    assert _close(M.max_drawdown(values), empyrical.max_drawdown(r))
    assert _close(M.value_at_risk(r), empyrical.value_at_risk(r, cutoff=0.05))
    assert _close(M.conditional_value_at_risk(r), empyrical.conditional_value_at_risk(r, cutoff=0.05))
    assert _close(M.calmar(M.cagr(total, r.size, K), M.max_drawdown(values)), empyrical.calmar_ratio(r))


@pytest.mark.parametrize("seed", range(10))
def test_simulated_strategy_metrics_match_empyrical_on_its_daily_series(seed):
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, 800)))
    prices = pd.DataFrame({"close": close}, index=pd.bdate_range("2010-01-04", periods=800))
    res = simulate(prices)
    r = res.daily_equity.pct_change().dropna().to_numpy()
    m = res.metrics
    assert _close(m["sharpe"], empyrical.sharpe_ratio(r, annualization=K))
    assert _close(m["sortino"], empyrical.sortino_ratio(r, annualization=K))
    assert _close(m["volatility"], empyrical.annual_volatility(r, annualization=K))
    assert _close(m["cagr"], empyrical.annual_return(r, annualization=K))
    assert _close(m["max_drawdown"], empyrical.max_drawdown(r))
    assert _close(m["var_95"], empyrical.value_at_risk(r))
    assert _close(m["cvar_95"], empyrical.conditional_value_at_risk(r))


def test_undefined_figures_are_nan_not_errors():
    flat = np.full(30, 0.001)  # all equal: zero dispersion despite float residue, no downside
    assert M.volatility(flat) == 0.0
    assert math.isnan(M.sharpe(flat))
    assert math.isnan(M.sortino(flat))
    values = 100 * np.r_[1.0, np.cumprod(1 + flat)]
    assert M.max_drawdown(values) == 0.0
    assert math.isnan(M.calmar(0.1, 0.0))


def test_flat_prices_give_nan_ratios_and_zero_drawdown():
    prices = pd.DataFrame({"close": [100.0] * 10}, index=pd.bdate_range("2020-01-01", periods=10))
    m = simulate(prices, {"commission_rate": 0.0}).metrics
    assert m["max_drawdown"] == 0.0 and m["max_drawdown_days"] == 0.0
    assert math.isnan(m["sharpe"]) and math.isnan(m["sortino"]) and math.isnan(m["calmar"])
    assert math.isnan(m["win_rate"]) and math.isnan(m["profit_factor"])


def test_max_drawdown_days_counts_calendar_days_from_the_last_peak():
    idx = pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-06", "2020-01-10", "2020-01-20", "2020-01-25"])
    daily = pd.Series([100, 110, 105, 110, 90, 95], index=idx)
    # Peak 110 on 01-02, back at 110 on 01-10 (8 days); peak 110 on 01-10 never recovered by 01-25 (15 days).
    assert M.max_drawdown_days(daily) == 15.0
    periods = M.drawdown_periods(daily)
    assert list(periods["days"]) == [8.0, 15.0]
    assert list(periods["recovered"]) == [True, False]
    assert periods["depth"].iloc[1] == pytest.approx(90 / 110 - 1)


def test_intraday_equity_is_reduced_to_one_value_per_date():
    idx = pd.to_datetime(["2020-01-02 10:00", "2020-01-02 15:00", "2020-01-03 10:00", "2020-01-03 18:00"])
    daily = M.daily_equity(pd.Series([101.0, 102.0, 99.0, 98.0], index=idx), 100.0)
    assert list(daily) == [100.0, 102.0, 98.0]
    assert list(daily.index) == list(pd.to_datetime(["2020-01-02", "2020-01-02", "2020-01-03"]))


def test_win_rate_and_profit_factor_use_average_cost_with_commissions():
    trades = pd.DataFrame(
        {
            "side": ["BUY", "BUY", "SELL", "SELL"],
            "qty": [10.0, 10.0, 5.0, 5.0],
            "notional": [1000.0, 1200.0, 600.0, 500.0],
            "commission": [10.0, 10.0, 5.0, 5.0],
        }
    )
    pnl = M.realised_pnl(trades)
    avg = (1000 + 10 + 1200 + 10) / 20  # 111.0
    assert list(pnl) == pytest.approx([600 - 5 - 5 * avg, 500 - 5 - 5 * avg])
    assert M.win_rate(pnl) == 0.5
    assert M.profit_factor(pnl) == pytest.approx(40.0 / 60.0)
