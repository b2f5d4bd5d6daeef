"""Shared plumbing of :class:`storage.Store`: the engine, short transactions, timestamps and the audit trail."""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from storage import codec
from storage.database import get_engine, run_transaction
from storage.errors import NotFound
from storage.models import audit_log

T = TypeVar("T")

AUDIT_ACTIONS: tuple[str, ...] = ("create", "update", "delete", "run", "export", "deliver", "alert")


def utcnow() -> datetime:
    """The current time as naive UTC (how every timestamp is stored)."""
    return datetime.now(UTC).replace(tzinfo=None)


def aware(value: datetime | None) -> datetime | None:
    """A stored naive-UTC timestamp as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):  # pragma: no cover - defensive; SQLAlchemy parses SQLite's text timestamps
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def naive_utc(value: datetime | None) -> datetime | None:
    """An aware datetime (or a naive one taken as UTC) as naive UTC for storage and comparisons."""
    if value is None:
        return None
    return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)


def default_actor() -> str:
    """``$VBL_ACTOR`` if set, else the operating-system user name."""
    actor = os.environ.get("VBL_ACTOR", "").strip()
    if actor:
        return actor
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no user database in some containers
        return "unknown"


class StoreBase:
    """Engine access and transaction helpers used by every part of the store."""

    url: str
    actor: str

    @property
    def engine(self) -> Engine:
        """This process's SQLAlchemy engine for the store's URL (internal; use the store's methods)."""
        return get_engine(self.url)

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    def _read(self, fn: Callable[[Connection], T]) -> T:
        return run_transaction(self.engine, fn, write=False)

    def _write(self, fn: Callable[[Connection], T]) -> T:
        return run_transaction(self.engine, fn, write=True)

    def _audit(
        self,
        conn: Connection,
        action: str,
        entity: str,
        entity_id: Any = None,
        details: Mapping[str, Any] | None = None,
    ) -> int:
        if action not in AUDIT_ACTIONS:
            raise ValueError(f"audit action must be one of {', '.join(AUDIT_ACTIONS)}, got {action!r}")
        result = conn.execute(
            sa.insert(audit_log).values(
                at=utcnow(),
                actor=self.actor,
                action=action,
                entity=entity,
                entity_id=None if entity_id is None else str(entity_id),
                details=codec.dumps(dict(details or {})),
            )
        )
        return int(result.inserted_primary_key[0])


def require(row: T | None, what: str, key: Any) -> T:
    """``row`` or :class:`NotFound` saying which ``what`` with ``key`` is missing."""
    if row is None:
        raise NotFound(f"no {what} with id {key!r} in the database; it may have been deleted (refresh the list)")
    return row
