"""Monte Carlo: re-run the strategy on synthetic histories built by a stationary block bootstrap.

The underlying's daily log returns are resampled with the stationary bootstrap of Politis & Romano (1994): blocks
start at uniformly random positions and have geometric lengths of mean ``block_length`` (wrapping around the end),
which keeps short-range structure such as volatility clustering. Each synthetic path starts at the real first close
and keeps the real timestamps and dividends; the strategy is simulated on every path by the engine's fast path and
the distribution of every metric is summarised by percentiles.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.config import StrategyConfig
from core.engine import METRIC_NAMES, params_matrix, prepare, run_params

from ._common import as_configs

DEFAULT_PERCENTILES: tuple[float, ...] = (5.0, 25.0, 50.0, 75.0, 95.0)


def stationary_bootstrap_indices(
    n: int, n_paths: int, block_length: float, rng: np.random.Generator
) -> np.ndarray:
    """``(n_paths, n)`` indices into a series of length ``n`` drawn by the stationary bootstrap.

    At each step a new block starts with probability ``1 / block_length`` at a uniform position; otherwise the
    previous index advances by one, wrapping from the end to the start.
    """
    if n < 1:
        raise ValueError("nothing to resample")
    if block_length < 1:
        raise ValueError("block_length must be at least 1")
    new_block = rng.random((n_paths, n)) < 1.0 / block_length
    new_block[:, 0] = True
    starts = rng.integers(0, n, size=(n_paths, n))
    steps = np.arange(n)
    # Position of the latest block start at each step; the index is that block's start plus the distance to it.
    last = np.maximum.accumulate(np.where(new_block, steps, 0), axis=1)
    origin = np.take_along_axis(starts, last, axis=1)
    return (origin + (steps - last)) % n


def bootstrap_paths(close: np.ndarray, n_paths: int, block_length: float, seed: int | None = 0) -> np.ndarray:
    """``(n_paths, len(close))`` synthetic closes: the first real close, then bootstrapped log returns."""
    close = np.asarray(close, dtype=float)
    log_r = np.diff(np.log(close))
    rng = np.random.default_rng(seed)
    idx = stationary_bootstrap_indices(log_r.size, n_paths, block_length, rng)
    growth = np.cumsum(log_r[idx], axis=1)
    return close[0] * np.exp(np.concatenate([np.zeros((n_paths, 1)), growth], axis=1))


@dataclass(frozen=True)
class MonteCarloResult:
    """The metric distribution over synthetic paths.

    ``metrics``: one row per (``path``, ``config``) with every metric. ``percentiles``: one row per (``config``,
    ``metric``) with ``mean``, ``p5`` … ``p95`` (the requested percentiles), ``actual`` (the metric on the real
    history) and ``actual_percentile`` (share of paths at or below the actual value). ``prob_beats_buy_hold``: per
    configuration, the share of paths on which it ended above buy-and-hold. ``sample_paths``: the first few
    synthetic price paths (columns), for a chart.
    """

    metrics: pd.DataFrame
    percentiles: pd.DataFrame
    prob_beats_buy_hold: pd.Series
    sample_paths: pd.DataFrame
    n_paths: int
    block_length: float
    seed: int | None


def monte_carlo(
    prices: pd.DataFrame,
    configs: StrategyConfig | Sequence[StrategyConfig | Mapping[str, Any]] | pd.DataFrame | None = None,
    n_paths: int = 1000,
    block_length: float = 20.0,
    seed: int | None = 0,
    dividends: pd.DataFrame | None = None,
    percentiles: Sequence[float] = DEFAULT_PERCENTILES,
    n_sample_paths: int = 20,
    n_threads: int | None = None,
) -> MonteCarloResult:
    """Simulate one or more configurations on ``n_paths`` bootstrapped price paths (defaults: 1000 paths, mean
    block 20 days, seed 0; the same seed gives the same paths).

    The real data is validated and prepared once; each path only swaps the close prices in the prepared arrays
    (timestamps, sessions and dividends are the real ones), so a path costs one kernel run per configuration.
    """
    cfgs = as_configs(configs if configs is not None else StrategyConfig())
    params = params_matrix(cfgs)
    bars = prepare(prices, dividends)
    paths = bootstrap_paths(bars.close, n_paths, block_length, seed)
    if not np.all(np.isfinite(paths)) or not np.all(paths > 0):
        raise ValueError("a synthetic path left the range of finite positive prices")
    if n_threads is None and len(cfgs) == 1:
        n_threads = 1  # one configuration per call: waking the thread pool would cost more than the run
    actual = run_params(bars, params, n_threads)
    out = np.empty((n_paths, len(cfgs), len(METRIC_NAMES)))
    for p in range(n_paths):
        path_bars = dataclasses.replace(bars, close=np.ascontiguousarray(paths[p]))
        out[p] = run_params(path_bars, params, n_threads)

    n_cfg = len(cfgs)
    frame = pd.DataFrame(out.reshape(n_paths * n_cfg, -1), columns=list(METRIC_NAMES))
    frame.insert(0, "config", np.tile(np.arange(n_cfg), n_paths))
    frame.insert(0, "path", np.repeat(np.arange(n_paths), n_cfg))

    rows = []
    for c in range(n_cfg):
        for m, name in enumerate(METRIC_NAMES):
            v = out[:, c, m]
            ok = v[np.isfinite(v)]
            row: dict[str, Any] = {"config": c, "metric": name, "mean": float(ok.mean()) if ok.size else np.nan}
            qs = np.percentile(ok, list(percentiles)) if ok.size else [np.nan] * len(percentiles)
            row.update({f"p{q:g}": float(x) for q, x in zip(percentiles, qs, strict=True)})
            a = float(actual[c, m])
            row["actual"] = a
            row["actual_percentile"] = float(np.mean(ok <= a)) if ok.size and np.isfinite(a) else np.nan
            row["n_finite"] = int(ok.size)
            rows.append(row)
    excess = out[:, :, METRIC_NAMES.index("excess_return_vs_buy_hold")]
    beats = pd.Series((excess > 0).mean(axis=0), index=pd.RangeIndex(n_cfg, name="config"), name="prob_beats_buy_hold")
    k = min(n_sample_paths, n_paths)
    sample = pd.DataFrame(paths[:k].T, index=prices.index, columns=[f"path_{i}" for i in range(k)])
    return MonteCarloResult(
        metrics=frame,
        percentiles=pd.DataFrame(rows),
        prob_beats_buy_hold=beats,
        sample_paths=sample,
        n_paths=n_paths,
        block_length=block_length,
        seed=seed,
    )
