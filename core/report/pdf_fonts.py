"""The PDF's fonts: embedded TrueType faces with wide coverage, and per-character fallback for what they lack.

reportlab's standard fonts (Helvetica) are not embedded and know only Latin-1, so a run named ``株式 📈 Ελληνικά``
printed as black boxes. Every PDF now uses DejaVu Sans (Latin, Greek, Cyrillic, Arabic, Hebrew, many symbols),
embedded as a subset, and falls back per character to Droid Sans Fallback (Chinese, Japanese, Korean) and Symbola
(emoji, monochrome). reportlab cannot fall back per glyph by itself, so the text is split into runs by which font's
character map (cmap) covers each character: :func:`markup` wraps the fallback runs of a paragraph in
``<font name=...>`` tags, :func:`text_runs` gives the runs for canvas and chart strings, and :func:`text_width`
measures them. The files, their sources and licences are in ``core/report/fonts/README.md``.

Right-to-left text is prepared by :mod:`core.report.pdf_text` (Arabic letter forms, visual order), since
reportlab shapes nothing without ``uharfbuzz``. A character no shipped font has is drawn as the primary font's
missing-glyph box; invisible format characters (zero-width joiner, variation selectors) no font has are left out.

reportlab 4 writes a code point above U+FFFF (every emoji) into a font's ToUnicode map as five hex digits, which
readers misread (``pdftotext`` gave ``Ὄ`` for ``📈``); :func:`register_fonts` installs a map writer that uses the
UTF-16 surrogate pairs the PDF specification asks for.
"""

from __future__ import annotations

import functools
import unicodedata
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFont

from core.report.pdf_text import display_text
from core.theme import FONTS

FONT_DIR = Path(__file__).with_name("fonts")
REGULAR = FONTS.pdf_family
BOLD = FONTS.pdf_bold
CJK = "DroidSansFallback"
SYMBOLS = "Symbola"

# reportlab name -> file in FONT_DIR.
FONT_FILES: dict[str, str] = {
    REGULAR: "DejaVuSans.ttf",
    BOLD: "DejaVuSans-Bold.ttf",
    CJK: "DroidSansFallbackFull.ttf",
    SYMBOLS: "Symbola.ttf",
}
# Tried in order for a character the primary font lacks; they have no bold faces, so bold text falls back to these
# regular ones.
FALLBACKS: tuple[str, ...] = (CJK, SYMBOLS)
ELLIPSIS = "…"


def _utf16_hex(code: int) -> str:
    """A code point as the UTF-16BE hex string of a ToUnicode map: 4 digits, or 8 for a surrogate pair."""
    return code.to_bytes(4, "big").hex().upper()[4:] if code <= 0xFFFF else chr(code).encode("utf-16-be").hex().upper()


def to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """reportlab's ToUnicode CMap of a font subset (``ttfonts.makeToUnicodeCMap``), with code points above U+FFFF
    written as surrogate pairs."""
    return "\n".join([
        "/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap", "/CIDSystemInfo",
        f"<< /Registry ({fontname})", f"/Ordering ({fontname})", "/Supplement 0", ">> def",
        f"/CMapName /{fontname} def", "/CMapType 2 def", "1 begincodespacerange", f"<00> <{len(subset) - 1:02X}>",
        "endcodespacerange", f"{len(subset)} beginbfchar",
        *(f"<{i:02X}> <{_utf16_hex(code)}>" for i, code in enumerate(subset)),
        "endbfchar", "endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end",
    ])  # fmt: skip


@functools.cache
def register_fonts() -> None:
    """Register the shipped fonts with reportlab once per process (``<b>`` in paragraphs maps to the bold face)."""
    ttfonts.makeToUnicodeCMap = to_unicode_cmap  # the fix for emoji described in the module docstring
    for name, filename in FONT_FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / filename)))
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR, boldItalic=BOLD)
    for name in FALLBACKS:
        # a fallback run inside <b> asks for the family's bold face: the regular one is all there is
        pdfmetrics.registerFontFamily(name, normal=name, bold=name, italic=name, boldItalic=name)


@functools.cache
def _coverage(name: str) -> frozenset[int]:
    register_fonts()
    font = pdfmetrics.getFont(name)
    return frozenset(font.face.charToGlyph)  # type: ignore[attr-defined]  # a TTFont's cmap: code point -> glyph


def _invisible(ch: str) -> bool:
    # Format characters (ZWJ, bidi marks) and variation selectors only modify their neighbours.
    return unicodedata.category(ch) == "Cf" or 0xFE00 <= ord(ch) <= 0xFE0F or 0xE0100 <= ord(ch) <= 0xE01EF


def font_for(ch: str, primary: str = REGULAR) -> str | None:
    """The font that draws ``ch``: ``primary`` when it covers it, else the first fallback that does, else
    ``primary`` (its missing-glyph box), or ``None`` for an invisible character no font has (left out)."""
    code = ord(ch)
    if code in _coverage(primary):
        return primary
    for name in FALLBACKS:
        if code in _coverage(name):
            return name
    return None if _invisible(ch) else primary


def text_runs(text: str, primary: str = REGULAR) -> list[tuple[str, str]]:
    """``text`` as consecutive ``(font name, characters)`` runs, each drawable in one font, in drawing order
    (right-to-left stretches shaped and reversed: :func:`core.report.pdf_text.display_text`)."""
    runs: list[tuple[str, str]] = []
    for ch in display_text(text):
        name = font_for(ch, primary)
        if name is None:
            continue
        if runs and runs[-1][0] == name:
            runs[-1] = (name, runs[-1][1] + ch)
        else:
            runs.append((name, ch))
    return runs


def needs_fallback(text: str, primary: str = REGULAR) -> bool:
    """Whether any character of ``text`` is drawn by a font other than ``primary`` (or left out)."""
    covered = _coverage(primary)
    return any(ord(ch) not in covered for ch in text)


def markup(text: str, primary: str = REGULAR) -> str:
    """``text`` escaped for a reportlab ``Paragraph``, its fallback runs wrapped in ``<font name=...>``."""
    parts = []
    for name, chunk in text_runs(text, primary):
        safe = escape(chunk)
        parts.append(safe if name == primary else f'<font name="{name}">{safe}</font>')
    return "".join(parts)


def text_width(text: str, size: float, primary: str = REGULAR) -> float:
    """The drawn width of ``text`` at ``size`` points, each run measured in its own font."""
    return sum(pdfmetrics.stringWidth(chunk, name, size) for name, chunk in text_runs(text, primary))


def fit_text(text: str, width: float, size: float, primary: str = REGULAR) -> str:
    """``text``, or its longest prefix followed by an ellipsis, whose drawn width is at most ``width`` points."""
    if text_width(text, size, primary) <= width:
        return text
    lo, hi = 0, len(text)
    # Binary search on the prefix length: the width only grows with more characters.
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if text_width(text[:mid].rstrip() + ELLIPSIS, size, primary) <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + ELLIPSIS if lo else ""
