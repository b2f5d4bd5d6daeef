"""Builders shared by the optimisation tests (a uniquely named module: every test folder has a conftest)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from storage import Store


def make_prices(n: int = 750, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """About three years of daily closes (a noisy random walk) and two dividends."""
    idx = pd.date_range("2018-01-02", periods=n, freq="B", name="timestamp")
    close = 100 * np.exp(np.cumsum(np.random.default_rng(seed).normal(0.0002, 0.02, n)))
    prices = pd.DataFrame({"close": close}, index=idx)
    dividends = pd.DataFrame(
        {
            "ex_date": pd.to_datetime(["2018-06-01", "2019-06-03"]),
            "amount": [0.5, 0.6],
            "pay_date": pd.to_datetime(["2018-06-20", "2019-06-21"]),
        }
    )
    return prices, dividends


def trial_tuples(store: Store, study_id: int) -> list[tuple]:
    """Everything that defines a study's outcome, NaN-safe comparable (FrozenMap treats NaN == NaN)."""
    return [(t.index, t.params, t.metrics, t.status, t.error) for t in store.iter_trials(study_id)]
