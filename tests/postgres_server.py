"""A real PostgreSQL server for the tests, and the fixtures built on it (a uniquely named module: the conftest files
re-export the fixtures; ``tests/conftest.py`` holds the server, so each pytest-xdist worker starts one).

The server is started by the tests themselves: ``initdb`` + ``pg_ctl`` into a temporary directory, listening on
127.0.0.1 on a free port, run as an unprivileged user when the tests run as root (PostgreSQL refuses root), and
destroyed at the end of the session. If no server can be started the tests that need it fail (they are never
skipped): install PostgreSQL (Debian: ``apt-get install -y postgresql``). The fault tests stop and start it again
(:meth:`PgServer.stop`, :meth:`PgServer.start`) on the same port and data, as an operator's restart would.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import psycopg
import pytest

from storage import Store
from storage.database import dispose_engine


def find_pg_bin() -> Path:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres`` (PATH first, then Debian's layout)."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(os.path.realpath(initdb)).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name.split(".")[0]), reverse=True
    )
    for folder in candidates:
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    raise RuntimeError(
        "PostgreSQL is not installed (no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin); "
        "install it with `apt-get install -y postgresql` (.ci/run does this)"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgServer:
    """A throw-away PostgreSQL server on 127.0.0.1."""

    def __init__(self) -> None:
        self.bin = find_pg_bin()
        self.root = Path(tempfile.mkdtemp(prefix="vbl-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = 0
        self._run_as: dict[str, object] = {}
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                account = pwd.getpwnam("nobody")
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self._run_as = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
        self._cmd(
            ["initdb", "-D", str(self.data), "-U", "vbl", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"],
            timeout=120,
        )
        last_error: Exception | None = None
        for _ in range(5):  # another worker may grab the free port between our probe and the server's bind
            self.port = _free_port()
            try:
                self.start()
                return
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                last_error = exc
                time.sleep(0.2)
        log = self.log.read_text() if self.log.exists() else ""
        raise RuntimeError(f"could not start PostgreSQL: {last_error}\n{log[-2000:]}")

    def _cmd(self, args: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
        args = [str(self.bin / args[0]), *args[1:]]
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        result = subprocess.run(
            args, cwd=self.root, capture_output=True, text=True, timeout=timeout, env=env, check=False,
            **self._run_as,  # type: ignore[arg-type]
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def start(self) -> None:
        """Start the server on :attr:`port` and wait until it accepts connections (also after :meth:`stop`)."""
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB"
        )
        self._cmd(["pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o", options, "start"],
                  timeout=90)

    def stop(self, mode: Literal["smart", "fast", "immediate"] = "fast") -> None:
        """Stop the server and wait until it is down, keeping its data (``fast``: sessions are terminated and open
        transactions rolled back, as ``systemctl restart postgresql`` does)."""
        self._cmd(["pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop"], timeout=60)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://vbl@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=vbl dbname=postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        """Stop the server at once and delete its data."""
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL server for this test session (per xdist worker). Fails, never skips, if it cannot start."""
    try:
        server = PgServer()
    except Exception as exc:
        pytest.fail(f"cannot start the PostgreSQL test server: {exc}", pytrace=False)
    yield server
    server.destroy()


BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of a fresh, empty database on each backend (SQLite file; PostgreSQL database on the test server)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'vbl.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_server").create_database()
    yield url
    dispose_engine(url)


@pytest.fixture
def store(db_url: str) -> Store:
    """A migrated store on each backend."""
    return Store(db_url, actor="tester")
