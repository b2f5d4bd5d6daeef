"""Small builders shared by the engine tests: price frames from lists of closes, and a no-cost configuration."""

from __future__ import annotations

import pandas as pd

from core import SimulationResult, StrategyConfig, simulate

# The worked example's costs: no commission and no minimum order, so numbers follow the formulas exactly.
NO_COSTS = {"commission_rate": 0.0, "min_notional": 0.0}


def daily(closes: list[float], start: str = "2024-01-02") -> pd.DataFrame:
    """Daily bars on consecutive business days."""
    return pd.DataFrame({"close": [float(c) for c in closes]}, index=pd.bdate_range(start, periods=len(closes)))


def intraday(stamps_and_closes: list[tuple[str, float]]) -> pd.DataFrame:
    """Bars at the given exchange-local timestamps."""
    return pd.DataFrame(
        {"close": [float(c) for _, c in stamps_and_closes]},
        index=pd.DatetimeIndex([pd.Timestamp(t) for t, _ in stamps_and_closes]),
    )


def run(closes: list[float] | pd.DataFrame, dividends: pd.DataFrame | None = None, **config) -> SimulationResult:
    prices = closes if isinstance(closes, pd.DataFrame) else daily(closes)
    return simulate(prices, StrategyConfig(**config), dividends)


def post_share(shares: float, cash: float, receivable: float, price: float) -> float:
    return shares * price / (shares * price + cash + receivable)
