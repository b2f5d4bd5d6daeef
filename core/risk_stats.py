"""Risk and comparison figures for the Risk, Robustness and Compare pages: pure functions, no UI, no storage.

All return figures work on daily value series as :func:`core.metrics.daily_equity` builds them (the starting
capital first, then one value per exchange-local date), with the conventions of :mod:`core.metrics`: simple
returns, ``ddof=1`` standard deviations, annualisation by ``periods_per_year``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.analysis.directions import METRIC_DIRECTION
from core.config import StrategyConfig
from core.metrics import conditional_value_at_risk, daily_risk_free, drawdown_periods, value_at_risk

# --- returns and rolling figures -------------------------------------------------------------------------------


def daily_returns(daily: pd.Series) -> pd.Series:
    """Simple returns of a daily value series, each indexed by the date it ends on (one fewer than values)."""
    values = daily.to_numpy(dtype=float)
    return pd.Series(values[1:] / values[:-1] - 1.0, index=daily.index[1:], name="return")


def rolling_risk(
    returns: pd.Series, window: int, risk_free_rate: float = 0.0, periods_per_year: int = 252
) -> pd.DataFrame:
    """Annualised rolling ``volatility`` and ``sharpe`` over ``window`` returns (NaN until the window is full,
    and Sharpe NaN where the window's returns do not vary)."""
    excess = returns - daily_risk_free(risk_free_rate, periods_per_year)
    roll = excess.rolling(window, min_periods=window)
    sd = roll.std(ddof=1)
    vol = returns.rolling(window, min_periods=window).std(ddof=1) * math.sqrt(periods_per_year)
    sharpe = (roll.mean() / sd.where(sd > 1e-15)) * math.sqrt(periods_per_year)
    return pd.DataFrame({"volatility": vol, "sharpe": sharpe})


def beta_correlation(strategy: pd.Series, stock: pd.Series) -> dict[str, float]:
    """``beta`` (cov / var of the stock, ``ddof=1``), ``correlation`` (Pearson) and ``n`` of the strategy's returns
    against the stock's, over the dates both have."""
    both = pd.concat([strategy.rename("s"), stock.rename("m")], axis=1, join="inner").dropna()
    n = len(both)
    if n < 2:
        return {"beta": np.nan, "correlation": np.nan, "n": float(n)}
    var = float(both["m"].var(ddof=1))
    cov = float(both["s"].cov(both["m"], ddof=1))
    sd_s = float(both["s"].std(ddof=1))
    beta = cov / var if var > 0 else np.nan
    corr = cov / math.sqrt(var) / sd_s if var > 0 and sd_s > 0 else np.nan
    return {"beta": beta, "correlation": corr, "n": float(n)}


def rolling_beta_correlation(strategy: pd.Series, stock: pd.Series, window: int) -> pd.DataFrame:
    """Rolling ``beta`` and ``correlation`` of the strategy's returns against the stock's over ``window`` dates."""
    both = pd.concat([strategy.rename("s"), stock.rename("m")], axis=1, join="inner")
    cov = both["s"].rolling(window, min_periods=window).cov(both["m"])
    var = both["m"].rolling(window, min_periods=window).var()
    corr = both["s"].rolling(window, min_periods=window).corr(both["m"])
    return pd.DataFrame({"beta": cov / var.where(var > 0), "correlation": corr})


def monthly_returns(daily: pd.Series) -> pd.DataFrame:
    """Compounded return of every calendar month: rows years, columns 1…12 (NaN where the series has no data)
    and ``year`` (the compounded return of that year's months)."""
    r = daily_returns(daily)
    idx = pd.DatetimeIndex(r.index)
    growth = (1.0 + r).groupby([idx.year, idx.month]).prod() - 1.0
    table = growth.unstack().reindex(columns=range(1, 13))
    yearly = (1.0 + r).groupby(idx.year).prod() - 1.0
    table["year"] = yearly
    table.index.name = "year"
    table.columns.name = None
    return table


def drawdown_table(daily: pd.Series, top: int = 10) -> pd.DataFrame:
    """The ``top`` deepest drawdowns of a daily value series (:func:`core.metrics.drawdown_periods`), deepest
    first, numbered from 1."""
    periods = drawdown_periods(daily) if len(daily) else pd.DataFrame()
    if periods.empty:
        return periods
    table = periods.sort_values("depth", kind="stable").head(top).reset_index(drop=True)
    table.index = pd.RangeIndex(1, len(table) + 1, name="rank")
    return table


def yearly_returns(dailies: Mapping[str, pd.Series]) -> pd.DataFrame:
    """Compounded return of every calendar year of each daily value series (a strategy and its benchmarks): rows
    years, one column per key of ``dailies``; the first year is measured from the series' first (starting) value,
    as :func:`monthly_returns` measures its first month."""
    columns = {}
    for key, daily in dailies.items():
        r = daily_returns(daily)
        columns[key] = (1.0 + r).groupby(pd.DatetimeIndex(r.index).year).prod() - 1.0
    table = pd.DataFrame(columns)
    table.index.name = "year"
    return table


def rolling_at_period_ends(
    strategy: pd.Series,
    benchmark: pd.Series,
    window: int,
    risk_free_rate: float = 0.0,
    periods_per_year: int = 252,
    period: str = "Y",
) -> pd.DataFrame:
    """Rolling ``volatility``, ``sharpe`` (:func:`rolling_risk`) and ``beta`` (:func:`rolling_beta_correlation`)
    over ``window`` returns, read at the last date of each calendar ``period`` (a pandas period alias: ``"Y"``
    years, ``"Q"`` quarters) and at the last date; rows whose window is not yet full are left out.

    A table of a few dates is what a printed report can hold of a series with thousands of points, and a period
    end is where a reader compares one year with the next.
    """
    if strategy.empty:
        return pd.DataFrame({"volatility": [], "sharpe": [], "beta": []}, index=pd.DatetimeIndex([], name="date"))
    risk = rolling_risk(strategy, window, risk_free_rate, periods_per_year)
    beta = rolling_beta_correlation(strategy, benchmark, window)["beta"].reindex(risk.index)
    table = risk.assign(beta=beta)
    dates = pd.DatetimeIndex(table.index)
    ends = pd.Series(dates, index=dates).groupby(dates.to_period(period)).max()
    picked = sorted({*ends.tolist(), dates[-1]})
    out = table.loc[picked].dropna(how="all")
    out.index = pd.DatetimeIndex(out.index, name="date")
    return out


@dataclass(frozen=True)
class RelativeFigures:
    """How a strategy's daily returns relate to a benchmark's, over the dates both have (empyrical's conventions,
    which :mod:`core.metrics` follows).

    ``alpha`` is annualised by compounding, ``(1 + mean(r − rf − β·(b − rf)))^K − 1``; ``beta`` is
    ``cov(r, b) / var(b)``; ``tracking_error`` is ``std(r − b, ddof=1)·√K`` and ``information_ratio`` the mean
    active return over its standard deviation, ``·√K``; ``up_capture`` (``down_capture``) is Morningstar's
    capture ratio on daily returns: over the days the benchmark rose (fell), the strategy's geometric mean daily
    return over the benchmark's (empyrical's ``up_capture`` with ``period="yearly"``, which annualises by 1).
    NaN where undefined.
    """

    alpha: float
    beta: float
    correlation: float
    tracking_error: float
    information_ratio: float
    up_capture: float
    down_capture: float
    n: int


def _geometric_mean(returns: np.ndarray) -> float:
    return float(np.prod(1.0 + returns)) ** (1.0 / returns.size) - 1.0


def _capture(strategy: np.ndarray, benchmark: np.ndarray) -> float:
    # Morningstar's capture ratio on daily returns: the per-day geometric mean return of each over the same days,
    # then their ratio (empyrical's capture annualises both first, which turns 0.7 % a day against 1.6 % into 0.1).
    if strategy.size == 0:
        return math.nan
    theirs = _geometric_mean(benchmark)
    return _geometric_mean(strategy) / theirs if theirs != 0 and math.isfinite(theirs) else math.nan


def relative_figures(
    strategy: pd.Series, benchmark: pd.Series, risk_free_rate: float = 0.0, periods_per_year: int = 252
) -> RelativeFigures:
    """Alpha, beta, correlation, tracking error, information ratio and up/down capture of the ``strategy``'s
    daily returns against the ``benchmark``'s (:class:`RelativeFigures`)."""
    both = pd.concat([strategy.rename("s"), benchmark.rename("b")], axis=1, join="inner").dropna()
    r, b = both["s"].to_numpy(dtype=float), both["b"].to_numpy(dtype=float)
    n = int(r.size)
    link = beta_correlation(both["s"], both["b"])
    beta = float(link["beta"])
    rf = daily_risk_free(risk_free_rate, periods_per_year)
    alpha = (1.0 + float(np.mean((r - rf) - beta * (b - rf)))) ** periods_per_year - 1.0 if n >= 2 else math.nan
    active = r - b
    sd = float(np.std(active, ddof=1)) if n >= 2 else math.nan
    tracking = sd * math.sqrt(periods_per_year)
    info = float(np.mean(active)) / sd * math.sqrt(periods_per_year) if sd > 0 else math.nan
    up, down = b > 0, b < 0
    return RelativeFigures(
        alpha=alpha if math.isfinite(alpha) else math.nan,
        beta=beta,
        correlation=float(link["correlation"]),
        tracking_error=tracking,
        information_ratio=info,
        up_capture=_capture(r[up], b[up]),
        down_capture=_capture(r[down], b[down]),
        n=n,
    )


@dataclass(frozen=True)
class ReturnDistribution:
    """The distribution of daily returns: moments, extremes, quartiles and upper percentiles, and historical VaR
    (the 5th and 1st percentiles) and CVaR at 95 % and 99 % (:func:`core.metrics.value_at_risk`,
    :func:`core.metrics.conditional_value_at_risk`). Returns are simple daily fractions; ``skew`` and ``kurtosis``
    (excess) are pandas' bias-corrected sample estimates."""

    n: int
    mean: float
    median: float
    std: float
    skew: float
    kurtosis: float
    best: float
    worst: float
    positive_share: float
    p25: float
    p75: float
    p95: float
    p99: float
    var_95: float
    cvar_95: float
    var_99: float
    cvar_99: float


def return_distribution(returns: pd.Series) -> ReturnDistribution:
    """The :class:`ReturnDistribution` of a return series (NaN figures for an empty one)."""
    r = returns.dropna().to_numpy(dtype=float)
    if r.size == 0:
        nan = math.nan
        return ReturnDistribution(0, *([nan] * 16))
    series = pd.Series(r)
    pct = np.percentile(r, [25, 75, 95, 99])
    return ReturnDistribution(
        n=int(r.size),
        mean=float(r.mean()),
        median=float(np.median(r)),
        std=float(np.std(r, ddof=1)) if r.size > 1 else math.nan,
        skew=float(series.skew()),
        kurtosis=float(series.kurt()),
        best=float(r.max()),
        worst=float(r.min()),
        positive_share=float((r > 0).mean()),
        p25=float(pct[0]),
        p75=float(pct[1]),
        p95=float(pct[2]),
        p99=float(pct[3]),
        var_95=value_at_risk(r, 0.05),
        cvar_95=conditional_value_at_risk(r, 0.05),
        var_99=value_at_risk(r, 0.01),
        cvar_99=conditional_value_at_risk(r, 0.01),
    )


# --- comparing runs --------------------------------------------------------------------------------------------


def metrics_side_by_side(metrics: Mapping[str, Mapping[str, Any]], names: Sequence[str]) -> pd.DataFrame:
    """Rows the metrics ``names``, one column per run (``metrics`` maps a run label to its metrics; missing or
    ``None`` values are NaN)."""
    data = {
        label: [float(m[n]) if m.get(n) is not None else np.nan for n in names] for label, m in metrics.items()
    }
    return pd.DataFrame(data, index=pd.Index(list(names), name="metric"), dtype=float)


def best_per_metric(table: pd.DataFrame) -> pd.Series:
    """For each row of :func:`metrics_side_by_side`, the column that is best by :data:`METRIC_DIRECTION` (ties: the
    first); metrics without a direction, or with no finite value, are left out."""
    best = {}
    for metric, row in table.iterrows():
        sign = METRIC_DIRECTION.get(str(metric))
        values = row.to_numpy(dtype=float) * (sign or 0)
        if sign is None or not np.isfinite(values).any():
            continue
        best[metric] = table.columns[int(np.nanargmax(np.where(np.isfinite(values), values, -np.inf)))]
    return pd.Series(best, dtype=object)


def config_differences(configs: Mapping[str, StrategyConfig | Mapping[str, Any]]) -> pd.DataFrame:
    """The settings that differ between runs: rows the differing fields (in the configuration's order), one column
    per run; empty when all runs share one configuration."""
    dicts = {label: c.to_dict() if isinstance(c, StrategyConfig) else dict(c) for label, c in configs.items()}
    fields: list[str] = []
    for d in dicts.values():
        fields.extend(k for k in d if k not in fields)
    differing = [f for f in fields if len({repr(d.get(f)) for d in dicts.values()}) > 1]
    return pd.DataFrame(
        {label: [d.get(f) for f in differing] for label, d in dicts.items()},
        index=pd.Index(differing, name="setting"),
        dtype=object,
    )


# --- a small grid around a configuration (walk-forward candidates, deflated Sharpe trials) ---------------------

GRID_FACTORS: tuple[float, ...] = (2 / 3, 1.0, 1.5)


def trigger_grid(config: StrategyConfig, factors: Sequence[float] = GRID_FACTORS) -> list[StrategyConfig]:
    """``config`` with its sell and buy triggers each scaled by every factor (3 × 3 = 9 candidates by default,
    ``config`` itself among them); combinations the configuration rules reject are left out."""
    base = config.to_dict()
    grid = []
    for up in factors:
        for down in factors:
            candidate = {
                **base,
                "trigger_up": round(config.trigger_up * up, 6),
                "trigger_down": round(config.trigger_down * down, 6),
            }
            try:
                grid.append(StrategyConfig.from_dict(candidate))
            except (ValueError, TypeError):
                continue
    return grid
