"""Positions held for real: their state, orders, fills, dividends, cash flows, anchor changes and event trail.

Reached through ``store.positions`` (a :class:`PositionsAPI`). Every state change runs in one short transaction that
locks the position's row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises writers),
moves the :class:`core.advisor.PositionState` with the simulator's own code (:func:`core.kernel.execute_order`,
:func:`core.advisor.apply_ex_dividend`, :func:`core.advisor.receive_dividend`), stores the new state and appends an
event carrying the state after the change, so the timeline alone explains every number.

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
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlmodel import Field

from core import kernel as K
from core.advisor import Decision, PositionState, apply_ex_dividend, initial_state, receive_dividend
from core.bars import DEFAULT_TIMEZONE
from core.config import StrategyConfig
from core.errors import ConfigError
from storage import codec
from storage._base import aware, require, utcnow
from storage.errors import ConflictError
from storage.models import BigId, StoreModel
from storage.values import FrozenMap

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


# -- tables -----------------------------------------------------------------------------------------------------


def _fk(table: str, *, nullable: bool = False, ondelete: str = "CASCADE", index: bool = True) -> sa.Column:
    return sa.Column(sa.Integer(), sa.ForeignKey(f"{table}.id", ondelete=ondelete), nullable=nullable, index=index)


def _money(nullable: bool = False) -> sa.Column:
    return sa.Column(sa.Double(), nullable=nullable)


class PositionRow(StoreModel, table=True):
    __tablename__ = "positions"

    id: int | None = Field(default=None, primary_key=True)
    ticker: str = Field(sa_column=sa.Column(sa.String(40), nullable=False, index=True))
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    config: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    timezone: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    shares: float = Field(sa_column=_money())
    cash: float = Field(sa_column=_money())
    receivable: float = Field(sa_column=_money())
    anchor: float = Field(sa_column=_money())
    orders_today: int = Field(sa_column=sa.Column(sa.Integer(), nullable=False))
    day: date | None = Field(default=None, sa_column=sa.Column(sa.Date(), nullable=True))
    status: str = Field(sa_column=sa.Column(sa.String(20), nullable=False, index=True))
    created_at: datetime = Field(sa_column=sa.Column(sa.DateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=sa.Column(sa.DateTime(), nullable=False))


class PositionOrderRow(StoreModel, table=True):
    __tablename__ = "position_orders"

    id: int | None = Field(default=None, primary_key=True)
    position_id: int = Field(sa_column=_fk("positions"))
    status: str = Field(sa_column=sa.Column(sa.String(20), nullable=False, index=True))
    side: str = Field(sa_column=sa.Column(sa.String(4), nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    qty: float = Field(sa_column=_money())  # unsigned
    raw_qty: float = Field(sa_column=_money())  # signed, before trims
    price: float = Field(sa_column=_money())
    commission: float = Field(sa_column=_money())
    projected_asset_pct: float | None = Field(default=None, sa_column=_money(nullable=True))
    reason: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    decided_at: datetime = Field(sa_column=sa.Column(sa.DateTime(), nullable=False))  # exchange-local price time
    note: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    created_at: datetime = Field(sa_column=sa.Column(sa.DateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=sa.Column(sa.DateTime(), nullable=False))


class PositionFillRow(StoreModel, table=True):
    __tablename__ = "position_fills"

    id: int | None = Field(default=None, primary_key=True)
    position_id: int = Field(sa_column=_fk("positions"))
    order_id: int | None = Field(default=None, sa_column=_fk("position_orders", nullable=True, ondelete="SET NULL"))
    side: str = Field(sa_column=sa.Column(sa.String(4), nullable=False))
    qty: float = Field(sa_column=_money())  # unsigned
    price: float = Field(sa_column=_money())
    commission: float = Field(sa_column=_money())
    filled_at: datetime = Field(sa_column=sa.Column(sa.DateTime(), nullable=False))  # exchange-local
    created_at: datetime = Field(sa_column=sa.Column(sa.DateTime(), nullable=False))


class PositionDividendRow(StoreModel, table=True):
    __tablename__ = "position_dividends"
    __table_args__ = (sa.UniqueConstraint("position_id", "ex_date"),)

    id: int | None = Field(default=None, primary_key=True)
    position_id: int = Field(sa_column=_fk("positions"))
    ex_date: date = Field(sa_column=sa.Column(sa.Date(), nullable=False))
    pay_date: date = Field(sa_column=sa.Column(sa.Date(), nullable=False))
    amount_per_share: float = Field(sa_column=_money())
    shares: float = Field(sa_column=_money())
    gross: float = Field(sa_column=_money())
    net: float = Field(sa_column=_money())
    anchor_before: float = Field(sa_column=_money())
    anchor_after: float = Field(sa_column=_money())
    status: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))  # "booked" or "paid"
    paid_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(), nullable=True))
    created_at: datetime = Field(sa_column=sa.Column(sa.DateTime(), nullable=False))


class PositionCashFlowRow(StoreModel, table=True):
    __tablename__ = "position_cash_flows"

    id: int | None = Field(default=None, primary_key=True)
    position_id: int = Field(sa_column=_fk("positions"))
    amount: float = Field(sa_column=_money())  # > 0 deposit, < 0 withdrawal
    note: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    created_at: datetime = Field(sa_column=sa.Column(sa.DateTime(), nullable=False))


class PositionAnchorChangeRow(StoreModel, table=True):
    __tablename__ = "position_anchor_changes"

    id: int | None = Field(default=None, primary_key=True)
    position_id: int = Field(sa_column=_fk("positions"))
    old_anchor: float = Field(sa_column=_money())
    new_anchor: float = Field(sa_column=_money())
    reason: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    actor: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    created_at: datetime = Field(sa_column=sa.Column(sa.DateTime(), nullable=False))


class PositionEventRow(StoreModel, table=True):
    __tablename__ = "position_events"

    id: int | None = Field(default=None, sa_column=sa.Column(BigId, primary_key=True, autoincrement=True))
    position_id: int = Field(sa_column=_fk("positions"))
    at: datetime = Field(sa_column=sa.Column(sa.DateTime(), nullable=False))  # when recorded (UTC)
    kind: str = Field(sa_column=sa.Column(sa.String(30), nullable=False))
    message: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    details: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    actor: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    shares: float = Field(sa_column=_money())  # the state after the event
    cash: float = Field(sa_column=_money())
    receivable: float = Field(sa_column=_money())
    anchor: float = Field(sa_column=_money())


class PositionIdempotencyRow(StoreModel, table=True):
    __tablename__ = "position_idempotency"

    key: str = Field(sa_column=sa.Column(sa.String(200), primary_key=True))
    operation: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    request_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    result: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    created_at: datetime = Field(sa_column=sa.Column(sa.DateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=sa.Column(sa.DateTime(), nullable=False, index=True))


positions = PositionRow.__table__
position_orders = PositionOrderRow.__table__
position_fills = PositionFillRow.__table__
position_dividends = PositionDividendRow.__table__
position_cash_flows = PositionCashFlowRow.__table__
position_anchor_changes = PositionAnchorChangeRow.__table__
position_events = PositionEventRow.__table__
position_idempotency = PositionIdempotencyRow.__table__

POSITION_TABLES: tuple[str, ...] = (
    "positions",
    "position_orders",
    "position_fills",
    "position_dividends",
    "position_cash_flows",
    "position_anchor_changes",
    "position_events",
    "position_idempotency",
)


# -- value objects ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PositionRecord:
    """A stored position: what it is, how it trades (``config``) and what it holds now (``state``)."""

    id: int
    ticker: str
    name: str
    config: StrategyConfig
    timezone: str
    state: PositionState
    status: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class OrderRecord:
    """An order proposed by the advisor (``qty`` unsigned, ``price`` the advised execution price)."""

    id: int
    position_id: int
    status: str
    side: str
    kind: str
    qty: float
    raw_qty: float
    price: float
    commission: float
    projected_asset_pct: float | None
    reason: str
    decided_at: datetime
    note: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class FillRecord:
    """An execution as it really happened (``qty`` unsigned; ``filled_at`` exchange-local)."""

    id: int
    position_id: int
    order_id: int | None
    side: str
    qty: float
    price: float
    commission: float
    filled_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class FillResult:
    """What :meth:`PositionsAPI.record_fill` returns; ``replayed`` is True when an idempotency key returned the
    first request's result instead of recording anything."""

    fill: FillRecord
    state: PositionState  # the position right after this fill
    replayed: bool = False


@dataclass(frozen=True)
class DividendRecord:
    """A dividend booked on its ex-date (receivable += net, anchor -= amount) and paid on its pay date."""

    id: int
    position_id: int
    ex_date: date
    pay_date: date
    amount_per_share: float
    shares: float
    gross: float
    net: float
    anchor_before: float
    anchor_after: float
    status: str
    paid_at: datetime | None
    created_at: datetime

    @property
    def badge(self) -> str:
        """E.g. ``"Ex-dividend $0.82/sh; receivable $61.50; anchor adjusted to $149.18"``."""
        text = (
            f"Ex-dividend ${self.amount_per_share:,.2f}/sh; receivable ${self.net:,.2f}; "
            f"anchor adjusted to ${self.anchor_after:,.2f}"
        )
        return text if self.status == "booked" else f"{text} (paid)"


@dataclass(frozen=True)
class CashFlowRecord:
    """A deposit (``amount`` > 0) or withdrawal (``amount`` < 0)."""

    id: int
    position_id: int
    amount: float
    note: str
    created_at: datetime


@dataclass(frozen=True)
class AnchorChangeRecord:
    """A manual anchor change (also in the audit log)."""

    id: int
    position_id: int
    old_anchor: float
    new_anchor: float
    reason: str
    actor: str
    created_at: datetime


@dataclass(frozen=True)
class EventRecord:
    """One entry of a position's timeline, with the state right after it."""

    id: int
    position_id: int
    at: datetime
    kind: str
    message: str
    details: Mapping[str, Any]
    actor: str
    shares: float
    cash: float
    receivable: float
    anchor: float


@dataclass(frozen=True)
class PositionHistory:
    """Everything stored about one position (for the page and the Excel/CSV export)."""

    position: PositionRecord
    events: tuple[EventRecord, ...]
    orders: tuple[OrderRecord, ...]
    fills: tuple[FillRecord, ...]
    dividends: tuple[DividendRecord, ...]
    cash_flows: tuple[CashFlowRecord, ...]
    anchor_changes: tuple[AnchorChangeRecord, ...]


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
        raw_qty=row.raw_qty, price=row.price, commission=row.commission, projected_asset_pct=row.projected_asset_pct,
        reason=row.reason, decided_at=row.decided_at, note=row.note, created_at=aware(row.created_at),
        updated_at=aware(row.updated_at),
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


def _money_text(value: float) -> str:
    return f"${value:,.2f}"


class FillRejected(ConflictError):
    """A fill that the position cannot absorb (it would overdraw cash or sell more shares than are held)."""


# -- the API ----------------------------------------------------------------------------------------------------


class PositionsAPI:
    """Positions of one :class:`storage.Store` (``store.positions``). Every method is one short transaction."""

    def __init__(self, store: Store) -> None:
        self._store = store

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
            state = initial_state(config, _positive("price", price), pd.Timestamp(_local(at, timezone)))
            how = f"funded with {_money_text(config.initial_capital)} and bought at {_money_text(float(price))}"
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
                      f"cash {_money_text(state.cash)}, anchor {_money_text(state.anchor)}", state,
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
                commission=decision.commission, projected_asset_pct=codec.finite_or_none(decision.projected_asset_pct),
                reason=decision.reason, decided_at=_local(decision.timestamp, row.timezone),
                note=_clean(note, "note", 2000, required=False), created_at=now, updated_at=now,
            )).inserted_primary_key[0])
            trimmed = f" (trimmed from {abs(decision.raw_qty):,.4f})" if decision.trimmed else ""
            self._log(conn, position_id, "order_proposed",
                      f"Order {oid} proposed: {decision.side} {abs(decision.qty):,.4f}{trimmed} at "
                      f"{_money_text(decision.exec_price)}", _state(row), {"order_id": oid, "reason": decision.reason})
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
            problem = _fill_problem(state, side, qty, price, commission)
            if problem:
                rejection.append(problem)
                raise FillRejected(problem)
            q = qty if side == "BUY" else -qty
            shares, cash = K.execute_order(q, price, commission, state.shares, state.cash)
            day = filled_at.date()
            # The same bookkeeping as core.advisor.apply_fill: the anchor moves to the fill price, the order counts
            # against the day's cap.
            after = replace(state, shares=shares, cash=cash, anchor=price, day=day,
                            orders_today=(state.orders_today if state.day == day else 0) + 1)
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
                      f"Filled{of_order}: {side} {qty:,.4f} at {_money_text(price)}, commission "
                      f"{_money_text(commission)}; anchor → {_money_text(price)}", after,
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
                      f"{_money_text(price)} — {why}", _state(row),
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
            pay = pd.Timestamp(pay_date).date() if pay_date is not None else ex + timedelta(
                days=config.dividend_pay_lag_days)
            if pay < ex:
                raise ValueError(f"the pay date {pay} is before the ex-date {ex}")
            if conn.execute(sa.select(position_dividends.c.id).where(
                    position_dividends.c.position_id == position_id, position_dividends.c.ex_date == ex)).first():
                raise ConflictError(f"a dividend with ex-date {ex} is already booked for position {position_id}")
            state = _state(row)
            if amount >= state.anchor:
                raise ValueError(f"a dividend of {_money_text(amount)}/sh would push the anchor "
                                 f"{_money_text(state.anchor)} to zero or below")
            try:
                after, net = apply_ex_dividend(state, amount, config)
            except ConfigError as exc:  # pragma: no cover - guarded above
                raise ValueError(str(exc)) from exc
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
                      f"Ex-dividend {_money_text(amount)}/sh on {ex}; receivable {_money_text(net)} (pay {pay}); "
                      f"anchor adjusted to {_money_text(after.anchor)}{warn}", after,
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
            after = receive_dividend(_state(row), div.net)
            conn.execute(sa.update(position_dividends).where(position_dividends.c.id == dividend_id)
                         .values(status="paid", paid_at=utcnow()))
            self._save_state(conn, row.id, after)
            self._log(conn, row.id, "dividend_paid",
                      f"Dividend of ex-date {div.ex_date} paid: {_money_text(div.net)} moved to cash", after,
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
                raise ConflictError(f"cannot withdraw {_money_text(-amount)}: position {position_id} holds only "
                                    f"{_money_text(state.cash)} in cash")
            after = replace(state, cash=max(state.cash + amount, 0.0))
            fid = int(conn.execute(sa.insert(position_cash_flows).values(
                position_id=position_id, amount=amount, note=text, created_at=utcnow())).inserted_primary_key[0])
            self._save_state(conn, position_id, after)
            kind = "deposit" if amount > 0 else "withdrawal"
            self._log(conn, position_id, kind, f"{kind.capitalize()} of {_money_text(abs(amount))}"
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
            self._log(conn, position_id, "anchor_set", f"Anchor set by hand {_money_text(state.anchor)} → "
                      f"{_money_text(new)}: {why}", after, {"old": state.anchor, "new": new})
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


def _fill_problem(state: PositionState, side: str, qty: float, price: float, commission: float) -> str:
    """Why the position cannot absorb this fill, or "" when it can."""
    if side == "BUY":
        cost = qty * price + commission
        if cost > state.cash + _EPS:
            return (f"buying {qty:,.4f} at {_money_text(price)} plus {_money_text(commission)} commission costs "
                    f"{_money_text(cost)} but the position holds only {_money_text(state.cash)} in cash; deposit "
                    "cash first or correct the fill")
        return ""
    if qty > state.shares + _EPS:
        return (f"selling {qty:,.4f} shares but the position holds only {state.shares:,.4f}; correct the quantity "
                "(short selling is not part of the strategy)")
    if state.cash + qty * price - commission < -_EPS:
        return (f"the commission {_money_text(commission)} exceeds the sale's proceeds plus the cash held; correct "
                "the commission")
    return ""


__all__ = [
    "IDEMPOTENCY_TTL",
    "ORDER_STATUSES",
    "ORDER_TRANSITIONS",
    "POSITION_STATUSES",
    "POSITION_TABLES",
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
    "PositionsAPI",
    "request_hash",
]
