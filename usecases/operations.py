"""Operating the store: health and readiness checks (``cli doctor``, the API's ``/ready``), and backups.

* :func:`health_checks` — the database is reachable, its schema is at the newest migration, every ``running``
  study's worker is alive (a heartbeat within the timeout), and no delivery waits past its retry time.
* :func:`backup_store` / :func:`restore_store` — SQLite through its online backup API (a consistent copy while the
  app, the API and workers keep writing), PostgreSQL through ``pg_dump`` / ``pg_restore`` (custom format). The
  password reaches ``pg_dump`` in its environment (``PGPASSWORD``), never on its command line.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from storage import Store, StoreError
from storage.database import describe_url, dispose_engine
from storage.migrate import current_revision, head_revision
from usecases.studies.study import heartbeat_timeout_s

OK = "ok"
WARN = "warn"
FAIL = "fail"


@dataclass(frozen=True)
class Check:
    """One health check: ``name``, ``status`` (ok, warn or fail) and what was found."""

    name: str
    status: str
    detail: str


class BackupError(RuntimeError):
    """A backup or restore failed; the message says why."""


def health_checks(url: str, *, workers: bool = True) -> list[Check]:
    """Check the store at ``url`` (never raises: an unreachable database is a failed check)."""
    where = describe_url(url)
    try:
        store = Store(url, migrate=False)
        revision = current_revision(store.engine)
    except StoreError as exc:
        return [Check("database", FAIL, str(exc))]
    except Exception as exc:  # a driver error the store did not translate
        return [Check("database", FAIL, f"{where} cannot be reached: {type(exc).__name__}: {exc}")]
    checks = [Check("database", OK, f"{where} ({store.backend}) is reachable")]
    head = head_revision()
    if revision == head:
        checks.append(Check("migrations", OK, f"schema at the newest revision {head}"))
    else:
        checks.append(Check("migrations", FAIL, f"schema at {revision or 'none (empty database)'}, newest is {head}; "
                                                "start the app once or run `python -m storage upgrade`"))
        return checks
    if workers:
        checks += _worker_checks(store)
    return checks


def _worker_checks(store: Store) -> list[Check]:
    timeout = heartbeat_timeout_s()
    now = datetime.now(UTC)
    running = store.list_studies(status="running")
    if not running:
        return [Check("workers", OK, "no study is running")]
    dead = [s for s in running if (now - s.updated_at).total_seconds() >= timeout]
    if dead:
        names = ", ".join(f"#{s.id} (silent {(now - s.updated_at).total_seconds():.0f} s)" for s in dead)
        return [Check("workers", FAIL, f"no heartbeat within {timeout:.0f} s from the worker of {names}; resume "
                                       "the study (it continues from its stored trials)")]
    return [Check("workers", OK, f"{len(running)} running study worker(s) alive")]


def healthy(checks: list[Check]) -> bool:
    """True when no check failed."""
    return all(c.status != FAIL for c in checks)


# -- backups ------------------------------------------------------------------------------------------------------


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _pg_env(url: str) -> tuple[list[str], dict[str, str]]:
    u = make_url(url)
    args = ["--host", u.host or "localhost", "--port", str(u.port or 5432), "--username", u.username or "",
            "--dbname", u.database or ""]
    env = {**os.environ}
    if u.password:
        env["PGPASSWORD"] = u.password
    return args, env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / name).exists():
            return str(folder / name)
    raise BackupError(f"{name} is not installed; install the PostgreSQL client tools (Debian: postgresql-client)")


def backup_store(url: str, target: str | os.PathLike[str]) -> Path:
    """Write a consistent copy of the store to ``target`` (a new file; an existing one is refused)."""
    path = Path(target)
    if path.exists():
        raise BackupError(f"{path} exists already; choose a new file name (a backup never overwrites)")
    partial = path.with_name(path.name + ".partial")
    try:
        if make_url(url).get_backend_name() == "sqlite":
            source = sqlite3.connect(f"file:{_sqlite_path(url)}?mode=ro", uri=True)
            try:
                dest = sqlite3.connect(partial)
                with dest:
                    source.backup(dest)  # SQLite's online backup: consistent while others write
                dest.close()
            finally:
                source.close()
        else:
            args, env = _pg_env(url)
            result = subprocess.run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(partial),
                                     *args], env=env, capture_output=True, text=True, timeout=3600)
            if result.returncode != 0:
                raise BackupError(f"pg_dump failed: {result.stderr.strip()[:500]}")
        partial.replace(path)  # the backup appears complete or not at all
    except (OSError, sqlite3.Error) as exc:
        raise BackupError(f"the backup to {path} failed: {exc}") from None
    finally:
        if partial.exists():
            partial.unlink()
    return path


def restore_store(url: str, source: str | os.PathLike[str]) -> None:
    """Replace the store's contents with the backup ``source`` (stop the app, API, scheduler and workers first)."""
    path = Path(source)
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    dispose_engine(url)
    try:
        if make_url(url).get_backend_name() == "sqlite":
            backup = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                if backup.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                    raise BackupError(f"{path} is damaged (integrity check failed); nothing was restored")
                dest = sqlite3.connect(_sqlite_path(url))
                with dest:
                    backup.backup(dest)
                dest.close()
            finally:
                backup.close()
        else:
            args, env = _pg_env(url)
            result = subprocess.run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
                                     "--single-transaction", *args, str(path)], env=env, capture_output=True,
                                    text=True, timeout=3600)
            if result.returncode != 0:
                raise BackupError(f"pg_restore failed (nothing was changed): {result.stderr.strip()[:500]}")
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a SQLite backup ({exc}); nothing was restored") from None
    finally:
        dispose_engine(url)
