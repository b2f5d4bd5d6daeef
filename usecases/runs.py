"""Stored runs, re-run: the timeline of a stored run, and the check that a re-run reproduces it exactly.

The store keeps a run's configuration, metrics and trades but not its timeline (one row per bar would dwarf the
rest); the timeline is recomputed here from the stored dataset and configuration.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from core import ENGINE_VERSION, SimulationResult, simulate
from storage import FrozenMap, Store, StoreReadOnly


@dataclass(frozen=True)
class RerunCheck:
    """Outcome of :func:`verify_run`: ``identical`` is True when metrics and trades match bit for bit."""

    run_id: int
    identical: bool
    differences: tuple[str, ...]
    stored_engine_version: str
    current_engine_version: str


def rerun(store: Store, run_id: int) -> SimulationResult:
    """Re-simulate a stored run from the stored dataset and configuration.

    This is how the timeline of a stored run is obtained. With the same engine version the metrics and trades
    equal the stored ones bit for bit (see :func:`verify_run`). ``NotFound`` if the run does not exist.
    """
    record = store.get_run(run_id)
    frames = store.load_dataset(record.dataset_id)
    result = simulate(frames.prices, record.config, dividends=frames.dividends)
    # re-running works on a read-only database too; there is just no audit entry then
    with contextlib.suppress(StoreReadOnly):
        store.record_audit("run", "run", run_id, {"action": "rerun"})
    return result


def verify_run(store: Store, run_id: int) -> RerunCheck:
    """Re-run a stored run and report whether metrics and trades match the stored ones exactly."""
    record = store.get_run(run_id)
    stored_trades = store.get_run_trades(run_id)
    result = rerun(store, run_id)
    differences = metric_differences(record.metrics, result.metrics)
    if not same_frame(stored_trades, result.trades):
        differences.append("trades differ")
    return RerunCheck(
        run_id=run_id,
        identical=not differences,
        differences=tuple(differences),
        stored_engine_version=record.engine_version,
        current_engine_version=ENGINE_VERSION,
    )


def metric_differences(stored: Mapping[str, Any], recomputed: Mapping[str, float]) -> list[str]:
    """Each metric whose recomputed value is not bit for bit the stored one (NaN equals NaN), and each stored metric
    that was not recomputed."""
    out = [
        f"metric {key}: stored {stored.get(key)!r}, recomputed {value!r}"
        for key, value in FrozenMap(recomputed).items()
        if FrozenMap({key: value}) != FrozenMap({key: stored.get(key)})
    ]
    return out + [f"metric {key}: stored but not recomputed" for key in stored if key not in recomputed]


def same_frame(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Whether a stored table and a re-run's are the same: columns in order, dtypes, index and every value."""
    return (
        list(a.columns) == list(b.columns)
        and list(a.dtypes) == list(b.dtypes)
        and a.index.equals(b.index)
        and bool(a.equals(b))
    )
