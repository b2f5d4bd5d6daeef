"""Trade statistics for the Trade analysis page: pure functions of a backtest's ``trades`` and ``timeline`` frames.

Conventions: the initial purchase is a trade (it opens the first lot and pays a fee) but not an *order* the rules
placed, so it is left out of order counts and order sizes, as in ``result.metrics["n_trades"]``. Holding periods
are matched first in, first out: a sell consumes the oldest shares still held, and its holding period is the
share-weighted mean age of the shares it sold, in calendar days.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.metrics import profit_factor, realised_pnl, win_rate

WEEKDAYS: tuple[str, ...] = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS: tuple[str, ...] = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_EPS = 1e-12  # fractional shares: a lot smaller than this is used up


def orders(trades: pd.DataFrame) -> pd.DataFrame:
    """The trades the rules placed (trigger and rebalance orders), without the initial purchase."""
    return trades[trades["kind"] != "initial"]


def sell_pnl(trades: pd.DataFrame) -> pd.DataFrame:
    """One row per sell: ``timestamp``, ``kind``, ``qty``, ``price``, ``pnl`` (realised against the average cost,
    :func:`core.metrics.realised_pnl`) and ``return`` (``pnl`` over the cost of the shares sold)."""
    pnl = realised_pnl(trades)
    sells = trades.loc[pnl.index, ["timestamp", "kind", "qty", "price", "notional", "commission"]].copy()
    sells["pnl"] = pnl
    cost = sells["notional"] - sells["commission"] - sells["pnl"]  # qty x average cost
    sells["return"] = np.where(cost > 0, sells["pnl"] / cost.where(cost > 0, 1.0), np.nan)
    return sells.drop(columns=["notional", "commission"]).reset_index(drop=True)


def holding_periods(trades: pd.DataFrame) -> pd.DataFrame:
    """One row per sell: ``timestamp``, ``qty``, ``holding_days`` (share-weighted mean age of the shares sold,
    first in first out) and ``oldest_days`` (age of the oldest share sold). Ages are calendar days.

    Shares sold beyond those held (impossible in a backtest without short selling) are ignored.
    """
    lots: list[list] = []  # [timestamp, shares left], oldest first
    rows = []
    for ts, side, qty in zip(trades["timestamp"], trades["side"], trades["qty"], strict=True):
        ts = pd.Timestamp(ts)
        if side == "BUY":
            lots.append([ts, float(qty)])
            continue
        left, weighted, oldest = float(qty), 0.0, np.nan
        while left > _EPS and lots:
            lot_ts, lot_qty = lots[0]
            take = min(left, lot_qty)
            age = (ts - lot_ts) / pd.Timedelta(days=1)
            oldest = age if np.isnan(oldest) else oldest
            weighted += take * age
            left -= take
            lots[0][1] -= take
            if lots[0][1] <= _EPS:
                lots.pop(0)
        sold = float(qty) - max(left, 0.0)
        rows.append((ts, float(qty), weighted / sold if sold > _EPS else np.nan, oldest))
    return pd.DataFrame(rows, columns=["timestamp", "qty", "holding_days", "oldest_days"])


def trade_summary(trades: pd.DataFrame) -> dict[str, float]:
    """Headline figures of the sells: count, win rate, profit factor, total / mean win / mean loss of realised P&L
    and the median holding period in days (NaN where undefined)."""
    pnl = realised_pnl(trades)
    held = holding_periods(trades)["holding_days"].dropna()
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    return {
        "n_sells": float(len(pnl)),
        "win_rate": win_rate(pnl),
        "profit_factor": profit_factor(pnl),
        "realised_pnl": float(pnl.sum()),
        "mean_win": float(wins.mean()) if len(wins) else np.nan,
        "mean_loss": float(losses.mean()) if len(losses) else np.nan,
        "median_holding_days": float(held.median()) if len(held) else np.nan,
    }


@dataclass(frozen=True)
class PnlDistribution:
    """The distribution of realised P&L over the sells (:func:`sell_pnl`): counts, total, moments, extremes and
    percentiles in money, the mean return per sell, and the payoff ratio (mean win over the absolute mean loss).
    NaN where undefined (no sells, no losing sell)."""

    n_sells: int
    n_wins: int
    n_losses: int
    win_rate: float
    total: float
    mean: float
    median: float
    std: float
    best: float
    worst: float
    p05: float
    p25: float
    p75: float
    p95: float
    mean_win: float
    mean_loss: float
    payoff_ratio: float
    profit_factor: float
    mean_return: float
    median_holding_days: float


def pnl_distribution(trades: pd.DataFrame) -> PnlDistribution:
    """The :class:`PnlDistribution` of a backtest's sells; the headline figures are :func:`trade_summary`'s."""
    summary = trade_summary(trades)
    sells = sell_pnl(trades)
    pnl = sells["pnl"].to_numpy(dtype=float)
    n = int(pnl.size)
    pct = np.percentile(pnl, [5, 25, 75, 95]) if n else np.full(4, np.nan)
    mean_win, mean_loss = summary["mean_win"], summary["mean_loss"]
    payoff = mean_win / abs(mean_loss) if math.isfinite(mean_win) and math.isfinite(mean_loss) else math.nan
    returns = sells["return"].dropna()
    return PnlDistribution(
        n_sells=n,
        n_wins=int((pnl > 0).sum()),
        n_losses=int((pnl < 0).sum()),
        win_rate=summary["win_rate"],
        total=summary["realised_pnl"],
        mean=float(pnl.mean()) if n else math.nan,
        median=float(np.median(pnl)) if n else math.nan,
        std=float(np.std(pnl, ddof=1)) if n > 1 else math.nan,
        best=float(pnl.max()) if n else math.nan,
        worst=float(pnl.min()) if n else math.nan,
        p05=float(pct[0]),
        p25=float(pct[1]),
        p75=float(pct[2]),
        p95=float(pct[3]),
        mean_win=mean_win,
        mean_loss=mean_loss,
        payoff_ratio=payoff,
        profit_factor=summary["profit_factor"],
        mean_return=float(returns.mean()) if len(returns) else math.nan,
        median_holding_days=summary["median_holding_days"],
    )


def trades_by(trades: pd.DataFrame, by: str) -> pd.DataFrame:
    """Orders counted per ``by`` = ``"month"`` (of the year, Jan…Dec) or ``"weekday"`` (Monday…Friday, plus the
    weekend only when something traded then), one column per side (``BUY``, ``SELL``) and a ``total``."""
    rows = orders(trades)
    ts = pd.to_datetime(rows["timestamp"])
    if by == "month":
        labels, keys = list(MONTHS), ts.dt.month.map(lambda m: MONTHS[m - 1])
    elif by == "weekday":
        labels, keys = list(WEEKDAYS), ts.dt.day_of_week.map(lambda d: WEEKDAYS[d])
    else:
        raise ValueError(f"by must be 'month' or 'weekday', got {by!r}")
    table = pd.crosstab(keys, rows["side"]).reindex(index=labels, columns=["BUY", "SELL"], fill_value=0)
    table = table.fillna(0).astype(int)
    table["total"] = table["BUY"] + table["SELL"]
    if by == "weekday":
        weekend = table.loc[["Saturday", "Sunday"], "total"] == 0
        table = table.drop(index=weekend[weekend].index)
    table.index.name = by
    table.columns.name = None
    return table


def order_kind_counts(trades: pd.DataFrame) -> pd.DataFrame:
    """Executed orders per kind (``trigger``, ``rebalance``) and side, with totals: rows kinds, columns sides."""
    rows = orders(trades)
    table = pd.crosstab(rows["kind"], rows["side"]).reindex(
        index=["trigger", "rebalance"], columns=["BUY", "SELL"], fill_value=0
    )
    table = table.fillna(0).astype(int)
    table["total"] = table["BUY"] + table["SELL"]
    table.index.name = "kind"
    table.columns.name = None
    return table


def skipped_orders(timeline: pd.DataFrame) -> pd.DataFrame:
    """Orders the rules wanted but did not place, counted by ``reason`` (the timeline's ``skip_reason``), most
    frequent first; empty when nothing was skipped."""
    reasons = timeline["skip_reason"].astype(str).str.strip()
    reasons = reasons[(reasons != "") & (reasons.str.lower() != "nan") & (reasons.str.lower() != "none")]
    counts = reasons.value_counts()
    return pd.DataFrame({"reason": counts.index.astype(str), "count": counts.to_numpy(dtype=int)})


def fees_by_month(trades: pd.DataFrame) -> pd.DataFrame:
    """Commission per calendar month (the initial purchase's included) and its running total; indexed by the
    month's first day, months without a trade show zero."""
    if trades.empty:
        return pd.DataFrame({"commission": [], "cumulative": []}, dtype=float)
    ts = pd.to_datetime(trades["timestamp"])
    if ts.dt.tz is not None:
        ts = ts.dt.tz_localize(None)
    fees = pd.Series(trades["commission"].to_numpy(dtype=float), index=ts.dt.to_period("M"))
    monthly = fees.groupby(level=0).sum()
    full = pd.period_range(monthly.index.min(), monthly.index.max(), freq="M")
    monthly = monthly.reindex(full, fill_value=0.0)
    out = pd.DataFrame({"commission": monthly.to_numpy(), "cumulative": monthly.cumsum().to_numpy()},
                       index=full.to_timestamp())
    out.index.name = "month"
    return out
