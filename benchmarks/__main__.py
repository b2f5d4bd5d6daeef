"""``python -m benchmarks``: run every benchmark module and print one table per module."""

from __future__ import annotations

import importlib
import os
import platform
import sys

MODULES = [
    "benchmarks.bench_engine",
    "benchmarks.bench_data",
    "benchmarks.bench_storage",
    "benchmarks.bench_optimize",
    "benchmarks.bench_report",
    "benchmarks.bench_analysis",
    "benchmarks.bench_app",
    # vectorbt and backtesting.py on the same grid: measured in .venv-peers (`make bench-peers`), else one line.
    "benchmarks.bench_peers",
]
# Run only when named (``python -m benchmarks bench_dask``): they take minutes.
ON_REQUEST = ["benchmarks.bench_dask"]


def print_rows(title: str, rows) -> None:
    rows = [tuple(str(x) for x in row) for row in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    print(f"\n== {title}")
    for r in rows:
        print("  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)))


def main(argv: list[str]) -> int:
    wanted = [m for m in MODULES + ON_REQUEST if (m in MODULES and not argv) or any(a in m for a in argv)]
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores")
    for name in wanted:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            print(f"\n== {name}: not available ({exc})")
            continue
        rows = module.run()
        if isinstance(rows, str):  # a module with nothing to measure here says why in one line
            print(f"\n{rows}")
        else:
            print_rows(name.split(".")[-1], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
