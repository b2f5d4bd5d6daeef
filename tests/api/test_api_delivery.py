"""``/v1/deliveries`` and ``/v1/schedules`` over HTTP: sending now, schedules, and their problems."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest
from api_helpers import assert_problem

from core import StrategyConfig, simulate
from core.data import load_sample, select_period
from core.report.exports import run_export
from usecases.reports import run_report_from_store
from usecases.store import Store


@pytest.fixture
def run_id(store: Store) -> int:
    goog = load_sample("GOOG")
    prices, dividends = select_period(goog.prices, goog.dividends, date(2011, 1, 1), date(2012, 6, 30))
    period = dataclasses.replace(goog, prices=prices, dividends=dividends, name="GOOG 2011 to mid-2012")
    dataset_id = store.save_dataset(period)  # the run's own bars: a stored run is re-run on its whole dataset
    return store.save_run(dataset_id, simulate(prices, StrategyConfig(), dividends), name="api run")


def test_send_now_to_a_folder_returns_one_record_per_destination(client, store: Store, run_id: int,
                                                                  tmp_path: Path) -> None:
    body = {"subject": {"kind": "run", "id": run_id, "format": "json"},
            "destinations": [f"file://{tmp_path}/"]}
    response = client.post("/v1/deliveries", json=body)
    assert response.status_code == 200, response.text
    [item] = response.json()["items"]
    direct = run_export(run_report_from_store(store, run_id), "json")
    assert (item["status"], item["size_bytes"], item["filename"]) == ("sent", len(direct.data), direct.filename)
    assert (tmp_path / direct.filename).read_bytes() == direct.data
    listed = client.get("/v1/deliveries").json()["items"]
    assert [d["id"] for d in listed] == [item["id"]]


@pytest.mark.parametrize(("subject", "destinations", "status", "field"), [
    ({"kind": "run", "id": 1, "format": "json"}, ["s3://key:secret@bucket/"], 422, "destinations"),
    ({"kind": "run", "id": 1, "format": "json"}, ["nonsense"], 422, "destinations"),
    ({"kind": "position", "id": 1, "format": "pdf"}, ["a@example.com"], 422, "subject"),
    ({"kind": "run", "id": 1, "format": "docx"}, ["a@example.com"], 422, "subject.format"),
    ({"kind": "run", "id": 1, "format": "pdf", "options": {"colour": "red"}}, ["a@example.com"], 422, "subject"),
])
def test_bad_send_bodies_are_problems_naming_the_field(client, run_id: int, subject, destinations, status,
                                                       field) -> None:
    problem = assert_problem(client.post("/v1/deliveries", json={"subject": subject, "destinations": destinations}),
                             status)
    assert any(e["field"] == field for e in problem["errors"]), problem
    assert "key:secret" not in str(problem)  # a destination's credentials are never echoed


def test_sending_a_run_that_does_not_exist_is_a_404(client) -> None:
    body = {"subject": {"kind": "run", "id": 999, "format": "pdf"}, "destinations": ["a@example.com"]}
    assert "no run with id 999" in assert_problem(client.post("/v1/deliveries", json=body), 404)["detail"]


def test_schedule_life_cycle(client, run_id: int, tmp_path: Path) -> None:
    body = {"name": "Monday GOOG", "subject": {"kind": "run", "id": run_id, "format": "csv",
                                               "options": {"table": "trades"}},
            "cadence": "weekly mon 07:30", "timezone": "Europe/Zurich", "destinations": [f"file://{tmp_path}/"]}
    created = client.post("/v1/schedules", json=body)
    assert created.status_code == 201, created.text
    schedule = created.json()
    assert (schedule["cron"], schedule["status"]) == ("30 7 * * mon", "active")
    assert schedule["next_slot"] is not None
    assert assert_problem(client.post("/v1/schedules", json=body), 409)
    sid = schedule["id"]
    assert [s["id"] for s in client.get("/v1/schedules").json()["items"]] == [sid]
    paused = client.post(f"/v1/schedules/{sid}/pause").json()
    assert (paused["status"], paused["next_slot"]) == ("paused", None)
    assert client.get("/v1/schedules", params={"status": "active"}).json()["items"] == []
    assert client.post(f"/v1/schedules/{sid}/resume").json()["status"] == "active"
    [sent] = client.post(f"/v1/schedules/{sid}/run").json()["items"]
    assert sent["status"] == "sent" and sent["schedule_id"] == sid
    assert (tmp_path / sent["filename"]).exists()
    history = client.get(f"/v1/schedules/{sid}/deliveries").json()["items"]
    assert [d["id"] for d in history] == [sent["id"]]
    assert client.delete(f"/v1/schedules/{sid}").status_code == 204
    assert_problem(client.get(f"/v1/schedules/{sid}"), 404)
    assert_problem(client.get(f"/v1/schedules/{sid}/deliveries"), 404)


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"cadence": "now and then"}, "cadence", "is not a cadence"),
    ({"timezone": "Mars/Base"}, "timezone", "unknown time zone"),
    ({"destinations": ["ftp://u:p@host/x/"]}, "destinations", "credentials never go in a destination"),
])
def test_bad_schedules_are_problems_naming_the_field(client, run_id: int, change, field, message) -> None:
    body = {"name": "bad", "subject": {"kind": "run", "id": run_id, "format": "pdf"}, "cadence": "daily 08:00",
            "destinations": ["a@example.com"], **change}
    problem = assert_problem(client.post("/v1/schedules", json=body), 422)
    assert message in problem["detail"] and problem["errors"][0]["field"] == field
