import numpy as np
import pandas as pd
import pytest
from analysis_helpers import random_walk

from core import StrategyConfig, simulate, simulate_many
from core.analysis import walk_forward, walk_forward_folds


def spans(folds):
    return [(f.train_start, f.train_end, f.test_start, f.test_end) for f in folds]


def test_fold_layouts():
    assert spans(walk_forward_folds(100, 4, 40, 15)) == [
        (0, 40, 40, 55), (15, 55, 55, 70), (30, 70, 70, 85), (45, 85, 85, 100),
    ]
    assert spans(walk_forward_folds(100, 4, 40, 15, mode="anchored")) == [
        (0, 40, 40, 55), (0, 55, 55, 70), (0, 70, 70, 85), (0, 85, 85, 100),
    ]
    # defaults: n_folds + 1 equal parts, the first one trains
    assert spans(walk_forward_folds(100, 4)) == [(0, 20, 20, 40), (20, 40, 40, 60), (40, 60, 60, 80), (60, 80, 80, 100)]
    assert spans(walk_forward_folds(100, 2, train_length=50)) == [(0, 50, 50, 75), (25, 75, 75, 100)]
    assert spans(walk_forward_folds(100, 2, test_length=30)) == [(0, 40, 40, 70), (30, 70, 70, 100)]
    with pytest.raises(ValueError, match="do not fit"):
        walk_forward_folds(100, 4, 50, 15)
    with pytest.raises(ValueError):
        walk_forward_folds(100, 2, mode="expanding")  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def wf_setup():
    prices = random_walk(300, seed=11)
    configs = [StrategyConfig(trigger_up=u, trigger_down=d) for u in (0.01, 0.03, 0.06) for d in (0.02, 0.05)]
    return prices, configs, walk_forward(prices, configs, "sharpe", n_folds=3, train_length=120, test_length=60)


def test_in_sample_choice_and_out_of_sample_metrics_match_the_engine(wf_setup):
    prices, configs, res = wf_setup
    for f in walk_forward_folds(300, 3, 120, 60):
        train = simulate_many(prices.iloc[f.train_start : f.train_end], configs)
        test = simulate_many(prices.iloc[f.test_start - 1 : f.test_end], configs)
        pick = int(train["sharpe"].to_numpy().argmax())
        row = res.folds.iloc[f.index]
        assert row["chosen"] == pick
        assert row["in_sample"] == pytest.approx(train["sharpe"].iloc[pick], rel=1e-12)
        assert row["out_of_sample"] == pytest.approx(test["sharpe"].iloc[pick], rel=1e-12)
        assert row["gap"] == pytest.approx(row["in_sample"] - row["out_of_sample"])
        assert row["oos_best"] == pytest.approx(test["sharpe"].max())
        assert row["test_start"] == prices.index[f.test_start]
        assert res.out_of_sample_metrics.loc[f.index, "total_return"] == pytest.approx(
            test["total_return"].iloc[pick], rel=1e-12
        )
        assert res.chosen_params.loc[f.index, "trigger_up"] == configs[pick].trigger_up


def test_stitched_equity_carries_capital_across_folds(wf_setup):
    prices, configs, res = wf_setup
    eq = res.equity
    assert len(eq) == 1 + 3 * 60 and eq.index[0] == prices.index[119] and eq.index[-1] == prices.index[-1]
    assert eq.index.is_monotonic_increasing and eq.index.is_unique
    growth = 1.0
    for k, f in enumerate(walk_forward_folds(300, 3, 120, 60)):
        run = simulate(prices.iloc[f.test_start - 1 : f.test_end], configs[res.folds["chosen"].iloc[k]])
        if k == 0:
            np.testing.assert_allclose(eq.iloc[:61].to_numpy(), run.equity.to_numpy(), rtol=1e-12)
        growth *= run.equity.iloc[-1] / 10_000.0
    assert eq.iloc[-1] == pytest.approx(10_000.0 * growth, rel=1e-12)
    assert res.summary["oos_total_return"] == pytest.approx(growth - 1.0, rel=1e-12)
    growth_bh = prices["close"].iloc[-1] / prices["close"].iloc[119]
    # buy-and-hold re-enters in every fold: its initial order's 1 bp commission (notional = capital / 1.0001)
    assert res.summary["buy_and_hold_return"] == pytest.approx(growth_bh / 1.0001**3 - 1.0, rel=1e-9)


def test_trials_frame_input_and_anchored_mode(wf_setup):
    prices, configs, _ = wf_setup
    table = pd.DataFrame(
        {
            "trigger_up": [c.trigger_up for c in configs],
            "trigger_down": [c.trigger_down for c in configs],
            "sharpe": np.arange(len(configs)),  # stale metric columns are ignored
        }
    )
    res = walk_forward(prices, table, "max_drawdown", n_folds=2, test_length=60, mode="anchored")
    assert list(res.folds["train_start"]) == [prices.index[0], prices.index[0]]
    assert list(res.folds["n_train"]) == [180, 240]
    assert res.mode == "anchored" and len(res.in_sample_metrics) == 2
