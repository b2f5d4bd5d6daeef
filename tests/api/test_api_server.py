"""End to end: a real ``python -m api serve`` process on a free loopback port, a study run to completion."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from api_helpers import SMALL_GRID

from core.analysis import heatmap
from core.figures_optimize import study_trials
from usecases.store import Store

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path):
    port = _free_port()
    url = f"sqlite:///{tmp_path / 'e2e.sqlite3'}"
    env = {**os.environ, "VBL_DATABASE_URL": url, "VBL_API_TOKEN": "e2e-token"}
    proc = subprocess.Popen([sys.executable, "-m", "api", "serve", "--port", str(port), "--log-level", "warning"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    client = httpx.Client(base_url=base, headers={"Authorization": "Bearer e2e-token"}, timeout=30)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if client.get("/v1/optimization/metrics").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read().decode() if proc.stdout else ""
                raise AssertionError(f"the API server did not start: {out}")
            time.sleep(0.1)
        yield client, url
    finally:
        client.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_create_start_poll_results_heatmap_over_http(server) -> None:
    client, url = server
    assert httpx.get(str(client.base_url) + "/v1/runs").status_code == 401  # no token
    created = client.post("/v1/optimization/configs", json={
        "dataset": "GOOG", "start": "2010-01-01", "end": "2012-12-31", "search_space": SMALL_GRID,
        "objective": "sharpe"})
    assert created.status_code == 201, created.text
    study = created.json()
    assert study["combinations"] == 6
    started = client.post(f"/v1/optimization/configs/{study['id']}/start")
    assert started.status_code == 202
    deadline = time.monotonic() + 60
    states = []
    while True:
        progress = client.get(f"/v1/optimization/configs/{study['id']}/progress").json()
        states.append(progress["state"])
        if progress["finished"]:
            break
        assert time.monotonic() < deadline, progress
        time.sleep(0.1)
    assert progress["state"] == "completed" and progress["done"] == progress["total"] == 6

    results = client.get(f"/v1/optimization/configs/{study['id']}/results", params={"limit": 3}).json()
    assert results["total"] == 6 and len(results["items"]) == 3
    sharpes = [item["metrics"]["sharpe"] for item in results["items"]]
    assert sharpes == sorted(sharpes, reverse=True)

    hm = client.get(f"/v1/optimization/configs/{study['id']}/heatmap",
                    params={"x": "trigger_up", "y": "trigger_down", "metric": "sharpe"}).json()
    store = Store(url)
    grid = heatmap(study_trials(store.list_trials(study["id"], status="completed")), "trigger_up", "trigger_down",
                   "sharpe")
    assert hm["x_values"] == [0.02, 0.03, 0.04] and hm["y_values"] == [0.02, 0.03]
    assert np.array_equal(np.array(hm["values"], dtype=float), grid.to_numpy(dtype=float), equal_nan=True)
    assert max(sharpes) == np.nanmax(grid.to_numpy(dtype=float))
