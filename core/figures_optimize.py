"""Plotly figures of the Optimise page: a clickable study heatmap, the 3-D surface, parallel coordinates and
sensitivity lines. Pure functions, data in and a figure out, no Streamlit, so reports and tests can use them too.

The data come from :mod:`core.analysis` (``heatmap``, ``surface``, ``parallel_coordinates``,
``sensitivity_from_trials``); :func:`study_trials` turns a stored trials table into the shape those functions read,
and :func:`heatmap_view` adds, per cell, the trial that stands for it (hover text and click target). The look is
:mod:`core.theme`'s, like every other chart's, so that these charts read like the Backtest page's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.analysis import ParallelCoordinates, SensitivityResult, SurfaceData, direction, heatmap
from core.config import StrategyConfig
from core.engine import METRIC_NAMES
from core.figures import _layout
from core.metric_table import metric_info
from core.report.formats import cell_text
from core.theme import COLORS, FONTS, HEATMAP_COLORSCALE, LAYOUT, PALETTE, apply_theme

# Above this many cells the click layer is drawn with WebGL: an SVG marker per cell makes the browser sluggish.
WEBGL_CELLS = 2_500
# Cell values are printed up to this many rows and columns (the PDF's limit too); past it they cannot be read.
MAX_LABELLED_CELLS = 30
CELL_FONT_SIZE = FONTS.size - 2  # cell values: a little smaller than the axis text
COLORSCALE = HEATMAP_COLORSCALE
HOVER_PER_LINE = 3
HEATMAP_CURVE = 1  # curve number of the click layer in :func:`study_heatmap_figure` (trace 0 is the colour grid)


def _label(metric: str) -> str:
    return metric_info(metric).label


def _hover_format(metric: str) -> str:
    """A d3 number format matching how the metric reads elsewhere (fractions as percentages)."""
    fmt = metric_info(metric).fmt
    return {"pct": ".2%", "signed_pct": "+.2%", "count": ",.0f", "money": ",.2f", "ratio": ",.2f", "times": ",.2f"}.get(
        fmt, ".4g"
    )


def study_trials(frame: pd.DataFrame) -> pd.DataFrame:
    """A stored trials table (``Store.list_trials``) as the analysis functions read it: completed trials only,
    ``param.<name>`` columns renamed to the configuration field ``<name>``, every other column kept."""
    if "status" in frame.columns:
        frame = frame[frame["status"] == "completed"]
    renamed = {c: c.removeprefix("param.") for c in frame.columns if str(c).startswith("param.")}
    return frame.rename(columns=renamed).reset_index(drop=True)


def searched_params(trials: pd.DataFrame, names: Sequence[str]) -> list[str]:
    """The study's searched parameters that take more than one value among ``trials`` (the axes worth drawing)."""
    return [n for n in names if n in trials.columns and trials[n].nunique(dropna=False) > 1]


@dataclass(frozen=True)
class HeatmapView:
    """A study heatmap ready to draw.

    ``grid``: rows are the ``y`` values, columns the ``x`` values, cells the aggregated metric. ``cells``: one row
    per evaluated cell with the ``x`` and ``y`` parameters, ``value`` (the aggregate) and the trial standing for the
    cell (its ``index``, parameters and every metric). For ``max``/``min``/``best``/``worst`` that trial attains
    the cell's value; for ``mean``/``median`` it is the cell's best trial. Clicking a cell opens that trial.
    """

    grid: pd.DataFrame
    cells: pd.DataFrame
    x: str
    y: str
    metric: str
    agg: str
    params: list[str]


def heatmap_view(trials: pd.DataFrame, x: str, y: str, metric: str, agg: str, params: Sequence[str]) -> HeatmapView:
    """The heatmap of ``metric`` over ``x`` × ``y`` (other parameters reduced by ``agg``) and each cell's trial."""
    grid = heatmap(trials, x, y, metric, agg)
    values = trials[metric].to_numpy(dtype=float)
    if agg in ("max", "min"):
        key = values if agg == "max" else -values
    else:
        key = values * direction(metric) * (-1 if agg == "worst" else 1)
    # Stable sort, best first with NaN last, then the first trial of each cell: a vectorised arg-max per cell.
    order = np.argsort(np.where(np.isnan(key), -np.inf, -key), kind="stable")
    reps = trials.iloc[order].drop_duplicates([y, x], keep="first")
    cell_value = grid.stack(future_stack=True).rename("value").reset_index()
    cells = cell_value.merge(reps, on=[y, x], how="inner")
    return HeatmapView(grid=grid, cells=cells.reset_index(drop=True), x=x, y=y, metric=metric, agg=agg,
                       params=list(params))


def _axis_text(values: Sequence[Any]) -> list[str]:
    return [str(v) for v in values]


def cell_values(grid: pd.DataFrame, metric: str) -> dict[str, Any]:
    """The ``text``/``texttemplate`` of a heatmap trace printing each cell's value (the PDF's short format,
    :func:`core.report.formats.cell_text`) when the grid has at most :data:`MAX_LABELLED_CELLS` rows and
    columns; nothing for a larger grid."""
    rows, cols = grid.shape
    if rows > MAX_LABELLED_CELLS or cols > MAX_LABELLED_CELLS:
        return {}
    text = [[cell_text(metric, v) for v in row] for row in grid.to_numpy(dtype=float)]
    return {"text": text, "texttemplate": "%{text}", "textfont": {"size": CELL_FONT_SIZE}}


def study_heatmap_figure(view: HeatmapView, metrics: Sequence[str] = METRIC_NAMES) -> go.Figure:
    """The heatmap with a transparent marker on every evaluated cell, carrying the hover and the click.

    Plotly heatmaps cannot be selected, so the markers (curve :data:`HEATMAP_CURVE`, in the order of
    ``view.cells``) are what a click selects; hovering one shows the cell's value, the trial's parameters and
    every metric in ``metrics``.
    """
    grid, cells = view.grid, view.cells
    fig = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(dtype=float),
            x=_axis_text(grid.columns),
            y=_axis_text(grid.index),
            colorscale=COLORSCALE,
            reversescale=direction(view.metric) < 0,  # green is always "better"
            colorbar={"title": _label(view.metric)},
            hoverinfo="skip",
            **cell_values(grid, view.metric),
        )
    )
    shown = [m for m in metrics if m in cells.columns]
    others = [p for p in view.params if p in cells.columns and p not in (view.x, view.y)]
    custom = np.column_stack(
        [cells["index"].to_numpy(dtype=float)]
        + [cells[p].astype(str).to_numpy(dtype=object) for p in others]
        + [cells[m].to_numpy(dtype=float) for m in shown]
    ) if len(cells) else np.empty((0, 1 + len(others) + len(shown)))
    lines = [
        f"<b>{view.x}</b> %{{x}} · <b>{view.y}</b> %{{y}}",
        f"<b>{_label(view.metric)} ({view.agg})</b> %{{marker.color:{_hover_format(view.metric)}}}",
        "trial %{customdata[0]:.0f}",
    ]
    lines += [f"{p} %{{customdata[{1 + i}]}}" for i, p in enumerate(others)]
    base = 1 + len(others)
    items = [f"{_label(m)} %{{customdata[{base + i}]:{_hover_format(m)}}}" for i, m in enumerate(shown)]
    # Three metrics a line: a label taller than the plot is not drawn at all, and there are ~30 metrics.
    lines += [" · ".join(items[i : i + HOVER_PER_LINE]) for i in range(0, len(items), HOVER_PER_LINE)]
    scatter = go.Scattergl if len(cells) > WEBGL_CELLS else go.Scatter
    fig.add_trace(
        scatter(
            x=_axis_text(cells[view.x]),
            y=_axis_text(cells[view.y]),
            mode="markers",
            marker={"size": LAYOUT.cell_marker_size, "symbol": "square", "opacity": 0.0,
                    "color": cells["value"].to_numpy(dtype=float)},
            customdata=custom,
            hovertemplate="<br>".join(lines) + "<extra></extra>",
            showlegend=False,
            name="cells",
        )
    )
    return apply_theme(
        fig,
        height=480,
        xaxis={"title": view.x, "type": "category", "categoryarray": _axis_text(grid.columns)},
        yaxis={"title": view.y, "type": "category", "categoryarray": _axis_text(grid.index)},
        hoverlabel={"font": {"size": FONTS.hover_size}},
        clickmode="event+select",
        dragmode=False,
    )


def annotate_heatmap(fig: go.Figure, grid: pd.DataFrame, metric: str) -> go.Figure:
    """Make heatmap trace 0 of ``fig`` read like the PDF's heatmap: the values of ``grid`` printed in its cells
    (:func:`cell_values`) and green for better whichever way ``metric`` is optimised. The orientation is every
    heatmap's already: categories in their order from the bottom, so the first y value is at the bottom."""
    fig.update_traces(selector={"type": "heatmap"}, reversescale=direction(metric) < 0, **cell_values(grid, metric))
    return fig


def surface_figure(data: SurfaceData, agg: str = "") -> go.Figure:
    """The heatmap as a 3-D surface (holes where no trial lies). Categorical axes are drawn at their positions."""

    def axis(values: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        try:
            return np.asarray(values, dtype=float), {}
        except (TypeError, ValueError):
            positions = np.arange(len(values), dtype=float)
            return positions, {"tickvals": positions.tolist(), "ticktext": _axis_text(values)}

    x, x_ticks = axis(data.x)
    y, y_ticks = axis(data.y)
    title = _label(data.metric) + (f" ({agg})" if agg else "")
    fig = go.Figure(
        go.Surface(
            x=x, y=y, z=data.z, colorscale=COLORSCALE, reversescale=direction(data.metric) < 0,
            colorbar={"title": _label(data.metric)},
            hovertemplate=f"{data.x_name} %{{x}}<br>{data.y_name} %{{y}}<br>{title} %{{z:.4g}}<extra></extra>",
        )
    )
    return apply_theme(
        fig,
        height=520,
        margin=LAYOUT.margin_3d.plotly(),
        scene={"xaxis": {"title": data.x_name, **x_ticks}, "yaxis": {"title": data.y_name, **y_ticks},
               "zaxis": {"title": title}},
    )


def parallel_coordinates_figure(data: ParallelCoordinates) -> go.Figure:
    """One line per trial across the parameters to the metric, coloured by the metric (green is better)."""
    frame = data.frame
    dimensions = []
    for column in [*data.params, data.metric]:
        values = frame[column].to_numpy(dtype=float)
        dim: dict[str, Any] = {"label": _label(column) if column == data.metric else column, "values": values}
        if column in data.labels:
            labels = data.labels[column]
            dim |= {"tickvals": list(range(len(labels))), "ticktext": _axis_text(labels)}
        dimensions.append(dim)
    fig = go.Figure(
        go.Parcoords(
            line={"color": frame[data.metric].to_numpy(dtype=float), "colorscale": COLORSCALE,
                  "reversescale": direction(data.metric) < 0, "showscale": True,
                  "colorbar": {"title": _label(data.metric)}},
            dimensions=dimensions,
        )
    )
    return apply_theme(fig, height=420, margin=LAYOUT.margin_parcoords.plotly())


def sensitivity_figure(result: SensitivityResult) -> go.Figure:
    """One line per parameter: the metric against grid steps away from the chosen configuration (step 0)."""
    fig = go.Figure()
    table = result.table
    for i, (name, part) in enumerate(table.groupby("parameter", sort=False)):
        steps = [*part["step"].tolist(), 0]
        values = [*part["metric_value"].astype(float).tolist(), result.base_value]
        labels = [*part["value"].astype(str).tolist(), "chosen"]
        order = np.argsort(np.asarray(steps, dtype=float), kind="stable")
        fig.add_trace(
            go.Scatter(
                x=[steps[j] for j in order],
                y=[values[j] for j in order],
                customdata=[labels[j] for j in order],
                mode="lines+markers",
                name=str(name),
                line={"color": PALETTE[i % len(PALETTE)], "width": 1.8},
                hovertemplate=f"{name} %{{customdata}}<br>{_label(result.metric)} %{{y:.4g}}<extra></extra>",
            )
        )
    fig.add_hline(y=result.base_value, line={"color": COLORS.strategy, "dash": "dot", "width": 1})
    _layout(fig, height=380, yaxis={"title": _label(result.metric)})
    fig.update_layout(hovermode="closest", xaxis={"title": "grid steps from the chosen configuration", "dtick": 1})
    return fig


def trial_config(base: StrategyConfig, row: Mapping[str, Any] | pd.Series, params: Sequence[str]) -> StrategyConfig:
    """The configuration of one heatmap cell or trial: ``base`` with the searched ``params`` taken from ``row``.

    Table values come back as NumPy scalars, and a NaN ``max_trade_share`` means "no cap" (``None``); raises
    ``ConfigError`` for an invalid combination (a binned random-search value can cross a guardrail).
    """
    values: dict[str, Any] = {}
    for name in params:
        value = row[name]
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and np.isnan(value):
            value = None
        values[name] = value
    return base.replace(**values)
