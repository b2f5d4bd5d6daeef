"""simulate (recording path, pure metric functions) and simulate_many (Numba streaming metrics) agree to 1e-9."""

from __future__ import annotations

import math

import numpy as np
import pytest
from engine_helpers import random_config, random_path

from core import METRIC_NAMES, simulate, simulate_many

N_PATHS = 25
CONFIGS_PER_PATH = 10  # 250 random configurations in all


def _close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.parametrize("seed", range(N_PATHS))
def test_simulate_and_simulate_many_agree_on_every_metric(seed):
    rng = np.random.default_rng(1000 + seed)
    prices, dividends = random_path(rng, intraday_bars=seed % 3 == 0)
    configs = [random_config(rng) for _ in range(CONFIGS_PER_PATH)]
    fast = simulate_many(prices, configs, dividends)
    assert len(fast) == CONFIGS_PER_PATH
    for row, cfg in zip(fast.itertuples(index=False), configs, strict=True):
        slow = simulate(prices, cfg, dividends).metrics
        assert row.trigger_up == cfg.trigger_up
        bad = {m: (slow[m], getattr(row, m)) for m in METRIC_NAMES if not _close(slow[m], getattr(row, m))}
        assert not bad, f"seed {seed}, config {cfg}: {bad}"


def test_the_sample_covers_trades_trims_skips_dividends_and_caps():
    """The random sample is only a good differential test if it exercises the rules."""
    totals = dict.fromkeys(("n_trades", "n_trimmed", "n_skipped_min_notional", "n_blocked",
                            "n_rebalances", "dividends_gross"), 0.0)
    caps = 0
    for seed in range(N_PATHS):
        rng = np.random.default_rng(1000 + seed)
        prices, dividends = random_path(rng, intraday_bars=seed % 3 == 0)
        for _ in range(CONFIGS_PER_PATH):
            res = simulate(prices, random_config(rng), dividends)
            for k in totals:
                totals[k] += res.metrics[k]
            caps += int((res.timeline["status"] == "daily_cap").sum())
    assert all(v > 0 for v in totals.values()), totals
    assert caps > 0
