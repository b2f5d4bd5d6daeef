"""Sweeps past one machine: a grid study on a Dask ``LocalCluster`` of worker processes, streamed into the store.

Run with ``python -m benchmarks bench_dask`` (not part of the default ``make bench``: the full grid takes minutes).
``VBL_BENCH_DASK_N`` sets the size of the stored grid (default 1,000,000 combinations). Figures:

* compute only (``DaskExecutor.evaluate``, no store) with 1 and with 2 worker processes, configurations per second
  and the ratio; the same rows through ``LocalExecutor`` in this process as the baseline;
* the scheduler overhead per chunk: many one-configuration chunks, minus their compute time, per chunk;
* the full grid as a stored study (``run_study`` with the Dask executor on 2 workers, SQLite store): wall time,
  trials per second, and the peak memory of the client (the process that writes the store) and of each worker.
  Trials are written batch by batch, so the client's memory stays bounded however large the grid.

Everything runs in this process and the cluster it starts on 127.0.0.1; the bars are ten years of synthetic
daily closes with quarterly dividends (``bench_optimize``'s data).
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.bench_optimize import _store

COMPUTE_ROWS = 100_000
OVERHEAD_CHUNKS = 2_000
BATCH = 50_000  # configurations per stored batch: 100 Dask tasks of 500


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _grid_spec(n: int) -> dict[str, str]:
    """A grid of about ``n`` combinations over three parameters (100 × 100 × n/10,000)."""
    third = max(1, round(n / 10_000))
    return {"trigger_up": "0.001:0.1:0.001", "trigger_down": "0.001:0.1:0.001",
            "rebalance_ratio": f"0.5:{0.5 + 0.01 * (third - 1):.2f}:0.01"}


def _params(store, dataset_id: int, rows: int) -> tuple[object, np.ndarray]:
    from core.engine import prepare
    from core.optimize import SearchSpace

    frames = store.load_dataset(dataset_id)
    bars = prepare(frames.prices, frames.dividends)
    space = SearchSpace.parse(_grid_spec(rows))
    return bars, space.params_for(space.choices(np.arange(min(rows, space.size))))


def run() -> list[tuple[str, str, str]]:
    from distributed import Client, LocalCluster

    from core.optimize import Objective, SearchSpace
    from core.optimize.executors import DaskExecutor, LocalExecutor
    from usecases.studies import create_study, run_study

    n_total = int(os.environ.get("VBL_BENCH_DASK_N", "1000000"))
    rows: list[tuple[str, str, str]] = [("figure", "measured", "note")]
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'dask.sqlite3'}"
        store, dataset_id = _store(url)
        bars, params = _params(store, dataset_id, COMPUTE_ROWS)

        local = LocalExecutor(n_threads=1)
        local.start(bars)
        local.evaluate(params[:1000])  # kernel loaded
        t = time.perf_counter()
        local.evaluate(params)
        local_rate = len(params) / (time.perf_counter() - t)
        rows.append(("local, 1 thread, compute only", f"{local_rate:,.0f} configs/s", "baseline, this process"))

        rates = {}
        for workers in (1, 2):
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                              host="127.0.0.1") as cluster, Client(cluster) as client:
                executor = DaskExecutor(client)
                executor.start(bars)
                executor.evaluate(params[:2000])  # every worker has loaded the kernel
                t = time.perf_counter()
                executor.evaluate(params)
                rates[workers] = len(params) / (time.perf_counter() - t)
                rows.append((f"dask, {workers} worker process(es), compute only", f"{rates[workers]:,.0f} configs/s",
                             f"{rates[workers] / local_rate:.2f}× local"))
                if workers == 1:
                    tiny = DaskExecutor(client, chunk=1)
                    tiny.start(bars)
                    one = params[:OVERHEAD_CHUNKS]
                    t = time.perf_counter()
                    tiny.evaluate(one)
                    per_chunk = (time.perf_counter() - t - len(one) / local_rate) / len(one)
                    rows.append(("scheduler overhead per chunk", f"{per_chunk * 1000:.2f} ms",
                                 f"{OVERHEAD_CHUNKS:,} one-configuration chunks"))
        rows.append(("speed-up 1 → 2 workers", f"{rates[2] / rates[1]:.2f}×", "2 cores"))

        space = SearchSpace.parse(_grid_spec(n_total))
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                          host="127.0.0.1") as cluster, Client(cluster) as client:
            study_id = create_study(store, dataset_id, space, Objective("sharpe"), method="grid", max_grid=n_total)
            planned = store.get_study(study_id).n_planned
            rss_before = _peak_mb()
            t = time.perf_counter()
            record = run_study(store, study_id, executor=DaskExecutor(client), batch_size=BATCH)
            elapsed = time.perf_counter() - t
            worker_mb = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        assert record.status == "completed" and store.count_trials(study_id) == planned
        rows.append((f"{planned:,}-combination grid stored, 2 workers", f"{elapsed:.1f} s",
                     f"{planned / elapsed:,.0f} trials/s incl. validation and SQLite writes"))
        rows.append(("client peak RSS", f"{_peak_mb():,.0f} MB", f"{rss_before:,.0f} MB before the study"))
        rows.append(("worker peak RSS", ", ".join(f"{mb:,.0f} MB" for mb in worker_mb.values()), "each process"))
    return rows


if __name__ == "__main__":
    for row in run():
        print("  ".join(row))
