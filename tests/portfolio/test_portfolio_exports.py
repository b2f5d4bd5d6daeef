"""Portfolio exports (``core.report.portfolio_exports``) read back: the workbook's values are the result's, with the
registries' labels, units and number formats; the PDF names the cells and prints the total return as the run PDF
does; the trades CSV and the JSON round-trip; formula-like text stays inert; and ``usecases.portfolio_reports``
builds the same files from the store."""

from __future__ import annotations

import io
import json
import math
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from core import StrategyConfig
from core.config_registry import CONFIG_FIELDS
from core.data.samples import load_sample
from core.metric_registry import METRIC_ORDER
from core.metric_table import RETURN_AND_RISK, format_metric, metric_info
from core.portfolio import PORTFOLIO_FIELDS, PortfolioCell, PortfolioRules, simulate_portfolio
from core.report.definitions import config_definitions
from core.report.excel_style import FORMATS, METRIC_FORMATS
from core.report.pdf import KPI_METRICS
from core.report.portfolio_exports import (
    PORTFOLIO_FORMATS,
    SHEETS,
    PortfolioReport,
    export_filename,
    portfolio_export,
    portfolio_json,
    portfolio_pdf,
    portfolio_trades_csv,
    portfolio_xlsx,
)
from storage import Store
from usecases.portfolio_reports import portfolio_report
from usecases.portfolios import PortfolioSpec, cells_from_datasets, run_portfolio, save_portfolio

CONFIGS = {"INTC": StrategyConfig(trigger_up=0.04), "MMM": StrategyConfig(trigger_down=0.05, sizing="original"),
           "COST": StrategyConfig(guardrail_max=0.8)}
RULES = PortfolioRules(initial_capital=90_000.0, cash_pool=True, pool_cap=0.05, reallocation="quarterly")


@pytest.fixture(scope="module")
def report() -> PortfolioReport:
    """Three bundled stocks, 30 % each and 10 % in a pool, re-allocated quarterly; named like a formula."""
    cells = []
    for name, config in CONFIGS.items():
        md = load_sample(name)
        cells.append(PortfolioCell(name, md.prices, config, 0.3, md.dividends))
    return PortfolioReport(simulate_portfolio(cells, RULES), name='=HYPERLINK("http://x","three")', portfolio_id=7)


@pytest.fixture(scope="module")
def book(report: PortfolioReport) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(portfolio_xlsx(report)))


def same(cells: list, values) -> bool:
    """Workbook numbers equal the result's to the 16 significant digits openpyxl writes."""
    return list(cells) == pytest.approx(list(values), rel=1e-15, abs=0, nan_ok=True)


def rows(ws, first: int = 1) -> pd.DataFrame:
    """A table of ``ws`` whose header is row ``first``, down to its first empty row."""
    values = list(ws.iter_rows(min_row=first, values_only=True))
    header = [v for v in values[0] if v is not None]
    body = []
    for row in values[1:]:
        if all(v is None for v in row):
            break
        body.append(list(row[: len(header)]))
    return pd.DataFrame(body, columns=header)


def find_row(ws, text: str) -> int:
    return next(cell.row for row in ws.iter_rows() for cell in row if cell.value == text)


def test_the_workbook_has_its_sheets_and_no_formulas(book) -> None:
    assert tuple(book.sheetnames) == SHEETS
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"formula in {ws.title}!{cell.coordinate}"
    title = book["Summary"]["A1"]
    assert title.value.startswith("Portfolio 7: =HYPERLINK") and title.data_type == "s"  # kept as typed, inert
    assert book["Summary"].cell(find_row(book["Summary"], "Name"), 2).quotePrefix


def test_the_summary_holds_every_metric_beside_both_benchmarks_in_the_registrys_format(book, report) -> None:
    ws = book["Summary"]
    top = find_row(ws, "Metric")
    table = rows(ws, top)
    assert list(table.columns) == ["Metric", "Portfolio", "Equal-weight buy & hold", "Initial mix", "Definition"]
    assert list(table["Metric"]) == [metric_info(n).label for n in METRIC_ORDER]
    assert same(table["Portfolio"], [report.result.metrics[n] for n in METRIC_ORDER])
    for offset, name in enumerate(METRIC_ORDER, start=1):
        fmt = METRIC_FORMATS[metric_info(name).fmt]
        assert ws.cell(top + offset, 2).number_format == fmt, name
        if name in RETURN_AND_RISK:
            assert ws.cell(top + offset, 3).number_format == fmt
    bench = table.set_index("Metric")
    # the benchmarks' figures are the portfolio's own benchmark metrics where the engine reports them
    assert same([bench.at["Total return", "Equal-weight buy & hold"]], [report.result.metrics["buy_hold_return"]])
    assert same([bench.at["Total return", "Initial mix"]], [report.result.metrics["static_mix_return"]])
    assert bench["Equal-weight buy & hold"].isna().sum() == len(METRIC_ORDER) - len(RETURN_AND_RISK)


def test_the_rules_sheet_gives_each_rule_its_label_and_unit(book, report) -> None:
    table = rows(book["Rules"])
    assert list(table["Field"]) == [f.name for f in PORTFOLIO_FIELDS]
    assert list(table["Rule"]) == [f.label for f in PORTFOLIO_FIELDS]
    assert list(table["Unit"]) == ["currency", "on / off", "percent", "one of", "percent"]
    assert list(table["Value"]) == [getattr(RULES, f.name) for f in PORTFOLIO_FIELDS]
    assert list(table["Shown as"])[:3] == ["90,000.00", "yes", "5 %"]
    assert book["Rules"].cell(4, 2).number_format == FORMATS["pct"]  # pool_cap, a fraction


def test_the_cells_sheet_has_each_cells_weight_and_configuration_with_units(book, report) -> None:
    ws = book["Cells"]
    cells = rows(ws)
    assert list(cells["Cell"]) == list(CONFIGS)
    assert same(cells["Weight"], [0.3] * 3) and same(cells["Start value"], [27_000.0] * 3)
    config = rows(ws, find_row(ws, "Setting"))
    assert list(config.columns) == ["Setting", "Field", "Unit", *CONFIGS]
    assert list(config["Field"]) == [f.name for f in CONFIG_FIELDS]
    assert list(config["Unit"]) == list(config_definitions()["Unit"])
    by_field = config.set_index("Field")
    for name, cfg in CONFIGS.items():
        ran = cfg.replace(initial_capital=27_000.0)  # a cell's capital is its weight of the portfolio's
        for f in CONFIG_FIELDS:
            value = getattr(ran, f.name)
            assert by_field.at[f.name, name] == ("not set" if value is None else value), (name, f.name)
    row = find_row(ws, "Sell trigger (%)")
    assert ws.cell(row, 4).number_format == FORMATS["pct"]


def test_contributions_trades_transfers_equity_allocation_and_correlation_are_the_results(book, report) -> None:
    result = report.result
    contributions = rows(book["Contributions"])
    assert list(contributions["Cell"]) == list(result.contributions["cell"])
    assert same(contributions["Profit"], result.contributions["profit"])
    assert same(contributions["Moved in"], result.contributions["moved_in"])
    assert same(contributions["Share of profit"], result.contributions["share_of_profit"])

    trades = rows(book["Trades"])
    assert list(trades.columns[:4]) == ["Cell", "Time", "Kind", "Side"]  # the registry's labels
    assert len(trades) == len(result.trades) and list(trades["Cell"]) == list(result.trades["cell"])
    assert same(trades["Notional"], result.trades["notional"])

    transfers = rows(book["Transfers"])
    assert len(transfers) == len(result.transfers) > 0
    assert list(transfers["kind"]) == list(result.transfers["kind"])
    assert same(transfers["amount"], result.transfers["amount"])

    equity = rows(book["Equity & benchmarks"])
    assert same(equity["Portfolio"], result.equity)
    assert same(equity["Equal-weight buy & hold"], result.benchmarks["equal_weight_buy_and_hold"])
    assert same(equity["Initial mix"], result.benchmarks["initial_mix"])
    assert same(equity["Cash pool"], result.timeline["pool"])

    allocation = rows(book["Allocation"])
    assert list(allocation.columns) == ["Timestamp", *CONFIGS, "Cash pool"]
    assert same(allocation["COST"], result.allocation["COST"]) and same(allocation["Cash pool"],
                                                                          result.allocation["pool"])
    correlation = rows(book["Correlation"]).set_index("Cell")
    assert same(correlation.to_numpy().ravel(), result.correlation.to_numpy().ravel())


def test_the_trades_csv_reads_back_with_formula_like_text_neutralised() -> None:
    md = load_sample("INTC")
    prices = md.prices.iloc[:120]
    result = simulate_portfolio([PortfolioCell("=cmd|' /C calc'!A0", prices, StrategyConfig(), 0.5),
                                 PortfolioCell("INTC", prices, StrategyConfig(), 0.5)])  # fmt: skip
    back = pd.read_csv(io.BytesIO(portfolio_trades_csv(PortfolioReport(result))))
    assert set(back["cell"]) == {"'=cmd|' /C calc'!A0", "INTC"}  # the quote prefix of the run's CSV
    np.testing.assert_array_equal(back["notional"].to_numpy(), result.trades["notional"].to_numpy())
    book = openpyxl.load_workbook(io.BytesIO(portfolio_xlsx(PortfolioReport(result))))
    cell = book["Trades"]["A2"] if book["Trades"]["A2"].value.startswith("=") else book["Trades"]["A3"]
    assert cell.data_type == "s" and cell.quotePrefix


def test_the_json_round_trips(report) -> None:
    doc = json.loads(portfolio_json(report))
    assert doc["format"] == "vbl-portfolio" and doc["portfolio"]["id"] == 7
    metrics = {k: math.nan if v is None else v for k, v in doc["metrics"].items()}
    assert metrics == pytest.approx(report.result.metrics, rel=0, abs=0, nan_ok=True)  # bit for bit
    assert PortfolioRules.from_dict(doc["rules"]) == RULES
    assert [c["name"] for c in doc["cells"]] == list(CONFIGS) and [c["weight"] for c in doc["cells"]] == [0.3] * 3
    for cell in doc["cells"]:
        assert StrategyConfig.from_dict(cell["config"]) == CONFIGS[cell["name"]].replace(initial_capital=27_000.0)
    contributions = pd.DataFrame(doc["contributions"])
    pd.testing.assert_frame_equal(contributions, report.result.contributions, check_dtype=False)
    transfers = pd.DataFrame(doc["transfers"])
    assert list(transfers["amount"]) == list(report.result.transfers["amount"])
    assert list(pd.to_datetime(transfers["timestamp"])) == list(report.result.transfers["timestamp"])


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_the_pdf_names_the_cells_and_prints_the_total_return_like_the_run_pdf(report, tmp_path: Path) -> None:
    pdf = portfolio_pdf(report)
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "portfolio.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout  # fmt: skip
    for name in CONFIGS:
        assert name in text
    table = report.metrics_table
    for metric in KPI_METRICS:
        for column in table.columns:
            assert format_metric(metric, table.at[metric, column]) in text, (metric, column)
    assert f"Total return {format_metric('total_return', report.result.metrics['total_return'])}" in " ".join(
        text.split())
    assert "Page 1 of" in text and "Contribution of each cell" in text
    with pytest.raises(ValueError, match="page size"):
        portfolio_pdf(report, page_size="a5")  # type: ignore[arg-type]


def test_every_format_has_its_file_name_and_type(report) -> None:
    exports = {fmt: portfolio_export(report, fmt) for fmt in PORTFOLIO_FORMATS}
    assert {fmt: e.filename for fmt, e in exports.items()} == {
        fmt: export_filename(7, report.name, fmt) for fmt in PORTFOLIO_FORMATS}
    assert exports["xlsx"].filename == "portfolio7_HYPERLINK_http_x_three.xlsx"  # a safe name from any text
    assert [e.mime for e in exports.values()] == [
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/pdf", "text/csv",
        "application/json"]
    assert export_filename(3, "three cells", "pdf") == "portfolio3_three_cells_report.pdf"
    assert export_filename(None, "", "csv") == "portfolio_trades.csv"
    with pytest.raises(ValueError, match="xlsx, pdf, csv, json"):
        portfolio_export(report, "png")


# --- from the store -----------------------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'portfolios.sqlite3'}") as s:
        yield s


def test_portfolio_report_reruns_the_stored_portfolio_and_exports_it(store: Store) -> None:
    ids = [store.save_dataset(load_sample(name)) for name in ("INTC", "MMM")]
    spec = PortfolioSpec(PortfolioRules(reallocation="yearly"), cells_from_datasets(store, ids, StrategyConfig()))
    result = run_portfolio(store, spec)
    pid = save_portfolio(store, spec, result, name="two cells")

    filename, data, mime = portfolio_report(store, pid, "json")
    assert filename == f"portfolio{pid}_two_cells.json" and mime == "application/json"
    doc = json.loads(data)
    assert PortfolioSpec.from_dict({"rules": doc["rules"], "cells": doc["cells"]}).rules == spec.rules
    assert [c["dataset_id"] for c in doc["cells"]] == ids  # the cells can be posted again as a spec
    assert [d["sha256"] for d in doc["datasets"]] == [store.get_dataset(i).sha256 for i in ids]
    assert {k: v for k, v in doc["metrics"].items() if v is not None} == {
        k: v for k, v in result.metrics.items() if not math.isnan(v)}

    xlsx = portfolio_report(store, pid, "xlsx")
    assert xlsx.content_type == xlsx.mime and xlsx.filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.data))
    assert book["Summary"]["A1"].value == f"Portfolio {pid}: two cells"
    cells = rows(book["Cells"])
    assert list(cells["Dataset id"]) == ids and list(cells["Dataset"]) == [store.get_dataset(i).name for i in ids]
    assert portfolio_report(store, pid, "pdf").data.startswith(b"%PDF")
    csv = pd.read_csv(io.BytesIO(portfolio_report(store, pid, "csv").data))
    assert len(csv) == len(result.trades)
    exports = [e for e in store.list_audit(entity="portfolio") if e.action == "export"]
    assert sorted(e.details["format"] for e in exports) == ["csv", "json", "pdf", "xlsx"]
    with pytest.raises(ValueError, match="xlsx, pdf, csv, json"):
        portfolio_report(store, pid, "docx")
