"""Engine benchmarks: simulate latency, simulate_many throughput, kernel start-up, Python baseline.

Run with ``python -m benchmarks.bench_engine``. Every figure is measured in this process except the start-up,
which needs a fresh interpreter (measured in a subprocess with the Numba cache already warm).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.timing import median_seconds, timed
from core import StrategyConfig, kernel_interpreted, simulate
from core.engine import params_matrix, params_row, prepare, run_params, volatility_for

ROOT = Path(__file__).resolve().parents[1]
N_DAILY = 2_520  # ten years of trading days


def daily_prices() -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The last 2,520 bars of the bundled MSFT series (real data), without dividends (it is dividend-adjusted)."""
    from core.data import load_sample

    data = load_sample("MSFT")
    return data.prices.iloc[-N_DAILY:], data.dividends, f"MSFT last {N_DAILY} daily bars"


def intraday_prices(n_bars: int = 100_000, seed: int = 7) -> pd.DataFrame:
    """A synthetic 5-minute path (78 bars a session, Mon–Fri) of ``n_bars`` bars: real intraday data this long
    is not redistributable, and the kernel's cost depends only on the bar count and the trade count."""
    days = pd.bdate_range("2015-01-02", periods=n_bars // 78 + 1)
    slots = pd.timedelta_range("09:30:00", periods=78, freq="5min")
    index = (days.values[:, None] + slots.values[None, :]).ravel()[:n_bars]
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.0015, n_bars)))
    return pd.DataFrame({"close": close}, index=pd.DatetimeIndex(index))


def sweep_configs(n: int, seed: int = 1) -> list[StrategyConfig]:
    """A sweep like an optimisation grid: triggers, ratio, guardrails and sizing varied."""
    rng = np.random.default_rng(seed)
    sizings = ["proportional", "fixed_fraction", "original"]
    return [
        StrategyConfig(
            trigger_up=float(rng.uniform(0.01, 0.1)),
            trigger_down=float(rng.uniform(0.01, 0.1)),
            rebalance_ratio=float(rng.uniform(0.5, 3.0)),
            guardrail_min=float(rng.uniform(0.1, 0.4)),
            guardrail_max=float(rng.uniform(0.6, 0.9)),
            sizing=sizings[i % 3],
        )
        for i in range(n)
    ]


VOL_WINDOWS = (10, 20, 40, 60)  # a sweep over the volatility window too: each distinct window is one σ series


def vol_scaled(configs: list[StrategyConfig]) -> list[StrategyConfig]:
    """The same sweep with volatility-scaled triggers (docs/strategy.md §5.4a), over four windows."""
    return [c.replace(threshold_mode="vol_scaled", vol_window_bars=VOL_WINDOWS[i % len(VOL_WINDOWS)])
            for i, c in enumerate(configs)]


def _throughput(bars, params, threads: int, repeats: int = 3) -> float:
    run_params(bars, params[:4], threads)  # compile/warm outside the timing
    best = min(timed(lambda: run_params(bars, params, threads)) for _ in range(repeats))
    return params.shape[0] / best


def _python_baseline(bars, params) -> float:
    """Configurations per second of the identical rules run by the interpreter."""
    py = kernel_interpreted.load()
    no_rec = np.empty((0, py.N_RECORD))
    no_div = np.empty((0, py.N_DIV_RECORD))
    t = time.perf_counter()
    for row in params:
        py.run_one(bars.close, bars.day, bars.in_session, bars.div_ex_day, bars.div_amount, bars.div_pay_day,
                   row, volatility_for(bars.close, row), bars.n_days, no_rec, no_div)
    return params.shape[0] / (time.perf_counter() - t)


def _startup_seconds() -> float:
    code = (
        "import time; t=time.perf_counter();"
        "import numpy as np, pandas as pd;"
        "from core import simulate_many, StrategyConfig;"
        "p=pd.DataFrame({'close':[100.0,97.0,101.0]},index=pd.bdate_range('2020-01-02',periods=3));"
        "simulate_many(p,[StrategyConfig()]);"
        "print(time.perf_counter()-t)"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True)  # warms the cache
    out = [
        float(subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True)
              .stdout.strip())
        for _ in range(3)
    ]
    return float(np.median(out))


FIRST_RESULT_ARGS = ("-m", "cli", "optimize", "--data", "GOOG", "--param", "trigger_up=0.02:0.06:0.01",
                     "--param", "trigger_down=0.02:0.06:0.01", "--top", "1")


def _time_to_first_result() -> float:
    """Wall time of a cold ``python -m cli optimize`` (imports, kernel load from the warm Numba cache, bundled data,
    a 25-configuration grid stored in a fresh SQLite file, the top trial printed): median of 3 fresh processes."""
    import os
    import tempfile

    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(4):  # the first warms the caches and is not counted
            env = {**os.environ, "VBL_DATABASE_URL": f"sqlite:///{tmp}/first-{n}.sqlite3"}
            t = time.perf_counter()
            subprocess.run([sys.executable, *FIRST_RESULT_ARGS], cwd=ROOT, check=True, capture_output=True, env=env)
            times.append(time.perf_counter() - t)
    return float(np.median(times[1:]))


def run() -> list[tuple[str, str, str]]:
    """Measure everything; rows of (figure, measured, target)."""
    prices, dividends, label = daily_prices()
    simulate(prices, StrategyConfig(), dividends)
    sim_ms = median_seconds(lambda: simulate(prices, StrategyConfig(), dividends), 15) * 1000

    bars = prepare(prices, dividends)
    params = params_matrix(sweep_configs(40_000))
    one = _throughput(bars, params, 1)
    two = _throughput(bars, params, 2)
    vol_two = _throughput(bars, params_matrix(vol_scaled(sweep_configs(40_000))), 2)
    python_rate = _python_baseline(bars, params[:12])

    intraday = intraday_prices()
    ibars = prepare(intraday)
    iparams = params_matrix(sweep_configs(1_000, seed=2))
    run_params(ibars, iparams[:2], 2)
    intraday_s = timed(lambda: run_params(ibars, iparams, 2))
    py_intraday = _python_baseline(ibars, iparams[:1])

    start_s = _startup_seconds()
    first_s = _time_to_first_result()
    row_us = median_seconds(lambda: params_row(StrategyConfig()), 200) * 1e6
    return [
        (f"simulate, {label}, full timeline + events", f"{sim_ms:.1f} ms (median of 15)", "≤ 30 ms"),
        ("simulate_many, 2,520 daily bars, 1 thread", f"{one:,.0f} configs/s", ""),
        ("simulate_many, 2,520 daily bars, 2 threads", f"{two:,.0f} configs/s", "≥ 30,000 configs/s"),
        ("simulate_many, vol_scaled triggers (4 windows), 2 threads", f"{vol_two:,.0f} configs/s", ""),
        ("1,000 configs × 100,000 intraday bars, 2 threads",
         f"{intraday_s:.2f} s ({1_000 / intraday_s:,.0f} configs/s)", "≥ 3,000 configs/s"),
        ("kernel start-up, fresh process, warm cache", f"{start_s:.2f} s", "≤ 1.5 s"),
        ("time to first result: cold `python -m cli optimize` (25-config grid on GOOG, stored), warm cache",
         f"{first_s:.2f} s", "< 2 s"),
        ("plain Python loop of the same rules, 2,520 bars", f"{python_rate:,.1f} configs/s", "baseline"),
        ("speed-up, Numba 1 thread / Python", f"{one / python_rate:,.0f}×", ""),
        ("speed-up, Numba 2 threads / Python", f"{two / python_rate:,.0f}×", ""),
        ("speed-up on 100,000 intraday bars, 2 threads / Python",
         f"{(1_000 / intraday_s) / py_intraday:,.0f}×", ""),
        ("params_row + validation per config", f"{row_us:.1f} µs", ""),
    ]


if __name__ == "__main__":
    from benchmarks.__main__ import print_rows

    print_rows("engine", run())
