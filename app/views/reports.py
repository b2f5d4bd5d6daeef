"""The Reports page: choose a saved run, several runs or a study and download it as Excel, PDF, CSV, JSON or a
chart image.

One function, :func:`reports_page`, registered with ``st.navigation`` in ``streamlit_app.py``. Files are built by
:mod:`core.report.exports` only when asked for (the "Prepare" button): a PDF or a chart image takes a moment, and
a chart image needs the headless browser, so nothing is rendered while the page is merely shown. Every prepared
export is recorded in the store's audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from app.delivery_widgets import send_now_form
from app.navigation import page_link
from app.store_access import open_store_or_report, store_errors
from app.widgets import csv_headers_choice
from core.figures import RUN_CHARTS
from core.report.bundle import CSV_TABLES
from core.report.excel_run import TEMPLATE_TITLES, TEMPLATES
from core.report.exports import Export, run_export, runs_export, study_export
from core.report.images import ImageExportError
from core.report.pdf import PAGE_SIZES
from usecases.delivery import ReportSubject
from usecases.reports import run_report_from_store, study_report_from_store
from usecases.store import Store

MAX_LISTED = 200
_READY = "reports_ready"  # (what was asked for, Export) of the last prepared file
FORMATS: dict[str, str] = {"xlsx": "Excel workbook", "pdf": "PDF report", "csv": "CSV table", "json": "JSON bundle",
                           "png": "Chart image (PNG)", "svg": "Chart image (SVG)"}
STUDY_FORMATS: tuple[str, ...] = ("xlsx", "pdf", "csv", "png", "svg")
CHART_TITLES: dict[str, str] = {"equity": "Equity", "drawdown": "Drawdown", "stock_share": "Stock share",
                                "price_anchor": "Price and anchor"}


def _prepare(store: Store, request: tuple[Any, ...], build: Callable[[], Export], entity: str, entity_id: Any,
             details: dict[str, Any]) -> None:
    """Build the file on the button press, remember it for the download button and record the export."""
    if st.button("Prepare the file", icon=":material/build:", key="reports_prepare"):
        try:
            with st.spinner("Preparing the file…"):
                export = build()
        except ImageExportError as exc:
            st.error(f"**The chart could not be drawn.** {exc}", icon=":material/error:")
            return
        except ValueError as exc:
            st.error(f"**The file could not be prepared.** {exc}\n\nChoose another format or option.",
                     icon=":material/error:")
            return
        store.record_audit("export", entity, entity_id, {**details, "filename": export.filename})
        st.session_state[_READY] = (request, export)
    ready = st.session_state.get(_READY)
    if ready is not None and ready[0] == request:
        export: Export = ready[1]
        st.download_button(f"Download {export.filename}", export.data, file_name=export.filename, mime=export.mime,
                           icon=":material/download:", type="primary", key="reports_download")
        st.caption(f"{len(export.data):,} bytes.")


def _run_section(store: Store) -> None:
    records = store.list_runs(limit=MAX_LISTED)
    if not records:
        st.info("No saved runs yet. Save a backtest with the form on the Backtest page.", icon=":material/info:")
        return
    by_id = {r.id: r for r in records}
    run_id = st.selectbox("Run", list(by_id), format_func=lambda i: f"#{i} {by_id[i].name}".rstrip(),
                          key="reports_run")
    fmt = st.selectbox("Format", list(FORMATS), format_func=FORMATS.get, key="reports_run_format")
    options: dict[str, Any] = {}
    if fmt == "xlsx":
        options["template"] = st.selectbox("Workbook", list(TEMPLATES), format_func=TEMPLATE_TITLES.get,
                                           key="reports_template")
    elif fmt == "pdf":
        options["page_size"] = st.selectbox("Page size", list(PAGE_SIZES), format_func=str.upper, key="reports_page")
    elif fmt == "csv":
        options["table"] = st.selectbox("Table", CSV_TABLES, format_func=lambda t: t.replace("_", " ").capitalize(),
                                        key="reports_table")
        options["headers"] = csv_headers_choice("reports_csv_headers")
    elif fmt in ("png", "svg"):
        options["chart"] = st.selectbox("Chart", RUN_CHARTS, format_func=CHART_TITLES.get, key="reports_chart")
    request = ("run", run_id, fmt, tuple(sorted(options.items())))
    _prepare(store, request, lambda: run_export(run_report_from_store(store, run_id), fmt, **options), "run", run_id,
             {"format": fmt, **options})
    _send_section(store, ReportSubject("run", run_id, fmt, options))


def _runs_section(store: Store) -> None:
    records = store.list_runs(limit=MAX_LISTED)
    if len(records) < 2:
        st.info("Several runs need at least two saved runs.", icon=":material/info:")
        return
    by_id = {r.id: r for r in records}
    chosen = st.multiselect("Runs", list(by_id), default=list(by_id)[:2],
                            format_func=lambda i: f"#{i} {by_id[i].name}".rstrip(), key="reports_runs")
    template = st.selectbox("Workbook", list(TEMPLATES), format_func=TEMPLATE_TITLES.get, key="reports_runs_template")
    st.caption("One Excel workbook: a summary sheet and one sheet per run.")
    if not chosen:
        st.info("Choose at least one run.", icon=":material/info:")
        return
    request = ("runs", tuple(chosen), template)
    _prepare(store, request,
             lambda: runs_export([run_report_from_store(store, i) for i in chosen], template=template),
             "run", ",".join(str(i) for i in chosen), {"format": "xlsx", "runs": list(chosen), "template": template})


def _study_section(store: Store) -> None:
    studies = store.list_studies()
    if not studies:
        st.info("No stored studies yet. Run an optimisation (`python -m cli optimize`) to create one.",
                icon=":material/info:")
        return
    by_id = {s.id: s for s in studies}
    study_id = st.selectbox("Study", list(by_id),
                            format_func=lambda i: f"#{i} {by_id[i].name} ({by_id[i].method}, {by_id[i].status})",
                            key="reports_study")
    fmt = st.selectbox("Format", STUDY_FORMATS, format_func=lambda f: FORMATS[f].replace("Chart", "Heatmap"),
                       key="reports_study_format")
    options: dict[str, Any] = {}
    if fmt == "csv":
        st.caption("Every trial: its parameters and metrics.")
        options["headers"] = csv_headers_choice("reports_study_csv_headers")
    request = ("study", study_id, fmt, tuple(sorted(options.items())))
    _prepare(store, request, lambda: study_export(study_report_from_store(store, study_id), fmt, **options), "study",
             study_id, {"format": fmt, **options})
    _send_section(store, ReportSubject("study", study_id, fmt, options))


def _send_section(store: Store, subject: ReportSubject) -> None:
    """The same file sent by e-mail or to storage (a bucket, a shared folder) instead of downloaded."""
    with st.expander("Send by e-mail or to storage", icon=":material/send:"):
        send_now_form(store, subject, key=f"reports_send_{subject.kind}")
        page_link("schedules", "Send it on a schedule", "Schedules: send it on a schedule", icon=":material/schedule:")


SECTIONS: dict[str, Callable[[Store], None]] = {"A run": _run_section, "Several runs": _runs_section,
                                                "A study": _study_section}


def reports_page() -> None:
    """Choose what to export and in which format, prepare it and download it."""
    st.title("Reports")
    st.caption("Download saved runs and optimisation studies for sharing or audit. Files are prepared on request.")
    store = open_store_or_report()
    if store is None:
        return
    what = st.radio("Export", list(SECTIONS), horizontal=True, key="reports_kind")
    with store_errors("The export failed"):
        SECTIONS[what or "A run"](store)
