"""The analysis pages (Robustness, Trade analysis, Risk, Regimes, Compare, Reports) through Streamlit's AppTest on
the bundled GOOG sample: each runs without an exception, and changing its key widget changes what it shows.

Every test has a private SQLite store (tests/conftest.py); runs and studies are created through the Store API.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.state import DatasetRef
from core import StrategyConfig, simulate
from core.data import load_sample
from storage import Store, TrialInput

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


def open_page(url_path: str, session: dict | None = None) -> AppTest:
    """Run the app, then switch to the page registered under ``url_path`` (function pages have no file to switch
    to, so the page hash is set directly, as tests/test_app_runs_page.py does)."""
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in (session or {}).items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    pages = at._registered_pages
    at._page_hash = next(h for h, info in pages.items() if info.get("url_pathname") == url_path)
    return rerun(at)


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def store() -> Store:
    return Store(os.environ["VBL_DATABASE_URL"])


def save_runs(*configs: StrategyConfig) -> list[int]:
    """Save one GOOG run per configuration; returns their ids in order."""
    data = load_sample("GOOG")
    with store() as s:
        dataset_id = s.save_dataset(data)
        return [
            s.save_run(dataset_id, simulate(data.prices, c, data.dividends), name=f"up {c.trigger_up:g}")
            for c in configs
        ]


def frame_with(at: AppTest, column: str):
    """The value of the first table with ``column`` among its columns or as its index name, or None (AppTest
    does not expose a display table's key)."""
    for d in at.dataframe:
        value = d.value
        if column in value.columns or value.index.name == column:
            return value
    return None


def captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


def test_trade_analysis_shows_kpis_and_regroups_by_weekday():
    at = open_page("trades")
    assert at.title[0].value == "Trade analysis"
    labels = {m.label: m.value for m in at.metric}
    assert labels["Orders"] == "410" and labels["Sells"] == "234"
    assert "GOOG" in captions(at)  # says which dataset it analyses
    months = at.dataframe[0].value
    assert "Jan" in months.columns
    at.button_group(key="trades_grouping").set_value("weekday")
    rerun(at)
    weekdays = at.dataframe[0].value
    assert list(weekdays.columns) == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
    assert int(weekdays.loc["total"].sum()) == 410


def test_risk_page_var_follows_the_confidence_level():
    at = open_page("risk-report")
    before = {m.label: m.value for m in at.metric}
    assert "VaR 95%" in before and "Beta to the stock" in before
    at.select_slider(key="risk_level").set_value(0.99)
    rerun(at)
    after = {m.label: m.value for m in at.metric}
    assert "VaR 99%" in after and after["VaR 99%"] != before["VaR 95%"]
    at.number_input(key="risk_top").set_value(3)
    rerun(at)
    assert len(at.dataframe[0].value) == 3


def test_regimes_page_switches_dimension():
    at = open_page("market-regimes")
    assert set(at.dataframe[0].value.index) == {"bull", "sideways", "bear"}
    at.button_group(key="regimes_dimension").set_value("Volatility")
    rerun(at)
    assert set(at.dataframe[0].value.index) == {"high", "low"}


def test_robustness_runs_on_demand_and_names_the_trials():
    at = open_page("robustness-checks")
    assert "N = 9: the 9 configurations of the grid" in captions(at)
    assert frame_with(at, "out_of_sample") is None  # nothing heavy before the button
    at.button(key="robustness_wf_run").click()
    rerun(at)
    folds = frame_with(at, "out_of_sample")
    assert len(folds) == 5
    at.slider(key="robustness_wf_folds").set_value(3)
    rerun(at)
    assert frame_with(at, "out_of_sample") is None  # new settings wait for the button
    at.button(key="robustness_wf_run").click()
    rerun(at)
    assert len(frame_with(at, "out_of_sample")) == 3

    at.select_slider(key="robustness_mc_paths").set_value(50)
    at.button(key="robustness_mc_run").click()
    rerun(at)
    table = frame_with(at, "actual_percentile")
    assert len(table) == 4
    assert any(m.label == "Paths beating buy & hold" for m in at.metric)


def test_robustness_uses_the_latest_study_of_a_stored_dataset():
    data = load_sample("GOOG")
    with store() as s:
        dataset_id = s.save_dataset(data)
        study_id = s.create_study(dataset_id, search_space={"trigger_up": [0.02, 0.04]}, method="grid",
                                  objective="sharpe", name="triggers")
        s.save_trials(study_id, [TrialInput(i, {"trigger_up": 0.01 * (i + 1)}, {"sharpe": 0.5 + 0.1 * i})
                                 for i in range(12)])
    at = open_page("robustness-checks", {"vbl_active_dataset": DatasetRef("stored", dataset_id)})
    assert f"N = 12: the 12 trials of the latest stored study of this dataset, “triggers” (#{study_id})" in captions(at)


def test_compare_page_highlights_and_diffs_the_chosen_runs():
    ids = save_runs(StrategyConfig(trigger_up=0.02), StrategyConfig(trigger_up=0.05), StrategyConfig())
    at = open_page("compare-runs")
    chosen = at.multiselect(key="compare_runs")
    assert len(chosen.value) == 2
    chosen.set_value(ids)
    rerun(at)
    metrics = at.dataframe[0].value
    assert len(metrics.columns) == 3
    settings = frame_with(at, "setting")
    assert list(settings.index) == ["trigger_up"]
    chosen = at.multiselect(key="compare_runs")
    chosen.set_value(ids[:1])
    rerun(at)
    assert any("at least two runs" in i.value for i in at.info)


def test_compare_page_without_runs_says_how_to_get_them():
    at = open_page("compare-runs")
    assert any("at least two saved runs" in i.value for i in at.info)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_reports_prepares_a_run_file_and_audits_it(fmt):
    (run_id,) = save_runs(StrategyConfig())
    at = open_page("download-reports")
    assert not at.get("download_button")  # nothing is built before it is asked for
    at.selectbox(key="reports_run_format").set_value(fmt)
    rerun(at)
    at.button(key="reports_prepare").click()
    rerun(at)
    assert len(at.get("download_button")) == 1
    assert f"GOOG_run{run_id}" in at.get("download_button")[0].proto.label
    with store() as s:
        entries = s.list_audit(action="export")
    assert [(e.entity, e.entity_id, e.details["format"]) for e in entries] == [("run", str(run_id), fmt)]
    at.selectbox(key="reports_run_format").set_value("pdf")
    rerun(at)
    assert not at.get("download_button")  # the prepared file belongs to the other format


def test_reports_exports_a_study_as_csv():
    data = load_sample("GOOG")
    with store() as s:
        dataset_id = s.save_dataset(data)
        study_id = s.create_study(dataset_id, search_space={"trigger_up": [0.02, 0.04]}, method="grid",
                                  objective="sharpe", name="triggers")
        s.save_trials(study_id, [TrialInput(i, {"trigger_up": 0.02 * (i + 1)}, {"sharpe": 0.5 + 0.1 * i})
                                 for i in range(2)])
    at = open_page("download-reports")
    at.radio(key="reports_kind").set_value("A study")
    rerun(at)
    at.selectbox(key="reports_study_format").set_value("csv")
    rerun(at)
    assert at.radio(key="reports_study_csv_headers").value == "labels"  # people download from the app
    at.button(key="reports_prepare").click()
    rerun(at)
    assert f"study{study_id}_trials.csv" in at.get("download_button")[0].proto.label
    at.radio(key="reports_study_csv_headers").set_value("names")
    rerun(at)
    assert not at.get("download_button")  # the prepared file had the other headers
    at.button(key="reports_prepare").click()
    rerun(at)
    with store() as s:
        details = [a.details for a in s.list_audit(entity="study", action="export", limit=None)]
    assert sorted(d["headers"] for d in details) == ["labels", "names"]
