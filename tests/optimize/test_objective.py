"""Objectives: natural directions, constraints, weighted scores with penalties, ranking."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.engine import METRIC_NAMES
from core.optimize import Constraint, Objective, ObjectiveError, direction, rank


def _frame(**cols: list[float]) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    data = {m: [0.0] * n for m in METRIC_NAMES}
    data.update(cols)
    return pd.DataFrame({"index": range(n), "status": "completed", **data})


def test_natural_directions() -> None:
    assert direction("sharpe") == 1 and direction("max_drawdown") == 1 and direction("volatility") == -1
    trials = _frame(max_drawdown=[-0.3, -0.1, -0.2])
    assert rank(trials, Objective("max_drawdown"))["index"].tolist() == [1, 2, 0]  # less negative is better
    trials = _frame(volatility=[0.3, 0.1, 0.2])
    assert rank(trials, Objective("volatility"))["index"].tolist() == [1, 2, 0]


def test_constraints_filter_and_nan_is_last() -> None:
    trials = _frame(sharpe=[2.0, 1.5, math.nan, 1.0], max_drawdown=[-0.5, -0.2, -0.1, -0.25])
    obj = Objective("sharpe", constraints=("max_drawdown>=-0.3",))
    assert rank(trials, obj)["index"].tolist() == [1, 3, 2]
    assert rank(trials, obj, top_n=1)["index"].tolist() == [1]
    assert rank(trials, obj, feasible_only=False)["index"].tolist() == [0, 1, 3, 2]


def test_weighted_score_with_penalty() -> None:
    trials = _frame(sharpe=[1.0, 0.8], volatility=[0.2, 0.1], n_trades=[500.0, 100.0])
    obj = Objective(weights={"sharpe": 1.0, "volatility": 2.0}, constraints=("n_trades<=300",), penalty=10.0)
    np.testing.assert_allclose(obj.score(trials), [1.0 - 0.4 - 10.0, 0.8 - 0.2])
    assert obj.metric is None and "sharpe" in obj.label
    assert Objective.from_dict(obj.to_dict()) == obj


@pytest.mark.parametrize(
    ("text", "expected"),
    [("max_drawdown>=-0.3", (">=", -0.3)), (" n_trades <= 400 ", ("<=", 400.0)), ("sharpe≥0.5", (">=", 0.5)),
     ("sharpe=>1", (">=", 1.0))],
)
def test_constraint_parse(text: str, expected: tuple[str, float]) -> None:
    c = Constraint.parse(text)
    assert (c.op, c.value) == expected


@pytest.mark.parametrize("text", ["sharpe>1", "sharpe>=abc", "sharp>=1", "max_drawdown>=-30%", "sharpe"])
def test_bad_constraints(text: str) -> None:
    with pytest.raises(ObjectiveError):
        Constraint.parse(text)


def test_unknown_metric() -> None:
    with pytest.raises(ObjectiveError, match="did you mean sharpe"):
        Objective("sharp")
