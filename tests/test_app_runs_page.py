"""Saving runs from the Backtest page and the Runs page, through Streamlit's AppTest, on a throw-away SQLite store."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app.store_access import parse_tags
from app.views.runs import runs_frame
from core import StrategyConfig, simulate
from core.data import load_sample
from core.metric_table import format_metric
from storage import ENV_VAR, Store
from storage.database import dispose_engine, get_engine
from storage.migrate import current_revision, head_revision

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
BACKTEST_URL_PATH = "run-backtest"
RUNS_URL_PATH = "saved-runs"


@pytest.fixture
def db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh SQLite store per test, selected through ``$VBL_DATABASE_URL`` (never the default under var/)."""
    path = tmp_path / "app.sqlite3"
    url = f"sqlite:///{path}"
    monkeypatch.setenv(ENV_VAR, url)
    yield path
    dispose_engine(url)


def url_of(path: Path) -> str:
    return f"sqlite:///{path}"


def run_app() -> AppTest:
    """The app opened on the Backtest page (Home is the default page)."""
    # Generous timeout: the first simulate in a fresh process may have to load or compile the Numba kernel.
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    return open_page(at, BACKTEST_URL_PATH)


def open_page(at: AppTest, url_path: str) -> AppTest:
    """Switch pages. AppTest.switch_page only knows file pages; ours are functions behind a url_path."""
    pages = at._registered_pages  # filled by st.navigation on the first run
    at._page_hash = next(h for h, info in pages.items() if info.get("url_pathname") == url_path)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_runs_page(at: AppTest) -> AppTest:
    """Switch to the Runs page."""
    return open_page(at, RUNS_URL_PATH)


def shown_metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def save_sample_runs(path: Path) -> dict[str, int]:
    """Three runs straight through the store API: two on GOOG (different settings and tags), one on SP500."""
    runs: dict[str, int] = {}
    with Store(url_of(path)) as store:
        for key, name, tags, config in [
            ("GOOG", "goog tight", ["sweep", "goog"], StrategyConfig(trigger_up=0.02, trigger_down=0.02)),
            ("GOOG", "goog wide", ["sweep"], StrategyConfig(trigger_up=0.1, trigger_down=0.1)),
            ("SP500", "index default", ["index"], StrategyConfig()),
        ]:
            data = load_sample(key)
            result = simulate(data.prices, config, data.dividends if len(data.dividends) else None)
            runs[name] = store.save_run(store.save_dataset(data), result, name=name, tags=tags)
    return runs


def table(at: AppTest) -> pd.DataFrame:
    return at.dataframe[0].value


def test_save_on_the_backtest_page_then_rerun_it_exactly_on_the_runs_page(db_path):
    at = run_app()
    assert not at.error
    stored_kpis = shown_metrics(at)
    at.text_input(key="save_run_name").set_value("my baseline")
    at.text_input(key="save_run_tags").set_value("baseline, goog, baseline")
    at.text_area(key="save_run_notes").set_value("first try")
    at.button(key="FormSubmitter:backtest_save_run-Save run").click().run()
    assert not at.exception and not at.error
    message = at.success[0].value
    found = re.match(r"Saved as run (\d+) \(dataset (\d+)\)", message)
    assert found, message
    run_id = int(found.group(1))

    with Store(url_of(db_path)) as store:
        record = store.get_run(run_id)
        assert (record.name, record.tags, record.notes) == ("my baseline", ("baseline", "goog"), "first try")
        assert store.get_dataset(record.dataset_id).sha256 == load_sample("GOOG").sha256()

    # Saving again stores a second run on the same dataset (datasets are kept once per content hash).
    at.button(key="FormSubmitter:backtest_save_run-Save run").click().run()
    assert at.success[0].value.startswith(f"Saved as run {run_id + 1} (dataset {found.group(2)})")

    open_runs_page(at)
    assert not at.error
    assert at.title[0].value == "Saved runs"
    rows = table(at)
    assert sorted(rows["id"]) == [run_id, run_id + 1]
    first = rows.set_index("id").loc[run_id]
    assert first["name"] == "my baseline" and first["tags"] == "baseline, goog"
    assert first["dataset"] == load_sample("GOOG").name

    at.selectbox(key="runs_selected").set_value(run_id).run()
    assert shown_metrics(at) == stored_kpis  # the stored metrics read exactly as on the Backtest page
    at.button(key="runs_rerun").click().run()
    assert not at.exception and not at.error
    assert any(s.value.startswith("Reproduced exactly") for s in at.success)
    labels = [m.label for m in at.metric]
    assert len(labels) == 2 * len(stored_kpis)  # stored cards, then the re-run's cards
    rerun_cards = dict(zip(labels[len(stored_kpis) :], [m.value for m in at.metric][len(stored_kpis) :], strict=True))
    assert rerun_cards == stored_kpis
    assert len(at.get("plotly_chart")) == 2  # equity and drawdown of the re-run


def test_runs_page_filters_sorts_edits_and_deletes(db_path):
    runs = save_sample_runs(db_path)
    at = open_runs_page(run_app())
    assert len(table(at)) == 3

    at.selectbox(key="runs_tag").set_value("sweep").run()
    assert set(table(at)["name"]) == {"goog tight", "goog wide"}
    at.selectbox(key="runs_tag").set_value(None).run()

    with Store(url_of(db_path)) as store:
        goog_dataset = store.get_run(runs["goog wide"]).dataset_id
        sharpe = {name: store.get_run(i).metrics["sharpe"] for name, i in runs.items()}
    at.selectbox(key="runs_dataset").set_value(goog_dataset).run()
    assert set(table(at)["name"]) == {"goog tight", "goog wide"}
    at.selectbox(key="runs_dataset").set_value(None).run()

    at.selectbox(key="runs_sort").set_value("Sharpe").run()
    assert list(table(at)["name"]) == sorted(sharpe, key=lambda n: -sharpe[n])
    at.toggle(key="runs_descending").set_value(False).run()
    assert list(table(at)["name"]) == sorted(sharpe, key=lambda n: sharpe[n])
    assert list(table(at)["sharpe"]) == sorted(sharpe.values())

    # Edit the selected run's name, tags and notes.
    run_id = runs["goog wide"]
    at.selectbox(key="runs_selected").set_value(run_id).run()
    at.text_input(key=f"runs_edit_name_{run_id}").set_value("goog wide (renamed)")
    at.text_input(key=f"runs_edit_tags_{run_id}").set_value("sweep, keep")
    at.text_area(key=f"runs_edit_notes_{run_id}").set_value("worth a second look")
    at.button(key=f"FormSubmitter:runs_edit_{run_id}-Save changes").click().run()
    assert not at.exception and not at.error
    assert at.success[0].value == f"Run {run_id} updated."
    row = table(at).set_index("id").loc[run_id]
    assert (row["name"], row["tags"]) == ("goog wide (renamed)", "sweep, keep")
    with Store(url_of(db_path)) as store:
        assert store.get_run(run_id).notes == "worth a second look"

    # Delete it: the button stays disabled until the deletion is confirmed.
    at.selectbox(key="runs_selected").set_value(run_id).run()
    assert at.button(key="runs_delete").disabled
    at.checkbox(key=f"runs_delete_confirm_{run_id}").check().run()
    assert not at.button(key="runs_delete").disabled
    at.button(key="runs_delete").click().run()
    assert not at.exception and not at.error
    assert at.success[0].value == f"Run {run_id} deleted."
    assert run_id not in set(table(at)["id"])
    with Store(url_of(db_path)) as store:
        assert store.count_runs() == 2


def test_runs_page_without_runs_says_how_to_save_one(db_path):
    at = open_runs_page(run_app())
    assert not at.error
    assert "Backtest page" in at.info[0].value
    assert not at.dataframe


def test_a_corrupt_database_is_an_error_box_not_a_traceback(db_path):
    junk = b"definitely not SQLite\x00\x13\x37" * 300
    db_path.write_bytes(junk)
    at = run_app()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "Runs cannot be saved" in message
    assert "is damaged" in message and "move the file aside" in message
    assert shown_metrics(at)  # the backtest itself still works
    assert not at.get("form")  # but there is nothing to save into

    open_runs_page(at)
    assert not at.exception
    assert len(at.error) == 1 and "is damaged" in at.error[0].value
    assert db_path.read_bytes() == junk  # reported, never overwritten


def test_a_missing_table_is_an_error_box_not_a_traceback(db_path):
    save_sample_runs(db_path)
    dispose_engine(url_of(db_path))
    with sqlite3.connect(db_path) as conn:
        conn.execute("DROP TABLE runs")
    conn.close()
    at = open_runs_page(run_app())
    assert not at.exception
    assert len(at.error) == 1 and "lacks table(s) runs" in at.error[0].value


def test_the_app_upgrades_an_existing_database_on_start(db_path):
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")  # an existing database without the run store's schema
    conn.close()
    at = run_app()
    assert not at.error
    assert current_revision(get_engine(url_of(db_path))) == head_revision()


def test_a_store_error_inside_any_page_is_shown_not_raised():
    def page() -> None:
        import streamlit as st

        from app.store_access import guard_store_errors
        from storage import StoreFull

        @guard_store_errors
        def failing() -> None:
            st.write("before")
            raise StoreFull("the disk is full; free some space and try again")

        failing()

    at = AppTest.from_function(page).run()
    assert not at.exception
    assert at.error[0].value.endswith("the disk is full; free some space and try again")


def test_parse_tags_and_runs_frame(db_path):
    assert parse_tags(" a, b ,,a, c d ") == ["a", "b", "c d"]
    assert parse_tags("") == []
    runs = save_sample_runs(db_path)
    with Store(url_of(db_path)) as store:
        records = store.list_runs(sort="id")
        frame = runs_frame(records, {d.id: d for d in store.list_datasets()})
    assert list(frame["id"]) == sorted(runs.values())
    assert list(frame.columns) == [
        "id",
        "name",
        "dataset",
        "created",
        "tags",
        "total_return",
        "cagr",
        "sharpe",
        "max_drawdown",
        "n_trades",
    ]
    assert frame.loc[0, "tags"] == "sweep, goog"
    assert format_metric("total_return", frame.loc[0, "total_return"]) == format_metric(
        "total_return", records[0].metrics["total_return"]
    )
    assert frame.loc[0, "n_trades"] == records[0].n_trades
