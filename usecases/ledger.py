"""The position ledger: positions held for real, moved by the strategy's own rules and kept in the store.

``ledger(store)`` is the :class:`storage.positions.PositionsAPI` of a store, opened with :class:`LedgerRules`:
every state change a fill, an ex-date or a payment makes is computed by the same function the simulator uses
(:mod:`core.advisor`, :mod:`core.kernel`), so a held position and a backtest cannot drift apart. The store itself
only persists (it never runs the engine).

Usage::

    from usecases.ledger import ledger
    book = ledger(store)
    position = book.create("GOOG", config, price=141.2)
    book.record_fill(position.id, "BUY", 10, 140.0, 0.14, idempotency_key="fill-2026-12-06-1")
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from core.advisor import PositionState, apply_ex_dividend, initial_state, receive_dividend, record_execution
from core.config import StrategyConfig
from storage import PositionsAPI, Store
from storage.positions import local_now, money_text

# Absolute slack for float sums when checking cash and shares (cents are 1e-2).
_EPS = 1e-9


class LedgerRules:
    """The strategy's rules for a held position (:class:`storage.positions.PositionRules`)."""

    def opening_state(self, config: StrategyConfig, price: float, at: pd.Timestamp) -> PositionState:
        """Funded with ``config.initial_capital`` and bought like the backtest's first bar (docs/strategy.md §5.0)."""
        return initial_state(config, price, at)

    def fill_problem(self, state: PositionState, side: str, qty: float, price: float, commission: float) -> str:
        """Why the position cannot absorb this fill (no margin, no short: docs/strategy.md §5.8), or ""."""
        if side == "BUY":
            cost = qty * price + commission
            if cost > state.cash + _EPS:
                return (f"buying {qty:,.4f} at {money_text(price)} plus {money_text(commission)} commission costs "
                        f"{money_text(cost)} but the position holds only {money_text(state.cash)} in cash; deposit "
                        "cash first or correct the fill")
            return ""
        if qty > state.shares + _EPS:
            return (f"selling {qty:,.4f} shares but the position holds only {state.shares:,.4f}; correct the "
                    "quantity (short selling is not part of the strategy)")
        if state.cash + qty * price - commission < -_EPS:
            return (f"the commission {money_text(commission)} exceeds the sale's proceeds plus the cash held; "
                    "correct the commission")
        return ""

    def after_fill(self, state: PositionState, side: str, qty: float, price: float, commission: float,
                   day: date) -> PositionState:
        """The simulator's execution (docs/strategy.md §5.10): the anchor moves, the day's order count grows."""
        return record_execution(state, qty if side == "BUY" else -qty, price, commission, day)

    def pay_date(self, ex_date: date, pay_date: date | None, config: StrategyConfig) -> date:
        """A missing pay date is the ex-date + ``dividend_pay_lag_days`` (docs/strategy.md §5.1).

        A real dividend cannot be paid before it goes ex, so the ledger refuses such a booking (the simulator,
        fed historical data, pays it on the ex-date bar instead).
        """
        pay = pay_date if pay_date is not None else ex_date + timedelta(days=config.dividend_pay_lag_days)
        if pay < ex_date:
            raise ValueError(f"the pay date {pay} is before the ex-date {ex_date}")
        return pay

    def after_ex_dividend(self, state: PositionState, amount_per_share: float,
                          config: StrategyConfig) -> tuple[PositionState, float]:
        """Receivable += net of withholding, anchor −= the dividend (docs/strategy.md §5.1)."""
        return apply_ex_dividend(state, amount_per_share, config)

    def after_payment(self, state: PositionState, net: float, outstanding: int) -> PositionState:
        """The net amount moves from the receivable to cash (docs/strategy.md §5.1)."""
        return receive_dividend(state, net, outstanding)


LEDGER_RULES = LedgerRules()

__all__ = ["LEDGER_RULES", "LedgerRules", "ledger", "local_now"]


def ledger(store: Store) -> PositionsAPI:
    """The positions of ``store``, moved by the strategy's rules."""
    return PositionsAPI(store, LEDGER_RULES)
