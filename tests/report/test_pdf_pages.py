"""The run PDF looks as it did: its first page rendered with pdftoppm is compared with a checked-in reference image
(grey levels, 36 dpi) within a tolerance that allows the "Generated …" time and font hinting to differ, not a moved
table, a missing chart or a changed layout. Regenerate the reference after an intended change with
``VBL_UPDATE_REFERENCE=1 pytest tests/report/test_pdf_pages.py``."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from core import StrategyConfig, simulate
from core.report.context import DatasetMeta, RunReport
from core.report.pdf import run_pdf

REFERENCE = Path(__file__).with_name("reference") / "run_pdf_page1.png"
DPI = 36
MEAN_TOLERANCE = 0.5  # mean absolute grey difference (0–255) over the page; new numbers alone give ~0.1
CHANGED_TOLERANCE = 0.005  # share of pixels differing by more than 64 grey levels

pytestmark = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils (pdftoppm)")


def _report() -> RunReport:
    rng = np.random.default_rng(11)
    index = pd.bdate_range("2015-01-02", periods=1_500)
    prices = pd.DataFrame({"close": 100 * np.exp(np.cumsum(rng.normal(0.0003, 0.015, len(index))))}, index=index)
    result = simulate(prices, StrategyConfig(trigger_up=0.04, trigger_down=0.04))
    return RunReport(result, DatasetMeta(name="synthetic", symbol="SYN", sha256="0" * 64), run_id=7,
                     name="Reference run", created_at=pd.Timestamp("2026-01-01 12:00", tz="UTC").to_pydatetime())


def _page_one(tmp_path: Path) -> np.ndarray:
    pdf = tmp_path / "run.pdf"
    pdf.write_bytes(run_pdf(_report()))
    subprocess.run(["pdftoppm", "-gray", "-r", str(DPI), "-f", "1", "-l", "1", "-png", str(pdf), str(tmp_path / "p")],
                   check=True, capture_output=True)
    (image,) = tmp_path.glob("p*.png")
    return np.asarray(Image.open(image).convert("L"), dtype=float)


def test_the_first_page_matches_the_reference_image(tmp_path: Path) -> None:
    page = _page_one(tmp_path)
    if os.environ.get("VBL_UPDATE_REFERENCE") == "1" or not REFERENCE.exists():
        REFERENCE.parent.mkdir(exist_ok=True)
        Image.fromarray(page.astype(np.uint8)).save(REFERENCE, optimize=True)
        pytest.skip("reference image written; commit it")
    reference = np.asarray(Image.open(REFERENCE).convert("L"), dtype=float)
    assert page.shape == reference.shape, "the page size changed"
    diff = np.abs(page - reference)
    assert diff.mean() <= MEAN_TOLERANCE, f"mean grey difference {diff.mean():.2f}"
    assert (diff > 64).mean() <= CHANGED_TOLERANCE, f"{(diff > 64).mean():.2%} of the pixels changed"
    assert page.mean() < 250  # not a blank page
