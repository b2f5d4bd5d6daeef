"""Exact numbers of core.trade_stats and core.risk_stats on small hand-made trades and value series."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core import StrategyConfig
from core.risk_stats import (
    best_per_metric,
    beta_correlation,
    config_differences,
    daily_returns,
    drawdown_table,
    metrics_side_by_side,
    monthly_returns,
    rolling_beta_correlation,
    rolling_risk,
    trigger_grid,
)
from core.trade_stats import (
    fees_by_month,
    holding_periods,
    order_kind_counts,
    sell_pnl,
    skipped_orders,
    trade_summary,
    trades_by,
)


@pytest.fixture
def trades() -> pd.DataFrame:
    """Buy 10 at 10 (fee 1), sell 4 at 12 (fee 0.5), buy 2 at 9 (fee 0.2), sell 7 at 9 (fee 0.7).

    Average cost 101 / 10 = 10.1 → first sell realises 48 − 0.5 − 40.4 = 7.1; then 6 shares cost 60.6, plus 2
    bought for 18.2 → 8 at 78.8 / 8 = 9.85 → second sell realises 63 − 0.7 − 68.95 = −6.65.
    """
    return pd.DataFrame(
        {
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-10", "2024-03-04"]),  # Mon Wed Wed Mon
            "kind": ["initial", "trigger", "trigger", "rebalance"],
            "side": ["BUY", "SELL", "BUY", "SELL"],
            "qty": [10.0, 4.0, 2.0, 7.0],
            "price": [10.0, 12.0, 9.0, 9.0],
            "notional": [100.0, 48.0, 18.0, 63.0],
            "commission": [1.0, 0.5, 0.2, 0.7],
        }
    )


def test_sell_pnl_against_the_average_cost(trades):
    sells = sell_pnl(trades)
    assert sells["pnl"].tolist() == pytest.approx([7.1, -6.65])
    assert sells["return"].tolist() == pytest.approx([7.1 / 40.4, -6.65 / 68.95])
    assert sells["kind"].tolist() == ["trigger", "rebalance"]


def test_holding_periods_first_in_first_out(trades):
    held = holding_periods(trades)
    # 4 shares of the 1 Jan lot after 2 days; then the 6 left of it (63 days, 2024 is a leap year) and 1 of the
    # 10 Jan lot (54 days).
    assert held["holding_days"].tolist() == pytest.approx([2.0, (6 * 63 + 54) / 7])
    assert held["oldest_days"].tolist() == [2.0, 63.0]
    assert held["qty"].tolist() == [4.0, 7.0]


def test_trade_summary(trades):
    s = trade_summary(trades)
    assert s["n_sells"] == 2
    assert s["win_rate"] == 0.5
    assert s["profit_factor"] == pytest.approx(7.1 / 6.65)
    assert s["realised_pnl"] == pytest.approx(0.45)
    assert s["mean_win"] == pytest.approx(7.1)
    assert s["mean_loss"] == pytest.approx(-6.65)
    assert s["median_holding_days"] == pytest.approx((2 + 432 / 7) / 2)


def test_trades_by_month_and_weekday_leave_out_the_initial_purchase(trades):
    months = trades_by(trades, "month")
    assert list(months.index) == ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    assert months.loc["Jan"].tolist() == [1, 1, 2]
    assert months.loc["Mar"].tolist() == [0, 1, 1]
    assert int(months["total"].sum()) == 3
    days = trades_by(trades, "weekday")
    assert list(days.index) == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]  # no weekend trade
    assert days.loc["Monday"].tolist() == [0, 1, 1]
    assert days.loc["Wednesday"].tolist() == [1, 1, 2]
    with pytest.raises(ValueError):
        trades_by(trades, "hour")


def test_order_kind_counts(trades):
    counts = order_kind_counts(trades)
    assert counts.loc["trigger"].tolist() == [1, 1, 2]
    assert counts.loc["rebalance"].tolist() == [0, 1, 1]


def test_fees_by_month_fills_quiet_months(trades):
    fees = fees_by_month(trades)
    assert list(fees.index) == list(pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]))
    assert fees["commission"].tolist() == pytest.approx([1.7, 0.0, 0.7])
    assert fees["cumulative"].tolist() == pytest.approx([1.7, 1.7, 2.4])


def test_skipped_orders_by_reason():
    timeline = pd.DataFrame({"skip_reason": ["", "below minimum", "", "below minimum", "max orders per day"]})
    table = skipped_orders(timeline)
    assert table.to_dict("list") == {"reason": ["below minimum", "max orders per day"], "count": [2, 1]}
    assert skipped_orders(pd.DataFrame({"skip_reason": ["", ""]})).empty


def series(values, dates) -> pd.Series:
    return pd.Series(values, index=pd.to_datetime(dates), dtype=float)


def test_daily_and_monthly_returns():
    daily = series([100, 110, 99, 108.9, 119.79], ["2024-01-30", "2024-01-31", "2024-02-01", "2024-02-02",
                                                  "2025-01-02"])
    assert daily_returns(daily).tolist() == pytest.approx([0.1, -0.1, 0.1, 0.1])
    table = monthly_returns(daily)
    assert list(table.index) == [2024, 2025]
    assert list(table.columns) == [*range(1, 13), "year"]
    assert table.loc[2024, 1] == pytest.approx(0.1)
    assert table.loc[2024, 2] == pytest.approx(0.9 * 1.1 - 1)
    assert table.loc[2025, 1] == pytest.approx(0.1)
    assert math.isnan(table.loc[2024, 3])
    assert table["year"].tolist() == pytest.approx([1.1 * 0.9 * 1.1 - 1, 0.1])


def test_rolling_risk():
    r = series([0.01, 0.03, 0.02], ["2024-01-01", "2024-01-02", "2024-01-03"])
    roll = rolling_risk(r, window=2)
    assert math.isnan(roll["volatility"].iloc[0]) and math.isnan(roll["sharpe"].iloc[0])
    assert roll["volatility"].iloc[1:].tolist() == pytest.approx([math.sqrt(0.0002 * 252), math.sqrt(0.00005 * 252)])
    assert roll["sharpe"].iloc[1:].tolist() == pytest.approx(
        [0.02 / math.sqrt(0.0002) * math.sqrt(252), 0.025 / math.sqrt(0.00005) * math.sqrt(252)]
    )


def test_beta_and_correlation_over_common_dates():
    stock = series([0.01, 0.02, 0.03, -0.01], ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"])
    strategy = 0.5 * stock + 0.001
    strategy[pd.Timestamp("2024-01-05")] = 0.9  # no stock return that day: left out
    out = beta_correlation(strategy, stock)
    assert out == {"beta": pytest.approx(0.5), "correlation": pytest.approx(1.0), "n": 4.0}
    rolling = rolling_beta_correlation(strategy, stock, window=3)
    assert rolling["beta"].iloc[2:4].tolist() == pytest.approx([0.5, 0.5])
    assert np.isnan(beta_correlation(strategy.iloc[:1], stock.iloc[:1])["beta"])


def test_drawdown_table_deepest_first():
    daily = series([100, 90, 95, 100, 80, 120], pd.date_range("2024-01-01", periods=6))
    table = drawdown_table(daily)
    assert table["depth"].tolist() == pytest.approx([-0.2, -0.1])
    assert table["days"].tolist() == [2.0, 3.0]
    assert list(table.index) == [1, 2]
    assert len(drawdown_table(daily, top=1)) == 1
    assert drawdown_table(series([1, 2, 3], pd.date_range("2024-01-01", periods=3))).empty


def test_metrics_side_by_side_and_best():
    table = metrics_side_by_side(
        {"a": {"sharpe": 1.0, "max_drawdown": -0.3, "n_trades": 10}, "b": {"sharpe": 2.0, "max_drawdown": -0.1,
                                                                          "n_trades": None}},
        ["sharpe", "max_drawdown", "n_trades", "not_a_metric"],
    )
    assert table.loc["sharpe"].tolist() == [1.0, 2.0]
    assert math.isnan(table.loc["n_trades", "b"])
    best = best_per_metric(table)
    # max_drawdown is negative: the shallower -0.1 is best; n_trades: fewer is better, only a has one
    assert best.to_dict() == {"sharpe": "b", "max_drawdown": "b", "n_trades": "a"}


def test_config_differences_in_configuration_order():
    diffs = config_differences(
        {"a": StrategyConfig(), "b": StrategyConfig(sizing="fixed_fraction", trigger_up=0.05)}
    )
    assert list(diffs.index) == ["trigger_up", "sizing"]
    assert diffs.loc["trigger_up"].tolist() == [0.03, 0.05]
    assert config_differences({"a": StrategyConfig(), "b": StrategyConfig()}).empty


def test_trigger_grid_scales_both_triggers():
    grid = trigger_grid(StrategyConfig())
    assert len(grid) == 9
    assert sorted({c.trigger_up for c in grid}) == [0.02, 0.03, 0.045]
    assert sorted({c.trigger_down for c in grid}) == [0.02, 0.03, 0.045]
    assert StrategyConfig() in grid
