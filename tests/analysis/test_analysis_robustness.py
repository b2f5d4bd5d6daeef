import numpy as np
import pandas as pd
import pytest

from core.analysis import robustness


def line(values, metric="sharpe") -> pd.DataFrame:
    return pd.DataFrame({"trigger_up": [0.01 * (i + 1) for i in range(len(values))], metric: values})


def by_x(result):
    return result.cells.sort_values("trigger_up").reset_index(drop=True)


def test_one_dimensional_neighbourhoods_by_hand():
    # values 0, 10, 0, 7, 7 on five grid points; radius 1.
    r = robustness(line([0.0, 10.0, 0.0, 7.0, 7.0]), "sharpe")
    cells = by_x(r)
    np.testing.assert_allclose(cells["neighbourhood_mean"], [5.0, 10 / 3, 17 / 3, 14 / 3, 7.0])
    np.testing.assert_allclose(cells["neighbourhood_worst"], [0.0, 0.0, 0.0, 0.0, 7.0])
    assert list(cells["neighbours"]) == [2, 3, 3, 3, 2]
    # plateau band = 10 % of the range 10 = 1.0
    np.testing.assert_allclose(cells["plateau"], [0.0, 0.0, 0.0, 0.5, 1.0])
    assert r.best["trigger_up"] == pytest.approx(0.02) and r.best["value"] == 10.0
    assert r.robust["trigger_up"] == pytest.approx(0.05)
    # Edge cells excluded: the interior cell with the best mean wins.
    inner = robustness(line([0.0, 10.0, 0.0, 7.0, 7.0]), "sharpe", min_neighbours=3)
    assert inner.robust["trigger_up"] == pytest.approx(0.03)


def test_minimised_metric_worst_is_the_maximum():
    r = robustness(line([0.3, 0.1, 0.2], "volatility"), "volatility")
    cells = by_x(r)
    np.testing.assert_allclose(cells["neighbourhood_worst"], [0.3, 0.3, 0.2])
    np.testing.assert_allclose(cells["neighbourhood_mean"], [0.2, 0.2, 0.15])
    assert r.best["value"] == pytest.approx(0.1)
    assert r.robust["trigger_up"] == pytest.approx(0.03)


def test_two_dimensional_spike_versus_plateau_and_categorical_isolation():
    # A 3×3 grid with a lone spike in a corner and a flat high region elsewhere; sizing splits the grid.
    rows = []
    for i, up in enumerate([0.01, 0.02, 0.03]):
        for j, down in enumerate([0.01, 0.02, 0.03]):
            value = 5.0 if (i >= 1 and j >= 1) else 0.0
            if (i, j) == (0, 0):
                value = 9.0
            rows.append({"trigger_up": up, "trigger_down": down, "sizing": "proportional", "sharpe": value})
            rows.append({"trigger_up": up, "trigger_down": down, "sizing": "original", "sharpe": -1.0})
    r = robustness(pd.DataFrame(rows), "sharpe")
    assert (r.best["trigger_up"], r.best["trigger_down"], r.best["value"]) == (0.01, 0.01, 9.0)
    assert (r.robust["trigger_up"], r.robust["trigger_down"]) == (0.03, 0.03)
    assert r.robust["neighbourhood_mean"] == 5.0 and r.robust["plateau"] == 1.0
    corner = r.cells[(r.cells.trigger_up == 0.01) & (r.cells.trigger_down == 0.01) & (r.cells.sizing == "proportional")]
    # Its neighbours are (0.02,0.01)=0, (0.01,0.02)=0, (0.02,0.02)=5 — never the "original" cells.
    assert corner["neighbourhood_mean"].item() == pytest.approx((9 + 0 + 0 + 5) / 4)
    assert corner["neighbours"].item() == 4 and corner["plateau"].item() == 0.0


def test_nan_values_are_skipped_in_mean_and_off_the_plateau():
    r = robustness(line([1.0, np.nan, 1.0]), "sharpe")
    cells = by_x(r)
    np.testing.assert_allclose(cells["neighbourhood_mean"], [1.0, 1.0, 1.0])
    assert list(cells["neighbours"]) == [1, 2, 1]
    np.testing.assert_allclose(cells["plateau"], [0.0, np.nan, 0.0])


def test_radius_zero_is_the_cell_itself():
    r = robustness(line([3.0, 1.0, 2.0]), "sharpe", radius=0)
    cells = by_x(r)
    np.testing.assert_allclose(cells["neighbourhood_mean"], cells["value"])
    assert cells["plateau"].isna().all()
    assert r.robust["value"] == r.best["value"] == 3.0


def test_continuous_trials_are_binned_and_missing_values_are_a_category():
    rng = np.random.default_rng(0)
    t = pd.DataFrame({"trigger_up": rng.uniform(0.0, 1.0, 200), "trigger_down": rng.uniform(0.0, 1.0, 200)})
    t["sharpe"] = t["trigger_up"]
    r = robustness(t, "sharpe", max_levels=4)
    assert r.cells["trigger_up"].nunique() == 4 and r.cells["trigger_down"].nunique() == 4
    capped = pd.DataFrame({"max_trade_share": [0.1, 0.2, np.nan], "sharpe": [1.0, 2.0, 3.0]})
    cells = robustness(capped, "sharpe").cells.set_index("value")
    assert cells.loc[3.0, "neighbours"] == 1  # "no cap" has no distance to a cap
    assert cells.loc[1.0, "neighbours"] == 1
