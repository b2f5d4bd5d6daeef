"""Schema migrations (Alembic, run programmatically; the scripts are in ``storage/migrations``).

:func:`upgrade` is called by ``Store(url)`` on start: it is a cheap read when the database is already current, and
otherwise migrates under a lock (SQLite ``BEGIN IMMEDIATE``, PostgreSQL advisory lock) so several processes that
start at once migrate exactly once. New revision: ``python -m storage revision -m "what changed"``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from storage.database import describe_url, run_transaction
from storage.errors import StoreSchemaError
from storage.models import TABLES, metadata

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_PG_LOCK_KEY = 0x56424C5354  # "VBLST"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic ``Config`` for the store's migration scripts (optionally bound to an open connection)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest migration revision shipped with this code."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's revision (``None`` for an empty database)."""
    return run_transaction(engine, lambda conn: MigrationContext.configure(conn).get_current_revision(), write=False)


def upgrade(engine: Engine) -> bool:
    """Bring the database to the newest schema. Returns True if a migration ran.

    Raises :class:`StoreSchemaError` if the database was written by a newer version of the app.
    """
    head = head_revision()
    known = {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    current = current_revision(engine)
    if current == head:
        return False
    if current is not None and current not in known:
        raise StoreSchemaError(
            f"the database {describe_url(engine.url)} has schema revision {current!r}, which this version of the app "
            "does not know (it was written by a newer version); upgrade the app or use another database"
        )

    def migrate(conn: Connection) -> bool:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        if MigrationContext.configure(conn).get_current_revision() == head:
            return False  # another process migrated while we waited for the lock
        command.upgrade(alembic_config(conn), "head")
        return True

    return run_transaction(engine, migrate, write=True)


def missing_tables(engine: Engine) -> list[str]:
    """The store's tables that the database lacks (empty when the schema is complete)."""
    present = set(run_transaction(engine, lambda conn: sa.inspect(conn).get_table_names(), write=False))
    return [t for t in TABLES if t not in present]


def schema_differences(engine: Engine) -> list[Any]:
    """Alembic's comparison of the database schema with the models (empty when they match)."""
    return run_transaction(
        engine,
        lambda conn: compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata),
        write=False,
    )
