"""Loading market data for the pages, cached across reruns and sessions.

Streamlit reruns the page script on every interaction; the loaders here parse each dataset once per process and
hand out copies (``st.cache_data`` pickles the result), so a page may modify what it gets.
"""

from __future__ import annotations

import streamlit as st

from core.data import MarketData, SampleInfo, list_samples, load_sample

DEFAULT_SAMPLE = "GOOG"


def samples() -> dict[str, SampleInfo]:
    """The bundled datasets by key (``"GOOG"``, ``"MSFT"``, ``"SP500"``, ``"INTC"``, ``"MMM"``, ``"COST"``), in the
    registry's order."""
    return {info.key: info for info in list_samples()}


@st.cache_data(show_spinner="Loading the dataset…", max_entries=16)
def load_sample_data(key: str) -> MarketData:
    """The bundled dataset ``key`` as :class:`MarketData`. Raises ``DataError`` (never cached) when it cannot load."""
    return load_sample(key)
