"""The Definitions page: every configuration field and every metric, with units, ranges and meaning.

Both tables come from the registries (``core.config_registry``, ``core.metric_registry``) through
``core.report.definitions``, so this page, the form, the exports and the API can never disagree.
"""

from __future__ import annotations

import streamlit as st

from core.report.definitions import config_definitions, metric_definitions


def definitions_page() -> None:
    """Two tables: the configuration fields, then the metrics."""
    st.title("Definitions")
    st.caption(
        "The rules behind these names are written out, with formulas and worked examples, in docs/strategy.md. "
        "Fractions are stored as fractions (0.03) and shown as percentages (3 %)."
    )
    st.subheader("Configuration fields")
    st.dataframe(config_definitions(), hide_index=True, key="definitions_fields")
    st.subheader("Metrics")
    st.dataframe(metric_definitions(), hide_index=True, key="definitions_metrics")
