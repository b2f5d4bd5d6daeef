"""The header every analysis page shares: which dataset, period and settings it analyses, with a link to change
them on the Backtest page, and the cached backtest it works on."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from app.config_form import settings_summary
from app.data import samples
from app.navigation import page_link
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
    """A link to the Backtest page, where the active dataset, period and settings are changed."""
    page_link("backtest", "Change the dataset, period or settings on the Backtest page",
              "Change the dataset, period or settings on the Backtest page.", icon=":material/tune:")


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
