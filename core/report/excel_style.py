"""Shared workbook writing: typed tables with number formats, frozen headers, filters and widths.

Workbooks are write-only (:func:`new_workbook`, openpyxl's streaming mode): each row is serialised as it is
appended, with no cell kept in memory and no sort or restyling pass at save time, which keeps a 30-year daily run
inside the time budget. So a sheet is written from the top down (:class:`SheetWriter`), its column widths and frozen
panes are set before its first row, and each cell's look (:class:`CellStyle`) is known when it is written: one style
record per sheet and look, made once, instead of a style set on every cell.

Values only, never formulas: text that looks like a formula is kept as typed in a string cell with the quote-prefix
style (:func:`core.report.safe_cells.guard_cell`), so it shows without an apostrophe and never runs.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime, time
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter

from core.report.safe_cells import guard_cell, looks_like_formula

FORMATS: dict[str, str] = {
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
    "time": "hh:mm",
    "money": "#,##0.00",
    "price": "#,##0.0000",
    "qty": "#,##0.0000",
    "pct": "0.00%",
    "signed_pct": "+0.00%;-0.00%;0.00%",
    "ratio": "0.00",
    "times": '0.00"x"',
    "count": "#,##0",
    "decimal": "0.0000",
    "bps": '0.00" bps"',
    "number": "General",
}
WIDTHS: dict[str, float] = {"date": 12, "datetime": 17, "time": 8, "wide": 70, "text": 16}

# core.metric_table formats -> Excel number formats.
METRIC_FORMATS: dict[str, str] = {
    fmt: FORMATS[kind] for fmt, kind in {
        "pct": "pct", "signed_pct": "signed_pct", "ratio": "ratio", "count": "count", "money": "money",
        "times": "times", "number": "decimal",
    }.items()
}  # fmt: skip


@dataclass(frozen=True)
class CellStyle:
    """How a cell looks: its number format, font, fill and alignment (``None``: the workbook's default)."""

    number_format: str = "General"
    font: Font | None = None
    fill: PatternFill | None = None
    alignment: Alignment | None = None


HEADER_STYLE = CellStyle(
    font=Font(bold=True, color="FFFFFF"),
    fill=PatternFill("solid", fgColor="1F5FBF"),
    alignment=Alignment(horizontal="center", vertical="center"),
)
TITLE_STYLE = CellStyle(font=Font(bold=True, size=14))
BOLD_STYLE = CellStyle(font=Font(bold=True))
PLAIN_STYLE = CellStyle(font=Font())  # a label that is not bold (an empty font record, as the workbooks always had)
WRAP_STYLE = CellStyle(alignment=Alignment(wrap_text=True, vertical="top"))
TOPIC_STYLE = CellStyle(font=Font(bold=True), alignment=Alignment(vertical="top"))


@contextmanager
def new_workbook() -> Iterator[Workbook]:
    """An empty write-only workbook for the ``with`` block that fills it: its sheets (:class:`SheetWriter`) stream
    their rows to temporary files until it is saved, once.

    Should the block fail, the sheets are finished into a throwaway buffer, which removes their files: left open,
    they would stay until the process exits, and openpyxl's half-written streams print errors when collected."""
    wb = Workbook(write_only=True)
    wb.properties.creator = "Volatility Balancing Lab"
    try:
        yield wb
    except BaseException:
        with suppress(Exception):  # the failure that got here is the one to report
            wb.save(io.BytesIO())
        raise


def cell_value(value: Any) -> Any:
    """A Python value openpyxl writes as a constant: NaN/NaT -> empty, numpy scalars -> Python, text as is (the
    writer guards formula-like text with :func:`guard_cell`)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp):
        return value.tz_localize(None).to_pydatetime() if value.tz is not None else value.to_pydatetime()
    if isinstance(value, datetime | date | time | int):
        return value
    return str(value)


class SheetWriter:
    """A sheet of a write-only workbook, written from the top down.

    openpyxl writes a streamed sheet's column widths and frozen panes with its first row, so :meth:`set_width`
    and :meth:`freeze` refuse once a row is written rather than be silently lost. ``row`` is the next row.
    """

    def __init__(self, wb: Workbook, title: str) -> None:
        self.ws = wb.create_sheet(title)
        self.row = 1
        self._styles: dict[CellStyle, StyleArray | None] = {}

    @property
    def started(self) -> bool:
        """Whether a row has been written (the layout is then fixed)."""
        return self.row > 1

    def _check_layout(self) -> None:
        if self.started:
            raise RuntimeError(f"sheet {self.ws.title!r}: widths and panes must be set before its first row")

    def set_width(self, column: int, width: float, *, keep: bool = False) -> None:
        """Set column ``column``'s (1 = A) width; with ``keep``, only when no width was set for it yet."""
        self._check_layout()
        letter = get_column_letter(column)
        if not (keep and letter in self.ws.column_dimensions):
            self.ws.column_dimensions[letter].width = width

    def set_widths(self, widths: Sequence[float]) -> None:
        """Set the widths of columns A, B, ... in order."""
        for column, width in enumerate(widths, start=1):
            self.set_width(column, width)

    def freeze(self, row: int) -> None:
        """Keep the rows above ``row`` in view while scrolling."""
        self._check_layout()
        self.ws.freeze_panes = f"A{row}"

    def style(self, style: CellStyle | None) -> StyleArray | None:
        """``style`` as this workbook's style record (``None`` for the default look), made once per sheet: a template
        cell registers the font, fill, alignment and format through openpyxl's own setters."""
        if style is None:
            return None
        if style not in self._styles:
            template = WriteOnlyCell(self.ws)
            template.number_format = style.number_format
            for name in ("font", "fill", "alignment"):
                if getattr(style, name) is not None:
                    setattr(template, name, getattr(style, name))
            # the General format with nothing else is the default look: written without a style, like a plain value
            self._styles[style] = template._style if any(template._style) else None
        return self._styles[style]

    def item(self, value: Any, style: StyleArray | None = None) -> Any:
        """A row item for :meth:`append` holding a writable ``value`` (see :func:`cell_value`): the value itself when
        it needs neither a style nor the formula guard (openpyxl's shared cell writes it), else a cell of its own."""
        if style is None and not looks_like_formula(value):
            return value
        return guard_cell(self.styled(value, style))

    def styled(self, value: Any, style: StyleArray | None) -> Cell:
        """A cell of its own for ``value`` in ``style``, not guarded (for numbers and dates)."""
        # the row and column are placeholders: openpyxl sets both as it writes the row
        return Cell(self.ws, 1, 1, value, style_array=style)

    def append(self, items: Sequence[Any]) -> int:
        """Write the next row from row items (values or cells, see :meth:`item`); returns its number."""
        self.ws.append(items)
        self.row += 1
        return self.row - 1

    def write(self, *values: Any, style: CellStyle | None = None, styles: Sequence[CellStyle | None] = ()) -> int:
        """Write the next row from plain values, each in its entry of ``styles`` (by position), the others in
        ``style``; returns its number."""
        looks = [styles[i] if i < len(styles) else style for i in range(len(values))]
        return self.append([self.item(cell_value(v), self.style(look)) for v, look in zip(values, looks, strict=True)])

    def skip_to(self, row: int) -> None:
        """Leave the rows before ``row`` empty, so that the next row written is ``row``."""
        if row < self.row:
            raise ValueError(f"sheet {self.ws.title!r}: row {row} is already written (next: {self.row})")
        while self.row < row:
            self.append(())


def _column_values(series: pd.Series) -> list[Any]:
    """One column as writable Python values (vectorised for the common float/date/bool cases)."""
    if pd.api.types.is_float_dtype(series.dtype):
        arr = series.to_numpy(dtype=float)
        out = arr.astype(object)
        out[~np.isfinite(arr)] = None
        return out.tolist()
    if pd.api.types.is_bool_dtype(series.dtype):
        return [bool(v) for v in series.to_numpy()]
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        stamps = pd.DatetimeIndex(series)
        if stamps.tz is not None:
            stamps = stamps.tz_localize(None)
        return [None if v is pd.NaT else v for v in stamps.to_pydatetime()]
    return [cell_value(v) for v in series.tolist()]


def guess_kind(series: pd.Series) -> str:
    """A display kind for a column nobody described: dates, counts, numbers or text."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return "date"
    if pd.api.types.is_bool_dtype(series.dtype):
        return "text"
    if pd.api.types.is_integer_dtype(series.dtype):
        return "count"
    if pd.api.types.is_float_dtype(series.dtype):
        return "number"
    return "text"


def _kinds(frame: pd.DataFrame, kinds: Mapping[str, str] | None) -> list[str]:
    """Each column's kind: as given in ``kinds``, else guessed from its dtype."""
    kinds = kinds or {}
    return [kinds.get(str(name)) or guess_kind(frame.iloc[:, i]) for i, name in enumerate(frame.columns)]


def _number_style(fmt: str | None) -> CellStyle | None:
    """The look of a cell with number format ``fmt`` (``None``: the default look)."""
    return CellStyle(number_format=fmt) if fmt else None


def table_layout(
    sheet: SheetWriter,
    frame: pd.DataFrame,
    kinds: Mapping[str, str] | None = None,
    *,
    first_row: int = 1,
    freeze: bool = True,
) -> None:
    """The layout of a table whose header will be row ``first_row``: a width for each of its columns that has none
    yet (set an explicit width first to override it), and the rows down to the header frozen.

    :func:`write_table` does this itself on a sheet it opens; a table below other rows needs it called before the
    sheet's first row."""
    for column, (name, kind) in enumerate(zip(frame.columns, _kinds(frame, kinds), strict=True), start=1):
        sheet.set_width(column, max(WIDTHS.get(kind, 14), min(len(str(name)) + 3, 40)), keep=True)
    if freeze:
        sheet.freeze(first_row + 1)


def _never_text(series: pd.Series) -> bool:
    """Whether a column holds only numbers, flags and dates (no text that could need the formula guard)."""
    dtype = series.dtype
    types = pd.api.types
    return (types.is_float_dtype(dtype) or types.is_integer_dtype(dtype) or types.is_bool_dtype(dtype)
            or types.is_datetime64_any_dtype(dtype))  # fmt: skip


def _column_items(
    sheet: SheetWriter, series: pd.Series, fmt: str | None, row_formats: Sequence[str | None] | None
) -> Iterator[Any]:
    """One column's row items (see :meth:`SheetWriter.item`) in the column's number format ``fmt``, or the row's own
    where ``row_formats`` has one.

    The items are made one at a time as the rows are written: holding a table's worth of cells alive at once would
    make the garbage collector walk them over and over (a third of the time of an 8,000-bar run's workbook)."""
    values = _column_values(series)
    style = sheet.style(_number_style(fmt))
    if row_formats is not None:
        return map(sheet.item, values, [style if f is None else sheet.style(_number_style(f)) for f in row_formats])
    if not _never_text(series):
        return map(sheet.item, values, repeat(style))
    if style is None:
        return iter(values)  # openpyxl's shared cell writes plain numbers and dates
    return _rebound(sheet.styled(None, style), values)


def _rebound(cell: Cell, values: Iterable[Any]) -> Iterator[Cell]:
    """``cell`` holding each of ``values`` in turn: one styled cell serves a column of numbers or dates, because a
    write-only sheet writes each row as it is appended, before the next value is bound (a cell per value would
    cost a construction and a style copy each, and nothing needs the guard's per-cell quote prefix)."""
    for value in values:
        cell.value = value
        yield cell


def write_table(
    sheet: SheetWriter,
    frame: pd.DataFrame,
    kinds: Mapping[str, str] | None = None,
    *,
    first_row: int = 1,
    filters: bool = True,
    freeze: bool = True,
    row_formats: Sequence[Mapping[str, str | None]] | None = None,
) -> int:
    """Write ``frame`` (its columns, not its index) as a table with a styled header at ``first_row``.

    ``kinds`` maps a column to a key of ``FORMATS`` (or ``"wide"``/``"text"``); unlisted columns are guessed.
    ``row_formats`` holds, for each row of ``frame``, number formats by column that replace the column's (where not
    ``None``).
    Adds an autofilter over the table and freezes the rows above the first data row (on a sheet that already has
    rows, after :func:`table_layout`). Nothing may be written below ``first_row`` beforehand. Returns the last row
    written.
    """
    if row_formats is not None and len(row_formats) != len(frame):
        raise ValueError(f"row_formats has {len(row_formats)} rows, the table {len(frame)}")
    columns = [str(c) for c in frame.columns]
    column_kinds = _kinds(frame, kinds)
    if not sheet.started:
        table_layout(sheet, frame, kinds, first_row=first_row, freeze=freeze)
    elif freeze and sheet.ws.freeze_panes != f"A{first_row + 1}":
        raise RuntimeError(f"sheet {sheet.ws.title!r}: call table_layout before the sheet's first row")
    sheet.skip_to(first_row)
    sheet.write(*columns, style=HEADER_STYLE)
    items = [
        _column_items(sheet, frame.iloc[:, i], FORMATS.get(kind),
                      None if row_formats is None else [formats.get(name) for formats in row_formats])
        for i, (name, kind) in enumerate(zip(columns, column_kinds, strict=True))
    ]  # fmt: skip
    for row in zip(*items, strict=True):
        sheet.append(row)
    last = first_row + len(frame)
    if filters and columns:
        sheet.ws.auto_filter.ref = f"A{first_row}:{get_column_letter(len(columns))}{last}"
    return last


def number_format_for(kind: str | None, value: Any) -> str | None:
    """The number format a number ``value`` of display kind ``kind`` is shown in (``None`` for text, flags, missing
    values and General)."""
    fmt = FORMATS.get(kind) if kind else None
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    return fmt if fmt and fmt != "General" and numeric else None


def metric_row_formats(fmts: Iterable[str], columns: Iterable[Any]) -> list[dict[str, str]]:
    """For :func:`write_table`'s ``row_formats``: each row's ``columns`` in the number format of its metric's
    ``fmt`` (``core.metric_table``; four decimals when it has none)."""
    names = [str(c) for c in columns]
    return [dict.fromkeys(names, METRIC_FORMATS.get(fmt, FORMATS["decimal"])) for fmt in fmts]


def _pair_style(value: Any, kind: str | None) -> CellStyle | None:
    """A pair's value in its kind's format (text keeps the default), dates in a date format."""
    if kind is not None and kind in FORMATS and not isinstance(value, str):
        return _number_style(FORMATS[kind])
    if isinstance(value, datetime | pd.Timestamp):
        return _number_style(FORMATS["datetime"])
    if isinstance(value, date):
        return _number_style(FORMATS["date"])
    return None


def write_pairs(
    sheet: SheetWriter,
    pairs: Iterable[tuple[Any, ...]],
    *,
    first_row: int,
    bold_keys: bool = True,
    kinds: Sequence[str | None] | None = None,
) -> int:
    """Write ``label: value`` rows in columns A and B from ``first_row`` (any further items of a pair in the
    columns after, as they are); returns the next free row.

    ``kinds`` gives each row's value a key of ``FORMATS`` (``None``: dates get theirs, others General)."""
    sheet.skip_to(first_row)
    for i, (label, value, *rest) in enumerate(pairs):
        kind = kinds[i] if kinds is not None and i < len(kinds) else None
        sheet.write(label, value, *rest, styles=(BOLD_STYLE if bold_keys else PLAIN_STYLE, _pair_style(value, kind)))
    return sheet.row
