import numpy as np
import pandas as pd
import pytest
from analysis_helpers import random_walk

from core import StrategyConfig, simulate_many
from core.analysis import bootstrap_paths, monte_carlo, stationary_bootstrap_indices


def test_bootstrap_extremes():
    rng = np.random.default_rng(0)
    one_block = stationary_bootstrap_indices(10, 3, 1e12, rng)  # never a new block after the first
    for row in one_block:
        assert list(row) == [(row[0] + i) % 10 for i in range(10)]
    iid = stationary_bootstrap_indices(10, 2, 1.0, np.random.default_rng(1))  # every step a new block
    assert iid.shape == (2, 10) and iid.min() >= 0 and iid.max() < 10


def test_bootstrap_mean_block_length_and_determinism():
    idx = stationary_bootstrap_indices(1000, 20, 10.0, np.random.default_rng(4))
    breaks = np.mean(np.diff(idx, axis=1) % 1000 != 1)
    assert breaks == pytest.approx(0.1 * 0.999, abs=0.01)  # a new block may continue by chance (1/1000)
    close = random_walk(50)["close"].to_numpy()
    a, b = bootstrap_paths(close, 5, 5, seed=9), bootstrap_paths(close, 5, 5, seed=9)
    np.testing.assert_array_equal(a, b)
    assert np.all(a[:, 0] == close[0])
    # every synthetic log return is one of the real ones
    real = set(np.round(np.diff(np.log(close)), 12))
    assert set(np.round(np.diff(np.log(a[0])), 12)) <= real


def test_monte_carlo_matches_simulate_many_on_each_path():
    prices = random_walk(120, seed=8)
    configs = [StrategyConfig(), StrategyConfig(trigger_up=0.05, trigger_down=0.05)]
    res = monte_carlo(prices, configs, n_paths=6, block_length=10, seed=3)
    paths = bootstrap_paths(prices["close"].to_numpy(), 6, 10, seed=3)
    for p in (0, 5):
        synthetic = pd.DataFrame({"close": paths[p]}, index=prices.index)
        expected = simulate_many(synthetic, configs)
        got = res.metrics[res.metrics["path"] == p].reset_index(drop=True)
        np.testing.assert_allclose(got["sharpe"], expected["sharpe"], rtol=1e-12)
        np.testing.assert_allclose(got["total_return"], expected["total_return"], rtol=1e-12)
    pct = res.percentiles.set_index(["config", "metric"])
    tr = res.metrics[res.metrics["config"] == 1]["total_return"]
    assert pct.loc[(1, "total_return"), "p50"] == pytest.approx(np.median(tr))
    assert pct.loc[(1, "total_return"), "p5"] == pytest.approx(np.percentile(tr, 5))
    actual = simulate_many(prices, configs)["total_return"].iloc[0]
    assert pct.loc[(0, "total_return"), "actual"] == pytest.approx(actual, rel=1e-12)
    assert list(res.prob_beats_buy_hold.index) == [0, 1]
    assert res.sample_paths.shape == (120, 6)
