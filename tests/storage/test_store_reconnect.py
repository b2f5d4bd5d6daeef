"""Connection failures are transient: a connect refused, reset or dropped, a host name that does not resolve, a
server shutting down or starting up are retried with exponential backoff for ``VBL_DB_RETRY_BUDGET_S`` seconds; a
refusal that a retry cannot change (a wrong password, an unknown database) and an address this process never
reached fail at once.

The retry tests run the real store on the suite's PostgreSQL server with a fake connect in front of the driver's
(SQLAlchemy's ``do_connect`` hook) that fails N times, and a fake clock, so every pause is known exactly.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg
import pytest
import sqlalchemy as sa
from postgres_server import PgServer
from sqlalchemy import event
from sqlalchemy.engine import Engine

from storage import Store, StoreUnavailable, database
from storage.database import FIRST_RETRY_DELAY_S, dispose_engine, get_engine, is_transient, retry_budget_s

DNS = "failed to resolve host 'db.internal': [Errno -3] Temporary failure in name resolution"
REFUSED = ('connection failed: connection to server at "127.0.0.1", port 5432 failed: Connection refused\n'
           "\tIs the server running on that host and accepting TCP/IP connections?")


def _error(orig: BaseException, *, invalidated: bool = False) -> sa.exc.DBAPIError:
    """The driver error ``orig`` as SQLAlchemy raises it."""
    cls = sa.exc.IntegrityError if isinstance(orig, psycopg.IntegrityError) else sa.exc.OperationalError
    return cls("SELECT 1", None, orig, connection_invalidated=invalidated)


def _pg(sqlstate: str, message: str) -> psycopg.Error:
    return psycopg.errors.lookup(sqlstate)(message)


@pytest.mark.parametrize("orig", [
    psycopg.OperationalError(DNS),
    psycopg.OperationalError('could not translate host name "db" to address: Name or service not known'),
    psycopg.OperationalError(REFUSED),
    psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly\n\tThis probably "
                             "means the server terminated abnormally before or while processing the request."),
    psycopg.OperationalError("could not receive data from server: Connection reset by peer"),
    psycopg.OperationalError('connection failed: connection to server at "10.0.0.5", port 5432 failed: timeout '
                             "expired"),
    psycopg.OperationalError('connection failed: connection to server at "127.0.0.1", port 5432 failed: FATAL:  '
                             "the database system is starting up"),
    _pg("57P01", "terminating connection due to administrator command"),
    _pg("57P02", "terminating connection because of crash of another server process"),
    _pg("57P03", "the database system is shutting down"),
    _pg("08006", "connection failure"),
    _pg("08001", "could not establish the connection"),
    _pg("40001", "could not serialize access due to concurrent update"),
    _pg("40P01", "deadlock detected"),
    sqlite3.OperationalError("database is locked"),
], ids=lambda e: f"{type(e).__name__}:{str(e)[:40]}")
def test_transient(orig: BaseException) -> None:
    assert is_transient(_error(orig))


def test_a_connection_the_pool_found_dead_is_transient() -> None:
    assert is_transient(_error(psycopg.OperationalError("the connection is closed"), invalidated=True))


@pytest.mark.parametrize("orig", [
    psycopg.OperationalError('connection failed: connection to server at "127.0.0.1", port 5432 failed: FATAL:  '
                             'password authentication failed for user "vbl"'),
    psycopg.OperationalError('connection failed: connection to server at "127.0.0.1", port 5432 failed: FATAL:  '
                             'database "vbl" does not exist'),
    psycopg.OperationalError("something else went wrong"),
    _pg("42P01", 'relation "runs" does not exist'),
    _pg("23505", "duplicate key value violates unique constraint"),
    _pg("25006", "cannot execute INSERT in a read-only transaction"),
    sqlite3.OperationalError("no such table: runs"),
    sqlite3.OperationalError("disk I/O error"),
], ids=lambda e: f"{type(e).__name__}:{str(e)[:40]}")
def test_not_transient(orig: BaseException) -> None:
    assert not is_transient(_error(orig))


# -- the retry loop ---------------------------------------------------------------------------------------------


@dataclass
class FakeClock:
    """Stands in for :mod:`time` in :mod:`storage.database`: ``sleep`` advances ``monotonic`` and is recorded."""

    now: float = 1_000.0
    sleeps: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class NoJitter:
    """Stands in for :mod:`random` in :mod:`storage.database`: the jitter factor ``0.5 + random()`` becomes 1."""

    @staticmethod
    def random() -> float:
        return 0.5


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(database, "time", fake)
    monkeypatch.setattr(database, "random", NoJitter)
    return fake


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    url = pg_server.create_database()
    yield url
    dispose_engine(url)


class FailingConnect:
    """A connect that raises ``error`` ``times`` times (every time for ``None``), then connects for real."""

    def __init__(self, engine: Engine, error: BaseException, times: int | None) -> None:
        self.error, self.times, self.calls = error, times, 0
        engine.pool.dispose()  # the next transaction has to connect
        event.listen(engine, "do_connect", self)

    def __call__(self, *_args: object) -> None:
        self.calls += 1
        if self.times is None or self.calls <= self.times:
            raise self.error


def _exports(store: Store) -> list[str | None]:
    return [e.entity_id for e in store.list_audit(action="export", limit=None)]


@pytest.mark.parametrize("error", [
    psycopg.OperationalError(DNS),
    psycopg.OperationalError(REFUSED),
    psycopg.OperationalError("could not receive data from server: Connection reset by peer"),
    _pg("57P03", "the database system is starting up"),
], ids=["dns", "refused", "reset", "starting-up"])
def test_a_connect_that_fails_four_times_is_retried_with_doubling_pauses(pg_url: str, clock: FakeClock,
                                                                          error: BaseException) -> None:
    store = Store(pg_url, actor="tester")  # this process has reached the server
    connect = FailingConnect(store.engine, error, times=4)
    store.record_audit("export", "run", 7, {})
    assert connect.calls == 5
    assert clock.sleeps == [FIRST_RETRY_DELAY_S * 2**k for k in range(4)]  # 10, 20, 40, 80 ms
    assert _exports(store) == ["7"]  # written once


def test_pauses_double_up_to_one_second(pg_url: str, clock: FakeClock) -> None:
    store = Store(pg_url, actor="tester")
    connect = FailingConnect(store.engine, psycopg.OperationalError(REFUSED), times=12)
    store.record_audit("export", "run", 7, {})
    assert connect.calls == 13
    assert clock.sleeps == [FIRST_RETRY_DELAY_S * 2**k for k in range(7)] + [1.0] * 5  # ..., 640 ms, then 1 s
    assert _exports(store) == ["7"]


def test_an_exhausted_budget_names_it_and_says_what_to_do(pg_url: str, clock: FakeClock,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    url = pg_url.replace("postgresql+psycopg://vbl@", "postgresql+psycopg://vbl:Pa55word@")
    store = Store(url, actor="tester")
    monkeypatch.setenv("VBL_DB_RETRY_BUDGET_S", "5")
    connect = FailingConnect(store.engine, psycopg.OperationalError(DNS), times=None)
    with pytest.raises(StoreUnavailable) as info:
        store.record_audit("export", "run", 7, {})
    assert sum(clock.sleeps) == pytest.approx(5.0) and connect.calls == len(clock.sleeps) + 1
    message = str(info.value)
    assert message == (
        f"the database {url.replace(':Pa55word@', ':***@')} stayed unreachable for the retry budget of 5 s "
        f"(VBL_DB_RETRY_BUDGET_S): {DNS}. Check that the server is running and reachable, then try again (an "
        "interrupted study can be resumed); if its restarts take longer, raise VBL_DB_RETRY_BUDGET_S"
    )
    monkeypatch.delenv("VBL_DB_RETRY_BUDGET_S")
    connect.times = 0  # the server is back
    assert store.list_audit(action="export") == []  # nothing was half-written


def test_a_zero_budget_never_retries(pg_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(pg_url, actor="tester")
    monkeypatch.setenv("VBL_DB_RETRY_BUDGET_S", "0")
    connect = FailingConnect(store.engine, psycopg.OperationalError(REFUSED), times=1)
    with pytest.raises(StoreUnavailable, match=r"retry budget of 0 s \(VBL_DB_RETRY_BUDGET_S\)"):
        store.record_audit("export", "run", 7, {})
    assert (connect.calls, clock.sleeps) == (1, [])


def test_a_refused_login_is_not_retried(pg_url: str, clock: FakeClock) -> None:
    store = Store(pg_url, actor="tester")
    error = psycopg.OperationalError('connection failed: connection to server at "127.0.0.1", port 5432 failed: '
                                     'FATAL:  password authentication failed for user "vbl"')
    connect = FailingConnect(store.engine, error, times=None)
    with pytest.raises(StoreUnavailable, match=r"refused the login .* check the user name and password in "
                                               "VBL_DATABASE_URL"):
        store.record_audit("export", "run", 7, {})
    assert (connect.calls, clock.sleeps) == (1, [])


@pytest.mark.parametrize("error", [psycopg.OperationalError(DNS), psycopg.OperationalError(REFUSED)],
                         ids=["dns", "refused"])
def test_an_address_never_reached_fails_at_once(pg_url: str, clock: FakeClock, error: BaseException) -> None:
    connect = FailingConnect(get_engine(pg_url), error, times=None)  # before this process ever connected
    with pytest.raises(StoreUnavailable) as info:
        Store(pg_url, actor="tester")
    assert (connect.calls, clock.sleeps) == (1, [])
    assert "cannot reach the database" in str(info.value) and "VBL_DATABASE_URL" in str(info.value)


def test_an_unreachable_server_fails_fast() -> None:
    began = time.monotonic()
    with pytest.raises(StoreUnavailable):
        Store("postgresql+psycopg://vbl@127.0.0.1:1/never", actor="tester")
    assert time.monotonic() - began < 15


# -- the budget setting -----------------------------------------------------------------------------------------


def test_the_budget_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VBL_DB_RETRY_BUDGET_S", raising=False)
    assert retry_budget_s() == 60.0
    monkeypatch.setenv("VBL_DB_RETRY_BUDGET_S", " 2.5 ")
    assert retry_budget_s() == 2.5
    for bad in ("soon", "-1", "nan", "3601"):
        monkeypatch.setenv("VBL_DB_RETRY_BUDGET_S", bad)
        with pytest.raises(StoreUnavailable) as info:
            retry_budget_s()
        assert str(info.value) == (f"VBL_DB_RETRY_BUDGET_S={bad!r} is not a retry budget: set it to a number of "
                                   "seconds between 0 and 3600 (default 60), or unset it")
