"""Sensitivity: how the objective moves when each parameter steps away from a chosen configuration.

Two sources, one output shape. :func:`sensitivity_from_trials` reads the answer off a grid study (the other
parameters held at the chosen values, the one parameter moved across its grid values); :func:`sensitivity` runs the
engine's fast path on configurations that move one parameter at a time by relative steps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.config import FIELD_KINDS, StrategyConfig
from core.config_registry import config_field
from core.engine import METRIC_NAMES, params_matrix, prepare, run_params
from core.errors import ConfigError

from ._common import aggregate, check_metric, is_numeric, parameter_columns
from .directions import direction

DEFAULT_STEPS: tuple[float, ...] = (-0.2, -0.1, 0.1, 0.2)
DEFAULT_PARAMS: tuple[str, ...] = (
    "trigger_up",
    "trigger_down",
    "rebalance_ratio",
    "guardrail_min",
    "guardrail_max",
    "initial_stock_share",
)


@dataclass(frozen=True)
class SensitivityResult:
    """The moves of the objective around one configuration.

    ``table``: one row per (parameter, step) with ``parameter``, ``step`` (grid steps or relative change),
    ``value`` (the parameter's value), ``metric_value``, ``delta`` (``metric_value − base_value``) and
    ``oriented_delta`` (``delta`` × direction: negative means worse). The chosen configuration itself is not a row.
    ``summary``: per parameter, the ``worst_delta`` and ``best_delta`` (oriented) over its steps and the mean
    absolute delta at the smallest step on each side (``local_slope``), most sensitive first.
    """

    table: pd.DataFrame
    summary: pd.DataFrame
    base_value: float
    metric: str


def _summary(table: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for name, part in table.groupby("parameter", sort=False):
        steps = pd.to_numeric(part["step"], errors="coerce")
        od = part["oriented_delta"]
        near = part[steps.abs() == steps.abs().min()] if steps.notna().any() else part
        rows.append(
            {
                "parameter": name,
                "worst_delta": od.min(),
                "best_delta": od.max(),
                "local_slope": near["delta"].abs().mean(),
                "n_steps": int(od.notna().sum()),
            }
        )
    out = pd.DataFrame(rows, columns=["parameter", "worst_delta", "best_delta", "local_slope", "n_steps"])
    return out.sort_values("worst_delta", na_position="last", kind="stable").reset_index(drop=True)


def _finish(rows: list[dict[str, Any]], base_value: float, metric: str) -> SensitivityResult:
    table = pd.DataFrame(rows, columns=["parameter", "step", "value", "metric_value"])
    table["delta"] = table["metric_value"].astype(float) - base_value
    table["oriented_delta"] = table["delta"] * direction(metric)
    return SensitivityResult(table=table, summary=_summary(table), base_value=base_value, metric=metric)


def sensitivity_from_trials(
    trials: pd.DataFrame,
    chosen: Mapping[str, Any] | pd.Series,
    metric: str,
    params: Sequence[str] | None = None,
    agg: str = "best",
) -> SensitivityResult:
    """One-at-a-time moves read from a grid study.

    For each parameter, the trials whose other parameters equal ``chosen``'s are taken across the parameter's grid
    values; ``step`` is the signed number of grid steps from the chosen value (categorical parameters: the
    position in their sorted values, relative to the chosen one). Trials sharing a cell are reduced by ``agg``.
    Values missing from the grid are simply absent.
    """
    check_metric(trials, metric)
    names = parameter_columns(trials, params)
    cells = aggregate(trials, names, metric, agg).reset_index()

    def matches(name: str, value: Any) -> np.ndarray:
        col = cells[name]
        if is_numeric(col) and value is not None:
            return np.isclose(col.to_numpy(dtype=float), float(value), rtol=1e-9, atol=1e-12)
        return (col == value).to_numpy()

    here = np.ones(len(cells), dtype=bool)
    for name in names:
        here &= matches(name, chosen[name])
    if not here.any():
        raise ValueError("the chosen configuration is not a cell of the trials table")
    base_value = float(cells.loc[here, metric].iloc[0])
    rows: list[dict[str, Any]] = []
    for name in names:
        others = np.ones(len(cells), dtype=bool)
        for other in names:
            if other != name:
                others &= matches(other, chosen[other])
        line = cells[others]
        axis = sorted(line[name].unique().tolist(), key=lambda v: (str(type(v)), v))
        position = {v: i for i, v in enumerate(axis)}
        at = int(np.flatnonzero(matches(name, chosen[name])[others])[0])
        centre = position[line[name].iloc[at]]
        for value, metric_value in zip(line[name].tolist(), line[metric].tolist(), strict=True):
            step = position[value] - centre
            if step:
                rows.append({"parameter": name, "step": step, "value": value, "metric_value": metric_value})
    rows.sort(key=lambda r: (names.index(r["parameter"]), r["step"]))
    return _finish(rows, base_value, metric)


def _variants(config: StrategyConfig, name: str, steps: Sequence[float]) -> list[tuple[Any, Any]]:
    """(step label, new value) pairs for one parameter."""
    kind = FIELD_KINDS[name]
    base = getattr(config, name)
    if kind == "bool":
        return [("flip", not base)]
    if kind == "choice":
        return [(f"→ {s}", s) for s in config_field(name).choices if s != base]
    if base is None:
        return []
    out = []
    for s in steps:
        if kind == "int":
            move = round(base * s) or (1 if s > 0 else -1)
            out.append((s, int(base) + move))
        else:
            # A zero base has no relative step: move by the step itself (0 → ±0.1 for a 10 % step).
            out.append((s, base * (1.0 + s) if base != 0 else float(s)))
    return out


def sensitivity(
    prices: pd.DataFrame,
    config: StrategyConfig,
    metric: str = "sharpe",
    dividends: pd.DataFrame | None = None,
    params: Sequence[str] | None = None,
    steps: Sequence[float] = DEFAULT_STEPS,
    n_threads: int | None = None,
) -> SensitivityResult:
    """One-at-a-time moves by re-running the engine (fast path) around ``config``.

    Each parameter in ``params`` (default: triggers, ratio, guardrails, initial stock share, plus
    ``trade_fraction`` under fixed-fraction sizing) is moved by each relative ``step`` (default ±10 % and ±20 %:
    ``value × (1 + step)``); integer fields move by at least one, booleans flip and ``sizing`` tries the other
    formulas. A move that makes the configuration invalid (a guardrail crossing the other) gives a NaN row.
    """
    if metric not in METRIC_NAMES:
        raise KeyError(f"unknown metric {metric!r}")
    if params is None:
        params = list(DEFAULT_PARAMS) + (["trade_fraction"] if config.sizing == "fixed_fraction" else [])
    labels: list[tuple[str, Any, Any]] = []
    configs = [config]
    for name in params:
        if name not in FIELD_KINDS:
            raise ConfigError(f"unknown configuration field {name!r}")
        for step, value in _variants(config, name, steps):
            labels.append((name, step, value))
            try:
                configs.append(config.replace(**{name: value}))
            except ConfigError:
                configs.append(None)  # type: ignore[arg-type]
    valid = [c for c in configs if c is not None]
    values = run_params(prepare(prices, dividends), params_matrix(valid), n_threads)[:, METRIC_NAMES.index(metric)]
    it = iter(values.tolist())
    results = [next(it) if c is not None else np.nan for c in configs]
    rows = [
        {"parameter": n, "step": s, "value": v, "metric_value": m}
        for (n, s, v), m in zip(labels, results[1:], strict=True)
    ]
    return _finish(rows, float(results[0]), metric)
