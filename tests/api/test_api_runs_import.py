"""``POST /v1/runs/import``: a run bundle exported by ``GET /v1/runs/{id}/report.json`` comes back as a new run,
re-run and checked; a bundle whose data is missing or whose re-run differs is refused with a clear problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from api_helpers import TestClient, assert_problem

from api.app import Settings, create_app


@pytest.fixture
def bundle(client) -> dict:
    saved = client.post("/v1/backtests", json={"dataset": "GOOG", "start": "2011-01-01", "end": "2012-06-30",
                                               "config": {"trigger_up": 0.04}, "save": True, "name": "to export"})
    assert saved.status_code == 201, saved.text
    exported = client.get(f"/v1/runs/{saved.json()['run_id']}/report.json")
    assert exported.status_code == 200
    return json.loads(exported.content)


def test_an_exported_bundle_imports_as_an_identical_new_run(client, store, bundle: dict) -> None:
    response = client.post("/v1/runs/import", json=bundle, params={"name": "imported"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["reproduced"] is True and body["name"] == "imported"
    assert response.headers["location"] == f"/v1/runs/{body['id']}"
    original, imported = store.get_run(bundle["run"]["id"]), store.get_run(body["id"])
    assert body["id"] != original.id and imported.dataset_id == original.dataset_id
    assert dict(imported.metrics) == dict(original.metrics) and imported.config == original.config
    assert body["metrics"]["sharpe"] == bundle["metrics"]["sharpe"]
    assert client.post(f"/v1/runs/{body['id']}/rerun").json()["identical"] is True
    default_name = client.post("/v1/runs/import", json=bundle).json()
    assert default_name["name"] == "to export"


def test_a_bundle_whose_dataset_is_not_stored_is_a_409(settings: Settings, bundle: dict, tmp_path: Path) -> None:
    other = f"sqlite:///{tmp_path / 'other.sqlite3'}"  # another server's store: it never saw GOOG 2011-2012
    with TestClient(create_app(Settings(**{**settings.__dict__, "database_url": other}))) as c:
        problem = assert_problem(c.post("/v1/runs/import", json=bundle), 409)
        assert problem["type"].endswith("bundle-dataset-missing")
        assert bundle["dataset"]["sha256"][:12] in problem["detail"] and "upload" in problem["detail"]
        assert c.get("/v1/runs").json()["total"] == 0


def test_a_bundle_whose_rerun_differs_is_a_422_naming_the_metric(client, bundle: dict) -> None:
    tampered = {**bundle, "metrics": {**bundle["metrics"], "sharpe": bundle["metrics"]["sharpe"] + 0.01}}
    problem = assert_problem(client.post("/v1/runs/import", json=tampered), 422)
    assert problem["type"].endswith("bundle-not-reproduced") and "sharpe" in problem["detail"]
    assert client.get("/v1/runs").json()["total"] == 1  # only the exported run


def test_malformed_bundles_are_422_problems(client, bundle: dict) -> None:
    for broken in ({"format": "something-else"}, {k: v for k, v in bundle.items() if k != "config"},
                   {**bundle, "version": "new"}, {**bundle, "dataset": {}}):
        problem = assert_problem(client.post("/v1/runs/import", json=broken), 422)
        assert problem["type"].endswith("invalid-bundle"), problem
    problem = assert_problem(client.post("/v1/runs/import", json={**bundle, "config": {
        **bundle["config"], "trigger_up": -1.0}}), 422)
    assert problem["errors"][0]["field"] == "trigger_up"
    assert_problem(client.post("/v1/runs/import", content=b"not json", headers={"content-type": "application/json"}),
                   422)
    assert_problem(client.post("/v1/runs/import", json=[1, 2]), 422)
