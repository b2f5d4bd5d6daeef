"""The dataset and period pickers shared by the pages: bundled samples and the datasets in the run store, in one
list, and the date range every page simulates.

Picking a dataset makes it the active one for every page (``app.state.set_active_dataset``); a dataset made active
elsewhere (an upload on the Data page) shows as selected here on the next run.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from app.data import samples
from app.state import DatasetRef, active_dataset, active_period, set_active_dataset, set_active_period
from app.store_access import get_store
from core.data import MarketData
from usecases.store import StoreError


def dataset_options() -> tuple[list[DatasetRef], dict[DatasetRef, str], str | None]:
    """Every dataset that can be picked with its label, and a note when the store could not be read."""
    labels: dict[DatasetRef, str] = {DatasetRef("sample", k): f"{i.name} (bundled)" for k, i in samples().items()}
    note = None
    try:
        for info in get_store().list_datasets():
            labels[DatasetRef("stored", info.id)] = f"{info.name} (stored #{info.id}, {info.source})"
    except StoreError as exc:
        # The samples still work without the store; say why the stored datasets are missing.
        note = f"Stored datasets are not listed: {exc}"
    return list(labels), labels, note


def dataset_picker(key: str = "dataset_picker", label: str = "Dataset") -> DatasetRef:
    """A select box of every dataset, bound to the active dataset; returns the active one."""
    options, labels, note = dataset_options()
    active = active_dataset()
    if active not in labels:
        # e.g. a stored dataset that was deleted meanwhile: keep it selectable so loading it can explain the error
        options.append(active)
        labels[active] = f"{active.kind} {active.key}"
    if st.session_state.get(key) != active:
        st.session_state[key] = active  # follow a change made on another page

    def changed() -> None:
        set_active_dataset(st.session_state[key])

    st.selectbox(label, options, format_func=lambda ref: labels.get(ref, str(ref)), key=key, on_change=changed)
    if note:
        st.caption(note)
    return active_dataset()


def period_picker(full: MarketData, key: str = "period_picker") -> tuple[date, date] | None:
    """A date range inside ``full`` (the whole active dataset), bound to the active period; returns the period.

    The whole range means "no period" (``None``), so a later, longer version of the dataset is used in full.
    A half-picked range (only the start chosen so far) changes nothing until the end is picked too.
    """
    first, last = full.prices.index[0].date(), full.prices.index[-1].date()
    token = active_dataset().token
    marker = f"{key}_dataset"
    if key not in st.session_state or st.session_state.get(marker) != token:
        # first draw, or the dataset changed (which resets the period): show the active period
        st.session_state[key] = active_period() or (first, last)
        st.session_state[marker] = token

    def changed() -> None:
        value = st.session_state[key]
        if isinstance(value, tuple | list) and len(value) == 2:
            start, end = value
            set_active_period(None if (start <= first and end >= last) else (start, end))

    st.date_input(
        "Period",
        min_value=first,
        max_value=last,
        key=key,
        on_change=changed,
        format="YYYY-MM-DD",
        help="The backtest uses only the bars in this range (both ends included). The whole range is the default.",
    )
    return active_period()
