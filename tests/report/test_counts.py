"""Trades are counted one way everywhere: the initial purchase is an order (a row of the trades table) but not a
trade, and every count in the PDF and the workbook says which it is."""

from __future__ import annotations

import functools
import io
import re
import subprocess
from pathlib import Path

import openpyxl

from core import StrategyConfig, simulate
from core.data import load_sample
from core.metric_registry import METRICS_BY_NAME
from core.report.context import DatasetMeta, RunReport
from core.report.excel_run import run_workbook, save_workbook
from core.report.pdf import run_pdf


@functools.cache
def _report(trading: bool) -> RunReport:
    goog = load_sample("GOOG")
    # Triggers no price move reaches and no guardrail rebalance: only the initial purchase happens.
    config = StrategyConfig(commission_rate=0.0005) if trading else StrategyConfig(
        trigger_up=50.0, trigger_down=0.99, auto_rebalance=False, commission_rate=0.0001)
    return RunReport(simulate(goog.prices, config, goog.dividends), DatasetMeta.from_market_data(goog), run_id=1)


def _pdf_text(report: RunReport, tmp_path: Path) -> str:
    path = tmp_path / "run.pdf"
    path.write_bytes(run_pdf(report) or b"")
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_the_pdf_counts_orders_and_trades_consistently(tmp_path: Path) -> None:
    report = _report(True)
    trades = report.result.trades
    n_trades = int(report.result.metrics["n_trades"])
    assert len(trades) == n_trades + 1 and (trades["kind"] == "initial").sum() == 1
    text = _pdf_text(report, tmp_path)
    assert re.search(rf"^\s*Trades\s+{n_trades:,}\s", text, re.M)
    assert "the initial purchase is not counted" in " ".join(text.split())  # its definition, beside it
    assert f"{len(trades):,} orders: {n_trades:,} trades and the initial purchase" in text
    assert f"Last 15 of {len(trades):,} orders" in text
    assert not re.search(r"of [\d,]+ trades", text)  # the old "Last 15 of 411 trades" beside "Trades 410"


def test_a_run_without_trades_says_what_its_commission_paid_for(tmp_path: Path) -> None:
    report = _report(False)
    metrics = report.result.metrics
    assert metrics["n_trades"] == 0 and metrics["total_commission"] > 0
    text = _pdf_text(report, tmp_path)
    assert re.search(r"^\s*Trades\s+0\s", text, re.M)
    commission = f"{metrics['total_commission']:,.2f}"
    assert re.search(rf"^\s*Commission incl. initial purchase\s+{commission}\s", text, re.M), text
    assert "1 order: 0 trades and the initial purchase" in text


def test_the_workbook_defines_each_figure_beside_it() -> None:
    report = _report(True)
    wb = openpyxl.load_workbook(io.BytesIO(save_workbook(run_workbook(report)) or b""))
    summary = wb["Summary"]
    header = next(r for r in summary.iter_rows() if r[0].value == "Metric")
    assert [c.value for c in header[:5]] == ["Metric", "Strategy", "Buy & hold", "Static mix", "Definition"]
    rows = {r[0].value: r for r in summary.iter_rows() if r[0].value}
    trades_row = rows["Trades"]
    assert trades_row[1].value == report.result.metrics["n_trades"]
    assert trades_row[4].value == METRICS_BY_NAME["n_trades"].definition
    assert "initial purchase is not counted" in trades_row[4].value
    assert wb["Trades"].max_row - 1 == report.result.metrics["n_trades"] + 1  # the orders, initial included
    assert "initial purchase" in rows[METRICS_BY_NAME["total_commission"].label][4].value
