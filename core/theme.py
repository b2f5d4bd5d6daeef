"""The project's chart look, in one place: colours, fonts, layout defaults and image-export defaults.

Every Plotly builder (:mod:`core.figures`, :mod:`core.figures_optimize`, :mod:`core.figures_analysis`) applies it
with :func:`apply_theme` (the registered Plotly template :data:`TEMPLATE`, built on ``plotly_white``), the image
export (:mod:`core.report.images`) takes its default size from :data:`EXPORT`, and the PDF's reportlab charts
(:mod:`core.report.pdf_charts`) convert the same colours with :func:`rgba_components`, so a chart reads the same in
the app, as a PNG/SVG and in the PDF. Pure: no Streamlit, no reportlab.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import plotly.colors
import plotly.graph_objects as go
import plotly.io as pio

# --- colours ------------------------------------------------------------------------------------------------------

BLUE = "#1f5fbf"
GREY = "#7f8a99"
ORANGE = "#e07b39"
GREEN = "#2e8b57"
RED = "#c0392b"
PURPLE = "#8e44ad"
OCHRE = "#b7950b"
GOLD = "#d4a017"
TEAL = "#17a2b8"
INK = "#222222"  # text and the price line
NEUTRAL = "#444444"  # a series or event with no colour of its own
MUTED = "#9aa5b1"  # trigger lines, volume bars, training windows
RULE = "#bbbbbb"  # the zero line
MISSING = "#eeeeee"  # an empty heatmap cell in the PDF
WHITE = "#ffffff"


def rgba(color: str, alpha: float) -> str:
    """``color`` (``#rrggbb``) as a CSS ``rgba(r, g, b, alpha)`` string."""
    r, g, b, _ = rgba_components(color)
    return f"rgba({round(r * 255)}, {round(g * 255)}, {round(b * 255)}, {alpha:g})"


_RGB = re.compile(r"rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*(?:,\s*([\d.]+)\s*)?\)")


def rgba_components(color: str) -> tuple[float, float, float, float]:
    """Red, green, blue and alpha in 0…1 of ``#rrggbb``, ``rgb(r, g, b)`` or ``rgba(r, g, b, a)``.

    Raises:
        ValueError: for any other spelling.
    """
    text = color.strip()
    if re.fullmatch(r"#[0-9a-fA-F]{6}", text):
        return (int(text[1:3], 16) / 255, int(text[3:5], 16) / 255, int(text[5:7], 16) / 255, 1.0)
    match = _RGB.fullmatch(text)
    if match is None:
        raise ValueError(f"not a #rrggbb, rgb() or rgba() colour: {color!r}")
    r, g, b, a = match.groups()
    return (float(r) / 255, float(g) / 255, float(b) / 255, 1.0 if a is None else float(a))


@dataclass(frozen=True)
class SeriesStyle:
    """Name and line style of one series (the strategy and its benchmarks) across all figures."""

    name: str
    color: str
    dash: str
    width: float

    def line(self) -> dict[str, Any]:
        """The Plotly ``line`` of this series."""
        return {"color": self.color, "dash": self.dash, "width": self.width}


STRATEGY = "strategy"
SERIES: dict[str, SeriesStyle] = {
    STRATEGY: SeriesStyle("Strategy", BLUE, "solid", 2.2),
    "buy_and_hold": SeriesStyle("Buy & hold", GREY, "solid", 1.4),
    "static_mix": SeriesStyle("Static mix", ORANGE, "dot", 1.6),
}


def series_style(key: str) -> SeriesStyle:
    """The style of series ``key``; an unknown column gets a neutral dashed line named after it."""
    return SERIES.get(key, SeriesStyle(key.replace("_", " ").capitalize(), NEUTRAL, "dash", 1.2))


@dataclass(frozen=True)
class Colors:
    """The colour of every chart element that is not one of :data:`SERIES`."""

    strategy: str = BLUE
    buy_and_hold: str = GREY
    static_mix: str = ORANGE
    buy: str = GREEN  # buy markers, rising candles, gains
    sell: str = RED  # sell markers, falling candles, losses
    guardrail_line: str = RED  # the guardrail bounds
    band: str = rgba(BLUE, 0.08)  # the guardrail band and the no-trade band between the triggers
    drawdown_fill: str = rgba(BLUE, 0.5)  # the strategy's drawdown area
    price: str = INK
    anchor: str = BLUE
    trigger: str = MUTED
    volume: str = MUTED
    train: str = MUTED  # walk-forward training windows, monthly commission bars
    zero_line: str = RULE
    reference: str = INK  # the "real history" line of fan and distribution charts
    marker: str = RED  # further named markers on a distribution (VaR, CVaR)
    neutral: str = NEUTRAL  # a series or event type with no colour of its own
    text: str = INK
    background: str = WHITE
    missing: str = MISSING
    regime_other: str = "rgba(0, 0, 0, 0.05)"
    # Tables: the PDF's header, stripes, grid and footer; the app's "best in row" highlight.
    table_header: str = BLUE
    table_stripe: str = "#f2f5fa"
    table_grid: str = "#c8d0dc"
    footer: str = "#666666"
    best_cell: str = rgba(GREEN, 0.22)


COLORS = Colors()

# A qualitative palette for several series on one chart (the strategy blue first).
PALETTE: tuple[str, ...] = (BLUE, ORANGE, GREEN, RED, PURPLE, GREY, GOLD, TEAL)

# The fan chart's bands: (quantile row below, quantile row above, legend name, fill opacity of the strategy blue).
FAN_BANDS: tuple[tuple[int, int, str, float], ...] = ((0, 4, "5–95 % of paths", 0.12), (1, 3, "25–75 % of paths", 0.25))

EVENT_COLORS: dict[str, str] = {
    "order_filled": GREEN,
    "threshold_crossed": BLUE,
    "order_trimmed_guardrail": ORANGE,
    "order_rejected_min": GREY,
    "order_blocked": RED,
    "auto_guardrail_rebalance": PURPLE,
    "daily_cap_reached": OCHRE,
}

# Regime shading: light enough that the price line stays readable on top.
REGIME_COLORS: dict[str, str] = {
    "bull": rgba(GREEN, 0.14),
    "bear": rgba(RED, 0.14),
    "sideways": rgba(GREY, 0.10),
    "high": rgba(ORANGE, 0.16),
    "low": rgba(BLUE, 0.07),
}
REGIME_SWATCH_ALPHA = 0.5  # a regime's legend swatch: stronger than the faint shade itself

# Red (worse) to green (better) for every heatmap, surface and parallel-coordinates chart, as Plotly's RdYlGn.
HEATMAP_COLORS: tuple[str, ...] = tuple(plotly.colors.diverging.RdYlGn)
HEATMAP_COLORSCALE: tuple[tuple[float, str], ...] = tuple(
    (i / (len(HEATMAP_COLORS) - 1), c) for i, c in enumerate(HEATMAP_COLORS)
)


def heatmap_color(t: float) -> tuple[float, float, float]:
    """The colour at ``t`` in 0…1 of :data:`HEATMAP_COLORSCALE` (linear between its stops), red, green, blue in 0…1;
    the PDF's heatmap cells use it so they match the app's."""
    t = min(1.0, max(0.0, float(t)))
    stops = HEATMAP_COLORSCALE
    for (p0, c0), (p1, c1) in pairwise(stops):
        if t <= p1:
            w = (t - p0) / (p1 - p0) if p1 > p0 else 0.0
            a, b = rgba_components(c0), rgba_components(c1)
            return (a[0] + (b[0] - a[0]) * w, a[1] + (b[1] - a[1]) * w, a[2] + (b[2] - a[2]) * w)
    return rgba_components(stops[-1][1])[:3]


# --- fonts --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fonts:
    """Font family and sizes; ``pdf_family``/``pdf_bold`` are the reportlab names of the TrueType fonts the PDF
    embeds (:mod:`core.report.pdf_fonts` registers them: DejaVu Sans, shipped in ``core/report/fonts``)."""

    family: str = "Helvetica, Arial, 'Liberation Sans', sans-serif"
    size: int = 12
    title_size: int = 14
    hover_size: int = 11  # the study heatmap's many-line hover labels
    pdf_family: str = "DejaVuSans"
    pdf_bold: str = "DejaVuSans-Bold"
    pdf_title_size: float = 9
    pdf_label_size: float = 8  # axis titles
    pdf_tick_size: float = 7  # tick labels, legend, heatmap row and column labels
    pdf_cell_min: float = 5  # heatmap cell values shrink with the cell, between these sizes
    pdf_cell_max: float = 7


FONTS = Fonts()

# --- layout -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Margin:
    left: int
    right: int
    top: int
    bottom: int

    def plotly(self) -> dict[str, int]:
        return {"l": self.left, "r": self.right, "t": self.top, "b": self.bottom}


@dataclass(frozen=True)
class Layout:
    """Layout defaults of every figure (the template's), and the margins of the charts that need others."""

    base_template: str = "plotly_white"
    margin: Margin = Margin(10, 10, 30, 10)
    margin_titled: Margin = Margin(10, 10, 40, 10)  # a figure with a title above it
    margin_titled_two_lines: Margin = Margin(10, 10, 70, 10)  # a title with a second line (an exported image)
    margin_3d: Margin = Margin(0, 0, 30, 0)
    margin_parcoords: Margin = Margin(60, 40, 50, 20)  # room for the axis labels above and beside the lines
    hovermode: str = "x unified"  # time-series charts (heatmaps and histograms keep Plotly's "closest")
    legend_orientation: str = "h"
    legend_x: float = 0.0
    legend_y: float = 1.0
    marker_size: int = 7
    cell_marker_size: int = 14  # the study heatmap's transparent click targets

    def legend(self) -> dict[str, Any]:
        """A horizontal legend above the plot, left-aligned."""
        return {"orientation": self.legend_orientation, "yanchor": "bottom", "y": self.legend_y, "xanchor": "left",
                "x": self.legend_x}


LAYOUT = Layout()

# --- image export -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Export:
    """Chart image defaults: CSS pixels when a figure has no size of its own, and the PNG pixel ratio."""

    width: int = 1000
    height: int = 500
    scale: float = 2
    filename: str = "chart"  # the Plotly toolbar's camera button


EXPORT = Export()

# --- the Plotly template ------------------------------------------------------------------------------------------

TEMPLATE = "vbl"


def build_template() -> go.layout.Template:
    """The project's Plotly template: ``plotly_white`` with the theme's font, colours, margins and legend (the
    hover mode is set per chart: unified for time series, Plotly's default elsewhere)."""
    template = go.layout.Template(pio.templates[LAYOUT.base_template])
    template.layout.update(
        font={"family": FONTS.family, "size": FONTS.size, "color": COLORS.text},
        title={"font": {"family": FONTS.family, "size": FONTS.title_size, "color": COLORS.text}},
        hoverlabel={"font": {"family": FONTS.family}},
        paper_bgcolor=COLORS.background,
        plot_bgcolor=COLORS.background,
        colorway=list(PALETTE),
        colorscale={"sequential": [list(s) for s in HEATMAP_COLORSCALE],
                    "diverging": [list(s) for s in HEATMAP_COLORSCALE]},
        margin=LAYOUT.margin.plotly(),
        legend=LAYOUT.legend(),
    )
    return template


pio.templates[TEMPLATE] = build_template()


def apply_theme(fig: go.Figure, **layout: Any) -> go.Figure:
    """Put ``fig`` on the project's template, then apply ``layout`` (height, axes, per-chart overrides)."""
    fig.update_layout(template=TEMPLATE, **layout)
    return fig
