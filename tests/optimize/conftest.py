"""Fixtures of the optimisation tests: a SQLite store in a temporary folder holding a short synthetic dataset."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from optimize_helpers import make_prices

from storage import Store
from storage.database import dispose_engine


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
