"""The Home page: what the app does, a one-click demo on bundled data, and the latest runs and studies.

One function, :func:`home_page`, registered as the default page in ``streamlit_app.py`` under :data:`URL_PATH`.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from app.data import DEFAULT_SAMPLE, samples
from app.navigation import switch_to
from app.state import DatasetRef, set_active_config, set_active_dataset
from app.store_access import open_store_or_report, store_errors
from app.table_columns import metric_columns
from app.watch_list import watch_list_fragment
from core import StrategyConfig
from usecases.ledger import ledger
from usecases.store import RunRecord, StudyRecord

RECENT = 5  # rows in each "recent" table


def recent_runs_frame(runs: Sequence[RunRecord]) -> pd.DataFrame:
    """The latest runs as a small table: id, name, when, return, Sharpe, trades."""
    return pd.DataFrame(
        {
            "id": [r.id for r in runs],
            "name": [r.name for r in runs],
            "created": [r.created_at for r in runs],
            "total_return": [r.metrics.get("total_return") for r in runs],
            "sharpe": [r.metrics.get("sharpe") for r in runs],
            "trades": [r.n_trades for r in runs],
        }
    )


def recent_studies_frame(studies: Sequence[StudyRecord]) -> pd.DataFrame:
    """The latest optimisation studies: id, name, method, status, trials, when."""
    return pd.DataFrame(
        {
            "id": [s.id for s in studies],
            "name": [s.name for s in studies],
            "method": [s.method for s in studies],
            "status": [s.status for s in studies],
            "trials": [s.n_trials for s in studies],
            "created": [s.created_at for s in studies],
        }
    )


def start_demo() -> None:
    """Make the bundled default sample and the default settings active, for every page."""
    set_active_dataset(DatasetRef("sample", DEFAULT_SAMPLE))
    set_active_config(StrategyConfig())


def home_page() -> None:
    """Introduction, the demo button, and the latest runs and studies from the store."""
    st.title("Volatility Balancing Lab")
    st.markdown(
        "Test a simple rule on real price histories: hold one stock and cash, **sell some stock when the price "
        "has risen a set percentage above the price of your last trade, buy when it has fallen below it**, and "
        "never let the stock share leave a band you choose. The lab replays the rule bar by bar with commissions, "
        "minimum orders and dividends, and compares it with buy-and-hold and with a never-traded mix."
    )
    st.markdown(
        "- **Data**: the bundled histories, your own CSV files or a Yahoo Finance download, with a quality check.\n"
        "- **Backtest**: every setting, presets, the results as cards, charts and tables, saving and exports.\n"
        "- **Runs**: saved backtests, re-run exactly from the store.\n"
        "- **Audit log**: every run, study, preset change and export."
    )

    sample = samples().get(DEFAULT_SAMPLE)
    with st.container(border=True):
        st.subheader("Try it")
        if sample is not None:
            st.caption(f"The default settings on {sample.name}: {sample.description}")
        if st.button("Run the demo", key="home_demo", type="primary", icon=":material/play_arrow:"):
            start_demo()
            switch_to("backtest")

    store = open_store_or_report("Recent runs and studies cannot be shown: the run store is not available")
    if store is None:
        return
    if ledger(store).list(status="active"):
        st.subheader("Watch list")
        watch_list_fragment(store, key="home_watch")
    runs_col, studies_col = st.columns(2)
    with runs_col:
        st.subheader("Recent runs")
        with store_errors("The runs could not be listed"):
            runs = store.list_runs(limit=RECENT)
            if runs:
                st.dataframe(
                    recent_runs_frame(runs),
                    hide_index=True,
                    key="home_runs",
                    column_config={
                        "created": st.column_config.DatetimeColumn("Created", format="YYYY-MM-DD HH:mm"),
                        **metric_columns(("total_return", "sharpe")),
                    },
                )
                st.caption("Open the Runs page to compare, re-run or delete them.")
            else:
                st.info("No saved runs yet: run a backtest and save it at the bottom of the Backtest page.")
    with studies_col:
        st.subheader("Recent studies")
        with store_errors("The studies could not be listed"):
            studies = store.list_studies()[:RECENT]  # newest first
            if studies:
                st.dataframe(
                    recent_studies_frame(studies),
                    hide_index=True,
                    key="home_studies",
                    column_config={
                        "created": st.column_config.DatetimeColumn("Created", format="YYYY-MM-DD HH:mm"),
                    },
                )
            else:
                st.info("No optimisation studies yet.")
