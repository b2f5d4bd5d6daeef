"""The Schedules page: reports that arrive by themselves — list, create, pause, resume, run now, delete, and every
delivery with its outcome.

One function, :func:`schedules_page`. The reports are sent by the scheduler process (``python -m cli scheduler``),
which reads the schedules from the same store; this page only edits them and shows what was delivered.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app.delivery_widgets import DESTINATIONS_HELP, destination_lines, render_deliveries
from app.store_access import open_store_or_report, store_errors
from app.widgets import flash, show_flash
from usecases.delivery import (
    FORMATS,
    CadenceError,
    DestinationError,
    ReportSubject,
    SubjectError,
    create_schedule,
    next_slot,
    pause_schedule,
    resume_schedule,
    run_schedule_now,
)
from usecases.ledger import ledger
from usecases.store import SCHEDULE_ACTIVE, ConflictError, ScheduleRecord, Store

CADENCE_EXAMPLES: tuple[str, ...] = ("weekly mon 07:30", "weekdays 07:00", "daily 18:00", "monthly 1 06:00",
                                     "hourly :00", "0 8 * * mon-fri")
ZONES: tuple[str, ...] = ("UTC", "Europe/Zurich", "Europe/London", "America/New_York", "America/Chicago",
                          "Asia/Tokyo", "Asia/Hong_Kong", "Australia/Sydney")
KIND_TITLES: dict[str, str] = {"run": "A saved run", "study": "A study", "portfolio": "A portfolio",
                               "position": "A held position"}
LATEST_DATA_KINDS = ("run", "portfolio")  # re-run on the newest stored data before each report
MAX_HISTORY = 200


def schedules_frame(schedules: list[ScheduleRecord]) -> pd.DataFrame:
    """The schedules as a table with each one's next slot."""
    return pd.DataFrame({
        "id": [s.id for s in schedules],
        "name": [s.name for s in schedules],
        "report": [f"{s.subject['kind']} {s.subject['id']} as {s.subject['format']}" for s in schedules],
        "cadence": [f"{s.cadence} ({s.timezone})" for s in schedules],
        "next (UTC)": [next_slot(s) for s in schedules],
        "status": [s.status for s in schedules],
        "destinations": [", ".join(s.destinations) for s in schedules],
    })


def _subject_choices(store: Store, kind: str) -> dict[int, str]:
    if kind == "run":
        return {r.id: f"#{r.id} {r.name}".rstrip() for r in store.list_runs(limit=200)}
    if kind == "study":
        return {s.id: f"#{s.id} {s.name} ({s.method})" for s in store.list_studies()}
    if kind == "portfolio":
        return {p.id: f"#{p.id} {p.name} ({', '.join(c.name for c in p.cells)})" for p in store.list_portfolios()}
    return {p.id: f"#{p.id} {p.ticker} {p.name}".rstrip() for p in ledger(store).list()}


def new_schedule_section(store: Store) -> None:
    """The form that creates a schedule."""
    kind = st.radio("Report", list(KIND_TITLES), format_func=KIND_TITLES.get, horizontal=True, key="sched_kind")
    choices = _subject_choices(store, kind or "run")
    if not choices:
        st.info(f"There is no {kind} to report on yet.", icon=":material/info:")
        return
    with st.form("sched_new"):
        left, right = st.columns(2)
        subject_id = left.selectbox("Which", list(choices), format_func=choices.get, key="sched_subject")
        fmt = right.selectbox("Format", FORMATS[kind or "run"], key="sched_format")
        name = left.text_input("Name", key="sched_name", placeholder="Monday GOOG report")
        latest = right.checkbox("Re-run on the newest data of the stock", key="sched_latest",
                                disabled=kind not in LATEST_DATA_KINDS,
                                help="Each report re-runs the saved configuration on the newest stored dataset of "
                                     "the same symbol (import the latest prices on the Data page).")
        cadence = left.text_input("When", value=CADENCE_EXAMPLES[0], key="sched_cadence",
                                  help="For example " + ", ".join(f"'{c}'" for c in CADENCE_EXAMPLES) +
                                       " (the last is a cron expression).")
        zone = right.selectbox("Time zone", ZONES, index=1, key="sched_zone", accept_new_options=True)
        text = st.text_area("Send to", key="sched_to", height=80, help=DESTINATIONS_HELP,
                            placeholder="mailto:team@example.com\ns3://team-reports/weekly/")
        submitted = st.form_submit_button("Create the schedule", icon=":material/add_alarm:")
    if not submitted:
        return
    options: dict[str, Any] = {"latest_data": True} if latest and kind in LATEST_DATA_KINDS else {}
    try:
        subject = ReportSubject(kind or "run", int(subject_id), str(fmt), options)
        schedule = create_schedule(store, name, subject, cadence, timezone=str(zone),
                                   destinations=destination_lines(text))
    except (CadenceError, DestinationError, SubjectError, ConflictError, ValueError) as exc:
        st.error(f"**The schedule was not created.** {exc}", icon=":material/error:")
        return
    nxt = next_slot(schedule)
    flash(f"Schedule #{schedule.id} created; first report {nxt:%Y-%m-%d %H:%M} UTC." if nxt else
          f"Schedule #{schedule.id} created.")


def schedule_actions(store: Store, schedule: ScheduleRecord) -> None:
    """Pause or resume, run now, delete, and the schedule's deliveries."""
    cols = st.columns(3)
    if schedule.status == SCHEDULE_ACTIVE:
        if cols[0].button("Pause", icon=":material/pause:", key=f"sched_pause_{schedule.id}"):
            pause_schedule(store, schedule.id)
            flash(f"Schedule #{schedule.id} paused.")
    elif cols[0].button("Resume", icon=":material/play_arrow:", key=f"sched_resume_{schedule.id}"):
        resume_schedule(store, schedule.id)
        flash(f"Schedule #{schedule.id} resumes at its next slot.")
    if cols[1].button("Run now", icon=":material/send:", key=f"sched_run_{schedule.id}"):
        with st.spinner("Sending…"):
            records = run_schedule_now(store, schedule.id)
        sent = sum(r.status == "sent" for r in records)
        flash(f"Schedule #{schedule.id}: sent to {sent} of {len(records)} destination(s).")
    if cols[2].button("Delete", icon=":material/delete:", key=f"sched_delete_{schedule.id}"):
        store.delete_schedule(schedule.id)
        flash(f"Schedule #{schedule.id} deleted; its delivery history is kept.")
    st.subheader("Deliveries")
    render_deliveries(store.list_deliveries(schedule_id=schedule.id, limit=MAX_HISTORY),
                      key=f"sched_history_{schedule.id}")


def schedules_page() -> None:
    """List, create and manage schedules; show the delivery history."""
    st.title("Schedules")
    st.caption("Reports sent by themselves: by e-mail or to storage (a bucket, a shared folder), at their time. "
               "The scheduler process sends them: `python -m cli scheduler` (or `make stack`).")
    show_flash()
    store = open_store_or_report()
    if store is None:
        return
    with store_errors("The schedules could not be read"):
        schedules = store.list_schedules()
        with st.expander("New schedule", expanded=not schedules, icon=":material/add_alarm:"):
            new_schedule_section(store)
        if not schedules:
            st.info("No schedules yet.", icon=":material/info:")
        else:
            st.dataframe(schedules_frame(schedules), hide_index=True, width="stretch", key="sched_table",
                         column_config={"next (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})
            by_id = {s.id: s for s in schedules}
            chosen = st.selectbox("Schedule", list(by_id), format_func=lambda i: f"#{i} {by_id[i].name}",
                                  key="sched_chosen")
            schedule_actions(store, by_id[chosen])
        with st.expander("Every delivery", icon=":material/history:"):
            render_deliveries(store.list_deliveries(limit=MAX_HISTORY), key="sched_all_history")
