"""The chart theme (core.theme): every Plotly builder carries it, the PDF's reportlab charts use its colours, and
chart images leave through one export function at the theme's default size."""

from __future__ import annotations

import ast
import inspect
import itertools
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from chart_browser import needs_chromium
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Line, Rect, String

import core.figures
import core.figures_analysis
import core.figures_optimize
from core import StrategyConfig, simulate, theme
from core.data import load_sample
from core.engine import METRIC_NAMES
from core.report import images
from core.report.pdf_charts import heatmap_drawing, line_chart, rl_color

ROOT = Path(__file__).resolve().parents[1]
BUILDER_MODULES = (core.figures, core.figures_optimize, core.figures_analysis)


# --- small inputs for every builder ---------------------------------------------------------------------------------


@cache
def _result():
    data = load_sample("GOOG")
    prices = data.prices.iloc[:260]
    dividends = data.dividends[data.dividends.index <= prices.index[-1]] if len(data.dividends) else None
    return simulate(prices, StrategyConfig(), dividends if dividends is not None and len(dividends) else None)


def _days(n: int = 60) -> pd.DatetimeIndex:
    return pd.bdate_range("2021-01-04", periods=n)


def _walk(n: int = 60, seed: int = 1) -> pd.Series:
    rng = np.random.default_rng(seed)
    return pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, n))), index=_days(n))


@cache
def _trials() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = []
    grid = itertools.product((0.01, 0.02, 0.03), (0.01, 0.02), ("proportional", "original"))
    for i, (up, down, sizing) in enumerate(grid):
        rows.append({"index": i, "status": "completed", "param.trigger_up": up, "param.trigger_down": down,
                     "param.sizing": sizing, **{m: float(rng.normal()) for m in METRIC_NAMES}})
    return core.figures_optimize.study_trials(pd.DataFrame(rows))


def _events() -> pd.DataFrame:
    days = _days(4)
    return pd.DataFrame({"timestamp": days, "type": ["order_filled", "threshold_crossed", "order_blocked", "other"],
                         "message": ["a", "b", "c", "d"]})


def _sensitivity():
    from core.analysis import sensitivity_from_trials

    trials = _trials()
    return sensitivity_from_trials(trials, trials.loc[trials["sharpe"].idxmax()], "sharpe")


def _regime_labels() -> pd.DataFrame:
    close = _walk(30)
    trend = ["bull"] * 10 + ["bear"] * 10 + ["sideways"] * 10
    return pd.DataFrame({"close": close, "trend": trend}, index=close.index)


def _inputs() -> dict[str, Callable[[], go.Figure]]:
    """One call per figure builder (name -> a call with small inputs)."""
    from core.analysis import parallel_coordinates, surface

    f, o, a = core.figures, core.figures_optimize, core.figures_analysis
    result = _result()
    walk, other = _walk(), _walk(seed=2)
    months = pd.DataFrame(np.linspace(-0.05, 0.05, 24).reshape(2, 12), index=[2021, 2022], columns=range(1, 13))
    return {
        "core.figures.equity_figure": lambda: f.equity_figure(result.equity, result.benchmarks),
        "core.figures.drawdown_figure": lambda: f.drawdown_figure(result.equity, result.benchmarks),
        "core.figures.stock_share_figure": lambda: f.stock_share_figure(result.timeline["stock_share"], 0.2, 0.8),
        "core.figures.price_anchor_figure": lambda: f.price_anchor_figure(result.timeline, result.trades),
        "core.figures.heatmap_figure": lambda: f.heatmap_figure(
            pd.DataFrame([[0.1, 0.2], [0.3, np.nan]], index=[1, 2], columns=[3, 4]), metric="sharpe"),
        "core.figures.candlestick_figure": lambda: f.candlestick_figure(
            pd.DataFrame({"open": walk, "high": walk * 1.01, "low": walk * 0.99, "close": walk,
                          "volume": 1000.0}), title="Candles"),
        "core.figures.event_timeline_figure": lambda: f.event_timeline_figure(_events()),
        "core.figures_optimize.study_heatmap_figure": lambda: o.study_heatmap_figure(
            o.heatmap_view(_trials(), "trigger_up", "trigger_down", "sharpe", "best", ["trigger_up", "trigger_down"])),
        "core.figures_optimize.surface_figure": lambda: o.surface_figure(
            surface(_trials(), "trigger_up", "sizing", "sharpe"), "max"),
        "core.figures_optimize.parallel_coordinates_figure": lambda: o.parallel_coordinates_figure(
            parallel_coordinates(_trials(), "sharpe", top=5)),
        "core.figures_optimize.sensitivity_figure": lambda: o.sensitivity_figure(_sensitivity()),
        "core.figures_analysis.folds_timeline_figure": lambda: a.folds_timeline_figure(pd.DataFrame({
            "fold": [0, 1], "train_start": ["2020-01-01", "2020-07-01"], "train_end": ["2020-12-31", "2021-06-30"],
            "test_start": ["2021-01-01", "2021-07-01"], "test_end": ["2021-06-30", "2021-12-31"]})),
        "core.figures_analysis.stitched_equity_figure": lambda: a.stitched_equity_figure(walk, other),
        "core.figures_analysis.fan_figure": lambda: a.fan_figure(pd.DataFrame({i: _walk(seed=i) for i in range(8)}),
                                                                 walk),
        "core.figures_analysis.distribution_figure": lambda: a.distribution_figure(
            walk.pct_change().dropna(), 0.01, markers={"Median": 0.0}),
        "core.figures_analysis.pnl_figure": lambda: a.pnl_figure(
            pd.DataFrame({"timestamp": _days(4), "pnl": [5.0, -3.0, 2.0, -1.0]})),
        "core.figures_analysis.histogram_figure": lambda: a.histogram_figure(walk.to_numpy(), label="Days held"),
        "core.figures_analysis.side_counts_figure": lambda: a.side_counts_figure(
            pd.DataFrame({"BUY": [1, 2], "SELL": [2, 0]}, index=["Mon", "Tue"])),
        "core.figures_analysis.fees_figure": lambda: a.fees_figure(
            pd.DataFrame({"commission": [1.0, 2.0], "cumulative": [1.0, 3.0]}, index=_days(2))),
        "core.figures_analysis.rolling_figure": lambda: a.rolling_figure(
            pd.DataFrame({"strategy": walk, "buy_and_hold": other}), title="Rolling"),
        "core.figures_analysis.returns_distribution_figure": lambda: a.returns_distribution_figure(
            walk.pct_change().dropna(), -0.02, -0.03, 0.05),
        "core.figures_analysis.monthly_heatmap_figure": lambda: a.monthly_heatmap_figure(months),
        "core.figures_analysis.regime_price_figure": lambda: a.regime_price_figure(_regime_labels()),
        "core.figures_analysis.regime_returns_figure": lambda: a.regime_returns_figure(pd.DataFrame({
            "regime": ["bull", "bear"], "strategy_return": [0.1, -0.05], "buy_hold_return": [0.2, -0.1]})),
        "core.figures_analysis.normalised_equity_figure": lambda: a.normalised_equity_figure(
            {"Run 1": walk, "Run 2": other, "Run 3": walk * 2}),
        "core.figures.run_figure": lambda: f.run_figure(result, "equity"),
        **{f"core.figures.run_figures[{k}]": (lambda k=k: f.run_figures(result)[k]) for k in f.RUN_CHARTS},
    }


def _builders() -> set[str]:
    """Every public function of the figure modules that returns a figure (``*_figure`` and ``run_figures``)."""
    found = set()
    for module in BUILDER_MODULES:
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and not name.startswith("_") and name.endswith("_figure"):
                found.add(f"{module.__name__}.{name}")
    return found


def test_every_builder_has_an_input_here():
    """A new builder must be added to _inputs, so that the theme checks below reach it."""
    covered = {name for name in _inputs() if "[" not in name}
    assert _builders() == covered


# --- (a) every figure carries the theme ------------------------------------------------------------------------------


def _theme_colours() -> set[tuple[float, ...]]:
    """Every colour the theme defines, as rounded RGBA, including the derived shades the builders draw."""
    names = [getattr(theme.COLORS, f) for f in theme.Colors.__dataclass_fields__]
    names += list(theme.PALETTE) + [s.color for s in theme.SERIES.values()] + list(theme.EVENT_COLORS.values())
    names += list(theme.REGIME_COLORS.values()) + list(theme.HEATMAP_COLORS)
    names += [theme.rgba(c, theme.REGIME_SWATCH_ALPHA) for c in [*theme.REGIME_COLORS.values(),
                                                                  theme.COLORS.regime_other]]
    names += [theme.rgba(theme.COLORS.strategy, alpha) for *_, alpha in theme.FAN_BANDS]
    return {_key(c) for c in names}


def _key(colour: str) -> tuple[float, ...]:
    return tuple(round(v, 3) for v in theme.rgba_components(colour))


def _colours(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, colour string) of every ``*color`` entry of a figure's JSON (templates excluded)."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "template":
                continue
            if "color" in k.lower() and "colorscale" not in k.lower() and k != "coloraxis":
                values = v if isinstance(v, list | tuple | np.ndarray) else [v]
                yield from ((f"{path}.{k}", c) for c in values if isinstance(c, str))
            yield from _colours(v, f"{path}.{k}")
    elif isinstance(node, list | tuple):
        for i, v in enumerate(node):
            yield from _colours(v, f"{path}[{i}]")


@pytest.fixture(scope="module")
def built() -> dict[str, go.Figure]:
    return {name: make() for name, make in _inputs().items()}


def test_every_figure_carries_the_theme_template_and_font(built):
    template = pio.templates[theme.TEMPLATE]
    for name, fig in built.items():
        assert fig.layout.template == template, name
        carried = fig.layout.template.layout
        assert carried.font.family == theme.FONTS.family, name
        assert carried.font.size == theme.FONTS.size, name
        assert carried.font.color == theme.COLORS.text, name
        assert list(carried.colorway) == list(theme.PALETTE), name
        assert carried.paper_bgcolor == carried.plot_bgcolor == theme.COLORS.background, name
        assert fig.layout.font.family in (None, theme.FONTS.family), name  # nothing overrides the theme's font


def test_every_colour_drawn_comes_from_the_theme(built):
    allowed = _theme_colours()
    drawn = 0
    for name, fig in built.items():
        for path, colour in _colours(fig.to_plotly_json()):
            assert _key(colour) in allowed, f"{name}{path} = {colour!r} is not a theme colour"
            drawn += 1
    assert drawn > 50  # the walk found the colours at all


def test_colour_scales_are_the_theme_heatmap_scale(built):
    expected = [list(s) for s in theme.HEATMAP_COLORSCALE]
    scales = 0
    for name, fig in built.items():
        for trace in fig.data:
            scale = trace.line.colorscale if isinstance(trace, go.Parcoords) else getattr(trace, "colorscale", None)
            if scale is not None:
                assert [list(s) for s in scale] == expected, name
                scales += 1
    assert scales == 5  # run heatmap, study heatmap, surface, parallel coordinates, monthly heatmap


def test_series_and_layout_defaults_come_from_the_theme(built):
    equity = built["core.figures.equity_figure"]
    strategy = next(t for t in equity.data if t.name == theme.SERIES[theme.STRATEGY].name)
    assert strategy.line.color == theme.SERIES[theme.STRATEGY].color
    assert strategy.line.width == theme.SERIES[theme.STRATEGY].width
    assert equity.layout.hovermode == theme.LAYOUT.hovermode
    assert equity.layout.template.layout.legend.orientation == theme.LAYOUT.legend_orientation
    assert equity.layout.template.layout.margin.t == theme.LAYOUT.margin.top
    drawdown = built["core.figures.drawdown_figure"]
    assert drawdown.data[0].fillcolor == theme.COLORS.drawdown_fill
    anchor = built["core.figures.price_anchor_figure"]
    buys = next(t for t in anchor.data if t.name == "Buys")
    assert buys.marker.color == theme.COLORS.buy
    band = built["core.figures.stock_share_figure"].layout.shapes[0]
    assert band.fillcolor == theme.COLORS.band


def test_the_theme_module_is_pure():
    tree = ast.parse((ROOT / "core" / "theme.py").read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not {m for m in imported if m.split(".")[0] in ("streamlit", "reportlab", "kaleido")}


LITERALS = re.compile(r"""["'](?:#[0-9a-fA-F]{3,8}["']|rgba?\(|plotly_white["']|Helvetica[-\w]*["']|RdYlGn["'])""")


def test_no_builder_spells_a_colour_or_font_of_its_own():
    """Colours, fonts, templates and margins are the theme's: the builders only name them."""
    for module in (*BUILDER_MODULES, core.report.pdf_charts):
        source = inspect.getsource(module)
        assert LITERALS.findall(source) == [], module.__name__
        for needle in (r"HexColor", r"\bmargin=\{", r"\btemplate=", r"fontName=\""):
            assert not re.search(needle, source), f"{module.__name__} spells {needle!r}"


# --- (b) the PDF's charts use the theme's colours -------------------------------------------------------------------


def _shapes(drawing, kind):
    return [s for s in drawing.contents if isinstance(s, kind)]


def test_pdf_line_chart_colours_and_fonts_are_the_theme(built):
    from core.figures import STYLES  # what core.report.pdf hands to line_chart

    assert STYLES is theme.SERIES
    index = _days(40)
    series = {STYLES[k].name: pd.Series(np.linspace(0.3, 0.7, 40), index=index) for k in STYLES}
    styles = {STYLES[k].name: (STYLES[k].color, STYLES[k].width, STYLES[k].dash != "solid") for k in STYLES}
    drawing = line_chart(series, styles, title="Stock share", y_format="{:.0%}".format, band=(0.2, 0.8))
    plot = _shapes(drawing, LinePlot)[0]
    for i, key in enumerate(STYLES):
        assert plot.lines[i].strokeColor.rgba() == pytest.approx(rl_color(theme.SERIES[key].color).rgba())
        assert plot.lines[i].strokeColor.rgba()[:3] == pytest.approx(theme.rgba_components(STYLES[key].color)[:3])
    band = next(r for r in _shapes(drawing, Rect) if r.width == plot.width)
    assert band.fillColor.rgba() == pytest.approx(theme.rgba_components(theme.COLORS.band))
    bounds = _shapes(drawing, Line)
    assert len(bounds) == 2
    assert all(b.strokeColor.rgba() == pytest.approx(theme.rgba_components(theme.COLORS.guardrail_line))
               for b in bounds)
    legend = [r for r in _shapes(drawing, Rect) if r.width == 10]
    assert [r.fillColor.rgba()[:3] for r in legend] == [
        pytest.approx(theme.rgba_components(s.color)[:3]) for s in STYLES.values()]
    texts = _shapes(drawing, String)
    assert {t.fontName for t in texts} == {theme.FONTS.pdf_family, theme.FONTS.pdf_bold}
    assert all(t.fillColor.rgba()[:3] == pytest.approx(theme.rgba_components(theme.COLORS.text)[:3]) for t in texts)
    assert plot.xValueAxis.labels.fontName == theme.FONTS.pdf_family


def test_pdf_heatmap_cells_follow_the_theme_scale():
    pivot = pd.DataFrame([[0.0, 0.5], [1.0, np.nan]], index=[1, 2], columns=[3, 4])
    drawing = heatmap_drawing(pivot, title="Sharpe", x_label="x", y_label="y")
    cells = [r for r in _shapes(drawing, Rect)]
    assert len(cells) == 4
    fills = [c.fillColor.rgba()[:3] for c in cells]  # drawn row by row: 0.0, 0.5, 1.0, missing
    first, last = theme.rgba_components(theme.HEATMAP_COLORS[0]), theme.rgba_components(theme.HEATMAP_COLORS[-1])
    assert fills[0] == pytest.approx(first[:3])  # the lowest value is the scale's red end, as in the app
    assert fills[1] == pytest.approx(theme.heatmap_color(0.5))
    assert fills[2] == pytest.approx(last[:3])  # the highest its green end
    assert fills[3] == pytest.approx(theme.rgba_components(theme.COLORS.missing)[:3])
    assert all(c.strokeColor.rgba()[:3] == pytest.approx(theme.rgba_components(theme.COLORS.background)[:3])
               for c in cells)


def test_heatmap_color_interpolates_the_plotly_scale():
    import plotly.colors

    for t in (0.0, 0.13, 0.5, 0.77, 1.0):
        expected = plotly.colors.sample_colorscale([list(s) for s in theme.HEATMAP_COLORSCALE], t)[0]
        assert theme.heatmap_color(t) == pytest.approx(theme.rgba_components(expected)[:3], abs=1 / 255)


# --- (c) one export function, at the theme's size -------------------------------------------------------------------


def test_every_image_export_goes_through_figure_image(monkeypatch):
    """The app's download widget and the run/study exports (the CLI's path) call core.report.images.figure_image."""
    from app.widgets import _lazy_image
    from core.report.context import DatasetMeta, RunReport
    from core.report.exports import run_export

    calls: list[tuple[str, dict]] = []

    def spy(fig, fmt="png", **kwargs):
        calls.append((fmt, kwargs))
        return b"\x89PNG\r\n\x1a\n" if fmt == "png" else b"<svg/>"

    monkeypatch.setattr("core.report.images.figure_image", spy)
    fig = core.figures.equity_figure(_walk())
    assert _lazy_image(fig, "png", None, "k", "t")() == b"\x89PNG\r\n\x1a\n"
    data = load_sample("GOOG")
    report = RunReport(_result(), DatasetMeta.from_market_data(data))
    assert run_export(report, "svg", chart="drawdown").data == b"<svg/>"
    assert [fmt for fmt, _ in calls] == ["png", "svg"]
    assert calls[0][1] == {}  # the widget uses the theme's defaults


def test_only_the_export_module_renders_images():
    """No second rendering path: kaleido and Plotly's own image writers appear only in core/report/images.py and
    its browser (core/report/export_browser.py), and only the app's one download widget (app/widgets.py) and
    core/report/exports.py call figure_image."""
    callers = set()
    for path in itertools.chain(*(sorted((ROOT / d).rglob("*.py")) for d in ("app", "cli", "core", "usecases"))):
        text = path.read_text()
        rel = path.relative_to(ROOT).as_posix()
        if rel in ("core/report/images.py", "core/report/export_browser.py"):
            continue
        for needle in ("import kaleido", "to_image(", "write_image(", "calc_fig"):
            assert needle not in text, f"{rel} renders images itself ({needle})"
        if "figure_image" in text:
            callers.add(rel)
    assert callers == {"app/widgets.py", "core/report/exports.py"}


def test_toolbar_and_export_defaults_are_the_theme():
    assert theme.EXPORT.width == images.DEFAULT_WIDTH and theme.EXPORT.height == images.DEFAULT_HEIGHT
    assert images.PLOTLY_TOOLBAR_CONFIG["toImageButtonOptions"]["scale"] == theme.EXPORT.scale


@pytest.fixture(scope="module")
def exporter():
    yield images.figure_image
    images.shutdown()


@needs_chromium
def test_png_has_the_signature_and_the_theme_default_size(exporter):
    unsized = theme.apply_theme(go.Figure(go.Scatter(x=[1, 2, 3], y=[3, 1, 2])))
    png = exporter(unsized, "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    w, h, s = theme.EXPORT.width, theme.EXPORT.height, theme.EXPORT.scale
    assert images.png_size(png) == (int(w * s), int(h * s))
    equity = core.figures.equity_figure(_walk())  # a figure with a height of its own keeps it
    assert images.png_size(exporter(equity, "png")) == (int(w * s), int(equity.layout.height * s))


@needs_chromium
def test_svg_parses_at_the_theme_default_size_in_the_theme_font(exporter):
    svg = exporter(theme.apply_theme(go.Figure(go.Bar(x=["a", "b"], y=[1, 2]))), "svg")
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert (float(root.get("width")), float(root.get("height"))) == (theme.EXPORT.width, theme.EXPORT.height)
    first_family = theme.FONTS.family.split(",")[0].strip()
    assert first_family in svg.decode()
