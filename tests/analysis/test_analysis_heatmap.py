import numpy as np
import pandas as pd
import pytest

from core.analysis import heatmap, parallel_coordinates, slice_1d, surface


@pytest.fixture
def trials() -> pd.DataFrame:
    # 2 × 2 × 2 grid: trigger_up × trigger_down × sizing; sharpe = 10·up_index + down_index + (0.5 if original).
    rows = []
    for i, up in enumerate([0.02, 0.04]):
        for j, down in enumerate([0.01, 0.03]):
            for k, sizing in enumerate(["original", "proportional"]):
                rows.append(
                    {
                        "trigger_up": up,
                        "trigger_down": down,
                        "sizing": sizing,
                        "sharpe": 10 * i + j + (0.5 if k == 0 else 0.0),
                        "volatility": 0.1 + 0.01 * (i + j + k),
                    }
                )
    return pd.DataFrame(rows)


def test_heatmap_aggregates_the_other_parameter(trials):
    top = heatmap(trials, "trigger_up", "trigger_down", "sharpe", "max")
    assert list(top.index) == [0.01, 0.03] and list(top.columns) == [0.02, 0.04]
    np.testing.assert_array_equal(top.to_numpy(), [[0.5, 10.5], [1.5, 11.5]])
    low = heatmap(trials, "trigger_up", "trigger_down", "sharpe", "min")
    np.testing.assert_array_equal(low.to_numpy(), [[0.0, 10.0], [1.0, 11.0]])
    mean = heatmap(trials, "trigger_up", "trigger_down", "sharpe", "mean")
    np.testing.assert_array_equal(mean.to_numpy(), [[0.25, 10.25], [1.25, 11.25]])
    median = heatmap(trials, "trigger_up", "trigger_down", "sharpe", "median")
    np.testing.assert_array_equal(median.to_numpy(), mean.to_numpy())


def test_best_follows_the_metric_direction(trials):
    best_vol = heatmap(trials, "trigger_up", "trigger_down", "volatility", "best")
    np.testing.assert_allclose(best_vol.to_numpy(), [[0.10, 0.11], [0.11, 0.12]])
    worst_vol = heatmap(trials, "trigger_up", "trigger_down", "volatility", "worst")
    np.testing.assert_allclose(worst_vol.to_numpy(), [[0.11, 0.12], [0.12, 0.13]])


def test_fixed_slices_through_one_value_and_missing_cells_are_nan(trials):
    fixed = heatmap(trials, "trigger_up", "trigger_down", "sharpe", fixed={"sizing": "proportional"})
    np.testing.assert_array_equal(fixed.to_numpy(), [[0.0, 10.0], [1.0, 11.0]])
    sparse = trials.drop(index=[0, 1])  # removes (0.02, 0.01) entirely
    grid = heatmap(sparse, "trigger_up", "trigger_down", "sharpe")
    assert np.isnan(grid.loc[0.01, 0.02])


def test_slice_1d_and_surface(trials):
    line = slice_1d(trials, "trigger_up", "sharpe", "max")
    assert list(line["trigger_up"]) == [0.02, 0.04]
    assert list(line["sharpe"]) == [1.5, 11.5]
    assert list(line["min"]) == [0.0, 10.0] and list(line["count"]) == [4, 4]
    fixed = slice_1d(trials, "trigger_down", "sharpe", "max", fixed={"trigger_up": 0.02, "sizing": "original"})
    assert list(fixed["sharpe"]) == [0.5, 1.5]
    s = surface(trials, "trigger_up", "trigger_down", "sharpe", "min")
    assert s.z.shape == (2, 2) and list(s.x) == [0.02, 0.04] and list(s.y) == [0.01, 0.03]
    assert s.z[1, 0] == 1.0


def test_parallel_coordinates_codes_categories_and_sorts_best_first(trials):
    pc = parallel_coordinates(trials, "volatility", top=3)
    assert pc.params == ["trigger_up", "trigger_down", "sizing"]
    assert pc.labels == {"sizing": ["original", "proportional"]}
    assert list(pc.frame["volatility"]) == pytest.approx([0.10, 0.11, 0.11])
    assert pc.frame.loc[0, "sizing"] == 0.0
    with pytest.raises(ValueError):
        heatmap(trials, "sharpe", "trigger_up", "sharpe", "sum")


def test_bins_put_continuous_trials_on_a_grid():
    t = pd.DataFrame({"trigger_up": [0.0, 0.1, 0.9, 1.0], "trigger_down": [0.0, 1.0, 0.0, 1.0],
                      "sharpe": [1.0, 2.0, 3.0, 4.0]})
    grid = heatmap(t, "trigger_up", "trigger_down", "sharpe", bins=1)
    assert grid.shape == (1, 1) and grid.iloc[0, 0] == 4.0  # both parameters collapse into one bin
    binned = heatmap(t, "trigger_up", "trigger_down", "sharpe", "mean", bins=2)
    assert list(binned.columns) == [0.25, 0.75] and list(binned.index) == [0.0, 1.0]
    np.testing.assert_array_equal(binned.to_numpy(), [[1.0, 3.0], [2.0, 4.0]])
