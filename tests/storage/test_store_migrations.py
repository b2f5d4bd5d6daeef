"""Alembic migrations: the migrated schema matches the models, upgrades run once even when processes race."""

from __future__ import annotations

import multiprocessing as mp
import os
import traceback
from typing import Any

import sqlalchemy as sa
from alembic import command

from storage import DEFAULT_PRESETS, Store
from storage.database import dispose_engine, get_engine, run_transaction
from storage.migrate import alembic_config, current_revision, head_revision, missing_tables, schema_differences, upgrade
from storage.models import TABLES


def test_migrated_schema_matches_models(db_url: str) -> None:
    engine = get_engine(db_url)
    assert current_revision(engine) is None
    assert upgrade(engine) is True
    assert current_revision(engine) == head_revision()
    assert schema_differences(engine) == []
    assert missing_tables(engine) == []
    assert upgrade(engine) is False  # already current: nothing to do


def test_downgrade_and_upgrade_again(db_url: str) -> None:
    engine = get_engine(db_url)
    upgrade(engine)
    run_transaction(engine, lambda conn: command.downgrade(alembic_config(conn), "base"), write=True)
    assert set(missing_tables(engine)) == set(TABLES)
    assert Store(db_url).list_presets()  # the app upgrades an existing (old) database on start
    assert schema_differences(engine) == []


def test_store_without_migration_does_not_touch_schema(db_url: str) -> None:
    Store(db_url, migrate=False)
    assert current_revision(get_engine(db_url)) is None


def _start_store(url: str, start: Any, errors: Any) -> None:
    try:
        start.wait(30)
        Store(url)
    except BaseException:
        errors.put(traceback.format_exc())
        errors.close()
        errors.join_thread()
        os._exit(1)
    os._exit(0)


def test_concurrent_first_start_migrates_once(db_url: str) -> None:
    ctx = mp.get_context("fork")
    start, errors = ctx.Event(), ctx.Queue()
    dispose_engine(db_url)
    procs = [ctx.Process(target=_start_store, args=(db_url, start, errors)) for _ in range(4)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(60)
    problems = []
    while not errors.empty():
        problems.append(errors.get())
    assert [p.exitcode for p in procs] == [0] * 4, problems
    engine = get_engine(db_url)
    assert current_revision(engine) == head_revision()
    assert schema_differences(engine) == []
    n_presets = run_transaction(engine, lambda c: c.execute(sa.text("SELECT count(*) FROM presets")).scalar(),
                                write=False)
    assert n_presets == len(DEFAULT_PRESETS)  # seeded exactly once, without a clash
