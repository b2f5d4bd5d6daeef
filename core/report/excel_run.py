"""Run workbooks: one run with its full audit trail, or several runs side by side.

Sheets of a full-audit run workbook: Summary (dataset and hash, period, configuration, engine version, metrics of
strategy, buy-and-hold and static mix), Assumptions (hypothetical results, fills, costs, dividends, taxes, data),
Transaction Log (one row per evaluation), Trades, Dividends (ex and pay dates, gross, withheld, net), Daily Equity
(with the benchmarks, drawdowns and the stock share), the tear sheet (:mod:`core.report.tear_sheet`: Monthly
Returns, Yearly Returns against both benchmarks, the five worst Drawdowns, Rolling Risk at each year end, Benchmark
Stats, the daily return Distribution with VaR and CVaR, Trade P&L), Settings (every field with its unit),
Definitions (every metric and statistic) and Charts (native Excel line charts of equity vs benchmarks, drawdown,
and the stock share inside the guardrail band). Templates pick a subset.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO, Literal

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import LineChart, Reference
from openpyxl.chart.axis import DateAxis

from core.engine import ENGINE_VERSION
from core.report.context import RunReport, excel_sheet_name
from core.report.excel_style import (
    BOLD_STYLE,
    FORMATS,
    TITLE_STYLE,
    SheetWriter,
    metric_row_formats,
    new_workbook,
    write_pairs,
    write_table,
)
from core.report.excel_tear_sheet import (
    DIVIDEND_KINDS,
    MONTHLY_KINDS,
    write_assumptions,
    write_definitions,
    write_drawdowns,
    write_rolling,
    write_settings,
    write_statistics,
    write_yearly,
)
from core.report.formats import metric_kind, setting_kind
from core.report.run_tables import config_rows, daily_table, dividend_table, labelled_metrics
from core.report.tear_sheet import TearSheet, tear_sheet
from core.report.transaction_log import COLUMN_KINDS, transaction_log
from core.result_columns import ResultColumn, result_column
from core.theme import COLORS, SERIES, STRATEGY, SeriesStyle

Template = Literal["full_audit", "performance", "trades_only"]
Rows = Literal["all", "trades"]

TEAR_SHEET: tuple[str, ...] = (
    "Monthly Returns", "Yearly Returns", "Drawdowns", "Rolling Risk", "Benchmark Stats", "Distribution",
)
TEMPLATES: dict[str, tuple[str, ...]] = {
    "full_audit": (
        "Summary", "Assumptions", "Transaction Log", "Trades", "Dividends", "Daily Equity", *TEAR_SHEET,
        "Trade P&L", "Settings", "Definitions", "Charts",
    ),
    "performance": ("Summary", "Assumptions", "Daily Equity", *TEAR_SHEET, "Settings", "Definitions", "Charts"),
    "trades_only": ("Summary", "Assumptions", "Trades", "Trade P&L"),
}  # fmt: skip
NEEDS_TEAR_SHEET: frozenset[str] = frozenset({*TEAR_SHEET, "Trade P&L"})
TEMPLATE_TITLES: dict[str, str] = {
    "full_audit": "Full audit",
    "performance": "Performance summary",
    "trades_only": "Trades only",
}

# Columns a caller adds to the engine's trades (a portfolio's cell), with their header and kind.
EXTRA_TRADE_COLUMNS: dict[str, ResultColumn] = {"cell": ResultColumn("cell", "Cell", "text")}
DAILY_KINDS: dict[str, str] = {"Date": "date"}


def labelled_trades(trades: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Trades headed by their registry labels (core.result_columns: ``Stock share after``), with each header's
    number-format kind (``pct``), as the Trades sheets show them."""
    columns = [EXTRA_TRADE_COLUMNS.get(str(c)) or result_column("trades", str(c)) for c in trades.columns]
    return trades.set_axis([c.label for c in columns], axis=1), {c.label: c.kind for c in columns}


def _check(template: str, rows: str) -> None:
    if template not in TEMPLATES:
        raise ValueError(f"unknown template {template!r}; use one of {', '.join(TEMPLATES)}")
    if rows not in ("all", "trades"):
        raise ValueError(f"rows must be 'all' or 'trades', got {rows!r}")


def _dataset_pairs(report: RunReport) -> list[tuple[str, object]]:
    first, last = report.period
    ds = report.dataset
    return [
        ("Dataset", ds.name),
        ("Symbol", ds.symbol),
        ("Dataset SHA-256", ds.sha256),
        ("Source", ds.source),
        ("Interval", ds.interval),
        ("Price basis", ds.price_basis),
        ("Time zone", ds.timezone),
        ("First bar", first),
        ("Last bar", last),
        ("Bars", len(report.clip(report.result.timeline))),
    ]


def _run_pairs(report: RunReport, template: str, rows: str) -> list[tuple[str, object]]:
    pairs: list[tuple[str, object]] = [
        ("Run id", report.run_id if report.run_id is not None else "not saved"),
        ("Run name", report.name or ""),
        ("Engine version", report.result.engine_version or ENGINE_VERSION),
        ("Template", TEMPLATE_TITLES[template]),
        ("Transaction rows", "all evaluations" if rows == "all" else "trades only"),
    ]
    if report.created_at is not None:
        saved = pd.Timestamp(report.created_at)
        # Excel has no time zones: write the UTC wall time and say so in the label
        pairs.append(("Saved at (UTC)", saved.tz_convert("UTC").tz_localize(None) if saved.tz else saved))
    if report.start or report.end:
        pairs.append(("Date range shown", f"{report.start or 'start'} to {report.end or 'end'} (metrics: whole run)"))
    if report.notes:
        pairs.append(("Notes", report.notes))
    return pairs


def write_summary(sheet: SheetWriter, report: RunReport, template: str = "full_audit", rows: str = "all") -> None:
    """Summary sheet: title, dataset, run, metrics (strategy vs benchmarks) and configuration."""
    sheet.set_widths((30, 66, 14, 14, 80))
    sheet.write(report.title, style=TITLE_STYLE)
    row = write_pairs(sheet, _dataset_pairs(report), first_row=3)
    row = write_pairs(sheet, _run_pairs(report, template, rows), first_row=row + 1)
    sheet.skip_to(row + 1)
    sheet.write("Metrics", style=BOLD_STYLE)
    metrics = labelled_metrics(report)
    shown = metrics.drop(columns=["key", "fmt"])
    last = write_table(sheet, shown, first_row=row + 2, filters=False, freeze=False,
                       row_formats=metric_row_formats(metrics["fmt"], shown.columns[1:4]))  # fmt: skip
    sheet.skip_to(last + 2)
    sheet.write("Configuration", style=BOLD_STYLE)
    rows = config_rows(report)
    # Values stay numbers in their unit's format (fractions as percentages); the field's own name beside each for
    # formulas and the API.
    write_pairs(sheet, [(r.label, "not set" if r.value is None else r.value, r.name) for r in rows],
                first_row=last + 3, bold_keys=False, kinds=[setting_kind(r.name) for r in rows])  # fmt: skip


def _transaction_frame(report: RunReport, rows: str) -> pd.DataFrame:
    log = report.clip(transaction_log(report.result))
    if rows == "trades":
        log = log[log["Order_Status"] == "FILLED"]
    return log


def _line_chart(title: str, y_title: str, number_format: str) -> LineChart:
    chart = LineChart()
    chart.title = title
    chart.y_axis.title = y_title
    chart.y_axis.number_format = number_format
    chart.y_axis.majorGridlines = None
    # the date axis and the value axis must name each other (openpyxl's documented pairing), or Excel repairs the file
    chart.y_axis.crossAx = 500
    chart.x_axis = DateAxis(crossAx=100)
    chart.x_axis.number_format = "yyyy-mm"
    chart.x_axis.majorTimeUnit = "months"
    chart.x_axis.title = None
    chart.height = 9
    chart.width = 24
    # openpyxl hides axes unless told otherwise, which Excel honours
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    return chart


def _add_series(chart: LineChart, data: SheetWriter, daily: pd.DataFrame, names: Sequence[str]) -> None:
    """Draw the Daily Equity columns ``names`` (``data`` holds ``daily`` as a table from A1) against its dates."""
    n_rows = len(daily)
    columns = [daily.columns.get_loc(name) + 1 for name in names]
    for col in columns:
        ref = Reference(data.ws, min_col=col, min_row=1, max_row=n_rows + 1)
        chart.add_data(ref, titles_from_data=True)
    chart.set_categories(Reference(data.ws, min_col=1, min_row=2, max_row=n_rows + 1))
    for series, name in zip(chart.series, names, strict=True):
        series.smooth = False
        series.graphicalProperties.line.width = 15000  # EMU: thin lines stay readable with thousands of points
        style = _series_style(name)
        if style is not None:  # the app's colours and dashes (core.theme), so a chart reads the same everywhere
            series.graphicalProperties.line.solidFill = style.color.lstrip("#").upper()
            series.graphicalProperties.line.dashStyle = EXCEL_DASHES.get(style.dash, "solid")


EXCEL_DASHES = {"solid": "solid", "dot": "sysDot", "dash": "dash", "dashdot": "dashDot"}


def _series_style(header: str) -> SeriesStyle | None:
    """The theme's style of a Daily Equity column: a series by its name ("Strategy", "Buy & hold", "Static mix",
    with or without " drawdown"); the stock share draws as the strategy."""
    name = header.removesuffix(" drawdown")
    if name == "Stock share":
        return SERIES[STRATEGY]
    return next((style for style in SERIES.values() if style.name == name), None)


def write_charts(sheet: SheetWriter, data: SheetWriter, daily: pd.DataFrame) -> None:
    """Native Excel charts on ``sheet`` drawing from the Daily Equity sheet ``data`` (layout of ``daily_table``)."""
    if len(daily) == 0:
        sheet.write("No data in the selected date range.")
        return
    names = [str(c) for c in daily.columns]
    equity = _line_chart("Account value: strategy vs benchmarks", "Value", FORMATS["money"])
    _add_series(equity, data, daily, [c for c in ("Strategy", "Buy & hold", "Static mix") if c in names])
    sheet.ws.add_chart(equity, "A1")
    drawdown = _line_chart("Drawdown from the running peak", "Drawdown", "0%")
    _add_series(drawdown, data, daily, [c for c in names if c.endswith(" drawdown")])
    sheet.ws.add_chart(drawdown, "A20")
    share = _line_chart("Stock share and the guardrail band", "Stock share", "0%")
    _add_series(share, data, daily, ["Stock share", "Guardrail min", "Guardrail max"])
    for series in share.series[1:]:
        series.graphicalProperties.line.dashStyle = "dash"
        series.graphicalProperties.line.solidFill = COLORS.guardrail_line.lstrip("#").upper()
    share.y_axis.scaling.min = 0
    share.y_axis.scaling.max = 1
    sheet.ws.add_chart(share, "A39")


def _write_tear_sheet(wb: Workbook, name: str, tear: TearSheet) -> SheetWriter:
    sheet = SheetWriter(wb, name)
    if name == "Monthly Returns":
        write_table(sheet, tear.monthly, MONTHLY_KINDS)
    elif name == "Yearly Returns":
        write_yearly(sheet, tear)
    elif name == "Drawdowns":
        write_drawdowns(sheet, tear)
    elif name == "Rolling Risk":
        write_rolling(sheet, tear)
    elif name == "Benchmark Stats":
        write_statistics(sheet, tear.relative)
    elif name == "Distribution":
        write_statistics(sheet, tear.distribution)
    elif name == "Trade P&L":
        write_statistics(sheet, tear.trade_pnl)
    return sheet


def add_run_sheets(wb: Workbook, report: RunReport, template: str = "full_audit", rows: str = "all") -> None:
    """Add the template's sheets for ``report`` to the write-only workbook ``wb`` (which should have no sheets of
    those names)."""
    _check(template, rows)
    wanted = TEMPLATES[template]
    daily = daily_table(report) if {"Daily Equity", "Charts"} & set(wanted) else None
    tear = tear_sheet(report) if NEEDS_TEAR_SHEET & set(wanted) else None
    daily_sheet = None
    for name in wanted:
        if name in NEEDS_TEAR_SHEET:
            assert tear is not None
            _write_tear_sheet(wb, name, tear)
            continue
        sheet = SheetWriter(wb, name)
        if name == "Summary":
            write_summary(sheet, report, template, rows)
        elif name == "Assumptions":
            write_assumptions(sheet, report)
        elif name == "Transaction Log":
            write_table(sheet, _transaction_frame(report, rows), COLUMN_KINDS)
        elif name == "Trades":
            write_table(sheet, *labelled_trades(report.clip(report.result.trades, "timestamp")))
        elif name == "Dividends":
            write_table(sheet, dividend_table(report), DIVIDEND_KINDS)
        elif name == "Daily Equity":
            assert daily is not None
            kinds = DAILY_KINDS | {c: "money" for c in daily.columns[1:4]} | {c: "pct" for c in daily.columns[4:]}
            write_table(sheet, daily, kinds)
            daily_sheet = sheet
        elif name == "Settings":
            write_settings(sheet, report)
        elif name == "Definitions":
            write_definitions(sheet)
        elif name == "Charts":
            assert daily is not None
            if daily_sheet is None:  # the charts need their data in the workbook
                daily_sheet = SheetWriter(wb, "Daily Equity")
                write_table(daily_sheet, daily, DAILY_KINDS)
            write_charts(sheet, daily_sheet, daily)


def run_workbook(report: RunReport, *, template: Template = "full_audit", rows: Rows = "all") -> Workbook:
    """The workbook of one run (see the module docstring); ``rows="trades"`` lists only filled orders in the
    Transaction Log. Write-only (:func:`core.report.excel_style.new_workbook`): save it once."""
    with new_workbook() as wb:
        add_run_sheets(wb, report, template, rows)
    wb.properties.title = report.title  # a document property, never evaluated
    return wb


SUMMARY_METRICS: tuple[str, ...] = (
    "total_return", "cagr", "volatility", "sharpe", "max_drawdown", "n_trades", "total_commission",
    "buy_hold_return", "static_mix_return", "excess_return_vs_buy_hold",
)  # fmt: skip


def runs_workbook(reports: Sequence[RunReport], *, template: Template = "full_audit", rows: Rows = "all") -> Workbook:
    """Several runs in one workbook: a Summary sheet (one row per run) and one sheet per run named
    ``{TICKER}_{RUN_ID}`` holding its Transaction Log (its Trades with the ``trades_only`` template)."""
    _check(template, rows)
    from core.metric_table import metric_info

    names: list[str] = []
    for report in reports:
        base = report.sheet_name
        name, k = base, 2
        while name in names or name == "Summary":
            name = excel_sheet_name(f"{base[:27]}_{k}")
            k += 1
        names.append(name)
    records = []
    for name, report in zip(names, reports, strict=True):
        first, last = report.period
        record = {
            "Sheet": name, "Run id": report.run_id, "Run name": report.name, "Symbol": report.dataset.symbol,
            "Dataset": report.dataset.name, "Dataset SHA-256": report.dataset.sha256, "First bar": first,
            "Last bar": last, "Engine version": report.result.engine_version,
        }  # fmt: skip
        for key in SUMMARY_METRICS:
            record[metric_info(key).label] = float(report.result.metrics.get(key, float("nan")))
        records.append(record)
    frame = pd.DataFrame(records)
    kinds = {"First bar": "datetime", "Last bar": "datetime", "Run id": "count", "Dataset SHA-256": "text"}
    for key in SUMMARY_METRICS:
        kinds[metric_info(key).label] = metric_kind(key)
    with new_workbook() as wb:
        write_table(SheetWriter(wb, "Summary"), frame, kinds)
        for name, report in zip(names, reports, strict=True):
            sheet = SheetWriter(wb, name)
            if template == "trades_only":
                write_table(sheet, *labelled_trades(report.clip(report.result.trades, "timestamp")))
            else:
                write_table(sheet, _transaction_frame(report, rows), COLUMN_KINDS)
    return wb


def save_workbook(wb: Workbook, target: str | Path | BinaryIO | None = None) -> bytes | None:
    """Save to a path or binary stream; with no target return the ``.xlsx`` bytes (for download buttons)."""
    if target is None:
        buffer = io.BytesIO()
        wb.save(buffer)
        return buffer.getvalue()
    wb.save(target)
    return None
