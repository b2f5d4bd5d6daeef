import math

import numpy as np
import pandas as pd
import pytest

from core import StrategyConfig, simulate
from core.analysis import sensitivity, sensitivity_from_trials


@pytest.fixture
def grid() -> pd.DataFrame:
    # sharpe = 10·a + b over a 3×3 grid of (trigger_up index a, trigger_down index b)
    rows = [
        {"trigger_up": 0.01 * (a + 1), "trigger_down": 0.02 * (b + 1), "sharpe": 10.0 * a + b}
        for a in range(3)
        for b in range(3)
    ]
    return pd.DataFrame(rows)


def test_from_trials_moves_one_parameter_at_a_time(grid):
    res = sensitivity_from_trials(grid, {"trigger_up": 0.02, "trigger_down": 0.04}, "sharpe")
    assert res.base_value == 11.0
    t = res.table
    assert list(zip(t["parameter"], t["step"], t["metric_value"], strict=True)) == [
        ("trigger_up", -1, 1.0),
        ("trigger_up", 1, 21.0),
        ("trigger_down", -1, 10.0),
        ("trigger_down", 1, 12.0),
    ]
    assert list(t["delta"]) == [-10.0, 10.0, -1.0, 1.0]
    s = res.summary.set_index("parameter")
    assert s.loc["trigger_up", "worst_delta"] == -10.0 and s.loc["trigger_up", "local_slope"] == 10.0
    assert res.summary["parameter"].iloc[0] == "trigger_up"  # most sensitive first


def test_from_trials_minimised_metric_orients_deltas(grid):
    table = grid.rename(columns={"sharpe": "volatility"})
    res = sensitivity_from_trials(table, {"trigger_up": 0.01, "trigger_down": 0.02}, "volatility")
    t = res.table.set_index(["parameter", "step"])
    assert t.loc[("trigger_up", 2), "delta"] == 20.0
    assert t.loc[("trigger_up", 2), "oriented_delta"] == -20.0
    with pytest.raises(ValueError):
        sensitivity_from_trials(grid, {"trigger_up": 0.5, "trigger_down": 0.02}, "sharpe")


def test_rerun_matches_simulate_and_invalid_moves_are_nan(walk):
    cfg = StrategyConfig(guardrail_min=0.6, guardrail_max=0.7)
    res = sensitivity(walk, cfg, "total_return", params=["trigger_up", "guardrail_min", "auto_rebalance"],
                      steps=(-0.1, 0.2))
    assert res.base_value == pytest.approx(simulate(walk, cfg).metrics["total_return"], rel=1e-9)
    t = res.table.set_index(["parameter", "step"])
    up = t.loc[("trigger_up", 0.2)]
    assert up["value"] == pytest.approx(0.036)
    expected = simulate(walk, cfg.replace(trigger_up=0.036)).metrics["total_return"]
    assert up["metric_value"] == pytest.approx(expected, rel=1e-9)
    assert math.isnan(t.loc[("guardrail_min", 0.2), "metric_value"])  # 0.72 > guardrail_max 0.7
    flip = t.loc[("auto_rebalance", "flip")]
    assert flip["value"] is False or flip["value"] == np.False_
