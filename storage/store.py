"""The run store: the one API pages, the CLI and workers use to persist datasets, runs, studies, presets and the
audit log.

Usage::

    from storage import Store
    store = Store()                    # $VBL_DATABASE_URL or var/vbl.sqlite3; migrates the schema on start
    dataset_id = store.save_dataset(market_data)
    run_id = store.save_run(dataset_id, simulate(market_data.prices, config, market_data.dividends))
    store.list_runs({"dataset_id": dataset_id}, sort="-sharpe", limit=20)
    usecases.runs.rerun(store, run_id).timeline   # the timeline is recomputed (a use case), not stored

Every method runs its own short transaction (nothing is held between calls, so a page can keep a ``Store`` for the
whole session), retries transient locks with backoff, and raises :class:`storage.errors.StoreError` subclasses whose
message says what to do. A ``Store`` is cheap: it shares the process's engine for its URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from storage import codec
from storage._base import AUDIT_ACTIONS, aware, default_actor
from storage.database import (
    default_database_url,
    describe_url,
    dispose_engine,
    get_engine,
    opens_read_only,
    read_only_url,
    sqlite_path,
    translate_error,
)
from storage.datasets import DatasetsMixin
from storage.errors import StoreError, StoreSchemaError
from storage.migrate import alembic_config, current_revision, head_revision, missing_tables, upgrade
from storage.models import audit_log
from storage.portfolios import PortfoliosMixin
from storage.presets import PresetsMixin
from storage.runs import RunsMixin
from storage.schedules import SchedulesMixin
from storage.studies import StudiesMixin
from storage.values import AuditEntry, FrozenMap


class Store(DatasetsMixin, RunsMixin, StudiesMixin, PresetsMixin, SchedulesMixin, PortfoliosMixin):
    """Repository over one database (SQLite file or PostgreSQL).

    ``Store(url=None, *, actor=None, migrate=True, read_only=None)``: ``url`` defaults to
    :func:`default_database_url`; ``actor`` (recorded in the audit log) to ``$VBL_ACTOR`` or the OS user. With
    ``migrate`` the schema is upgraded to the newest revision, the default presets are seeded and the schema is
    checked; problems raise a :class:`~storage.errors.StoreError` saying what to do (corrupt file, read-only disk,
    missing table, server down).

    ``read_only`` (default: detected) opens the database read-only: listing, viewing and re-running work, every
    write raises :class:`~storage.errors.StoreReadOnly`. It is detected for a SQLite file on a read-only medium and
    for a ``file:`` URI with ``mode=ro`` or ``immutable=1``. A read-only store is never migrated: its schema must
    already be the one this version uses (:class:`~storage.errors.StoreSchemaError` otherwise).
    """

    def __init__(
        self, url: str | None = None, *, actor: str | None = None, migrate: bool = True, read_only: bool | None = None
    ) -> None:
        url = url or default_database_url()
        self.read_only = opens_read_only(url) if read_only is None else bool(read_only)
        self.url = read_only_url(url) if self.read_only else url
        self.actor = (actor or default_actor())[:100]
        try:
            engine = get_engine(self.url)
            if migrate and self.read_only:
                self._check_read_only_schema(engine)
            elif migrate:
                upgrade(engine)
                missing = missing_tables(engine)
                if missing:
                    raise StoreSchemaError(
                        f"the database {describe_url(self.url)} lacks table(s) {', '.join(missing)} although it is "
                        "marked as up to date (it was altered by hand); restore it from a backup or move the file "
                        "aside so that a new one is created"
                    )
                self._seed_presets()
        except StoreError:
            raise
        except sa.exc.DBAPIError as exc:
            raise translate_error(exc, self.url) from exc

    def _check_read_only_schema(self, engine: Engine) -> None:
        """A read-only database cannot be migrated: refuse one whose schema is not the newest, saying what to do."""
        where = sqlite_path(self.url) or describe_url(self.url)
        current, head = current_revision(engine), head_revision()
        if current is None:
            raise StoreSchemaError(
                f"the read-only database {where} holds no run store (no schema revision); check the path, or open a "
                "writable one once to create the store"
            )
        if current not in {r.revision for r in ScriptDirectory.from_config(alembic_config()).walk_revisions()}:
            raise StoreSchemaError(
                f"the read-only database {where} has schema revision {current!r}, which this version of the app does "
                "not know (it was written by a newer version); use that version of the app"
            )
        if current != head:
            raise StoreSchemaError(
                f"the read-only database {where} has schema revision {current!r}, older than this version's "
                f"{head!r}, and a read-only database cannot be upgraded; upgrade a writable copy (`python -m storage "
                "upgrade` with VBL_DATABASE_URL set to it) or use the version of the app that wrote it"
            )
        missing = missing_tables(engine)
        if missing:
            raise StoreSchemaError(
                f"the read-only database {where} lacks table(s) {', '.join(missing)} although it is marked as up to "
                "date (it was altered by hand); restore it from a backup"
            )

    def __repr__(self) -> str:
        return f"Store({describe_url(self.url)!r})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close this process's pooled connections to the database (a later call reconnects)."""
        dispose_engine(self.url)

    # -- audit log ----------------------------------------------------------------------------------------------

    def record_audit(
        self, action: str, entity: str, entity_id: Any = None, details: Mapping[str, Any] | None = None
    ) -> int:
        """Append an audit entry (e.g. ``record_audit("export", "run", 7, {"format": "xlsx"})``); returns its id.

        ``action`` is one of ``create, update, delete, run, export, deliver, alert``. The store records its own creates,
        updates, deletes, re-runs and deliveries; callers record exports and runs that are not saved.
        """
        if action not in AUDIT_ACTIONS:
            raise ValueError(f"audit action must be one of {', '.join(AUDIT_ACTIONS)}, got {action!r}")
        return self._write(lambda conn: self._audit(conn, action, entity, entity_id, details))

    def list_audit(
        self,
        *,
        entity: str | None = None,
        entity_id: Any = None,
        action: str | None = None,
        limit: int | None = 100,
    ) -> list[AuditEntry]:
        """Audit entries, newest first, optionally only those of one entity type, entity id or action."""
        query = sa.select(audit_log).order_by(audit_log.c.id.desc())
        if entity is not None:
            query = query.where(audit_log.c.entity == entity)
        if entity_id is not None:
            query = query.where(audit_log.c.entity_id == str(entity_id))
        if action is not None:
            query = query.where(audit_log.c.action == action)
        if limit is not None:
            query = query.limit(limit)
        rows = self._read(lambda conn: conn.execute(query).all())
        return [
            AuditEntry(
                id=r.id,
                at=aware(r.at),
                actor=r.actor,
                action=r.action,
                entity=r.entity,
                entity_id=r.entity_id,
                details=FrozenMap(codec.loads(r.details)),
            )
            for r in rows
        ]
