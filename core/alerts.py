"""Alerts on a held position: how far the last price is from each trigger and guardrail, and what needs attention.

Pure. The decision, the trigger prices and the guardrail prices are :func:`core.advisor.evaluate`'s, so an alert
says exactly what the advisor (and the simulator) would do at that price. The states, most urgent first
(docs/strategy.md §11):

* ``action_due`` — the advisor would trade now (a trigger or a rebalance is crossed and the order is executable);
* ``stale_price`` — the price is older than ``stale_after_hours``: nothing below can be trusted;
* ``near_trigger`` — the price is within ``near_fraction`` of the sell or the buy trigger;
* ``ok`` — none of these.

A distance is ``level / price − 1``: the fraction the price must move to reach the level (positive: up). A price
time with no time of day is a daily close (as for the advisor and the simulator): its age counts from 16:00 that day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from core.advisor import History, evaluate
from core.bars import DEFAULT_TIMEZONE
from core.config import StrategyConfig
from core.position_state import Decision, PositionState

ACTION_DUE = "action_due"
STALE_PRICE = "stale_price"
NEAR_TRIGGER = "near_trigger"
OK = "ok"
ALERT_STATES: tuple[str, ...] = (ACTION_DUE, STALE_PRICE, NEAR_TRIGGER, OK)  # most urgent first
STATE_LABELS: dict[str, str] = {ACTION_DUE: "Action due", STALE_PRICE: "Stale price", NEAR_TRIGGER: "Near trigger",
                                OK: "OK"}
TRADING_ACTIONS = frozenset({"BUY", "SELL"})
CLOSE_TIME = pd.Timedelta(hours=16)  # a daily close is taken at the end of the session


@dataclass(frozen=True)
class AlertSettings:
    """``near_fraction``: how close to a trigger is "near" (0.01 = 1 %); ``stale_after_hours``: how old a price may
    be (the default, 96 h, lets a Friday close stand over a weekend)."""

    near_fraction: float = 0.01
    stale_after_hours: float = 96.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.near_fraction) and 0 <= self.near_fraction <= 0.5):
            raise ValueError(f"the near-trigger distance is 0 % to 50 %, got {self.near_fraction:.4g}")
        if not (math.isfinite(self.stale_after_hours) and 0 < self.stale_after_hours <= 24 * 366):
            raise ValueError(f"the stale-price age is more than 0 and at most 8784 hours, got {self.stale_after_hours}")


@dataclass(frozen=True)
class PositionAlert:
    """One position's alert at one price."""

    position_id: int
    ticker: str
    state: str
    price: float
    price_at: datetime
    price_source: str
    price_age_hours: float
    action: str  # the advisor's: HOLD, BUY, SELL or SKIP
    quantity: float  # signed shares of the order the advisor would place (0 unless BUY/SELL)
    sell_trigger_price: float
    buy_trigger_price: float
    upper_guardrail_price: float
    lower_guardrail_price: float
    to_sell_trigger: float  # fraction the price must move to reach each level (level / price − 1)
    to_buy_trigger: float
    to_upper_guardrail: float
    to_lower_guardrail: float
    reason: str

    @property
    def label(self) -> str:
        """The state for people: "Action due", "Stale price", "Near trigger" or "OK"."""
        return STATE_LABELS[self.state]

    @property
    def message(self) -> str:
        """One line: what, at which price, how old, and what to do."""
        hours = self.price_age_hours
        age = f"{hours:.1f} h old" if hours < 48 else f"{hours / 24:.1f} days old"
        head = f"{self.ticker} at {self.price:,.4g} ({self.price_source}, {age})"
        if self.state == ACTION_DUE:
            return f"{head}: {self.action} {abs(self.quantity):,.4g} shares — {self.reason}"
        if self.state == STALE_PRICE:
            return f"{head}: the price is too old to act on; get a current price"
        if self.state == NEAR_TRIGGER:
            side, dist = min((("sell", self.to_sell_trigger), ("buy", self.to_buy_trigger)), key=lambda x: abs(x[1]))
            return f"{head}: {abs(dist):.2%} from the {side} trigger"
        return f"{head}: {self.to_sell_trigger:+.2%} to the sell trigger, {self.to_buy_trigger:+.2%} to the buy trigger"


def _distance(level: float, price: float) -> float:
    return level / price - 1.0 if math.isfinite(level) else math.inf


def position_alert(
    position_id: int,
    ticker: str,
    state: PositionState,
    config: StrategyConfig,
    price: float,
    price_at: datetime,
    *,
    now: datetime,
    source: str = "typed",
    settings: AlertSettings | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    history: History | None = None,
) -> PositionAlert:
    """The alert of a position in ``state`` at ``price`` taken at ``price_at`` (exchange-local, naive), judged at
    ``now`` (same clock). ``history`` is the advisor's: the closes before the price (vol_scaled triggers)."""
    settings = settings or AlertSettings()
    decision: Decision = evaluate(state, price, config, pd.Timestamp(price_at), timezone=timezone, history=history)
    taken = pd.Timestamp(price_at)
    if taken == taken.normalize():
        taken += CLOSE_TIME
    age_hours = max((pd.Timestamp(now) - taken).total_seconds() / 3600.0, 0.0)
    to_sell = _distance(decision.sell_trigger_price, price)
    to_buy = _distance(decision.buy_trigger_price, price)
    if decision.action in TRADING_ACTIONS:
        status = ACTION_DUE
    elif age_hours > settings.stale_after_hours:
        status = STALE_PRICE
    elif min(abs(to_sell), abs(to_buy)) <= settings.near_fraction:
        status = NEAR_TRIGGER
    else:
        status = OK
    return PositionAlert(
        position_id=position_id, ticker=ticker, state=status, price=float(price), price_at=price_at,
        price_source=source, price_age_hours=age_hours, action=decision.action,
        quantity=decision.qty if decision.action in TRADING_ACTIONS else 0.0,
        sell_trigger_price=decision.sell_trigger_price, buy_trigger_price=decision.buy_trigger_price,
        upper_guardrail_price=decision.upper_guardrail_price, lower_guardrail_price=decision.lower_guardrail_price,
        to_sell_trigger=to_sell, to_buy_trigger=to_buy,
        to_upper_guardrail=_distance(decision.upper_guardrail_price, price),
        to_lower_guardrail=_distance(decision.lower_guardrail_price, price),
        reason=decision.reason,
    )


def alerts_frame(alerts: list[PositionAlert]) -> pd.DataFrame:
    """The watch list as a table, most urgent first (the order of :data:`ALERT_STATES`)."""
    rank = {s: i for i, s in enumerate(ALERT_STATES)}
    ordered = sorted(alerts, key=lambda a: (rank[a.state], a.position_id))
    return pd.DataFrame({
        "position": [a.position_id for a in ordered],
        "ticker": [a.ticker for a in ordered],
        "state": [a.label for a in ordered],
        "price": [a.price for a in ordered],
        "price at": [a.price_at for a in ordered],
        "price age (h)": [round(a.price_age_hours, 1) for a in ordered],
        "action": [a.action for a in ordered],
        "to sell trigger": [a.to_sell_trigger for a in ordered],
        "to buy trigger": [a.to_buy_trigger for a in ordered],
        "to upper guardrail": [a.to_upper_guardrail for a in ordered],
        "to lower guardrail": [a.to_lower_guardrail for a in ordered],
        "message": [a.message for a in ordered],
    })
