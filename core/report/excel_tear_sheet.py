"""The run workbook's tear-sheet, settings, definitions and assumptions sheets (:mod:`core.report.tear_sheet`,
:mod:`core.report.assumptions`).

Numbers stay numbers with the number format of their unit: a statistics table formats each row by its
statistic's registry format, the settings sheet each value by its field's unit. The sheets are a few dozen rows
each, so the per-row formats cost nothing next to the Transaction Log.
"""

from __future__ import annotations

import pandas as pd

from core.config_registry import config_field
from core.report.assumptions import assumptions
from core.report.context import RunReport
from core.report.definitions import config_definitions, metric_definitions
from core.report.excel_style import (
    BOLD_STYLE,
    TOPIC_STYLE,
    WRAP_STYLE,
    SheetWriter,
    metric_row_formats,
    number_format_for,
    write_table,
)
from core.report.formats import setting_kind, setting_text
from core.report.run_tables import MONTHS, config_rows
from core.report.tear_sheet import TearSheet, statistic_definitions

MONTHLY_KINDS: dict[str, str] = {"Year": "number"} | {m: "pct" for m in (*MONTHS, "Total")}
DRAWDOWN_KINDS: dict[str, str] = {
    "Rank": "count", "Peak": "date", "Trough": "date", "Recovery": "date", "Depth": "pct", "Length (days)": "count",
}  # fmt: skip
ROLLING_KINDS: dict[str, str] = {"Date": "date", "Volatility": "pct", "Sharpe ratio": "ratio", "Beta": "ratio"}
DIVIDEND_KINDS: dict[str, str] = {
    "Ex date": "date", "Pay date": "date", "Paid at": "datetime", "Amount per share": "price", "Shares": "qty",
    "Gross": "money", "Withheld": "money", "Net": "money", "Paid": "text",
}  # fmt: skip


def write_statistics(sheet: SheetWriter, frame: pd.DataFrame, *, first_row: int = 1) -> int:
    """A statistics table of :mod:`core.report.tear_sheet` (``Statistic``, value columns, ``Definition``), each
    row's values in the number format of its statistic; returns the last row written."""
    shown = frame.drop(columns=["key", "fmt"])
    sheet.set_width(1, 30)
    value_columns = shown.columns[1:-1]  # between Statistic and Definition
    return write_table(sheet, shown, {"Statistic": "text", "Definition": "wide"}, first_row=first_row,
                       filters=False, row_formats=metric_row_formats(frame["fmt"], value_columns))  # fmt: skip


def write_yearly(sheet: SheetWriter, tear: TearSheet) -> None:
    """Yearly returns of the strategy and both benchmarks, with the strategy's excess over each."""
    kinds = {"Year": "number"} | {c: "pct" for c in tear.yearly.columns[1:]}
    kinds |= {c: "signed_pct" for c in tear.yearly.columns if str(c).startswith("Excess")}
    write_table(sheet, tear.yearly, kinds)


def write_drawdowns(sheet: SheetWriter, tear: TearSheet) -> None:
    """The five deepest drawdowns; an open one reads "not recovered" in the Recovery column."""
    if tear.drawdowns.empty:
        sheet.write("The account value never fell below a previous peak.")
        return
    write_table(sheet, tear.drawdowns, DRAWDOWN_KINDS)


def write_rolling(sheet: SheetWriter, tear: TearSheet) -> None:
    """Rolling volatility, Sharpe ratio and beta at each year end and at the last date."""
    if tear.rolling_ends.empty:
        sheet.write(f"The run has fewer than {tear.window} daily returns: no rolling window is full.")
        return
    last = write_table(sheet, tear.rolling_ends, ROLLING_KINDS)
    sheet.skip_to(last + 2)
    sheet.write(f"Each value is over the {tear.window} daily returns ending at the date; beta is to the stock "
                "(the buy-and-hold benchmark).")  # fmt: skip


def write_settings(sheet: SheetWriter, report: RunReport) -> None:
    """Every configuration field: label, value (a number in its unit's format), unit, the value as text, the
    field's name, default, valid values and meaning (:mod:`core.config_registry`)."""
    rows = config_rows(report)
    registry = config_definitions().set_index("Field")
    frame = pd.DataFrame(
        {
            "Setting": [r.label for r in rows],
            "Value": pd.Series(["not set" if r.value is None else r.value for r in rows], dtype=object),
            "Unit": [registry.at[r.name, "Unit"] for r in rows],
            "Shown as": [r.text for r in rows],
            "Field": [r.name for r in rows],
            "Default": [setting_text(r.name, config_field(r.name).default) for r in rows],
            "Valid values": [registry.at[r.name, "Valid values"] for r in rows],
            "Meaning": [registry.at[r.name, "Meaning"] for r in rows],
        }
    )
    sheet.set_widths((32, 12, 14, 16, 22, 12, 18, 80))
    write_table(sheet, frame, {"Setting": "text", "Value": "number", "Meaning": "wide"},
                row_formats=[{"Value": number_format_for(setting_kind(r.name), r.value)} for r in rows])  # fmt: skip


def write_definitions(sheet: SheetWriter) -> None:
    """Every metric (:mod:`core.metric_registry`) and every tear-sheet statistic, with its definition."""
    frame = pd.concat([metric_definitions(), statistic_definitions()], ignore_index=True)
    sheet.set_widths((24, 32, 34, 12, 8, 100))
    write_table(sheet, frame, {"Definition": "wide", "Group": "text"})


def write_assumptions(sheet: SheetWriter, report: RunReport) -> None:
    """The assumptions and limitations of the run, the hypothetical-results disclaimer first."""
    sheet.set_widths((26, 120))
    sheet.write("Assumptions and limitations", style=BOLD_STYLE)
    sheet.skip_to(3)
    for item in assumptions(report):
        sheet.write(item.topic, item.text, styles=(TOPIC_STYLE, WRAP_STYLE))
