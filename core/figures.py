"""Plotly figure builders: pure functions of a simulation's series, no Streamlit, so reports and tests can use them.

Every figure shows the strategy next to its two benchmarks (docs/strategy.md §6): buy-and-hold (all capital in the
stock) and the static mix (the strategy's own starting split, never traded). Colours and names are fixed here so the
three lines look the same on every page; every colour, font and layout default comes from :mod:`core.theme`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from core.metrics import drawdown_series
from core.theme import COLORS, EVENT_COLORS, HEATMAP_COLORSCALE, LAYOUT, SERIES, STRATEGY, SeriesStyle, apply_theme
from core.theme import series_style as _style

# The series' names and styles live in the theme; kept here under their old names for the report modules.
STYLES: dict[str, SeriesStyle] = SERIES
BAND_COLOR = COLORS.band
BUY_COLOR = COLORS.buy
SELL_COLOR = COLORS.sell


def _lines(equity: pd.Series, benchmarks: pd.DataFrame | None) -> dict[str, pd.Series]:
    """The strategy first, then each benchmark column, keyed like ``STYLES``."""
    lines = {STRATEGY: equity}
    if benchmarks is not None:
        for column in benchmarks.columns:
            lines[str(column)] = benchmarks[column]
    return lines


def _layout(fig: go.Figure, *, height: int, yaxis: dict) -> go.Figure:
    """The theme, a unified hover over the time axis and the value axis ``yaxis``."""
    return apply_theme(fig, height=height, hovermode=LAYOUT.hovermode, yaxis=yaxis, xaxis={"title": None})


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
                line=style.line(),
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
                line=style.line(),
                fill="tozeroy" if key == STRATEGY else None,
                fillcolor=COLORS.drawdown_fill if key == STRATEGY else None,
                hovertemplate="%{y:.2%}",
            )
        )
    return _layout(fig, height=280, yaxis={"title": "Drawdown", "tickformat": ".0%"})


# --- run charts for the reports and the app -----------------------------------------------------------------------


def stock_share_figure(asset_pct: pd.Series, guardrail_min: float, guardrail_max: float) -> go.Figure:
    """The stock share of the account (``timeline["asset_pct"]``) inside the shaded guardrail band.

    Args:
        asset_pct: the closing stock share per bar, a fraction.
        guardrail_min: lower bound of the band (fraction).
        guardrail_max: upper bound of the band (fraction).
    """
    fig = go.Figure()
    fig.add_hrect(y0=guardrail_min, y1=guardrail_max, fillcolor=COLORS.band, line_width=0, layer="below")
    # labels outside the band (below the floor, above the ceiling) so they never sit on the line
    for bound, label, where in (
        (guardrail_min, "Guardrail min", "bottom left"),
        (guardrail_max, "Guardrail max", "top left"),
    ):
        fig.add_hline(
            y=bound,
            line={"color": COLORS.guardrail_line, "dash": "dash", "width": 1},
            annotation_text=f"{label} {bound:.0%}",
            annotation_position=where,
        )
    style = SERIES[STRATEGY]
    fig.add_trace(
        go.Scatter(
            x=asset_pct.index,
            y=asset_pct.to_numpy(dtype=float),
            name="Stock share",
            mode="lines",
            line={"color": style.color, "width": 1.6},
            hovertemplate="%{y:.1%}",
        )
    )
    return _layout(fig, height=280, yaxis={"title": "Stock share", "tickformat": ".0%", "range": [0, 1]})


def price_anchor_figure(timeline: pd.DataFrame, trades: pd.DataFrame | None = None) -> go.Figure:
    """The close price with the anchor in force and the trigger prices (step lines), and the trades as markers.

    Args:
        timeline: ``result.timeline`` (``price``, ``anchor``, ``sell_trigger_price``, ``buy_trigger_price``).
        trades: ``result.trades``; buys are green triangles up, sells red triangles down. ``None`` for none.
    """
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=timeline.index,
            y=timeline["price"].to_numpy(dtype=float),
            name="Price",
            mode="lines",
            line={"color": COLORS.price, "width": 1.4},
            hovertemplate="%{y:,.2f}",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=timeline.index,
            y=timeline["anchor"].to_numpy(dtype=float),
            name="Anchor",
            mode="lines",
            line={"color": COLORS.anchor, "width": 1.2, "shape": "hv"},
            hovertemplate="%{y:,.2f}",
        )
    )
    # The sell trigger is drawn second and filled down to the buy trigger: the shaded band is where nothing trades.
    for column, label in (("buy_trigger_price", "Buy trigger"), ("sell_trigger_price", "Sell trigger")):
        fig.add_trace(
            go.Scatter(
                x=timeline.index,
                y=timeline[column].to_numpy(dtype=float),
                name=label,
                mode="lines",
                line={"color": COLORS.trigger, "width": 0.8, "dash": "dot", "shape": "hv"},
                fill="tonexty" if column == "sell_trigger_price" else None,
                fillcolor=COLORS.band,
                hovertemplate="%{y:,.2f}",
            )
        )
    if trades is not None and len(trades):
        for side, symbol, color in (("BUY", "triangle-up", COLORS.buy), ("SELL", "triangle-down", COLORS.sell)):
            rows = trades[trades["side"] == side]
            if len(rows):
                fig.add_trace(
                    go.Scatter(
                        x=rows["timestamp"],
                        y=rows["price"].to_numpy(dtype=float),
                        name=side.capitalize() + "s",
                        mode="markers",
                        marker={"symbol": symbol, "color": color, "size": LAYOUT.marker_size},
                        # the engine's plain-language reason, so hovering a marker says why the order was placed
                        customdata=rows["reason"].astype(str).to_numpy() if "reason" in rows else None,
                        hovertemplate="%{y:,.2f}<br>%{customdata}" if "reason" in rows else "%{y:,.2f}",
                    )
                )
    return _layout(fig, height=420, yaxis={"title": "Price", "tickformat": ",.2f"})


def heatmap_figure(
    pivot: pd.DataFrame, *, metric: str = "objective", x_label: str = "", y_label: str = ""
) -> go.Figure:
    """A study heatmap: ``pivot`` rows are one parameter's values, columns another's, cells the metric."""
    fig = go.Figure(
        go.Heatmap(
            z=pivot.to_numpy(dtype=float),
            x=[str(c) for c in pivot.columns],
            y=[str(i) for i in pivot.index],
            colorscale=HEATMAP_COLORSCALE,
            colorbar={"title": metric},
            hovertemplate=f"{x_label} %{{x}}<br>{y_label} %{{y}}<br>{metric} %{{z:.4g}}<extra></extra>",
        )
    )
    return apply_theme(
        fig,
        height=460,
        xaxis={"title": x_label, "type": "category"},
        yaxis={"title": y_label, "type": "category"},
    )


# --- data and event charts for the app ----------------------------------------------------------------------------


def candlestick_figure(prices: pd.DataFrame, *, title: str = "") -> go.Figure:
    """OHLC candles with volume bars underneath (a close line when the data has no open/high/low).

    Args:
        prices: ``MarketData.prices`` (``close``; optional ``open``, ``high``, ``low``, ``volume``).
        title: shown above the chart; empty for none.
    """
    from plotly.subplots import make_subplots

    has_volume = "volume" in prices and prices["volume"].notna().any()
    fig = make_subplots(
        rows=2 if has_volume else 1,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.03,
        row_heights=[0.75, 0.25] if has_volume else [1.0],
    )
    if {"open", "high", "low"} <= set(prices.columns):
        fig.add_trace(
            go.Candlestick(
                x=prices.index,
                open=prices["open"],
                high=prices["high"],
                low=prices["low"],
                close=prices["close"],
                name="Price",
                increasing_line_color=COLORS.buy,
                decreasing_line_color=COLORS.sell,
            ),
            row=1,
            col=1,
        )
    else:
        fig.add_trace(
            go.Scatter(x=prices.index, y=prices["close"], name="Close", mode="lines", line={"color": COLORS.price}),
            row=1,
            col=1,
        )
    if has_volume:
        fig.add_trace(
            go.Bar(
                x=prices.index, y=prices["volume"], name="Volume", marker_color=COLORS.volume, hovertemplate="%{y:,.0f}"
            ),
            row=2,
            col=1,
        )
        fig.update_yaxes(title_text="Volume", row=2, col=1)
    apply_theme(
        fig,
        height=480,
        margin=(LAYOUT.margin_titled if title else LAYOUT.margin).plotly(),
        title=title or None,
        hovermode=LAYOUT.hovermode,
        showlegend=False,
        xaxis_rangeslider_visible=False,
    )
    fig.update_yaxes(title_text="Price", row=1, col=1)
    return fig


def event_timeline_figure(events: pd.DataFrame) -> go.Figure:
    """One marker per engine event, a row per event type; hovering shows the engine's message.

    Args:
        events: columns ``timestamp``, ``type`` (an ``EventType`` value) and ``message``, one row per event.
    """
    fig = go.Figure()
    for kind, rows in events.groupby("type", sort=False):
        kind = str(kind)
        fig.add_trace(
            go.Scatter(
                x=rows["timestamp"],
                y=[kind.replace("_", " ")] * len(rows),
                name=kind.replace("_", " "),
                mode="markers",
                marker={"color": EVENT_COLORS.get(kind, COLORS.neutral), "size": LAYOUT.marker_size,
                        "symbol": "line-ns-open"},
                customdata=rows["message"].astype(str).to_numpy(),
                hovertemplate="%{x}<br>%{customdata}<extra></extra>",
            )
        )
    height = max(220, 60 + 36 * events["type"].nunique()) if len(events) else 220
    return apply_theme(
        fig,
        height=height,
        hovermode="closest",
        showlegend=False,
        yaxis={"type": "category", "title": None},
        xaxis={"title": None},
    )


RUN_CHARTS: tuple[str, ...] = ("equity", "drawdown", "stock_share", "price_anchor")


def run_figures(result: Any) -> dict[str, go.Figure]:
    """Every chart of a run, keyed by ``RUN_CHARTS`` (``result`` is a ``core.SimulationResult``)."""
    tl, cfg = result.timeline, result.config
    return {
        "equity": equity_figure(result.equity, result.benchmarks),
        "drawdown": drawdown_figure(result.equity, result.benchmarks),
        "stock_share": stock_share_figure(tl["asset_pct"], cfg.guardrail_min, cfg.guardrail_max),
        "price_anchor": price_anchor_figure(tl, result.trades),
    }
