"""Long line traces thinned to what a raster image can show, before chromium draws them.

A PNG 1,000 CSS pixels wide cannot show more than 1,000 distinct x positions, yet a 32-year daily run puts 8,000
points in each of its lines, and drawing them is most of what an image costs (0.16 s for that equity chart,
0.06 s with its lines removed). The M4 aggregation (Jugel et al., "M4: a visualization-oriented
time series data aggregation", VLDB 2014) keeps, for each of as many equal x intervals as the image has columns,
the first, the lowest, the highest and the last point. The line drawn through those four crosses the column at the
same entry and exit heights and spans the same vertical range as the line through every point, so the picture is
the same up to anti-aliasing inside a column. Columns are CSS pixels: at the export's scale 2 a column is two
device pixels wide, and those are where a pixel can differ (0.03 % of them, against 0.6 % for keeping every 5th
point; ``tests/report/test_raster_lines.py`` compares them).

The aggregation is tsdownsample's ``M4Downsampler`` (Rust, the library behind plotly-resampler): it bins by the x
values, so weekends and missing days keep their width. Only raster exports are thinned; SVG stays exact, as a
reader may zoom into a vector image.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

# M4 keeps four points (first, lowest, highest, last) of each x interval.
POINTS_PER_COLUMN = 4
# Per-point attributes cut along with x and y, so a thinned trace stays consistent.
_PER_POINT = ("x", "y", "customdata", "text", "hovertext", "ids")


def _x_positions(trace: Any, n: int) -> np.ndarray | None:
    """The trace's x as int64 nanoseconds or float, or None when it cannot be binned (categories, unsorted, NaT)."""
    if trace.x is None:
        return np.arange(n, dtype=np.float64)
    x = np.asarray(trace.x)
    if len(x) != n:
        return None
    if x.dtype.kind in "fiu":
        values = x.astype(np.float64)
    else:
        import pandas as pd  # here: the chart-export browser's imports stay light (core.report.export_browser)

        try:  # datetimes, or ISO date strings as plotly writes them; anything else is a category
            values = x.astype("datetime64[ns]") if x.dtype.kind == "M" else pd.to_datetime(x, format="ISO8601")
        except (TypeError, ValueError, OverflowError):
            return None  # a category axis: no x interval to bin by
        values = np.asarray(values, dtype="datetime64[ns]").view(np.int64)
        if (values == np.iinfo(np.int64).min).any():  # NaT
            return None
    if not np.isfinite(values).all() or (np.diff(values) < 0).any():
        return None
    return values


def _kept_points(trace: Any, columns: int) -> np.ndarray | None:
    """Indices M4 keeps of a plain line trace longer than the image can show, else None (the trace as it is)."""
    if trace.type != "scatter" or trace.mode != "lines" or trace.y is None or trace.line.shape == "spline":
        return None  # a spline's curve between two points depends on their neighbours
    y = np.asarray(trace.y)
    n_out = POINTS_PER_COLUMN * columns
    if len(y) <= n_out or y.dtype.kind not in "fiu":
        return None
    y = y.astype(np.float64)
    if not np.isfinite(y).all():  # a NaN is a gap in the line, which M4's bins would close
        return None
    x = _x_positions(trace, len(y))
    if x is None:
        return None
    from tsdownsample import M4Downsampler  # imported here: only image exports need it

    return np.unique(M4Downsampler().downsample(x, y, n_out=n_out).astype(np.int64))


def raster_figure(fig: go.Figure, width_px: int) -> go.Figure:
    """``fig`` with each line trace of more than ``4 * width_px`` points thinned by M4 to ``width_px`` columns
    (``width_px`` is the image width in CSS pixels: the plot area is narrower, so each bin is at most one column).

    Only ``scatter`` traces in ``lines`` mode (straight or stepped) with finite y and sorted numeric or date x
    are thinned; markers, splines, gaps and categories are drawn as they are. Returns ``fig`` itself when nothing
    is long enough to thin.
    """
    columns = max(int(width_px), 1)
    kept = {n: idx for n, trace in enumerate(fig.data) if (idx := _kept_points(trace, columns)) is not None}
    if not kept:
        return fig
    thinned = go.Figure(fig)
    for n, idx in kept.items():
        trace = thinned.data[n]
        length = len(trace.y)
        for name in _PER_POINT:
            values = trace[name]
            if values is not None and not isinstance(values, str) and len(values) == length:
                trace[name] = np.asarray(values)[idx]
    return thinned
