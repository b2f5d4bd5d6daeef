"""Search spaces: values by index, parsing, errors, and vectorised validation identical to StrategyConfig."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from core.config import StrategyConfig
from core.engine import params_matrix
from core.errors import ConfigError
from core.optimize import ParamRange, SearchSpace, SearchSpaceError, planned_trials, random_grid_indices
from core.optimize.space import validate_params


def test_stepped_values_are_clean_and_exact() -> None:
    r = ParamRange.parse("trigger_up", "1.0:2.0:0.1")
    assert r.values == (1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 2.0)
    r = ParamRange.parse("trigger_up", "0.01:0.08:0.005")
    assert len(r) == 15 and r.values[-1] == 0.08 and r.values[3] == 0.025
    assert ParamRange.parse("max_orders_per_day", "1:9:2").values == (1, 3, 5, 7, 9)
    assert ParamRange.parse("trigger_up", {"min": 0.02, "max": 0.03, "step": 0.01}).values == (0.02, 0.03)


def test_lists_booleans_categories() -> None:
    assert ParamRange.parse("sizing", "proportional, original").values == ("proportional", "original")
    assert ParamRange.parse("auto_rebalance", "bool").values == (False, True)
    assert ParamRange.parse("fractional_shares", "true,false").kind == "bool"
    assert ParamRange.parse("max_trade_share", "none,0.1,0.2").values == (None, 0.1, 0.2)
    assert ParamRange.parse("trigger_down", [0.02, 0.05]).values == (0.02, 0.05)


@pytest.mark.parametrize(
    ("name", "spec", "needle"),
    [
        ("trigger_up", "0.01:0.08:0", "step must be greater than 0"),
        ("trigger_up", "0.01:0.08:-0.01", "step must be greater than 0"),
        ("trigger_up", "0.01:0.08:nan", "finite"),
        ("trigger_up", "0.01:0.08:0.5", "larger than the range"),
        ("trigger_up", "0.08:0.01:0.01", "empty"),
        ("trigger_up", "0.01:0.08", "min:max:step"),
        ("trigger_up", "1%", "percent"),
        ("trigger_upp", "0.01:0.02:0.01", "did you mean trigger_up"),
        ("max_orders_per_day", "1:5:0.5", "whole numbers"),
        ("sizing", "proportional", "at least two values"),
        ("sizing", "proportional,martingale", "unknown value"),
        ("sizing", "0:1:1", "give its values as a list"),
        ("auto_rebalance", "maybe,true", "true or false"),
        ("trigger_up", "0.01,0.01", "listed twice"),
        ("trigger_up", [], "empty"),
    ],
)
def test_clear_errors(name: str, spec: object, needle: str) -> None:
    with pytest.raises(SearchSpaceError, match=needle) as info:
        ParamRange.parse(name, spec)
    assert isinstance(info.value, ConfigError)


def test_space_errors() -> None:
    with pytest.raises(SearchSpaceError, match="empty"):
        SearchSpace([])
    r = ParamRange.parse("trigger_up", "0.01:0.02:0.01")
    with pytest.raises(SearchSpaceError, match="twice"):
        SearchSpace([r, r])


def test_grid_over_maximum_gives_count_and_suggestion() -> None:
    space = SearchSpace.parse({"trigger_up": "0.001:0.1:0.001", "trigger_down": "0.001:0.1:0.001"})
    with pytest.raises(SearchSpaceError) as info:
        planned_trials(space, "grid", None, max_grid=5_000)
    text = str(info.value)
    assert "10,000 combinations" in text and "5,000" in text and "random" in text and "Bayesian" in text
    assert planned_trials(space, "random", 50) == 50
    with pytest.raises(SearchSpaceError, match="number of trials"):
        planned_trials(space, "bayes", None)


def test_round_trip_and_grid_order() -> None:
    space = SearchSpace.parse(
        {"trigger_up": "0.01:0.03:0.01", "sizing": "proportional,original", "auto_rebalance": "bool"}
    )
    again = SearchSpace.parse(space.to_dict())
    assert [r.values for r in again.ranges] == [r.values for r in space.ranges]
    expected = list(itertools.product(*(range(len(r)) for r in space.ranges)))
    assert [tuple(row) for row in space.choices(np.arange(space.size)).tolist()] == expected


def test_random_indices_distinct_seeded_and_capped() -> None:
    a = random_grid_indices(1000, 200, 7)
    assert len(set(a.tolist())) == 200 and a.min() >= 0 and a.max() < 1000
    assert np.array_equal(a, random_grid_indices(1000, 200, 7))
    assert not np.array_equal(a, random_grid_indices(1000, 200, 8))
    assert sorted(random_grid_indices(30, 100, 1).tolist()) == list(range(30))


def test_vectorised_validation_matches_strategy_config() -> None:
    base = StrategyConfig(commission_rate=0.0)
    space = SearchSpace.parse(
        {
            "guardrail_min": "0:1:0.25",
            "guardrail_max": "0:1.25:0.25",
            "trigger_down": "0.5:1.5:0.5",
            "max_orders_per_day": "0:2:1",
            "max_trade_share": "none,0,0.5",
            "initial_stock_share": "-0.5,0.5",
            "sizing": "proportional,original",
        },
        base,
    )
    choices = space.choices(np.arange(space.size))
    params = space.params_for(choices)
    valid, messages = validate_params(params)
    values = space.values_for(choices)
    n_invalid = 0
    configs = []
    for i, v in enumerate(values):
        try:
            cfg = base.replace(**v)
        except ConfigError as exc:
            n_invalid += 1
            assert not valid[i], v
            assert messages[i] == str(exc), v
        else:
            assert valid[i], (v, messages[i])
            configs.append(cfg)
    assert 0 < n_invalid < space.size
    # The fast parameter rows are exactly what params_row builds from the validated configurations.
    assert np.array_equal(params[valid], params_matrix(configs), equal_nan=True)


def test_astronomical_space_random_choices() -> None:
    names = ["trigger_up", "trigger_down", "rebalance_ratio", "trade_fraction", "guardrail_min", "guardrail_max",
             "commission_rate", "slippage_bps", "min_notional", "initial_stock_share"]
    space = SearchSpace.parse({n: "0.0001:0.9999:0.0001" for n in names})
    assert space.size == 9999**10 > 2**62
    grid = random_grid_indices(space.size, 50, 4)
    choices = space.choices(grid)
    assert choices.shape == (50, 10) and choices.min() >= 0 and choices.max() < 9999
    # Decoding agrees with the int64 path on the small end of the space.
    small = SearchSpace.parse({n: "0.0001:0.9999:0.0001" for n in names[:4]})
    idx = np.array([0, 1, 12345678, small.size - 1])
    assert np.array_equal(space.choices(np.array(idx, dtype=object))[:, 6:], small.choices(idx))
