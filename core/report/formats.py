"""The one formatting layer of the exports: how a metric or a setting reads in the PDF, the workbook and images.

Labels, units and formats come from the registries (:mod:`core.metric_registry` through
:func:`core.metric_table.metric_info`, :mod:`core.config_registry`); the texts are the metric table's
(:func:`core.metric_table.format_metric`, ``154.48 %``), so a figure reads the same in the app, the CLI, the run
and study PDFs and the workbooks. Workbooks keep numbers as numbers and get an Excel number format of the same
unit (:func:`metric_kind`, :func:`setting_kind`, keys of :data:`core.report.excel_style.FORMATS`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from core.config_registry import FIELDS_BY_NAME

# The metric table's formatter per registry format: reused so that there is one way to print a value.
from core.metric_table import _FORMATTERS, NOT_AVAILABLE, format_metric, metric_info
from core.result_columns import result_column

__all__ = [
    "NOT_AVAILABLE", "cell_text", "format_kind", "format_metric", "format_value", "metric_header", "metric_kind",
    "metric_label", "result_header", "search_space_text", "setting_header", "setting_kind", "setting_label",
    "setting_text", "unit_text",
]  # fmt: skip

# Registry format of a metric -> workbook number-format kind (core.report.excel_style.FORMATS).
_METRIC_KINDS: dict[str, str] = {
    "pct": "pct", "signed_pct": "signed_pct", "ratio": "ratio", "count": "count", "money": "money",
    "times": "times", "number": "decimal",
}  # fmt: skip
# Registry unit of a setting -> workbook number-format kind.
_SETTING_KINDS: dict[str, str] = {
    "fraction": "pct", "money": "money", "ratio": "decimal", "bps": "bps", "count": "count", "days": "count",
    "per_year": "count", "flag": "text", "choice": "text",
}  # fmt: skip
CELL_DIGITS = 3  # significant digits of a heatmap cell: enough to rank neighbours, short enough to fit


def metric_label(name: str) -> str:
    """The registry label of a metric (``Sharpe ratio``); an unknown column (``score``) keeps its name."""
    return metric_info(name).label


def format_value(fmt: str, value: Any) -> str:
    """``value`` printed in a registry format (``pct``, ``ratio``, ``count``…), ``n/a`` when missing."""
    if value is None or isinstance(value, str):
        return NOT_AVAILABLE if value is None else value
    number = float(value)
    return _FORMATTERS[fmt](number) if math.isfinite(number) else NOT_AVAILABLE


def format_kind(fmt: str) -> str:
    """The workbook number-format kind of a registry format (``pct`` -> ``pct``, ``number`` -> ``decimal``)."""
    return _METRIC_KINDS[fmt]


def metric_kind(name: str) -> str:
    """The workbook number-format kind of a metric (``pct`` for a fraction shown as a percentage)."""
    return format_kind(metric_info(name).fmt)


def _significant(value: float, digits: int = CELL_DIGITS) -> str:
    """``value`` rounded to ``digits`` significant digits in plain decimal notation, trailing zeros dropped."""
    if value == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def cell_text(name: str, value: Any) -> str:
    """A metric value short enough for a heatmap cell, in the metric's unit (``154 %``, ``1.43``); empty when
    missing. The PDF's and the PNG's heatmaps both print it."""
    if value is None or not math.isfinite(float(value)):
        return ""
    number = float(value)
    fmt = metric_info(name).fmt
    if fmt in ("pct", "signed_pct"):
        sign = "+" if fmt == "signed_pct" and number > 0 else ""
        return f"{sign}{_significant(number * 100)} %"
    if fmt in ("count", "money"):
        return f"{number:,.0f}"
    if fmt == "times":
        return f"{_significant(number)}x"
    return _significant(number)


def setting_label(name: str) -> str:
    """The registry label of a configuration field (``Sell trigger (%)``); an unknown name is returned as is.
    ``param.<name>`` columns of a trials table are accepted."""
    key = name.removeprefix("param.")
    field = FIELDS_BY_NAME.get(key)
    return field.label if field is not None else key


def setting_kind(name: str) -> str:
    """The workbook number-format kind of a configuration field's values (``pct`` for fractions)."""
    field = FIELDS_BY_NAME.get(name.removeprefix("param."))
    return _SETTING_KINDS[field.unit] if field is not None else "number"


def unit_text(unit: str, value: Any) -> str:
    """A setting's value in its unit: ``3 %`` for the fraction 0.03, ``5 bps``, ``14 days``, ``yes``/``no``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not set"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if unit == "fraction":
        return f"{value * 100:,.4g} %"
    if unit == "money":
        return f"{value:,.2f}"
    if unit == "bps":
        return f"{value:g} bps"
    if unit == "days":
        return f"{value:g} days"
    return f"{value:g}" if isinstance(value, int | float) else str(value).replace("_", " ")


def setting_text(name: str, value: Any) -> str:
    """The value of configuration field ``name`` (or ``param.<name>``) as people read it (:func:`unit_text`)."""
    field = FIELDS_BY_NAME.get(name.removeprefix("param."))
    if hasattr(value, "item"):  # a NumPy scalar from a table
        value = value.item()
    if field is not None and field.kind == "bool" and isinstance(value, int | float) and not isinstance(value, bool):
        value = bool(value)
    return unit_text(field.unit if field is not None else "", value)


def _number(value: Any) -> Any:
    # Stored specs may hold text ("0.02"); numbers are shown in the field's unit, anything else as written.
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def search_space_text(name: str, spec: Any) -> str:
    """One searched parameter, readable: ``Sell trigger: 2 %–10 %, step 1 %`` or ``Sizing: proportional,
    original``. ``spec`` is any stored form (``{min, max, step}``, ``{values}``, a list, ``"bool"``, text)."""
    label = setting_label(name).removesuffix(" (%)")  # the values carry their unit
    if isinstance(spec, Mapping) and {"min", "max", "step"} <= set(spec):
        lo, hi, step = (setting_text(name, _number(spec[k])) for k in ("min", "max", "step"))
        return f"{label}: {lo}–{hi}, step {step}"
    if isinstance(spec, Mapping) and "values" in spec:
        spec = spec["values"]
    if isinstance(spec, str) and spec.strip().lower() in ("bool", "both"):
        spec = [False, True]
    if isinstance(spec, str) and ":" in spec and len(spec.split(":")) == 3:
        lo, hi, step = spec.split(":")
        return search_space_text(name, {"min": lo.strip(), "max": hi.strip(), "step": step.strip()})
    if isinstance(spec, str):
        spec = [part.strip() for part in spec.split(",")]
    values: Sequence[Any] = spec if isinstance(spec, list | tuple) else [spec]
    return f"{label}: {', '.join(setting_text(name, _number(v)) for v in values)}"


# --- headers of exported tables read by people (the CSV exports' ``headers="labels"``) ---------------------------
# Values stay as stored (a fraction 0.03, not 3), so a fraction-valued column says so in its header.
FRACTION_SUFFIX = " (fraction)"


def _plain_label(label: str) -> str:
    # A form label carries the unit it is typed in ("Sell trigger (%)"); an exported column holds the stored value.
    return label.removesuffix(" (%)")


def metric_header(name: str) -> str:
    """``Total return (fraction)``, ``Sharpe ratio``: a metric column's header with the unit of its values."""
    info = metric_info(name)
    return info.label + (FRACTION_SUFFIX if info.unit == "fraction" else "")


def setting_header(name: str) -> str:
    """``Sell trigger (fraction)``: a configuration field's column header (``param.<name>`` accepted)."""
    field = FIELDS_BY_NAME.get(name.removeprefix("param."))
    if field is None:
        return name
    return _plain_label(field.label) + (FRACTION_SUFFIX if field.unit == "fraction" else "")


def result_header(table: str, name: str) -> str:
    """``Stock share after (fraction)``: a ``trades`` or ``timeline`` column's header (core.result_columns)."""
    column = result_column(table, name)
    return column.label + (FRACTION_SUFFIX if column.kind == "pct" else "")
