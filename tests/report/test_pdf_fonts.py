"""PDF text in any script: embedded TrueType fonts with per-character fallback, read back with poppler.

A run named ``Test 株式 📈 Ελληνικά عربى`` printed as black boxes in Helvetica (not embedded, Latin-1 only); these
tests build the PDFs, extract the text with ``pdftotext`` and compare it with the name, and list the fonts with
``pdffonts`` (every one embedded).
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from core import StrategyConfig, simulate
from core.data import load_sample
from core.report.context import DatasetMeta, RunReport, StudyReport
from core.report.pdf import FOOTER_SIZE, run_pdf, study_pdf
from core.report.pdf_fonts import (
    BOLD,
    CJK,
    FONT_DIR,
    FONT_FILES,
    REGULAR,
    SYMBOLS,
    fit_text,
    markup,
    text_runs,
    text_width,
    to_unicode_cmap,
)
from core.report.pdf_text import display_text, shape_arabic, visual_order

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdffonts") is None,
                                reason="needs poppler-utils (.ci/run installs it)")  # fmt: skip

NAME = "Test 株式 📈 Ελληνικά عربى"
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@functools.cache
def _result():
    goog = load_sample("GOOG")
    return simulate(goog.prices, StrategyConfig(commission_rate=0.0005), goog.dividends), goog


def _report(name: str) -> RunReport:
    result, goog = _result()
    return RunReport(result, DatasetMeta.from_market_data(goog), run_id=7, name=name)


def _write(pdf: bytes | None, tmp_path: Path, stem: str) -> Path:
    assert pdf is not None and pdf.startswith(b"%PDF")
    path = tmp_path / f"{stem}.pdf"
    path.write_bytes(pdf)
    return path


def _text(path: Path, *args: str) -> str:
    return subprocess.run(["pdftotext", *args, str(path), "-"], check=True, capture_output=True, text=True).stdout


def _readable(text: str) -> str:
    """Extracted text as people read it: presentation forms folded to letters (NFKC), reader bidi marks dropped."""
    return BIDI_CONTROLS.sub("", unicodedata.normalize("NFKC", text))


def _fonts(path: Path) -> list[tuple[str, str, str]]:
    """(name, type, embedded) of every font in the PDF."""
    out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines()[2:]:
        parts = line.split()
        # name, type (one or two words), encoding, emb, sub, uni, object, id
        rows.append((parts[0], " ".join(parts[1:-6]), parts[-5]))
    return rows


def test_a_name_in_four_scripts_and_an_emoji_reads_back_from_the_run_pdf(tmp_path: Path) -> None:
    path = _write(run_pdf(_report(NAME)), tmp_path, "run")
    text = _readable(_text(path))
    assert f"Run 7: {NAME}" in text  # the title
    # poppler drops the space where a right-to-left stretch ends, so the footer is compared without spaces
    footer = f"Run 7: {NAME} - GOOG".replace(" ", "")
    footers = [line for line in text.splitlines() if line.replace(" ", "").startswith(footer)]
    pages = re.findall(r"Page \d+ of \d+", text)
    assert pages and len(footers) == len(pages), "the footer carries the name on every page"
    assert "■" not in text and "\ufffd" not in text
    fonts = _fonts(path)
    names = {name.split("+")[-1] for name, _, _ in fonts}
    assert {REGULAR, BOLD, CJK, SYMBOLS} <= names
    assert all(emb == "yes" for _, _, emb in fonts), fonts
    assert all(kind == "TrueType" for _, kind, _ in fonts), fonts  # no Type 1 Helvetica left anywhere


def test_the_study_pdf_embeds_the_same_fonts(tmp_path: Path) -> None:
    trials = pd.DataFrame({"index": [0, 1, 2, 3], "status": "completed", "param.trigger_up": [0.02, 0.02, 0.03, 0.03],
                           "param.trigger_down": [0.02, 0.03, 0.02, 0.03], "sharpe": [0.5, 0.6, 0.7, 0.8]})  # fmt: skip
    study = StudyReport(trials, name=NAME, study_id=3, method="grid", objective="sharpe")
    path = _write(study_pdf(study), tmp_path, "study")
    assert f"Study 3: {NAME}" in _readable(_text(path))
    fonts = _fonts(path)
    assert fonts and all(emb == "yes" and kind == "TrueType" for _, kind, emb in fonts), fonts


def test_a_long_name_is_cut_with_an_ellipsis_before_the_page_number(tmp_path: Path) -> None:
    long_name = "A very long run name " * 12 + "株式"
    path = _write(run_pdf(_report(long_name)), tmp_path, "long")
    words = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>',
                       _text(path, "-bbox", "-f", "1", "-l", "1"))  # fmt: skip
    page_y = max(float(y) for _, y, _, _ in words)  # the footer is the lowest line
    footer = [(float(x0), float(x1), w) for x0, y, x1, w in words if float(y) == page_y]
    page_at = next(x0 for x0, _, w in footer if w == "Page")
    before = [(x1, w) for x0, x1, w in footer if x0 < page_at]
    assert before[-1][1].endswith("…"), footer
    assert max(x1 for x1, _ in before) < page_at - 5  # a clear gap before "Page 1 of N"
    assert " ".join(w for _, _, w in footer[-4:]).startswith("Page 1 of")


def test_fit_text_measures_each_run_in_its_font() -> None:
    assert fit_text("short", 100, FOOTER_SIZE) == "short"
    cut = fit_text("株式" * 40, 60, FOOTER_SIZE)
    assert cut.endswith("…") and text_width(cut, FOOTER_SIZE) <= 60
    assert text_width("株式", 10) > text_width("ab", 10)  # CJK measured in the CJK font, not as missing glyphs


def test_runs_pick_the_font_that_has_each_character() -> None:
    runs = text_runs("Ab 株式 📈 Ελ")
    assert runs == [(REGULAR, "Ab "), (CJK, "株式"), (REGULAR, " "), (SYMBOLS, "📈"), (REGULAR, " Ελ")]
    assert markup("a<b & 株") == 'a&lt;b &amp; <font name="DroidSansFallback">株</font>'
    assert text_runs("ok\U000e0100") == [(REGULAR, "ok")]  # an invisible selector no font has is left out


def test_emoji_get_surrogate_pairs_in_the_tounicode_map() -> None:
    cmap = to_unicode_cmap("F1", [0x41, 0x1F4C8])
    assert "<00> <0041>" in cmap and "<01> <D83DDCC8>" in cmap


def test_arabic_is_joined_and_drawn_right_to_left() -> None:
    shaped = shape_arabic("عربى")
    assert [unicodedata.name(c).rsplit(" ", 2)[-2] for c in shaped] == ["INITIAL", "FINAL", "INITIAL", "FINAL"]
    assert unicodedata.normalize("NFKC", shaped) == "عربى"
    assert unicodedata.name(shape_arabic("لا")) == "ARABIC LIGATURE LAM WITH ALEF ISOLATED FORM"
    assert visual_order("ab שלום עולם cd") == "ab םלוע םולש cd"
    assert visual_order("שנה 2024") == "2024 הנש"  # digits keep their order
    assert display_text("Latin only") == "Latin only"


def test_the_shipped_fonts_and_their_licences_are_in_the_repository() -> None:
    for filename in FONT_FILES.values():
        assert (FONT_DIR / filename).stat().st_size > 100_000
    for licence in ("LICENSE-DejaVu.txt", "LICENSE-DroidSansFallback.txt", "LICENSE-Symbola.txt", "README.md"):
        assert (FONT_DIR / licence).read_text(encoding="utf-8").strip()
    assert "Bitstream Vera" in (FONT_DIR / "LICENSE-DejaVu.txt").read_text(encoding="utf-8")
