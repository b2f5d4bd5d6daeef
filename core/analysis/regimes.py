"""Market regimes: label every day bull, bear or sideways and high or low volatility, then judge a configuration
per regime against buy-and-hold.

Default thresholds (all configurable, all backward-looking so a label never uses a later price):

* **trend** from the ``trend_window``-day (63, about a quarter) return ``close_t / close_{t−63} − 1``:
  above ``bull_threshold`` (+5 %) → ``bull``, below ``bear_threshold`` (−5 %) → ``bear``, otherwise ``sideways``.
  During the first 63 days the return since the first day is used.
* **volatility** from the ``vol_window``-day (21, about a month) standard deviation of daily log returns,
  annualised by √252: above its own rolling median over ``vol_median_window`` days (252, expanding at first) →
  ``high``, otherwise ``low``; or above a fixed annual ``vol_threshold`` (e.g. 0.25) when one is given.

Labels are per exchange-local calendar day (the last bar of each day for intraday data). ``regime`` joins both
("bull/high"). A daily return is attributed to the regime known at the previous close (``label_lag=1``), so a
large down day cannot put itself in the bear regime.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.bars import DEFAULT_TIMEZONE, local_wall_clock
from core.config import StrategyConfig
from core.engine import simulate
from core.metrics import daily_equity, max_drawdown, sharpe

TREND_LABELS = ("bull", "sideways", "bear")
VOL_LABELS = ("high", "low")


@dataclass(frozen=True)
class RegimeThresholds:
    """The labelling rules (defaults documented in the module docstring)."""

    trend_window: int = 63
    bull_threshold: float = 0.05
    bear_threshold: float = -0.05
    vol_window: int = 21
    vol_median_window: int = 252
    vol_threshold: float | None = None
    periods_per_year: int = 252


def _daily_close(prices: pd.DataFrame) -> pd.Series:
    tz = prices.attrs.get("timezone") or DEFAULT_TIMEZONE
    dates = local_wall_clock(pd.DatetimeIndex(prices.index), tz).normalize()
    cols = {str(c).lower(): c for c in prices.columns}
    close = pd.Series(prices[cols["close"]].to_numpy(dtype=float), index=dates)
    return close[~close.index.duplicated(keep="last")]


def label_regimes(prices: pd.DataFrame, thresholds: RegimeThresholds | None = None) -> pd.DataFrame:
    """One row per day: ``close``, ``trend_return``, ``volatility``, ``vol_reference``, ``trend``
    (bull/sideways/bear), ``vol_regime`` (high/low) and ``regime`` ("bull/high", …)."""
    t = thresholds or RegimeThresholds()
    if t.bear_threshold > t.bull_threshold:
        raise ValueError("bear_threshold must not exceed bull_threshold")
    close = _daily_close(prices)
    values = close.to_numpy()
    n = values.size
    back = np.maximum(np.arange(n) - t.trend_window, 0)
    trend_return = values / values[back] - 1.0
    log_r = np.diff(np.log(values), prepend=np.nan)
    vol = pd.Series(log_r).rolling(t.vol_window, min_periods=2).std(ddof=1) * np.sqrt(t.periods_per_year)
    vol = vol.bfill().fillna(0.0)  # the first day(s) borrow the first measurable volatility
    if t.vol_threshold is None:
        reference = vol.rolling(t.vol_median_window, min_periods=1).median()
    else:
        reference = pd.Series(np.full(n, float(t.vol_threshold)))
    trend = np.where(
        trend_return > t.bull_threshold, "bull", np.where(trend_return < t.bear_threshold, "bear", "sideways")
    )
    vol_regime = np.where(vol.to_numpy() > reference.to_numpy(), "high", "low")
    out = pd.DataFrame(
        {
            "close": values,
            "trend_return": trend_return,
            "volatility": vol.to_numpy(),
            "vol_reference": reference.to_numpy(),
            "trend": trend,
            "vol_regime": vol_regime,
        },
        index=close.index,
    )
    out["regime"] = out["trend"] + "/" + out["vol_regime"]
    out.index.name = "date"
    return out


def _stats(r: np.ndarray, periods_per_year: int, risk_free_rate: float) -> dict[str, float]:
    n = r.size
    if n == 0:
        return {"return": np.nan, "cagr": np.nan, "volatility": np.nan, "sharpe": np.nan, "max_drawdown": np.nan}
    growth = np.concatenate([[1.0], np.cumprod(1.0 + r)])
    total = float(growth[-1] - 1.0)
    return {
        "return": total,
        "cagr": float((1.0 + total) ** (periods_per_year / n) - 1.0),
        "volatility": float(np.std(r, ddof=1) * np.sqrt(periods_per_year)) if n > 1 else np.nan,
        "sharpe": sharpe(r, risk_free_rate, periods_per_year),
        "max_drawdown": max_drawdown(growth),
    }


@dataclass(frozen=True)
class RegimeAnalysis:
    """``labels``: :func:`label_regimes`' frame. ``metrics``: one row per (``dimension``, ``regime``) — dimension
    ``all``, ``trend``, ``volatility`` or ``regime`` — with ``n_days``, ``share`` of days, and for the strategy
    and buy-and-hold the compounded ``return`` over the regime's days, its annualised ``cagr``, ``volatility``,
    ``sharpe`` and ``max_drawdown`` (of the regime's days chained together), plus ``excess_return`` (strategy −
    buy-and-hold)."""

    labels: pd.DataFrame
    metrics: pd.DataFrame


def regime_metrics(
    prices: pd.DataFrame,
    config: StrategyConfig | None = None,
    dividends: pd.DataFrame | None = None,
    thresholds: RegimeThresholds | None = None,
    labels: pd.DataFrame | None = None,
    label_lag: int = 1,
) -> RegimeAnalysis:
    """Metrics of ``config`` per regime beside buy-and-hold's (one full simulation; daily returns split by label).

    ``labels`` may be given (a frame like :func:`label_regimes` returns, indexed by date); otherwise they are
    computed with ``thresholds``. ``label_lag`` is the number of days between a label and the return it claims.
    """
    cfg = config or StrategyConfig()
    run = simulate(prices, cfg, dividends)
    tz = prices.attrs.get("timezone") or DEFAULT_TIMEZONE
    lab = labels if labels is not None else label_regimes(prices, thresholds)
    strat = run.daily_equity.to_numpy(dtype=float)
    bench = daily_equity(run.benchmarks["buy_and_hold"], cfg.initial_capital, tz).to_numpy(dtype=float)
    r_s, r_b = strat[1:] / strat[:-1] - 1.0, bench[1:] / bench[:-1] - 1.0
    # Return j ends on the j-th date (the first one runs from the starting capital to the first close).
    dates = run.daily_equity.index[1:]
    aligned = lab.reindex(dates)
    pos = np.maximum(np.arange(len(dates)) - label_lag, 0)
    rows = []
    dims = {"all": np.full(len(dates), "all"), "trend": aligned["trend"].to_numpy()[pos],
            "volatility": aligned["vol_regime"].to_numpy()[pos], "regime": aligned["regime"].to_numpy()[pos]}
    order = {"all": ["all"], "trend": list(TREND_LABELS), "volatility": list(VOL_LABELS),
             "regime": [f"{a}/{b}" for a in TREND_LABELS for b in VOL_LABELS]}
    for dim, keys in dims.items():
        for name in order[dim]:
            mask = keys == name
            s = _stats(r_s[mask], cfg.periods_per_year, cfg.risk_free_rate)
            b = _stats(r_b[mask], cfg.periods_per_year, cfg.risk_free_rate)
            row = {"dimension": dim, "regime": name, "n_days": int(mask.sum()), "share": float(mask.mean())}
            row.update({f"strategy_{k}": v for k, v in s.items()})
            row.update({f"buy_hold_{k}": v for k, v in b.items()})
            row["excess_return"] = s["return"] - b["return"]
            rows.append(row)
    return RegimeAnalysis(labels=lab, metrics=pd.DataFrame(rows))
