"""The run workbook's tear-sheet, settings, definitions and assumptions sheets (:mod:`core.report.tear_sheet`,
:mod:`core.report.assumptions`).

Numbers stay numbers with the number format of their unit: a statistics table formats each row by its
statistic's registry format, the settings sheet each value by its field's unit. The sheets are a few dozen rows
each, so the per-row formats cost nothing next to the Transaction Log.
"""

from __future__ import annotations

import pandas as pd
from openpyxl.styles import Alignment
from openpyxl.worksheet.worksheet import Worksheet

from core.config_registry import config_field
from core.report.assumptions import assumptions
from core.report.context import RunReport
from core.report.definitions import config_definitions, metric_definitions
from core.report.excel_style import BOLD, FORMATS, METRIC_FORMATS, set_widths, write_cell, write_table
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


def write_statistics(ws: Worksheet, frame: pd.DataFrame, *, first_row: int = 1) -> int:
    """A statistics table of :mod:`core.report.tear_sheet` (``Statistic``, value columns, ``Definition``), each
    row's values in the number format of its statistic; returns the last row written."""
    shown = frame.drop(columns=["key", "fmt"])
    last = write_table(ws, shown, {"Statistic": "text", "Definition": "wide"}, first_row=first_row, filters=False)
    value_columns = range(2, len(shown.columns))  # between Statistic and Definition
    for offset, fmt in enumerate(frame["fmt"], start=1):
        for col in value_columns:
            ws.cell(first_row + offset, col).number_format = METRIC_FORMATS.get(fmt, FORMATS["decimal"])
    ws.column_dimensions["A"].width = 30
    return last


def write_yearly(ws: Worksheet, sheet: TearSheet) -> None:
    """Yearly returns of the strategy and both benchmarks, with the strategy's excess over each."""
    kinds = {"Year": "number"} | {c: "pct" for c in sheet.yearly.columns[1:]}
    kinds |= {c: "signed_pct" for c in sheet.yearly.columns if str(c).startswith("Excess")}
    write_table(ws, sheet.yearly, kinds)


def write_drawdowns(ws: Worksheet, sheet: TearSheet) -> None:
    """The five deepest drawdowns; an open one reads "not recovered" in the Recovery column."""
    if sheet.drawdowns.empty:
        ws.cell(1, 1, "The account value never fell below a previous peak.")
        return
    write_table(ws, sheet.drawdowns, DRAWDOWN_KINDS)


def write_rolling(ws: Worksheet, sheet: TearSheet) -> None:
    """Rolling volatility, Sharpe ratio and beta at each year end and at the last date."""
    if sheet.rolling_ends.empty:
        ws.cell(1, 1, f"The run has fewer than {sheet.window} daily returns: no rolling window is full.")
        return
    write_table(ws, sheet.rolling_ends, ROLLING_KINDS)
    note = len(sheet.rolling_ends) + 3
    ws.cell(note, 1, f"Each value is over the {sheet.window} daily returns ending at the date; beta is to the stock "
                     "(the buy-and-hold benchmark).")  # fmt: skip


def write_settings(ws: Worksheet, report: RunReport) -> None:
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
    write_table(ws, frame, {"Setting": "text", "Value": "number", "Meaning": "wide"})
    for offset, r in enumerate(rows, start=1):
        fmt = FORMATS.get(setting_kind(r.name))
        if fmt and fmt != "General" and isinstance(r.value, int | float) and not isinstance(r.value, bool):
            ws.cell(1 + offset, 2).number_format = fmt
    set_widths(ws, (32, 12, 14, 16, 22, 12, 18, 80))


def write_definitions(ws: Worksheet) -> None:
    """Every metric (:mod:`core.metric_registry`) and every tear-sheet statistic, with its definition."""
    frame = pd.concat([metric_definitions(), statistic_definitions()], ignore_index=True)
    write_table(ws, frame, {"Definition": "wide", "Group": "text"})
    set_widths(ws, (24, 32, 34, 12, 8, 100))


def write_assumptions(ws: Worksheet, report: RunReport) -> None:
    """The assumptions and limitations of the run, the hypothetical-results disclaimer first."""
    write_cell(ws, 1, 1, "Assumptions and limitations").font = BOLD
    wrap = Alignment(wrap_text=True, vertical="top")
    for row, item in enumerate(assumptions(report), start=3):
        write_cell(ws, row, 1, item.topic).font = BOLD
        write_cell(ws, row, 2, item.text).alignment = wrap
        ws.cell(row, 1).alignment = Alignment(vertical="top")
    set_widths(ws, (26, 120))
