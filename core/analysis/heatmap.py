"""Views of a study's trials: heatmaps, one-parameter slices, 3-D surfaces and parallel coordinates.

Every function takes a trials table (one row per trial: parameter columns and metric columns) and returns plain
data for a chart; none draws. When a view shows fewer parameters than the study varied, the trials that share the
shown values are reduced by ``agg``: ``"max"``, ``"mean"``, ``"median"``, ``"min"``, or ``"best"``/``"worst"``
(max or min according to :data:`METRIC_DIRECTION`). ``fixed`` keeps only the trials whose other parameters equal
the given values, for a slice through one configuration instead of an aggregate over all of them. ``bins`` puts
the shown numeric parameters of a random or Bayesian study on a grid: a parameter with more distinct values than
``bins`` is replaced by the centres of ``bins`` equal-width bins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._common import aggregate, check_metric, is_numeric, parameter_columns, snap_to_bins
from .directions import oriented


def _filter(
    trials: pd.DataFrame, fixed: Mapping[str, Any] | None, shown: Sequence[str] = (), bins: int | None = None
) -> pd.DataFrame:
    if bins is not None:
        trials = trials.assign(**{name: snap_to_bins(trials[name], bins) for name in shown})
    if not fixed:
        return trials
    mask = np.ones(len(trials), dtype=bool)
    for name, value in fixed.items():
        col = trials[name]
        if is_numeric(col) and value is not None:
            # Grid values written through floats (0.1 + 0.2) should still match the value the user picked.
            mask &= np.isclose(col.to_numpy(dtype=float), float(value), rtol=1e-9, atol=1e-12)
        else:
            mask &= (col == value).to_numpy()
    return trials[mask]


def heatmap(
    trials: pd.DataFrame,
    x: str,
    y: str,
    metric: str,
    agg: str = "max",
    fixed: Mapping[str, Any] | None = None,
    bins: int | None = None,
) -> pd.DataFrame:
    """``metric`` over two parameters: rows are the sorted values of ``y``, columns those of ``x``.

    Cells without a trial are NaN. The other parameters are reduced by ``agg`` (see the module docstring).
    """
    check_metric(trials, metric)
    parameter_columns(trials, [x, y])
    if x == y:
        raise ValueError("x and y must be different parameters")
    data = _filter(trials, fixed, [x, y], bins)
    cell = aggregate(data, [y, x], metric, agg)
    grid = cell.unstack(x)
    grid = grid.reindex(index=sorted(data[y].unique()), columns=sorted(data[x].unique()))
    grid.index.name, grid.columns.name = y, x
    return grid


def slice_1d(
    trials: pd.DataFrame,
    param: str,
    metric: str,
    agg: str = "max",
    fixed: Mapping[str, Any] | None = None,
    bins: int | None = None,
) -> pd.DataFrame:
    """``metric`` along one parameter: one row per sorted value of ``param``.

    Columns: ``param``, ``metric`` (reduced by ``agg``), and the ``min``, ``mean``, ``max`` and ``count`` of the
    trials behind each value, so a chart can draw the spread around the line.
    """
    check_metric(trials, metric)
    parameter_columns(trials, [param])
    data = _filter(trials, fixed, [param], bins)
    value = aggregate(data, [param], metric, agg)
    stats = data.groupby(param, sort=True, dropna=False)[metric].agg(["min", "mean", "max", "count"])
    out = pd.concat([value.rename(metric), stats], axis=1).reset_index()
    return out


@dataclass(frozen=True)
class SurfaceData:
    """A 3-D surface: ``z[i, j]`` is the metric at ``y[i]``, ``x[j]`` (NaN where no trial lies)."""

    x_name: str
    y_name: str
    metric: str
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray


def surface(
    trials: pd.DataFrame,
    x: str,
    y: str,
    metric: str,
    agg: str = "max",
    fixed: Mapping[str, Any] | None = None,
    bins: int | None = None,
) -> SurfaceData:
    """The heatmap of ``x`` × ``y`` as arrays for a 3-D surface plot (same reduction rules as :func:`heatmap`)."""
    grid = heatmap(trials, x, y, metric, agg, fixed, bins)
    return SurfaceData(
        x_name=x,
        y_name=y,
        metric=metric,
        x=grid.columns.to_numpy(),
        y=grid.index.to_numpy(),
        z=grid.to_numpy(dtype=float),
    )


@dataclass(frozen=True)
class ParallelCoordinates:
    """Data for a parallel-coordinates chart.

    ``frame`` has one numeric column per parameter and the metric (one row per trial, best first); categorical
    parameters (strings, booleans) are replaced by integer codes whose labels are in ``labels[column]``.
    """

    frame: pd.DataFrame
    labels: dict[str, list[Any]]
    params: list[str]
    metric: str


def parallel_coordinates(
    trials: pd.DataFrame,
    metric: str,
    params: Sequence[str] | None = None,
    top: int | None = None,
) -> ParallelCoordinates:
    """Trials as parallel coordinates, sorted best first by ``metric``'s direction; ``top`` keeps the best n.

    ``params`` defaults to the configuration fields the study varied. Trials whose metric is NaN go last.
    """
    check_metric(trials, metric)
    names = parameter_columns(trials, params)
    score = oriented(trials[metric].to_numpy(dtype=float), metric)
    order = np.argsort(np.where(np.isnan(score), -np.inf, -score), kind="stable")
    data = trials.iloc[order]
    if top is not None:
        data = data.iloc[:top]
    frame = pd.DataFrame(index=data.index)
    labels: dict[str, list[Any]] = {}
    for name in names:
        col = data[name]
        if is_numeric(col):
            frame[name] = col.astype(float)
        else:
            cats = sorted(trials[name].dropna().unique().tolist(), key=str)
            labels[name] = cats
            frame[name] = col.map({c: i for i, c in enumerate(cats)}).astype(float)
    frame[metric] = data[metric].astype(float)
    return ParallelCoordinates(frame=frame.reset_index(drop=True), labels=labels, params=names, metric=metric)
