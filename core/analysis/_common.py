"""Helpers shared by the analysis modules: parameter columns, configuration lists and aggregation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from core.config import StrategyConfig
from core.engine import METRIC_NAMES
from core.errors import ConfigError

from .directions import direction

CONFIG_FIELDS: tuple[str, ...] = tuple(StrategyConfig.__dataclass_fields__)
AGGREGATIONS = ("max", "mean", "median", "min", "best", "worst")


def parameter_columns(trials: pd.DataFrame, params: Sequence[str] | None = None) -> list[str]:
    """The parameter columns of a trials table.

    Given ``params``, they are checked to exist. Otherwise: the ``StrategyConfig`` fields that take more than one
    value in ``trials`` (a study's fixed settings carry no information for a heatmap or a neighbourhood).
    """
    if params is not None:
        missing = [p for p in params if p not in trials.columns]
        if missing:
            raise KeyError(f"parameter column(s) not in the trials table: {', '.join(missing)}")
        return list(params)
    return [c for c in CONFIG_FIELDS if c in trials.columns and trials[c].nunique(dropna=False) > 1]


def check_metric(trials: pd.DataFrame, metric: str) -> None:
    if metric not in trials.columns:
        raise KeyError(f"metric column {metric!r} not in the trials table")


def aggregate(frame: pd.DataFrame, keys: list[str], metric: str, agg: str) -> pd.Series:
    """``metric`` grouped by ``keys`` and reduced by ``agg``; NaN values are ignored, an all-NaN group is NaN.

    ``best``/``worst`` follow :data:`METRIC_DIRECTION` (for a minimised metric ``best`` is the minimum).
    """
    if agg not in AGGREGATIONS:
        raise ValueError(f"agg must be one of {', '.join(AGGREGATIONS)}, got {agg!r}")
    if agg in ("best", "worst"):
        up = direction(metric) > 0
        agg = "max" if up == (agg == "best") else "min"
    grouped = frame.groupby(keys, sort=True, dropna=False)[metric]
    return grouped.agg(agg)


def is_numeric(series: pd.Series) -> bool:
    """True for int/float columns (bools and strings are categorical: they have no neighbours by distance)."""
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def snap_to_bins(values: pd.Series, n_bins: int) -> pd.Series:
    """Numeric values replaced by the centre of their equal-width bin when they take more than ``n_bins`` values.

    Random and Bayesian studies draw continuous values; binning puts them on a grid that heatmaps and
    neighbourhoods can use. Columns with at most ``n_bins`` distinct values (a grid) are returned unchanged.
    """
    if n_bins < 1:
        raise ValueError("n_bins must be at least 1")
    if not is_numeric(values) or values.nunique() <= n_bins:
        return values
    v = values.to_numpy(dtype=float)
    lo, hi = np.nanmin(v), np.nanmax(v)
    width = (hi - lo) / n_bins
    k = np.clip(np.floor((v - lo) / width), 0, n_bins - 1)
    return pd.Series(lo + (k + 0.5) * width, index=values.index, name=values.name)


def as_configs(
    configs: Sequence[StrategyConfig | Mapping[str, Any]] | pd.DataFrame | StrategyConfig,
    base: StrategyConfig | None = None,
) -> list[StrategyConfig]:
    """A list of configurations from configurations, dicts or a parameter DataFrame.

    A DataFrame's columns that are ``StrategyConfig`` fields override ``base`` (default: the product defaults);
    other columns (metrics, trial ids) are ignored, so a trials table can be passed as it is.
    """
    base = base or StrategyConfig()
    if isinstance(configs, StrategyConfig):
        return [configs]
    if isinstance(configs, pd.DataFrame):
        cols = [c for c in configs.columns if c in CONFIG_FIELDS]
        records = configs[cols].to_dict("records")
        return [base.replace(**{k: _plain(v) for k, v in rec.items()}) for rec in records]
    out = []
    for c in configs:
        if isinstance(c, StrategyConfig):
            out.append(c)
        elif isinstance(c, Mapping):
            out.append(base.replace(**{k: _plain(v) for k, v in c.items()}))
        else:
            raise ConfigError(f"expected a StrategyConfig or a dict, got {type(c).__name__}")
    return out


def _plain(value: Any) -> Any:
    # numpy scalars → Python scalars; a NaN max_trade_share read back from a table means "no cap".
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def metrics_frame(values: np.ndarray, index: pd.Index | None = None) -> pd.DataFrame:
    """A metric matrix from ``run_params`` as a DataFrame with ``METRIC_NAMES`` columns."""
    return pd.DataFrame(values, columns=list(METRIC_NAMES), index=index)
