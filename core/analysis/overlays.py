"""Statistical overlays of a value series (pure; the figures in :mod:`core.figures_overlays` draw them).

- a simple moving average over ``window`` bars;
- a trend line: the least-squares fit of ``log V`` on time, so its slope is a constant growth rate, reported per
  year (``exp(b · 365.25 days) − 1``);
- a rolling band: the moving average ± ``k`` rolling standard deviations of the value.

Each returns plain pandas objects indexed like the input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.metrics import drawdown_series

SECONDS_PER_YEAR = 365.25 * 24 * 3600


def moving_average(values: pd.Series, window: int) -> pd.Series:
    """The mean of the last ``window`` values at each bar (NaN until there are ``window``)."""
    if window < 1:
        raise ValueError(f"a moving average needs a window of at least 1 bar, got {window}")
    return values.rolling(window, min_periods=window).mean()


@dataclass(frozen=True)
class TrendLine:
    """A log-linear trend ``V(t) = exp(a + b·t)`` (``t`` in seconds from the first bar) and its growth per year."""

    fitted: pd.Series
    growth_per_year: float  # a fraction: 0.08 means the trend grows 8 % a year

    @property
    def label(self) -> str:
        return f"Trend {self.growth_per_year * 100:+.2f} %/yr"


def trend_line(values: pd.Series) -> TrendLine:
    """The least-squares log-linear trend of a positive series (two bars at least)."""
    v = values.to_numpy(dtype=float)
    ok = np.isfinite(v) & (v > 0)
    if ok.sum() < 2:
        raise ValueError("a trend line needs at least two positive values")
    index = pd.DatetimeIndex(values.index)
    t = (index - index[0]).total_seconds().to_numpy()
    slope, intercept = np.polyfit(t[ok], np.log(v[ok]), 1)
    fitted = pd.Series(np.exp(intercept + slope * t), index=values.index, name="trend")
    return TrendLine(fitted, math.expm1(slope * SECONDS_PER_YEAR))


@dataclass(frozen=True)
class Band:
    """A rolling band: ``middle`` ± ``k`` rolling standard deviations."""

    middle: pd.Series
    lower: pd.Series
    upper: pd.Series
    k: float


def rolling_band(values: pd.Series, window: int, k: float = 2.0) -> Band:
    """The moving average ± ``k`` sample standard deviations over the last ``window`` bars."""
    if window < 2:
        raise ValueError(f"a rolling band needs a window of at least 2 bars, got {window}")
    middle = moving_average(values, window)
    spread = values.rolling(window, min_periods=window).std(ddof=1) * k
    return Band(middle, middle - spread, middle + spread, k)


@dataclass(frozen=True)
class DrawdownSpan:
    """The deepest drawdown of a series: from its peak to its trough, and the recovery (NaT if none)."""

    peak: pd.Timestamp
    trough: pd.Timestamp
    recovery: pd.Timestamp | None
    depth: float  # a fraction, ≤ 0


def deepest_drawdown(values: pd.Series) -> DrawdownSpan | None:
    """The deepest peak-to-trough fall of ``values`` (None when it never falls)."""
    v = values.to_numpy(dtype=float)
    if v.size < 2:
        return None
    peaks = np.maximum.accumulate(v)
    dd = drawdown_series(v)  # core.metrics' drawdown, so the depth reads as max_drawdown computes it
    trough = int(np.argmin(dd))
    if dd[trough] >= 0:
        return None
    peak = int(np.flatnonzero(v[: trough + 1] == peaks[trough])[-1])
    after = np.flatnonzero(v[trough:] >= peaks[trough])
    recovery = values.index[trough + int(after[0])] if after.size else None
    return DrawdownSpan(values.index[peak], values.index[trough], recovery, float(dd[trough]))
