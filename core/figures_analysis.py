"""Plotly figures of the analysis pages (robustness, trades, risk, regimes, compare): pure functions, data in and a
figure out, no Streamlit, so reports and tests can use them too.

The look (template, font, margins, horizontal legend on top, series colours) is :mod:`core.theme`'s, like every
other chart's, so that the analysis charts read like the Backtest page's.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.figures import _layout
from core.theme import (
    COLORS,
    FAN_BANDS,
    HEATMAP_COLORSCALE,
    PALETTE,
    REGIME_COLORS,
    REGIME_SWATCH_ALPHA,
    SERIES,
    STRATEGY,
    apply_theme,
    rgba,
)

STRATEGY_COLOR = COLORS.strategy
BENCH_COLOR = COLORS.buy_and_hold
TRAIN_COLOR = COLORS.train


# --- robustness ---------------------------------------------------------------------------------------------------


def folds_timeline_figure(folds: pd.DataFrame) -> go.Figure:
    """Walk-forward folds as a Gantt-like chart: per fold a grey training bar and a blue test bar.

    ``folds`` is ``WalkForwardResult.folds`` (``fold``, ``train_start``, ``train_end``, ``test_start``,
    ``test_end``).
    """
    fig = go.Figure()
    labels = [f"Fold {int(f) + 1}" for f in folds["fold"]]
    for start, end, name, color in (
        ("train_start", "train_end", "In sample (choose)", TRAIN_COLOR),
        ("test_start", "test_end", "Out of sample (judge)", STRATEGY_COLOR),
    ):
        begin = pd.to_datetime(folds[start])
        length = (pd.to_datetime(folds[end]) - begin) / pd.Timedelta(milliseconds=1)
        fig.add_trace(
            go.Bar(
                y=labels, x=length, base=begin, orientation="h", name=name, marker_color=color,
            )
        )
    fig.update_layout(barmode="overlay")
    fig = _layout(fig, height=80 + 40 * len(labels), yaxis={"autorange": "reversed", "title": None})
    fig.update_xaxes(type="date")
    return fig


def stitched_equity_figure(equity: pd.Series, buy_and_hold: pd.Series) -> go.Figure:
    """The walk-forward's stitched out-of-sample equity beside buy-and-hold stitched the same way."""
    fig = go.Figure()
    for series, key, name in ((equity, STRATEGY, "Out-of-sample strategy"), (buy_and_hold, "buy_and_hold", None)):
        style = SERIES[key]
        fig.add_trace(
            go.Scatter(
                x=series.index, y=series.to_numpy(dtype=float), name=name or style.name, mode="lines",
                line=style.line(), hovertemplate="%{y:,.2f}",
            )
        )
    return _layout(fig, height=360, yaxis={"title": "Account value", "tickformat": ",.0f"})


def fan_figure(paths: pd.DataFrame, actual: pd.Series, *, title: str = "Price") -> go.Figure:
    """A fan chart: the 5–95 % and 25–75 % bands and the median of ``paths`` (one column per path, rows aligned
    with ``actual``'s index) with the real series on top."""
    values = paths.to_numpy(dtype=float)
    q = np.nanpercentile(values, [5, 25, 50, 75, 95], axis=1)
    x = paths.index
    fig = go.Figure()
    for lo, hi, name, alpha in FAN_BANDS:
        fig.add_trace(go.Scatter(x=x, y=q[hi], mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip"))
        fig.add_trace(
            go.Scatter(
                x=x, y=q[lo], mode="lines", line={"width": 0}, fill="tonexty", name=name,
                fillcolor=rgba(STRATEGY_COLOR, alpha), hoverinfo="skip",
            )
        )
    fig.add_trace(
        go.Scatter(x=x, y=q[2], mode="lines", name="Median path", line={"color": STRATEGY_COLOR, "dash": "dot"},
                   hovertemplate="%{y:,.2f}")
    )
    fig.add_trace(
        go.Scatter(x=actual.index, y=actual.to_numpy(dtype=float), mode="lines", name="Real history",
                   line={"color": COLORS.reference, "width": 1.4}, hovertemplate="%{y:,.2f}")
    )
    # dtick "D2": log-axis labels at 2 and 5 of each decade only, readable on a phone
    return _layout(fig, height=380, yaxis={"title": title, "type": "log", "tickformat": ",.0f", "dtick": "D2"})


def distribution_figure(
    values: np.ndarray | pd.Series, actual: float | None = None, *, label: str = "", tickformat: str = ".1%",
    markers: Mapping[str, float] | None = None, nbins: int = 40,
) -> go.Figure:
    """A histogram of ``values`` (about ``nbins`` bins) with the ``actual`` value (and any other named ``markers``)
    as vertical lines."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    fig = go.Figure(go.Histogram(x=v, nbinsx=nbins, name=label or "Paths", marker_color=STRATEGY_COLOR, opacity=0.75))
    lines = dict(markers or {})
    if actual is not None and np.isfinite(actual):
        lines = {"Real history": float(actual), **lines}
    for i, (name, x) in enumerate(lines.items()):
        if np.isfinite(x):
            fig.add_vline(
                x=x, line={"color": COLORS.marker if i else COLORS.reference, "dash": "dash" if i else "solid",
                           "width": 1.5},
                annotation_text=name, annotation_position="top left" if i % 2 else "top right",
            )
    fig = _layout(fig, height=300, yaxis={"title": "Count"})
    fig.update_layout(hovermode="closest", showlegend=False)
    fig.update_xaxes(title=label or None, tickformat=tickformat)
    return fig


# --- trades -------------------------------------------------------------------------------------------------------


def pnl_figure(sells: pd.DataFrame) -> go.Figure:
    """Realised P&L of every sell (:func:`core.trade_stats.sell_pnl`) as bars, green for gains, red for losses."""
    pnl = sells["pnl"].to_numpy(dtype=float)
    fig = go.Figure(
        go.Bar(
            x=sells["timestamp"], y=pnl, marker_color=np.where(pnl >= 0, COLORS.buy, COLORS.sell), name="Realised P&L",
            hovertemplate="%{x|%Y-%m-%d}: %{y:,.2f}<extra></extra>",
        )
    )
    return _layout(fig, height=300, yaxis={"title": "Realised P&L", "tickformat": ",.0f"})


def histogram_figure(values: pd.Series | np.ndarray, *, label: str, tickformat: str = ",.0f") -> go.Figure:
    """A plain histogram (holding periods, order sizes)."""
    v = np.asarray(values, dtype=float)
    fig = go.Figure(go.Histogram(x=v[np.isfinite(v)], nbinsx=40, marker_color=STRATEGY_COLOR, name=label))
    fig = _layout(fig, height=280, yaxis={"title": "Count"})
    fig.update_layout(hovermode="closest", showlegend=False)
    fig.update_xaxes(title=label, tickformat=tickformat)
    return fig


def side_counts_figure(table: pd.DataFrame) -> go.Figure:
    """Stacked buy and sell counts per row of ``table`` (columns ``BUY`` and ``SELL``), e.g. per month/weekday."""
    fig = go.Figure()
    for side, color, name in (("BUY", COLORS.buy, "Buys"), ("SELL", COLORS.sell, "Sells")):
        fig.add_trace(go.Bar(x=[str(i) for i in table.index], y=table[side], name=name, marker_color=color))
    fig.update_layout(barmode="stack")
    fig = _layout(fig, height=280, yaxis={"title": "Orders"})
    fig.update_xaxes(type="category")
    return fig


def fees_figure(fees: pd.DataFrame) -> go.Figure:
    """Commission per month (bars) and its running total (line, right axis); ``fees`` from ``fees_by_month``."""
    fig = go.Figure()
    fig.add_trace(go.Bar(x=fees.index, y=fees["commission"], name="Per month", marker_color=TRAIN_COLOR,
                         hovertemplate="%{y:,.2f}"))
    fig.add_trace(go.Scatter(x=fees.index, y=fees["cumulative"], name="Cumulative", yaxis="y2", mode="lines",
                             line={"color": STRATEGY_COLOR, "width": 2}, hovertemplate="%{y:,.2f}"))
    fig = _layout(fig, height=300, yaxis={"title": "Commission per month", "tickformat": ",.2f"})
    fig.update_layout(yaxis2={"title": "Cumulative", "overlaying": "y", "side": "right", "tickformat": ",.0f",
                              "showgrid": False, "rangemode": "tozero"})
    return fig


# --- risk ---------------------------------------------------------------------------------------------------------


def rolling_figure(frame: pd.DataFrame, *, title: str, tickformat: str = ".2f", names: Mapping[str, str] | None = None,
                   zero_line: bool = True) -> go.Figure:
    """One line per column of ``frame`` (a rolling figure over time), the first in the strategy's colour."""
    fig = go.Figure()
    for i, column in enumerate(frame.columns):
        fig.add_trace(
            go.Scatter(
                x=frame.index, y=frame[column].to_numpy(dtype=float), mode="lines",
                name=(names or {}).get(str(column), str(column).replace("_", " ").capitalize()),
                line={"color": PALETTE[i % len(PALETTE)], "width": 1.6}, hovertemplate=f"%{{y:{tickformat}}}",
            )
        )
    if zero_line:
        fig.add_hline(y=0, line={"color": COLORS.zero_line, "width": 1})
    return _layout(fig, height=300, yaxis={"title": title, "tickformat": tickformat})


def returns_distribution_figure(returns: pd.Series | np.ndarray, var: float, cvar: float, level: float) -> go.Figure:
    """Histogram of daily returns with the historical VaR and CVaR at ``level`` (e.g. 0.05) marked."""
    return distribution_figure(
        returns, None, label="Daily return", tickformat=".1%",
        markers={f"VaR {1 - level:.0%}": var, f"CVaR {1 - level:.0%}": cvar}, nbins=150,
    )


def monthly_heatmap_figure(table: pd.DataFrame) -> go.Figure:
    """Monthly returns (rows years, columns 1…12 as ``core.risk_stats.monthly_returns`` gives) as a red–green
    heatmap centred on zero, with each cell's return written in it."""
    months = [c for c in table.columns if c != "year"]
    z = table[months].to_numpy(dtype=float)
    bound = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0
    text = [[f"{v:.1%}" if np.isfinite(v) else "" for v in row] for row in z]
    month_names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    fig = go.Figure(
        go.Heatmap(
            z=z, x=[month_names[int(m) - 1] for m in months], y=[str(y) for y in table.index], text=text,
            texttemplate="%{text}", colorscale=HEATMAP_COLORSCALE, zmid=0.0, zmin=-bound, zmax=bound,
            colorbar={"tickformat": ".0%"}, hovertemplate="%{y} %{x}: %{z:.2%}<extra></extra>",
        )
    )
    return apply_theme(fig, height=max(260, 26 * len(table) + 80), xaxis={"type": "category", "side": "top"},
                       yaxis={"type": "category", "autorange": "reversed"})


# --- regimes ------------------------------------------------------------------------------------------------------


def regime_runs(labels: pd.Series) -> list[tuple[pd.Timestamp, pd.Timestamp, str]]:
    """Consecutive days with one label as ``(first day, first day of the next run or the last day, label)``."""
    if labels.empty:
        return []
    values = labels.to_numpy()
    index = labels.index
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    ends = [*starts[1:], len(values) - 1]
    return [(index[s], index[e], str(values[s])) for s, e in zip(starts, ends, strict=True)]


def _opaque(color: str, alpha: float = REGIME_SWATCH_ALPHA) -> str:
    """``color`` with its alpha replaced, for a legend swatch that reads better than the faint shade itself."""
    return rgba(color, alpha)


def regime_price_figure(labels: pd.DataFrame, column: str = "trend") -> go.Figure:
    """The daily close with every stretch of one regime shaded (``column`` = ``trend`` or ``vol_regime`` of
    :func:`core.analysis.label_regimes`' frame); the legend names the shades."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=labels.index, y=labels["close"].to_numpy(dtype=float), mode="lines", name="Close",
                             line={"color": COLORS.price, "width": 1.3}, hovertemplate="%{y:,.2f}"))
    runs = regime_runs(labels[column])
    # One layout update with every shade: add_vrect re-validates the layout per call, seconds for 200 stretches.
    shapes = [
        {"type": "rect", "xref": "x", "yref": "paper", "x0": start, "x1": end, "y0": 0, "y1": 1, "line": {"width": 0},
         "fillcolor": REGIME_COLORS.get(label, COLORS.regime_other), "layer": "below"}
        for start, end, label in runs
    ]
    fig.update_layout(shapes=shapes)
    for label in dict.fromkeys(label for _, _, label in runs):  # legend entries for the shades, in first-seen order
        color = _opaque(REGIME_COLORS.get(label, COLORS.regime_other))
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=label.capitalize(),
                                 marker={"size": 12, "symbol": "square", "color": color}))
    fig = _layout(fig, height=380, yaxis={"title": "Close", "tickformat": ",.2f"})
    fig.update_xaxes(type="date")
    return fig


def regime_returns_figure(metrics: pd.DataFrame, value: str = "return") -> go.Figure:
    """Grouped bars per regime: the strategy's ``value`` beside buy-and-hold's (``RegimeAnalysis.metrics`` rows of
    one dimension; ``value`` one of return, cagr, volatility, sharpe, max_drawdown)."""
    fig = go.Figure()
    for prefix, key in (("strategy", STRATEGY), ("buy_hold", "buy_and_hold")):
        style = SERIES[key]
        fig.add_trace(go.Bar(x=metrics["regime"], y=metrics[f"{prefix}_{value}"], name=style.name,
                             marker_color=style.color))
    fig.update_layout(barmode="group")
    fmt = ".2f" if value == "sharpe" else ".0%"
    fig = _layout(fig, height=300, yaxis={"title": value.replace("_", " ").capitalize(), "tickformat": fmt})
    fig.update_xaxes(type="category")
    return fig


# --- compare ------------------------------------------------------------------------------------------------------


def normalised_equity_figure(equities: Mapping[str, pd.Series], *, log_scale: bool = False) -> go.Figure:
    """Several runs' account values, each divided by its first value so runs of any size start at 1."""
    fig = go.Figure()
    for i, (name, series) in enumerate(equities.items()):
        v = series.to_numpy(dtype=float)
        fig.add_trace(
            go.Scatter(x=series.index, y=v / v[0] if v.size else v, mode="lines", name=name,
                       line={"color": PALETTE[i % len(PALETTE)], "width": 1.8}, hovertemplate="%{y:.3f}")
        )
    return _layout(fig, height=420, yaxis={"title": "Growth of 1", "type": "log" if log_scale else "linear",
                                           "tickformat": ".2f"})
