"""Run-store benchmarks on a SQLite file in a temporary folder.

Run with ``python -m benchmarks.bench_storage``. ``run()`` returns rows of (figure with its unit, measured value,
target). Set ``VBL_BENCH_DATABASE_URL`` to an empty PostgreSQL database to measure that backend instead.
"""

from __future__ import annotations

import os
import statistics
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.timing import timed
from core import StrategyConfig, simulate
from storage import Store, TrialInput
from storage.models import INDEXED_METRICS

N_SAVE = 10_000
N_LIST = 100_000
N_DAILY = 2_520  # ten years of trading days


def _trials(n: int, start: int = 0, seed: int = 0) -> list[TrialInput]:
    rng = np.random.default_rng(seed)
    values = rng.normal(0.0, 1.0, (n, 8))
    rows = []
    for i in range(n):
        v = values[i]
        metrics = {m: float(v[k]) for k, m in enumerate(INDEXED_METRICS)}
        metrics.update(volatility=abs(float(v[5])), sortino=float(v[6]), calmar=float(v[7]), n_trades=float(i % 300))
        params = {"trigger_up": 0.01 + (i % 50) * 0.001, "trigger_down": 0.01 + (i % 37) * 0.001,
                  "sizing": "proportional", "trade_fraction": 0.25}
        rows.append(TrialInput(index=start + i, params=params, metrics=metrics, duration_s=0.002))
    return rows


def _ten_year_run() -> tuple[pd.DataFrame, object]:
    idx = pd.date_range("2014-01-02", periods=N_DAILY, freq="B", name="timestamp")
    close = 100 * np.exp(np.cumsum(np.random.default_rng(1).normal(0.0003, 0.015, N_DAILY)))
    prices = pd.DataFrame({"close": close}, index=idx)
    return prices, simulate(prices, StrategyConfig())


def run() -> list[tuple[str, float, str]]:
    """Measure the issue's three speed targets; rows of (figure, measured value, target)."""
    with tempfile.TemporaryDirectory(prefix="vbl-bench-") as folder:
        url = os.environ.get("VBL_BENCH_DATABASE_URL") or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        store = Store(url, actor="benchmark")
        backend = store.backend
        prices, result = _ten_year_run()
        dataset_id = store.save_dataset(prices, name="bench 10y", symbol="BENCH")

        # 1. save 10,000 trials in one call (one transaction)
        study = store.create_study(dataset_id, search_space={}, method="grid", objective="sharpe")
        batch = _trials(N_SAVE)
        save_s = min(
            timed(lambda s=s: store.save_trials(s, batch))
            for s in [study, *(store.create_study(dataset_id, search_space={}, method="grid", objective="sharpe")
                               for _ in range(2))]
        )

        # 2. list and sort 100,000 trials by a metric
        big = store.create_study(dataset_id, search_space={}, method="random", objective="sharpe")
        for start in range(0, N_LIST, N_SAVE):
            store.save_trials(big, _trials(N_SAVE, start=start, seed=start))
        list_s = min(timed(lambda: store.list_trials(big, sort="-sharpe", full=False)) for _ in range(3))
        full_s = min(timed(lambda: store.list_trials(big, sort="-sharpe")) for _ in range(3))
        top_s = min(timed(lambda: store.list_trials(big, sort="-sharpe", limit=100)) for _ in range(5))
        assert len(store.list_trials(big, sort="-sharpe", full=False)) == N_LIST

        # 3. save a 10-year daily run with its trades
        store.save_run(dataset_id, result)  # warm-up
        run_ms = statistics.median(timed(lambda: store.save_run(dataset_id, result)) for _ in range(15)) * 1000
        n_trades = len(result.trades)
        store.close()
    return [
        (f"save {N_SAVE:,} trials in one batch, {backend} [s]", round(save_s, 3), "≤ 1 s"),
        (f"list all {N_LIST:,} trials sorted by sharpe (indexed metrics), {backend} [s]", round(list_s, 3),
         "≤ 0.5 s"),
        (f"list all {N_LIST:,} trials sorted by sharpe with every param + metric, {backend} [s]", round(full_s, 3),
         ""),
        (f"top 100 of {N_LIST:,} trials by sharpe with every param + metric, {backend} [s]", round(top_s, 4), ""),
        (f"save a 10-year daily run with {n_trades} trades, {backend} [ms, median of 15]", round(run_ms, 2),
         "≤ 50 ms"),
    ]


if __name__ == "__main__":
    from benchmarks.__main__ import print_rows

    print_rows("storage", run())
