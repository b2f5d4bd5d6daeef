"""Engines, connection settings, short transactions with retry, and translation of driver errors.

* One engine per URL per process (re-created after ``fork``), so a pool is never shared across processes.
* SQLite: WAL journal, ``busy_timeout`` 30 s, foreign keys on, ``synchronous=FULL``; write transactions start with
  ``BEGIN IMMEDIATE`` so two writers queue on the lock instead of failing when one upgrades a read lock.
* Every unit of work runs in its own short transaction (:func:`run_transaction`) and is retried with exponential
  backoff and jitter on a transient failure (:func:`is_transient`: a lock, deadlock or serialisation failure, a
  refused, reset or dropped connection, a failed DNS look-up, a server shutting down or starting up) for a budget
  of ``$VBL_DB_RETRY_BUDGET_S`` seconds (:func:`retry_budget_s`, default 60), so a PostgreSQL restart is waited out.
* Driver errors become :mod:`storage.errors` with a message that says what to do.
* Read-only databases (:func:`read_only_url`): a SQLite file on a read-only medium, a ``file:`` URI with
  ``mode=ro`` or ``immutable=1``, or a store opened with ``read_only=True`` is read through a read-only
  connection; a write transaction on it raises :class:`StoreReadOnly` before it reaches the database.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url

from storage.errors import (
    ConflictError,
    StoreBusy,
    StoreCorrupt,
    StoreError,
    StoreFull,
    StoreReadOnly,
    StoreSchemaError,
    StoreUnavailable,
)

T = TypeVar("T")

ENV_VAR = "VBL_DATABASE_URL"
SQLITE_BUSY_TIMEOUT_S = 30.0
# How long a transaction keeps retrying transient failures. A PostgreSQL restart (fast stop, start, crash recovery)
# takes a few seconds to a minute; the budget is what a writer may wait before it gives up with StoreUnavailable.
RETRY_BUDGET_VAR = "VBL_DB_RETRY_BUDGET_S"
DEFAULT_RETRY_BUDGET_S = 60.0
MAX_RETRY_BUDGET_S = 3600.0
FIRST_RETRY_DELAY_S = 0.01  # doubled after every failed attempt, up to MAX_RETRY_DELAY_S
MAX_RETRY_DELAY_S = 1.0  # a restarted server is noticed within about a second
_REPO_ROOT = Path(__file__).resolve().parent.parent

_engines: dict[str, tuple[int, Engine]] = {}
_engines_lock = threading.Lock()
_inherited: list[Engine] = []
_reached: set[URL] = set()  # PostgreSQL URLs this process has connected to at least once
_SQLITE_READ_ONLY_FLAGS = {"mode": "ro", "immutable": "1"}  # either one in a file: URI opens the file read-only
_PG_READ_ONLY_OPTION = "-c default_transaction_read_only=on"  # the server refuses writes in every transaction


def retry_budget_s() -> float:
    """Seconds a transaction keeps retrying transient failures: ``$VBL_DB_RETRY_BUDGET_S``, default 60, between 0
    (never retry) and 3600. Read at every transaction (not once per engine), so the settings in force are the
    environment's now.

    Raises:
        StoreUnavailable: the variable is not a number of seconds in that range (the message says what to set).
    """
    raw = os.environ.get(RETRY_BUDGET_VAR, "").strip()
    if not raw:
        return DEFAULT_RETRY_BUDGET_S
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0 <= value <= MAX_RETRY_BUDGET_S:  # also refuses NaN
        raise StoreUnavailable(
            f"{RETRY_BUDGET_VAR}={raw!r} is not a retry budget: set it to a number of seconds between 0 and "
            f"{MAX_RETRY_BUDGET_S:g} (default {DEFAULT_RETRY_BUDGET_S:g}), or unset it"
        )
    return value


def default_database_url() -> str:
    """``$VBL_DATABASE_URL`` if set, else a SQLite file ``var/vbl.sqlite3`` in the (git-ignored) ``var/`` folder."""
    url = os.environ.get(ENV_VAR, "").strip()
    if url:
        return url
    return f"sqlite:///{_REPO_ROOT / 'var' / 'vbl.sqlite3'}"


def describe_url(url: str | URL) -> str:
    """The URL with its password masked (for messages)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # pragma: no cover - malformed URL text
        return str(url)


def sqlite_path(url: str | URL) -> Path | None:
    """The file of a SQLite URL (a plain path or a ``file:`` URI), or ``None`` (in memory, another backend)."""
    try:
        parsed = make_url(url)
    except Exception:
        return None
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        rest = urllib.parse.urlsplit(database)
        if parsed.query.get("mode") == "memory" or not rest.path:
            return None
        return Path(urllib.parse.unquote(rest.path)).expanduser().resolve()
    return Path(database).expanduser().resolve()


def url_is_read_only(url: str | URL) -> bool:
    """True for a SQLite ``file:`` URI with ``mode=ro`` or ``immutable=1``, and for any URL made by
    :func:`read_only_url`."""
    try:
        parsed = make_url(url)
    except Exception:
        return False
    if parsed.get_backend_name() == "sqlite":
        return (parsed.database or "").startswith("file:") and any(
            parsed.query.get(k) == v for k, v in _SQLITE_READ_ONLY_FLAGS.items()
        )
    return parsed.query.get("options") == _PG_READ_ONLY_OPTION


def on_read_only_medium(path: Path) -> bool:
    """True when the existing file ``path`` cannot be written where it is: a file system mounted read-only (a CD, a
    read-only share or volume), or a file or folder this user may not write. (``os.access`` also answers for root,
    who may write any file on a writable file system.)"""
    if not path.is_file():
        return False
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return True
    except OSError:
        pass
    return not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))


def opens_read_only(url: str) -> bool:
    """Whether a store on ``url`` must be opened read-only: the URL says so, or its SQLite file is on a read-only
    medium."""
    path = sqlite_path(url)
    return url_is_read_only(url) or (path is not None and on_read_only_medium(path))


def read_only_url(url: str) -> str:
    """``url`` opened read-only.

    SQLite: a ``file:`` URI with ``mode=ro``, plus ``immutable=1`` when the file is on a read-only medium and has no
    write-ahead log to replay (SQLite could not create the ``-shm`` file beside it there, so ``mode=ro`` alone fails;
    nothing can change such a file, which is what ``immutable`` promises). PostgreSQL: every transaction read-only.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return parsed.update_query_dict({"options": _PG_READ_ONLY_OPTION}).render_as_string(hide_password=False)
    path = sqlite_path(parsed)
    if path is None:
        return url
    query = {k: v for k, v in parsed.query.items() if k not in ("mode", "immutable", "uri")}
    query.update(mode="ro", uri="true")
    wal = path.with_name(path.name + "-wal")
    if parsed.query.get("immutable") == "1" or (
        on_read_only_medium(path) and not (wal.exists() and wal.stat().st_size > 0)
    ):
        query["immutable"] = "1"
    ro = URL.create("sqlite", database=f"file:{urllib.parse.quote(str(path))}", query=query)
    return ro.render_as_string(hide_password=False)


def get_engine(url: str) -> Engine:
    """The process's engine for ``url`` (created on first use, and again in a forked child)."""
    pid = os.getpid()
    with _engines_lock:
        cached = _engines.get(url)
        if cached is not None and cached[0] == pid:
            return cached[1]
        if cached is not None:
            # Inherited from the parent through fork(): its pooled connections belong to the parent. Keep the old
            # engine referenced (never used, never garbage-collected) so the child can neither use nor close them.
            _inherited.append(cached[1])
        engine = _create_engine(url)
        _engines[url] = (pid, engine)
        return engine


def dispose_engine(url: str) -> None:
    """Close the pooled connections of ``url``'s engine in this process (a later call re-creates it)."""
    with _engines_lock:
        cached = _engines.pop(url, None)
    if cached is not None and cached[0] == os.getpid():
        cached[1].dispose()


def _create_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise StoreUnavailable(
            f"{url!r} is not a database URL; set {ENV_VAR} to e.g. sqlite:///var/vbl.sqlite3 or "
            "postgresql+psycopg://user:password@host:5432/dbname"
        ) from exc
    backend = parsed.get_backend_name()
    read_only = url_is_read_only(parsed)
    if backend == "sqlite":
        return _create_sqlite_engine(parsed, read_only)
    if backend == "postgresql":
        if parsed.get_driver_name() in ("", "psycopg2"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        engine = sa.create_engine(
            parsed,
            pool_pre_ping=True,
            pool_size=5,
            max_overflow=5,
            connect_args={"connect_timeout": 10, "application_name": "vbl"},
        )

        @event.listens_for(engine, "connect")
        def _on_connect(_dbapi_connection: Any, _record: Any) -> None:
            # Once the server has been reached, a refused connection is a restart to wait out (run_transaction
            # retries it); before that it is a wrong address, reported at once.
            _reached.add(engine.url)

        if read_only:

            @event.listens_for(engine, "begin")
            def _on_begin(conn: Connection) -> None:
                _refuse_write(conn)

        return engine
    raise StoreUnavailable(
        f"unsupported database {backend!r} in {describe_url(parsed)}; use a sqlite:/// or postgresql+psycopg:// URL"
    )


def _refuse_write(conn: Connection) -> None:
    """Stop a write transaction on a read-only store before it starts, saying what still works."""
    if conn.get_execution_options().get("vbl_write", False):
        where = sqlite_path(conn.engine.url) or describe_url(conn.engine.url)
        raise StoreReadOnly(
            f"the database {where} is open read-only (a read-only medium, mode=ro or read_only=True): runs, studies "
            "and datasets can be listed, viewed and re-run, but nothing can be saved or changed; to save, copy the "
            f"database to a writable place and set {ENV_VAR} to the copy"
        )


def _create_sqlite_engine(url: URL, read_only: bool = False) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        folder = Path(database).expanduser().resolve().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreReadOnly(
                f"cannot create the database folder {folder} ({exc.strerror}); create it, make it writable, "
                f"or set {ENV_VAR} to a writable location"
            ) from exc
    engine = sa.create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
        pool_size=5,
        max_overflow=5,
    )
    on_disk = sqlite_path(url)
    identity: dict[str, tuple[int, int]] = {}  # the file this engine opened: (device, inode)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see _on_begin)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA synchronous = FULL")
            if read_only:
                return  # a read-only file keeps the journal mode it was written with
            row = cursor.execute("PRAGMA journal_mode").fetchone()
            if row and str(row[0]).lower() not in ("wal", "memory"):
                try:
                    cursor.execute("PRAGMA journal_mode = WAL")
                except sqlite3.OperationalError as exc:
                    if "readonly" not in str(exc).lower() and "read-only" not in str(exc).lower():
                        raise
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if read_only:
            _refuse_write(conn)
        if on_disk is not None:
            _check_same_file(on_disk, identity)
        write = conn.get_execution_options().get("vbl_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _check_same_file(path: Path, identity: dict[str, tuple[int, int]]) -> None:
    """Refuse to go on when the SQLite file this engine opened was deleted or replaced under it: an open connection
    would keep writing to the unlinked file (lost at close) and a new one would open a different database."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        if not identity:
            return  # not created yet: the first connection creates it
        raise StoreUnavailable(
            f"the database file {path} was deleted while it was in use; nothing more is written. Restore it from a "
            "backup (or the -wal file beside it) and start again"
        ) from None
    current = (stat.st_dev, stat.st_ino)
    known = identity.setdefault("file", current)
    if known != current:
        raise StoreUnavailable(
            f"the database file {path} was replaced by another file while it was in use; nothing more is written "
            "to either. Start again to use the new file, or put the old one back"
        )


def run_transaction(engine: Engine, fn: Callable[[Connection], T], *, write: bool) -> T:
    """Run ``fn(connection)`` in one short transaction, committed if it returns, rolled back if it raises.

    Transient failures (:func:`is_transient`) are retried in a fresh transaction, re-running ``fn`` (which must
    therefore only touch the database), after pauses that start at 10 ms and double up to 1 s, each with ±50 %
    jitter so that processes that failed together do not retry together, for at most :func:`retry_budget_s`
    seconds in all. A server this process has never reached is not waited for (a wrong host or port fails at once);
    one it has reached is (a restart, a network blip). When the budget runs out the error names it and what to do;
    other driver errors are raised at once as :class:`StoreError` subclasses with actionable messages; errors
    raised by ``fn`` itself pass through unchanged.
    """
    budget = retry_budget_s()
    deadline = time.monotonic() + budget
    delay = FIRST_RETRY_DELAY_S
    while True:
        try:
            with engine.connect() as conn:
                conn.execution_options(vbl_write=write)
                with conn.begin():
                    return fn(conn)
        except sa.exc.DBAPIError as exc:
            if not is_transient(exc) or (_never_answered(exc) and engine.url not in _reached):
                raise translate_error(exc, engine.url) from exc
            left = deadline - time.monotonic()
            if left <= 0:
                raise retries_exhausted(exc, engine.url, budget) from exc
            if _is_connection_error(exc):
                engine.pool.dispose()  # the other pooled connections went down with this one
            time.sleep(min(delay * (0.5 + random.random()), left))
            delay = min(delay * 2, MAX_RETRY_DELAY_S)


def _sqlstate(exc: BaseException) -> str:
    orig = getattr(exc, "orig", exc)
    return str(getattr(orig, "sqlstate", "") or "")


def _sqlite_name(exc: BaseException) -> str:
    orig = getattr(exc, "orig", exc)
    return str(getattr(orig, "sqlite_errorname", "") or "")


def _message(exc: BaseException) -> str:
    return str(getattr(exc, "orig", exc)).lower()


def _is_sqlite(exc: BaseException) -> bool:
    return isinstance(getattr(exc, "orig", exc), sqlite3.Error)


# A failed connect carries no SQLSTATE (libpq reports it before any server message exists), nor does a connection
# lost mid-query: only the message tells what happened. Lower-case fragments of libpq's and psycopg's messages.
_NEVER_ANSWERED = (  # nothing answered at that address: a server that is down, or a wrong host or port
    "could not translate host name", "name or service not known", "temporary failure in name resolution",
    "failed to resolve host", "nodename nor servname", "no address associated with hostname",
    "connection refused", "could not connect to server", "no route to host", "network is unreachable",
    "timeout expired", "connection timed out",
)
_DROPPED = (  # a server that answered went away, or is on its way down or up
    "server closed the connection unexpectedly", "terminating connection due to administrator command",
    "connection reset", "broken pipe", "the database system is shutting down", "the database system is starting up",
    "the database system is in recovery mode", "the database system is not yet accepting connections",
    "consuming input failed", "sending query failed", "connection is lost", "could not receive data from server",
    "could not send data to server", "lost synchronization with server", "ssl syscall error", "eof detected",
    "too many clients already", "too many connections",  # full for now: other clients will disconnect
)
_REFUSED_FOR_GOOD = (  # the server answered and said no: retrying does not change its mind
    "password authentication failed", "authentication failed", "no pg_hba.conf entry", "does not exist",
    "permission denied",
)
_TRANSIENT_SQLSTATES = {
    "40001",  # serialization_failure
    "40P01",  # deadlock_detected
    "55P03",  # lock_not_available
    "53300",  # too_many_connections: others will close theirs
    "57P01",  # admin_shutdown: "terminating connection due to administrator command" (pg_ctl stop -m fast)
    "57P02",  # crash_shutdown: another server process crashed, the server restarts
    "57P03",  # cannot_connect_now: the server is starting up or shutting down
}


def _never_answered(exc: sa.exc.DBAPIError) -> bool:
    """A connect that reached no server (refused, unresolvable, timed out): a server restarting, or a wrong
    address, which is why :func:`run_transaction` only waits it out for a server this process has reached."""
    state = _sqlstate(exc)
    if state in {"08001", "08004"}:
        return True
    message = _message(exc)
    return not state and not _is_sqlite(exc) and any(p in message for p in _NEVER_ANSWERED)


def _is_connection_error(exc: sa.exc.DBAPIError) -> bool:
    """The connection is gone or never came (not a lock or a conflict inside a live session)."""
    if _is_sqlite(exc):
        return False
    state = _sqlstate(exc)
    if state.startswith("08") or state in {"57P01", "57P02", "57P03"}:
        return True
    message = _message(exc)
    return bool(exc.connection_invalidated) or (
        not state and any(p in message for p in _NEVER_ANSWERED + _DROPPED)
    )


def is_transient(exc: sa.exc.DBAPIError) -> bool:
    """True for errors that go away on retry: locks, deadlocks, serialisation failures, too many connections, and
    connections refused, reset or dropped, host names that did not resolve, a server shutting down or starting up
    (SQLSTATE class 08, 57P01, 57P02, 57P03, or the driver's message when there is no SQLSTATE). Refusals that a
    retry cannot change (a wrong password, an unknown database or role) are not transient."""
    if _is_sqlite(exc):
        name = _sqlite_name(exc)
        message = _message(exc)
        return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in message \
            or "database table is locked" in message
    state = _sqlstate(exc)
    if state in _TRANSIENT_SQLSTATES or state.startswith("08"):
        return True
    if state:
        return False
    message = _message(exc)
    if any(p in message for p in _REFUSED_FOR_GOOD):
        return False
    return bool(exc.connection_invalidated) or any(p in message for p in _NEVER_ANSWERED + _DROPPED)


def retries_exhausted(exc: sa.exc.DBAPIError, url: str | URL, budget_s: float) -> StoreError:
    """The error raised when a transient failure outlasted the retry budget: what kept failing, for how long, and
    what to do (bring the server back, find the process holding the lock, or raise ``$VBL_DB_RETRY_BUDGET_S``)."""
    where = describe_url(url)
    orig = getattr(exc, "orig", exc)
    message = " ".join(str(orig).split()) or type(orig).__name__
    waited = f"the retry budget of {budget_s:g} s ({RETRY_BUDGET_VAR})"
    if _is_connection_error(exc):
        return StoreUnavailable(
            f"the database {where} stayed unreachable for {waited}: {message}. Check that the server is running "
            f"and reachable, then try again (an interrupted study can be resumed); if its restarts take longer, "
            f"raise {RETRY_BUDGET_VAR}"
        )
    if _is_sqlite(exc):
        return StoreBusy(
            f"the database {where} stayed locked by another program for {waited}; close other programs using it "
            f"(or a stuck process) and try again, or raise {RETRY_BUDGET_VAR}"
        )
    return StoreBusy(
        f"the database {where} stayed too busy for {waited} ({message}); try again when fewer programs are writing "
        f"to it, or raise {RETRY_BUDGET_VAR}"
    )


def translate_error(exc: BaseException, url: str | URL) -> StoreError:
    """A :class:`StoreError` with an actionable message for a driver error raised while using ``url``."""
    where = describe_url(url)
    orig = getattr(exc, "orig", exc)
    message = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    name = _sqlite_name(exc)
    state = _sqlstate(exc)
    low = message.lower()
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in low:
        return StoreBusy(
            f"the database {where} is locked by another program; close other programs using it (or a stuck "
            "process) and try again"
        )
    if name.startswith("SQLITE_READONLY") or state in {"25006"} or "readonly database" in low or "read-only" in low:
        return StoreReadOnly(
            f"the database {where} is read-only ({message}); make the file and its folder writable, or set "
            f"{ENV_VAR} to a writable database"
        )
    if name == "SQLITE_FULL" or (state.startswith("53") and state != "53300") or "disk is full" in low:
        return StoreFull(
            f"the disk holding the database {where} is full ({message}); free some space (or delete old runs and "
            "studies) and try again; nothing was half-written"
        )
    if name in {"SQLITE_NOTADB", "SQLITE_CORRUPT"} or name.startswith("SQLITE_CORRUPT") or "not a database" in low \
            or "malformed" in low:
        return StoreCorrupt(
            f"the database {where} is damaged ({message}); move the file aside (a new empty database is then created "
            "on start) or restore it from a backup"
        )
    if "no such table" in low or "no such column" in low or state in {"42P01", "42703"}:
        return StoreSchemaError(
            f"the database {where} lacks part of the schema ({message}); restart the app or run "
            "`python -m storage upgrade` to migrate it; if that does not help the database was altered by hand: "
            "restore it from a backup or move it aside"
        )
    if name == "SQLITE_CANTOPEN" or "unable to open database" in low:
        return StoreUnavailable(
            f"cannot open the database file {where} ({message}); check that the folder exists and is writable, or "
            f"set {ENV_VAR} to another location"
        )
    if name == "SQLITE_PERM" or state == "42501":
        return StoreReadOnly(f"permission denied on the database {where} ({message}); grant write access")
    if isinstance(exc, sa.exc.IntegrityError):
        return ConflictError(f"the change clashes with stored data ({message})")
    if state in {"28000", "28P01"} or "password authentication failed" in low or "no pg_hba.conf entry" in low:
        return StoreUnavailable(
            f"the database server {where} refused the login ({message}); check the user name and password in "
            f"{ENV_VAR} (and the server's pg_hba.conf)"
        )
    if state.startswith("08") or (isinstance(exc, sa.exc.OperationalError) and (
            "connect" in low or "server" in low or _is_connection_error(exc))):
        return StoreUnavailable(
            f"cannot reach the database {where} ({message}); check that the server is running and that {ENV_VAR} "
            "is right"
        )
    if name.startswith("SQLITE_IOERR"):
        return StoreUnavailable(
            f"the disk refused to read or write the database {where} ({message}); check the disk and free space"
        )
    return StoreError(f"database error on {where}: {message}")
