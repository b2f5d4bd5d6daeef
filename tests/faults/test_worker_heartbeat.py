"""A study's worker killed with SIGKILL is marked ``interrupted`` within the stated heartbeat timeout, with the
reason, and can be resumed at once; a live worker that computes for longer than the timeout without writing a
trial is not marked, because it writes heartbeats."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.config import StrategyConfig
from core.optimize import Objective, SearchSpace
from storage import Store
from storage.database import dispose_engine
from usecases.studies import check_interrupted, create_study, resume_study, run_study, study_progress
from usecases.studies.control import worker_environment
from usecases.studies.study import HEARTBEAT_S, _heartbeat, heartbeat_timeout_s

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 6.0  # the heartbeat timeout of these tests (default 15 s); 3 heartbeats of 2 s


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("VBL_STUDY_HEARTBEAT_TIMEOUT_S", str(TIMEOUT_S))
    url = f"sqlite:///{tmp_path / 'faults.sqlite3'}"
    with Store(url) as s:
        yield s
    dispose_engine(url)


def _dataset(store: Store) -> int:
    rng = np.random.default_rng(7)
    index = pd.bdate_range("2015-01-02", periods=1500)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, len(index))))
    return store.save_dataset(pd.DataFrame({"close": close}, index=index), None, name="gbm", symbol="GBM",
                              source="csv", interval="1d", price_basis="split_adjusted", timezone="America/New_York")


def _trials(store: Store, study_id: int) -> list[tuple]:
    frame = store.list_trials(study_id).sort_values("index")
    return [tuple(r) for r in frame[["index", "param.trigger_up", "param.trigger_down", "total_return", "sharpe"]]
            .itertuples(index=False)]


def test_the_timeout_is_stated_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VBL_STUDY_HEARTBEAT_TIMEOUT_S", raising=False)
    assert heartbeat_timeout_s() == 15.0
    monkeypatch.setenv("VBL_STUDY_HEARTBEAT_TIMEOUT_S", "1")
    with pytest.raises(ValueError, match="between 6 and 86400 s"):
        heartbeat_timeout_s()


def test_a_killed_worker_is_marked_interrupted_and_resumed_at_once(store: Store) -> None:
    dataset_id = _dataset(store)
    space = SearchSpace.parse({"trigger_up": "0.01:0.1:0.002", "trigger_down": "0.01:0.1:0.002"},
                              StrategyConfig(min_notional=10.0))
    killed = create_study(store, dataset_id, space, Objective("sharpe"), method="grid")
    total = store.get_study(killed).n_planned
    cmd = [sys.executable, "-m", "usecases.studies.worker", "--study", str(killed), "--batch-size", "5"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=worker_environment(store.url))
    deadline = time.monotonic() + 60
    while store.count_trials(killed) < 20:
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    killed_at = datetime.now(UTC)
    assert 0 < store.count_trials(killed) < total, "the worker finished before it could be killed"

    # the app and the API poll the progress: that marks the study once nothing was written for the timeout
    while study_progress(store, killed).status == "running":
        assert (datetime.now(UTC) - killed_at).total_seconds() < TIMEOUT_S + 5
        time.sleep(0.2)
    record = store.get_study(killed)
    assert record.status == "interrupted"
    assert "no heartbeat for 6 s" in record.error and "resume the study" in record.error
    waited = (datetime.now(UTC) - killed_at).total_seconds()
    assert TIMEOUT_S - 1 <= waited <= TIMEOUT_S + 5
    entry = store.list_audit(entity="study", entity_id=killed, limit=1)[0]
    assert entry.details["status"] == "interrupted"

    assert resume_study(store, killed, store.url).wait(120) == 0  # at once: no "try again in 60 s"
    assert store.get_study(killed).status == "completed"
    whole = create_study(store, dataset_id, space, Objective("sharpe"), method="grid")
    run_study(store, whole)
    assert len(_trials(store, killed)) == total
    assert _trials(store, killed) == _trials(store, whole)


def test_a_live_worker_keeps_its_study_alive_with_heartbeats(store: Store) -> None:
    dataset_id = _dataset(store)
    space = SearchSpace.parse({"trigger_up": "0.02,0.03"}, StrategyConfig())
    study_id = create_study(store, dataset_id, space, Objective("sharpe"), method="grid")
    store.set_study_status(study_id, "running")
    with _heartbeat(store, study_id):
        time.sleep(2.5 * HEARTBEAT_S)  # "computing" without writing a trial
        assert check_interrupted(store, study_id, stale_after_s=HEARTBEAT_S * 1.5).status == "running"
    time.sleep(HEARTBEAT_S * 1.6)  # no more heartbeats: now it is stale
    assert check_interrupted(store, study_id, stale_after_s=HEARTBEAT_S * 1.5).status == "interrupted"
