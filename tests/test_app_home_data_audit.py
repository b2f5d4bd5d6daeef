"""The Home, Data and Audit log pages through Streamlit's AppTest (each test has its own SQLite store, conftest.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app.navigation import url_path
from app.state import DatasetRef
from app.views import audit, home
from app.views.audit import audit_frame, filter_audit
from app.views.data import guess_mapping, raw_table, remap_csv
from core import DataError, StrategyConfig, simulate
from core.data import fetch_yahoo, load_sample
from core.figures import candlestick_figure
from storage import Store

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
PRICES_CSV = (
    b"Date,Open,High,Low,Close,Volume\n"
    b"2024-01-02,10,11,9,10.5,100\n"
    b"2024-01-03,10.5,11,10,10.8,120\n"
    b"2024-01-04,10.8,11.2,10.1,10.2,90\n"
    b"2024-01-05,10.2,10.9,10.0,10.6,95\n"
)
DIVIDENDS_CSV = b"Ex Date,Amount\n2024-01-03,0.25\n"
# Nothing here names a close column the loader knows ("Px"), and decimals use a comma: the mapping must step in.
UNSURE_CSV = b"Day;Px;Qty\n2024-01-02;10,5;100\n2024-01-03;10,8;120\n2024-01-04;10,2;90\n2024-01-05;10,6;95\n"


def run_app() -> AppTest:
    # Generous timeout: the first simulate in a fresh process may have to load or compile the Numba kernel.
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_page(at: AppTest, url_path: str) -> AppTest:
    """Switch pages the way a click in the menu does (AppTest.switch_page only knows file pages)."""
    at._page_hash = next(h for h, i in at._registered_pages.items() if i.get("url_pathname") == url_path)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def frame(at: AppTest, column: str) -> pd.DataFrame:
    """The first table on the page with ``column`` (AppTest does not expose a dataframe's key)."""
    return next(df.value for df in at.dataframe if column in df.value.columns)


def save_goog_run(name: str = "goog baseline") -> int:
    data_ = load_sample("GOOG")
    with Store() as store:
        return store.save_run(store.save_dataset(data_), simulate(data_.prices, StrategyConfig()), name=name)


# --- Home -----------------------------------------------------------------------------------------------------------


def test_home_is_the_default_page_and_lists_recent_runs():
    save_goog_run("goog baseline")
    at = run_app()
    assert not at.error
    assert at.title[0].value == "Volatility Balancing Lab"
    runs = frame(at, "trades")
    assert list(runs["name"]) == ["goog baseline"]
    assert "No optimisation studies yet." in [i.value for i in at.info]


def test_the_demo_opens_the_backtest_on_bundled_data_with_the_defaults():
    at = run_app()
    at.button(key="home_demo").click().run()
    assert not at.exception and not at.error
    assert at.title[0].value == "Backtest"
    assert at.selectbox(key="backtest_dataset").value == DatasetRef("sample", "GOOG")
    assert at.number_input(key="cfg_trigger_up").value == 3.0
    assert len(at.metric) == 10


# --- Data -----------------------------------------------------------------------------------------------------------


def test_data_page_shows_candles_dividends_and_the_quality_report():
    at = open_page(run_app(), url_path("data"))
    assert not at.error
    assert at.title[0].value == "Market data"
    assert len(at.get("plotly_chart")) == 1
    cards = {m.label: m.value for m in at.metric}
    assert cards["Bars"] == f"{len(load_sample('GOOG').prices):,}"
    at.selectbox(key="data_dataset").set_value(DatasetRef("sample", "SP500")).run()
    assert not at.exception and not at.error
    assert {m.label: m.value for m in at.metric}["Bars"] == f"{len(load_sample('SP500').prices):,}"
    assert "No dividend events in this dataset." in [c.value for c in at.caption]


def test_csv_upload_previews_saves_and_becomes_the_active_dataset():
    at = open_page(run_app(), url_path("data"))
    at.file_uploader(key="data_csv").set_value(("abc.csv", PRICES_CSV, "text/csv"))
    at.file_uploader(key="data_div_csv").set_value(("abc_div.csv", DIVIDENDS_CSV, "text/csv")).run()
    assert not at.exception and not at.error
    assert len(frame(at, "Volume")) == 4
    assert at.success[0].value.startswith("Recognised ABC") and "1 dividends" in at.success[0].value
    at.button(key="data_csv_save").click().run()
    assert not at.exception and not at.error
    assert "it is now the active dataset" in at.success[0].value
    assert list(frame(at, "ex_date")["amount"]) == [0.25]  # the dividends table of the active dataset
    with Store() as store:
        (stored,) = store.list_datasets()
    assert (stored.symbol, stored.n_rows, stored.source) == ("ABC", 4, "csv")
    assert at.selectbox(key="data_dataset").value == DatasetRef("stored", stored.id)
    with Store() as store:
        assert store.list_audit(entity="dataset", action="create", limit=1)[0].entity_id == str(stored.id)

    # Every page now works on it.
    open_page(at, url_path("backtest"))
    assert not at.error
    assert at.selectbox(key="backtest_dataset").value == DatasetRef("stored", stored.id)
    assert at.metric


def test_an_unsure_csv_gets_a_column_mapping():
    at = open_page(run_app(), url_path("data"))
    at.file_uploader(key="data_csv").set_value(("unsure.csv", UNSURE_CSV, "text/csv")).run()
    assert not at.exception
    assert "no close column" in at.error[0].value and "Column mapping" in at.error[0].value
    assert at.selectbox(key="data_map_date").value == 0  # "Day" is recognised as the date
    assert at.selectbox(key="data_map_close").value is None
    at.selectbox(key="data_map_close").set_value(1)
    at.selectbox(key="data_map_volume").set_value(2)
    at.button(key="data_csv_apply_mapping").click().run()
    assert not at.exception and not at.error
    assert "columns close, volume" in at.success[0].value
    at.button(key="data_csv_save").click().run()
    with Store() as store:
        (stored,) = store.list_datasets()
        prices = store.load_market_data(stored.id).prices
    assert list(prices["close"]) == [10.5, 10.8, 10.2, 10.6]  # the decimal commas survived the remapping


def test_yahoo_offline_is_a_clear_error(monkeypatch):
    def offline(*args, **kwargs):
        raise ConnectionError("Failed to resolve 'query1.finance.yahoo.com'")

    # The real fetch_yahoo (cache, retries, message) with the network replaced by a failure and no waiting.
    monkeypatch.setattr(
        "core.data.fetch_yahoo",
        lambda *a, **k: fetch_yahoo(*a, **k, downloader=offline, sleep=lambda s: None),
    )
    at = open_page(run_app(), url_path("data"))
    at.text_input(key="yahoo_symbol").set_value("MSFT")
    at.button(key="yahoo_download").click().run()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "The download from Yahoo Finance failed" in message and "could not reach Yahoo Finance" in message
    assert "bundled dataset" in message


def test_a_yahoo_download_is_saved_and_made_active(monkeypatch):
    seen: list[tuple] = []

    def fake_fetch(symbol, start, end, interval="1d", **kwargs):
        seen.append((symbol, start, end, interval))
        return load_sample("MSFT")

    monkeypatch.setattr("core.data.fetch_yahoo", fake_fetch)
    at = open_page(run_app(), url_path("data"))
    at.text_input(key="yahoo_symbol").set_value("MSFT")
    at.date_input(key="yahoo_start").set_value(date(2015, 1, 1))
    at.date_input(key="yahoo_end").set_value(date(2016, 1, 1))
    at.button(key="yahoo_download").click().run()
    assert not at.exception and not at.error
    assert seen == [("MSFT", date(2015, 1, 1), date(2016, 1, 1), "1d")]
    assert "it is now the active dataset" in at.success[0].value
    with Store() as store:
        (stored,) = store.list_datasets()
    assert at.selectbox(key="data_dataset").value == DatasetRef("stored", stored.id)


def test_column_mapping_helpers():
    table = raw_table(UNSURE_CSV)
    assert table.header == ["Day", "Px", "Qty"]
    assert guess_mapping(table.header)["date"] == 0 and guess_mapping(table.header)["close"] is None
    with pytest.raises(DataError, match="close"):
        remap_csv(table, {"date": 0, "close": None})
    assert remap_csv(table, {"date": 0, "close": 1}).splitlines()[:2] == [b"Date;Close", b"2024-01-02;10,5"]


def test_candlestick_figure_has_candles_and_volume():
    prices = load_sample("GOOG").prices
    fig = candlestick_figure(prices)
    assert [type(t).__name__ for t in fig.data] == ["Candlestick", "Bar"]
    no_ohlc = candlestick_figure(prices[["close"]])
    assert [t.name for t in no_ohlc.data] == ["Close"]


# --- Audit log ------------------------------------------------------------------------------------------------------


def test_audit_page_lists_filters_and_downloads():
    run_id = save_goog_run("audited run")
    with Store() as store:
        store.record_audit("export", "run", run_id, {"format": "xlsx"})
    at = open_page(run_app(), url_path("audit"))
    assert not at.error
    assert at.title[0].value == "Audit log"
    table = frame(at, "actor")
    assert {"create", "export"} <= set(table["action"])
    assert {"run", "preset", "dataset"} <= set(table["entity"])

    at.selectbox(key="audit_action").set_value("export").run()
    assert list(frame(at, "actor")["entity_id"]) == [str(run_id)]
    at.selectbox(key="audit_action").set_value(audit.ANY)
    at.text_input(key="audit_search").set_value("Conservative").run()
    assert set(frame(at, "actor")["entity"]) == {"preset"}

    # Downloading the log is itself an export and lands in the log.
    at.get("download_button")[0].click().run()
    with Store() as store:
        latest = store.list_audit(limit=1)[0]
    assert (latest.action, latest.entity, latest.details["format"]) == ("export", "audit_log", "csv")


def test_audit_filter_is_pure():
    with Store() as store:
        frame = audit_frame(store.list_audit(limit=None))  # the seeded default presets
    assert len(filter_audit(frame, entity="preset")) == len(frame) == 3
    assert filter_audit(frame, action="delete").empty
    assert len(filter_audit(frame, text="ACTIVE")) == 1
    assert filter_audit(frame, since=date(2999, 1, 1)).empty
    assert isinstance(filter_audit(frame), pd.DataFrame)


def test_home_helpers_make_small_tables():
    save_goog_run("one")
    with Store() as store:
        frame = home.recent_runs_frame(store.list_runs(limit=5))
    assert list(frame.columns) == ["id", "name", "created", "total_return", "sharpe", "trades"]
    assert home.recent_studies_frame([]).empty
