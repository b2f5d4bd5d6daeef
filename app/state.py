"""What the analyst is working on, shared by every page: the active dataset, configuration and period.

They live in ``st.session_state`` so they survive page changes. Datasets are either bundled samples or datasets in
the run store (CSV uploads and Yahoo downloads are saved there first, so every dataset has one identity and works
offline later). The backtest of the active dataset and configuration is cached, so the analysis pages (trades,
risk, regimes, robustness) share one simulation instead of re-running it on every page.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import date
from typing import Literal

import streamlit as st

from app.data import DEFAULT_SAMPLE, load_sample_data
from app.store_access import get_store, store_url
from core import SimulationResult, StrategyConfig, simulate
from core.data import MarketData
from core.data import select_period as core_select_period

_DATASET = "vbl_active_dataset"
_CONFIG = "vbl_active_config"
_PERIOD = "vbl_active_period"


@dataclass(frozen=True)
class DatasetRef:
    """Which dataset: a bundled sample (``kind="sample"``, ``key`` = "GOOG") or a stored one (``key`` = its id)."""

    kind: Literal["sample", "stored"]
    key: str | int

    @property
    def token(self) -> str:
        """A stable string for cache keys and widget keys."""
        return f"{self.kind}:{self.key}"


def active_dataset() -> DatasetRef:
    """The dataset the pages work on (default: the bundled GOOG sample)."""
    return st.session_state.get(_DATASET, DatasetRef("sample", DEFAULT_SAMPLE))


def set_active_dataset(ref: DatasetRef) -> None:
    """Make ``ref`` the active dataset for every page; the period is reset to the whole dataset."""
    st.session_state[_DATASET] = ref
    st.session_state.pop(_PERIOD, None)


@st.cache_data(show_spinner="Loading the dataset from the run store…", max_entries=16)
def _load_stored(url: str, dataset_id: int) -> MarketData:
    return get_store().load_market_data(dataset_id)


def load_dataset(ref: DatasetRef) -> MarketData:
    """The full dataset behind ``ref`` (cached; a copy the caller may modify). Raises DataError / StoreError."""
    if ref.kind == "sample":
        return load_sample_data(str(ref.key))
    return _load_stored(store_url(), int(ref.key))


# The configuration form's widget keys start with this (owned here so that setting the configuration can drop them).
CONFIG_WIDGET_PREFIX = "cfg_"


def active_config() -> StrategyConfig:
    """The configuration the pages work on (default: the product defaults)."""
    data = st.session_state.get(_CONFIG)
    return StrategyConfig.from_dict(data) if data else StrategyConfig()


def set_active_config(config: StrategyConfig, *, from_form: bool = False) -> None:
    """Make ``config`` the active configuration (stored as a plain dict so it survives reruns unchanged).

    Set from anywhere but the configuration form itself, it drops the form's widget values, so that the form
    shows this configuration the next time it is drawn: the active configuration is the only source of truth.
    """
    st.session_state[_CONFIG] = config.to_dict()
    if not from_form:
        for key in [k for k in st.session_state if str(k).startswith(CONFIG_WIDGET_PREFIX)]:
            del st.session_state[key]


def active_period() -> tuple[date, date] | None:
    """The date range to simulate (inclusive), or None for the whole dataset."""
    return st.session_state.get(_PERIOD)


def set_active_period(period: tuple[date, date] | None) -> None:
    """Restrict every page to ``period`` (inclusive dates), or None for the whole dataset."""
    if period is None:
        st.session_state.pop(_PERIOD, None)
    else:
        st.session_state[_PERIOD] = period


def select_period(data: MarketData, period: tuple[date, date] | None) -> MarketData:
    """``data`` cut to ``period`` (inclusive dates) by :func:`core.data.select_period`. Raises ``DataError``."""
    if period is None:
        return data
    prices, dividends = core_select_period(data.prices, data.dividends, period[0], period[1])
    return dataclasses.replace(data, prices=prices, dividends=dividends)


@st.cache_data(show_spinner="Running the backtest…", max_entries=32)
def _simulate(token: str, period: tuple[date, date] | None, config_json: str, _data: MarketData) -> SimulationResult:
    # Keyed by dataset identity, period and the configuration's JSON; the data itself is not hashed (leading "_").
    cut = select_period(_data, period)
    return simulate(cut.prices, StrategyConfig.from_dict(json.loads(config_json)), cut.dividends)


def active_data() -> MarketData:
    """The active dataset cut to the active period."""
    return select_period(load_dataset(active_dataset()), active_period())


def active_result() -> SimulationResult:
    """The backtest of the active dataset, period and configuration (cached across pages and reruns)."""
    ref = active_dataset()
    config = active_config()
    return _simulate(ref.token, active_period(), json.dumps(config.to_dict(), sort_keys=True), load_dataset(ref))
