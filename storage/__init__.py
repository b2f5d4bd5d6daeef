"""Run store: persistence for datasets, backtest runs, optimisation studies and trials, presets, the audit log and
positions held for real (:class:`PositionsAPI`, opened with the strategy's rules by ``usecases.ledger``).

Pages, the CLI and workers use only :class:`Store` (see :mod:`storage.store` for an example) and the value objects
and errors exported here, never database sessions. Databases: a SQLite file (default ``var/vbl.sqlite3``, or
``$VBL_DATABASE_URL``) or PostgreSQL (``postgresql+psycopg://user:password@host/db``). The schema is migrated
with Alembic on start; ``python -m storage upgrade`` does it by hand.
"""

from storage.database import ENV_VAR, default_database_url
from storage.errors import (
    ConflictError,
    NameShortened,
    NotFound,
    StoreBusy,
    StoreCorrupt,
    StoreError,
    StoreFull,
    StoreReadOnly,
    StoreSchemaError,
    StoreUnavailable,
)
from storage.portfolios import PORTFOLIO_SORT_KEYS, PortfolioRecord, StoredCell
from storage.positions import (
    ORDER_STATUSES,
    POSITION_STATUSES,
    AnchorChangeRecord,
    CashFlowRecord,
    DividendRecord,
    EventRecord,
    FillRecord,
    FillRejected,
    FillResult,
    OrderRecord,
    PositionHistory,
    PositionRecord,
    PositionRules,
    PositionsAPI,
)
from storage.presets import DEFAULT_PRESETS
from storage.runs import RUN_SORT_KEYS
from storage.schedules import (
    DELIVERY_FAILED,
    DELIVERY_RETRYING,
    DELIVERY_SENDING,
    DELIVERY_SENT,
    DELIVERY_STATUSES,
    SCHEDULE_ACTIVE,
    SCHEDULE_PAUSED,
    SCHEDULE_STATUSES,
    DeliveryRecord,
    ScheduleRecord,
)
from storage.store import Store
from storage.studies import STUDY_STATUSES, STUDY_TRANSITIONS, TRIAL_SORT_KEYS, TRIAL_STATUSES
from storage.values import (
    AuditEntry,
    DatasetFrames,
    DatasetInfo,
    FrozenMap,
    Preset,
    RunFilter,
    RunRecord,
    StudyRecord,
    TrialInput,
    TrialRecord,
)

__all__ = [
    "DEFAULT_PRESETS",
    "DELIVERY_FAILED",
    "DELIVERY_RETRYING",
    "DELIVERY_SENDING",
    "DELIVERY_SENT",
    "DELIVERY_STATUSES",
    "ENV_VAR",
    "ORDER_STATUSES",
    "PORTFOLIO_SORT_KEYS",
    "POSITION_STATUSES",
    "RUN_SORT_KEYS",
    "SCHEDULE_ACTIVE",
    "SCHEDULE_PAUSED",
    "SCHEDULE_STATUSES",
    "STUDY_STATUSES",
    "STUDY_TRANSITIONS",
    "TRIAL_SORT_KEYS",
    "TRIAL_STATUSES",
    "AnchorChangeRecord",
    "AuditEntry",
    "CashFlowRecord",
    "ConflictError",
    "DatasetFrames",
    "DatasetInfo",
    "DeliveryRecord",
    "DividendRecord",
    "EventRecord",
    "FillRecord",
    "FillRejected",
    "FillResult",
    "FrozenMap",
    "NameShortened",
    "NotFound",
    "OrderRecord",
    "PortfolioRecord",
    "PositionHistory",
    "PositionRecord",
    "PositionRules",
    "PositionsAPI",
    "Preset",
    "RunFilter",
    "RunRecord",
    "ScheduleRecord",
    "Store",
    "StoreBusy",
    "StoreCorrupt",
    "StoreError",
    "StoreFull",
    "StoreReadOnly",
    "StoreSchemaError",
    "StoreUnavailable",
    "StoredCell",
    "StudyRecord",
    "TrialInput",
    "TrialRecord",
    "default_database_url",
]
