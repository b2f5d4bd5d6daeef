"""Reliability under load and crashes, on SQLite and on a real PostgreSQL server.

* 8 writer processes each save 500 trials in batches while 2 processes list and read: zero errors, exactly 4,000
  rows, no duplicates. The writers hold after their first batch until a reader has seen a partial set, so the
  overlap is certain however the machine schedules the processes (CI once let all writers finish before either
  reader had opened its store).
* A writer SIGKILLed inside a batch: the database opens cleanly, the batch is fully absent, and re-running completes
  the set without duplicates.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import signal
import sqlite3
import time
import traceback
from typing import Any

import pytest

from storage import Store, TrialInput
from storage.database import dispose_engine
from storage.models import INDEXED_METRICS

WRITERS = 8
READERS = 2
PER_WRITER = 500
BATCH = 50

CTX = mp.get_context("fork")


def trial(index: int) -> TrialInput:
    metrics: dict[str, Any] = {m: (index % 97) / 10 + k for k, m in enumerate(INDEXED_METRICS)}
    metrics["volatility"] = index / 1000
    return TrialInput(index=index, params={"trigger_up": 0.01 + index * 1e-6, "sizing": "proportional"},
                      metrics=metrics, duration_s=0.001)


def _writer(url: str, study_id: int, worker: int, start: Any, seen_partial: Any, errors: Any) -> None:
    try:
        store = Store(url, actor=f"writer-{worker}")
        start.wait(60)
        first = worker * PER_WRITER
        for offset in range(0, PER_WRITER, BATCH):
            rows = [trial(first + offset + i) for i in range(BATCH)]
            written = store.save_trials(study_id, rows)
            if written != BATCH:
                errors.put(f"writer {worker}: batch at {first + offset} wrote {written} rows, expected {BATCH}")
            if offset == 0 and not seen_partial.wait(60):
                errors.put(f"writer {worker}: no reader saw a partial set within 60 s")
    except BaseException:
        errors.put(f"writer {worker}: {traceback.format_exc()}")
        _exit(1, errors)
    _exit(0, errors)


def _reader(
    url: str, study_id: int, worker: int, ready: Any, start: Any, stop: Any, seen_partial: Any, errors: Any, reads: Any
) -> None:
    n = partial = 0
    try:
        store = Store(url, actor=f"reader-{worker}")
        ready.release()
        start.wait(60)
        while n == 0 or not stop.is_set():  # at least one full pass, however late the reader starts
            frame = store.list_trials(study_id, sort="-sharpe", limit=200)
            if len(frame) and frame["index"].duplicated().any():
                errors.put(f"reader {worker}: duplicate trial indices listed")
            count = store.count_trials(study_id)
            seen = sum(1 for _ in store.iter_trials(study_id, batch_size=500))
            if seen < count:
                errors.put(f"reader {worker}: iterated {seen} trials after counting {count}")
            if 0 < count < WRITERS * PER_WRITER:
                partial += 1
                seen_partial.set()
            store.get_study(study_id)
            store.list_runs(sort="-sharpe", limit=10)
            n += 1
    except BaseException:
        errors.put(f"reader {worker}: {traceback.format_exc()}")
        _exit(1, errors)
    reads.put((n, partial))
    _exit(0, errors, reads)


def _exit(code: int, *queues: Any) -> None:
    for queue in queues:  # flush the queue's feeder thread before the hard exit
        queue.close()
        queue.join_thread()
    os._exit(code)


@pytest.mark.slow
def test_many_writers_and_readers(store: Store) -> None:
    dataset_id = store.save_dataset(_tiny_prices(), name="tiny", symbol="TNY")
    study_id = store.create_study(dataset_id, search_space={}, method="grid", objective="sharpe")
    dispose_engine(store.url)  # no open connections across fork()
    start, stop, seen_partial = CTX.Event(), CTX.Event(), CTX.Event()
    ready = CTX.Semaphore(0)
    errors, reads = CTX.Queue(), CTX.Queue()
    writers = [
        CTX.Process(target=_writer, args=(store.url, study_id, w, start, seen_partial, errors)) for w in range(WRITERS)
    ]
    readers = [
        CTX.Process(target=_reader, args=(store.url, study_id, r, ready, start, stop, seen_partial, errors, reads))
        for r in range(READERS)
    ]
    for p in writers + readers:
        p.start()
    for _ in readers:  # both readers have opened their store before any writer begins
        assert ready.acquire(timeout=60), ("a reader did not open its store within 60 s", _drain(errors))
    start.set()
    for p in writers:
        p.join(120)
    stop.set()
    for p in readers:
        p.join(60)
    problems = _drain(errors)
    exit_codes = [p.exitcode for p in writers + readers]
    assert problems == [] and exit_codes == [0] * (WRITERS + READERS), (exit_codes, problems)
    reads_done = _drain(reads)
    assert len(reads_done) == READERS and all(n > 0 for n, _ in reads_done)
    assert sum(partial for _, partial in reads_done) > 0  # the readers really read while the writers wrote
    assert store.count_trials(study_id) == WRITERS * PER_WRITER
    indices = [t.index for t in store.iter_trials(study_id)]
    assert indices == list(range(WRITERS * PER_WRITER))  # exactly once each
    assert store.get_study(study_id).counts == {"completed": WRITERS * PER_WRITER}
    frame = store.list_trials(study_id)
    assert len(frame) == WRITERS * PER_WRITER and not frame["index"].duplicated().any()


# ---------------------------------------------------------------------------------------------------------------
# SIGKILL in the middle of a batch

KILL_BATCH = 20_000  # big enough that SQLite spills uncommitted pages to the WAL before the kill


def _batch(batch_no: int, size: int) -> list[TrialInput]:
    return [trial(batch_no * size + i) for i in range(size)]


def _hooked_writer(url: str, study_id: int, inside: Any) -> None:
    """Commits batch 0, then blocks inside batch 1's transaction (all rows written, not committed)."""
    store = Store(url)
    calls = {"n": 0}

    def before_commit() -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            inside.set()
            time.sleep(120)

    store._before_commit = before_commit
    for batch_no in range(2):
        store.save_trials(study_id, _batch(batch_no, KILL_BATCH))
    os._exit(0)


def _looping_writer(url: str, study_id: int, n_batches: int, size: int, started: Any) -> None:
    store = Store(url)
    started.set()
    for batch_no in range(n_batches):
        store.save_trials(study_id, _batch(batch_no, size))
    os._exit(0)


def _kill(process: Any) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.join(30)
    assert process.exitcode == -signal.SIGKILL


def _assert_opens_cleanly(url: str) -> Store:
    dispose_engine(url)
    store = Store(url)
    if store.backend == "sqlite":
        path = url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    return store


@pytest.mark.slow
def test_writer_killed_inside_a_batch(store: Store) -> None:
    dataset_id = store.save_dataset(_tiny_prices(), name="tiny", symbol="TNY")
    study_id = store.create_study(dataset_id, search_space={}, method="grid", objective="sharpe")
    dispose_engine(store.url)
    inside = CTX.Event()
    writer = CTX.Process(target=_hooked_writer, args=(store.url, study_id, inside))
    writer.start()
    assert inside.wait(120), "the writer never reached the second batch"
    _kill(writer)

    reopened = _assert_opens_cleanly(store.url)
    assert reopened.trial_indices(study_id) == set(range(KILL_BATCH))  # batch 0 fully there, batch 1 fully absent
    assert reopened.save_trials(study_id, _batch(0, KILL_BATCH) + _batch(1, KILL_BATCH)) == KILL_BATCH
    assert reopened.count_trials(study_id) == 2 * KILL_BATCH
    assert [t.index for t in reopened.iter_trials(study_id, batch_size=10_000)] == list(range(2 * KILL_BATCH))


@pytest.mark.slow
def test_writer_killed_at_a_random_moment(store: Store) -> None:
    n_batches, size = 12, 2_000
    dataset_id = store.save_dataset(_tiny_prices(), name="tiny", symbol="TNY")
    study_id = store.create_study(dataset_id, search_space={}, method="grid", objective="sharpe")
    dispose_engine(store.url)
    rng = random.Random(7)
    for _round in range(2):
        started = CTX.Event()
        writer = CTX.Process(target=_looping_writer, args=(store.url, study_id, n_batches, size, started))
        writer.start()
        assert started.wait(60)
        time.sleep(rng.uniform(0.05, 0.4))
        if writer.is_alive():
            _kill(writer)
        else:
            writer.join()
        reopened = _assert_opens_cleanly(store.url)
        present = reopened.trial_indices(study_id)
        for batch_no in range(n_batches):
            have = len(present & set(range(batch_no * size, (batch_no + 1) * size)))
            assert have in (0, size), f"batch {batch_no} is half-written: {have} of {size} rows"
    # re-running the whole job completes the set with no duplicates
    reopened = _assert_opens_cleanly(store.url)
    for batch_no in range(n_batches):
        reopened.save_trials(study_id, _batch(batch_no, size))
    assert [t.index for t in reopened.iter_trials(study_id, batch_size=5_000)] == list(range(n_batches * size))


def _tiny_prices() -> Any:
    import numpy as np
    import pandas as pd

    idx = pd.date_range("2021-01-04", periods=20, freq="B", name="timestamp")
    return pd.DataFrame({"close": np.linspace(10.0, 12.0, 20)}, index=idx)


def _drain(queue: Any) -> list[Any]:
    items = []
    while True:
        try:
            items.append(queue.get(timeout=0.2))
        except Exception:
            return items
