"""Vector line charts and heatmaps for the PDF, drawn with reportlab's own graphics.

Drawing natively keeps the PDF fast and lets a cron job build it without a browser. Long series are thinned to
at most ``MAX_POINTS`` per line, keeping each bucket's lowest and highest point so drawdown troughs survive.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors

MAX_POINTS = 1200
_EPOCH = pd.Timestamp("1970-01-01")


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
    """A time-series line chart: ``series`` name -> values (DatetimeIndex), ``styles`` name -> (hex colour,
    line width, dashed). ``band`` shades a horizontal range (the guardrails)."""
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
    plot.yValueAxis.labels.fontSize = 7
    x0, x1 = lines[0][0][0], lines[0][-1][0]
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = x0, max(x1, x0 + 1)
    years = pd.date_range(_EPOCH + pd.Timedelta(days=x0), _EPOCH + pd.Timedelta(days=x1), freq="YS")
    step = max(1, math.ceil(len(years) / 10))
    plot.xValueAxis.valueSteps = [float(v) for v in _days(years[::step])] or [x0]
    plot.xValueAxis.labelTextFormat = _year_label
    plot.xValueAxis.labels.fontSize = 7
    for i, name in enumerate(series):
        colour, line_width, dashed = styles.get(name, ("#444444", 1.0, False))
        plot.lines[i].strokeColor = colors.HexColor(colour)
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
                fillColor=colors.Color(0.12, 0.37, 0.75, 0.08),
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
                    strokeColor=colors.HexColor("#c0392b"),
                    strokeDashArray=[3, 2],
                    strokeWidth=0.6,
                )
            )
    drawing.add(plot)
    drawing.add(String(plot.x, height - 12, title, fontName="Helvetica-Bold", fontSize=9))
    legend_x = plot.x
    for name in series:
        colour = styles.get(name, ("#444444", 1.0, False))[0]
        drawing.add(Rect(legend_x, 8, 10, 3, fillColor=colors.HexColor(colour), strokeColor=None))
        drawing.add(String(legend_x + 13, 6, name, fontName="Helvetica", fontSize=7))
        legend_x += 16 + 4.2 * len(name) + 10
    return drawing


def heatmap_drawing(pivot: pd.DataFrame, *, title: str, x_label: str, y_label: str, width: float = 480) -> Drawing:
    """A heatmap of ``pivot`` (rows = one parameter, columns = another) with red-to-green cells and values."""
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
    font = max(5.0, min(7.0, cell_w / 6))
    for r in range(n_rows):
        y = bottom + (n_rows - 1 - r) * cell_h
        drawing.add(String(left - 4, y + cell_h / 2 - 3, str(pivot.index[r]), fontSize=7, textAnchor="end"))
        for c in range(n_cols):
            v = values[r, c]
            if math.isfinite(v):
                t = (v - lo) / span
                fill = colors.Color(min(1.0, 2 * (1 - t)), min(1.0, 2 * t) * 0.8, 0.25)
                label = f"{v:.3g}"
            else:
                fill, label = colors.HexColor("#eeeeee"), ""
            drawing.add(Rect(left + c * cell_w, y, cell_w, cell_h, fillColor=fill, strokeColor=colors.white))
            if label and cell_w > 18:
                drawing.add(
                    String(left + (c + 0.5) * cell_w, y + cell_h / 2 - 2.5, label, fontSize=font, textAnchor="middle")
                )
    for c in range(n_cols):
        drawing.add(
            String(left + (c + 0.5) * cell_w, bottom - 10, str(pivot.columns[c]), fontSize=7, textAnchor="middle")
        )
    drawing.add(String(left + (width - left) / 2, 6, x_label, fontSize=8, textAnchor="middle"))
    drawing.add(String(4, height - 26, y_label, fontSize=8))
    drawing.add(String(left, height - 12, title, fontName="Helvetica-Bold", fontSize=9))
    return drawing
