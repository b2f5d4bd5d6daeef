"""Fixtures of the optimisation tests: a SQLite store in a temporary folder holding a short synthetic dataset."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from storage import Store
from storage.database import dispose_engine


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


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'opt.sqlite3'}"
    yield url
    dispose_engine(url)


@pytest.fixture
def store(db_url: str) -> Store:
    return Store(db_url, actor="test")


@pytest.fixture
def dataset_id(store: Store) -> int:
    prices, dividends = make_prices()
    return store.save_dataset(prices, dividends, name="synthetic", symbol="SYN", source="csv", interval="1d",
                              price_basis="split_adjusted", timezone="America/New_York")


def trial_tuples(store: Store, study_id: int) -> list[tuple]:
    """Everything that defines a study's outcome, NaN-safe comparable (FrozenMap treats NaN == NaN)."""
    return [(t.index, t.params, t.metrics, t.status, t.error) for t in store.iter_trials(study_id)]
