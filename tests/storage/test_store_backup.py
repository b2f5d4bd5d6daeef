"""Backups on both backends: a backup restored over a changed store gives back exactly what was backed up, and a
restored run re-runs identically (SQLite online backup API; pg_dump/pg_restore with the password in the
environment)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import StrategyConfig, simulate
from core.data import load_sample
from storage import NotFound, Store
from usecases.operations import BackupError, backup_store, restore_store
from usecases.runs import verify_run


def test_backup_and_restore_round_trip(store: Store, tmp_path: Path) -> None:
    goog = load_sample("GOOG")
    dataset_id = store.save_dataset(goog)
    run_id = store.save_run(dataset_id, simulate(goog.prices, StrategyConfig(), goog.dividends), name="kept")
    backup = backup_store(store.url, tmp_path / "backup.dump")
    assert backup.stat().st_size > 10_000 and not list(tmp_path.glob("*.partial"))
    with pytest.raises(BackupError, match="exists already"):
        backup_store(store.url, backup)

    store.delete_run(run_id)
    store.save_run(dataset_id, simulate(goog.prices, StrategyConfig(trigger_up=0.05), goog.dividends),
                   name="after the backup")
    restore_store(store.url, backup)
    restored = Store(store.url)
    assert [(r.id, r.name) for r in restored.list_runs()] == [(run_id, "kept")]
    with pytest.raises(NotFound):
        restored.get_run(run_id + 1)
    check = verify_run(restored, run_id)
    assert check.identical, check.differences


def test_restoring_something_that_is_not_a_backup_changes_nothing(store: Store, tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a database at all" * 100)
    before = len(store.list_presets())
    with pytest.raises(BackupError, match="nothing was"):
        restore_store(store.url, junk)
    assert len(Store(store.url).list_presets()) == before
