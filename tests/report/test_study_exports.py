"""Study exports formatted like the run's: registry labels as headers, number formats from the units, metrics in
the PDF printed as in the run PDF, the search space readable, robustness figures stored as numbers."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from report_helpers import Seeded

from core.metric_table import format_metric
from core.report.excel_run import save_workbook
from core.report.excel_study import study_workbook
from core.report.formats import search_space_text, setting_text
from core.report.pdf import study_pdf
from core.report.study_tables import robustness
from storage import FrozenMap, Store
from usecases.reports import study_report_from_store


@pytest.fixture()
def study(seeded: Seeded, store: Store):
    report = study_report_from_store(store, seeded.study_id)
    # a stepped range as the store keeps it: a FrozenMap of text, which used to print as its repr
    space = {"trigger_up": FrozenMap({"min": "0.02", "max": "0.05", "step": "0.01"}),
             "trigger_down": report.search_space["trigger_down"]}  # fmt: skip
    return type(report)(**{**report.__dict__, "search_space": space})


def _book(study, **kwargs) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(save_workbook(study_workbook(study, **kwargs)) or b""))


def _columns(ws) -> dict[str, int]:
    return {c.value: c.column for c in ws[1]}


def test_trials_sheets_use_labels_and_unit_formats(study) -> None:
    wb = _book(study, top_n=3)
    for sheet, frame in (("All Trials", study.trials), ("Top 3", study.top(3))):
        ws = wb[sheet]
        cols = _columns(ws)
        assert list(cols)[:3] == ["Trial", "Sell trigger (%)", "Buy trigger (%)"]
        assert not any("_" in str(h) or str(h).startswith("param.") for h in cols if h != "Duration (s)"), cols
        expected = {"Sell trigger (%)": ("param.trigger_up", "0.00%"), "Sharpe ratio": ("sharpe", "0.00"),
                    "Total return": ("total_return", "0.00%"), "Max drawdown": ("max_drawdown", "0.00%"),
                    "Trades": ("n_trades", "#,##0"), "Excess vs buy-and-hold": ("excess_return_vs_buy_hold",
                                                                                "+0.00%;-0.00%;0.00%")}  # fmt: skip
        for header, (key, number_format) in expected.items():
            cells = [ws.cell(r, cols[header]) for r in range(2, ws.max_row + 1)]
            assert all(c.number_format == number_format for c in cells), (sheet, header, cells[0].number_format)
            assert [c.value for c in cells] == pytest.approx(frame[key].tolist(), rel=1e-15), (sheet, header)


def test_summary_search_space_and_robustness_are_readable_numbers(study) -> None:
    ws = _book(study)["Summary"]
    rows = [(r[0].value, r[1]) for r in ws.iter_rows(min_row=3) if r[0].value is not None or r[1].value is not None]
    texts = [str(cell.value) for _, cell in rows]
    assert "Sell trigger: 2 %–5 %, step 1 %" in texts
    assert "Buy trigger: 2 %, 4 %" in texts
    assert not any("FrozenMap" in t or "{" in t for t in texts)
    values = {label: cell for label, cell in rows if label}
    assert values["Objective"].value == "maximise Sharpe ratio"
    for finding in robustness(study):
        cell = values[finding.label]
        assert cell.data_type == "n" and cell.value == pytest.approx(finding.value), finding
    assert values["Best Sharpe ratio"].number_format == "0.00"
    assert values["Trials beating buy-and-hold"].number_format == "0.00%"
    assert values["Trials stored"].number_format == "#,##0"


def test_heatmap_and_sensitivity_sheets(study) -> None:
    wb = _book(study)
    heat = wb["Heatmap"]
    header = [c.value for c in heat[3]]
    assert header == ["Buy trigger (%) \\ Sell trigger (%)", "2 %", "3 %", "5 %"]
    # one orientation: the first Buy trigger value at the bottom, as in the PDF and the PNG
    assert [heat.cell(r, 1).value for r in (4, 5)] == ["4 %", "2 %"]
    assert heat.cell(5, 2).number_format == "0.00"  # Sharpe ratio's format
    sens = wb["Parameter Sensitivity"]
    assert [c.value for c in sens[1]] == ["Parameter", "Value", "Trials", "Mean Sharpe ratio", "Median Sharpe ratio",
                                          "Min Sharpe ratio", "Max Sharpe ratio"]  # fmt: skip
    assert sens.cell(2, 1).value == "Sell trigger (%)" and sens.cell(2, 2).value == "2 %"


def test_study_pdf_prints_metrics_like_the_run_pdf(study, tmp_path: Path) -> None:
    path = tmp_path / "study.pdf"
    path.write_bytes(study_pdf(study, top_n=4) or b"")
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    best = study.top(1).iloc[0]
    for metric in ("sharpe", "total_return", "max_drawdown", "cagr"):
        assert format_metric(metric, best[metric]) in text, metric  # "154.48 %", not 1.5448
    assert f"{best['total_return']:.4g}" not in text
    for raw in ("total_return", "max_drawdown", "trigger_up", "FrozenMap", "param."):
        assert raw not in text, raw
    assert "Sell trigger: 2 %–5 %, step 1 %" in text and "Buy trigger: 2 %, 4 %" in text
    assert "Total return" in text and "Max drawdown" in text and "Sell trigger (%)" in text
    assert setting_text("trigger_up", best["param.trigger_up"]) in text


def test_search_space_text_reads_every_stored_form() -> None:
    assert search_space_text("trigger_up", {"min": 0.02, "max": 0.1, "step": 0.01}) == (
        "Sell trigger: 2 %–10 %, step 1 %")
    assert search_space_text("trigger_up", "0.01:0.08:0.005") == "Sell trigger: 1 %–8 %, step 0.5 %"
    assert search_space_text("sizing", {"values": ["proportional", "fixed_fraction"]}) == (
        "Sizing: proportional, fixed fraction")
    assert search_space_text("auto_rebalance", "bool") == "Auto-rebalance: no, yes"
    assert search_space_text("min_notional", [100, 250]) == "Minimum order: 100.00, 250.00"
    assert search_space_text("max_trade_share", [None, 0.2]) == "Max order size (% of account): not set, 20 %"
    assert search_space_text("slippage_bps", pd.Series([5.0]).tolist()) == "Slippage (bps): 5 bps"
