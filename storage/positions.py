"""Positions held for real: their state, orders, fills, dividends, cash flows, anchor changes and event trail.

The repository of the position ledger (:class:`PositionsAPI`; opened with the strategy's rules by
:func:`usecases.ledger.ledger`). Tables are in :mod:`storage.models`, records in :mod:`storage.values`. Every state
change runs in one short transaction that locks the position's row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
``BEGIN IMMEDIATE`` serialises writers), moves the position's state by the rules given
(:class:`PositionRules`: the simulator's own functions), stores the new state and appends an event carrying the
state after the change, so the timeline alone explains every number.

Idempotency: :meth:`PositionsAPI.record_fill` (and deposits/withdrawals) take an optional ``idempotency_key``. The key
is a unique column of ``position_idempotency``; its row is inserted *first*, in the same transaction as the change,
with ``INSERT … ON CONFLICT DO NOTHING``. A second request with the same key (even one racing in another process:
PostgreSQL makes it wait for the first transaction) therefore finds the stored row, and gets the first result back
when its request hash matches, or a :class:`~storage.errors.ConflictError` when it does not. Keys expire after
``IDEMPOTENCY_TTL`` (then the key may be used again).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from core.bars import DEFAULT_TIMEZONE
from core.config import StrategyConfig
from core.position_state import Decision, PositionState
from storage import codec
from storage._base import aware, require, utcnow
from storage.errors import ConflictError
from storage.models import (
    position_anchor_changes,
    position_cash_flows,
    position_dividends,
    position_events,
    position_fills,
    position_idempotency,
    position_orders,
    positions,
)
from storage.values import (
    AnchorChangeRecord,
    CashFlowRecord,
    DividendRecord,
    EventRecord,
    FillRecord,
    FillResult,
    FrozenMap,
    OrderRecord,
    PositionHistory,
    PositionRecord,
)

if TYPE_CHECKING:  # pragma: no cover
    from storage.store import Store

POSITION_STATUSES: tuple[str, ...] = ("active", "paused", "closed")
ORDER_STATUSES: tuple[str, ...] = ("proposed", "submitted", "filled", "cancelled", "rejected")
# Allowed order status changes; "filled" is reached only through record_fill.
ORDER_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "proposed": ("submitted", "cancelled", "rejected", "filled"),
    "submitted": ("cancelled", "rejected", "filled"),
    "filled": (),
    "cancelled": (),
    "rejected": (),
}
OPEN_ORDER_STATUSES: tuple[str, ...] = ("proposed", "submitted")
IDEMPOTENCY_TTL = timedelta(days=7)
_EPS = 1e-9  # absolute slack for float sums when checking cash and shares (cents are 1e-2)


# -- row -> record ----------------------------------------------------------------------------------------------


def _state(row: Any) -> PositionState:
    day = row.day
    if isinstance(day, datetime):  # pragma: no cover - defensive; SQLAlchemy returns date for a Date column
        day = day.date()
    return PositionState(
        shares=float(row.shares),
        cash=float(row.cash),
        anchor=float(row.anchor),
        receivable=float(row.receivable),
        orders_today=int(row.orders_today),
        day=day,
    )


def _position(row: Any) -> PositionRecord:
    return PositionRecord(
        id=row.id,
        ticker=row.ticker,
        name=row.name,
        config=StrategyConfig.from_dict(codec.loads(row.config)),
        timezone=row.timezone,
        state=_state(row),
        status=row.status,
        created_at=aware(row.created_at),
        updated_at=aware(row.updated_at),
    )


def _order(row: Any) -> OrderRecord:
    return OrderRecord(
        id=row.id, position_id=row.position_id, status=row.status, side=row.side, kind=row.kind, qty=row.qty,
        raw_qty=row.raw_qty, price=row.price, commission=row.commission,
        projected_stock_share=row.projected_stock_share, reason=row.reason, decided_at=row.decided_at, note=row.note,
        created_at=aware(row.created_at), updated_at=aware(row.updated_at),
    )


def _fill(row: Any) -> FillRecord:
    return FillRecord(
        id=row.id, position_id=row.position_id, order_id=row.order_id, side=row.side, qty=row.qty, price=row.price,
        commission=row.commission, filled_at=row.filled_at, created_at=aware(row.created_at),
    )


def _dividend(row: Any) -> DividendRecord:
    return DividendRecord(
        id=row.id, position_id=row.position_id, ex_date=row.ex_date, pay_date=row.pay_date,
        amount_per_share=row.amount_per_share, shares=row.shares, gross=row.gross, net=row.net,
        anchor_before=row.anchor_before, anchor_after=row.anchor_after, status=row.status,
        paid_at=aware(row.paid_at), created_at=aware(row.created_at),
    )


def _cash_flow(row: Any) -> CashFlowRecord:
    return CashFlowRecord(id=row.id, position_id=row.position_id, amount=row.amount, note=row.note,
                          created_at=aware(row.created_at))


def _anchor_change(row: Any) -> AnchorChangeRecord:
    return AnchorChangeRecord(id=row.id, position_id=row.position_id, old_anchor=row.old_anchor,
                              new_anchor=row.new_anchor, reason=row.reason, actor=row.actor,
                              created_at=aware(row.created_at))


def _event(row: Any) -> EventRecord:
    return EventRecord(
        id=row.id, position_id=row.position_id, at=aware(row.at), kind=row.kind, message=row.message,
        details=FrozenMap(codec.loads(row.details)), actor=row.actor, shares=row.shares, cash=row.cash,
        receivable=row.receivable, anchor=row.anchor,
    )


# -- validation helpers -----------------------------------------------------------------------------------------


def _positive(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return number


def _non_negative(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not (math.isfinite(number) and number >= 0):
        raise ValueError(f"{name} must be a number ≥ 0, got {value!r}")
    return number


def _clean(text: str, what: str, limit: int, *, required: bool = True) -> str:
    cleaned = " ".join(str(text or "").split())
    if required and not cleaned:
        raise ValueError(f"a position needs a {what}")
    if len(cleaned) > limit:
        raise ValueError(f"the {what} has at most {limit} characters")
    return cleaned


def local_now(timezone: str = DEFAULT_TIMEZONE) -> datetime:
    """The current exchange-local time, naive (how fills and advice times are kept)."""
    return pd.Timestamp.now(tz=timezone).tz_localize(None).to_pydatetime()


def _local(at: Any, timezone: str) -> datetime:
    if at is None:
        return local_now(timezone)
    stamp = pd.Timestamp(at)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(timezone).tz_localize(None)
    return stamp.to_pydatetime()


def request_hash(operation: str, request: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of an idempotent request (floats exactly, keys sorted)."""
    text = codec.dumps({"operation": operation, **{k: request[k] for k in sorted(request)}})
    return hashlib.sha256(text.encode()).hexdigest()


def money_text(value: float) -> str:
    return f"${value:,.2f}"


class FillRejected(ConflictError):
    """A fill that the position cannot absorb (it would overdraw cash or sell more shares than are held)."""


# -- the API ----------------------------------------------------------------------------------------------------


class PositionRules(Protocol):
    """The strategy rules a position ledger applies inside its transactions.

    The store only persists: the use-case layer (:class:`usecases.ledger.LedgerRules`) supplies these, each one
    the engine's own rule function, so the store never runs the engine and a held position moves exactly as a
    simulated one does.
    """

    def opening_state(self, config: StrategyConfig, price: float, at: pd.Timestamp) -> PositionState:
        """The state after funding with ``config.initial_capital`` and buying like the backtest's first bar."""

    def fill_problem(self, state: PositionState, side: str, qty: float, price: float, commission: float) -> str:
        """Why the position cannot absorb this fill, or "" when it can."""

    def after_fill(self, state: PositionState, side: str, qty: float, price: float, commission: float,
                   day: date) -> PositionState:
        """The state after an execution on ``day`` (the anchor moves, the day's order count grows)."""

    def pay_date(self, ex_date: date, pay_date: date | None, config: StrategyConfig) -> date:
        """The pay date of a dividend booked with ``pay_date`` (``None``: not known); ``ValueError`` if refused."""

    def after_ex_dividend(self, state: PositionState, amount_per_share: float,
                          config: StrategyConfig) -> tuple[PositionState, float]:
        """The state after an ex-date (receivable and anchor), and the net amount receivable."""

    def after_payment(self, state: PositionState, net: float, outstanding: int) -> PositionState:
        """The state after a dividend's net amount is paid (receivable to cash); ``outstanding``: the position's
        booked dividends still unpaid after this one."""


class PositionsAPI:
    """Positions of one :class:`storage.Store` (``store.positions``). Every method is one short transaction."""

    def __init__(self, store: Store, rules: PositionRules) -> None:
        self._store = store
        self._rules = rules

    # -- plumbing ---------------------------------------------------------------------------------------------

    def _lock(self, conn: Connection, position_id: int) -> Any:
        """The position's row, locked against concurrent writers until the transaction ends."""
        row = conn.execute(sa.select(positions).where(positions.c.id == position_id).with_for_update()).first()
        return require(row, "position", position_id)

    def _save_state(self, conn: Connection, position_id: int, state: PositionState, **extra: Any) -> None:
        conn.execute(
            sa.update(positions)
            .where(positions.c.id == position_id)
            .values(shares=state.shares, cash=state.cash, receivable=state.receivable, anchor=state.anchor,
                    orders_today=state.orders_today, day=state.day, updated_at=utcnow(), **extra)
        )

    def _log(self, conn: Connection, position_id: int, kind: str, message: str, state: PositionState,
             details: Mapping[str, Any] | None = None) -> int:
        result = conn.execute(
            sa.insert(position_events).values(
                position_id=position_id, at=utcnow(), kind=kind, message=message,
                details=codec.dumps(dict(details or {})), actor=self._store.actor, shares=state.shares,
                cash=state.cash, receivable=state.receivable, anchor=state.anchor,
            )
        )
        return int(result.inserted_primary_key[0])

    def _idempotent(self, key: str | None, operation: str, request: Mapping[str, Any],
                    apply: Callable[[Connection], Any], encode: Callable[[Any], Any],
                    decode: Callable[[Any], Any]) -> Any:
        """Run ``apply`` once per ``key``: a repeat with the same request returns the stored (decoded) result."""
        if key is None:
            return self._store._write(apply)
        key = str(key).strip()
        if not key or len(key) > 200:
            raise ValueError("an idempotency key has 1 to 200 characters")
        digest = request_hash(operation, request)

        def run(conn: Connection) -> tuple[bool, Any]:
            now = utcnow()
            table = position_idempotency
            # An expired key may be used again: drop it first (same transaction, so nobody sees a gap).
            conn.execute(sa.delete(table).where(table.c.key == key, table.c.expires_at <= now))
            insert = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)
            # RETURNING says whether this statement inserted the row (rowcount is unreliable here on psycopg).
            claimed = conn.execute(
                insert.values(key=key, operation=operation, request_hash=digest, result=None, created_at=now,
                              expires_at=now + IDEMPOTENCY_TTL)
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(table.c.key)
            ).first() is not None
            if not claimed:
                # PostgreSQL made us wait for the transaction that holds the key; it committed, so its row is
                # visible to this new statement (READ COMMITTED). SQLite writers never overlap.
                return False, conn.execute(sa.select(table).where(table.c.key == key)).first()
            result = apply(conn)
            conn.execute(sa.update(table).where(table.c.key == key).values(result=codec.dumps(encode(result))))
            return True, result

        try:
            fresh, value = self._store._write(run)
        except ConflictError as exc:
            # Defensive: a unique violation on the key (a driver that does not honour ON CONFLICT the same way).
            if not isinstance(exc.__cause__, sa.exc.IntegrityError):
                raise
            row = self._store._read(lambda conn: conn.execute(
                sa.select(position_idempotency).where(position_idempotency.c.key == key)).first())
            if row is None:
                raise
            fresh, value = False, row
        if fresh:
            return value
        if value.request_hash != digest or value.operation != operation:
            raise ConflictError(
                f"the idempotency key {key!r} was already used for a different request ({value.operation}); "
                "use a new key for a new request, or repeat the original request unchanged"
            )
        return decode(codec.loads(value.result))

    # -- positions --------------------------------------------------------------------------------------------

    def create(
        self,
        ticker: str,
        config: StrategyConfig,
        *,
        name: str = "",
        shares: float | None = None,
        cash: float | None = None,
        anchor: float | None = None,
        price: float | None = None,
        at: Any = None,
        timezone: str = DEFAULT_TIMEZONE,
    ) -> PositionRecord:
        """Open a position, either with what is already held (``shares``, ``cash``, ``anchor``) or, given only a
        ``price``, funded with ``config.initial_capital`` and bought like the backtest's first bar."""
        ticker = _clean(ticker, "ticker", 40).upper()
        name = _clean(name, "name", 200, required=False) or ticker
        if shares is None and cash is None:
            if price is None:
                raise ValueError("give the holdings (shares, cash, anchor) or a price to buy the initial position at")
            state = self._rules.opening_state(config, _positive("price", price), pd.Timestamp(_local(at, timezone)))
            how = f"funded with {money_text(config.initial_capital)} and bought at {money_text(float(price))}"
        else:
            state = PositionState(
                shares=_non_negative("shares", shares or 0.0),
                cash=_non_negative("cash", cash or 0.0),
                anchor=_positive("anchor", anchor if anchor is not None else price),
            )
            how = "opened with existing holdings"
        payload = codec.dumps(config.to_dict())

        def create(conn: Connection) -> int:
            now = utcnow()
            pid = int(conn.execute(sa.insert(positions).values(
                ticker=ticker, name=name, config=payload, timezone=timezone, shares=state.shares, cash=state.cash,
                receivable=state.receivable, anchor=state.anchor, orders_today=state.orders_today, day=state.day,
                status="active", created_at=now, updated_at=now,
            )).inserted_primary_key[0])
            self._log(conn, pid, "created", f"Position {ticker} {how}: {state.shares:,.4f} shares, "
                      f"cash {money_text(state.cash)}, anchor {money_text(state.anchor)}", state,
                      {"config": config.to_dict()})
            self._store._audit(conn, "create", "position", pid, {"ticker": ticker, "name": name})
            return pid

        return self.get(self._store._write(create))

    def get(self, position_id: int) -> PositionRecord:
        """The position; :class:`~storage.errors.NotFound` if there is none with that id."""
        row = self._store._read(lambda conn: conn.execute(
            sa.select(positions).where(positions.c.id == position_id)).first())
        return _position(require(row, "position", position_id))

    def list(self, *, status: str | None = None) -> list[PositionRecord]:
        """Every position (or those with ``status``), by ticker then id."""
        query = sa.select(positions).order_by(positions.c.ticker, positions.c.id)
        if status is not None:
            query = query.where(positions.c.status == status)
        return [_position(r) for r in self._store._read(lambda conn: conn.execute(query).all())]

    def set_status(self, position_id: int, status: str) -> PositionRecord:
        """Pause, close or re-activate a position (closed positions accept no fills or cash flows)."""
        if status not in POSITION_STATUSES:
            raise ValueError(f"a position's status is one of {', '.join(POSITION_STATUSES)}, got {status!r}")

        def change(conn: Connection) -> None:
            row = self._lock(conn, position_id)
            if row.status == status:
                return
            state = _state(row)
            self._save_state(conn, position_id, state, status=status)
            self._log(conn, position_id, "status", f"Status {row.status} → {status}", state,
                      {"from": row.status, "to": status})
            self._store._audit(conn, "update", "position", position_id, {"status": status})

        self._store._write(change)
        return self.get(position_id)

    def _require_open(self, row: Any) -> None:
        if row.status == "closed":
            raise ConflictError(f"position {row.id} ({row.ticker}) is closed; re-activate it before changing it")

    # -- orders -----------------------------------------------------------------------------------------------

    def propose_order(self, position_id: int, decision: Decision, note: str = "") -> OrderRecord:
        """Store the advisor's BUY or SELL as a proposed order (HOLD and SKIP propose nothing)."""
        if decision.action not in ("BUY", "SELL"):
            raise ValueError(f"nothing to order: the advice is {decision.action}")

        def propose(conn: Connection) -> int:
            row = self._lock(conn, position_id)
            self._require_open(row)
            now = utcnow()
            oid = int(conn.execute(sa.insert(position_orders).values(
                position_id=position_id, status="proposed", side=decision.side, kind=decision.kind,
                qty=abs(decision.qty), raw_qty=decision.raw_qty, price=decision.exec_price,
                commission=decision.commission,
                projected_stock_share=codec.finite_or_none(decision.projected_stock_share),
                reason=decision.reason, decided_at=_local(decision.timestamp, row.timezone),
                note=_clean(note, "note", 2000, required=False), created_at=now, updated_at=now,
            )).inserted_primary_key[0])
            trimmed = f" (trimmed from {abs(decision.raw_qty):,.4f})" if decision.trimmed else ""
            self._log(conn, position_id, "order_proposed",
                      f"Order {oid} proposed: {decision.side} {abs(decision.qty):,.4f}{trimmed} at "
                      f"{money_text(decision.exec_price)}", _state(row), {"order_id": oid, "reason": decision.reason})
            return oid

        return self.get_order(self._store._write(propose))

    def get_order(self, order_id: int) -> OrderRecord:
        """The order; :class:`~storage.errors.NotFound` if there is none."""
        row = self._store._read(lambda conn: conn.execute(
            sa.select(position_orders).where(position_orders.c.id == order_id)).first())
        return _order(require(row, "order", order_id))

    def _transition(self, order_id: int, status: str, note: str) -> OrderRecord:
        def change(conn: Connection) -> None:
            order = require(conn.execute(sa.select(position_orders.c.position_id)
                                         .where(position_orders.c.id == order_id)).first(), "order", order_id)
            row = self._lock(conn, order.position_id)  # lock the position first, like fills do (no deadlock)
            current = conn.execute(sa.select(position_orders).where(position_orders.c.id == order_id)).first()
            if status not in ORDER_TRANSITIONS[current.status]:
                raise ConflictError(f"order {order_id} is {current.status} and cannot become {status}")
            text = _clean(note, "note", 2000, required=False)
            conn.execute(sa.update(position_orders).where(position_orders.c.id == order_id)
                         .values(status=status, updated_at=utcnow(), note=text or current.note))
            self._log(conn, row.id, f"order_{status}", f"Order {order_id} {status}" + (f": {text}" if text else ""),
                      _state(row), {"order_id": order_id, "from": current.status})

        self._store._write(change)
        return self.get_order(order_id)

    def submit_order(self, order_id: int, note: str = "") -> OrderRecord:
        """Mark a proposed order as sent to the broker."""
        return self._transition(order_id, "submitted", note)

    def cancel_order(self, order_id: int, note: str = "") -> OrderRecord:
        """Cancel an open order (nothing changes in the position)."""
        return self._transition(order_id, "cancelled", note)

    def reject_order(self, order_id: int, note: str = "") -> OrderRecord:
        """Record that the broker rejected an open order."""
        return self._transition(order_id, "rejected", note)

    # -- fills ------------------------------------------------------------------------------------------------

    def record_fill(
        self,
        position_id: int,
        side: str,
        qty: float,
        price: float,
        commission: float = 0.0,
        *,
        at: Any = None,
        order_id: int | None = None,
        idempotency_key: str | None = None,
    ) -> FillResult:
        """Record an execution as it really happened and move the position with the simulator's own update
        (:func:`core.kernel.execute_order`; the anchor becomes the fill price and the day's order count grows).

        Refused with :class:`FillRejected` (and noted in the timeline) when a buy would cost more than the cash
        or a sell would sell more shares than are held. With ``idempotency_key`` a repeat returns the first result
        and changes nothing; the same key with a different request raises :class:`ConflictError`.
        """
        side = str(side).upper()
        if side not in ("BUY", "SELL"):
            raise ValueError(f"a fill's side is BUY or SELL, got {side!r}")
        qty = _positive("quantity", qty)
        price = _positive("price", price)
        commission = _non_negative("commission", commission)
        position = self.get(position_id)
        filled_at = _local(at, position.timezone)
        # The time as the caller gave it: a retry without a time ("now") must hash like the first attempt.
        request = {"position_id": int(position_id), "side": side, "qty": qty, "price": price,
                   "commission": commission, "at": None if at is None else filled_at.isoformat(),
                   "order_id": order_id}
        rejection: list[str] = []

        def apply(conn: Connection) -> FillResult:
            row = self._lock(conn, position_id)
            self._require_open(row)
            state = _state(row)
            if order_id is not None:
                order = conn.execute(sa.select(position_orders).where(position_orders.c.id == order_id)).first()
                order = require(order, "order", order_id)
                if order.position_id != position_id:
                    raise ConflictError(f"order {order_id} belongs to position {order.position_id}, not {position_id}")
                if order.status not in OPEN_ORDER_STATUSES:
                    raise ConflictError(f"order {order_id} is {order.status}; only proposed or submitted orders fill")
                if order.side != side:
                    raise ConflictError(f"order {order_id} is a {order.side}, the fill a {side}")
            problem = self._rules.fill_problem(state, side, qty, price, commission)
            if problem:
                rejection.append(problem)
                raise FillRejected(problem)
            after = self._rules.after_fill(state, side, qty, price, commission, filled_at.date())
            now = utcnow()
            fid = int(conn.execute(sa.insert(position_fills).values(
                position_id=position_id, order_id=order_id, side=side, qty=qty, price=price, commission=commission,
                filled_at=filled_at, created_at=now,
            )).inserted_primary_key[0])
            if order_id is not None:
                conn.execute(sa.update(position_orders).where(position_orders.c.id == order_id)
                             .values(status="filled", updated_at=now))
            self._save_state(conn, position_id, after)
            of_order = f" (order {order_id})" if order_id is not None else ""
            self._log(conn, position_id, "fill",
                      f"Filled{of_order}: {side} {qty:,.4f} at {money_text(price)}, commission "
                      f"{money_text(commission)}; anchor → {money_text(price)}", after,
                      {"fill_id": fid, "order_id": order_id, "filled_at": filled_at.isoformat()})
            fill = _fill(conn.execute(sa.select(position_fills).where(position_fills.c.id == fid)).first())
            return FillResult(fill=fill, state=after)

        def encode(result: FillResult) -> dict[str, Any]:
            s = result.state
            return {"fill_id": result.fill.id, "state": {"shares": s.shares, "cash": s.cash, "anchor": s.anchor,
                    "receivable": s.receivable, "orders_today": s.orders_today,
                    "day": None if s.day is None else s.day.isoformat()}}

        def decode(stored: dict[str, Any]) -> FillResult:
            s = dict(stored["state"])
            s["day"] = None if s["day"] is None else date.fromisoformat(s["day"])
            row = self._store._read(lambda conn: conn.execute(
                sa.select(position_fills).where(position_fills.c.id == stored["fill_id"])).first())
            return FillResult(fill=_fill(require(row, "fill", stored["fill_id"])), state=PositionState(**s),
                              replayed=True)

        try:
            return self._idempotent(idempotency_key, "fill", request, apply, encode, decode)
        except FillRejected as exc:
            # The refusal itself is part of the trail (its own transaction: the fill's was rolled back).
            if rejection:
                self._note_rejection(position_id, side, qty, price, commission, str(exc))
            raise

    def _note_rejection(self, position_id: int, side: str, qty: float, price: float, commission: float,
                        why: str) -> None:
        def note(conn: Connection) -> None:
            row = self._lock(conn, position_id)
            self._log(conn, position_id, "fill_rejected", f"Fill refused: {side} {qty:,.4f} at "
                      f"{money_text(price)} — {why}", _state(row),
                      {"side": side, "qty": qty, "price": price, "commission": commission})

        self._store._write(note)

    # -- dividends --------------------------------------------------------------------------------------------

    def book_dividend(self, position_id: int, ex_date: Any, amount_per_share: float,
                      pay_date: Any = None) -> DividendRecord:
        """Book an ex-dividend as the simulator does (receivable += net of withholding; anchor -= amount).

        ``pay_date`` defaults to ``ex_date`` + the configuration's ``dividend_pay_lag_days``. Open orders stay
        open (the timeline notes that they were proposed against the old anchor: evaluate again before sending).
        """
        amount = _positive("dividend per share", amount_per_share)
        ex = pd.Timestamp(ex_date).date()

        def book(conn: Connection) -> int:
            row = self._lock(conn, position_id)
            self._require_open(row)
            config = StrategyConfig.from_dict(codec.loads(row.config))
            pay = self._rules.pay_date(ex, None if pay_date is None else pd.Timestamp(pay_date).date(), config)
            if conn.execute(sa.select(position_dividends.c.id).where(
                    position_dividends.c.position_id == position_id, position_dividends.c.ex_date == ex,
                    position_dividends.c.amount_per_share == amount)).first():
                raise ConflictError(f"a dividend of {money_text(amount)}/sh with ex-date {ex} is already booked for "
                                    f"position {position_id}; a second dividend on that date (a special one) has "
                                    "another amount")
            state = _state(row)
            if amount >= state.anchor:
                raise ValueError(f"a dividend of {money_text(amount)}/sh would push the anchor "
                                 f"{money_text(state.anchor)} to zero or below")
            after, net = self._rules.after_ex_dividend(state, amount, config)
            gross = amount * state.shares
            did = int(conn.execute(sa.insert(position_dividends).values(
                position_id=position_id, ex_date=ex, pay_date=pay, amount_per_share=amount, shares=state.shares,
                gross=gross, net=net, anchor_before=state.anchor, anchor_after=after.anchor, status="booked",
                paid_at=None, created_at=utcnow(),
            )).inserted_primary_key[0])
            self._save_state(conn, position_id, after)
            open_orders = conn.execute(sa.select(position_orders.c.id).where(
                position_orders.c.position_id == position_id,
                position_orders.c.status.in_(OPEN_ORDER_STATUSES))).scalars().all()
            warn = (f"; {len(open_orders)} open order(s) were proposed against the old anchor — evaluate again"
                    if open_orders else "")
            self._log(conn, position_id, "ex_dividend",
                      f"Ex-dividend {money_text(amount)}/sh on {ex}; receivable {money_text(net)} (pay {pay}); "
                      f"anchor adjusted to {money_text(after.anchor)}{warn}", after,
                      {"dividend_id": did, "open_orders": list(open_orders)})
            return did

        return self.get_dividend(self._store._write(book))

    def get_dividend(self, dividend_id: int) -> DividendRecord:
        """The dividend; :class:`~storage.errors.NotFound` if there is none."""
        row = self._store._read(lambda conn: conn.execute(
            sa.select(position_dividends).where(position_dividends.c.id == dividend_id)).first())
        return _dividend(require(row, "dividend", dividend_id))

    def pay_dividend(self, dividend_id: int) -> DividendRecord:
        """The dividend was paid: move its net amount from the receivable to cash."""

        def pay(conn: Connection) -> None:
            div = require(conn.execute(sa.select(position_dividends).where(
                position_dividends.c.id == dividend_id)).first(), "dividend", dividend_id)
            row = self._lock(conn, div.position_id)
            div = conn.execute(sa.select(position_dividends).where(position_dividends.c.id == dividend_id)).first()
            if div.status != "booked":
                raise ConflictError(f"dividend {dividend_id} (ex {div.ex_date}) is already paid")
            outstanding = conn.execute(sa.select(sa.func.count()).select_from(position_dividends).where(
                position_dividends.c.position_id == div.position_id, position_dividends.c.status == "booked",
                position_dividends.c.id != dividend_id)).scalar_one()
            after = self._rules.after_payment(_state(row), div.net, int(outstanding))
            conn.execute(sa.update(position_dividends).where(position_dividends.c.id == dividend_id)
                         .values(status="paid", paid_at=utcnow()))
            self._save_state(conn, row.id, after)
            self._log(conn, row.id, "dividend_paid",
                      f"Dividend of ex-date {div.ex_date} paid: {money_text(div.net)} moved to cash", after,
                      {"dividend_id": dividend_id})

        self._store._write(pay)
        return self.get_dividend(dividend_id)

    def pay_due_dividends(self, position_id: int, today: Any = None) -> list[DividendRecord]:
        """Pay every booked dividend whose pay date is ``today`` (default: the exchange's today) or earlier."""
        position = self.get(position_id)
        day = pd.Timestamp(today).date() if today is not None else local_now(position.timezone).date()
        due = [d for d in self.list_dividends(position_id) if d.status == "booked" and d.pay_date <= day]
        return [self.pay_dividend(d.id) for d in due]

    # -- cash and anchor --------------------------------------------------------------------------------------

    def deposit(self, position_id: int, amount: float, note: str = "", *,
                idempotency_key: str | None = None) -> PositionRecord:
        """Add cash to the position."""
        return self._cash_flow(position_id, _positive("deposit", amount), note, idempotency_key)

    def withdraw(self, position_id: int, amount: float, note: str = "", *,
                 idempotency_key: str | None = None) -> PositionRecord:
        """Take cash out; refused (:class:`ConflictError`) beyond the cash held."""
        return self._cash_flow(position_id, -_positive("withdrawal", amount), note, idempotency_key)

    def _cash_flow(self, position_id: int, amount: float, note: str, key: str | None) -> PositionRecord:
        text = _clean(note, "note", 2000, required=False)

        def apply(conn: Connection) -> int:
            row = self._lock(conn, position_id)
            self._require_open(row)
            state = _state(row)
            if state.cash + amount < -_EPS:
                raise ConflictError(f"cannot withdraw {money_text(-amount)}: position {position_id} holds only "
                                    f"{money_text(state.cash)} in cash")
            after = replace(state, cash=max(state.cash + amount, 0.0))
            fid = int(conn.execute(sa.insert(position_cash_flows).values(
                position_id=position_id, amount=amount, note=text, created_at=utcnow())).inserted_primary_key[0])
            self._save_state(conn, position_id, after)
            kind = "deposit" if amount > 0 else "withdrawal"
            self._log(conn, position_id, kind, f"{kind.capitalize()} of {money_text(abs(amount))}"
                      + (f": {text}" if text else ""), after, {"cash_flow_id": fid})
            return fid

        request = {"position_id": int(position_id), "amount": amount, "note": text}
        self._idempotent(key, "cash_flow", request, apply, lambda fid: fid, lambda fid: fid)
        return self.get(position_id)

    def set_anchor(self, position_id: int, anchor: float, reason: str) -> PositionRecord:
        """Set the anchor by hand. A reason is required; the change is kept, timelined and audited."""
        new = _positive("anchor", anchor)
        why = _clean(reason, "reason for the anchor change", 2000)

        def change(conn: Connection) -> None:
            row = self._lock(conn, position_id)
            self._require_open(row)
            state = _state(row)
            after = replace(state, anchor=new)
            conn.execute(sa.insert(position_anchor_changes).values(
                position_id=position_id, old_anchor=state.anchor, new_anchor=new, reason=why,
                actor=self._store.actor, created_at=utcnow()))
            self._save_state(conn, position_id, after)
            self._log(conn, position_id, "anchor_set", f"Anchor set by hand {money_text(state.anchor)} → "
                      f"{money_text(new)}: {why}", after, {"old": state.anchor, "new": new})
            self._store._audit(conn, "update", "position", position_id,
                               {"anchor": {"old": state.anchor, "new": new}, "reason": why})

        self._store._write(change)
        return self.get(position_id)

    # -- listings ---------------------------------------------------------------------------------------------

    def _rows(self, table: sa.Table, position_id: int, order: Any) -> list[Any]:
        query = sa.select(table).where(table.c.position_id == position_id).order_by(order, table.c.id)
        return self._store._read(lambda conn: conn.execute(query).all())

    def list_orders(self, position_id: int, *, open_only: bool = False) -> list[OrderRecord]:
        """The position's orders, oldest first (only proposed/submitted ones with ``open_only``)."""
        orders = [_order(r) for r in self._rows(position_orders, position_id, position_orders.c.created_at)]
        return [o for o in orders if o.status in OPEN_ORDER_STATUSES] if open_only else orders

    def list_fills(self, position_id: int) -> list[FillRecord]:
        """The position's fills in the order they were recorded."""
        return [_fill(r) for r in self._rows(position_fills, position_id, position_fills.c.created_at)]

    def list_dividends(self, position_id: int) -> list[DividendRecord]:
        """The position's dividends by ex-date."""
        return [_dividend(r) for r in self._rows(position_dividends, position_id, position_dividends.c.ex_date)]

    def list_cash_flows(self, position_id: int) -> list[CashFlowRecord]:
        """The position's deposits and withdrawals, oldest first."""
        return [_cash_flow(r) for r in self._rows(position_cash_flows, position_id, position_cash_flows.c.created_at)]

    def list_anchor_changes(self, position_id: int) -> list[AnchorChangeRecord]:
        """The position's manual anchor changes, oldest first."""
        return [_anchor_change(r) for r in
                self._rows(position_anchor_changes, position_id, position_anchor_changes.c.created_at)]

    def list_events(self, position_id: int) -> list[EventRecord]:
        """The position's timeline, oldest first."""
        return [_event(r) for r in self._rows(position_events, position_id, position_events.c.id)]

    def history(self, position_id: int) -> PositionHistory:
        """Everything stored about the position (for the page and the export)."""
        return PositionHistory(
            position=self.get(position_id),
            events=tuple(self.list_events(position_id)),
            orders=tuple(self.list_orders(position_id)),
            fills=tuple(self.list_fills(position_id)),
            dividends=tuple(self.list_dividends(position_id)),
            cash_flows=tuple(self.list_cash_flows(position_id)),
            anchor_changes=tuple(self.list_anchor_changes(position_id)),
        )

    def purge_expired_keys(self) -> int:
        """Delete expired idempotency records; returns how many."""
        return self._store._write(lambda conn: conn.execute(
            sa.delete(position_idempotency).where(position_idempotency.c.expires_at <= utcnow())).rowcount)


__all__ = [
    "IDEMPOTENCY_TTL",
    "ORDER_STATUSES",
    "ORDER_TRANSITIONS",
    "POSITION_STATUSES",
    "AnchorChangeRecord",
    "CashFlowRecord",
    "DividendRecord",
    "EventRecord",
    "FillRecord",
    "FillRejected",
    "FillResult",
    "OrderRecord",
    "PositionHistory",
    "PositionRecord",
    "PositionRules",
    "PositionsAPI",
    "request_hash",
]
