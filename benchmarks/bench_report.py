"""Report and export benchmarks: run workbook and PDF for ten years of daily data, warm chart PNG.

Run with ``python -m benchmarks.bench_report`` (or ``python -m benchmarks report``). ``run()`` returns rows of
(figure, measured, target). The run is simulated once beforehand; the timings are the export alone (building the
workbook or PDF and serialising it to bytes), the median of a few repetitions.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.timing import median_seconds
from core import StrategyConfig, simulate
from core.data.samples import load_sample
from core.report.context import DatasetMeta, RunReport

N_DAILY = 2_520  # ten years of trading days
ROOT = Path(__file__).resolve().parents[1]


def _report() -> RunReport:
    rng = np.random.default_rng(6)
    index = pd.bdate_range("2014-01-02", periods=N_DAILY, name="timestamp")
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0003, 0.018, N_DAILY)))
    prices = pd.DataFrame({"close": close}, index=index)
    dividends = pd.DataFrame(
        {
            "ex_date": pd.date_range("2014-03-15", periods=40, freq="QS-MAR") + pd.Timedelta(days=14),
            "amount": 0.4,
            "pay_date": pd.NaT,
        }
    )
    result = simulate(prices, StrategyConfig(), dividends)
    meta = DatasetMeta(name="synthetic 10y daily", symbol="SYN", sha256="0" * 64)
    return RunReport(result, meta, run_id=1, name="benchmark")


def _long_report() -> RunReport:
    """The last 8,000 daily bars of the bundled MSFT history with its dividends: the issue's long-run workbook."""
    from core.data.samples import load_sample

    md = load_sample("MSFT")
    result = simulate(md.prices.iloc[-8_000:], StrategyConfig(), md.dividends)
    return RunReport(result, DatasetMeta.from_market_data(md), run_id=2, name="MSFT 8,000 bars")


def _cli_seconds(*argv: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cli", "report", *argv], cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def _cli_image_rows() -> list[tuple[str, str, str]]:
    """The issue's batch through the command line, each a fresh process as a cron job runs it: one PNG, then ten
    (five runs × two charts) drawn by the one export process. The runs cover the whole bundled MSFT history (7,983
    daily bars), so each chart has 8,000-point lines."""
    from usecases.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite3"
        md = load_sample("MSFT")
        result = simulate(md.prices, StrategyConfig(), md.dividends)
        with Store(url) as store:
            dataset = store.save_dataset(md)
            ids = [str(store.save_run(dataset, result, name=f"bench {i}")) for i in range(5)]
        one = _cli_seconds("--run", ids[0], "--format", "png", "--out", f"{tmp}/one.png", "--db", url)
        runs = [arg for run_id in ids for arg in ("--run", run_id)]
        ten = _cli_seconds(*runs, "--format", "png", "--chart", "equity,drawdown", "--out", f"{tmp}/ten", "--db", url)
        # the baseline: the same ten images as ten calls, each starting its own chromium
        separate = sum(_cli_seconds("--run", run_id, "--format", "png", "--chart", chart, "--out",
                                    f"{tmp}/{run_id}_{chart}.png", "--db", url)
                       for run_id in ids for chart in ("equity", "drawdown"))  # fmt: skip
    return [("CLI: one chart PNG, fresh process (s)", f"{one:.2f}", "-"),
            ("CLI: 10 chart PNGs in one call (5 runs × 2 charts), fresh process (s)",
             f"{ten:.2f} ({ten / one:.1f}x one image; {separate / ten:.1f}x faster than 10 calls)", "≈ one image"),
            ("CLI: the same 10 PNGs as 10 calls (s)", f"{separate:.1f}", "-"),
            ("CLI: each further PNG of that call (s)", f"{(ten - one) / 9:.2f}", "-")]


def run() -> list[tuple[str, str, str]]:
    """Measure the three budgets of the issue and return (figure, measured, target) rows."""
    from core.report.excel_run import run_workbook, save_workbook
    from core.report.pdf import run_pdf

    report = _report()
    n_bars = len(report.result.timeline)
    long_report = _long_report()
    rows = [
        (f"run workbook, full audit, {n_bars:,} daily bars (s)",
         f"{median_seconds(lambda: save_workbook(run_workbook(report)), 3):.2f}", "<= 3"),
        (f"run workbook, full audit, {len(long_report.result.timeline):,} daily bars of MSFT, "
         f"{len(long_report.result.trades):,} trades (s)",
         f"{median_seconds(lambda: save_workbook(run_workbook(long_report)), 3):.2f}", "<= 3"),
        (f"PDF run report, {n_bars:,} daily bars (s)", f"{median_seconds(lambda: run_pdf(report), 3):.2f}", "<= 5"),
    ]  # fmt: skip
    try:
        from core.figures import equity_figure
        from core.report import images

        fig = equity_figure(report.result.equity, report.result.benchmarks)
        start = time.perf_counter()
        images.figure_image(fig, "png")  # starts the export process
        cold = time.perf_counter() - start
        warm = median_seconds(lambda: images.figure_image(fig, "png"), 5)
        images.shutdown()
        rows.append(("chart PNG, first (starts chromium) (s)", f"{cold:.2f}", "-"))
        rows += _cli_image_rows()
        rows.append((f"chart PNG, warm, {n_bars:,} points x 3 lines, scale 2 (s)", f"{warm:.2f}", "<= 0.5"))
    except Exception as exc:  # no browser on this machine: report it instead of failing the whole table
        rows.append(("chart PNG", f"not measured ({type(exc).__name__}: {exc})", "<= 0.5"))
    rows.append(_big_study_row())
    return rows


def _big_study_row() -> tuple[str, str, str]:
    """A 100,000-trial random search over three continuous parameters exported as the study workbook (its heatmap
    and sensitivity binned to 100 levels): wall time and the process's peak memory growth."""
    import resource

    from core.report.context import StudyReport
    from core.report.exports import study_export

    n = 100_000
    rng = np.random.default_rng(1)
    trials = pd.DataFrame({"index": np.arange(n), "status": "completed"})
    for name, (low, high) in {"trigger_up": (0.01, 0.1), "trigger_down": (0.01, 0.1),
                              "rebalance_ratio": (0.5, 3.0)}.items():
        trials[f"param.{name}"] = rng.uniform(low, high, n)
    for metric in ("sharpe", "total_return", "cagr", "max_drawdown", "volatility", "n_trades", "sortino", "calmar"):
        trials[metric] = rng.normal(size=n)
    study = StudyReport(trials, name="100k random", study_id=1, method="random", objective="sharpe")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    size = len(study_export(study, "xlsx").data)
    seconds = time.perf_counter() - start
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    return (f"study workbook, 100,000 trials ({size / 1e6:.1f} MB)",
            f"{seconds:.1f} s, peak memory +{grown:.0f} MB", "bounded")


if __name__ == "__main__":
    for row in run():
        print("  ".join(row))
