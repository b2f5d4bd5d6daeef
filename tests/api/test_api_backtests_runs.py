"""Backtests, stored runs and their reports against core.simulate and the run use cases."""

from __future__ import annotations

import io
import json
import math

import pytest
from api_helpers import assert_problem

from api.schemas import ConfigModel
from core import StrategyConfig, simulate
from core.config_registry import CONFIG_FIELDS
from core.data import load_sample, select_period
from core.report.exports import MIME
from usecases.runs import verify_run

START, END = "2011-01-01", "2012-06-30"


def _goog_period():
    goog = load_sample("GOOG")
    from datetime import date

    prices, dividends = select_period(goog.prices, goog.dividends, date(2011, 1, 1), date(2012, 6, 30))
    return prices, dividends


def _finite_equal(api: dict, core: dict) -> None:
    assert set(api) == set(core)
    for k, v in core.items():
        if isinstance(v, float) and not math.isfinite(v):
            assert api[k] is None
        else:
            assert api[k] == v, k


def test_the_config_model_is_generated_from_the_registry() -> None:
    fields = ConfigModel.model_fields
    assert list(fields) == [f.name for f in CONFIG_FIELDS]
    for f in CONFIG_FIELDS:
        assert fields[f.name].default == f.default
        assert fields[f.name].description == f.help and fields[f.name].title == f.label
    assert ConfigModel().model_dump() == StrategyConfig().to_dict()


def test_backtest_metrics_and_trades_equal_core_simulate(client) -> None:
    cfg = {"trigger_up": 0.04, "trigger_down": 0.05, "sizing": "original", "commission_rate": 0.0005}
    response = client.post("/v1/backtests", json={"dataset": "GOOG", "start": START, "end": END, "config": cfg,
                                                  "include_timeline": True})
    assert response.status_code == 200, response.text
    body = response.json()
    prices, _ = _goog_period()
    expected = simulate(prices, StrategyConfig(**cfg))
    _finite_equal(body["metrics"], expected.metrics)
    assert body["n_trades"] == len(expected.trades) == len(body["trades"])
    assert [t["qty"] for t in body["trades"]] == expected.trades["qty"].tolist()
    assert [t["reason"] for t in body["trades"]] == expected.trades["reason"].tolist()
    assert len(body["timeline"]) == len(expected.timeline)
    assert [r["value"] for r in body["timeline"]] == expected.timeline["value"].tolist()
    assert body["config"] == StrategyConfig(**cfg).to_dict()
    assert set(body["benchmarks"]) == {"buy_and_hold", "static_mix"}
    assert "run_id" not in body


def test_backtest_on_a_stored_dataset_saved_as_a_run(client, store) -> None:
    goog = load_sample("GOOG")
    dataset_id = store.save_dataset(goog)
    response = client.post("/v1/backtests", json={"dataset": dataset_id, "save": True, "name": "api run",
                                                  "tags": ["api"], "include_trades": False})
    assert response.status_code == 201, response.text
    body = response.json()
    assert "trades" not in body and body["dataset"]["id"] == dataset_id
    run = store.get_run(body["run_id"])
    assert run.name == "api run" and run.tags == ("api",) and run.dataset_id == dataset_id
    expected = simulate(goog.prices, StrategyConfig())
    assert dict(run.metrics) == expected.metrics or all(
        (math.isnan(v) and math.isnan(run.metrics[k])) or run.metrics[k] == v for k, v in expected.metrics.items())


def test_backtest_errors(client) -> None:
    problem = assert_problem(client.post("/v1/backtests", json={"config": {"trigger_up": -0.01}}), 422)
    [error] = problem["errors"]
    assert error["field"] == "trigger_up" and error["range"] == "(0, inf)" and "-0.01" in error["message"]
    problem = assert_problem(client.post("/v1/backtests", json={"config": {"guardrail_min": 0.8}}), 422)
    assert problem["errors"][0]["field"] == "guardrail_max" and "guardrail_min" in problem["detail"]
    problem = assert_problem(client.post("/v1/backtests", json={"config": {"trigger_upp": 0.02}}), 422)
    assert problem["errors"][0]["field"] == "config.trigger_upp"
    problem = assert_problem(client.post("/v1/backtests", json={"config": {"auto_rebalance": 1}}), 422)
    assert problem["errors"][0]["field"] == "config.auto_rebalance"
    problem = assert_problem(client.post("/v1/backtests", json={"config": {"sizing": "huge"}}), 422)
    assert problem["errors"][0]["choices"] == ["proportional", "fixed_fraction", "original"]
    assert_problem(client.post("/v1/backtests", json={"dataset": "NOPE"}), 404)
    assert_problem(client.post("/v1/backtests", json={"dataset": 4242}), 404)
    problem = assert_problem(client.post("/v1/backtests", json={"start": "2013-01-01", "end": "2012-01-01"}), 422)
    assert problem["type"].endswith("invalid-data")


@pytest.fixture
def run_id(client) -> int:
    response = client.post("/v1/backtests", json={"dataset": "GOOG", "start": START, "end": END, "save": True,
                                                  "name": "report run"})
    assert response.status_code == 201, response.text
    return int(response.json()["run_id"])


def test_runs_list_show_rerun_delete(client, store, run_id: int) -> None:
    listed = client.get("/v1/runs").json()
    assert listed["total"] == 1 and [r["id"] for r in listed["items"]] == [run_id]
    shown = client.get(f"/v1/runs/{run_id}").json()
    record = store.get_run(run_id)
    assert shown["name"] == "report run" and shown["config"] == record.config.to_dict()
    assert len(shown["trades"]) == len(store.get_run_trades(run_id))
    rerun = client.post(f"/v1/runs/{run_id}/rerun").json()
    check = verify_run(store, run_id)
    assert rerun["identical"] is True is check.identical and rerun["differences"] == []
    assert_problem(client.get("/v1/runs", params={"sort": "-nope"}), 422)
    assert client.delete(f"/v1/runs/{run_id}").status_code == 204
    for method, path in (("GET", f"/v1/runs/{run_id}"), ("POST", f"/v1/runs/{run_id}/rerun"),
                         ("DELETE", f"/v1/runs/{run_id}"), ("GET", f"/v1/runs/{run_id}/report.json")):
        assert_problem(client.request(method, path), 404)


def test_run_reports(client, store, run_id: int) -> None:
    import openpyxl

    xlsx = client.get(f"/v1/runs/{run_id}/report.xlsx", params={"template": "performance"})
    assert xlsx.status_code == 200 and xlsx.headers["content-type"] == MIME["xlsx"]
    assert "attachment" in xlsx.headers["content-disposition"]
    assert "Summary" in openpyxl.load_workbook(io.BytesIO(xlsx.content)).sheetnames
    pdf = client.get(f"/v1/runs/{run_id}/report.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == MIME["pdf"] and pdf.content[:5] == b"%PDF-"
    bundle = client.get(f"/v1/runs/{run_id}/report.json")
    assert bundle.status_code == 200 and bundle.headers["content-type"].startswith(MIME["json"])
    data = json.loads(bundle.content)
    stored = store.get_run(run_id).metrics
    assert data["metrics"]["sharpe"] == stored["sharpe"]
    assert client.get(f"/v1/runs/{run_id}/report.docx").status_code == 422
    assert store.list_audit(entity="run", action="export", limit=None)


def test_run_csv_and_chart_exports_equal_the_direct_builds(client, store, run_id: int) -> None:
    from core.report.bundle import run_csv
    from core.report.images import png_size
    from usecases.reports import run_report_from_store

    csv = client.get(f"/v1/runs/{run_id}/report.csv", params={"table": "metrics"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.content.decode("utf-8") == run_csv(run_report_from_store(store, run_id), "metrics")
    labelled = client.get(f"/v1/runs/{run_id}/report.csv", params={"table": "metrics", "headers": "labels"})
    assert labelled.content.decode("utf-8") == run_csv(run_report_from_store(store, run_id), "metrics", "labels")
    assert labelled.content.startswith(b"Metric,Unit,Strategy,Buy & hold,Static mix\n")
    assert_problem(client.get(f"/v1/runs/{run_id}/report.csv", params={"headers": "pretty"}), 422)
    png = client.get(f"/v1/runs/{run_id}/report.png", params={"chart": "drawdown", "width": 600, "height": 300,
                                                              "scale": 1})
    assert png.status_code == 200 and png.headers["content-type"] == MIME["png"]
    assert png_size(png.content) == (600, 300)
    assert "drawdown" in png.headers["content-disposition"]
    svg = client.get(f"/v1/runs/{run_id}/report.svg", params={"chart": "equity"})
    assert svg.status_code == 200 and b"<svg" in svg.content[:500]
    for params in ({"scale": 0}, {"width": -100}, {"chart": "pie"}, {"table": "nope"}):
        body = assert_problem(client.get(f"/v1/runs/{run_id}/report.png", params=params), 422)
        assert body["errors"], body


def test_a_study_report_over_http(client, store) -> None:
    import openpyxl
    from api_helpers import create_study, wait_finished

    study_id = create_study(client)["id"]
    assert client.post(f"/v1/optimization/configs/{study_id}/start").status_code == 202
    wait_finished(client, study_id)
    xlsx = client.get(f"/v1/studies/{study_id}/report.xlsx", params={"top_n": 3})
    assert xlsx.status_code == 200 and xlsx.headers["content-type"] == MIME["xlsx"]
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert {"All Trials", "Top 3"} <= set(book.sheetnames)
    assert book["All Trials"].max_row == 1 + 6  # a header and the six trials
    pdf = client.get(f"/v1/studies/{study_id}/report.pdf", params={"heatmap": "trigger_up,trigger_down"})
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    assert_problem(client.get(f"/v1/studies/{study_id}/report.png", params={"heatmap": "trigger_up"}), 422)
    assert_problem(client.get("/v1/studies/999/report.xlsx"), 404)
    assert store.list_audit(entity="study", action="export", limit=None)


def test_a_nul_in_a_run_filter_is_a_422_problem(client) -> None:
    body = assert_problem(client.get("/v1/runs", params={"name_contains": "a\x00b"}), 422)
    assert "NUL" in body["detail"]
