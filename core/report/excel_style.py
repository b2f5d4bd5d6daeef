"""Shared workbook writing: typed tables with number formats, frozen headers, filters and widths.

Values only, never formulas: text that looks like a formula is kept as typed in a string cell with the quote-prefix
style (:func:`core.report.safe_cells.guard_cell`), so it shows without an apostrophe and never runs. Cells are
written row by row with ``Worksheet.append`` and formatted column by column, which keeps a 10-year daily run well
inside the time budget.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time
from typing import Any

import numpy as np
import pandas as pd
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

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
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F5FBF")
TITLE_FONT = Font(bold=True, size=14)
BOLD = Font(bold=True)

# core.metric_table formats -> Excel number formats.
METRIC_FORMATS: dict[str, str] = {
    fmt: FORMATS[kind] for fmt, kind in {
        "pct": "pct", "signed_pct": "signed_pct", "ratio": "ratio", "count": "count", "money": "money",
        "times": "times", "number": "decimal",
    }.items()
}  # fmt: skip


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


def write_cell(ws: Worksheet, row: int, column: int, value: Any) -> Cell:
    """Write one constant (see :func:`cell_value`) with formula-like text made inert; returns the cell."""
    return guard_cell(ws.cell(row, column, cell_value(value)))


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


def write_table(
    ws: Worksheet,
    frame: pd.DataFrame,
    kinds: Mapping[str, str] | None = None,
    *,
    first_row: int = 1,
    filters: bool = True,
    freeze: bool = True,
) -> int:
    """Write ``frame`` (its columns, not its index) as a table with a styled header at ``first_row``.

    ``kinds`` maps a column to a key of ``FORMATS`` (or ``"wide"``/``"text"``); unlisted columns are guessed.
    Adds an autofilter over the table and freezes the rows above the first data row. Nothing may be written below
    ``first_row`` beforehand. Returns the last row written.
    """
    kinds = dict(kinds or {})
    columns = [str(c) for c in frame.columns]
    header_row = first_row
    # The header goes in with ws.cell; ws.append then continues right below it (nothing is written lower yet).
    for col, name in enumerate(columns, start=1):
        cell = write_cell(ws, header_row, col, name)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
    values = [_column_values(frame.iloc[:, i]) for i in range(len(columns))]
    for row in zip(*values, strict=True):
        ws.append(row)
    last = header_row + len(frame)
    # The cells just appended, by (row, column): a column's format is set once and its style record copied to the
    # rest (openpyxl's own worksheet copy does the same), instead of a style lookup per cell through iter_rows —
    # on a 8,000-bar timeline that was a third of the workbook's time.
    cells = ws._cells
    for i, name in enumerate(columns, start=1):
        kind = kinds.get(name) or guess_kind(frame.iloc[:, i - 1])
        fmt = FORMATS.get(kind)
        if fmt and fmt != "General" and len(frame):
            template = ws.cell(header_row + 1, i)
            template.number_format = fmt
            style = template._style
            for r in range(header_row + 2, last + 1):
                cell = cells.get((r, i))
                if cell is not None:
                    cell._style = StyleArray(style)  # a copy each: later styling changes a cell's record in place
        width = WIDTHS.get(kind, 14)
        ws.column_dimensions[get_column_letter(i)].width = max(width, min(len(name) + 3, 40))
    for i, column_values in enumerate(values, start=1):
        for offset, value in enumerate(column_values, start=1):
            if looks_like_formula(value):
                guard_cell(ws.cell(header_row + offset, i))
    if filters and columns:
        ws.auto_filter.ref = f"A{header_row}:{get_column_letter(len(columns))}{max(last, header_row)}"
    if freeze:
        ws.freeze_panes = ws.cell(header_row + 1, 1)
    return last


def write_pairs(
    ws: Worksheet,
    pairs: Iterable[tuple[str, Any]],
    *,
    first_row: int,
    bold_keys: bool = True,
    kinds: Sequence[str | None] | None = None,
) -> int:
    """Write ``label: value`` rows in columns A and B from ``first_row``; returns the next free row.

    ``kinds`` gives each row's value a key of ``FORMATS`` (``None``: dates get theirs, others General)."""
    row = first_row
    for i, (label, value) in enumerate(pairs):
        write_cell(ws, row, 1, label).font = BOLD if bold_keys else Font()
        cell = write_cell(ws, row, 2, value)
        kind = kinds[i] if kinds is not None and i < len(kinds) else None
        if kind is not None and kind in FORMATS and not isinstance(value, str):
            cell.number_format = FORMATS[kind]
        elif isinstance(value, datetime | pd.Timestamp):
            cell.number_format = FORMATS["datetime"]
        elif isinstance(value, date):
            cell.number_format = FORMATS["date"]
        row += 1
    return row


def set_widths(ws: Worksheet, widths: Sequence[float]) -> None:
    """Set the widths of columns A, B, ... in order."""
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
