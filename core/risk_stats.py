"""Risk and comparison figures for the Risk, Robustness and Compare pages: pure functions, no UI, no storage.

All return figures work on daily value series as :func:`core.metrics.daily_equity` builds them (the starting
capital first, then one value per exchange-local date), with the conventions of :mod:`core.metrics`: simple
returns, ``ddof=1`` standard deviations, annualisation by ``periods_per_year``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from core.analysis.directions import METRIC_DIRECTION
from core.config import StrategyConfig
from core.metrics import daily_risk_free, drawdown_periods

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
