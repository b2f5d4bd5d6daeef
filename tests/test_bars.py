"""Exchange-local days and sessions (docs/strategy.md §2, §5.2, §7)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import simulate
from core.bars import local_wall_clock, prepare_bars


def test_aware_daily_bars_keep_their_own_dates():
    idx = pd.date_range("2024-01-02", periods=3, freq="B", tz="UTC")
    local = local_wall_clock(idx)
    assert list(local) == list(pd.date_range("2024-01-02", periods=3, freq="B"))
    bars = prepare_bars(pd.DataFrame({"close": [1.0, 2.0, 3.0]}, index=idx))
    assert not bars.is_intraday
    assert bars.in_session.all()


def test_aware_intraday_bars_are_converted_to_new_york_for_the_session():
    # 14:30 UTC is 09:30 in New York in winter (session open); 14:00 UTC is 09:00 (pre-market).
    idx = pd.DatetimeIndex(["2024-01-02 14:00", "2024-01-02 14:30", "2024-01-02 21:00"], tz="UTC")
    bars = prepare_bars(pd.DataFrame({"close": [1.0, 2.0, 3.0]}, index=idx))
    assert bars.is_intraday
    assert list(bars.in_session) == [False, True, False]
    assert len(set(bars.day.tolist())) == 1
    assert bars.n_days == 1


def test_a_dataset_can_name_another_exchange_timezone():
    idx = pd.DatetimeIndex(["2024-01-02 08:00", "2024-01-02 10:00"], tz="UTC")
    prices = pd.DataFrame({"close": [1.0, 2.0]}, index=idx)
    prices.attrs["timezone"] = "Europe/London"
    assert list(prepare_bars(prices).in_session) == [False, True]


def test_session_boundaries_are_09_30_inclusive_to_16_00_exclusive_mon_to_fri():
    idx = pd.DatetimeIndex(
        ["2024-01-05 09:29", "2024-01-05 09:30", "2024-01-05 15:59", "2024-01-05 16:00", "2024-01-06 10:00"]
    )
    bars = prepare_bars(pd.DataFrame({"close": np.ones(5)}, index=idx))
    assert list(bars.in_session) == [False, True, True, False, False]


def test_intraday_metrics_use_one_value_per_day_with_the_capital_prepended():
    idx = pd.DatetimeIndex(["2024-01-02 10:00", "2024-01-02 15:00", "2024-01-03 10:00", "2024-01-03 15:00"])
    res = simulate(pd.DataFrame({"close": [100.0, 101.0, 99.0, 102.0]}, index=idx), {"commission_rate": 0.0})
    assert len(res.daily_equity) == 3
    assert res.daily_equity.iloc[0] == 10_000.0
    assert res.daily_equity.iloc[-1] == res.equity.iloc[-1]
    assert res.daily_equity.iloc[1] == res.equity.iloc[1]
