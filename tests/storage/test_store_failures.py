"""Broken databases give one clear StoreError saying what to do (never a raw driver traceback)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from storage import (
    Store,
    StoreCorrupt,
    StoreError,
    StoreFull,
    StoreReadOnly,
    StoreSchemaError,
    StoreUnavailable,
    TrialInput,
)
from storage.database import default_database_url, dispose_engine


def _assert_actionable(error: StoreError, *phrases: str) -> None:
    text = str(error)
    assert "Traceback" not in text and "\n" not in text
    for phrase in phrases:
        assert phrase in text, text


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _seed(store: Store) -> int:
    import pandas as pd

    idx = pd.date_range("2021-01-04", periods=10, freq="B", name="timestamp")
    dataset_id = store.save_dataset(pd.DataFrame({"close": [10.0 + i for i in range(10)]}, index=idx), name="d",
                                    symbol="D")
    return store.create_study(dataset_id, search_space={}, method="grid", objective="sharpe")


def _rows(n: int, start: int = 0) -> list[TrialInput]:
    return [TrialInput(index=start + i, params={"p": "x" * 200}, metrics={"sharpe": i / 7}) for i in range(n)]


def test_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "vbl.sqlite3"
    path.write_bytes(b"this is not a database, it is a text file that someone renamed\n" * 100)
    with pytest.raises(StoreCorrupt) as info:
        Store(_sqlite_url(path))
    _assert_actionable(info.value, "damaged", "move the file aside", "backup")


def test_damaged_pages(tmp_path: Path) -> None:
    path = tmp_path / "vbl.sqlite3"
    store = Store(_sqlite_url(path))
    study_id = _seed(store)
    store.save_trials(study_id, _rows(3000))
    dispose_engine(store.url)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(3 * page, len(data) - page, 2 * page):  # scribble over every other page after the schema
        data[offset : offset + page] = b"\xde\xad\xbe\xef" * (page // 4)
    path.write_bytes(bytes(data))
    with pytest.raises(StoreCorrupt) as info:
        broken = Store(_sqlite_url(path))
        broken.list_trials(study_id, sort="-sharpe")
        list(broken.iter_trials(study_id))
    _assert_actionable(info.value, "damaged")


def test_read_only_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "vbl.sqlite3"
    store = Store(_sqlite_url(path))
    study_id = _seed(store)
    dispose_engine(store.url)
    read_only = Store(f"sqlite:///file:{path}?mode=ro&uri=true")
    assert read_only.count_trials(study_id) == 0  # reading works
    with pytest.raises(StoreReadOnly) as info:
        read_only.save_trials(study_id, _rows(10))
    _assert_actionable(info.value, "read-only", "writable")


def test_read_only_postgresql(pg_server) -> None:
    url = pg_server.create_database()
    store = Store(url)
    study_id = _seed(store)
    dispose_engine(url)
    database = sa.make_url(url).database
    with psycopg.connect(f"host=127.0.0.1 port={pg_server.port} user=vbl dbname=postgres", autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{database}" SET default_transaction_read_only = on')
    with pytest.raises(StoreReadOnly) as info:
        Store(url).save_trials(study_id, _rows(10))
    _assert_actionable(info.value, "read-only", "writable")


def test_disk_full(tmp_path: Path) -> None:
    path = tmp_path / "vbl.sqlite3"
    store = Store(_sqlite_url(path))
    study_id = _seed(store)
    store.save_trials(study_id, _rows(100))
    pages = store._read(lambda conn: conn.exec_driver_sql("PRAGMA page_count").scalar())
    dispose_engine(store.url)
    # The database may grow by only a few pages: SQLite then fails with SQLITE_FULL exactly as on a full disk.
    sa.event.listen(store.engine, "connect", lambda dbapi, _rec: dbapi.execute(f"PRAGMA max_page_count = {pages + 5}"))
    with pytest.raises(StoreFull) as info:
        store.save_trials(study_id, _rows(5000, start=100))
    _assert_actionable(info.value, "full", "free some space")
    dispose_engine(store.url)
    assert Store(store.url).count_trials(study_id) == 100  # nothing half-written


def test_missing_table(db_url: str) -> None:
    store = Store(db_url)
    study_id = _seed(store)
    store._write(lambda conn: conn.exec_driver_sql("DROP TABLE trials"))
    with pytest.raises(StoreSchemaError) as info:
        store.count_trials(study_id)
    _assert_actionable(info.value, "schema", "python -m storage upgrade")
    dispose_engine(db_url)
    with pytest.raises(StoreSchemaError) as info:
        Store(db_url)
    _assert_actionable(info.value, "trials", "backup")


def test_newer_schema_is_refused(db_url: str) -> None:
    store = Store(db_url)
    store._write(lambda conn: conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(StoreSchemaError) as info:
        Store(db_url)
    _assert_actionable(info.value, "newer version", "upgrade the app")


def test_server_down() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(StoreUnavailable) as info:
        Store(f"postgresql+psycopg://vbl@127.0.0.1:{port}/nothing")
    _assert_actionable(info.value, "server is running", "VBL_DATABASE_URL")


def test_unusable_locations() -> None:
    with pytest.raises(StoreError) as info:
        Store("sqlite:////dev/null/inside/a/file.sqlite3")
    _assert_actionable(info.value, "VBL_DATABASE_URL")
    with pytest.raises(StoreUnavailable) as info:
        Store("mysql://someone@localhost/db")
    _assert_actionable(info.value, "sqlite", "postgresql")


def test_default_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("VBL_DATABASE_URL", raising=False)
    default = default_database_url()
    assert default.startswith("sqlite:///") and default.endswith("/var/vbl.sqlite3")
    url = _sqlite_url(tmp_path / "elsewhere" / "db.sqlite3")
    monkeypatch.setenv("VBL_DATABASE_URL", url)
    assert default_database_url() == url
    store = Store()
    assert store.url == url and (tmp_path / "elsewhere" / "db.sqlite3").exists()
    pragmas = store._read(lambda conn: [conn.exec_driver_sql(f"PRAGMA {p}").scalar() for p in
                                        ("journal_mode", "busy_timeout", "foreign_keys")])
    assert pragmas[0] == "wal" and pragmas[1] >= 10_000 and pragmas[2] == 1


def test_waits_for_a_lock_then_succeeds(tmp_path: Path) -> None:
    import threading
    import time

    path = tmp_path / "vbl.sqlite3"
    store = Store(_sqlite_url(path))
    study_id = _seed(store)
    blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock for a second
    threading.Timer(1.0, lambda: blocker.execute("COMMIT")).start()
    start = time.monotonic()
    assert store.save_trials(study_id, _rows(10)) == 10
    assert time.monotonic() - start >= 0.9
    blocker.close()


def test_lock_held_too_long_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from storage import StoreBusy, database

    path = tmp_path / "vbl.sqlite3"
    study_id = _seed(Store(_sqlite_url(path)))
    dispose_engine(_sqlite_url(path))
    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_S", 0.1)
    monkeypatch.setenv("VBL_DB_RETRY_BUDGET_S", "0.5")
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreBusy) as info:
            Store(_sqlite_url(path)).save_trials(study_id, _rows(10))
        _assert_actionable(info.value, "locked", "try again", "retry budget of 0.5 s (VBL_DB_RETRY_BUDGET_S)")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        dispose_engine(_sqlite_url(path))
