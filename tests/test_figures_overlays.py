"""Chart overlays and legibility (issue: charts with overlays): moving averages, a log-linear trend with its growth
per year, a rolling ± kσ band, the largest drawdown and best/worst trades annotated, trade markers thinned past a
few hundred with the full list a legend click away, date ticks that suit the span, titles on exported images."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core import StrategyConfig, simulate
from core.analysis.overlays import deepest_drawdown, moving_average, rolling_band, trend_line
from core.data.samples import load_sample
from core.figures import MAX_TRADE_MARKERS, Overlays, equity_figure, price_anchor_figure, thin_trades, with_title


def _series(values, start="2024-01-01", freq="D"):
    return pd.Series([float(v) for v in values], index=pd.date_range(start, periods=len(values), freq=freq))


def test_moving_average_and_band_follow_their_formulas():
    s = _series([1, 2, 3, 4, 6])
    np.testing.assert_allclose(moving_average(s, 3).to_numpy()[2:], [2.0, 3.0, 13 / 3])
    band = rolling_band(s, 3, k=2.0)
    sd = np.std([2, 3, 4], ddof=1)
    assert band.upper.iloc[3] == pytest.approx(3 + 2 * sd) and band.lower.iloc[3] == pytest.approx(3 - 2 * sd)
    assert math.isnan(band.middle.iloc[1])
    with pytest.raises(ValueError, match="window"):
        moving_average(s, 0)


def test_trend_line_recovers_a_constant_growth_rate():
    days = np.arange(0, 3 * 365)
    s = pd.Series(100 * 1.1 ** (days / 365.25), index=pd.Timestamp("2020-01-01") + pd.to_timedelta(days, "D"))
    trend = trend_line(s)
    assert trend.growth_per_year == pytest.approx(0.10, rel=1e-9)
    np.testing.assert_allclose(trend.fitted.to_numpy(), s.to_numpy(), rtol=1e-9)
    assert trend.label == "Trend +10.00 %/yr"


def test_deepest_drawdown_spans_peak_trough_and_recovery():
    s = _series([100, 120, 90, 60, 100, 125, 110])
    span = deepest_drawdown(s)
    assert (span.peak, span.trough, span.recovery) == (s.index[1], s.index[3], s.index[5])
    assert span.depth == pytest.approx(60 / 120 - 1)
    assert deepest_drawdown(_series([1, 2, 3])) is None


def test_equity_overlays_and_annotations_are_drawn():
    md = load_sample("MSFT")
    result = simulate(md.prices.iloc[:800], StrategyConfig())
    fig = equity_figure(result.equity, result.benchmarks, log_scale=True, trades=result.trades,
                        overlays=Overlays(moving_averages=(50, 200), trend=True, band_window=60, annotate=True))
    names = [t.name for t in fig.data]
    assert {"MA 50", "MA 200"} <= set(names) and any(n.startswith("Trend ") for n in names)
    assert any("σ band" in (n or "") for n in names)
    texts = [a.text for a in fig.layout.annotations]
    assert any(t.startswith("Max drawdown") for t in texts)
    assert any(t.startswith("Best trade") for t in texts) and any(t.startswith("Worst trade") for t in texts)
    assert fig.layout.yaxis.type == "log"


def test_thousands_of_trade_markers_are_thinned_with_the_full_list_a_click_away():
    n = 2_000
    trades = pd.DataFrame({"timestamp": pd.date_range("2020-01-01", periods=n, freq="h"),
                           "side": ["BUY", "SELL"] * (n // 2), "price": np.linspace(10, 20, n),
                           "notional": np.arange(n, dtype=float), "reason": "r"})
    thinned = thin_trades(trades[trades["side"] == "BUY"], MAX_TRADE_MARKERS)
    assert len(thinned) <= MAX_TRADE_MARKERS and thinned.index.is_monotonic_increasing
    timeline = pd.DataFrame({"price": 15.0, "anchor": 15.0, "sell_trigger_price": 16.0, "buy_trigger_price": 14.0},
                            index=pd.date_range("2020-01-01", periods=n, freq="h"))
    fig = price_anchor_figure(timeline, trades)
    full = [t for t in fig.data if (t.name or "").startswith("All ")]
    assert [t.name for t in full] == ["All 1,000 buys", "All 1,000 sells"]
    assert all(t.visible == "legendonly" and len(t.x) == 1_000 for t in full)
    shown = [t for t in fig.data if "largest of" in (t.name or "")]
    assert len(shown) == 2 and all(len(t.x) <= MAX_TRADE_MARKERS for t in shown)


def test_a_short_chart_gets_several_date_ticks_and_an_export_title():
    s = _series(np.linspace(100, 110, 61), freq="B")
    fig = with_title(equity_figure(s), "Equity — GOOG 4 %", "run #7 · 2024-01-01 to 2024-03-25")
    assert fig.layout.xaxis.nticks >= 6
    formats = [stop.value for stop in fig.layout.xaxis.tickformatstops]
    assert "%d %b %Y" in formats and "%Y" in formats
    assert fig.layout.title.text.startswith("Equity — GOOG 4 %<br><sup>run #7")
