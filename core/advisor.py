"""Position advisor: "what do I do now?" for a position actually held, decided by the simulator's own rules.

:func:`evaluate` runs one evaluation of docs/strategy.md §5 (session, daily cap, triggers, sizing, trims, hard limits,
minimum order) through :func:`core.kernel.decide_order`, the very function ``simulate`` uses, so the advice can
never drift from the backtest. :func:`apply_fill`, :func:`apply_ex_dividend` and :func:`receive_dividend` move a
:class:`PositionState` exactly as the simulator moves its own state; replaying a price series through them gives
``simulate``'s trades (tested).

With ``threshold_mode = "vol_scaled"`` the triggers in force come from the closes before the price
(docs/strategy.md §5.4a), which the caller passes as ``history``; without enough of them the triggers stay fixed and
:attr:`Decision.trigger_note` says why.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd

from core import kernel as K
from core.bars import DEFAULT_TIMEZONE, prepare_bars
from core.config import StrategyConfig
from core.engine import ACTIONS, KINDS, REASONS, STATUSES, _pct, _reasons, params_row, trigger_basis
from core.errors import ConfigError, DataError
from core.position_state import Decision, PositionState


def _bar_clock(at: pd.Timestamp, timezone: str) -> tuple[int, bool]:
    """Exchange-local day number and session flag of one timestamp, computed exactly as for a price series."""
    frame = pd.DataFrame({"close": [1.0]}, index=pd.DatetimeIndex([at]))
    frame.attrs["timezone"] = timezone
    bars = prepare_bars(frame)
    is_daily = not bars.is_intraday
    return int(bars.day[0]), bool(is_daily or bars.in_session[0])


def guardrail_prices(state: PositionState, config: StrategyConfig) -> tuple[float, float]:
    """Prices at which the stock share would reach ``guardrail_max`` and fall to ``guardrail_min`` with no trade.

    The share ``S·P / (S·P + C + R)`` rises with the price, so it equals ``g`` at ``P = g·(C+R) / (S·(1−g))``.
    """
    other = state.cash + state.receivable

    def at(g: float) -> float:
        if state.shares <= 0:
            return math.inf
        if g >= 1.0:
            return math.inf if other > 0 else 0.0
        return g * other / (state.shares * (1.0 - g))

    return at(config.guardrail_max), at(config.guardrail_min)


History = Sequence[float] | np.ndarray | pd.Series | pd.DataFrame


def _history_closes(history: History | None) -> np.ndarray:
    """The closes of ``history`` as a float array (a frame's ``close`` column), each a positive finite number."""
    if history is None:
        return np.empty(0)
    if isinstance(history, pd.DataFrame):
        cols = {str(c).lower(): c for c in history.columns}
        if "close" not in cols:
            raise DataError("history: a price frame needs a close column")
        history = history[cols["close"]]
    try:
        closes = np.ascontiguousarray(np.asarray(history, dtype=np.float64).ravel())
    except (TypeError, ValueError):
        raise DataError("history: the closes must be numbers") from None
    bad = np.flatnonzero(~(np.isfinite(closes) & (closes > 0)))
    if bad.size:
        raise DataError(f"history: close {bad[0] + 1} is {float(closes[bad[0]])!r}, not a positive number")
    return closes


def window_volatility(history: History | None, config: StrategyConfig) -> tuple[float, str | None]:
    """The window volatility in force at the price that follows ``history`` (docs/strategy.md §5.4a), by the
    kernel's own rule: ``(σ, None)``, or ``(NaN, why the triggers stay fixed)``.

    ``history`` holds the closes of the bars **before** the price being judged, oldest first; the last
    ``vol_window_bars + 1`` of them give the ``vol_window_bars`` returns. The price itself is never part of it (no
    look-ahead), so pass the bars up to the previous close. Fixed mode reads nothing and returns ``(NaN, None)``.
    """
    if config.threshold_mode != "vol_scaled":
        return math.nan, None
    closes = _history_closes(history)
    needed = config.vol_window_bars + 1
    if closes.shape[0] < needed:
        given = f"{closes.shape[0]} given" if closes.shape[0] else "no price history given"
        return math.nan, f"fixed: {needed} closes before this price are needed, {given}"
    log_ret = K.log_returns(closes[-needed:])
    return float(K.window_volatility(log_ret, needed, config.vol_window_bars, float(config.periods_per_year))), None


def trigger_note(config: StrategyConfig, up: float, down: float, sigma: float, why_fixed: str | None) -> str:
    """The triggers in force and why, in one line: ``"trigger up 4.20 % (vol-scaled: σ 20-bar 25.20 % / reference
    30.00 % × 5.00 %); trigger down …"``."""
    parts = []
    for name, now, base in (("up", up, config.trigger_up), ("down", down, config.trigger_down)):
        why = trigger_basis(now, base, sigma, config, why_fixed) or "fixed"
        parts.append(f"trigger {name} {_pct(now)} ({why})")
    return "; ".join(parts)


def evaluate(
    state: PositionState,
    price: float,
    config: StrategyConfig,
    at: pd.Timestamp | str | None = None,
    *,
    timezone: str = DEFAULT_TIMEZONE,
    history: History | None = None,
) -> Decision:
    """Decide what the strategy does at ``price`` for a position in ``state`` (docs/strategy.md §5.2–§5.9).

    ``at`` is the time of the price (default: now); a time of day outside 09:30–16:00 Mon–Fri is after hours
    unless ``allow_after_hours``; a date with no time is a daily close (always in session). Dividends are not
    applied here: book them with :func:`apply_ex_dividend` / :func:`receive_dividend` first.

    ``history``: the closes before ``price``, oldest first (a sequence, array, Series or a frame with ``close``),
    read only in vol_scaled mode (see :func:`window_volatility`); with fewer than ``vol_window_bars + 1`` closes
    the triggers are the configuration's own, and the decision's ``trigger_note`` says so.
    """
    if not (isinstance(price, (int, float)) and math.isfinite(price) and price > 0):
        raise ConfigError(f"price must be a positive number, got {price!r}")
    stamp = pd.Timestamp(at) if at is not None else pd.Timestamp.now(tz=timezone).tz_localize(None)
    day, in_session = _bar_clock(stamp, timezone)
    p = params_row(config)
    sigma, why_fixed = window_volatility(history, config)
    up, down = K.triggers_in_force(sigma, p)
    # Every rule below is the kernel's own function (docs/strategy.md §5.2–§5.10), as in ``simulate``.
    counted_day = day if state.day is None else _day_number(state.day)
    orders_today = K.orders_counted_today(day, counted_day, state.orders_today)
    _value, share = K.valuation(state.shares, state.cash, state.receivable, float(price))
    status = K.bar_status(in_session, orders_today, p[K.P_AFTER_HOURS] != 0.0, p[K.P_MAX_ORDERS])
    order = K.hold_decision(float(price))
    if status == K.STATUS_EVALUATED:
        order = K.decide_order(float(price), state.shares, state.cash, state.receivable, state.anchor, up, down, p)
    action = K.order_action(order.kind, order.reason, order.side)
    executes = action in (K.ACTION_BUY, K.ACTION_SELL)
    kind, side, q, px, fee = order.kind, order.side, order.qty, order.exec_price, order.fee
    projected = share
    if executes:
        shares, cash = K.execute_order(q, px, fee, state.shares, state.cash)
        _after, projected = K.valuation(shares, cash, state.receivable, float(price))
    sell_level, buy_level = K.trigger_prices(state.anchor, up, down)
    upper, lower = guardrail_prices(state, config)
    reason_text = _reason_text(
        stamp, price, state.anchor, order, config, action=action, status=status, pre_share=share,
        sell_level=sell_level, buy_level=buy_level, triggers=(up, down, sigma), why_fixed=why_fixed,
    )
    return Decision(
        timestamp=stamp,
        session_date=_date_of(day),
        price=float(price),
        action=ACTIONS[action],
        kind=KINDS[kind],
        side="BUY" if side > 0 else ("SELL" if side < 0 else ""),
        status=STATUSES[status],
        raw_qty=float(order.raw_qty),
        qty=float(q),
        exec_price=float(px),
        notional=abs(q) * px if executes else 0.0,
        commission=float(fee) if executes else 0.0,
        skip_reason=REASONS[order.reason],
        trimmed=bool(order.flags & K.FLAG_TRIMMED),
        stock_share=share,
        projected_stock_share=projected,
        sell_trigger_price=sell_level,
        buy_trigger_price=buy_level,
        upper_guardrail_price=upper,
        lower_guardrail_price=lower,
        reason=reason_text,
        trigger_up=float(up),
        trigger_down=float(down),
        window_volatility=float(sigma),
        trigger_note=trigger_note(config, up, down, sigma, why_fixed),
    )


def _date_of(day_number: int) -> date:
    return (pd.Timestamp(0) + pd.Timedelta(days=day_number)).date()


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _day_number(d: date) -> int:
    """The kernel's day number (days since 1970-01-01) of a date: the inverse of :func:`_date_of`."""
    return d.toordinal() - _EPOCH_ORDINAL


def _reason_text(
    stamp: pd.Timestamp,
    price: float,
    anchor: float,
    order: K.OrderDecision,
    config: StrategyConfig,
    *,
    action: int,
    status: int,
    pre_share: float,
    sell_level: float,
    buy_level: float,
    triggers: tuple[float, float, float],
    why_fixed: str | None,
) -> str:
    """The simulator's plain-language reason for this one evaluation (same wording as the timeline)."""
    side = order.side
    row = pd.DataFrame(
        {
            "price": [float(price)],
            "anchor": [anchor],
            "status": [STATUSES[status]],
            "kind": [KINDS[order.kind]],
            "action": [ACTIONS[action]],
            "side": ["BUY" if side > 0 else ("SELL" if side < 0 else "")],
            "raw_qty": [float(order.raw_qty)],
            "qty": [float(order.qty)],
            "exec_price": [float(order.exec_price)],
            "limit_flags": [int(order.flags)],
            "skip_reason": [REASONS[order.reason]],
            "guardrail_bound": [float(order.bound)],
            "pre_trade_stock_share": [pre_share],
            "sell_trigger_price": [sell_level],
            "buy_trigger_price": [buy_level],
            "dividend_gross": [0.0],
            "dividend_cash": [0.0],
            "trigger_up_in_force": [float(triggers[0])],
            "trigger_down_in_force": [float(triggers[1])],
            "window_volatility": [float(triggers[2])],
        },
        index=pd.DatetimeIndex([stamp]),
    )
    return str(_reasons(row, config, why_fixed)[0])


def apply_fill(state: PositionState, decision: Decision, *, day: date | None = None) -> PositionState:
    """The state after the order of ``decision`` filled as advised (price, quantity and commission as decided)."""
    if decision.action not in ("BUY", "SELL"):
        raise ConfigError(f"nothing to fill: the decision is {decision.action}")
    fill_day = day if day is not None else decision.session_date
    return record_execution(state, decision.qty, decision.exec_price, decision.commission, fill_day)


def record_execution(state: PositionState, qty: float, price: float, commission: float, day: date) -> PositionState:
    """The state after an order of signed ``qty`` (positive buys) executed at ``price`` on ``day``.

    Shares and cash move with the simulator's own :func:`core.kernel.execute_order`; the anchor becomes the
    execution price and the order counts against ``day``'s cap (docs/strategy.md §5.3, §5.10).
    """
    shares, cash = K.execute_order(qty, price, commission, state.shares, state.cash)
    # A state with no day yet has counted nothing: any day number but ``day``'s restarts the count.
    counted_day = _day_number(state.day) if state.day is not None else _day_number(day) - 1
    orders_today = K.orders_counted_today(_day_number(day), counted_day, state.orders_today)
    return replace(
        state,
        shares=shares,
        cash=cash,
        anchor=price,
        orders_today=orders_today + 1,
        day=day,
    )


def apply_ex_dividend(
    state: PositionState, amount_per_share: float, config: StrategyConfig
) -> tuple[PositionState, float]:
    """Book an ex-dividend (docs/strategy.md §5.1): receivable += net, anchor -= amount.

    Returns the state and the net amount.
    """
    _gross, _withholding, net, receivable, anchor = K.book_ex_dividend(
        float(amount_per_share), state.shares, state.receivable, state.anchor, float(config.withholding_tax_rate)
    )
    return replace(state, receivable=receivable, anchor=anchor), net


def receive_dividend(state: PositionState, net: float, outstanding: int) -> PositionState:
    """Move a paid dividend from the receivable to cash (docs/strategy.md §5.1); ``outstanding`` is the number of
    booked dividends still unpaid after this one (the receivable is exactly 0 when there are none, as in the
    backtest)."""
    cash, receivable = K.pay_dividend(float(net), state.cash, state.receivable)
    return replace(state, cash=cash, receivable=K.settle_receivable(receivable, int(outstanding)))


def initial_state(config: StrategyConfig, price: float, at: pd.Timestamp | str) -> PositionState:
    """A new position funded with ``initial_capital`` and bought like the backtest's first bar."""
    p = params_row(config)
    shares, cash, _ = K.initial_order(config.initial_capital, config.initial_stock_share, float(price), p)
    return PositionState(shares=shares, cash=cash, anchor=float(price), day=pd.Timestamp(at).date())


__all__ = [
    "Decision",
    "PositionState",
    "apply_ex_dividend",
    "apply_fill",
    "evaluate",
    "guardrail_prices",
    "initial_state",
    "receive_dividend",
    "trigger_note",
    "window_volatility",
]
