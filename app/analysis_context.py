"""The header every analysis page shares: which dataset, period and settings it analyses, with a link to change
them on the Backtest page, and the cached backtest it works on."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
from streamlit.errors import StreamlitAPIException

from app.data import samples
from app.state import DatasetRef, active_config, active_data, active_dataset, active_period, active_result
from app.store_access import get_store
from app.widgets import render_problem
from core import ConfigError, DataError, SimulationResult
from core.data import MarketData
from usecases.store import StoreError


@dataclass(frozen=True)
class AnalysisContext:
    """What an analysis page works on: the active dataset (cut to the active period) and its cached backtest."""

    ref: DatasetRef
    label: str
    data: MarketData
    result: SimulationResult


def dataset_label(ref: DatasetRef) -> str:
    """A readable name of the dataset behind ``ref`` ("GOOG (bundled sample)", "my upload (stored #3)")."""
    if ref.kind == "sample":
        info = samples().get(str(ref.key))
        return f"{info.name if info else ref.key} (bundled sample)"
    try:
        return f"{get_store().get_dataset(int(ref.key)).name} (stored #{ref.key})"
    except StoreError:
        return f"stored dataset #{ref.key}"


def backtest_link() -> None:
    """A link to the Backtest page, where the active dataset, period and settings are changed.

    ``st.page_link`` needs a page object; one built with the registered url_path identifies the same page (pages
    are identified by a hash of their url_path), so the analysis pages need no import of the router.
    """
    from pages import backtest  # the page module builds on app/, so it is imported only when linking

    page = st.Page(backtest.backtest_page, title="Backtest", icon=":material/query_stats:", url_path=backtest.URL_PATH)
    try:
        st.page_link(page, label="Change the dataset, period or settings on the Backtest page", icon=":material/tune:")
    except StreamlitAPIException:  # the Backtest page is registered under another url_path: say it in words
        st.caption("Change the dataset, period or settings on the Backtest page.")


def analysis_context(what: str) -> AnalysisContext | None:
    """Show which dataset, period and settings the page analyses (with the link to change them) and return them;
    ``None`` after an error box when the dataset or the backtest cannot be produced.

    ``what`` names the page's subject for the error message ("The trade analysis").
    """
    ref = active_dataset()
    label = dataset_label(ref)
    config = active_config()
    period = active_period()
    span = f"{period[0]:%Y-%m-%d} to {period[1]:%Y-%m-%d}" if period else "the whole history"
    from pages.backtest import settings_summary

    st.caption(f"**Dataset:** {label}, {span}. {settings_summary(config)}")
    backtest_link()
    try:
        data = active_data()
        result = active_result()
    except DataError as exc:
        render_problem(f"{what} has no data", exc, "Choose another dataset on the Backtest page.")
        return None
    except ConfigError as exc:
        render_problem(f"{what} cannot run these settings", exc, "Correct the settings on the Backtest page.")
        return None
    return AnalysisContext(ref=ref, label=label, data=data, result=result)
