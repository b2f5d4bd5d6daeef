"""quality_report finds what was planted, and nothing in a clean series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.data import QualityReport, load_sample, quality_report
from core.errors import DataError


def clean_daily(n: int = 120, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2021-01-04", periods=n, name="timestamp")
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    frame = pd.DataFrame({"close": close, "volume": rng.integers(1_000, 5_000, n).astype(float)}, index=index)
    frame.attrs["price_basis"] = "split_adjusted"
    return frame


def clean_intraday(days: int = 3, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    stamps = []
    for day in pd.bdate_range("2024-03-04", periods=days):
        stamps.extend(pd.date_range(day + pd.Timedelta("09:30:00"), day + pd.Timedelta("15:55:00"), freq="5min"))
    index = pd.DatetimeIndex(stamps, name="timestamp")
    close = 500 * np.exp(np.cumsum(rng.normal(0, 0.001, len(index))))
    return pd.DataFrame({"close": close, "volume": 1000.0}, index=index)


def test_clean_daily_series_has_no_findings():
    report = quality_report(clean_daily())
    assert isinstance(report, QualityReport)
    assert report.issues == []
    assert report.findings.empty
    assert list(report.to_frame().columns) == ["check", "timestamp", "until", "value", "detail"]
    s = report.summary
    assert (s["bars"], s["interval"], s["intraday"], s["price_basis"]) == (120, "1d", False, "split_adjusted")
    assert s["gaps"] == s["duplicate_days"] == s["zero_volume_bars"] == s["outliers"] == s["missing_sessions"] == 0
    assert "holiday" in s["missing_sessions_note"]


def test_planted_gap_missing_sessions_duplicate_outlier_and_zero_volume():
    prices = clean_daily()
    original = prices.index
    gap_days = prices.index[40:46]  # six weekdays without bars
    prices = prices.drop(gap_days)
    prices.loc[prices.index[70], "close"] *= 1.5  # a +40 % jump in a 1 % volatility series
    prices.loc[prices.index[10], "volume"] = 0.0
    prices.loc[prices.index[11], "volume"] = 0.0
    dup = prices.iloc[[20]]
    prices = pd.concat([prices, dup]).sort_index(kind="stable")
    before = prices.copy()

    report = quality_report(prices)

    pd.testing.assert_frame_equal(prices, before)  # pure: the input is untouched
    s = report.summary
    assert s["gaps"] == 1
    gap = report.findings[report.findings["check"] == "gap"].iloc[0]
    assert (gap["timestamp"], gap["until"], gap["value"]) == (original[39], original[46], 6)
    assert s["missing_sessions"] == 6
    assert set(report.findings.loc[report.findings["check"] == "missing_session", "timestamp"]) == set(gap_days)
    assert s["duplicate_days"] == 1
    assert report.findings.loc[report.findings["check"] == "duplicate", "timestamp"].iloc[0] == dup.index[0]
    assert s["zero_volume_bars"] == 2
    assert s["outliers"] == 1  # the jump; the fall back is judged against a window that now holds the jump
    outlier = report.findings[report.findings["check"] == "outlier"].iloc[0]
    assert outlier["value"] > 10
    text = "\n".join(report.issues)
    assert "1 gap(s) longer than 3 business days" in text
    assert "1 duplicate days" in text
    assert "2 bar(s) with zero volume" in text
    assert "outlier move(s) beyond 10σ" in text
    assert "6 missing session(s)" in text and "no holiday calendar" in text


def test_gap_threshold_is_configurable():
    prices = clean_daily().drop(pd.bdate_range("2021-02-01", periods=2))
    assert quality_report(prices).summary["gaps"] == 0
    assert quality_report(prices, max_gap_business_days=1).summary["gaps"] == 1


def test_intraday_gap_within_a_session_but_not_overnight():
    prices = clean_intraday()
    day2 = prices.index[prices.index.normalize() == pd.Timestamp("2024-03-05")]
    prices = prices.drop(day2[10:13])  # three 5-minute bars missing
    report = quality_report(prices)
    assert report.intraday and report.interval == "5m"
    gaps = report.findings[report.findings["check"] == "intraday_gap"]
    assert len(gaps) == 1
    assert gaps.iloc[0]["value"] == 3
    assert gaps.iloc[0]["timestamp"] == day2[9] and gaps.iloc[0]["until"] == day2[13]
    assert report.summary["missing_sessions"] == 0
    assert report.summary["gaps"] == 1


def test_unsorted_and_duplicate_timestamps_are_reported_not_raised():
    prices = clean_intraday(days=1)
    messy = pd.concat([prices.iloc[5:], prices.iloc[:5], prices.iloc[[3]]])
    report = quality_report(messy)
    assert report.summary["unsorted"] is True
    assert report.summary["duplicate_days"] == 1
    assert any("not in time order" in line for line in report.issues)


def test_price_basis_checks():
    prices = clean_daily()
    divs = pd.DataFrame({"ex_date": [pd.Timestamp("2021-02-01")], "amount": [0.5], "pay_date": [pd.NaT]})
    adjusted = quality_report(prices, divs, price_basis="dividend_adjusted")
    assert adjusted.price_basis == "dividend_adjusted"
    assert any("count them twice" in line for line in adjusted.issues)
    unknown = prices.copy()
    unknown.attrs = {}
    assert any("Price basis unknown" in line for line in quality_report(unknown).issues)
    outside = pd.DataFrame({"ex_date": [pd.Timestamp("2030-01-02")], "amount": [0.5]})
    report = quality_report(prices, outside)
    assert report.count("dividend") == 1
    assert report.summary["dividends"] == 1


def test_accepts_market_data_and_reads_real_samples():
    msft = quality_report(load_sample("MSFT"))
    assert msft.price_basis == "dividend_adjusted"
    assert msft.summary["zero_volume_bars"] == 1  # 2010-04-26 in the bundled file
    gaps = msft.findings[msft.findings["check"] == "gap"]
    assert gaps["timestamp"].tolist() == [pd.Timestamp("2001-09-10")]  # the 9/11 closure
    goog = quality_report(load_sample("GOOG"))
    assert goog.summary["gaps"] == 0 and goog.summary["outliers"] == 0
    assert 70 <= goog.summary["missing_sessions"] <= 90  # about nine holidays a year


def test_summary_and_frame_are_copies():
    report = quality_report(clean_daily().drop(pd.bdate_range("2021-02-01", periods=1)))
    report.summary["bars"] = -1
    frame = report.to_frame()
    frame["value"] = -1.0
    assert report.summary["bars"] == 119
    assert report.to_frame()["value"].tolist() == [1.0]


def test_rejects_non_price_input():
    with pytest.raises(DataError):
        quality_report(pd.DataFrame({"close": [1.0, 2.0]}))
    with pytest.raises(DataError):
        quality_report(pd.DataFrame({"open": [1.0]}, index=pd.DatetimeIndex(["2020-01-02"])))
