"""The Schedules page and the Reports page's "Send now", through Streamlit's AppTest on the test's own store."""

from __future__ import annotations

from pathlib import Path

from test_app_home_data_audit import open_page, run_app, save_goog_run

from app.navigation import url_path
from storage import Store


def _button(at, label: str):
    return next(b for b in at.button if b.label == label)


def test_create_run_now_pause_and_history(tmp_path: Path) -> None:
    run_id = save_goog_run("weekly goog")
    at = open_page(run_app(), url_path("schedules"))
    assert any("No schedules yet" in i.value for i in at.info)
    at.text_input(key="sched_name").set_value("Monday GOOG")
    at.text_input(key="sched_cadence").set_value("weekly mon 07:30")
    at.text_area(key="sched_to").set_value(f"file://{tmp_path}/\n")
    at.selectbox(key="sched_format").set_value("csv")
    next(b for b in at.button if b.label == "Create the schedule").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Schedule #1 created; first report" in s.value for s in at.success)
    with Store() as store:
        [schedule] = store.list_schedules()
    assert (schedule.name, schedule.cron, schedule.timezone) == ("Monday GOOG", "30 7 * * mon", "Europe/Zurich")
    assert schedule.subject["id"] == run_id and schedule.subject["format"] == "csv"

    _button(at, "Run now").click().run()
    assert any("sent to 1 of 1 destination(s)" in s.value for s in at.success)
    assert [p.name for p in tmp_path.iterdir()] == [f"GOOG_run{run_id}_trades.csv"]
    history = next(df.value for df in at.dataframe if "attempts" in df.value.columns)
    assert list(history["status"]) == ["✅ sent"]

    _button(at, "Pause").click().run()
    with Store() as store:
        assert store.get_schedule(schedule.id).status == "paused"
    assert any(b.label == "Resume" for b in at.button)


def test_a_bad_cadence_is_shown_and_nothing_is_created(tmp_path: Path) -> None:
    save_goog_run()
    at = open_page(run_app(), url_path("schedules"))
    at.text_input(key="sched_name").set_value("bad")
    at.text_input(key="sched_cadence").set_value("every full moon")
    at.text_area(key="sched_to").set_value(f"file://{tmp_path}/")
    next(b for b in at.button if b.label == "Create the schedule").click().run()
    assert any("The schedule was not created" in e.value and "is not a cadence" in e.value for e in at.error)
    with Store() as store:
        assert store.list_schedules() == []


def test_reports_page_sends_the_chosen_export_now(tmp_path: Path) -> None:
    run_id = save_goog_run()
    at = open_page(run_app(), url_path("reports"))
    at.selectbox(key="reports_run_format").set_value("json").run()
    at.text_area(key="reports_send_run_to").set_value(f"file://{tmp_path}/")
    next(b for b in at.button if b.label == "Send now").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(f"Sent to file://{tmp_path}/" in s.value for s in at.success)
    assert [p.name for p in tmp_path.iterdir()] == [f"GOOG_run{run_id}_bundle.json"]
    at.text_area(key="reports_send_run_to").set_value("s3://key:secret@bucket/")
    next(b for b in at.button if b.label == "Send now").click().run()
    assert any("Nothing was sent" in e.value and "credentials never go" in e.value for e in at.error)


def test_the_watch_list_on_home_and_positions() -> None:
    import pandas as pd

    from core import StrategyConfig
    from core.data import MarketData
    from usecases.ledger import ledger

    with Store() as store:
        ledger(store).create("ACME", StrategyConfig(trigger_up=0.05, trigger_down=0.05), shares=50.0, cash=5000.0,
                             anchor=100.0, at="2026-11-30")
        index = pd.date_range("2026-11-30", periods=3, freq="B")
        store.save_dataset(MarketData(prices=pd.DataFrame({"close": [100.0, 101.0, 107.0]}, index=index),
                                      dividends=pd.DataFrame(columns=["ex_date", "amount", "pay_date"]),
                                      name="ACME daily", symbol="ACME", interval="1d", price_basis="raw",
                                      source="csv"))
    at = run_app()
    watch = next(df.value for df in at.dataframe if "to sell trigger" in df.value.columns)
    assert list(watch["ticker"]) == ["ACME"] and list(watch["state"]) == ["🔴 Action due"]
    assert any("1 position(s) need an order now" in e.value for e in at.error)
    at = open_page(at, url_path("positions"))
    watch = next(df.value for df in at.dataframe if "to sell trigger" in df.value.columns)
    assert list(watch["action"]) == ["SELL"]
    with Store() as store:
        [entry] = store.list_audit(entity="position_alert")
    assert entry.details["state"] == "action_due"
