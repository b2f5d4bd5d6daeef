"""Plain-language definitions of the configuration fields and the metrics, for the PDF and the Definitions page.

Derived from the metric registry (:mod:`core.metric_registry`), which the app's definitions page reads too.
"""

from __future__ import annotations

import pandas as pd

from core.config_registry import CONFIG_FIELDS, ConfigField
from core.metric_registry import MAXIMISE, METRICS

METRIC_DEFINITIONS: dict[str, str] = {m.name: m.definition for m in METRICS}


UNIT_WORDS: dict[str, str] = {
    "fraction": "percent", "ratio": "ratio", "count": "count", "money": "currency", "days": "days",
    "times_per_year": "times a year", "bps": "basis points", "flag": "on / off", "choice": "one of",
    "per_year": "periods a year",
}  # fmt: skip


def _default_text(field: ConfigField) -> str:
    if field.default is None:
        return "not set"
    if field.unit == "fraction":
        return f"{field.default * 100:g} %"
    if field.kind == "bool":
        return str(field.default).lower()
    return f"{field.default:g}" if field.numeric else str(field.default)


def valid_text(field: ConfigField) -> str:
    if field.kind == "choice":
        return ", ".join(field.choices)
    if field.kind == "bool":
        return "true, false"
    text = field.bounds.text()
    return f"{text} or not set" if field.kind == "optfloat" else text


def config_definitions() -> pd.DataFrame:
    """Every configuration field (docs/strategy.md §3): name, label, unit, default, valid values, meaning.

    Valid ranges are in the stored unit (fractions, 0.03 = 3 %), as the API and the CLI's ``--set`` take them.
    """
    return pd.DataFrame(
        {
            "Field": [f.name for f in CONFIG_FIELDS],
            "Label": [f.label for f in CONFIG_FIELDS],
            "Unit": [UNIT_WORDS[f.unit] for f in CONFIG_FIELDS],
            "Default": [_default_text(f) for f in CONFIG_FIELDS],
            "Valid values": [valid_text(f) for f in CONFIG_FIELDS],
            "Meaning": [f.help for f in CONFIG_FIELDS],
        }
    )


def metric_definitions() -> pd.DataFrame:
    """Every metric (docs/strategy.md §7): name, label, group, unit, which way is better, definition."""
    return pd.DataFrame(
        {
            "Metric": [m.name for m in METRICS],
            "Label": [m.label for m in METRICS],
            "Group": [m.group for m in METRICS],
            "Unit": [UNIT_WORDS[m.unit] for m in METRICS],
            "Better": ["higher" if m.direction == MAXIMISE else "lower" for m in METRICS],
            "Definition": [m.definition for m in METRICS],
        }
    )
