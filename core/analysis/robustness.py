"""Robustness of a study's optimum: is the best cell a lone spike or the top of a plateau?

The trials are placed on the grid spanned by the sorted distinct values of each parameter. The neighbourhood of a
cell is every evaluated cell within ``radius`` grid steps along each numeric parameter (a hypercube, the cell
itself included); categorical parameters (strings, booleans) have no distance, so a neighbour must share their
value. From the neighbourhood come its mean and its worst value, and a plateau score; the recommended robust
configuration is the cell with the best neighbourhood mean, reported beside the single best cell.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._common import aggregate, check_metric, is_numeric, parameter_columns, snap_to_bins
from .directions import direction


@dataclass(frozen=True)
class RobustnessResult:
    """Neighbourhood statistics of every evaluated cell, the single best cell and the recommended robust one.

    ``cells`` has the parameter columns, then ``value`` (the cell's metric), ``neighbourhood_mean``,
    ``neighbourhood_worst`` (worst by the metric's direction), ``neighbours`` (evaluated cells in the
    neighbourhood with a finite value, the cell included) and ``plateau``; it is sorted best robust cell first.
    ``best`` and ``robust`` are rows of ``cells``.
    """

    cells: pd.DataFrame
    best: pd.Series
    robust: pd.Series
    metric: str
    params: list[str]
    radius: int
    tolerance: float


def robustness(
    trials: pd.DataFrame,
    metric: str,
    params: Sequence[str] | None = None,
    radius: int = 1,
    tolerance: float = 0.1,
    agg: str = "best",
    min_neighbours: int = 1,
    max_levels: int = 25,
) -> RobustnessResult:
    """Neighbourhood mean, worst value and plateau score of every grid cell; best and robust configurations.

    Args:
        trials: one row per trial, parameter and metric columns.
        metric: the objective; its direction comes from :data:`METRIC_DIRECTION`.
        params: the grid's parameters (default: the configuration fields the study varied).
        radius: neighbourhood half-width in grid steps (1 → the 3×3 square around a cell of a 2-D grid).
        tolerance: plateau band as a fraction of the metric's range over all cells (default 10 %).
        agg: how trials sharing one cell are reduced (they differ in parameters not listed in ``params``).
        min_neighbours: cells with fewer finite neighbours (self included) cannot be recommended as robust.
        max_levels: a numeric parameter with more distinct values (a random or Bayesian study) is snapped to the
            centres of this many equal-width bins, so that the trials form a grid with neighbours.

    The plateau score is the share of a cell's evaluated neighbours (itself excluded) whose value lies within
    ``tolerance × range`` of the cell's own value: 1 means flat surroundings, 0 a lone spike (or a lone pit); it
    is NaN for a cell without evaluated neighbours or without a finite value. A neighbour whose metric is NaN
    counts as off the plateau.

    The robust cell maximises the neighbourhood mean (oriented by direction), then the plateau score, then its own
    value. Edge cells average over fewer neighbours; raise ``min_neighbours`` to keep them out of the
    recommendation.
    """
    check_metric(trials, metric)
    names = parameter_columns(trials, params)
    if not names:
        raise ValueError("no parameter varies in the trials table; pass params explicitly")
    if radius < 0:
        raise ValueError("radius must be ≥ 0")
    sign = direction(metric)
    data = trials.assign(**{n: snap_to_bins(trials[n], max_levels) for n in names})
    cells = aggregate(data, names, metric, agg).reset_index()
    cells = cells.rename(columns={metric: "value"})
    # A numeric column with missing values (max_trade_share "no cap") has no distance to them: treat it as categories.
    numeric = [is_numeric(cells[n]) and not cells[n].isna().any() for n in names]
    axes = [np.sort(cells[n].unique()) if num else _categories(cells[n]) for n, num in zip(names, numeric, strict=True)]
    codes = tuple(_codes(cells[n], ax) for n, ax in zip(names, axes, strict=True))
    shape = tuple(len(ax) for ax in axes)
    values = cells["value"].to_numpy(dtype=float) * sign  # oriented: higher is better from here on
    grid = np.full(shape, np.nan)
    exists = np.zeros(shape, dtype=bool)
    grid[codes] = values
    exists[codes] = True

    finite = values[np.isfinite(values)]
    band = tolerance * (finite.max() - finite.min()) if finite.size else 0.0
    if int(np.prod(shape, dtype=float)) > 20_000_000:
        raise ValueError(f"grid of {shape} cells is too large: lower max_levels or pass fewer params")
    reach = [radius if num else 0 for num in numeric]
    pad = [(r, r) for r in reach]
    pgrid = np.pad(grid, pad, constant_values=np.nan)
    pexists = np.pad(exists, pad, constant_values=False)

    total = np.zeros(shape)
    count = np.zeros(shape)
    worst = np.full(shape, np.inf)
    near = np.zeros(shape)
    others = np.zeros(shape)
    # One pass per offset of the hypercube: (2r+1)^k array operations, cheap for the grids a study produces.
    for offset in itertools.product(*[range(-r, r + 1) for r in reach]):
        window = tuple(slice(r + o, r + o + s) for r, o, s in zip(reach, offset, shape, strict=True))
        v = pgrid[window]
        ok = np.isfinite(v)
        total += np.where(ok, v, 0.0)
        count += ok
        worst = np.where(ok, np.minimum(worst, v), worst)
        if any(offset):
            present = pexists[window]
            others += present
            near += present & ok & (np.abs(v - grid) <= band * (1 + 1e-12))

    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / count, np.nan)
        plateau = np.where((others > 0) & np.isfinite(grid), near / others, np.nan)
    worst = np.where(np.isfinite(worst), worst, np.nan)
    cells["neighbourhood_mean"] = mean[codes] * sign
    cells["neighbourhood_worst"] = worst[codes] * sign
    cells["neighbours"] = count[codes].astype(int)
    cells["plateau"] = plateau[codes]

    score = np.where(cells["neighbours"].to_numpy() >= min_neighbours, mean[codes], np.nan)
    keys = pd.DataFrame(
        {
            "a": _fill(score),
            "b": _fill(plateau[codes]),
            "c": _fill(values),
        }
    )
    order = np.lexsort((-keys["c"].to_numpy(), -keys["b"].to_numpy(), -keys["a"].to_numpy()))
    cells = cells.iloc[order].reset_index(drop=True)
    if not np.any(np.isfinite(score)):
        raise ValueError("no cell has a finite neighbourhood mean with enough neighbours")
    best_pos = int(np.argmax(_fill(cells["value"].to_numpy(dtype=float) * sign)))
    return RobustnessResult(
        cells=cells,
        best=cells.iloc[best_pos],
        robust=cells.iloc[0],
        metric=metric,
        params=names,
        radius=radius,
        tolerance=tolerance,
    )


def _fill(a: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(a), a, -np.inf)


def _categories(col: pd.Series) -> np.ndarray:
    return np.array(sorted(col.unique().tolist(), key=str), dtype=object)


def _codes(col: pd.Series, axis: np.ndarray) -> np.ndarray:
    # pandas matches NaN to NaN here, where a dict lookup would not.
    return pd.Index(axis, dtype=object).get_indexer(pd.Index(col.tolist(), dtype=object)).astype(np.int64)
