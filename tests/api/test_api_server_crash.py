"""A study started over HTTP whose worker process is killed (SIGKILL) mid-run is detected as interrupted, resumed
over HTTP, and ends ``completed`` with every trial exactly once and the results of an uninterrupted run.

A killed worker cannot say that it died: the study stays ``running`` until nothing has been written for the
heartbeat timeout. The server here runs with ``VBL_STUDY_HEARTBEAT_TIMEOUT_S=6`` (the smallest allowed, three
heartbeats) instead of the default 15 s, so the test waits seconds, not a quarter of a minute.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from api_helpers import PROBLEM
from live_server import LiveServer, live_server, wait_finished

from usecases.store import Store

HEARTBEAT_TIMEOUT_S = 6
# 16,428 trials in batches of 2,500 on GOOG's whole history: long enough to be killed after the first batch.
STUDY = {
    "dataset": "GOOG",
    "search_space": {"trigger_up": "0.01:0.1:0.0025", "trigger_down": "0.01:0.1:0.0025",
                     "guardrail_max": [0.6, 0.7, 0.8, 0.9], "sizing": ["proportional", "fixed_fraction", "original"]},
    "objective": "calmar",
    "constraints": ["max_drawdown>=-0.6"],
}


@pytest.fixture
def server(tmp_path):
    with live_server(tmp_path, env={"VBL_STUDY_HEARTBEAT_TIMEOUT_S": str(HEARTBEAT_TIMEOUT_S)}) as running:
        yield running


def _trials(store: Store, study_id: int) -> dict[int, tuple]:
    return {t.index: (t.params, t.metrics, t.status, t.error) for t in store.iter_trials(study_id)}


def _kill_after_first_batch(server: LiveServer, study_id: int, pid: int, total: int) -> int:
    deadline = time.monotonic() + 60
    while server.client.get(f"/v1/optimization/configs/{study_id}/progress").json()["done"] == 0:
        assert time.monotonic() < deadline, "the worker wrote nothing in 60 s"
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    progress = server.client.get(f"/v1/optimization/configs/{study_id}/progress").json()
    assert progress["done"] < total, "the worker finished before it could be killed; the test proves nothing"
    return int(progress["done"])


def test_a_killed_study_resumes_over_http_and_equals_an_uninterrupted_run(server: LiveServer) -> None:
    client = server.client
    created = client.post("/v1/optimization/configs", json=STUDY)
    assert created.status_code == 201, created.text
    study_id, total = created.json()["id"], created.json()["n_planned"]
    started = client.post(f"/v1/optimization/configs/{study_id}/start")
    assert started.status_code == 202, started.text
    done_when_killed = _kill_after_first_batch(server, study_id, started.json()["worker_pid"], total)

    # Nobody could record the death: the study still looks running, and resuming it now is refused.
    assert client.get(f"/v1/optimization/configs/{study_id}").json()["status"] == "running"
    busy = client.post(f"/v1/optimization/configs/{study_id}/resume")
    assert busy.status_code == 409 and busy.headers["content-type"].startswith(PROBLEM)
    assert "heartbeat" in busy.json()["detail"]

    deadline = time.monotonic() + HEARTBEAT_TIMEOUT_S + 20
    while (progress := client.get(f"/v1/optimization/configs/{study_id}/progress").json())["state"] != "interrupted":
        assert progress["state"] == "running", progress
        assert time.monotonic() < deadline, f"the dead worker was not detected: {progress}"
        time.sleep(0.2)
    assert progress["done"] == done_when_killed  # the killed worker wrote nothing more
    study = client.get(f"/v1/optimization/configs/{study_id}").json()
    assert "no heartbeat" in study["error"]

    resumed = client.post(f"/v1/optimization/configs/{study_id}/resume")
    assert resumed.status_code == 202, resumed.text
    final = wait_finished(client, study_id)
    assert final["state"] == "completed" and final["done"] == final["total"] == total

    whole = client.post("/v1/optimization/configs", json=STUDY).json()["id"]
    assert client.post(f"/v1/optimization/configs/{whole}/start").status_code == 202
    assert wait_finished(client, whole)["state"] == "completed"

    store = Store(server.database_url)
    assert sorted(store.trial_indices(study_id)) == list(range(total))  # every trial, each once
    assert store.count_trials(study_id) == total
    assert _trials(store, study_id) == _trials(store, whole)
    page = {"limit": 10_000, "feasible_only": False}
    killed_results = client.get(f"/v1/optimization/configs/{study_id}/results", params=page).json()
    whole_results = client.get(f"/v1/optimization/configs/{whole}/results", params=page).json()
    assert killed_results["total"] == whole_results["total"]
    assert killed_results["items"] == whole_results["items"]
