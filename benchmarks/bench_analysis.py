"""Analysis benchmarks: walk-forward, Monte Carlo and the trial-table analyses on ten years of data.

Run with ``python -m benchmarks.bench_analysis`` (or ``python -m benchmarks analysis``). Figures are the median of
a few runs after a warm-up (the Numba kernel compiled and cached); on a shared machine they are noisy.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from benchmarks.bench_engine import daily_prices, sweep_configs
from benchmarks.timing import median_seconds
from core import StrategyConfig, simulate_many
from core.analysis import monte_carlo, regime_metrics, robustness, sensitivity, walk_forward

TRAIN_BARS = 756  # three years of trading days


def _grid_trials(prices: pd.DataFrame) -> pd.DataFrame:
    """A 10 × 10 × 10 grid over the triggers and the ratio: a study's trials table of 1,000 rows."""
    ups = np.round(np.linspace(0.01, 0.10, 10), 4)
    downs = np.round(np.linspace(0.01, 0.10, 10), 4)
    ratios = np.round(np.linspace(0.5, 3.0, 10), 4)
    configs = [
        StrategyConfig(trigger_up=float(u), trigger_down=float(d), rebalance_ratio=float(r))
        for u, d, r in itertools.product(ups, downs, ratios)
    ]
    return simulate_many(prices, configs)


def run() -> list[tuple[str, str, str]]:
    """Measure everything; rows of (figure, measured, target)."""
    prices, _, label = daily_prices()
    configs = sweep_configs(1_000)
    walk_forward(prices.iloc[:300], configs[:4], n_folds=2)  # warm the kernel and the imports
    wf = median_seconds(lambda: walk_forward(prices, configs, "sharpe", n_folds=10, train_length=TRAIN_BARS), 3)
    wf_anchored = median_seconds(
        lambda: walk_forward(prices, configs, "sharpe", n_folds=10, train_length=TRAIN_BARS, mode="anchored"), 3
    )
    monte_carlo(prices, StrategyConfig(), n_paths=5)
    mc = median_seconds(lambda: monte_carlo(prices, StrategyConfig(), n_paths=1_000, block_length=20, seed=0), 3)
    trials = _grid_trials(prices)
    rob = median_seconds(lambda: robustness(trials, "sharpe"), 5)
    sens = median_seconds(lambda: sensitivity(prices, StrategyConfig()), 5)
    reg = median_seconds(lambda: regime_metrics(prices, StrategyConfig()), 5)
    test_bars = (len(prices) - TRAIN_BARS) // 10
    return [
        (f"walk-forward, {label}, 10 rolling folds ({TRAIN_BARS} train / {test_bars} test bars) × 1,000 configs",
         f"{wf:.2f} s (median of 3)", "≤ 10 s"),
        ("walk-forward, same, anchored folds", f"{wf_anchored:.2f} s (median of 3)", "≤ 10 s"),
        (f"Monte Carlo, {label}, 1,000 bootstrap paths (mean block 20) × 1 config", f"{mc:.2f} s (median of 3)",
         "≤ 5 s"),
        ("robustness of a 10 × 10 × 10 grid (1,000 trials), radius 1", f"{rob * 1000:.0f} ms (median of 5)", ""),
        ("sensitivity, 6 parameters × 4 steps, re-run", f"{sens * 1000:.0f} ms (median of 5)", ""),
        ("regime metrics, one configuration", f"{reg * 1000:.0f} ms (median of 5)", ""),
    ]


if __name__ == "__main__":
    from benchmarks.__main__ import print_rows

    print_rows("analysis", run())
