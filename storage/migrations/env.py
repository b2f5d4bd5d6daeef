"""Alembic environment for the run store. Run programmatically by :func:`storage.migrate.upgrade` (no alembic.ini).

The caller hands over an open connection (in ``config.attributes["connection"]``) that already holds the
migration lock and a transaction, so concurrent app starts never migrate twice.
"""

from __future__ import annotations

from alembic import context

from storage.models import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when someone runs the alembic CLI by hand
    raise RuntimeError("run migrations with `python -m storage upgrade` (or storage.migrate.upgrade)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
