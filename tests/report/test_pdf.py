"""PDF reports read back with poppler's pdftotext: KPIs, sections, page numbers and page sizes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from report_helpers import Seeded

from core.metric_table import format_metric
from core.report.pdf import KPI_METRICS, run_pdf, study_pdf
from storage import Store
from usecases.reports import run_report_from_store, study_report_from_store

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils (.ci/run installs it)")


def _text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def _page_size(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "size.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return next(line for line in info.splitlines() if line.startswith("Page size"))


def test_run_pdf_contains_the_kpis(seeded: Seeded, store: Store, tmp_path: Path) -> None:
    report = run_report_from_store(store, seeded.run_id)
    pdf = run_pdf(report)
    assert pdf is not None and pdf.startswith(b"%PDF")
    text = _text(pdf, tmp_path)
    for name in KPI_METRICS:
        for column in ("strategy", "buy_and_hold", "static_mix"):
            assert format_metric(name, report.table.at[name, column]) in text, (name, column)
    for heading in ("Key figures against the benchmarks", "Charts", "Trades", "Metric definitions"):
        assert heading in text
    assert report.dataset.sha256 in text
    assert "Page 1 of" in text
    assert "A4" in _page_size(pdf, tmp_path)
    assert "letter" in _page_size(run_pdf(report, page_size="letter") or b"", tmp_path).lower()


def test_study_pdf_has_top_n_heatmap_and_walk_forward(seeded: Seeded, store: Store, tmp_path: Path) -> None:
    import pandas as pd

    walk_forward = pd.DataFrame({"fold": [1, 2], "in_sample": [0.81, 0.7], "out_of_sample": [0.52, 0.4]})
    study = study_report_from_store(store, seeded.study_id, walk_forward=walk_forward)
    text = _text(study_pdf(study, top_n=4) or b"", tmp_path)
    best = study.top(1)["sharpe"].iloc[0]
    assert "Top 4 trials by Sharpe ratio" in text  # the registry's label and format, as in the run report
    assert format_metric("sharpe", best) in text
    assert "Heatmap" in text and "Parameter sensitivity" in text and "Robustness" in text
    assert "Walk-forward results" in text and "0.52" in text


def test_configuration_rows_come_from_the_registry_with_units(seeded: Seeded, store: Store, tmp_path: Path) -> None:
    import io

    import openpyxl

    from core.config_registry import CONFIG_FIELDS
    from core.report.excel_run import run_workbook, save_workbook
    from core.report.run_tables import config_rows

    report = run_report_from_store(store, seeded.run_id)
    cfg = report.result.config
    rows = {r.name: r for r in config_rows(report)}
    assert list(rows) == [f.name for f in CONFIG_FIELDS]
    assert rows["trigger_up"].label == "Sell trigger (%)"
    assert rows["trigger_up"].text == f"{cfg.trigger_up * 100:,.4g} %"
    assert rows["slippage_bps"].text.endswith(" bps") and rows["fractional_shares"].text in ("yes", "no")
    text = _text(run_pdf(report) or b"", tmp_path)
    assert "Sell trigger (%)" in text
    # pdftotext may drop the thin space before "%": compare without spaces.
    assert f"Selltrigger(%){rows['trigger_up'].text}".replace(" ", "") in text.replace(" ", "")
    assert "Dividend withholding tax (%)" in text and "Minimum commission" in text

    book = openpyxl.load_workbook(io.BytesIO(save_workbook(run_workbook(report)) or b""))
    summary = book["Summary"]
    by_name = {summary.cell(r, 3).value: (summary.cell(r, 1).value, summary.cell(r, 2))
               for r in range(1, summary.max_row + 1) if summary.cell(r, 3).value in rows}
    assert set(by_name) == set(rows)
    label, cell = by_name["trigger_up"]
    assert label == "Sell trigger (%)" and cell.value == cfg.trigger_up and cell.number_format == "0.00%"


def test_the_equity_chart_carries_the_trend_line_with_its_growth_per_year(
        seeded: Seeded, store: Store, tmp_path: Path) -> None:
    import numpy as np

    report = run_report_from_store(store, seeded.run_id)
    equity = report.result.equity
    seconds = (equity.index - equity.index[0]).total_seconds().to_numpy()
    slope = np.polyfit(seconds, np.log(equity.to_numpy(dtype=float)), 1)[0]  # log V = a + b·t, least squares
    growth_pct = (np.exp(slope * 365.25 * 86_400) - 1) * 100
    assert f"Trend {growth_pct:+.2f} %/yr" in _text(run_pdf(report) or b"", tmp_path)
