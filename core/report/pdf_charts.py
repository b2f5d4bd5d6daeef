"""Vector line charts and heatmaps for the PDF, drawn with reportlab's own graphics.

Drawing natively keeps the PDF fast and lets a cron job build it without a browser. Long series are thinned to
at most ``MAX_POINTS`` per line, keeping each bucket's lowest and highest point so drawdown troughs survive.

Colours and fonts are :mod:`core.theme`'s, the app's and the PNG/SVG exports' (converted by :func:`rl_color`), so a
chart looks the same in the PDF as on screen.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors

from core.theme import COLORS, FONTS, heatmap_color, rgba_components

MAX_POINTS = 1200
_EPOCH = pd.Timestamp("1970-01-01")


def rl_color(color: str) -> colors.Color:
    """A theme colour (``#rrggbb``, ``rgb()`` or ``rgba()``) as a reportlab colour, transparency included."""
    return colors.Color(*rgba_components(color))


def _text(x: float, y: float, text: str, *, size: float, bold: bool = False, **options: object) -> String:
    return String(x, y, text, fontName=FONTS.pdf_bold if bold else FONTS.pdf_family, fontSize=size,
                  fillColor=rl_color(COLORS.text), **options)


def _thin(x: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS) -> list[tuple[float, float]]:
    ok = np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) <= max_points:
        return list(zip(x.tolist(), y.tolist(), strict=True))
    buckets = np.array_split(np.arange(len(x)), max_points // 2)
    keep: list[int] = []
    for b in buckets:
        lo, hi = b[np.argmin(y[b])], b[np.argmax(y[b])]
        keep.extend(sorted({int(lo), int(hi)}))
    keep = sorted(set(keep) | {0, len(x) - 1})
    return list(zip(x[keep].tolist(), y[keep].tolist(), strict=True))


def _days(index: pd.Index) -> np.ndarray:
    stamps = pd.DatetimeIndex(index)
    if stamps.tz is not None:
        stamps = stamps.tz_localize(None)
    return ((stamps - _EPOCH) / pd.Timedelta(days=1)).to_numpy(dtype=float)


def _year_label(days: float) -> str:
    return str((_EPOCH + pd.Timedelta(days=days)).year)


def line_chart(
    series: Mapping[str, pd.Series],
    styles: Mapping[str, tuple[str, float, bool]],
    *,
    title: str,
    y_format: Callable[[float], str],
    width: float = 480,
    height: float = 190,
    band: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
) -> Drawing:
    """A time-series line chart: ``series`` name -> values (DatetimeIndex), ``styles`` name -> (theme colour,
    line width, dashed). ``band`` shades a horizontal range (the guardrails) in the theme's band colour."""
    drawing = Drawing(width, height)
    plot = LinePlot()
    plot.x, plot.y = 48, 34
    plot.width, plot.height = width - 60, height - 62
    lines = [_thin(_days(s.index), s.to_numpy(dtype=float)) for s in series.values()]
    lines = [pts if pts else [(0.0, 0.0)] for pts in lines]
    plot.data = lines
    all_y = [p[1] for pts in lines for p in pts]
    lo, hi = (min(all_y), max(all_y)) if y_range is None else y_range
    if band is not None:
        lo, hi = min(lo, band[0]), max(hi, band[1])
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0) * 0.01
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax = lo, hi
    plot.yValueAxis.labelTextFormat = y_format
    for axis in (plot.xValueAxis, plot.yValueAxis):
        axis.labels.fontName, axis.labels.fontSize = FONTS.pdf_family, FONTS.pdf_tick_size
        axis.labels.fillColor = rl_color(COLORS.text)
    x0, x1 = lines[0][0][0], lines[0][-1][0]
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = x0, max(x1, x0 + 1)
    years = pd.date_range(_EPOCH + pd.Timedelta(days=x0), _EPOCH + pd.Timedelta(days=x1), freq="YS")
    step = max(1, math.ceil(len(years) / 10))
    plot.xValueAxis.valueSteps = [float(v) for v in _days(years[::step])] or [x0]
    plot.xValueAxis.labelTextFormat = _year_label
    for i, name in enumerate(series):
        colour, line_width, dashed = styles.get(name, (COLORS.neutral, 1.0, False))
        plot.lines[i].strokeColor = rl_color(colour)
        plot.lines[i].strokeWidth = line_width
        if dashed:
            plot.lines[i].strokeDashArray = [3, 2]
    if band is not None:
        scale = plot.height / (hi - lo)
        y0 = plot.y + (band[0] - lo) * scale
        drawing.add(
            Rect(
                plot.x,
                y0,
                plot.width,
                (band[1] - band[0]) * scale,
                fillColor=rl_color(COLORS.band),
                strokeColor=None,
            )
        )
        for bound in band:
            y = plot.y + (bound - lo) * scale
            drawing.add(
                Line(
                    plot.x,
                    y,
                    plot.x + plot.width,
                    y,
                    strokeColor=rl_color(COLORS.guardrail_line),
                    strokeDashArray=[3, 2],
                    strokeWidth=0.6,
                )
            )
    drawing.add(plot)
    drawing.add(_text(plot.x, height - 12, title, size=FONTS.pdf_title_size, bold=True))
    legend_x = plot.x
    for name in series:
        colour = styles.get(name, (COLORS.neutral, 1.0, False))[0]
        drawing.add(Rect(legend_x, 8, 10, 3, fillColor=rl_color(colour), strokeColor=None))
        drawing.add(_text(legend_x + 13, 6, name, size=FONTS.pdf_tick_size))
        legend_x += 16 + 4.2 * len(name) + 10
    return drawing


def heatmap_drawing(pivot: pd.DataFrame, *, title: str, x_label: str, y_label: str, width: float = 480) -> Drawing:
    """A heatmap of ``pivot`` (rows = one parameter, columns = another) with cells coloured on the theme's
    red-to-green scale (:func:`core.theme.heatmap_color`, lowest red, highest green) and their values."""
    n_rows, n_cols = pivot.shape
    cell_h = max(12.0, min(24.0, 300.0 / max(n_rows, 1)))
    height = 60 + cell_h * n_rows
    drawing = Drawing(width, height)
    left, bottom = 70.0, 30.0
    cell_w = (width - left - 10) / max(n_cols, 1)
    values = pivot.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    span = (hi - lo) or 1.0
    font = max(FONTS.pdf_cell_min, min(FONTS.pdf_cell_max, cell_w / 6))
    for r in range(n_rows):
        y = bottom + (n_rows - 1 - r) * cell_h
        drawing.add(_text(left - 4, y + cell_h / 2 - 3, str(pivot.index[r]), size=FONTS.pdf_tick_size,
                          textAnchor="end"))
        for c in range(n_cols):
            v = values[r, c]
            if math.isfinite(v):
                fill = colors.Color(*heatmap_color((v - lo) / span))
                label = f"{v:.3g}"
            else:
                fill, label = rl_color(COLORS.missing), ""
            drawing.add(Rect(left + c * cell_w, y, cell_w, cell_h, fillColor=fill,
                             strokeColor=rl_color(COLORS.background)))
            if label and cell_w > 18:
                drawing.add(_text(left + (c + 0.5) * cell_w, y + cell_h / 2 - 2.5, label, size=font,
                                  textAnchor="middle"))
    for c in range(n_cols):
        drawing.add(_text(left + (c + 0.5) * cell_w, bottom - 10, str(pivot.columns[c]), size=FONTS.pdf_tick_size,
                          textAnchor="middle"))
    drawing.add(_text(left + (width - left) / 2, 6, x_label, size=FONTS.pdf_label_size, textAnchor="middle"))
    drawing.add(_text(4, height - 26, y_label, size=FONTS.pdf_label_size))
    drawing.add(_text(left, height - 12, title, size=FONTS.pdf_title_size, bold=True))
    return drawing
