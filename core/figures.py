"""Plotly figure builders: pure functions of a simulation's series, no Streamlit, so reports and tests can use them.

Every figure shows the strategy next to its two benchmarks (SPEC §6): buy-and-hold (all capital in the stock) and
the static mix (the strategy's own starting split, never traded). Colours and names are fixed here so the three
lines look the same on every page.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from core.metrics import drawdown_series


@dataclass(frozen=True)
class SeriesStyle:
    """Name and line style of one series across all figures."""

    name: str
    color: str
    dash: str
    width: float


STRATEGY = "strategy"
STYLES: dict[str, SeriesStyle] = {
    STRATEGY: SeriesStyle("Strategy", "#1f5fbf", "solid", 2.2),
    "buy_and_hold": SeriesStyle("Buy & hold", "#7f8a99", "solid", 1.4),
    "static_mix": SeriesStyle("Static mix", "#e07b39", "dot", 1.6),
}


def _lines(equity: pd.Series, benchmarks: pd.DataFrame | None) -> dict[str, pd.Series]:
    """The strategy first, then each benchmark column, keyed like ``STYLES``."""
    lines = {STRATEGY: equity}
    if benchmarks is not None:
        for column in benchmarks.columns:
            lines[str(column)] = benchmarks[column]
    return lines


def _style(key: str) -> SeriesStyle:
    return STYLES.get(key, SeriesStyle(key.replace("_", " ").capitalize(), "#444444", "dash", 1.2))


def _layout(fig: go.Figure, *, height: int, yaxis: dict) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        hovermode="x unified",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "left", "x": 0.0},
        yaxis=yaxis,
        xaxis={"title": None},
    )
    return fig


def equity_figure(equity: pd.Series, benchmarks: pd.DataFrame | None = None, *, log_scale: bool = False) -> go.Figure:
    """Account value over time: the strategy (``result.equity``) against ``result.benchmarks``' columns.

    Args:
        equity: the strategy's account value per bar.
        benchmarks: one column per benchmark (``buy_and_hold``, ``static_mix``), same index; ``None`` for none.
        log_scale: a logarithmic value axis, which makes long histories with large gains comparable.

    Returns:
        A figure with one line trace per series, named "Strategy", "Buy & hold", "Static mix".
    """
    fig = go.Figure()
    for key, series in _lines(equity, benchmarks).items():
        style = _style(key)
        fig.add_trace(
            go.Scatter(
                x=series.index,
                y=series.to_numpy(dtype=float),
                name=style.name,
                mode="lines",
                line={"color": style.color, "dash": style.dash, "width": style.width},
                hovertemplate="%{y:,.2f}",
            )
        )
    return _layout(
        fig,
        height=420,
        yaxis={"title": "Account value", "type": "log" if log_scale else "linear", "tickformat": ",.0f"},
    )


def drawdown_figure(equity: pd.Series, benchmarks: pd.DataFrame | None = None) -> go.Figure:
    """Drawdown from the running peak, ``(V - max V) / max V`` (zero or negative), for each series.

    Same series and names as :func:`equity_figure`; the strategy's area is filled so its depth reads at a glance.
    """
    fig = go.Figure()
    for key, series in _lines(equity, benchmarks).items():
        style = _style(key)
        fig.add_trace(
            go.Scatter(
                x=series.index,
                y=drawdown_series(series.to_numpy(dtype=float)),
                name=style.name,
                mode="lines",
                line={"color": style.color, "dash": style.dash, "width": style.width},
                fill="tozeroy" if key == STRATEGY else None,
                hovertemplate="%{y:.2%}",
            )
        )
    return _layout(fig, height=280, yaxis={"title": "Drawdown", "tickformat": ".0%"})
