"""Database tables (SQLModel). Internal: pages, the CLI and workers use :class:`storage.Store`, never these.

The tables live in their own SQLAlchemy registry (``metadata`` below), so other SQLModel classes elsewhere in the
app can never leak into the store's schema or its migrations. JSON is kept in ``TEXT`` columns written by
:mod:`storage.codec` on every backend (exact float round-trips; NaN tagged), frames in binary columns. Timestamps
are naive UTC. NaN metrics are NULL in the indexed metric columns and sort last.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = sa.MetaData(naming_convention=NAMING)
_registry = registry(metadata=metadata)

# The metric columns indexed for sorting runs and trials; every metric is also in the JSON column.
INDEXED_METRICS: tuple[str, ...] = ("total_return", "cagr", "sharpe", "max_drawdown", "n_trades")

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # INTEGER PRIMARY KEY is SQLite's autoincrement rowid


class StoreModel(SQLModel, registry=_registry):
    """Base class of the store's tables (own registry and metadata)."""


class DatasetRow(StoreModel, table=True):
    __tablename__ = "datasets"
    __table_args__ = (sa.UniqueConstraint("name", "sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False, index=True))
    source: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    symbol: str = Field(sa_column=sa.Column(sa.String(40), nullable=False, index=True))
    interval: str = Field(sa_column=sa.Column(sa.String(10), nullable=False))
    price_basis: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    timezone: str | None = Field(default=None, sa_column=sa.Column(sa.String(64), nullable=True))
    first_ts: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(), nullable=True))
    last_ts: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(), nullable=True))
    n_rows: int = Field(sa_column=sa.Column(sa.Integer(), nullable=False))
    n_dividends: int = Field(sa_column=sa.Column(sa.Integer(), nullable=False))
    sha256: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, index=True))
    created_at: datetime = Field(sa_column=sa.Column(sa.DateTime(), nullable=False))


class DatasetDataRow(StoreModel, table=True):
    __tablename__ = "dataset_data"

    dataset_id: int = Field(
        sa_column=sa.Column(sa.Integer(), sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True)
    )
    bars: bytes = Field(sa_column=sa.Column(sa.LargeBinary(), nullable=False))
    dividends: bytes = Field(sa_column=sa.Column(sa.LargeBinary(), nullable=False))
    splits: bytes | None = Field(default=None, sa_column=sa.Column(sa.LargeBinary(), nullable=True))


class RunRow(StoreModel, table=True):
    __tablename__ = "runs"

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(
        sa_column=sa.Column(sa.Integer(), sa.ForeignKey("datasets.id", ondelete="RESTRICT"), nullable=False, index=True)
    )
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False, index=True))
    tags: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    notes: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    config: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    engine_version: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    created_at: datetime = Field(sa_column=sa.Column(sa.DateTime(), nullable=False, index=True))
    metrics: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    total_return: float | None = Field(default=None, sa_column=sa.Column(sa.Double(), nullable=True, index=True))
    cagr: float | None = Field(default=None, sa_column=sa.Column(sa.Double(), nullable=True, index=True))
    sharpe: float | None = Field(default=None, sa_column=sa.Column(sa.Double(), nullable=True, index=True))
    max_drawdown: float | None = Field(default=None, sa_column=sa.Column(sa.Double(), nullable=True, index=True))
    n_trades: int | None = Field(default=None, sa_column=sa.Column(sa.Integer(), nullable=True, index=True))


class RunTradesRow(StoreModel, table=True):
    __tablename__ = "run_trades"

    run_id: int = Field(
        sa_column=sa.Column(sa.Integer(), sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    )
    n_rows: int = Field(sa_column=sa.Column(sa.Integer(), nullable=False))
    data: bytes = Field(sa_column=sa.Column(sa.LargeBinary(), nullable=False))


class StudyRow(StoreModel, table=True):
    __tablename__ = "studies"

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(
        sa_column=sa.Column(sa.Integer(), sa.ForeignKey("datasets.id", ondelete="RESTRICT"), nullable=False, index=True)
    )
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    method: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    objective: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    search_space: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    constraints: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    base_config: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    seed: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger(), nullable=True))
    status: str = Field(sa_column=sa.Column(sa.String(20), nullable=False, index=True))
    n_planned: int | None = Field(default=None, sa_column=sa.Column(sa.Integer(), nullable=True))
    error: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    created_at: datetime = Field(sa_column=sa.Column(sa.DateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=sa.Column(sa.DateTime(), nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(), nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(), nullable=True))


class TrialRow(StoreModel, table=True):
    """One trial; the primary key (study_id, trial_index) makes the database enforce uniqueness (and clusters the
    rows of a study together on SQLite)."""

    __tablename__ = "trials"
    __table_args__ = (
        sa.Index("ix_trials_study_id_status", "study_id", "status"),
        *(sa.Index(f"ix_trials_study_id_{m}", "study_id", m) for m in INDEXED_METRICS),
        # SQLite: store the rows clustered by (study_id, trial_index), so reading a whole study is sequential
        {"sqlite_with_rowid": False},
    )

    study_id: int = Field(
        sa_column=sa.Column(sa.Integer(), sa.ForeignKey("studies.id", ondelete="CASCADE"), primary_key=True)
    )
    trial_index: int = Field(sa_column=sa.Column(sa.Integer(), primary_key=True, autoincrement=False))
    params: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    metrics: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    status: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    error: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    duration_s: float | None = Field(default=None, sa_column=sa.Column(sa.Double(), nullable=True))
    created_at: datetime = Field(sa_column=sa.Column(sa.DateTime(), nullable=False))
    total_return: float | None = Field(default=None, sa_column=sa.Column(sa.Double(), nullable=True))
    cagr: float | None = Field(default=None, sa_column=sa.Column(sa.Double(), nullable=True))
    sharpe: float | None = Field(default=None, sa_column=sa.Column(sa.Double(), nullable=True))
    max_drawdown: float | None = Field(default=None, sa_column=sa.Column(sa.Double(), nullable=True))
    n_trades: int | None = Field(default=None, sa_column=sa.Column(sa.Integer(), nullable=True))


class PresetRow(StoreModel, table=True):
    __tablename__ = "presets"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False, unique=True))
    config: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    is_default: bool = Field(sa_column=sa.Column(sa.Boolean(), nullable=False))
    created_at: datetime = Field(sa_column=sa.Column(sa.DateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=sa.Column(sa.DateTime(), nullable=False))


class AuditRow(StoreModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, sa_column=sa.Column(BigId, primary_key=True, autoincrement=True))
    at: datetime = Field(sa_column=sa.Column(sa.DateTime(), nullable=False, index=True))
    actor: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    action: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    entity: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    entity_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(100), nullable=True))
    details: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))


datasets = DatasetRow.__table__
dataset_data = DatasetDataRow.__table__
runs = RunRow.__table__
run_trades = RunTradesRow.__table__
studies = StudyRow.__table__
trials = TrialRow.__table__
presets = PresetRow.__table__
audit_log = AuditRow.__table__



# -- positions held for real ----------------------------------------------------------------------------------


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
    projected_stock_share: float | None = Field(default=None, sa_column=_money(nullable=True))
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
    # A regular and a special dividend may share an ex-date; the same dividend booked twice may not.
    __table_args__ = (sa.UniqueConstraint("position_id", "ex_date", "amount_per_share"),)

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


# -- scheduled reports and their deliveries ---------------------------------------------------------------------


class ScheduleRow(StoreModel, table=True):
    __tablename__ = "schedules"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False, unique=True))
    subject: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))  # JSON: what, which id, format, options
    cadence: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))  # as the user wrote it
    cron: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))  # the cadence as a 5-field cron
    timezone: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    destinations: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))  # JSON list of destination texts
    status: str = Field(sa_column=sa.Column(sa.String(20), nullable=False, index=True))
    starts_at: datetime = Field(sa_column=sa.Column(sa.DateTime(), nullable=False))
    created_at: datetime = Field(sa_column=sa.Column(sa.DateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=sa.Column(sa.DateTime(), nullable=False))


class DeliveryRow(StoreModel, table=True):
    """One report sent (or being sent) to one destination. ``(schedule_id, slot, destination)`` is unique: the
    row is claimed before anything is sent, so two scheduler processes can never both send one slot."""

    __tablename__ = "deliveries"
    __table_args__ = (sa.UniqueConstraint("schedule_id", "slot", "destination"),)

    id: int | None = Field(default=None, sa_column=sa.Column(BigId, primary_key=True, autoincrement=True))
    schedule_id: int | None = Field(default=None, sa_column=sa.Column(
        sa.Integer(), sa.ForeignKey("schedules.id", ondelete="SET NULL"), nullable=True, index=True))
    slot: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(), nullable=True))
    destination: str = Field(sa_column=sa.Column(sa.String(1000), nullable=False))
    subject: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    status: str = Field(sa_column=sa.Column(sa.String(20), nullable=False, index=True))
    attempts: int = Field(sa_column=sa.Column(sa.Integer(), nullable=False))
    next_attempt_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(), nullable=True))
    claimed_by: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    claimed_at: datetime = Field(sa_column=sa.Column(sa.DateTime(), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(), nullable=True))
    filename: str | None = Field(default=None, sa_column=sa.Column(sa.String(200), nullable=True))
    size_bytes: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger(), nullable=True))
    error: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    created_at: datetime = Field(sa_column=sa.Column(sa.DateTime(), nullable=False, index=True))


# -- portfolios of position cells (docs/strategy.md §12) ----------------------------------------------------------


class PortfolioRow(StoreModel, table=True):
    """A stored portfolio backtest: its rules and cells (each naming a stored dataset) and its metrics; the
    timeline is recomputed by a re-run, like a run's."""

    __tablename__ = "portfolios"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False, index=True))
    notes: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    rules: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))  # JSON: PortfolioRules.to_dict()
    cells: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))  # JSON: [{name, dataset_id, weight, config}]
    engine_version: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    created_at: datetime = Field(sa_column=sa.Column(sa.DateTime(), nullable=False, index=True))
    metrics: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    total_return: float | None = Field(default=None, sa_column=sa.Column(sa.Double(), nullable=True, index=True))
    sharpe: float | None = Field(default=None, sa_column=sa.Column(sa.Double(), nullable=True, index=True))


class PortfolioTradesRow(StoreModel, table=True):
    __tablename__ = "portfolio_trades"

    portfolio_id: int = Field(
        sa_column=sa.Column(sa.Integer(), sa.ForeignKey("portfolios.id", ondelete="CASCADE"), primary_key=True)
    )
    n_rows: int = Field(sa_column=sa.Column(sa.Integer(), nullable=False))
    data: bytes = Field(sa_column=sa.Column(sa.LargeBinary(), nullable=False))


portfolios = PortfolioRow.__table__
portfolio_trades = PortfolioTradesRow.__table__

schedules = ScheduleRow.__table__
deliveries = DeliveryRow.__table__

SCHEDULE_TABLES: tuple[str, ...] = ("schedules", "deliveries")

# Every table of the store (the schema check at start-up compares the database with this list).
TABLES: tuple[str, ...] = tuple(metadata.tables)
