"""The Runs page: saved backtests, filtered and sorted; re-run one from the database alone, edit or delete it.

One function, :func:`runs_page`, registered with ``st.navigation`` in ``streamlit_app.py``. Everything goes
through :class:`storage.Store` (see :mod:`app.store_access`), never a database session.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from app.config_form import settings_summary
from app.store_access import open_store_or_report, parse_tags, store_errors
from app.table_columns import metric_columns
from app.widgets import backtest_kpis, flash, render_kpis, show_chart, show_flash
from core import SimulationResult
from core.figures import drawdown_figure, equity_figure
from usecases.runs import RerunCheck, rerun, verify_run
from usecases.store import DatasetInfo, RunFilter, RunRecord, Store

# Sort choices offered on the page: label -> Store.list_runs sort key (without the direction prefix).
SORT_KEYS: dict[str, str] = {
    "Created": "created_at",
    "Total return": "total_return",
    "CAGR": "cagr",
    "Sharpe": "sharpe",
    "Max drawdown": "max_drawdown",
    "Trades": "n_trades",
    "Name": "name",
}
MAX_LISTED = 500  # rows in the table; more matches are counted and the filters narrow them down
TAG_SCAN = 1000  # the newest runs whose tags are offered in the tag filter
_RERUN = "runs_rerun_state"


@dataclass(frozen=True)
class RerunOutcome:
    """A re-run shown on the page, kept in the session so that widget changes do not re-simulate it."""

    run_id: int
    created_at: datetime  # with the id, identifies the run even if SQLite hands out a deleted run's id again
    check: RerunCheck
    result: SimulationResult


def runs_frame(records: Sequence[RunRecord], datasets: Mapping[int, DatasetInfo]) -> pd.DataFrame:
    """The table of saved runs: one row per run with its name, dataset, time, tags and headline metrics."""
    rows: list[dict[str, Any]] = []
    for r in records:
        info = datasets.get(r.dataset_id)
        rows.append(
            {
                "id": r.id,
                "name": r.name,
                "dataset": info.name if info is not None else f"dataset {r.dataset_id}",
                "created": pd.Timestamp(r.created_at).tz_convert(None),  # UTC, shown without an offset
                "tags": ", ".join(r.tags),
                "total_return": r.metrics.get("total_return"),
                "cagr": r.metrics.get("cagr"),
                "sharpe": r.metrics.get("sharpe"),
                "max_drawdown": r.metrics.get("max_drawdown"),
                "n_trades": r.n_trades,
            }
        )
    columns = ["id", "name", "dataset", "created", "tags", "total_return", "cagr", "sharpe", "max_drawdown", "n_trades"]
    frame = pd.DataFrame(rows, columns=columns)
    for metric in ("total_return", "cagr", "sharpe", "max_drawdown"):
        frame[metric] = pd.to_numeric(frame[metric], errors="coerce")  # None (NaN stored as NULL) -> NaN
    frame["n_trades"] = frame["n_trades"].astype("Int64")
    return frame


def _table_columns() -> dict[str, Any]:
    cc = st.column_config
    return {
        "id": cc.NumberColumn("Run", format="%d"),
        "name": cc.TextColumn("Name", width="medium"),
        "dataset": cc.TextColumn("Dataset", width="medium"),
        "created": cc.DatetimeColumn("Created (UTC)", format="YYYY-MM-DD HH:mm"),
        "tags": cc.TextColumn("Tags"),
        **metric_columns(("total_return", "cagr", "sharpe", "max_drawdown", "n_trades")),
    }


def runs_page() -> None:
    """List the saved runs; re-run, edit or delete the selected one."""
    st.title("Saved runs")
    st.caption(
        "Backtests saved from the Backtest page or with `python -m cli backtest --save`. A run is re-run from the "
        "dataset and settings stored with it, so it reproduces without the original files or a download."
    )
    show_flash()

    store = open_store_or_report()
    if store is None:
        return

    with store_errors("The saved runs could not be listed"):
        datasets = {info.id: info for info in store.list_datasets()}
        known_tags = sorted({tag for r in store.list_runs(limit=TAG_SCAN) for tag in r.tags}, key=str.lower)

        left, middle, right, direction = st.columns([2, 3, 2, 1], vertical_alignment="bottom")
        tag = left.selectbox(
            "Tag", [None, *known_tags], format_func=lambda t: "Any tag" if t is None else t, key="runs_tag"
        )
        dataset_id = middle.selectbox(
            "Dataset",
            [None, *datasets],
            format_func=lambda i: "Any dataset" if i is None else f"{datasets[i].name} (#{i})",
            key="runs_dataset",
        )
        sort_label = right.selectbox("Sort by", list(SORT_KEYS), key="runs_sort")
        descending = direction.toggle("Descending", value=True, key="runs_descending")

        flt = RunFilter(dataset_id=dataset_id, tag=tag)
        sort = f"{'-' if descending else ''}{SORT_KEYS[sort_label]}"
        records = store.list_runs(flt, sort=sort, limit=MAX_LISTED)
        if not records:
            st.info(
                "No saved runs match. Save one with the form at the bottom of the Backtest page."
                if tag is None and dataset_id is None
                else "No saved runs match these filters.",
                icon=":material/info:",
            )
            return
        total = store.count_runs(flt) if len(records) == MAX_LISTED else len(records)
        st.caption(f"{total:,} run(s)" + (f"; the first {MAX_LISTED:,} are listed" if total > len(records) else ""))
        st.dataframe(runs_frame(records, datasets), hide_index=True, column_config=_table_columns(), key="runs_table")

        by_id = {r.id: r for r in records}
        run_id = st.selectbox(
            "Run", list(by_id), format_func=lambda i: f"#{i} {by_id[i].name}".rstrip(), key="runs_selected"
        )
        if run_id is not None:
            run_details(store, by_id[run_id], datasets.get(by_id[run_id].dataset_id))


def run_details(store: Store, record: RunRecord, dataset: DatasetInfo | None) -> None:
    """One run: what it was, its stored metrics, a verified re-run, and forms to edit or delete it."""
    st.header(f"Run {record.id}: {record.name or 'unnamed'}")
    period = ""
    if dataset is not None and dataset.first_timestamp is not None and dataset.last_timestamp is not None:
        period = f", {dataset.first_timestamp:%Y-%m-%d} to {dataset.last_timestamp:%Y-%m-%d} ({dataset.n_rows:,} bars)"
    dataset_text = f"{dataset.name}{period}" if dataset is not None else f"dataset {record.dataset_id}"
    st.caption(
        f"Dataset: {dataset_text}. Saved {record.created_at:%Y-%m-%d %H:%M} UTC with engine {record.engine_version}."
        + (f" Tags: {', '.join(record.tags)}." if record.tags else "")
    )
    if record.notes:
        st.markdown(record.notes)
    st.caption(settings_summary(record.config))
    render_kpis(backtest_kpis(record.metrics))

    rerun_section(store, record)
    edit_section(store, record)
    delete_section(store, record)


def rerun_section(store: Store, record: RunRecord) -> None:
    """Re-run the stored run from the database alone and say whether it reproduced the stored results exactly."""
    st.subheader("Re-run")
    if st.button("Re-run from the database", icon=":material/replay:", key="runs_rerun"):
        with store_errors(f"Run {record.id} could not be re-run"), st.spinner("Re-running…"):
            # verify_run re-simulates to compare metrics and trades; rerun gives the timeline for the charts.
            check = verify_run(store, record.id)
            result = rerun(store, record.id)
            st.session_state[_RERUN] = RerunOutcome(record.id, record.created_at, check, result)
    outcome: RerunOutcome | None = st.session_state.get(_RERUN)
    if outcome is None or (outcome.run_id, outcome.created_at) != (record.id, record.created_at):
        st.caption("Simulates the run again from the stored dataset and settings and compares it with what was saved.")
        return
    check = outcome.check
    if check.identical:
        st.success(
            f"Reproduced exactly: the metrics and the trades are bit for bit the stored ones "
            f"(engine {check.current_engine_version}).",
            icon=":material/verified:",
        )
    else:
        engines = (
            f" The run was saved with engine {check.stored_engine_version}; this is {check.current_engine_version}."
            if check.stored_engine_version != check.current_engine_version
            else ""
        )
        shown = "\n".join(f"- {d}" for d in check.differences[:20])
        st.warning(f"**Not reproduced exactly.**{engines}\n\n{shown}", icon=":material/warning:")
    result = outcome.result
    render_kpis(backtest_kpis(result.metrics))
    show_chart(equity_figure(result.equity, result.benchmarks), key="runs_equity")
    show_chart(drawdown_figure(result.equity, result.benchmarks), key="runs_drawdown")


def edit_section(store: Store, record: RunRecord) -> None:
    """Change the run's name, tags and notes (its results cannot change)."""
    with st.expander("Edit name, tags and notes", icon=":material/edit:"):
        # Keys carry the run id so that another run's form starts from that run's values.
        with st.form(f"runs_edit_{record.id}"):
            name = st.text_input("Name", value=record.name, max_chars=200, key=f"runs_edit_name_{record.id}")
            tags = st.text_input(
                "Tags", value=", ".join(record.tags), help="Separated by commas.", key=f"runs_edit_tags_{record.id}"
            )
            notes = st.text_area("Notes", value=record.notes, key=f"runs_edit_notes_{record.id}")
            submitted = st.form_submit_button("Save changes")
        if submitted:
            with store_errors(f"Run {record.id} could not be changed"):
                store.update_run(record.id, name=name, tags=parse_tags(tags), notes=notes)
                flash(f"Run {record.id} updated.")


def delete_section(store: Store, record: RunRecord) -> None:
    """Delete the run after an explicit confirmation (its dataset stays; other runs may use it)."""
    with st.expander("Delete run", icon=":material/delete:"):
        confirmed = st.checkbox(
            f"Yes, delete run {record.id} ({record.name or 'unnamed'}) and its trades",
            key=f"runs_delete_confirm_{record.id}",
        )
        if st.button("Delete", type="primary", disabled=not confirmed, key="runs_delete"):
            with store_errors(f"Run {record.id} could not be deleted"):
                store.delete_run(record.id)
                st.session_state.pop(_RERUN, None)
                flash(f"Run {record.id} deleted.")
