"""A PostgreSQL restart is waited out: the store retries a lost connection (terminated by ``pg_ctl stop -m fast``,
then refused while the server is down, then "starting up") for ``VBL_DB_RETRY_BUDGET_S`` and carries on.

Both tests stop and start the suite's own server (``pg_server``, one per pytest-xdist worker, so tests running in
parallel on the other worker use another server and are not disturbed) on the same port and data.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
from postgres_server import PgServer

from core.config import StrategyConfig
from core.optimize import Objective, SearchSpace
from storage import Store
from storage.database import dispose_engine
from usecases.studies import create_study, run_study
from usecases.studies.control import worker_environment

ROOT = Path(__file__).resolve().parents[2]
DOWN_S = 3.0  # how long the server stays down: longer than a heartbeat (2 s), far shorter than the retry budget


def _restart_later(server: PgServer, after_s: float) -> threading.Thread:
    """Start ``server`` again ``after_s`` seconds from now, in a thread (join it to wait for the server)."""

    def start_again() -> None:
        time.sleep(after_s)
        server.start()

    thread = threading.Thread(target=start_again, name="pg-restart")
    thread.start()
    return thread


def _dataset(store: Store) -> int:
    rng = np.random.default_rng(11)
    index = pd.bdate_range("2015-01-02", periods=1500)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, len(index))))
    return store.save_dataset(pd.DataFrame({"close": close}, index=index), None, name="gbm", symbol="GBM",
                              source="csv", interval="1d", price_basis="split_adjusted", timezone="America/New_York")


def _trials(store: Store, study_id: int) -> list[tuple]:
    """Everything that defines a study's outcome (FrozenMap compares NaN equal to NaN)."""
    return [(t.index, t.params, t.metrics, t.status, t.error) for t in store.iter_trials(study_id)]


def test_a_restart_in_the_middle_of_a_study_is_waited_out(pg_server: PgServer, tmp_path: Path) -> None:
    url = pg_server.create_database()
    store = Store(url, actor="tester")
    try:
        dataset_id = _dataset(store)
        space = SearchSpace.parse({"trigger_up": "0.01:0.1:0.002", "trigger_down": "0.01:0.1:0.002"},
                                  StrategyConfig(min_notional=10.0))
        study_id = create_study(store, dataset_id, space, Objective("sharpe"), method="grid")
        total = store.get_study(study_id).n_planned
        log = tmp_path / "worker.log"
        with log.open("wb") as out:  # small batches: the study writes all the time, so the stop meets a write
            worker = subprocess.Popen(
                [sys.executable, "-m", "usecases.studies.worker", "--study", str(study_id), "--batch-size", "5"],
                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=worker_environment(url))
        deadline = time.monotonic() + 60
        while store.count_trials(study_id) < 50:
            assert worker.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.01)
        dispose_engine(url)  # this process's own connections die with the server; start afresh afterwards

        pg_server.stop("fast")  # terminates the worker's sessions (57P01), then refuses connections
        stopped_at = time.monotonic()
        _restart_later(pg_server, DOWN_S).join()
        down_for = time.monotonic() - stopped_at
        assert worker.poll() is None, f"the worker ended while the server was down:\n{log.read_text()}"
        stored_at_restart = store.count_trials(study_id)
        assert 50 <= stored_at_restart < total, "the study finished before the restart; the test proves nothing"
        assert down_for >= DOWN_S

        assert worker.wait(60) == 0, log.read_text()
        record = store.get_study(study_id)
        assert (record.status, record.error) == ("completed", None), log.read_text()
        assert record.n_trials == record.n_planned == total == store.count_trials(study_id)
        indices = [t.index for t in store.iter_trials(study_id)]
        assert indices == list(range(total))  # every trial exactly once: none missing, none twice
        assert not store.list_trials(study_id)["index"].duplicated().any()

        uninterrupted = create_study(store, dataset_id, space, Objective("sharpe"), method="grid")
        run_study(store, uninterrupted)
        assert _trials(store, study_id) == _trials(store, uninterrupted)
    finally:
        dispose_engine(url)


def test_a_write_while_the_server_is_down_waits_for_it(pg_server: PgServer) -> None:
    url = pg_server.create_database()
    store = Store(url, actor="tester")
    try:
        store.record_audit("export", "run", 1, {})
        pg_server.stop("fast")
        restarter = _restart_later(pg_server, 1.5)
        began = time.monotonic()
        store.record_audit("export", "run", 2, {})  # while the server is down: retried until it is back
        waited = time.monotonic() - began
        restarter.join()
        assert waited >= 1.0, "the write did not meet the stopped server; the test proves nothing"
        assert [e.entity_id for e in store.list_audit(action="export", limit=None)] == ["2", "1"]
    finally:
        dispose_engine(url)
