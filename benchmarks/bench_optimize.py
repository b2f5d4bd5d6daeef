"""Optimisation benchmarks on ten years of synthetic daily data and a SQLite store in a temporary folder.

Run with ``python -m benchmarks bench_optimize`` (or ``python -m benchmarks.bench_optimize``). ``run()`` returns rows
of (figure, measured, target). Figures include loading the data from the store, validating every combination and
writing every trial. The 100,000-combination grid runs in a fresh process so that its peak memory is its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

N_DAILY = 2_520  # ten years of trading days
ROOT = Path(__file__).resolve().parent.parent


def _prices() -> tuple[pd.DataFrame, pd.DataFrame]:
    idx = pd.date_range("2014-01-02", periods=N_DAILY, freq="B", name="timestamp")
    close = 100 * np.exp(np.cumsum(np.random.default_rng(1).normal(0.0003, 0.015, N_DAILY)))
    ex = idx[60::63][:40]  # quarterly dividends
    dividends = pd.DataFrame({"ex_date": ex, "amount": 0.4, "pay_date": ex + pd.Timedelta(days=14)})
    return pd.DataFrame({"close": close}, index=idx), dividends


def _store(url: str):
    from storage import Store

    store = Store(url, actor="benchmark")
    prices, dividends = _prices()
    dataset_id = store.save_dataset(prices, dividends, name="bench 10y", symbol="BENCH", source="csv",
                                    interval="1d", price_basis="split_adjusted", timezone="America/New_York")
    return store, dataset_id


GRID_10K = {"trigger_up": "0.001:0.1:0.001", "trigger_down": "0.001:0.1:0.001"}  # 100 × 100
GRID_100K = {**GRID_10K, "rebalance_ratio": "0.5:5:0.5"}  # 100 × 100 × 10


def _grid(url: str, spec: dict[str, str]) -> tuple[float, int, float]:
    """Seconds to create and run the grid study, trials stored, seconds to rank its top 10."""
    from core.optimize import Objective, SearchSpace
    from usecases.studies import create_study, run_study, top_trials

    store, dataset_id = _store(url)
    space = SearchSpace.parse(spec)
    start = time.perf_counter()
    study_id = create_study(store, dataset_id, space, Objective("sharpe", constraints=("max_drawdown>=-0.4",)),
                            method="grid")
    record = run_study(store, study_id)
    elapsed = time.perf_counter() - start
    assert record.status == "completed"
    _PEAK_MB.append(_peak_mb())  # the study's own peak, before ranking reads the trials back
    start = time.perf_counter()
    top_trials(store, study_id, 10)
    return elapsed, store.count_trials(study_id), time.perf_counter() - start


_PEAK_MB: list[float] = []


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _tpe(url: str, n: int) -> tuple[float, int]:
    from core.optimize import Objective, SearchSpace
    from usecases.studies import create_study, run_study

    store, dataset_id = _store(url)
    space = SearchSpace.parse({"trigger_up": "0.005:0.1:0.0005", "trigger_down": "0.005:0.1:0.0005",
                               "rebalance_ratio": "0.5:3:0.1", "sizing": "proportional,original,fixed_fraction",
                               "auto_rebalance": "bool"})
    start = time.perf_counter()
    study_id = create_study(store, dataset_id, space, Objective("sharpe", constraints=("max_drawdown>=-0.4",)),
                            method="bayes", n_trials=n, seed=1)
    run_study(store, study_id)
    return time.perf_counter() - start, store.count_trials(study_id)


def _child_100k(url: str) -> None:
    """Entry point of the fresh process: run the 100k grid, print seconds, trials and peak RSS as JSON."""
    seconds, n, rank_s = _grid(url, GRID_100K)
    print(json.dumps({"seconds": seconds, "trials": n, "peak_mb": _PEAK_MB[-1], "rank_s": rank_s,
                      "peak_after_rank_mb": _peak_mb()}))


def _warm() -> None:
    from core.engine import StrategyConfig, params_matrix, prepare, run_params

    prices, dividends = _prices()
    run_params(prepare(prices, dividends), params_matrix([StrategyConfig()]))


def run() -> list[tuple[str, str, str]]:
    """Measure the issue's three speed targets; rows of (figure, measured, target)."""
    _warm()
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="vbl-bench-opt-") as folder:
        grid_s, grid_n, _ = _grid(f"sqlite:///{Path(folder) / 'grid.sqlite3'}", GRID_10K)
        rows.append((f"{grid_n:,}-combination grid, 10 y daily, all trials stored", f"{grid_s:.2f} s", "≤ 5 s"))
        tpe_s, tpe_n = _tpe(f"sqlite:///{Path(folder) / 'tpe.sqlite3'}", 200)
        rows.append((f"{tpe_n} TPE trials, 10 y daily, stored", f"{tpe_s:.2f} s", "≤ 15 s"))
        child = subprocess.run(
            [sys.executable, "-c", "import benchmarks.bench_optimize as b, sys; b._child_100k(sys.argv[1])",
             f"sqlite:///{Path(folder) / 'big.sqlite3'}"],
            cwd=ROOT, capture_output=True, text=True, check=False, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        if child.returncode != 0:
            rows.append(("100,000-combination grid", f"failed: {child.stderr.strip().splitlines()[-1:]}", "≤ 2 GB"))
        else:
            big = json.loads(child.stdout.strip().splitlines()[-1])
            rows.append((f"{big['trials']:,}-combination grid, peak memory (fresh process)",
                         f"{big['peak_mb']:,.0f} MB ({big['seconds']:.1f} s)", "≤ 2 GB"))
            rows.append((f"top 10 of {big['trials']:,} trials (constraints applied), peak memory after",
                         f"{big['rank_s']:.2f} s, {big['peak_after_rank_mb']:,.0f} MB", "(no target)"))
    return rows


if __name__ == "__main__":
    for row in run():
        print("  ".join(row))
