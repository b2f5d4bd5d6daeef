"""Performance metrics (docs/strategy.md §7) as pure functions of a daily equity series.

Conventions are empyrical's: simple daily returns, ``ddof=1`` standard deviations, annualisation by
``periods_per_year``. Undefined or infinite figures are ``NaN``, never an exception or ±inf. These functions are
the reference the Numba kernel's streaming metrics are tested against, and the building blocks of the app's risk
tables (rolling figures, drawdown periods).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from core.bars import DEFAULT_TIMEZONE, local_wall_clock

NAN = float("nan")


def daily_equity(equity: pd.Series, initial_capital: float, timezone: str = DEFAULT_TIMEZONE) -> pd.Series:
    """The daily series of docs/strategy.md §7: ``initial_capital``, then the last value of each exchange-local
    calendar date.

    The index holds the dates (midnight); the prepended starting value carries the first bar's date.
    """
    local = local_wall_clock(pd.DatetimeIndex(equity.index), timezone)
    dates = local.normalize()
    last = pd.Series(equity.to_numpy(dtype=float), index=dates)
    last = last[~last.index.duplicated(keep="last")]
    start = pd.Series([float(initial_capital)], index=dates[:1])
    return pd.concat([start, last])


def time_weighted_daily(
    equity: pd.Series, moved_in: pd.Series, initial_capital: float, timezone: str = DEFAULT_TIMEZONE
) -> pd.Series:
    """The daily series of :func:`daily_equity` for an account that money is moved into and out of
    (docs/strategy.md §12.5): ``initial_capital`` compounded by each day's return ``(W_t − F_t) / W_{t−1} − 1``,
    where ``F_t`` is the value moved in on that date (negative when moved out). Without transfers it equals
    :func:`daily_equity`.
    """
    values = daily_equity(equity, initial_capital, timezone)
    local = local_wall_clock(pd.DatetimeIndex(moved_in.index), timezone)
    per_date = pd.Series(moved_in.to_numpy(dtype=float), index=local.normalize()).groupby(level=0).sum()
    w = values.to_numpy()
    f = np.zeros_like(w)
    f[1:] = per_date.reindex(values.index[1:]).fillna(0.0).to_numpy()
    growth = np.ones_like(w)
    growth[1:] = (w[1:] - f[1:]) / w[:-1]
    return pd.Series(float(initial_capital) * np.cumprod(growth), index=values.index)


def simple_returns(values: np.ndarray | pd.Series) -> np.ndarray:
    """Simple returns ``W[t]/W[t-1] - 1`` of a value series."""
    w = np.asarray(values, dtype=float)
    return w[1:] / w[:-1] - 1.0


def daily_risk_free(risk_free_rate: float, periods_per_year: int) -> float:
    """The per-period rate equivalent to an annual ``risk_free_rate``."""
    return (1.0 + risk_free_rate) ** (1.0 / periods_per_year) - 1.0


def _dispersion(r: np.ndarray) -> float:
    # All-equal returns have zero dispersion even where np.std would leave a rounding residue.
    if r.size < 2:
        return NAN
    if np.all(r == r[0]):
        return 0.0
    return float(np.std(r, ddof=1))


def total_return(final_value: float, initial_capital: float) -> float:
    """``V_end / initial_capital - 1``."""
    return final_value / initial_capital - 1.0


def cagr(total: float, n_periods: int, periods_per_year: int = 252) -> float:
    """Compound annual growth ``(1 + total)^(K/N) - 1``."""
    if n_periods <= 0:
        return NAN
    return (1.0 + total) ** (periods_per_year / n_periods) - 1.0


def volatility(r: np.ndarray, periods_per_year: int = 252) -> float:
    """Annualised standard deviation of returns (``ddof=1``); NaN with fewer than two returns."""
    return _dispersion(np.asarray(r, dtype=float)) * math.sqrt(periods_per_year)


def sharpe(r: np.ndarray, risk_free_rate: float = 0.0, periods_per_year: int = 252) -> float:
    """Annualised Sharpe ratio of excess returns; NaN when their dispersion is zero."""
    ex = np.asarray(r, dtype=float) - daily_risk_free(risk_free_rate, periods_per_year)
    sd = _dispersion(ex)
    if not sd > 0:
        return NAN
    return float(np.mean(ex) / sd * math.sqrt(periods_per_year))


def downside_risk(r: np.ndarray, risk_free_rate: float = 0.0, periods_per_year: int = 252) -> float:
    """Annualised root-mean-square of the negative excess returns (zero where none is negative)."""
    ex = np.asarray(r, dtype=float) - daily_risk_free(risk_free_rate, periods_per_year)
    if ex.size == 0:
        return NAN
    down = np.minimum(ex, 0.0)
    return float(np.sqrt(np.mean(down * down)) * math.sqrt(periods_per_year))


def sortino(r: np.ndarray, risk_free_rate: float = 0.0, periods_per_year: int = 252) -> float:
    """Annualised Sortino ratio; NaN without a downside return or with fewer than two returns."""
    ex = np.asarray(r, dtype=float) - daily_risk_free(risk_free_rate, periods_per_year)
    if ex.size < 2:
        return NAN
    dr = downside_risk(r, risk_free_rate, periods_per_year)
    if not dr > 0:
        return NAN
    return float(np.mean(ex) * periods_per_year / dr)


def drawdown_series(values: np.ndarray | pd.Series) -> np.ndarray:
    """``(W - cummax W) / cummax W`` at every point (zero or negative)."""
    w = np.asarray(values, dtype=float)
    peak = np.maximum.accumulate(w)
    return (w - peak) / peak


def max_drawdown(values: np.ndarray | pd.Series) -> float:
    """Most negative drawdown of a value series (a negative fraction); 0.0 if it never falls."""
    dd = drawdown_series(values)
    return float(min(dd.min(), 0.0)) if dd.size else 0.0


def drawdown_periods(daily: pd.Series) -> pd.DataFrame:
    """Every drawdown of a dated value series: peak date, trough date and depth, recovery date, length in days.

    A drawdown runs from the last date at a peak to the first date back at or above it (or the last date, when it
    has not recovered; ``recovered`` is then False).
    """
    w = daily.to_numpy(dtype=float)
    dates = pd.DatetimeIndex(daily.index)
    rows = []
    peak, peak_i, trough_i, open_ = w[0], 0, 0, False
    for i in range(1, len(w)):
        if w[i] >= peak:
            if open_:
                rows.append((peak_i, trough_i, i, True))
                open_ = False
            peak, peak_i = w[i], i
        elif not open_:
            open_, trough_i = True, i
        elif w[i] < w[trough_i]:
            trough_i = i
    if open_:
        rows.append((peak_i, trough_i, len(w) - 1, False))
    return pd.DataFrame(
        {
            "peak_date": [dates[a] for a, _, _, _ in rows],
            "trough_date": [dates[b] for _, b, _, _ in rows],
            "end_date": [dates[c] for _, _, c, _ in rows],
            "depth": [(w[b] - w[a]) / w[a] for a, b, _, _ in rows],
            "days": [float((dates[c] - dates[a]).days) for a, _, c, _ in rows],
            "recovered": [ok for _, _, _, ok in rows],
        }
    )


def max_drawdown_days(daily: pd.Series) -> float:
    """Longest drawdown in calendar days (docs/strategy.md §7); 0.0 when the series never falls.

    A drawdown lasts from the last point at a peak to the first point back at or above it, or to the last date.
    """
    w = daily.to_numpy(dtype=float)
    days = pd.DatetimeIndex(daily.index).as_unit("s").asi8 // 86_400
    at_peak = w >= np.maximum.accumulate(w)
    last_peak = np.maximum.accumulate(np.where(at_peak, np.arange(w.size), 0))
    recovered = np.flatnonzero(at_peak[1:] & ~at_peak[:-1]) + 1
    lengths = [days[recovered] - days[last_peak[recovered - 1]]]
    if not at_peak[-1]:
        lengths.append(days[-1:] - days[last_peak[-1:]])
    longest = np.concatenate(lengths)
    return float(longest.max()) if longest.size else 0.0


def calmar(cagr_value: float, max_drawdown_value: float) -> float:
    """``cagr / |max_drawdown|``; NaN without a drawdown."""
    if not max_drawdown_value < 0:
        return NAN
    return cagr_value / abs(max_drawdown_value)


def value_at_risk(r: np.ndarray, level: float = 0.05) -> float:
    """Historical VaR: the ``level`` percentile of returns, linear interpolation."""
    r = np.asarray(r, dtype=float)
    return float(np.percentile(r, level * 100)) if r.size else NAN


def conditional_value_at_risk(r: np.ndarray, level: float = 0.05) -> float:
    """Mean of all returns at or below the VaR."""
    r = np.asarray(r, dtype=float)
    if r.size == 0:
        return NAN
    var = value_at_risk(r, level)
    return float(np.mean(r[r <= var]))


def performance_metrics(
    daily: pd.Series, initial_capital: float, risk_free_rate: float = 0.0, periods_per_year: int = 252
) -> dict[str, float]:
    """Return and risk figures of docs/strategy.md §7 from a daily value series that starts with ``initial_capital``."""
    w = daily.to_numpy(dtype=float)
    r = simple_returns(w)
    tr = total_return(w[-1], initial_capital)
    growth = cagr(tr, r.size, periods_per_year)
    mdd = max_drawdown(w)
    return {
        "total_return": tr,
        "cagr": growth,
        "volatility": volatility(r, periods_per_year),
        "sharpe": sharpe(r, risk_free_rate, periods_per_year),
        "sortino": sortino(r, risk_free_rate, periods_per_year),
        "max_drawdown": mdd,
        "max_drawdown_days": max_drawdown_days(daily),
        "calmar": calmar(growth, mdd),
        "var_95": value_at_risk(r),
        "cvar_95": conditional_value_at_risk(r),
    }


def realised_pnl(trades: pd.DataFrame) -> pd.Series:
    """Realised P&L of every sell against the average cost (buy commissions included), indexed like ``trades``.

    A sell realises ``notional - fee - qty·avg_cost``; the average cost is unchanged by a sell.
    """
    shares = 0.0
    cost = 0.0
    out = {}
    for idx, side, qty, notional, fee in zip(
        trades.index, trades["side"], trades["qty"], trades["notional"], trades["commission"], strict=True
    ):
        if side == "BUY":
            shares += qty
            cost += notional + fee
        else:
            avg = cost / shares if shares > 0 else 0.0
            out[idx] = notional - fee - qty * avg
            cost -= qty * avg
            shares -= qty
            if shares <= 0:
                shares, cost = 0.0, 0.0
    return pd.Series(out, dtype=float)


def win_rate(pnl: pd.Series) -> float:
    """Share of sells with a strictly positive P&L; NaN without sells."""
    return float((pnl > 0).mean()) if len(pnl) else NAN


def profit_factor(pnl: pd.Series) -> float:
    """Sum of gains over the absolute sum of losses; NaN without a losing sell."""
    losses = -pnl[pnl < 0].sum()
    if not losses > 0:
        return NAN
    return float(pnl[pnl > 0].sum() / losses)
