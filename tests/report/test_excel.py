"""Workbooks opened back with openpyxl: sheets, headers, row counts, values, charts, no formulas, safe text."""

from __future__ import annotations

import io
import math
from datetime import date

import openpyxl
import pandas as pd
import pytest
from report_helpers import HOSTILE_NAME, Seeded

from core.metric_table import metric_info
from core.report.excel_run import run_workbook, runs_workbook, save_workbook
from core.report.excel_study import study_workbook
from core.report.transaction_log import COLUMNS
from storage import Store
from usecases.reports import run_report_from_store, study_report_from_store


def _reopen(wb: openpyxl.Workbook) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(save_workbook(wb)))


def _column(ws, header: str) -> list:
    headers = [c.value for c in ws[1]]
    col = headers.index(header) + 1
    return [r[0] for r in ws.iter_rows(min_row=2, min_col=col, max_col=col, values_only=True)]


def same(cells: list, values: list) -> bool:
    """Workbook numbers equal the run's to the 16 significant digits openpyxl writes (Excel shows 15)."""
    return cells == pytest.approx(values, rel=1e-15, abs=0, nan_ok=True)


def _assert_no_formulas(wb: openpyxl.Workbook) -> None:
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"formula in {ws.title}!{cell.coordinate}: {cell.value!r}"
                if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@")):
                    # formula-like text is kept as typed, a string cell with Excel's quote prefix
                    assert cell.data_type == "s" and cell.quotePrefix, f"{ws.title}!{cell.coordinate}"


@pytest.fixture(scope="module")
def run_book(seeded: Seeded):
    with Store(seeded.url) as store:
        report = run_report_from_store(store, seeded.run_id)
    return report, _reopen(run_workbook(report))


def test_run_workbook_sheets_headers_and_layout(run_book) -> None:
    report, wb = run_book
    assert wb.sheetnames == ["Summary", "Assumptions", "Transaction Log", "Trades", "Dividends", "Daily Equity",
                             "Monthly Returns", "Yearly Returns", "Drawdowns", "Rolling Risk", "Benchmark Stats",
                             "Distribution", "Trade P&L", "Settings", "Definitions", "Charts"]  # fmt: skip
    log = wb["Transaction Log"]
    assert [c.value for c in log[1]] == list(COLUMNS)
    assert log.max_row - 1 == len(report.result.timeline)
    assert log.freeze_panes == "A2"
    assert log.auto_filter.ref.startswith("A1:")
    assert log["A2"].number_format == "yyyy-mm-dd"
    assert log.column_dimensions["Y"].width >= 60  # Decision_Logic is readable
    assert len(wb["Charts"]._charts) == 3
    _assert_no_formulas(wb)


def test_run_workbook_values_equal_the_run(run_book) -> None:
    report, wb = run_book
    tl = report.result.timeline
    log = wb["Transaction Log"]
    assert same(_column(log, "Current_Price"), tl["price"].tolist())
    assert same(_column(log, "Portfolio_Value"), tl["value"].tolist())
    assert same(_column(log, "Asset_Percentage"), tl["stock_share"].tolist())
    assert same(_column(log, "Cash_Balance"), tl["cash"].tolist())
    statuses = _column(log, "Order_Status")
    assert statuses.count("FILLED") == len(report.result.trades)
    trades = wb["Trades"]
    assert trades.max_row - 1 == len(report.result.trades)
    assert same(_column(trades, "Shares"), report.result.trades["qty"].tolist())  # headed by the registry's labels
    assert same(_column(trades, "Stock share after"), report.result.trades["stock_share_after"].tolist())
    header = [c.value for c in next(trades.iter_rows(max_row=1))]
    assert header[:4] == ["Time", "Kind", "Side", "Shares"]
    share_col = header.index("Stock share after") + 1
    assert trades.cell(2, share_col).number_format == "0.00%"
    assert wb["Dividends"].max_row - 1 == len(report.result.dividends) == 2
    # Summary metrics: label in A, strategy / buy & hold / static mix in B..D, raw values
    summary = wb["Summary"]
    rows = {r[0].value: [c.value for c in r[1:4]] for r in summary.iter_rows() if r[0].value}
    for name in ("total_return", "sharpe", "max_drawdown", "n_trades"):
        assert same([rows[metric_info(name).label][0]], [report.result.metrics[name]])
    bh = report.table.at["total_return", "buy_and_hold"]
    assert same([rows[metric_info("total_return").label][1]], [bh])
    assert rows["Dataset SHA-256"][0] == report.dataset.sha256
    daily = wb["Daily Equity"]
    assert same(_column(daily, "Strategy")[-1:], [report.result.equity.iloc[-1]])


def test_hostile_text_is_inert(run_book) -> None:
    _, wb = run_book
    summary = wb["Summary"]
    values = {r[0].value: r[1] for r in summary.iter_rows() if r[0].value}
    # shown as typed (no apostrophe), a string cell with the quote-prefix style: inert
    assert values["Dataset"].value == HOSTILE_NAME
    assert values["Dataset"].data_type == "s" and values["Dataset"].quotePrefix
    assert values["Notes"].value == "@SUM(1+1)" and values["Notes"].quotePrefix
    assert values["Run name"].value.startswith("+cmd") and values["Run name"].quotePrefix


def test_templates_rows_and_date_range(seeded: Seeded, store: Store) -> None:
    report = run_report_from_store(store, seeded.run_id)
    perf = _reopen(run_workbook(report, template="performance"))
    assert perf.sheetnames == ["Summary", "Assumptions", "Daily Equity", "Monthly Returns", "Yearly Returns",
                               "Drawdowns", "Rolling Risk", "Benchmark Stats", "Distribution", "Settings",
                               "Definitions", "Charts"]  # fmt: skip
    trades_only = _reopen(run_workbook(report, template="trades_only")).sheetnames
    assert trades_only == ["Summary", "Assumptions", "Trades", "Trade P&L"]
    trades_rows = _reopen(run_workbook(report, rows="trades"))["Transaction Log"]
    assert trades_rows.max_row - 1 == len(report.result.trades)
    part = report.with_period(date(2009, 1, 1), date(2009, 12, 31))
    wb = _reopen(run_workbook(part))
    tl = report.result.timeline
    expected = tl[(tl.index >= "2009-01-01") & (tl.index < "2010-01-01")]
    assert wb["Transaction Log"].max_row - 1 == len(expected)
    assert same(_column(wb["Transaction Log"], "Current_Price"), expected["price"].tolist())
    monthly = wb["Monthly Returns"]
    assert _column(monthly, "Year") == [2009]
    with pytest.raises(ValueError):
        run_workbook(report, template="everything")  # type: ignore[arg-type]


def test_several_runs_in_one_workbook(seeded: Seeded, store: Store) -> None:
    reports = [run_report_from_store(store, i) for i in (seeded.run_id, seeded.run_id_2)]
    wb = _reopen(runs_workbook(reports))
    assert wb.sheetnames == ["Summary", f"GOOG_{seeded.run_id}", f"GOOG_{seeded.run_id_2}"]
    assert wb["Summary"].max_row == 3
    assert same(_column(wb["Summary"], "Sharpe ratio"), [r.result.metrics["sharpe"] for r in reports])
    assert wb[f"GOOG_{seeded.run_id_2}"].max_row - 1 == len(reports[1].result.timeline)
    _assert_no_formulas(wb)


def test_study_workbook(seeded: Seeded, store: Store) -> None:
    walk_forward = pd.DataFrame({"fold": [1, 2], "in_sample": [0.8, 0.7], "out_of_sample": [0.5, math.nan]})
    study = study_report_from_store(store, seeded.study_id, walk_forward=walk_forward)
    wb = _reopen(study_workbook(study, top_n=3))
    assert wb.sheetnames == ["Summary", "All Trials", "Top 3", "Heatmap", "Parameter Sensitivity", "Walk-Forward"]
    trials = wb["All Trials"]
    assert trials.max_row - 1 == 6
    headers = [c.value for c in trials[1]]
    # registry labels, as in the run workbook (test_study_exports checks their number formats)
    assert {"Sell trigger (%)", "Buy trigger (%)", "Sharpe ratio", "Total return", "CAGR"} <= set(headers)
    top = _column(wb["Top 3"], "Sharpe ratio")
    assert same(top, sorted(study.trials["sharpe"].tolist(), reverse=True)[:3])
    heat = wb["Heatmap"]
    assert heat.conditional_formatting  # the colour scale
    assert heat.max_row - 3 == len(study.trials["param.trigger_down"].unique())
    assert wb["Parameter Sensitivity"].max_row - 1 == 5  # 3 + 2 values
    no_wf = _reopen(study_workbook(study_report_from_store(store, seeded.study_id)))
    assert "Walk-Forward" not in no_wf.sheetnames
    _assert_no_formulas(wb)


def test_excel_chart_series_have_the_apps_colours(tmp_path) -> None:
    from core import StrategyConfig, simulate
    from core.report.context import DatasetMeta, RunReport
    from core.report.excel_run import run_workbook
    from core.theme import COLORS, SERIES, STRATEGY

    prices = pd.DataFrame({"close": [100.0, 97.0, 101.0, 99.0, 103.0]}, index=pd.bdate_range("2024-01-02", periods=5))
    report = RunReport(simulate(prices, StrategyConfig()), DatasetMeta(name="t", symbol="T", sha256="0" * 64))
    wb = run_workbook(report)
    save_workbook(wb)  # a write-only workbook streams its sheets to temporary files until it is saved
    charts = wb["Charts"]._charts
    equity, drawdown, share = charts
    def rgb(series):
        return series.graphicalProperties.line.solidFill.srgbClr

    expected = [SERIES[k].color.lstrip("#").upper() for k in (STRATEGY, "buy_and_hold", "static_mix")]
    assert [rgb(s) for s in equity.series] == expected
    assert equity.series[2].graphicalProperties.line.prstDash == "sysDot"  # the static mix is dotted, as in the app
    assert [rgb(s) for s in drawdown.series] == expected
    assert rgb(share.series[1]) == COLORS.guardrail_line.lstrip("#").upper()
