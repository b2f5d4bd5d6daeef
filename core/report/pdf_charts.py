"""Vector line charts and heatmaps for the PDF, drawn with reportlab's own graphics.

Drawing natively keeps the PDF fast and lets a cron job build it without a browser. Long series are thinned to
at most ``MAX_POINTS`` per line, keeping each bucket's lowest and highest point so drawdown troughs survive.

Colours are :mod:`core.theme`'s, the app's and the PNG/SVG exports' (converted by :func:`rl_color`), so a chart looks
the same in the PDF as on screen; the fonts are the theme's PDF fonts, embedded TrueType files with per-character
fallback (:mod:`core.report.pdf_fonts`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Group, Line, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from core.report.pdf_fonts import register_fonts, text_runs, text_width
from core.theme import COLORS, FONTS, heatmap_color, rgba_components

register_fonts()  # the theme's PDF fonts are the shipped TrueType files

MAX_POINTS = 1200
_EPOCH = pd.Timestamp("1970-01-01")


def rl_color(color: str) -> colors.Color:
    """A theme colour (``#rrggbb``, ``rgb()`` or ``rgba()``) as a reportlab colour, transparency included."""
    return colors.Color(*rgba_components(color))


def _text(
    x: float, y: float, text: str, *, size: float, bold: bool = False, textAnchor: str = "start"
) -> String | Group:
    """A string in the theme's font; text the font lacks (CJK, emoji) becomes a group of runs in fallback fonts."""
    primary = FONTS.pdf_bold if bold else FONTS.pdf_family
    runs = text_runs(text, primary)
    if len(runs) <= 1:
        return String(x, y, text, fontName=primary, fontSize=size, fillColor=rl_color(COLORS.text),
                      textAnchor=textAnchor)  # fmt: skip
    total = text_width(text, size, primary)
    start = x - {"start": 0.0, "middle": total / 2, "end": total}[textAnchor]
    group = Group()
    for name, chunk in runs:
        group.add(String(start, y, chunk, fontName=name, fontSize=size, fillColor=rl_color(COLORS.text)))
        start += stringWidth(chunk, name, size)
    return group


def _drawing(width: float, height: float) -> Drawing:
    """An empty drawing that starts in the theme's font (reportlab's default, Helvetica, is not embedded)."""
    drawing = Drawing(width, height)
    drawing.initialFontName = FONTS.pdf_family
    return drawing


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
    drawing = _drawing(width, height)
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
        legend_x += 16 + text_width(name, FONTS.pdf_tick_size) + 10
    return drawing


# Heatmaps: cell values are printed only up to this many rows and columns (past it they cannot be read); the grid
# shrinks to fit the page, and row and column labels are thinned so they never overlap.
MAX_LABELLED_CELLS = 30
MAX_CELL = 24.0  # points: the largest cell side
MIN_LABEL_CELL = 12.0  # points: a cell narrower than this prints no value at the smallest font
HAIRLINE_CELL = 8.0  # points: smaller cells are drawn without the white line between them
LEGEND_WIDTH = 62.0  # points right of the grid: the colour bar and its labels
LEGEND_STEPS = 40  # bands of the colour bar
HEATMAP_MARGIN_TOP = 34.0  # title and y-axis title
HEATMAP_MARGIN_BOTTOM = 30.0  # column labels and x-axis title
HEATMAP_LEFT = 70.0  # row labels


def _every(n: int, room: float, need: float) -> int:
    """Label every k-th of ``n`` items ``room`` points apart so that labels ``need`` points long do not touch."""
    return max(1, math.ceil(need / max(room, 1e-9))) if n else 1


def _colour_bar(x: float, y: float, height: float, lo: float, hi: float, value_text: Callable[[float], str],
                reverse: bool) -> Group:
    """A vertical colour bar from ``lo`` (bottom) to ``hi`` (top) with three labels: the heatmap's legend."""
    bar = Group()
    step = height / LEGEND_STEPS
    for i in range(LEGEND_STEPS):
        t = (i + 0.5) / LEGEND_STEPS
        fill = colors.Color(*heatmap_color(1 - t if reverse else t))
        bar.add(Rect(x, y + i * step, 8, step + 0.2, fillColor=fill, strokeColor=None))
    for t in (0.0, 0.5, 1.0):
        bar.add(_text(x + 11, y + t * height - 2.5, value_text(lo + t * (hi - lo)), size=FONTS.pdf_tick_size))
    return bar


def heatmap_drawing(
    pivot: pd.DataFrame,
    *,
    title: str,
    x_label: str,
    y_label: str,
    width: float = 480,
    max_height: float | None = None,
    value_text: Callable[[float], str] | None = None,
    tick_text: tuple[Callable[[object], str], Callable[[object], str]] | None = None,
    reverse: bool = False,
) -> Drawing:
    """A heatmap of ``pivot`` (rows = one parameter, columns = another) in one orientation everywhere: the first
    row value at the bottom, like a chart axis (the app's and the PNG's heatmaps read the same).

    Cells are coloured on the theme's red-to-green scale (:func:`core.theme.heatmap_color`: lowest red, highest
    green; ``reverse`` for a metric where lower is better, so green is always better) with a colour bar beside the
    grid. Values (``value_text``, default 3 significant digits) are printed in grids of at most
    :data:`MAX_LABELLED_CELLS` rows and columns whose cells are wide enough. The grid shrinks to ``max_height``
    points (a 100 × 100 grid fits a page); ``tick_text`` formats the column and row values.
    """
    n_rows, n_cols = pivot.shape
    value_text = value_text or (lambda v: f"{v:.3g}")
    x_tick, y_tick = tick_text or (str, str)
    left = HEATMAP_LEFT
    grid_w = max(width - left - LEGEND_WIDTH, 10.0)
    cell_w = grid_w / max(n_cols, 1)
    room = (max_height or (HEATMAP_MARGIN_TOP + HEATMAP_MARGIN_BOTTOM + MAX_CELL * max(n_rows, 1)))
    room -= HEATMAP_MARGIN_TOP + HEATMAP_MARGIN_BOTTOM
    cell_h = max(0.5, min(MAX_CELL, room / max(n_rows, 1), max(cell_w, 12.0)))
    height = HEATMAP_MARGIN_TOP + HEATMAP_MARGIN_BOTTOM + cell_h * n_rows
    drawing = _drawing(width, height)
    bottom = HEATMAP_MARGIN_BOTTOM
    values = pivot.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    span = (hi - lo) or 1.0
    small_grid = n_rows <= MAX_LABELLED_CELLS and n_cols <= MAX_LABELLED_CELLS
    font = max(FONTS.pdf_cell_min, min(FONTS.pdf_cell_max, cell_w / 6, cell_h * 0.6))
    # A white hairline between cells while they are large enough to show it; tiny cells are outlined in their own
    # colour instead, which closes the seams a viewer leaves between adjacent rectangles.
    hairline = min(cell_w, cell_h) >= HAIRLINE_CELL
    row_every = _every(n_rows, cell_h, FONTS.pdf_tick_size + 1)
    for r in range(n_rows):
        y = bottom + r * cell_h
        if r % row_every == 0:
            drawing.add(_text(left - 4, y + cell_h / 2 - 2.5, y_tick(pivot.index[r]), size=FONTS.pdf_tick_size,
                              textAnchor="end"))  # fmt: skip
        for c in range(n_cols):
            v = values[r, c]
            if math.isfinite(v):
                t = (v - lo) / span
                fill = colors.Color(*heatmap_color(1 - t if reverse else t))
                label = value_text(v) if small_grid else ""
            else:
                fill, label = rl_color(COLORS.missing), ""
            edge = rl_color(COLORS.background) if hairline else fill
            drawing.add(Rect(left + c * cell_w, y, cell_w, cell_h, fillColor=fill, strokeColor=edge,
                             strokeWidth=0.5 if hairline else 0.3))  # fmt: skip
            if label and cell_w >= MIN_LABEL_CELL and text_width(label, font) <= cell_w - 2:
                drawing.add(_text(left + (c + 0.5) * cell_w, y + cell_h / 2 - font / 3, label, size=font,
                                  textAnchor="middle"))  # fmt: skip
    widest = max((text_width(x_tick(c), FONTS.pdf_tick_size) for c in pivot.columns), default=0.0)
    col_every = _every(n_cols, cell_w, widest + 4)
    for c in range(0, n_cols, col_every):
        drawing.add(_text(left + (c + 0.5) * cell_w, bottom - 10, x_tick(pivot.columns[c]),
                          size=FONTS.pdf_tick_size, textAnchor="middle"))  # fmt: skip
    drawing.add(_colour_bar(left + grid_w + 8, bottom, cell_h * n_rows, lo, hi, value_text, reverse))
    drawing.add(_text(left + grid_w / 2, 6, x_label, size=FONTS.pdf_label_size, textAnchor="middle"))
    drawing.add(_text(4, height - 26, y_label, size=FONTS.pdf_label_size))
    drawing.add(_text(left, height - 12, title, size=FONTS.pdf_title_size, bold=True))
    return drawing
