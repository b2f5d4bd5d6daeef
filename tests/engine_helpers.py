"""Small builders shared by the engine tests: price frames from lists of closes, and a no-cost configuration."""

from __future__ import annotations

import numpy as np
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


def random_config(rng: np.random.Generator) -> StrategyConfig:
    """A valid configuration with every field drawn at random, costs and limits included."""
    gmin = float(rng.uniform(0.0, 0.6))
    return StrategyConfig(
        initial_capital=float(rng.choice([1_000.0, 10_000.0, 250_000.0])),
        initial_stock_share=float(rng.choice([0.0, 1.0, rng.uniform(0, 1)])),
        trigger_up=float(rng.uniform(0.005, 0.12)),
        trigger_down=float(rng.uniform(0.005, 0.12)),
        sizing=str(rng.choice(["proportional", "fixed_fraction", "original"])),
        rebalance_ratio=float(rng.uniform(0.1, 6.0)),
        trade_fraction=float(rng.uniform(0.0, 1.0)),
        guardrail_min=gmin,
        guardrail_max=float(rng.uniform(gmin + 0.05, 1.0)),
        auto_rebalance=bool(rng.integers(2)),
        max_trade_share=None if rng.random() < 0.6 else float(rng.uniform(0.01, 0.5)),
        commission_rate=float(rng.choice([0.0, 0.0001, rng.uniform(0, 0.01)])),
        commission_min=float(rng.choice([0.0, 1.0, rng.uniform(0, 20)])),
        slippage_bps=float(rng.choice([0.0, rng.uniform(0, 50)])),
        min_notional=float(rng.choice([0.0, 100.0, rng.uniform(0, 1000)])),
        max_orders_per_day=int(rng.integers(1, 6)),
        fractional_shares=bool(rng.random() < 0.7),
        allow_after_hours=bool(rng.integers(2)),
        withholding_tax_rate=float(rng.uniform(0, 0.5)),
        dividend_pay_lag_days=int(rng.integers(0, 40)),
        risk_free_rate=float(rng.choice([0.0, rng.uniform(0, 0.05)])),
        periods_per_year=252,
    )


def random_vol_config(rng: np.random.Generator) -> StrategyConfig:
    """:func:`random_config`, half the time with volatility-scaled triggers (docs/strategy.md §5.4a): a random window,
    reference and clamps that bracket the drawn triggers. The extra draws come after ``random_config``'s, so its
    fields are those of the same seed."""
    cfg = random_config(rng)
    if rng.random() < 0.5:
        return cfg
    low = min(cfg.trigger_up, cfg.trigger_down)
    high = max(cfg.trigger_up, cfg.trigger_down)
    return cfg.replace(
        threshold_mode="vol_scaled",
        vol_window_bars=int(rng.integers(2, 40)),
        vol_reference=float(rng.uniform(0.05, 0.8)),
        trigger_min=float(rng.uniform(0.0005, low)),
        trigger_max=float(rng.uniform(high, 0.6)),
    )


def random_path(rng: np.random.Generator, intraday_bars: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A random price path (daily, or 30-minute bars with some outside the session) and random dividends."""
    if intraday_bars:
        days = pd.bdate_range("2021-03-01", periods=int(rng.integers(3, 12)))
        slots = pd.timedelta_range("08:00:00", "17:30:00", freq="30min")
        stamps = [d + s for d in days for s in slots if rng.random() < 0.8]
        if rng.random() < 0.5:  # a weekend bar
            stamps.append(days[-1] + pd.Timedelta(days=1, hours=11))
        index = pd.DatetimeIndex(sorted(set(stamps)))
        vol = 0.01
    else:
        index = pd.bdate_range("2015-01-02", periods=int(rng.integers(30, 400)))
        vol = float(rng.uniform(0.005, 0.04))
    n = len(index)
    moves = rng.normal(0.0002, vol, n)
    jumps = rng.random(n) < 0.03
    moves[jumps] += rng.normal(0, 0.08, jumps.sum())
    close = 50.0 * np.exp(np.cumsum(moves))
    prices = pd.DataFrame({"close": close}, index=index)
    k = int(rng.integers(0, 6))
    dates = pd.DatetimeIndex(rng.choice(index.normalize().unique(), size=k)).sort_values()
    pays = [d + pd.Timedelta(days=max(0, int(rng.integers(-3, 30)))) if rng.random() < 0.5 else pd.NaT for d in dates]
    dividends = pd.DataFrame({"ex_date": dates, "amount": rng.uniform(0.05, 1.5, k), "pay_date": pays})
    return prices, dividends
