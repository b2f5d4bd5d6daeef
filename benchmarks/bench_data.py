"""CSV loading benchmark: a generated 2,000,000-row intraday file (UTC minute bars, about 124 MB).

Run with ``python -m benchmarks.bench_data`` (or ``python -m benchmarks data``). The file is written to a temporary
folder; each load runs in a fresh process so that its peak RSS (``ru_maxrss``) is the load's own, next to the
peak of a process that only imports the loader. ``run()`` returns rows of (figure, measured, target).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parent.parent
N_ROWS = 2_000_000
REPEATS = 2  # fresh processes per figure; the best one is reported (a shared machine adds noise, never speed)
FIRST_BAR = "2010-01-04T14:30"
_SECONDS_PER_BAR = 60

_CHILD = """
import json, resource, sys, time
from core.data import load_csv
start = time.perf_counter()
data = None if sys.argv[1] == "-" else load_csv(sys.argv[1])
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "rows": 0 if data is None else len(data.prices),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_csv(path: Path, n_rows: int = N_ROWS, seed: int = 0) -> int:
    """Write ``n_rows`` UTC minute bars (``Datetime,Open,High,Low,Close,Volume``) to ``path``; returns its size."""
    rng = np.random.default_rng(seed)
    stamps = np.datetime64(FIRST_BAR, "s") + np.arange(n_rows) * np.timedelta64(_SECONDS_PER_BAR, "s")
    close = np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.0005, n_rows))), 4)
    open_ = np.round(close * (1 + rng.normal(0, 0.0002, n_rows)), 4)
    table = pa.table({
        "Datetime": pc.strftime(pa.array(stamps, pa.timestamp("s")), format="%Y-%m-%dT%H:%M:%SZ"),
        "Open": open_,
        "High": np.round(np.maximum(open_, close) * 1.0005, 4),
        "Low": np.round(np.minimum(open_, close) * 0.9995, 4),
        "Close": close,
        "Volume": rng.integers(100, 100_000, n_rows),
    })
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="none"))
    return path.stat().st_size


def _fresh_load(path: str) -> dict:
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, path], cwd=ROOT, capture_output=True, text=True, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if child.returncode != 0:
        raise RuntimeError(child.stderr.strip().splitlines()[-1] if child.stderr.strip() else "load failed")
    return json.loads(child.stdout.strip().splitlines()[-1])


def run() -> list[tuple[str, str, str]]:
    """Load the generated file in fresh processes; rows of (figure, measured, target)."""
    with tempfile.TemporaryDirectory(prefix="vbl-bench-data-") as folder:
        path = Path(folder) / "minute_bars.csv"
        size_mb = write_csv(path) / 1e6
        loads = [_fresh_load(str(path)) for _ in range(REPEATS)]
        imports = min(_fresh_load("-")["peak_mb"] for _ in range(REPEATS))
    best = min(loads, key=lambda r: r["seconds"])
    peak = min(r["peak_mb"] for r in loads)
    return [
        (f"load_csv, {best['rows']:,} UTC minute bars ({size_mb:.0f} MB), fresh process [s]", f"{best['seconds']:.2f}",
         "a few seconds"),
        ("  peak RSS of that process [MB]", f"{peak:,.0f}", f"a small multiple of {size_mb:.0f} MB"),
        ("  peak RSS of a process that only imports the loader [MB]", f"{imports:,.0f}", ""),
    ]


if __name__ == "__main__":
    from benchmarks.__main__ import print_rows

    print_rows("data", run())
