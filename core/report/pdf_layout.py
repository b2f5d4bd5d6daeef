"""Layout pieces shared by the PDF reports (:mod:`core.report.pdf`, :mod:`core.report.pdf_tear_sheet`): paragraph
and table styles in the embedded fonts, escaped paragraph text with fallback fonts, label/value tables and grids.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.platypus import Paragraph, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from core.report.pdf_fonts import BOLD, REGULAR, markup, needs_fallback, register_fonts
from core.theme import COLORS

register_fonts()

_styles = getSampleStyleSheet()
TITLE = ParagraphStyle("vbl-title", parent=_styles["Title"], fontName=BOLD, fontSize=17, spaceAfter=4, alignment=0)
H2 = ParagraphStyle("vbl-h2", parent=_styles["Heading2"], fontName=BOLD, fontSize=12, spaceBefore=8, spaceAfter=4,
                    keepWithNext=1)  # a heading never ends a page alone
BODY = ParagraphStyle("vbl-body", parent=_styles["BodyText"], fontName=REGULAR, fontSize=8.5, leading=11)
SMALL = ParagraphStyle("vbl-small", parent=BODY, fontSize=7.5, leading=9.5)
GRID = TableStyle(
    [
        ("FONT", (0, 0), (-1, -1), REGULAR, 7.5),
        ("FONT", (0, 0), (-1, 0), BOLD, 7.5),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor(COLORS.table_header)),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor(COLORS.table_stripe)]),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor(COLORS.table_grid)),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
)
PAIRS = TableStyle(
    [
        ("FONT", (0, 0), (-1, -1), REGULAR, 8),
        ("FONT", (0, 0), (0, -1), BOLD, 8),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 1),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
    ]
)


def para_text(value: Any, primary: str = REGULAR) -> str:
    """``value`` as paragraph markup: escaped, with fallback fonts for the characters ``primary`` lacks."""
    return markup(str(value), primary)


def para(markup_text: str, style: ParagraphStyle = BODY) -> Paragraph:
    """A paragraph of markup (:func:`para_text` for plain text): wraps to its column, unlike a table's string."""
    return Paragraph(markup_text, style)


def pairs_table(pairs: Sequence[tuple[str, Any]], widths: tuple[float, float]) -> Table:
    """Label / value rows without grid lines (the title block); values wrap, and a flowable value is kept."""
    rows = [[para(f"<b>{para_text(k, BOLD)}</b>", SMALL),
             v if isinstance(v, Flowable) else para(para_text(v), SMALL)] for k, v in pairs]  # fmt: skip
    table = Table(rows, colWidths=widths, hAlign="LEFT")
    table.setStyle(PAIRS)
    return table


def _cell(value: Any, header: bool) -> Any:
    # A table's plain strings are drawn in one font: text it lacks (a CJK name) goes in a paragraph with fallbacks.
    primary = BOLD if header else REGULAR
    if isinstance(value, str) and needs_fallback(value, primary):
        return para(para_text(value, primary), SMALL)
    return value


def grid(rows: list[list[Any]], widths: Sequence[float] | None = None, repeat: int = 1) -> Table:
    """A striped table whose first ``repeat`` rows are a header repeated on every page it runs over."""
    rows = [[_cell(v, i < repeat) for v in row] for i, row in enumerate(rows)]
    table = Table(rows, colWidths=widths, repeatRows=repeat, hAlign="LEFT")
    table.setStyle(GRID)
    return table
