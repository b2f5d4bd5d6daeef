"""Exports of a portfolio backtest (docs/strategy.md §12): an xlsx workbook, a PDF report, the trades as CSV and a
JSON summary, each a pure function of a :class:`PortfolioReport` (the result plus what it ran on) returning bytes.

They read like the run's exports because they are built from the same pieces: metric labels, units and number
formats from the registries (:mod:`core.report.formats`, :data:`core.report.excel_style.METRIC_FORMATS`), the
workbook's typed tables with formula-like text made inert (:func:`core.report.excel_style.write_table`), the CSV's
quote-prefix guard (:func:`core.report.safe_cells.safe_frame`), and the run PDF's fonts, grids, page numbers and
vector charts (:mod:`core.report.pdf_layout`, :mod:`core.report.pdf_charts`).

Workbook sheets: Summary (what ran, and every metric of the portfolio beside its two benchmarks), Rules (each
portfolio rule with its label and unit), Cells (name, weight, dataset and every configuration field per cell),
Contributions, Trades (with the cell), Transfers, Equity & benchmarks, Allocation and Correlation.
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from openpyxl import Workbook
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, PageBreak, Spacer, TableStyle

from core.config import StrategyConfig
from core.config_registry import CONFIG_FIELDS, ConfigField
from core.engine import ENGINE_VERSION
from core.figures_portfolio import (
    CHART_TITLES,
    CORRELATION_LABEL,
    EQUAL_WEIGHT,
    INITIAL_MIX,
    POOL_LABEL,
    PORTFOLIO,
    PORTFOLIO_SERIES,
    allocation_columns,
)
from core.json_values import plain, records
from core.metric_registry import METRIC_ORDER
from core.metric_table import RETURN_AND_RISK, metric_info
from core.metrics import daily_equity, performance_metrics
from core.portfolio import POOL, PortfolioResult
from core.portfolio.rules import PORTFOLIO_FIELDS

# The registries' unit words and valid-value texts, as the run's Settings sheet and the Definitions page show them.
from core.report.definitions import UNIT_WORDS, config_definitions, valid_text
from core.report.excel_run import labelled_trades, save_workbook
from core.report.excel_style import (
    BOLD_STYLE,
    FORMATS,
    TITLE_STYLE,
    SheetWriter,
    metric_row_formats,
    new_workbook,
    number_format_for,
    write_pairs,
    write_table,
)
from core.report.exports import MIME, Export
from core.report.formats import format_value, setting_kind, setting_text, unit_text
from core.report.pdf import PAGE_SIZES, PageSize, build_pdf, figure_rows, kpi_rows
from core.report.pdf_charts import heatmap_drawing, line_chart
from core.report.pdf_fonts import BOLD as PDF_BOLD
from core.report.pdf_layout import H2, SMALL, TITLE, grid, pairs_table, para, para_text
from core.report.safe_cells import safe_frame

PORTFOLIO_FORMATS: tuple[str, ...] = ("xlsx", "pdf", "csv", "json")
JSON_FORMAT = "vbl-portfolio"
JSON_VERSION = 1
DEFAULT_TIMEZONE = "America/New_York"  # the engine's, for a cell whose dataset names none

# The metrics table's columns: the portfolio, then its benchmarks (PortfolioResult.benchmarks' columns).
METRIC_COLUMNS: tuple[str, ...] = (PORTFOLIO, EQUAL_WEIGHT, INITIAL_MIX)
COLUMN_TITLES: dict[str, str] = {key: PORTFOLIO_SERIES[key].name for key in METRIC_COLUMNS}

SHEETS: tuple[str, ...] = (
    "Summary", "Rules", "Cells", "Contributions", "Trades", "Transfers", "Equity & benchmarks", "Allocation",
    "Correlation",
)  # fmt: skip
CONTRIBUTION_COLUMNS: dict[str, tuple[str, str]] = {  # result column -> (header, number-format kind)
    "cell": ("Cell", "text"), "weight": ("Weight", "pct"), "start_value": ("Start value", "money"),
    "moved_in": ("Moved in", "money"), "end_value": ("End value", "money"), "profit": ("Profit", "money"),
    "share_of_profit": ("Share of profit", "pct"),
}  # fmt: skip
TIMELINE_COLUMNS: dict[str, tuple[str, str]] = {
    "stock_value": ("Stock value", "money"), "cash": ("Cash incl. pool", "money"), "pool": (POOL_LABEL, "money"),
    "receivable": ("Dividends receivable", "money"), "exposure": ("Exposure", "pct"),
}  # fmt: skip
TRANSFER_KINDS: dict[str, str] = {"timestamp": "datetime", "cell": "text", "kind": "text", "amount": "money"}
RULE_KINDS: dict[str, str] = {"fraction": "pct", "money": "money"}  # the rules' numeric units -> number formats
CELLS_PER_TABLE = 4  # configuration columns side by side on a portrait PDF page


@dataclass(frozen=True)
class PortfolioCellMeta:
    """What one cell ran on, as the exports name it: its dataset (``None`` when not known) and the dataset's id in
    the store. The cell's configuration, as it ran, is ``result.cells[name].config``."""

    name: str
    weight: float
    dataset_id: int | None = None
    dataset_name: str = ""
    symbol: str = ""
    sha256: str = ""
    timezone: str | None = None


@dataclass(frozen=True, eq=False)
class PortfolioReport:
    """A portfolio backtest as reported: the result plus where it came from.

    ``cells`` default to the result's own cells (names and weights, no dataset), so a result fresh from
    ``simulate_portfolio`` exports without a store.
    """

    result: PortfolioResult
    cells: tuple[PortfolioCellMeta, ...] = ()
    portfolio_id: int | None = None
    name: str = ""
    notes: str = ""
    created_at: datetime | None = None
    engine_version: str = ENGINE_VERSION

    def __post_init__(self) -> None:
        if not self.cells:
            cells = tuple(PortfolioCellMeta(n, w) for n, w in self.result.weights.items() if n != POOL)
            object.__setattr__(self, "cells", cells)

    @property
    def title(self) -> str:
        """``"Portfolio 7: name"`` for a stored portfolio, else its name or its cells."""
        label = self.name or f"Portfolio of {', '.join(c.name for c in self.cells)}"
        return f"Portfolio {self.portfolio_id}: {label}" if self.portfolio_id is not None else label

    @property
    def timezone(self) -> str:
        """The exchange time zone the daily series are dated in (the first cell's, as the engine's)."""
        return next((c.timezone for c in self.cells if c.timezone), None) or DEFAULT_TIMEZONE

    @property
    def configs(self) -> dict[str, StrategyConfig]:
        """Each cell's configuration as it ran (its ``initial_capital`` is the cell's weight of the capital)."""
        return {c.name: self.result.cells[c.name].config for c in self.cells}

    @property
    def period(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """First and last bar of the aligned calendar."""
        index = self.result.timeline.index
        return pd.Timestamp(index[0]), pd.Timestamp(index[-1])

    @functools.cached_property
    def metrics_table(self) -> pd.DataFrame:
        """Rows = every metric (registry order), columns = portfolio and its two benchmarks; raw floats.

        The benchmarks' return and risk figures are computed exactly as the portfolio's (docs/strategy.md §12.6:
        the daily series with the capital prepended, then :func:`core.metrics.performance_metrics`); their other
        rows are NaN, since trading and dividend counts belong to the portfolio."""
        result = self.result
        capital = result.rules.initial_capital
        first = next(iter(self.configs.values()))
        data = {PORTFOLIO: [float(result.metrics.get(n, math.nan)) for n in METRIC_ORDER]}
        for column in METRIC_COLUMNS[1:]:
            daily = daily_equity(result.benchmarks[column], capital, self.timezone)
            figures = performance_metrics(daily, capital, first.risk_free_rate, first.periods_per_year)
            data[column] = [float(figures[n]) if n in RETURN_AND_RISK and n in figures else math.nan
                            for n in METRIC_ORDER]  # fmt: skip
        return pd.DataFrame(data, index=pd.Index(list(METRIC_ORDER), name="metric"))


def _pct(value: Any) -> str:
    """A fraction as every export prints it (``30.00 %``; ``n/a`` when missing)."""
    return format_value("pct", value)


# --- shared tables ------------------------------------------------------------------------------------------------


def labelled_metrics(report: PortfolioReport) -> pd.DataFrame:
    """The metrics table with the registry's ``Metric`` label and ``Definition``, and each row's ``key`` and
    ``fmt`` (for number formats)."""
    table = report.metrics_table
    frame = pd.DataFrame({
        "Metric": [metric_info(n).label for n in table.index],
        **{COLUMN_TITLES[c]: table[c].to_numpy() for c in table.columns},
        "Definition": [metric_info(n).definition for n in table.index],
    })  # fmt: skip
    frame["key"] = list(table.index)
    frame["fmt"] = [metric_info(n).fmt for n in table.index]
    return frame


@dataclass(frozen=True)
class RuleRow:
    """One portfolio rule as the exports show it: label, raw value, unit words, the value as text, registry info."""

    name: str
    label: str
    value: Any
    unit: str
    text: str
    default: str
    valid: str
    meaning: str
    kind: str  # a key of core.report.excel_style.FORMATS, or "text"


def rule_rows(report: PortfolioReport) -> list[RuleRow]:
    """Every field of :data:`core.portfolio.rules.PORTFOLIO_FIELDS`, in registry order, with its value."""
    rules = report.result.rules
    return [_rule_row(f, getattr(rules, f.name)) for f in PORTFOLIO_FIELDS]


def _rule_row(field: ConfigField, value: Any) -> RuleRow:
    return RuleRow(field.name, field.label, value, UNIT_WORDS[field.unit], unit_text(field.unit, value),
                   unit_text(field.unit, field.default), valid_text(field), field.help,
                   RULE_KINDS.get(field.unit, "text"))


def cells_table(report: PortfolioReport) -> pd.DataFrame:
    """One row per cell: name, weight, start value, its dataset and the bars it ran on."""
    rows = []
    for c in report.cells:
        timeline = report.result.cells[c.name].timeline
        rows.append({
            "Cell": c.name, "Weight": c.weight, "Start value": report.configs[c.name].initial_capital,
            "Dataset": c.dataset_name, "Symbol": c.symbol, "Dataset id": c.dataset_id, "Dataset SHA-256": c.sha256,
            "First bar": pd.Timestamp(timeline.index[0]), "Last bar": pd.Timestamp(timeline.index[-1]),
            "Bars": len(timeline),
        })  # fmt: skip
    return pd.DataFrame(rows)


def configuration_table(report: PortfolioReport) -> pd.DataFrame:
    """Every configuration field (rows, registry order) with its label, name and unit, and each cell's value
    (one column per cell): the cells side by side, so a difference between them reads along a row."""
    units = config_definitions().set_index("Field")["Unit"]
    frame = pd.DataFrame({
        "Setting": [f.label for f in CONFIG_FIELDS],
        "Field": [f.name for f in CONFIG_FIELDS],
        "Unit": [units[f.name] for f in CONFIG_FIELDS],
    })  # fmt: skip
    for name, config in report.configs.items():
        frame[name] = pd.Series([getattr(config, f.name) for f in CONFIG_FIELDS], dtype=object)
    return frame


def _renamed(frame: pd.DataFrame, columns: dict[str, tuple[str, str]]) -> tuple[pd.DataFrame, dict[str, str]]:
    """``frame`` with readable headers, and each header's number-format kind."""
    shown = frame[[c for c in columns if c in frame.columns]].rename(columns={k: v[0] for k, v in columns.items()})
    return shown.reset_index(drop=True), {header: kind for header, kind in columns.values()}


def equity_table(report: PortfolioReport) -> pd.DataFrame:
    """Per bar of the aligned calendar: the portfolio's value, both benchmarks, and the timeline's stock value,
    cash (the pool included), pool, receivable and exposure."""
    result = report.result
    frame = pd.DataFrame({"Timestamp": result.equity.index})
    frame[COLUMN_TITLES[PORTFOLIO]] = result.equity.to_numpy(dtype=float)
    for column in result.benchmarks.columns:
        frame[PORTFOLIO_SERIES[str(column)].name] = result.benchmarks[column].to_numpy(dtype=float)
    for column, (header, _) in TIMELINE_COLUMNS.items():
        frame[header] = result.timeline[column].to_numpy(dtype=float)
    return frame


def allocation_table(report: PortfolioReport) -> pd.DataFrame:
    """Each cell's share of the portfolio per bar, and the pool's when the portfolio has one."""
    allocation = report.result.allocation
    frame = pd.DataFrame({"Timestamp": allocation.index})
    for column in allocation_columns(allocation):
        frame[POOL_LABEL if column == POOL else column] = allocation[column].to_numpy(dtype=float)
    return frame


# --- workbook -----------------------------------------------------------------------------------------------------


def _summary_sheet(sheet: SheetWriter, report: PortfolioReport) -> None:
    """Title, what ran (identity, period, cells, rules) and every metric against the two benchmarks."""
    result = report.result
    rules = result.rules
    first, last = report.period
    sheet.set_widths((30, 40, 22, 14, 90))
    sheet.write(report.title, style=TITLE_STYLE)
    pairs: list[tuple[str, Any]] = [
        ("Portfolio id", report.portfolio_id if report.portfolio_id is not None else "not saved"),
        ("Name", report.name), ("Engine version", report.engine_version),
    ]  # fmt: skip
    if report.created_at is not None:
        saved = pd.Timestamp(report.created_at)
        # Excel has no time zones: the UTC wall time, said so in the label
        pairs.append(("Saved at (UTC)", saved.tz_convert("UTC").tz_localize(None) if saved.tz else saved))
    if report.notes:
        pairs.append(("Notes", report.notes))
    pairs += [
        ("First bar", first), ("Last bar", last), ("Bars", len(result.timeline)),
        ("Cells", ", ".join(f"{c.name} ({_pct(c.weight)})" for c in report.cells)),
        ("Portfolio capital", rules.initial_capital),
        ("Cash pool", f"{_pct(result.weights.get(POOL, 0.0))} of the capital, cap {_pct(rules.pool_cap)} per cell"
         if rules.cash_pool else "none"),
        ("Re-allocation", rules.reallocation + (f" (band {_pct(rules.reallocation_band)})"
                                                 if rules.reallocation == "band" else "")),
    ]  # fmt: skip
    kinds = [None] * len(pairs)
    kinds[[label for label, _ in pairs].index("Portfolio capital")] = "money"
    row = write_pairs(sheet, pairs, first_row=3, kinds=kinds)
    sheet.skip_to(row + 1)
    sheet.write("Metrics", style=BOLD_STYLE)
    metrics = labelled_metrics(report)
    shown = metrics.drop(columns=["key", "fmt"])
    write_table(sheet, shown, first_row=row + 2, filters=False, freeze=False,
                row_formats=metric_row_formats(metrics["fmt"], shown.columns[1 : 1 + len(METRIC_COLUMNS)]))  # fmt: skip


def _rules_sheet(sheet: SheetWriter, report: PortfolioReport) -> None:
    """Every portfolio rule: label, value (a number in its unit's format), unit, the value as text, the field's
    name, default, valid values and meaning."""
    rows = rule_rows(report)
    frame = pd.DataFrame({
        "Rule": [r.label for r in rows],
        "Value": pd.Series([r.value for r in rows], dtype=object),
        "Unit": [r.unit for r in rows], "Shown as": [r.text for r in rows], "Field": [r.name for r in rows],
        "Default": [r.default for r in rows], "Valid values": [r.valid for r in rows],
        "Meaning": [r.meaning for r in rows],
    })  # fmt: skip
    sheet.set_widths((26, 12, 12, 16, 20, 10, 22, 90))
    write_table(sheet, frame, {"Rule": "text", "Value": "number", "Meaning": "wide"},
                row_formats=[{"Value": FORMATS[r.kind]} if r.kind in FORMATS and not isinstance(r.value, bool | str)
                             else {} for r in rows])  # fmt: skip


def _cells_sheet(sheet: SheetWriter, report: PortfolioReport) -> None:
    """The cells (one row each), then every configuration field with each cell's value beside the others."""
    cell_columns = list(report.configs)
    sheet.set_widths((34, 22, 16, *([16] * len(cell_columns))))
    kinds = {"Cell": "text", "Weight": "pct", "Start value": "money", "Dataset id": "count", "Dataset SHA-256": "text",
             "First bar": "datetime", "Last bar": "datetime", "Bars": "count"}  # fmt: skip
    last = write_table(sheet, cells_table(report), kinds, filters=False)
    sheet.skip_to(last + 2)
    sheet.write("Configuration of each cell (as it ran: its initial capital is its weight of the portfolio capital)",
                style=BOLD_STYLE)  # fmt: skip
    config = configuration_table(report)
    # each cell's value of a field in the field's unit format; a field left unset reads "not set"
    formats = [{name: number_format_for(setting_kind(field.name), config.at[row, name]) for name in cell_columns}
               for row, field in enumerate(CONFIG_FIELDS)]  # fmt: skip
    for name in cell_columns:
        config[name] = pd.Series(["not set" if v is None else v for v in config[name]], dtype=object)
    kinds = {"Setting": "text", "Field": "text", "Unit": "text"} | dict.fromkeys(cell_columns, "number")
    write_table(sheet, config, kinds, first_row=last + 3, filters=False, freeze=False, row_formats=formats)


def _correlation_frame(report: PortfolioReport) -> pd.DataFrame:
    corr = report.result.correlation
    frame = corr.reset_index(drop=True)
    frame.insert(0, "Cell", [str(i) for i in corr.index])
    return frame


def portfolio_workbook(report: PortfolioReport) -> Workbook:
    """The portfolio's workbook (sheets :data:`SHEETS`, see the module docstring)."""
    result = report.result
    with new_workbook() as wb:
        _summary_sheet(SheetWriter(wb, "Summary"), report)
        _rules_sheet(SheetWriter(wb, "Rules"), report)
        _cells_sheet(SheetWriter(wb, "Cells"), report)
        contributions, kinds = _renamed(result.contributions, CONTRIBUTION_COLUMNS)
        write_table(SheetWriter(wb, "Contributions"), contributions, kinds)
        write_table(SheetWriter(wb, "Trades"), *labelled_trades(result.trades))
        write_table(SheetWriter(wb, "Transfers"), result.transfers, TRANSFER_KINDS)
        equity = equity_table(report)
        money = dict.fromkeys(equity.columns[1:], "money") | {"Timestamp": "datetime", "Exposure": "pct"}
        write_table(SheetWriter(wb, "Equity & benchmarks"), equity, money)
        allocation = allocation_table(report)
        write_table(SheetWriter(wb, "Allocation"), allocation,
                    dict.fromkeys(allocation.columns[1:], "pct") | {"Timestamp": "datetime"})  # fmt: skip
        correlation = _correlation_frame(report)
        write_table(SheetWriter(wb, "Correlation"), correlation,
                    dict.fromkeys(correlation.columns[1:], "ratio") | {"Cell": "text"}, filters=False)  # fmt: skip
    wb.properties.title = report.title  # a document property, never evaluated
    return wb


def portfolio_xlsx(report: PortfolioReport) -> bytes:
    """:func:`portfolio_workbook` as ``.xlsx`` bytes."""
    return save_workbook(portfolio_workbook(report)) or b""


# --- CSV and JSON -------------------------------------------------------------------------------------------------


def portfolio_trades_csv(report: PortfolioReport) -> bytes:
    """Every cell's trades (the ``cell`` column first) as UTF-8 CSV; formula-like text gets the quote prefix.
    Floats keep their shortest round-trip repr, so they read back exactly."""
    return safe_frame(report.result.trades).to_csv(index=False, lineterminator="\n").encode("utf-8")


def portfolio_document(report: PortfolioReport) -> dict[str, Any]:
    """The portfolio as a JSON-ready dict: identity, ``rules`` and ``cells`` in the API's spec shape
    (``{name, dataset_id, weight, config}``, so they can be posted again), each cell's dataset, the metrics,
    contributions and transfers. NaN becomes ``null``."""
    result = report.result
    first, last = report.period
    return {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "engine_version": report.engine_version,
        "portfolio": {"id": report.portfolio_id, "name": report.name, "notes": report.notes,
                      "created_at": plain(report.created_at), "first_bar": first.isoformat(),
                      "last_bar": last.isoformat(), "bars": len(result.timeline)},
        "rules": result.rules.to_dict(),
        "cells": [{"name": c.name, "dataset_id": c.dataset_id, "weight": c.weight,
                   "config": report.configs[c.name].to_dict()} for c in report.cells],
        "datasets": [{"cell": c.name, "dataset_id": c.dataset_id, "name": c.dataset_name, "symbol": c.symbol,
                      "sha256": c.sha256} for c in report.cells],
        "metrics": plain(dict(result.metrics)),
        "contributions": records(result.contributions, index=False),
        "transfers": records(result.transfers, index=False),
    }


def portfolio_json(report: PortfolioReport) -> bytes:
    """:func:`portfolio_document` as indented, strict JSON (no NaN)."""
    return (json.dumps(portfolio_document(report), indent=1, allow_nan=False) + "\n").encode("utf-8")


# --- PDF ----------------------------------------------------------------------------------------------------------


def _contribution_rows(report: PortfolioReport) -> list[list[str]]:
    datasets = {c.name: c.dataset_name or c.symbol for c in report.cells}
    rows = [["Cell", "Dataset", "Weight", "Start value", "Moved in", "End value", "Profit", "Share of profit"]]
    for _, r in report.result.contributions.iterrows():
        rows.append([str(r["cell"]), datasets.get(str(r["cell"]), ""), _pct(r["weight"]),
                     f"{r['start_value']:,.2f}", f"{r['moved_in']:,.2f}", f"{r['end_value']:,.2f}",
                     f"{r['profit']:,.2f}",
                     _pct(r["share_of_profit"])])  # fmt: skip
    return rows


def _trade_rows(report: PortfolioReport) -> list[list[str]]:
    trades = report.result.trades
    rows = [["Cell", "Kind", "Side", "Orders", "Notional", "Commission"]]
    for c in report.cells:  # in the cells' order, each cell's kinds in the order they first traded
        own = trades[trades["cell"] == c.name]
        grouped = own.groupby(["kind", "side"], sort=False).agg(
            orders=("qty", "size"), notional=("notional", "sum"), commission=("commission", "sum"))
        for (kind, side), r in grouped.iterrows():
            rows.append([c.name, str(kind), str(side), f"{r.orders:,.0f}", f"{r.notional:,.2f}",
                         f"{r.commission:,.2f}"])  # fmt: skip
    rows.append(["All cells", "", "", f"{len(trades):,}", f"{trades['notional'].sum():,.2f}",
                 f"{trades['commission'].sum():,.2f}"])  # fmt: skip
    return rows


def _transfer_rows(report: PortfolioReport) -> list[list[str]]:
    transfers = report.result.transfers
    grouped = transfers.groupby(["kind", "cell"], sort=False)["amount"].agg(["size", "sum"])
    rows = [["Kind", "Cell", "Transfers", "Net amount"]]
    rows += [[str(kind), POOL_LABEL if cell == POOL else str(cell), f"{r['size']:,.0f}", f"{r['sum']:+,.2f}"]
             for (kind, cell), r in grouped.iterrows()]  # fmt: skip
    return rows


def _configuration_tables(report: PortfolioReport, width: float) -> list[Any]:
    """Every configuration field in its unit, the cells side by side (at most :data:`CELLS_PER_TABLE` a table)."""
    names = list(report.configs)
    out: list[Any] = []
    for start in range(0, len(names), CELLS_PER_TABLE):
        chunk = names[start : start + CELLS_PER_TABLE]
        rows: list[list[Any]] = [["Setting", *chunk]]
        rows += [[f.label, *(setting_text(f.name, getattr(report.configs[n], f.name)) for n in chunk)]
                 for f in CONFIG_FIELDS]  # fmt: skip
        label_width = 60 * mm
        out += [grid(rows, widths=(label_width, *[(width - label_width) / len(chunk)] * len(chunk))), Spacer(1, 6)]
    return out


def _charts(report: PortfolioReport, width: float) -> list[Any]:
    result = report.result
    lines = {PORTFOLIO_SERIES[PORTFOLIO].name: result.equity}
    lines |= {PORTFOLIO_SERIES[str(c)].name: result.benchmarks[c] for c in result.benchmarks.columns}
    styles = {s.name: (s.color, 1.6 if key == PORTFOLIO else 0.9, s.dash != "solid")
              for key, s in PORTFOLIO_SERIES.items()}  # fmt: skip
    equity = line_chart(lines, styles, title=CHART_TITLES["equity"], y_format=lambda v: f"{v:,.0f}", width=width)
    out: list[Any] = [equity, Spacer(1, 6)]
    corr = result.correlation
    if len(corr) > 1:
        out.append(heatmap_drawing(
            corr, title=CHART_TITLES["correlation"], x_label="Cell", y_label="Cell", width=width,
            value_text=lambda v: f"{v:.2f}", reverse=True,  # green is better: cells that diversify each other
        ))  # fmt: skip
        out.append(para(para_text(
            f"{CORRELATION_LABEL} of each pair of cells' daily (time-weighted) returns; the first cell's row is at "
            "the bottom. Colours run from the lowest value shown (green: the pair diversifies most) to the highest "
            "(red: the diagonal, each cell with itself)."), SMALL))
    return out


def portfolio_pdf(report: PortfolioReport, *, page_size: PageSize = "a4") -> bytes:
    """The portfolio's PDF report: what ran, the key figures against both benchmarks, each cell's contribution,
    the equity chart and the correlation heatmap, trades and transfers by cell, the rules and every cell's
    configuration. Raises ``ValueError`` for an unknown page size."""
    if page_size not in PAGE_SIZES:
        raise ValueError(f"page size must be one of {', '.join(PAGE_SIZES)}, got {page_size!r}")
    width = PAGE_SIZES[page_size][0] - 30 * mm
    result = report.result
    first, last = report.period
    story: list[Any] = [
        para(para_text(report.title, PDF_BOLD), TITLE),
        para(f"Generated {datetime.now():%Y-%m-%d %H:%M} by Volatility Balancing Lab, engine "
             f"{para_text(report.engine_version)}", SMALL),
        para("Hypothetical results from a simulation on historical prices (docs/strategy.md §12).", SMALL),
        Spacer(1, 6),
    ]
    cells = "; ".join(f"{c.name} {_pct(c.weight)}" + (f" ({c.dataset_name})" if c.dataset_name else "")
                      for c in report.cells)  # fmt: skip
    rules = "; ".join(f"{r.label.removesuffix(' (%)')} {r.text}" for r in rule_rows(report))
    pairs: list[tuple[str, Any]] = [
        ("Cells", cells),
        ("Period", f"{first:%Y-%m-%d} to {last:%Y-%m-%d} ({len(result.timeline):,} bars on the aligned calendar)"),
        ("Rules", rules),
    ]
    if report.notes:
        pairs.append(("Notes", report.notes))
    story += [pairs_table(pairs, (28 * mm, width - 28 * mm)), Spacer(1, 6)]
    figures = grid(figure_rows(report.result.metrics, "Portfolio figure"), widths=(55 * mm, 30 * mm, width - 85 * mm))
    figures.setStyle(TableStyle([("ALIGN", (2, 1), (2, -1), "LEFT")]))
    kpis = grid(kpi_rows(report.metrics_table, COLUMN_TITLES), widths=(55 * mm, 30 * mm, 40 * mm, 30 * mm))
    story += [para("Key figures against the benchmarks", H2), kpis, Spacer(1, 6), figures]
    story += [KeepTogether([para("Contribution of each cell", H2), grid(_contribution_rows(report))])]
    story += [PageBreak(), para("Charts", H2), *_charts(report, width)]
    story += [para("Trades by cell", H2), grid(_trade_rows(report))]
    if len(result.transfers):
        story += [para("Transfers between the cells and the pool", H2), grid(_transfer_rows(report))]
    rule_table = [["Rule", "Value", "Default"], *[[r.label, r.text, r.default] for r in rule_rows(report)]]
    story += [PageBreak(), para("Portfolio rules", H2), grid(rule_table, widths=(60 * mm, 40 * mm, 40 * mm))]
    story += [para("Configuration of each cell", H2), *_configuration_tables(report, width)]
    footer = f"{report.title} - {first:%Y-%m-%d} to {last:%Y-%m-%d}"
    return build_pdf(story, None, page_size, report.title, footer) or b""


# --- one entry point ----------------------------------------------------------------------------------------------


# The part of each export's file name after the stem.
FILE_SUFFIXES: dict[str, str] = {"xlsx": ".xlsx", "pdf": "_report.pdf", "csv": "_trades.csv", "json": ".json"}


def export_filename(portfolio_id: int | None, name: str, fmt: str) -> str:
    """An export's file name, ``portfolio7_three_cells_report.pdf`` (``portfolio`` alone when not saved or
    unnamed): known before the file is built, so a download button can name a file it builds only when clicked."""
    ident = f"portfolio{portfolio_id}" if portfolio_id is not None else "portfolio"
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")[:40]
    return (f"{ident}_{slug}" if slug else ident) + FILE_SUFFIXES[fmt]


def portfolio_export(report: PortfolioReport, fmt: str, *, page_size: PageSize = "a4") -> Export:
    """The portfolio as ``fmt`` (:data:`PORTFOLIO_FORMATS`): bytes, a file name and the MIME type.

    Raises:
        ValueError: for an unknown format or page size.
    """
    if fmt not in PORTFOLIO_FORMATS:
        raise ValueError(f"a portfolio exports as {', '.join(PORTFOLIO_FORMATS)}, not {fmt!r}")
    filename = export_filename(report.portfolio_id, report.name, fmt)
    if fmt == "xlsx":
        data = portfolio_xlsx(report)
    elif fmt == "pdf":
        data = portfolio_pdf(report, page_size=page_size)
    elif fmt == "csv":
        data = portfolio_trades_csv(report)
    else:
        data = portfolio_json(report)
    return Export(data, filename, MIME[fmt])
