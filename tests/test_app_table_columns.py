"""The app's table columns read the registries, and agree with the workbook on how every value reads: a metric, a
setting or a result column shown as a percentage in the app is a percentage in the workbook, and the other way
round; labels are the registries' labels."""

from __future__ import annotations

import pytest

from app.table_columns import metric_column, result_columns, setting_column
from core.config_registry import CONFIG_FIELDS
from core.metric_registry import METRICS
from core.report.excel_style import FORMATS
from core.report.formats import metric_kind, setting_kind
from core.result_columns import TIMELINE_COLUMNS, TRADE_COLUMNS


def _format(column: dict) -> str | None:
    return column["type_config"].get("format")


def _excel_is_percent(kind: str) -> bool:
    return "%" in FORMATS.get(kind, "")


@pytest.mark.parametrize("metric", METRICS, ids=lambda m: m.name)
def test_metric_columns_read_like_the_workbook(metric) -> None:
    column = metric_column(metric.name)
    assert column["label"] == metric.label and column["help"] == metric.definition
    assert (_format(column) == "percent") == _excel_is_percent(metric_kind(metric.name))


@pytest.mark.parametrize("field", CONFIG_FIELDS, ids=lambda f: f.name)
def test_setting_columns_read_like_the_workbook(field) -> None:
    column = setting_column(field.name)
    assert column["label"] == field.label
    assert (_format(column) == "percent") == _excel_is_percent(setting_kind(field.name))
    if field.kind in ("bool", "choice"):
        assert column["type_config"]["type"] == "text"


@pytest.mark.parametrize(("table", "columns"), [("trades", TRADE_COLUMNS), ("timeline", TIMELINE_COLUMNS)])
def test_result_columns_read_like_the_workbook(table: str, columns) -> None:
    shown = result_columns(table, [c.name for c in columns], daily=False)
    for c in columns:
        assert shown[c.name]["label"] == c.label
        assert (_format(shown[c.name]) == "percent") == _excel_is_percent(c.kind), c.name
    assert shown.get("timestamp", {"type_config": {"format": "YYYY-MM-DD HH:mm"}})["type_config"]["format"] \
        == "YYYY-MM-DD HH:mm"
    assert result_columns("trades", ["timestamp"], daily=True)["timestamp"]["type_config"]["format"] == "YYYY-MM-DD"


def test_an_unknown_column_reads_as_text_under_its_own_name() -> None:
    assert result_columns("trades", ["note"])["note"]["label"] == "note"
    assert metric_column("score")["label"] == "score"
