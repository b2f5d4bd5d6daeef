"""Plotly figure builders: pure functions of a simulation's series, no Streamlit, so reports and tests can use them.

Every figure shows the strategy next to its two benchmarks (docs/strategy.md §6): buy-and-hold (all capital in the
stock) and the static mix (the strategy's own starting split, never traded). Colours and names are fixed here so the
three lines look the same on every page; every colour, font and layout default comes from :mod:`core.theme`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.analysis.overlays import deepest_drawdown, moving_average, rolling_band, trend_line
from core.metrics import drawdown_series, realised_pnl
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


# Date ticks by the span on screen: days on a few weeks, months on a few years, years beyond (plotly picks the stop
# from the distance between ticks, in milliseconds); at least a handful of ticks even on 60 bars.
DAY_MS = 86_400_000
DATE_TICK_STOPS: tuple[dict[str, Any], ...] = (
    {"dtickrange": [None, DAY_MS], "value": "%d %b %Y %H:%M"},
    {"dtickrange": [DAY_MS, 28 * DAY_MS], "value": "%d %b %Y"},
    {"dtickrange": [28 * DAY_MS, 365 * DAY_MS], "value": "%b %Y"},
    {"dtickrange": [365 * DAY_MS, None], "value": "%Y"},
)
TIME_AXIS: dict[str, Any] = {"title": None, "nticks": 8, "tickformatstops": list(DATE_TICK_STOPS)}
MAX_TRADE_MARKERS = 300  # per side; past it the markers are thinned and the full set is one legend click away


def _layout(fig: go.Figure, *, height: int, yaxis: dict) -> go.Figure:
    """The theme, a unified hover over the time axis and the value axis ``yaxis``."""
    return apply_theme(fig, height=height, hovermode=LAYOUT.hovermode, yaxis=yaxis, xaxis=dict(TIME_AXIS))


def with_title(fig: go.Figure, title: str, subtitle: str = "") -> go.Figure:
    """Put a title (and a smaller second line, e.g. the run id and period) on ``fig``: every exported image has
    one, so a chart pasted into a slide still says what it shows."""
    text = title if not subtitle else f"{title}<br><sup>{subtitle}</sup>"
    margin = LAYOUT.margin_titled_two_lines if subtitle else LAYOUT.margin_titled
    fig.update_layout(title={"text": text, "x": 0.01, "xanchor": "left"}, margin=margin.plotly())
    return fig


@dataclass(frozen=True)
class Overlays:
    """The statistical overlays of the equity chart (the original plan's): moving averages over the given windows
    (bars), a log-linear trend line with its growth per year, and a rolling ± ``band_k`` σ band; annotations of the
    largest drawdown and of the best and worst trades."""

    moving_averages: tuple[int, ...] = ()
    trend: bool = False
    band_window: int | None = None
    band_k: float = 2.0
    annotate: bool = False

    @property
    def any(self) -> bool:
        return bool(self.moving_averages or self.trend or self.band_window or self.annotate)


def equity_figure(
    equity: pd.Series,
    benchmarks: pd.DataFrame | None = None,
    *,
    log_scale: bool = False,
    overlays: Overlays | None = None,
    trades: pd.DataFrame | None = None,
) -> go.Figure:
    """Account value over time: the strategy (``result.equity``) against ``result.benchmarks``' columns.

    Args:
        equity: the strategy's account value per bar.
        benchmarks: one column per benchmark (``buy_and_hold``, ``static_mix``), same index; ``None`` for none.
        log_scale: a logarithmic value axis, which makes long histories with large gains comparable.
        overlays: moving averages, trend line, rolling band and annotations on the strategy's line.
        trades: ``result.trades``, for the best/worst-trade annotations.

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
    if overlays is not None and overlays.any:
        add_overlays(fig, equity, overlays, trades)
    return _layout(
        fig,
        height=420,
        yaxis={"title": "Account value", "type": "log" if log_scale else "linear", "tickformat": ",.0f"},
    )


def add_overlays(fig: go.Figure, values: pd.Series, overlays: Overlays, trades: pd.DataFrame | None = None) -> None:
    """Draw ``overlays`` of ``values`` on ``fig`` (the tables behind them: :mod:`core.analysis.overlays`)."""
    for window in overlays.moving_averages:
        fig.add_trace(go.Scatter(x=values.index, y=moving_average(values, window).to_numpy(), mode="lines",
                                 name=f"MA {window}", line={"color": COLORS.anchor, "width": 1, "dash": "dash"},
                                 hovertemplate="%{y:,.2f}"))
    if overlays.band_window:
        band = rolling_band(values, overlays.band_window, overlays.band_k)
        fig.add_trace(go.Scatter(x=values.index, y=band.lower.to_numpy(), mode="lines", line={"width": 0},
                                 name=f"−{band.k:g}σ", showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=values.index, y=band.upper.to_numpy(), mode="lines", line={"width": 0},
                                 fill="tonexty", fillcolor=COLORS.band,
                                 name=f"±{band.k:g}σ band ({overlays.band_window} bars)", hoverinfo="skip"))
    if overlays.trend and len(values) >= 2:
        trend = trend_line(values)
        fig.add_trace(go.Scatter(x=values.index, y=trend.fitted.to_numpy(), mode="lines", name=trend.label,
                                 line={"color": COLORS.trigger, "width": 1.2, "dash": "dot"},
                                 hovertemplate="%{y:,.2f}"))
    if overlays.annotate:
        _annotate_extremes(fig, values, trades)


def _annotate_extremes(fig: go.Figure, values: pd.Series, trades: pd.DataFrame | None) -> None:
    span = deepest_drawdown(values)
    if span is not None:
        end = span.recovery if span.recovery is not None else values.index[-1]
        fig.add_vrect(x0=span.peak, x1=end, fillcolor=COLORS.drawdown_fill, line_width=0, layer="below",
                      annotation_text=f"Max drawdown {span.depth * 100:.1f} %", annotation_position="top left")
    if trades is None or not len(trades):
        return
    pnl = realised_pnl(trades)
    if not len(pnl):
        return
    for idx, label in ((pnl.idxmax(), "Best trade"), (pnl.idxmin(), "Worst trade")):
        when = pd.Timestamp(trades.loc[idx, "timestamp"])
        at = values.index[min(values.index.searchsorted(when), len(values) - 1)]
        fig.add_annotation(x=at, y=float(values.loc[at]), text=f"{label} {pnl[idx]:+,.2f}", showarrow=True,
                           arrowhead=2, ax=0, ay=-36 if label == "Best trade" else 36)


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


def stock_share_figure(stock_share: pd.Series, guardrail_min: float, guardrail_max: float) -> go.Figure:
    """The stock share of the account (``timeline["stock_share"]``) inside the shaded guardrail band.

    Args:
        stock_share: the closing stock share per bar, a fraction.
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
            x=stock_share.index,
            y=stock_share.to_numpy(dtype=float),
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
            if not len(rows):
                continue
            name = side.capitalize() + "s"
            shown = thin_trades(rows, MAX_TRADE_MARKERS)
            if len(shown) < len(rows):
                # Thousands of markers are a wall: the largest trade of each stretch of time is drawn, and the full
                # list is one legend click away.
                fig.add_trace(_trade_markers(rows, f"All {len(rows):,} {name.lower()}", symbol, color,
                                             visible="legendonly"))
                name = f"{name} ({len(shown):,} largest of {len(rows):,})"
            fig.add_trace(_trade_markers(shown, name, symbol, color))
    return _layout(fig, height=420, yaxis={"title": "Price", "tickformat": ",.2f"})


def thin_trades(trades: pd.DataFrame, limit: int) -> pd.DataFrame:
    """At most ``limit`` trades: the largest (by notional) of each of ``limit`` equal stretches of time."""
    if len(trades) <= limit:
        return trades
    stamps = pd.to_datetime(trades["timestamp"]).astype("int64").to_numpy()
    edges = np.linspace(stamps.min(), stamps.max(), limit + 1)
    bucket = np.clip(np.searchsorted(edges, stamps, side="right") - 1, 0, limit - 1)
    keep = (trades.assign(_bucket=bucket, _size=trades["notional"].abs())
            .sort_values("_size", ascending=False, kind="stable")
            .drop_duplicates("_bucket").index)
    return trades.loc[sorted(keep)]


def _trade_markers(rows: pd.DataFrame, name: str, symbol: str, color: str, visible: Any = True) -> go.Scatter:
    return go.Scatter(
        x=rows["timestamp"],
        y=rows["price"].to_numpy(dtype=float),
        name=name,
        mode="markers",
        visible=visible,
        marker={"symbol": symbol, "color": color, "size": LAYOUT.marker_size},
        # the engine's plain-language reason, so hovering a marker says why the order was placed
        customdata=rows["reason"].astype(str).to_numpy() if "reason" in rows else None,
        hovertemplate="%{y:,.2f}<br>%{customdata}" if "reason" in rows else "%{y:,.2f}",
    )


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
CHART_TITLES: dict[str, str] = {"equity": "Account value", "drawdown": "Drawdown", "stock_share": "Stock share",
                                "price_anchor": "Price, anchor and triggers"}
EXPORT_OVERLAYS = Overlays(trend=True, annotate=True)
"""What an exported equity image carries: the trend with its growth per year, the largest drawdown and the best and
worst trades."""


def run_figure(result: Any, chart: str, *, overlays: Overlays | None = None) -> go.Figure:
    """One chart of a run (``chart`` in ``RUN_CHARTS``; ``result`` is a ``core.SimulationResult``), built alone so
    that an export of one image does not build the others; ``overlays`` go on the equity chart."""
    tl, cfg = result.timeline, result.config
    builders: dict[str, Callable[[], go.Figure]] = {
        "equity": lambda: equity_figure(result.equity, result.benchmarks, overlays=overlays, trades=result.trades),
        "drawdown": lambda: drawdown_figure(result.equity, result.benchmarks),
        "stock_share": lambda: stock_share_figure(tl["stock_share"], cfg.guardrail_min, cfg.guardrail_max),
        "price_anchor": lambda: price_anchor_figure(tl, result.trades),
    }
    if chart not in builders:
        raise ValueError(f"chart must be one of {', '.join(RUN_CHARTS)} for a run, got {chart!r}")
    return builders[chart]()


def run_figures(result: Any, *, overlays: Overlays | None = None) -> dict[str, go.Figure]:
    """Every chart of a run, keyed by ``RUN_CHARTS`` (:func:`run_figure` of each)."""
    return {chart: run_figure(result, chart, overlays=overlays) for chart in RUN_CHARTS}
