"""The Positions page through Streamlit's AppTest on a throw-away SQLite store: open a position, evaluate, propose,
record a fill, deposit, set the anchor, book a dividend, refuse a bad fill, and restart the app with nothing lost;
plus the page's pure helpers and the Excel/CSV export."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app.views.positions import PriceQuote, position_metrics, positions_frame
from core import StrategyConfig
from core import kernel as K
from core.advisor import evaluate
from core.data import load_sample
from core.position_history import history_csv, history_excel, neutralise
from storage import ENV_VAR, Store
from storage.database import dispose_engine
from usecases.ledger import ledger

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
URL_PATH = "my-positions"


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh SQLite store per test, selected through ``$VBL_DATABASE_URL``."""
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    monkeypatch.setenv(ENV_VAR, url)
    yield url
    dispose_engine(url)


def _page() -> None:
    # Runs as the AppTest script: the page alone, wrapped like streamlit_app.py wraps it.
    from app.store_access import guard_store_errors
    from app.views.positions import positions_page

    guard_store_errors(positions_page)()


def run_page() -> AppTest:
    at = AppTest.from_function(_page, default_timeout=60).run()
    ok(at)
    return at


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def button(at: AppTest, label: str) -> Any:
    return next(b for b in at.button if b.label == label)


def widget(elements: Any, label: str) -> Any:
    return next(w for w in elements if w.label == label)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_the_full_cycle_and_a_restart(db_url: str) -> None:
    at = run_page()
    assert at.title[0].value == "Positions"
    assert any("No positions yet" in i.value for i in at.info)

    # open a position with existing holdings
    at.text_input(key="pos_new_ticker").input("goog")
    at.text_input(key="pos_new_name").input("Alphabet")
    at.number_input(key="pos_new_shares").set_value(50.0)
    at.number_input(key="pos_new_cash").set_value(5000.0)
    at.number_input(key="pos_new_anchor").set_value(100.0)
    ok(button(at, "Open position").click().run())
    assert not at.error, [e.value for e in at.error]
    store = Store(db_url)
    (position,) = ledger(store).list()
    pid = position.id
    assert (position.ticker, position.state.shares, position.state.cash) == ("GOOG", 50.0, 5000.0)
    assert at.dataframe[0].value["ticker"].tolist() == ["GOOG"]

    # evaluate at a typed price in session: the advice is the core's
    at.number_input(key=f"pos_price_{pid}").set_value(90.0)
    at.text_input(key=f"pos_price_time_{pid}").input("2024-01-03 11:00")
    ok(at.button(key=f"pos_evaluate_{pid}").click().run())
    expected = evaluate(position.state, 90.0, position.config, "2024-01-03 11:00")
    shown = metrics(at)
    assert shown["Next action"] == expected.action == "BUY"
    assert shown["Trimmed quantity"] == f"{abs(expected.qty):,.4f}"
    assert shown["Proposed quantity"] == f"{abs(expected.raw_qty):,.4f}"
    assert shown["Current price"] == "$90.00"

    # propose it, then record the fill against the order (prefilled from the advice)
    ok(at.button(key=f"pos_propose_{pid}").click().run())
    (order,) = ledger(store).list_orders(pid, open_only=True)
    assert order.qty == pytest.approx(abs(expected.qty))
    at.selectbox(key=f"pos_fill_order_{pid}").set_value(order.id)
    at.text_input(key=f"pos_fill_time_{pid}").input("2024-01-03 11:05")
    ok(button(at, "Record fill").click().run())
    assert not at.error, [e.value for e in at.error]
    shares, cash = K.execute_order(expected.qty, expected.exec_price, expected.commission, 50.0, 5000.0)
    state = ledger(store).get(pid).state
    assert (state.shares, state.cash, state.anchor) == (shares, cash, expected.exec_price)
    assert ledger(store).get_order(order.id).status == "filled"

    # a fill that would sell more than is held is refused on the page, not raised
    widget(at.selectbox, "Side").set_value("SELL")
    widget(at.number_input, "Quantity").set_value(1_000_000.0)
    ok(button(at, "Record fill").click().run())
    assert any("The fill was refused" in e.value and "holds only" in e.value for e in at.error)
    assert ledger(store).get(pid).state == state

    # deposit, then set the anchor by hand (audited)
    at.number_input(key=f"pos_cash_amount_{pid}").set_value(1000.0)
    ok(button(at, "Book").click().run())
    assert ledger(store).get(pid).state.cash == pytest.approx(cash + 1000)
    at.number_input(key=f"pos_anchor_value_{pid}").set_value(88.0)
    at.text_input(key=f"pos_anchor_reason_{pid}").input("reset after a corporate action")
    ok(button(at, "Set anchor").click().run())
    assert ledger(store).get(pid).state.anchor == 88.0
    assert store.list_audit(entity="position", entity_id=pid, action="update")[0].details["reason"] == (
        "reset after a corporate action"
    )

    # an ex-dividend shows its badge on the card
    at.date_input(key=f"pos_div_ex_{pid}").set_value(date(2024, 1, 10))
    at.number_input(key=f"pos_div_amount_{pid}").set_value(0.82)
    ok(button(at, "Book ex-dividend").click().run())
    div = ledger(store).list_dividends(pid)[0]
    assert any(div.badge in m.value for m in at.success)  # the flash after booking
    assert div.anchor_after == pytest.approx(87.18)
    assert len(at.get("download_button")) == 2

    # restart: a new app (new session, caches cleared, connections closed) on the same database
    before = ledger(store).history(pid)
    st.cache_resource.clear()
    store.close()
    dispose_engine(db_url)
    again = run_page()
    assert again.dataframe[0].value["ticker"].tolist() == ["GOOG"]
    assert ledger(Store(db_url)).history(pid) == before
    timeline = again.dataframe[-1].value
    assert timeline["event"].tolist() == [e.kind.replace("_", " ") for e in before.events]
    assert "ex dividend" in timeline["event"].tolist() and "anchor set" in timeline["event"].tolist()
    assert any(div.badge in b.value for b in again.markdown)  # the badge is back without any session state


def test_latest_close_orders_dividends_and_status(db_url: str) -> None:
    store = Store(db_url)
    pid = ledger(store).create("GOOG", StrategyConfig(), shares=50, cash=5000, anchor=100).id
    at = run_page()

    # evaluate at the latest close of the bundled GOOG sample (offered first: it matches the ticker)
    at.radio(key=f"pos_price_source_{pid}").set_value("Latest close of a dataset").run()
    assert "GOOG" in at.selectbox(key=f"pos_price_dataset_{pid}").value
    ok(at.button(key=f"pos_evaluate_{pid}").click().run())
    close = float(load_sample("GOOG").prices["close"].iloc[-1])
    assert metrics(at)["Current price"] == f"${close:,.2f}"
    assert metrics(at)["Next action"] == "SELL"

    # propose, then cancel the open order from the card
    ok(at.button(key=f"pos_propose_{pid}").click().run())
    assert any("1 open order(s)" in m.value for m in at.markdown)
    ok(at.button(key=f"pos_order_cancel_{pid}").click().run())
    assert [o.status for o in ledger(store).list_orders(pid)] == ["cancelled"]
    assert ledger(store).get(pid).state.shares == 50  # nothing traded

    # a dividend booked long ago is due: pay it from the card
    div = ledger(store).book_dividend(pid, "2024-01-10", 0.5)
    ok(at.run())
    assert any(div.badge in m.value for m in at.markdown)
    ok(at.button(key=f"pos_div_pay_due_{pid}").click().run())
    assert any("1 dividend(s) paid" in m.value for m in at.success)
    assert ledger(store).get(pid).state.receivable == 0.0

    # pause the position
    at.selectbox(key=f"pos_status_{pid}").set_value("paused").run()
    ok(at.button(key=f"pos_status_apply_{pid}").click().run())
    assert ledger(store).get(pid).status == "paused"
    assert any(m.value == ":orange-badge[paused]" for m in at.markdown)


def test_the_page_is_registered_in_the_app(db_url: str) -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    ok(at)
    pages = at._registered_pages  # filled by st.navigation on the first run
    at._page_hash = next(h for h, info in pages.items() if info.get("url_pathname") == URL_PATH)
    ok(at.run())
    assert at.title[0].value == "Positions"


def test_list_metrics_and_distances(db_url: str) -> None:
    store = Store(db_url)
    p = ledger(store).create("MSFT", StrategyConfig(), shares=10, cash=1000, anchor=100)
    m = position_metrics(p, 110.0)
    assert m["value"] == 2100 and m["stock_share"] == pytest.approx(1100 / 2100)
    assert m["to_sell"] == pytest.approx(103 / 110 - 1) and m["to_buy"] == pytest.approx(97 / 110 - 1)
    frame = positions_frame([p], {p.id: PriceQuote(110.0, pd.Timestamp("2024-01-03").to_pydatetime(), "typed")})
    assert frame.loc[0, "price_source"] == "typed" and frame.loc[0, "status"].endswith("active")
    assert positions_frame([p], {}).loc[0, "price"] == 100.0  # no quote: measured at the anchor


def test_export_is_values_only_and_defuses_formulas(db_url: str) -> None:
    store = Store(db_url)
    p = ledger(store).create("=HYPERLINK(\"x\")", StrategyConfig(), name="@evil", shares=10, cash=1000, anchor=100)
    ledger(store).deposit(p.id, 50, "+1 note")
    ledger(store).record_fill(p.id, "SELL", 2, 103.0, 1.0, at="2024-01-03 11:00")
    history = ledger(store).history(p.id)
    assert neutralise("-x") == " -x" and neutralise("ok") == "ok" and neutralise(-1.0) == -1.0

    workbook = openpyxl.load_workbook(io.BytesIO(history_excel(history)))
    assert workbook.sheetnames == ["Position", "Timeline", "Orders", "Fills", "Dividends", "Cash flows",
                                   "Anchor changes"]
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@")), cell.value
    summary = {r[0]: r[1] for r in workbook["Position"].iter_rows(min_row=2, values_only=True)}
    assert summary["ticker"] == ' =HYPERLINK("X")' and summary["name"] == " @evil" and summary["cash"] == 1255.0
    fills = list(workbook["Fills"].iter_rows(values_only=True))
    assert fills[1][fills[0].index("qty")] == 2.0  # numbers stay numbers

    csv = pd.read_csv(io.BytesIO(history_csv(history)))
    assert len(csv) == len(history.events)
    assert all(not str(v).startswith(("=", "+", "-", "@")) for v in csv["message"])
