"""Builders shared by the analysis tests (a uniquely named module: every test folder has a conftest)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def random_walk(n: int, seed: int = 3, vol: float = 0.02, start: str = "2020-01-02") -> pd.DataFrame:
    """Daily closes of a seeded log-normal random walk on business days."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0003, vol, n)))
    return pd.DataFrame({"close": close}, index=pd.bdate_range(start, periods=n))
