"""End to end: a real ``python -m api serve`` process on a free loopback port, a study run to completion."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pytest
from api_helpers import SMALL_GRID
from live_server import live_server, wait_finished

from core.analysis import heatmap
from core.figures_optimize import study_trials
from usecases.store import Store


@pytest.fixture
def server(tmp_path: Path):
    with live_server(tmp_path) as running:
        yield running.client, running.database_url


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
    progress = wait_finished(client, study["id"], timeout=60)
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
