"""The value types of a held position: what it holds (:class:`PositionState`) and one piece of advice
(:class:`Decision`). Pure records, shared by the advisor, the store and the ledger (docs/strategy.md §4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import pandas as pd

from core.errors import ConfigError


@dataclass(frozen=True)
class PositionState:
    """What a position holds now. ``orders_today`` counts orders executed on ``day`` (exchange-local date)."""

    shares: float
    cash: float
    anchor: float
    receivable: float = 0.0
    orders_today: int = 0
    day: date | None = None

    def __post_init__(self) -> None:
        for name in ("shares", "cash", "receivable"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ConfigError(f"{name} must be a finite number ≥ 0, got {value!r}")
        if not (math.isfinite(self.anchor) and self.anchor > 0):
            raise ConfigError(f"anchor must be a positive price, got {self.anchor!r}")

    def value(self, price: float) -> float:
        """Account value at ``price``: stock + cash + dividend receivable."""
        return self.shares * price + self.cash + self.receivable


@dataclass(frozen=True)
class Decision:
    """The advice for one price: what to do, how much, why, and where the next decisions would be taken."""

    timestamp: pd.Timestamp
    session_date: date  # exchange-local date the daily order cap counts against
    price: float
    action: str  # HOLD, BUY, SELL or SKIP
    kind: str  # "trigger", "rebalance" or "" (hold)
    side: str  # "BUY", "SELL" or ""
    status: str  # "evaluated", "after_hours" or "daily_cap"
    raw_qty: float  # signed, before trims and limits
    qty: float  # signed, after trims and limits (executes only for BUY/SELL)
    exec_price: float
    notional: float
    commission: float
    skip_reason: str
    trimmed: bool
    stock_share: float  # stock share now
    projected_stock_share: float  # stock share after the order (unchanged when nothing executes)
    sell_trigger_price: float
    buy_trigger_price: float
    upper_guardrail_price: float  # price at which the stock share reaches guardrail_max (inf without cash)
    lower_guardrail_price: float  # price at which it falls to guardrail_min (0 without cash)
    reason: str
    # The triggers in force at this price and why (docs/strategy.md §5.4a); the configuration's own in fixed mode.
    trigger_up: float = math.nan
    trigger_down: float = math.nan
    window_volatility: float = math.nan  # σ they were scaled by; NaN when fixed (mode, warm-up or no history)
    trigger_note: str = ""
