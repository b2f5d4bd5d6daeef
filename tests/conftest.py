"""Suite-wide fixtures."""

from __future__ import annotations

import pytest
from postgres_server import pg_server  # noqa: F401 - one PostgreSQL test server per xdist worker


@pytest.fixture(autouse=True)
def _private_database(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own SQLite store, so no test ever writes to the developer's ``var/`` database.

    Tests that need a particular database (PostgreSQL, a corrupt file) set ``VBL_DATABASE_URL`` themselves.
    """
    folder = tmp_path_factory.mktemp("store")
    monkeypatch.setenv("VBL_DATABASE_URL", f"sqlite:///{folder / 'vbl.sqlite3'}")
    monkeypatch.setenv("VBL_CACHE_DIR", str(folder / "cache"))
