"""Read-only stores: a WAL database on a read-only medium, a ``mode=ro``/``immutable=1`` URI or ``read_only=True``
opens read-only; listing, viewing and re-running work, every write is refused with ``StoreReadOnly``, and the file
is never changed (nor migrated)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import storage.database as database
from core import StrategyConfig, simulate
from storage import Store, StoreReadOnly, StoreSchemaError
from storage.database import dispose_engine, read_only_url
from storage.migrate import head_revision
from usecases.runs import rerun, verify_run

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = (StrategyConfig(), StrategyConfig(trigger_up=0.05, trigger_down=0.04, sizing="original"))


def _prices() -> pd.DataFrame:
    idx = pd.date_range("2018-01-02", periods=400, freq="B", name="timestamp")
    close = 80 * np.exp(np.cumsum(np.random.default_rng(5).normal(0.0003, 0.014, len(idx))))
    return pd.DataFrame({"close": close}, index=idx)


def make_database(path: Path) -> dict[int, dict]:
    """A WAL-mode SQLite store with a dataset, two runs and a study, closed (checkpointed) as a finished writer
    leaves it. Returns the stored metrics by run id."""
    url = f"sqlite:///{path}"
    store = Store(url, actor="writer")
    dataset_id = store.save_dataset(_prices(), name="ro data", symbol="RO")
    metrics = {}
    for i, config in enumerate(CONFIGS):
        run_id = store.save_run(dataset_id, simulate(_prices(), config), name=f"run {i}", tags=["ro"])
        metrics[run_id] = dict(store.get_run(run_id).metrics)
    store.create_study(dataset_id, search_space={}, method="grid", objective="sharpe", name="ro study")
    store.close()
    dispose_engine(url)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    return metrics


def digest(folder: Path) -> dict[str, str]:
    """The content of the database and its write-ahead log (the -shm file is SQLite's lock index, not data)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())
            if p.stat().st_size and not p.name.endswith("-shm")}


def write_message(where: Path) -> str:
    return (
        f"the database {where} is open read-only (a read-only medium, mode=ro or read_only=True): runs, studies and "
        "datasets can be listed, viewed and re-run, but nothing can be saved or changed; to save, copy the database "
        "to a writable place and set VBL_DATABASE_URL to the copy"
    )


def simulate_read_only_medium(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """What a read-only mount reports (the tests run as root, for whom chmod does not stop writes)."""
    real = os.access

    def access(path: object, mode: int, *args: object, **kwargs: object) -> bool:
        if mode & os.W_OK and Path(os.fspath(path)).resolve().is_relative_to(folder.resolve()):
            return False
        return real(path, mode, *args, **kwargs)

    monkeypatch.setattr(database.os, "access", access)


def check_read_only_store(store: Store, metrics: dict[int, dict], where: Path) -> None:
    assert store.read_only
    runs = store.list_runs({"tag": "ro"}, sort="id")
    assert [r.name for r in runs] == ["run 0", "run 1"]
    assert store.count_runs() == 2
    for run in runs:
        assert dict(store.get_run(run.id).metrics) == metrics[run.id]
        again = rerun(store, run.id)
        assert dict(again.metrics) == metrics[run.id]
        pd.testing.assert_frame_equal(store.get_run_trades(run.id), again.trades)
        assert verify_run(store, run.id).identical
    assert [s.name for s in store.list_studies()] == ["ro study"]
    assert [d.name for d in store.list_datasets()] == ["ro data"]
    assert len(store.load_market_data(runs[0].dataset_id).prices) == 400
    writes: list[Callable[[], object]] = [
        lambda: store.save_run(runs[0].dataset_id, rerun(store, runs[0].id), name="new"),
        lambda: store.update_run(runs[0].id, name="renamed"),
        lambda: store.delete_run(runs[0].id),
        lambda: store.save_dataset(_prices().iloc[:50], name="other", symbol="X"),
        lambda: store.record_audit("export", "run", runs[0].id),
    ]
    for write in writes:
        with pytest.raises(StoreReadOnly) as err:
            write()
        assert str(err.value) == write_message(where)
    assert store.count_runs() == 2


@pytest.fixture
def db(tmp_path: Path) -> tuple[Path, dict[int, dict]]:
    folder = tmp_path / "medium"
    folder.mkdir()
    path = folder / "runs.sqlite3"
    return path, make_database(path)


@pytest.mark.parametrize(
    "how", ["read_only=True", "mode=ro", "immutable=1", "read-only medium"],
)
def test_a_wal_database_opened_read_only_lists_views_and_reruns(
    db: tuple[Path, dict[int, dict]], monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    path, metrics = db
    before = digest(path.parent)
    if how == "read_only=True":
        store = Store(f"sqlite:///{path}", read_only=True)
    elif how == "read-only medium":
        simulate_read_only_medium(monkeypatch, path.parent)
        store = Store(f"sqlite:///{path}")  # nothing says read-only: the medium does
        assert "immutable=1" in store.url
    else:
        store = Store(f"sqlite:///file:{path}?{how}&uri=true")
    try:
        check_read_only_store(store, metrics, path)
    finally:
        store.close()
    assert digest(path.parent) == before  # not a byte written, no migration, no presets seeded


def test_a_read_only_store_reads_what_is_still_in_the_write_ahead_log(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "open.sqlite3"
    make_database(path)
    writer = Store(f"sqlite:///{path}", actor="writer")
    holder = sqlite3.connect(path)  # keeps the log from being checkpointed away when the writer closes
    holder.execute("PRAGMA wal_autocheckpoint = 0")
    holder.execute("SELECT 1").fetchall()
    writer.update_run(1, name="renamed in the log")
    assert (tmp_path / "open.sqlite3-wal").stat().st_size > 0
    simulate_read_only_medium(monkeypatch, tmp_path)
    # immutable=1 would skip the log and show the old name: a log to replay means mode=ro alone
    assert "immutable" not in read_only_url(f"sqlite:///{path}")
    store = Store(f"sqlite:///{path}")
    assert store.get_run(1).name == "renamed in the log"
    store.close()
    holder.close()
    writer.close()


@pytest.mark.parametrize(
    ("revision", "expected"),
    [
        ("0001", "has schema revision '0001', older than this version's {head!r}, and a read-only database cannot be "
                 "upgraded; upgrade a writable copy (`python -m storage upgrade` with VBL_DATABASE_URL set to it) or "
                 "use the version of the app that wrote it"),
        ("9999_future", "has schema revision '9999_future', which this version of the app does not know (it was "
                        "written by a newer version); use that version of the app"),
    ],
)
def test_a_read_only_store_is_never_migrated_and_says_so(db: tuple[Path, dict[int, dict]], revision: str,
                                                         expected: str) -> None:
    path, _ = db
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))
    before = digest(path.parent)
    with pytest.raises(StoreSchemaError) as err:
        Store(f"sqlite:///{path}", read_only=True)
    assert str(err.value) == f"the read-only database {path} " + expected.format(head=head_revision())
    assert digest(path.parent) == before


def test_a_read_only_file_without_a_store_is_named(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite3"
    sqlite3.connect(path).close()
    with pytest.raises(StoreSchemaError) as err:
        Store(f"sqlite:///{path}", read_only=True)
    assert str(err.value) == (
        f"the read-only database {path} holds no run store (no schema revision); check the path, or open a writable "
        "one once to create the store"
    )


def test_a_postgresql_store_opened_read_only(pg_server) -> None:
    url = pg_server.create_database()
    writer = Store(url, actor="writer")
    dataset_id = writer.save_dataset(_prices(), name="ro data", symbol="RO")
    metrics = {}
    for i, config in enumerate(CONFIGS):
        run_id = writer.save_run(dataset_id, simulate(_prices(), config), name=f"run {i}", tags=["ro"])
        metrics[run_id] = dict(writer.get_run(run_id).metrics)
    writer.create_study(dataset_id, search_space={}, method="grid", objective="sharpe", name="ro study")
    store = Store(url, read_only=True)
    try:
        check_read_only_store(store, metrics, store.url)  # type: ignore[arg-type]
    finally:
        store.close()
        writer.close()


_CHILD = """
import json, sys
from storage import Store, StoreReadOnly
from usecases.runs import rerun
store = Store(sys.argv[1])
runs = store.list_runs(sort="id")
out = {"read_only": store.read_only, "names": [r.name for r in runs],
       "same": all(dict(rerun(store, r.id).metrics) == dict(r.metrics) for r in runs)}
try:
    store.update_run(runs[0].id, name="x")
except StoreReadOnly as exc:
    out["write"] = str(exc)
print(json.dumps(out))
"""


def test_a_database_on_a_real_read_only_mount(db: tuple[Path, dict[int, dict]]) -> None:
    """The same on a real read-only bind mount, in a private mount namespace (``unshare --mount``) that vanishes
    with the child process; before the fix this failed at once with StoreUnavailable (no -shm file can be made)."""
    path, _ = db
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "--mount", "true"], capture_output=True).returncode != 0:
        pytest.skip("needs `unshare --mount` (root or CAP_SYS_ADMIN) for a private read-only mount")
    folder = str(path.parent)
    script = 'mount --bind -o ro "$1" "$1" && exec "$2" -c "$3" "$4"'
    child = subprocess.run(
        [unshare, "--mount", "sh", "-c", script, "sh", folder, sys.executable, _CHILD, f"sqlite:///{path}"],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120,
    )
    assert child.returncode == 0, child.stderr
    out = json.loads(child.stdout.strip().splitlines()[-1])
    assert out == {"read_only": True, "names": ["run 0", "run 1"], "same": True, "write": write_message(path)}
