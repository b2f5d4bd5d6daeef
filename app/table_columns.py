"""Streamlit column configurations read from the registries, so a table's headers and number formats are the
PDF's and the workbook's: metrics from :mod:`core.metric_registry`, settings from :mod:`core.config_registry`,
trade and timeline columns from :mod:`core.result_columns`.

Streamlit's ``percent`` format multiplies by 100, so fractions stay fractions in the frames, as everywhere else.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import streamlit as st

from core.config_registry import config_field
from core.metric_table import metric_info
from core.result_columns import result_column

# Registry format of a metric -> Streamlit number format.
METRIC_FORMATS: dict[str, str] = {
    "pct": "percent", "signed_pct": "percent", "ratio": "%.2f", "count": "%d", "money": "%.2f", "times": "%.2fx",
    "number": "%.4g",
}  # fmt: skip
# Registry unit of a setting -> Streamlit number format.
SETTING_FORMATS: dict[str, str] = {
    "fraction": "percent", "money": "%.2f", "ratio": "%.4g", "bps": "%.2f bps", "count": "%d", "days": "%d",
    "per_year": "%d",
}  # fmt: skip
# Display kind of a result column (core.result_columns) -> Streamlit number format.
RESULT_FORMATS: dict[str, str] = {
    "money": "%.2f", "price": "%.2f", "qty": "%.4f", "pct": "percent", "ratio": "%.2f", "count": "%d",
}  # fmt: skip


def metric_column(name: str, label: str | None = None, **kwargs: Any) -> Any:
    """A number column of metric ``name``: its registry label (or ``label``), format and definition."""
    m = metric_info(name)
    return st.column_config.NumberColumn(label or m.label, format=METRIC_FORMATS[m.fmt], help=m.definition or None,
                                         **kwargs)


def metric_columns(names: Iterable[str]) -> dict[str, Any]:
    """``column_config`` entries of several metrics."""
    return {name: metric_column(name) for name in names}


def setting_column(name: str, label: str | None = None, **kwargs: Any) -> Any:
    """A column of configuration field ``name``: its registry label (without the form's unit suffix) and unit."""
    f = config_field(name)
    if f.unit not in SETTING_FORMATS:  # flags and choices read as text
        return st.column_config.TextColumn(label or f.label, help=f.help, **kwargs)
    return st.column_config.NumberColumn(label or f.label, format=SETTING_FORMATS[f.unit], help=f.help,
                                         **kwargs)


def result_columns(table: str, columns: Iterable[str], *, daily: bool = False) -> dict[str, Any]:
    """``column_config`` of the ``trades`` or ``timeline`` columns shown: label, format and meaning from the
    registry; times without a clock when every bar is a day."""
    cc = st.column_config
    out: dict[str, Any] = {}
    for name in columns:
        c = result_column(table, name)
        if c.kind in ("date", "datetime"):
            out[name] = cc.DatetimeColumn(c.label, format="YYYY-MM-DD" if daily else "YYYY-MM-DD HH:mm", help=c.help)
        elif c.kind in RESULT_FORMATS:
            out[name] = cc.NumberColumn(c.label, format=RESULT_FORMATS[c.kind], help=c.help)
        else:
            out[name] = cc.TextColumn(c.label, help=c.help or None, width="large" if c.kind == "wide" else None)
    return out
