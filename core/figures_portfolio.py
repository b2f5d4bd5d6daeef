"""Plotly figures of a portfolio backtest (docs/strategy.md §12): equity against its two benchmarks, each cell's
contribution, the correlation of the cells' daily returns and the allocation over time.

Pure functions of a :class:`core.portfolio.PortfolioResult`'s frames, no Streamlit, so the Portfolio page, the
image export and the tests draw the same figures. The look is :mod:`core.theme`'s: the portfolio takes the
strategy's line and its benchmarks those of the single run's (equal-weight buy-and-hold is buy-and-hold's grey,
the initial mix the static mix's dotted orange), so a portfolio chart reads like the Backtest page's.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.figures import _layout
from core.portfolio import POOL, PortfolioResult
from core.theme import COLORS, FONTS, HEATMAP_COLORSCALE, LAYOUT, PALETTE, SERIES, STRATEGY, SeriesStyle, apply_theme

PORTFOLIO = "portfolio"
EQUAL_WEIGHT = "equal_weight_buy_and_hold"
INITIAL_MIX = "initial_mix"

# The portfolio and its benchmarks (``PortfolioResult.benchmarks``' columns), in the single run's styles.
PORTFOLIO_SERIES: dict[str, SeriesStyle] = {
    PORTFOLIO: dataclasses.replace(SERIES[STRATEGY], name="Portfolio"),
    EQUAL_WEIGHT: dataclasses.replace(SERIES["buy_and_hold"], name="Equal-weight buy & hold"),
    INITIAL_MIX: dataclasses.replace(SERIES["static_mix"], name="Initial mix"),
}
POOL_LABEL = "Cash pool"
POOL_COLOR = COLORS.trigger  # the pool is cash: the muted grey of the non-price lines
CORRELATION_LABEL = "Correlation"

PORTFOLIO_CHARTS: tuple[str, ...] = ("equity", "contributions", "correlation", "allocation")
CHART_TITLES: dict[str, str] = {
    "equity": "Portfolio value vs equal-weight buy & hold and the initial mix",
    "contributions": "Contribution of each cell to the portfolio's profit",
    "correlation": "Correlation of the cells' daily returns",
    "allocation": "Allocation over time (share of the portfolio's value)",
}


def series_style(key: str) -> SeriesStyle:
    """The style of the portfolio line or a benchmark column; an unknown column gets a neutral dashed line."""
    return PORTFOLIO_SERIES.get(key, SeriesStyle(key.replace("_", " ").capitalize(), COLORS.neutral, "dash", 1.2))


def cell_colors(names: list[str]) -> dict[str, str]:
    """One palette colour per cell, in the cells' order (the pool keeps the cash grey), so a cell has the same
    colour in the allocation and every other multi-cell chart."""
    colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(n for n in names if n != POOL)}
    if POOL in names:
        colours[POOL] = POOL_COLOR
    return colours


LEGEND_ROOM = 28  # pixels between the title and the plot for the theme's legend row above the plot


def _titled(fig: go.Figure, title: str) -> go.Figure:
    """``title`` at the top of the figure, in the titled margin, with a legend row's room below it when the figure
    shows a legend (the theme puts the legend just above the plot, where it would cover the title)."""
    margin = LAYOUT.margin_titled
    legend = fig.layout.showlegend is not False and len(fig.data) > 1
    top = margin.top + (LEGEND_ROOM if legend else 0)
    fig.update_layout(title={"text": title, "y": 1.0, "yref": "container", "yanchor": "top", "pad": {"t": 10}},
                      margin={**margin.plotly(), "t": top})  # fmt: skip
    return fig


def portfolio_equity_figure(
    equity: pd.Series, benchmarks: pd.DataFrame | None = None, *, log_scale: bool = False, title: str | None = None
) -> go.Figure:
    """Portfolio value over time (``result.equity``) against ``result.benchmarks``' columns
    (``equal_weight_buy_and_hold``, ``initial_mix``).

    Args:
        equity: the portfolio's value per bar of the aligned calendar.
        benchmarks: one column per benchmark on the same index; ``None`` for none.
        log_scale: a logarithmic value axis, which makes long histories with large gains comparable.
        title: shown above the chart; default :data:`CHART_TITLES` ``["equity"]``.
    """
    fig = go.Figure()
    lines = {PORTFOLIO: equity}
    if benchmarks is not None:
        lines |= {str(c): benchmarks[c] for c in benchmarks.columns}
    for key, series in lines.items():
        style = series_style(key)
        fig.add_trace(go.Scatter(x=series.index, y=series.to_numpy(dtype=float), name=style.name, mode="lines",
                                 line=style.line(), hovertemplate="%{y:,.2f}"))  # fmt: skip
    fig = _layout(fig, height=420,
                  yaxis={"title": "Value", "type": "log" if log_scale else "linear", "tickformat": ",.0f"})
    return _titled(fig, title or CHART_TITLES["equity"])


def contributions_figure(contributions: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Each cell's profit (``result.contributions["profit"]``: end value minus start value minus the money moved
    in, docs/strategy.md §12.5) as a bar, gains green and losses red; hovering shows its share of the total."""
    frame = contributions.reset_index(drop=True)
    profit = frame["profit"].to_numpy(dtype=float)
    share = frame.get("share_of_profit", pd.Series(np.nan, index=frame.index)).to_numpy(dtype=float)
    fig = go.Figure(
        go.Bar(
            x=frame["cell"].astype(str).tolist(),
            y=profit,
            marker_color=[COLORS.buy if p >= 0 else COLORS.sell for p in profit],
            customdata=share,
            text=[f"{p:,.0f}" for p in profit],
            textposition="outside",
            cliponaxis=False,  # a label above the tallest bar stays visible
            name="Profit",
            hovertemplate="%{x}: %{y:,.2f} (%{customdata:.1%} of the portfolio's profit)<extra></extra>",
        )
    )
    fig.add_hline(y=0, line={"color": COLORS.zero_line, "width": 1})
    fig = apply_theme(fig, height=360, showlegend=False, xaxis={"type": "category", "title": None},
                      yaxis={"title": "Profit", "tickformat": ",.0f"})  # fmt: skip
    return _titled(fig, title or CHART_TITLES["contributions"])


def correlation_figure(correlation: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """The correlation matrix of the cells' daily returns (``result.correlation``) as a heatmap with each value
    printed in its cell and a colour bar from −1 to 1.

    The orientation is every heatmap's (:mod:`core.figures_optimize`, the PDF): categories in their order from
    the bottom, so the first cell's row is at the bottom. Green is better, as everywhere: low correlation (the
    cells diversify each other) is green, cells moving together red.
    """
    names = [str(c) for c in correlation.columns]
    z = correlation.to_numpy(dtype=float)
    text = [[f"{v:.2f}" if np.isfinite(v) else "" for v in row] for row in z]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=names,
            y=[str(i) for i in correlation.index],
            zmin=-1.0,
            zmax=1.0,
            colorscale=HEATMAP_COLORSCALE,
            reversescale=True,
            colorbar={"title": CORRELATION_LABEL},
            text=text,
            texttemplate="%{text}",
            textfont={"size": FONTS.size - 2},
            hovertemplate="%{y} and %{x}: %{z:.3f}<extra></extra>",
        )
    )
    fig = apply_theme(fig, height=max(320, 60 * len(names) + 120), xaxis={"type": "category", "title": None},
                      yaxis={"type": "category", "title": None, "categoryarray": names})  # fmt: skip
    return _titled(fig, title or CHART_TITLES["correlation"])


def allocation_columns(allocation: pd.DataFrame) -> list[str]:
    """The columns of ``result.allocation`` worth showing: every cell, and the pool (column ``pool``) when the
    portfolio has one; a pool that is zero throughout is the engine's placeholder for "no pool" and is left out.
    The figure and the workbook's Allocation sheet both use it, so they show the same columns."""
    columns = [str(c) for c in allocation.columns]
    return [c for c in columns if c != POOL or bool(np.any(allocation[POOL].to_numpy(dtype=float) != 0.0))]


def allocation_figure(allocation: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Each cell's share of the portfolio's value per bar (``result.allocation``) as stacked areas adding up to
    100 %, the cash pool on top when the portfolio has one (:func:`allocation_columns`)."""
    shown = allocation_columns(allocation)
    colours = cell_colors(shown)
    fig = go.Figure()
    for column in shown:
        fig.add_trace(
            go.Scatter(
                x=allocation.index,
                y=allocation[column].to_numpy(dtype=float),
                name=POOL_LABEL if column == POOL else column,
                mode="lines",
                stackgroup="allocation",
                line={"color": colours[column], "width": 0.8},
                hovertemplate="%{y:.1%}",
            )
        )
    fig = _layout(fig, height=360, yaxis={"title": "Share of the portfolio", "tickformat": ".0%", "range": [0, 1]})
    return _titled(fig, title or CHART_TITLES["allocation"])


def portfolio_figures(result: PortfolioResult, *, log_scale: bool = False) -> dict[str, go.Figure]:
    """Every chart of a portfolio, keyed by :data:`PORTFOLIO_CHARTS`."""
    return {
        "equity": portfolio_equity_figure(result.equity, result.benchmarks, log_scale=log_scale),
        "contributions": contributions_figure(result.contributions),
        "correlation": correlation_figure(result.correlation),
        "allocation": allocation_figure(result.allocation),
    }
