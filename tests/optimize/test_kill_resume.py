"""A study whose worker process is killed with SIGKILL and then resumed ends with exactly the trials and metrics of
an uninterrupted run (grid and Bayesian)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from optimize_helpers import trial_tuples

from core.config import StrategyConfig
from core.optimize import Objective, SearchSpace
from usecases.studies import create_study, run_study, start_worker
from usecases.studies.control import worker_environment

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _worker(db_url: str, study_id: int, batch: int) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "usecases.studies.worker", "--study", str(study_id), "--batch-size", str(batch)]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=worker_environment(db_url))


def _kill_midway(store, proc: subprocess.Popen[bytes], study_id: int, total: int, at_least: int) -> int:
    deadline = time.monotonic() + 60
    try:
        while store.count_trials(study_id) < at_least:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "worker exited"
            assert time.monotonic() < deadline, "the worker wrote nothing in 60 s"
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    done = store.count_trials(study_id)
    assert done < total, "the worker finished before it could be killed; the test proves nothing"
    return done


@pytest.mark.parametrize(("method", "n_trials", "batch", "at_least"), [("grid", None, 25, 50),
                                                                       ("bayes", 120, 0, 25)])
def test_sigkill_then_resume_equals_uninterrupted(db_url, store, dataset_id, method, n_trials, batch, at_least
                                                  ) -> None:
    base = StrategyConfig(min_notional=10.0)
    space = SearchSpace.parse({"trigger_up": "0.01:0.1:0.0025", "trigger_down": "0.01:0.1:0.0025",
                               "guardrail_max": "0.7,0.9"}, base)
    objective = Objective("calmar", constraints=("max_drawdown>=-0.6",))
    killed = create_study(store, dataset_id, space, objective, method=method, n_trials=n_trials, seed=3)
    total = store.get_study(killed).n_planned
    proc = _worker(db_url, killed, batch or 2500)
    _kill_midway(store, proc, killed, total, at_least)
    assert store.get_study(killed).status == "running"  # nobody could record the death

    # Resume through the app's path: a detached worker process.
    resumed = start_worker(db_url, killed)
    assert resumed.wait(120) == 0
    assert store.get_study(killed).status == "completed"

    whole = create_study(store, dataset_id, space, objective, method=method, n_trials=n_trials, seed=3)
    run_study(store, whole)
    assert len(trial_tuples(store, killed)) == total
    assert trial_tuples(store, killed) == trial_tuples(store, whole)
