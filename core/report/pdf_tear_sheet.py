"""The run PDF's tear-sheet, assumptions and definitions sections (:mod:`core.report.tear_sheet`,
:mod:`core.report.assumptions`), as reportlab flowables.

Every number is printed through the one formatting layer (:func:`core.report.formats.format_value` with the
statistic's registry format), so a figure reads the same here, in the app and in the workbook. The rolling charts
are vector drawings (:func:`core.report.pdf_charts.line_chart`, like the report's other charts), which keeps a
PDF free of a browser start.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Spacer, Table, TableStyle

from core.figures import STYLES
from core.report.assumptions import assumptions
from core.report.context import RunReport
from core.report.formats import format_value
from core.report.pdf_charts import line_chart
from core.report.pdf_fonts import REGULAR
from core.report.pdf_layout import BODY, H2, SMALL, grid, pairs_table, para, para_text
from core.report.run_tables import MONTHS, dividend_table
from core.report.tear_sheet import ALL_STATISTICS, NOT_RECOVERED, TearSheet

# Fifteen columns on a portrait page: a smaller font and tighter padding than the other tables.
COMPACT = TableStyle(
    [
        ("FONT", (0, 0), (-1, -1), REGULAR, 6.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2),
    ]
)


def _pct(value: Any) -> str:
    """A fraction as the reports print it (``12.34 %``); empty for a month without data."""
    return "" if pd.isna(value) else format_value("pct", value)


def _date(value: Any) -> str:
    return NOT_RECOVERED if value == NOT_RECOVERED else f"{pd.Timestamp(value):%Y-%m-%d}"


def _heading(title: str, caption: str, *body: Any) -> list[Any]:
    """A heading kept on the page of its caption and first table."""
    return [KeepTogether([para(para_text(title), H2), para(para_text(caption), SMALL), Spacer(1, 3), *body])]


def monthly_section(sheet: TearSheet, width: float) -> list[Any]:
    """Monthly returns (years × months) with each year's total."""
    frame = sheet.monthly
    if frame.empty:
        return []
    rows: list[list[Any]] = [["Year", *MONTHS, "Year total"]]
    rows += [[str(int(r["Year"])), *(_pct(r[m]) for m in MONTHS), _pct(r["Total"])] for _, r in frame.iterrows()]
    cell = (width - 12 * mm) / 13.4
    table = grid(rows, widths=[10 * mm, *[cell] * 12, cell * 1.4 + 2 * mm])
    table.setStyle(COMPACT)
    return _heading("Monthly returns", "Compounded daily returns of each calendar month and year; the first month "
                    "from the initial capital.", table)  # fmt: skip


def yearly_section(sheet: TearSheet) -> list[Any]:
    """Yearly returns of the strategy and both benchmarks, with the strategy's excess over each."""
    frame = sheet.yearly
    if frame.empty:
        return []
    columns = [str(c) for c in frame.columns]
    rows: list[list[Any]] = [columns]
    for _, r in frame.iterrows():
        rows.append([str(int(r["Year"])), *(format_value("signed_pct" if c.startswith("Excess") else "pct", r[c])
                                             for c in columns[1:])])  # fmt: skip
    return _heading("Yearly returns against the benchmarks",
                    "Excess is the strategy's yearly return minus the benchmark's.", grid(rows))  # fmt: skip


def drawdowns_section(sheet: TearSheet) -> list[Any]:
    """The five deepest drawdowns of the strategy."""
    frame = sheet.drawdowns
    caption = ("Peak to trough to recovery (the first day back at the peak); length in calendar days, to the last "
               "day when not recovered.")  # fmt: skip
    if frame.empty:
        return _heading("Worst drawdowns", caption, para("The account value never fell below a previous peak.", BODY))
    rows: list[list[Any]] = [["Rank", "Peak", "Trough", "Recovery", "Depth", "Length (days)"]]
    for _, r in frame.iterrows():
        rows.append([f"{int(r['Rank'])}", _date(r["Peak"]), _date(r["Trough"]), _date(r["Recovery"]),
                     format_value("pct", r["Depth"]), format_value("count", r["Length (days)"])])  # fmt: skip
    return _heading(f"The {len(frame)} worst drawdowns", caption, grid(rows))


def rolling_section(sheet: TearSheet, width: float) -> list[Any]:
    """Charts of the rolling volatility, Sharpe ratio and beta, and their values at each year end."""
    title = f"Rolling risk ({sheet.window}-day window)"
    caption = (f"Volatility and Sharpe ratio of the last {sheet.window} daily returns, annualised, and beta to the "
               "stock (the buy-and-hold benchmark); the table reads them at each year end and at the last date.")
    if sheet.rolling.empty:
        return _heading(title, caption, para(f"The run has fewer than {sheet.window} daily returns.", BODY))
    colour = STYLES["strategy"].color
    charts: list[Any] = []
    axes: dict[str, tuple[str, Callable[[float], str]]] = {
        "Volatility": ("Rolling volatility (annualised)", lambda v: f"{v:.0%}"),
        "Sharpe ratio": ("Rolling Sharpe ratio (annualised)", lambda v: f"{v:.1f}"),
        "Beta": ("Rolling beta to the stock", lambda v: f"{v:.2f}"),
    }
    for column, (chart_title, y_format) in axes.items():
        series = sheet.rolling[column].dropna()
        if series.empty:
            continue
        charts += [line_chart({column: series}, {column: (colour, 1.0, False)}, title=chart_title,
                              y_format=y_format, width=width, height=110), Spacer(1, 3)]  # fmt: skip
    rows: list[list[Any]] = [["Date", "Volatility", "Sharpe ratio", "Beta"]]
    for _, r in sheet.rolling_ends.iterrows():
        rows.append([_date(r["Date"]), format_value("pct", r["Volatility"]), format_value("ratio", r["Sharpe ratio"]),
                     format_value("ratio", r["Beta"])])  # fmt: skip
    return _heading(title, caption, *charts[:2]) + charts[2:] + [Spacer(1, 3), grid(rows)]


def statistics_grid(frame: pd.DataFrame, label_width: float = 60 * mm, value_width: float = 32 * mm) -> Table:
    """A statistics table of :mod:`core.report.tear_sheet`: each row printed in its statistic's format."""
    values = [str(c) for c in frame.columns if c not in ("Statistic", "Definition", "key", "fmt")]
    rows: list[list[Any]] = [["Statistic", *values]]
    for _, r in frame.iterrows():
        rows.append([r["Statistic"], *(format_value(r["fmt"], r[c]) for c in values)])
    return grid(rows, widths=[label_width, *[value_width] * len(values)])


def statistics_sections(sheet: TearSheet) -> list[Any]:
    """Alpha, beta and the other figures against each benchmark; the daily return distribution with VaR and
    CVaR; the distribution of the sells' realised P&L."""
    return [
        *_heading("Against the benchmarks", "Daily returns of the strategy against each benchmark's; alpha and "
                  "tracking error annualised. Definitions at the end of the report.", statistics_grid(sheet.relative)),
        *_heading("Distribution of daily returns", "Historical VaR and CVaR: percentiles of the run's own daily "
                  "returns and the mean of the days at or below them.", statistics_grid(sheet.distribution)),
        *_heading("Realised P&L of the sells", "Against the average cost, buy commissions included (the Trade "
                  "analysis page's figures).", statistics_grid(sheet.trade_pnl)),
    ]  # fmt: skip


def dividends_section(report: RunReport) -> list[Any]:
    """Every dividend booked in the period: ex and pay dates, gross, withheld and net, with totals."""
    frame = dividend_table(report)
    caption = ("Booked at the ex-date on the shares held before that bar's trade; the net amount is cash at the pay "
               "date.")  # fmt: skip
    if frame.empty:
        return _heading("Dividends", caption, para("No dividends in the period shown.", BODY))
    rows: list[list[Any]] = [["Ex date", "Pay date", "Per share", "Shares", "Gross", "Withheld", "Net", "Paid"]]
    for _, r in frame.iterrows():
        rows.append([_date(r["Ex date"]), _date(r["Pay date"]), f"{r['Amount per share']:,.4f}",
                     f"{r['Shares']:,.2f}", format_value("money", r["Gross"]), format_value("money", r["Withheld"]),
                     format_value("money", r["Net"]), "yes" if r["Paid"] else "no"])  # fmt: skip
    rows.append(["Total", "", "", "", *(format_value("money", frame[c].sum()) for c in ("Gross", "Withheld", "Net")),
                 ""])  # fmt: skip
    return _heading("Dividends", caption, grid(rows))


def tear_sheet_story(report: RunReport, sheet: TearSheet, width: float) -> list[Any]:
    """Every tear-sheet section, in reading order."""
    return [
        *monthly_section(sheet, width),
        *yearly_section(sheet),
        *drawdowns_section(sheet),
        *rolling_section(sheet, width),
        *statistics_sections(sheet),
        *dividends_section(report),
    ]


def statistic_definitions_grid(widths: Sequence[float]) -> Table:
    """The tear-sheet statistics' definitions, in the layout of the metric definitions."""
    rows: list[list[Any]] = [["Statistic", "Definition"]]
    rows += [[s.label, para(para_text(s.definition), SMALL)] for s in ALL_STATISTICS]
    table = grid(rows, widths=widths)
    table.setStyle(TableStyle([("ALIGN", (1, 1), (-1, -1), "LEFT")]))
    return table


def assumptions_section(report: RunReport, width: float) -> list[Any]:
    """The assumptions and limitations page: the hypothetical-results disclaimer first."""
    pairs = [(item.topic, item.text) for item in assumptions(report)]
    return [para("Assumptions and limitations", H2), pairs_table(pairs, (38 * mm, width - 38 * mm))]
