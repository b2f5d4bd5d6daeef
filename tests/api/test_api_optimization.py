"""The optimisation endpoints against the use cases and the core they wrap."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from api_helpers import SMALL_GRID, assert_problem, create_study, wait_finished

from core.analysis import METRIC_DIRECTION, heatmap
from core.config_registry import CONFIG_FIELDS
from core.engine import METRIC_NAMES
from core.figures_optimize import study_trials
from core.metric_registry import METRICS_BY_NAME
from usecases.studies import top_trials


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(b):
        return math.isnan(a)
    return a == b


def test_metrics_lists_every_metric_with_the_registry_direction(client) -> None:
    response = client.get("/v1/optimization/metrics")
    assert response.status_code == 200
    metrics = {m["name"]: m for m in response.json()["metrics"]}
    assert list(metrics) == list(METRIC_NAMES)
    for name, m in metrics.items():
        reg = METRICS_BY_NAME[name]
        assert m["direction_sign"] == reg.direction == METRIC_DIRECTION[name]
        assert m["direction"] == ("maximise" if reg.direction > 0 else "minimise")
        assert (m["label"], m["unit"], m["definition"]) == (reg.label, reg.unit, reg.definition)


def test_result_columns_come_from_their_registry(client) -> None:
    from core.result_columns import TIMELINE_COLUMNS, TRADE_COLUMNS

    columns = client.get("/v1/optimization/result-columns").json()["columns"]
    assert [(c["table"], c["name"]) for c in columns] == [
        *(("trades", c.name) for c in TRADE_COLUMNS), *(("timeline", c.name) for c in TIMELINE_COLUMNS)]
    share = next(c for c in columns if c["name"] == "stock_share_after")
    assert (share["label"], share["kind"]) == ("Stock share after", "pct")
    # The names are the CSV export's headers.
    run_id = client.post("/v1/backtests", json={"dataset": "GOOG", "save": True}).json()["run_id"]
    header = client.get(f"/v1/runs/{run_id}/report.csv").text.splitlines()[0].split(",")
    assert header == [c["name"] for c in columns if c["table"] == "trades"]


def test_parameter_types_come_from_the_configuration_registry(client) -> None:
    params = client.get("/v1/optimization/parameter-types").json()["parameters"]
    assert [p["name"] for p in params] == [f.name for f in CONFIG_FIELDS]
    for p, f in zip(params, CONFIG_FIELDS, strict=True):
        assert (p["kind"], p["unit"], p["default"], p["help"], p["label"]) == (f.kind, f.unit, f.default, f.help,
                                                                              f.label)
        if f.numeric:
            assert p["range"]["text"] == f.bounds.text()
            assert (p["range"]["low"], p["range"]["high"]) == (f.bounds.low, f.bounds.high)
        else:
            assert p["range"] is None
        assert p["choices"] == (list(f.choices) or None)


def test_create_returns_the_id_and_the_combination_count(client, store) -> None:
    created = create_study(client, search_space={**SMALL_GRID, "sizing": ["proportional", "original"]})
    assert created["combinations"] == 12 and created["n_planned"] == 12 and created["status"] == "draft"
    record = store.get_study(created["id"])
    assert record.n_planned == 12 and record.method == "grid"
    shown = client.get(f"/v1/optimization/configs/{created['id']}").json()
    assert shown["id"] == created["id"] and shown["status"] == "draft"
    assert shown["search_space"] == record.search_space.to_dict()
    assert shown["constraints"] == ["max_drawdown>=-0.5"]
    assert shown["dataset_id"] == created["dataset_id"] == record.dataset_id
    assert shown["base_config"]["trigger_up"] == 0.03  # the registry's default


def test_random_and_bayes_need_n_trials(client) -> None:
    body = {"dataset": "GOOG", "search_space": SMALL_GRID, "method": "random"}
    problem = assert_problem(client.post("/v1/optimization/configs", json=body), 422)
    assert "number of trials" in problem["detail"]
    created = client.post("/v1/optimization/configs", json={**body, "n_trials": 4}).json()
    assert created["n_planned"] == 4 and created["combinations"] == 6


def test_start_progress_results_and_heatmap_equal_the_use_cases(client, store) -> None:
    study_id = create_study(client)["id"]
    started = client.post(f"/v1/optimization/configs/{study_id}/start")
    assert started.status_code == 202
    progress = wait_finished(client, study_id)
    assert progress["state"] == "completed" and progress["done"] == progress["total"] == 6
    assert progress["fraction"] == 1.0

    again = client.post(f"/v1/optimization/configs/{study_id}/start")
    assert "completed" in assert_problem(again, 409)["detail"]

    page = client.get(f"/v1/optimization/configs/{study_id}/results", params={"feasible_only": False}).json()
    expected = top_trials(store, study_id, None, feasible_only=False)
    assert page["total"] == len(expected) == 6
    assert [t["index"] for t in page["items"]] == expected["index"].tolist()
    for item, (_, row) in zip(page["items"], expected.iterrows(), strict=True):
        assert item["params"] == {"trigger_up": row["param.trigger_up"], "trigger_down": row["param.trigger_down"]}
        for m in METRIC_NAMES:
            assert _same(item["metrics"][m] if item["metrics"][m] is not None else math.nan, float(row[m]))
        assert item["score"] == pytest.approx(row["score"], abs=0)

    feasible = client.get(f"/v1/optimization/configs/{study_id}/results").json()
    assert feasible["total"] == len(top_trials(store, study_id, None, feasible_only=True))

    by_trades = client.get(f"/v1/optimization/configs/{study_id}/results",
                           params={"sort": "n_trades", "limit": 2, "offset": 1, "feasible_only": False}).json()
    best_first = METRIC_DIRECTION["n_trades"] < 0  # fewer trades is better: ascending
    ordered = expected.sort_values("n_trades", ascending=best_first, kind="stable")["index"].tolist()
    assert [t["index"] for t in by_trades["items"]] == ordered[1:3]
    descending = client.get(f"/v1/optimization/configs/{study_id}/results",
                           params={"sort": "-n_trades", "feasible_only": False}).json()
    counts = [t["metrics"]["n_trades"] for t in descending["items"]]
    assert counts == sorted(counts, reverse=True)

    trials = study_trials(store.list_trials(study_id, status="completed"))
    for agg in ("max", "mean"):
        response = client.get(f"/v1/optimization/configs/{study_id}/heatmap",
                              params={"x": "trigger_up", "y": "trigger_down", "metric": "cagr", "agg": agg})
        assert response.status_code == 200, response.text
        hm = response.json()
        grid = heatmap(trials, "trigger_up", "trigger_down", "cagr", agg)
        assert hm["x_values"] == grid.columns.tolist() and hm["y_values"] == grid.index.tolist()
        assert np.array_equal(np.array(hm["values"], dtype=float), grid.to_numpy(dtype=float), equal_nan=True)
    default = client.get(f"/v1/optimization/configs/{study_id}/heatmap").json()
    assert (default["x"], default["y"], default["metric"]) == ("trigger_up", "trigger_down", "sharpe")


def test_pause_cancel_resume(client, store) -> None:
    study_id = create_study(client)["id"]
    assert_problem(client.post(f"/v1/optimization/configs/{study_id}/pause"), 409)  # a draft cannot pause
    store.set_study_status(study_id, "running")
    paused = client.post(f"/v1/optimization/configs/{study_id}/pause")
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    resumed = client.post(f"/v1/optimization/configs/{study_id}/resume")
    assert resumed.status_code == 202, resumed.text
    assert wait_finished(client, study_id)["state"] == "completed"
    assert store.count_trials(study_id) == 6
    assert "nothing to resume" in assert_problem(client.post(f"/v1/optimization/configs/{study_id}/resume"),
                                                 409)["detail"]

    other = create_study(client)["id"]
    cancelled = client.post(f"/v1/optimization/configs/{other}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert store.get_study(other).status == "cancelled"
    assert_problem(client.post(f"/v1/optimization/configs/{other}/start"), 409)


# --- errors -----------------------------------------------------------------------------------------------------


def test_a_bad_range_names_the_parameter(client) -> None:
    body = {"dataset": "GOOG", "search_space": {"trigger_up": "0.05:0.01:0.01"}}
    problem = assert_problem(client.post("/v1/optimization/configs", json=body), 422)
    assert problem["type"].endswith("invalid-search-space")
    [error] = problem["errors"]
    assert error["field"] == "trigger_up" and error["range"] == "(0, inf)"
    assert "empty" in error["message"]

    unknown = client.post("/v1/optimization/configs", json={"search_space": {"trigger_upp": "0.01:0.02:0.01"}})
    assert "did you mean trigger_up" in assert_problem(unknown, 422)["detail"]

    too_big = client.post("/v1/optimization/configs", json={"search_space": SMALL_GRID, "max_grid": 5})
    assert "more than the maximum" in assert_problem(too_big, 422)["detail"]


def test_a_bad_base_configuration_names_the_field_and_its_range(client) -> None:
    body = {"search_space": SMALL_GRID, "base_config": {"trigger_down": 1.5}}
    problem = assert_problem(client.post("/v1/optimization/configs", json=body), 422)
    assert problem["type"].endswith("invalid-configuration")
    [error] = problem["errors"]
    assert error["field"] == "trigger_down" and error["range"] == "(0, 1)"
    assert error["location"] == ["base_config", "trigger_down"]


def test_unknown_metric_is_a_422(client) -> None:
    problem = assert_problem(client.post("/v1/optimization/configs",
                                         json={"search_space": SMALL_GRID, "objective": "sharpee"}), 422)
    assert problem["type"].endswith("unknown-metric") and "did you mean sharpe" in problem["detail"]
    assert "sharpe" in problem["errors"][0]["valid"]
    bad_constraint = client.post("/v1/optimization/configs",
                                 json={"search_space": SMALL_GRID, "constraints": ["drawdown>=-0.2"]})
    assert_problem(bad_constraint, 422)

    study_id = create_study(client)["id"]
    for path, params in (("heatmap", {"metric": "nope"}), ("results", {"sort": "-nope"})):
        problem = assert_problem(client.get(f"/v1/optimization/configs/{study_id}/{path}", params=params), 422)
        assert problem["type"].endswith("unknown-metric")
        assert problem["errors"][0]["valid"] == list(METRIC_NAMES)
    assert_problem(client.get(f"/v1/optimization/configs/{study_id}/heatmap", params={"x": "sizing"}), 422)
    assert_problem(client.get(f"/v1/optimization/configs/{study_id}/heatmap", params={"agg": "sum"}), 422)
    # no trials yet: an empty grid, not an error
    empty = client.get(f"/v1/optimization/configs/{study_id}/heatmap").json()
    assert empty["values"] == [] and empty["n_trials"] == 0


@pytest.mark.parametrize("path", ["", "/progress", "/results", "/heatmap"])
def test_a_missing_study_is_a_404_problem(client, path: str) -> None:
    problem = assert_problem(client.get(f"/v1/optimization/configs/999{path}"), 404)
    assert "999" in problem["detail"]


@pytest.mark.parametrize("action", ["start", "pause", "cancel", "resume"])
def test_actions_on_a_missing_study_are_404(client, action: str) -> None:
    assert_problem(client.post(f"/v1/optimization/configs/999/{action}"), 404)


def test_a_bad_body_is_a_422_problem_naming_the_field(client) -> None:
    problem = assert_problem(client.post("/v1/optimization/configs",
                                         json={"search_space": SMALL_GRID, "method": "genetic"}), 422)
    assert problem["errors"][0]["field"] == "method"
    problem = assert_problem(client.post("/v1/optimization/configs",
                                         json={"search_space": SMALL_GRID, "base_config": {"trigger_up": "high"}}),
                             422)
    error = problem["errors"][0]
    assert error["field"] == "base_config.trigger_up" and error["range"] == "(0, inf)"
    assert_problem(client.post("/v1/optimization/configs", json={"dataset": "GOOG"}), 422)  # no search space
    assert_problem(client.post("/v1/optimization/configs", content=b"{not json",
                               headers={"content-type": "application/json"}), 422)


def test_results_on_a_study_without_trials(client) -> None:
    study_id = create_study(client)["id"]
    page = client.get(f"/v1/optimization/configs/{study_id}/results").json()
    assert page["total"] == 0 and page["items"] == []
    assert isinstance(pd.DataFrame(page["items"]), pd.DataFrame)
