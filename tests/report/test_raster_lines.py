"""Long line traces thinned by M4 before a PNG is drawn (core.report.raster_lines): what is kept, what is left
alone, and that the picture does not change."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from chart_browser import needs_chromium
from PIL import Image

from core.report import images
from core.report.raster_lines import raster_figure
from core.theme import TEMPLATE

WIDTH = 1_000
N = 20_000


def _walk(n: int = N, seed: int = 3) -> tuple[pd.DatetimeIndex, np.ndarray]:
    # business days, so the x values have weekend gaps: the bins must follow time, not the point count
    x = pd.bdate_range("1950-01-02", periods=n)
    return x, 100 + np.random.default_rng(seed).normal(0, 1, n).cumsum()


def _line(x, y, **kwargs) -> go.Figure:
    # the project's template, as every exported chart has (importing streamlit changes plotly's default)
    layout = {"width": WIDTH, "height": 400, "template": TEMPLATE}
    return go.Figure(go.Scatter(x=x, y=y, mode="lines", **kwargs), layout=layout)


def test_each_column_keeps_its_first_lowest_highest_and_last_point() -> None:
    x, y = _walk()
    thinned = raster_figure(_line(x, y), WIDTH).data[0]
    kept_x = pd.DatetimeIndex(thinned.x)
    assert len(kept_x) <= 4 * WIDTH < N
    # the rule, computed independently: WIDTH equal intervals of time from the first to the last date
    ns = x.asi8.astype(float)
    edges = np.linspace(ns[0], ns[-1], WIDTH + 1)
    column = np.clip(np.searchsorted(edges, ns, side="right") - 1, 0, WIDTH - 1)
    kept = pd.Series(np.asarray(thinned.y), index=kept_x)
    full = pd.Series(y, index=x)
    kept_column = column[x.get_indexer(kept_x)]
    assert (x.get_indexer(kept_x) >= 0).all()  # only original points, none invented
    for c in np.unique(column):
        in_column = full[column == c]
        mine = kept[kept_column == c]
        assert mine.min() == in_column.min() and mine.max() == in_column.max()
        assert mine.index[0] == in_column.index[0] and mine.index[-1] == in_column.index[-1]


def test_per_point_attributes_are_cut_with_the_points() -> None:
    x, y = _walk()
    fig = _line(x, y, customdata=np.arange(N), hovertext=[f"p{i}" for i in range(N)])
    thinned = raster_figure(fig, WIDTH).data[0]
    idx = np.asarray(thinned.customdata)
    assert np.array_equal(np.asarray(thinned.y), y[idx])
    assert list(thinned.hovertext) == [f"p{i}" for i in idx]
    assert len(fig.data[0].y) == N  # the caller's figure is not changed


@pytest.mark.parametrize(
    "trace",
    [
        go.Scatter(x=_walk()[0], y=_walk()[1], mode="markers"),  # markers are thinned by the figure builders
        go.Scatter(x=_walk()[0], y=np.where(np.arange(N) % 5000 == 7, np.nan, _walk()[1]), mode="lines"),  # gaps
        go.Scatter(x=[f"c{i}" for i in range(N)], y=_walk()[1], mode="lines"),  # categories
        go.Scatter(x=_walk()[0][::-1], y=_walk()[1], mode="lines"),  # unsorted x
        go.Scatter(x=_walk(3_999)[0], y=_walk(3_999)[1], mode="lines"),  # short enough already
        go.Scatter(x=_walk()[0], y=_walk()[1], mode="lines", line_shape="spline"),  # curves through every point
        go.Bar(x=_walk()[0], y=_walk()[1]),
    ],
    ids=["markers", "gaps", "categories", "unsorted", "short", "spline", "bar"],
)
def test_what_cannot_be_thinned_exactly_is_left_as_it_is(trace) -> None:
    fig = go.Figure(trace)
    assert raster_figure(fig, WIDTH) is fig


def test_a_wider_image_keeps_more_points() -> None:
    x, y = _walk()
    assert len(raster_figure(_line(x, y), 500).data[0].y) < len(raster_figure(_line(x, y), 2_000).data[0].y)


def test_numeric_x_and_no_x_are_thinned_too() -> None:
    _, y = _walk()
    assert len(raster_figure(go.Figure(go.Scatter(y=y, mode="lines")), WIDTH).data[0].y) <= 4 * WIDTH
    thinned = raster_figure(go.Figure(go.Scatter(x=np.arange(N) * 0.5, y=y, mode="lines")), WIDTH).data[0]
    assert thinned.x[0] == 0 and thinned.x[-1] == (N - 1) * 0.5


def _grey(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)


def _bare_line(x, y) -> go.Figure:
    # the line alone: no text, whose glyphs may be drawn before or after a font has loaded
    fig = _line(x, y, line={"width": 2})
    return fig.update_layout(margin={"l": 0, "r": 0, "t": 0, "b": 0}, xaxis_visible=False, yaxis_visible=False)


@needs_chromium
def test_the_png_looks_the_same_as_with_every_point(monkeypatch) -> None:
    x, y = _walk()
    try:
        thinned = _grey(images.figure_image(_bare_line(x, y), "png"))
        monkeypatch.setattr(images, "raster_figure", lambda f, width: f)
        every_point = _grey(images.figure_image(_bare_line(x, y), "png"))
        # the control: keeping every 5th point (as many as M4 keeps) visibly changes the line
        every_fifth = _grey(images.figure_image(_bare_line(x[::5], y[::5]), "png"))
    finally:
        images.shutdown()
    assert thinned.shape == every_point.shape == (800, 2 * WIDTH)

    def changed(a: np.ndarray) -> float:  # the share of pixels that turn from line to background or back
        return float((np.abs(a - every_point) > 128).mean())

    assert changed(thinned) < 0.001  # stroke edges only (measured: 0.03 % of the pixels; the line covers 5 %)
    assert changed(every_fifth) > 8 * changed(thinned)  # measured: 19 times as many


@needs_chromium
def test_svg_is_not_thinned(monkeypatch) -> None:
    seen: list[go.Figure] = []
    real = images.raster_figure
    monkeypatch.setattr(images, "raster_figure", lambda f, width: seen.append(f) or real(f, width))
    x, y = _walk()
    try:
        svg = images.figure_image(_line(x, y), "svg")
    finally:
        images.shutdown()
    assert not seen and svg.lstrip().startswith(b"<svg")
