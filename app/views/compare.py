"""The Compare page: several saved runs side by side — their equity normalised to a common start, their metrics
with the best of each highlighted, and the settings in which they differ.

One function, :func:`compare_page`, registered with ``st.navigation`` in ``streamlit_app.py``. Runs come from the
run store; a run's equity is re-simulated from its stored dataset and settings (cached per run), its metrics are
the stored ones. The tables come from :mod:`core.risk_stats`, the chart from :mod:`core.figures_analysis`.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.store_access import get_store, open_store_or_report, store_errors, store_url
from app.widgets import metric_label, show_chart
from core.figures_analysis import normalised_equity_figure
from core.metric_registry import SHOWN_COMPARE, shown_in
from core.metric_table import format_metric
from core.risk_stats import best_per_metric, config_differences, metrics_side_by_side
from core.theme import COLORS
from usecases.runs import rerun
from usecases.store import RunRecord

MAX_LISTED = 200  # newest runs offered for comparison
# The metrics compared, in the registry's order.
COMPARED: tuple[str, ...] = shown_in(SHOWN_COMPARE)
BEST_STYLE = f"background-color: {COLORS.best_cell}; font-weight: 600"


@st.cache_data(show_spinner="Re-running the run from the store…", max_entries=64)
def _run_equity(url: str, run_id: int, created_at: str) -> pd.Series:
    # Keyed by database, run id and creation time (an id reused after a delete is a different run).
    return rerun(get_store(), run_id).equity


def run_label(record: RunRecord) -> str:
    """How a run is named on this page: ``#7 goog tight``."""
    return f"#{record.id} {record.name}".rstrip()


def _styled(table: pd.DataFrame) -> pd.io.formats.style.Styler:
    """The metrics table as formatted text with each metric's best run highlighted."""
    best = best_per_metric(table)
    text = table.apply(lambda row: row.map(lambda v: format_metric(str(row.name), v)), axis=1)
    text.index = [metric_label(str(m)) for m in table.index]

    def highlight(frame: pd.DataFrame) -> pd.DataFrame:
        marks = pd.DataFrame("", index=frame.index, columns=frame.columns)
        for position, metric in enumerate(table.index):
            if metric in best.index:
                marks.iloc[position, list(frame.columns).index(best[metric])] = BEST_STYLE
        return marks

    return text.style.apply(highlight, axis=None)


def compare_page() -> None:
    """Pick saved runs and compare their equity, metrics and settings."""
    st.title("Compare runs")
    st.caption("Saved runs side by side. Save runs from the Backtest page; they are listed on the Runs page.")
    store = open_store_or_report()
    if store is None:
        return
    with store_errors("The saved runs could not be listed"):
        records = store.list_runs(limit=MAX_LISTED)
        if len(records) < 2:
            st.info("Comparing needs at least two saved runs. Save backtests with the form on the Backtest page.",
                    icon=":material/info:")
            return
        by_id = {r.id: r for r in records}
        chosen = st.multiselect(
            "Runs to compare", list(by_id), default=list(by_id)[:2], format_func=lambda i: run_label(by_id[i]),
            key="compare_runs", max_selections=8,
        )
        if len(chosen) < 2:
            st.info("Choose at least two runs.", icon=":material/info:")
            return
        picked = [by_id[i] for i in chosen]
        labels = {r.id: run_label(r) for r in picked}

        st.subheader("Equity, normalised")
        log_scale = st.toggle("Logarithmic scale", key="compare_log")
        equities = {labels[r.id]: _run_equity(store_url(), r.id, r.created_at.isoformat()) for r in picked}
        show_chart(normalised_equity_figure(equities, log_scale=log_scale),
                        key="compare_equity")
        datasets = {r.dataset_id for r in picked}
        if len(datasets) > 1:
            st.caption("The runs use different datasets: their lines cover different stocks or periods.")

    st.subheader("Metrics")
    st.caption("The best value of each metric is highlighted (higher or lower, whichever is better).")
    table = metrics_side_by_side({labels[r.id]: dict(r.metrics) for r in picked}, COMPARED)
    st.dataframe(_styled(table), key="compare_metrics")
    st.download_button("Download the metrics (CSV)", table.to_csv().encode("utf-8"), file_name="compare_metrics.csv",
                       mime="text/csv", icon=":material/download:", key="compare_csv")

    st.subheader("Settings that differ")
    diffs = config_differences({labels[r.id]: r.config for r in picked})
    if len(datasets) > 1:
        names = {}
        with store_errors("The datasets could not be read"):
            names = {i: get_store().get_dataset(i).name for i in datasets}
        dataset_row = pd.DataFrame({labels[r.id]: [names.get(r.dataset_id, f"#{r.dataset_id}")] for r in picked},
                                   index=pd.Index(["dataset"], name="setting"), dtype=object)
        diffs = pd.concat([dataset_row, diffs])
    if diffs.empty:
        st.caption("The runs share every setting and the dataset.")
    else:
        st.dataframe(diffs.astype(str), key="compare_settings")
