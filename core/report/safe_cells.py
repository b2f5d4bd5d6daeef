"""Formula-injection guard for text written into spreadsheets and CSV files.

A dataset name or a note such as ``=HYPERLINK("http://evil", "x")`` would run as a formula when the file is
opened. Text that begins with a character a spreadsheet treats as the start of a formula is neutralised:

* **CSV** (:func:`safe_text`, :func:`safe_frame`): prefixed with an apostrophe, the OWASP-recommended
  neutralisation; a CSV has no cell types, so the mark has to be in the text.
* **xlsx** (:func:`guard_cell`): the cell keeps the text exactly as typed, stored as a string (data type ``s``,
  never a formula) with the *quote prefix* style, Excel's own "this is text" flag: Excel and LibreOffice show
  ``=HYPERLINK(...)`` without an apostrophe and keep it text when the cell is edited.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from openpyxl.cell.cell import Cell

# "=", "+", "-", "@" start formulas; tab and carriage return can smuggle one past a naive check in some programs.
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
CSV_MARK = "'"


def looks_like_formula(value: Any) -> bool:
    """Whether ``value`` is text a spreadsheet would read as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def safe_text(value: str, mark: str = CSV_MARK) -> str:
    """``value`` unchanged, or prefixed with ``mark`` (an apostrophe) when it would be read as a formula."""
    return mark + value if looks_like_formula(value) else value


def safe_value(value: Any, mark: str = CSV_MARK) -> Any:
    """Neutralise strings (see :func:`safe_text`); every other value passes through untouched."""
    return safe_text(value, mark) if isinstance(value, str) else value


def is_text_column(series: pd.Series) -> bool:
    """Whether a column may hold text: object, pandas' string dtypes (``str``, ``string``) or a category."""
    dtype = series.dtype
    types = pd.api.types
    return types.is_object_dtype(dtype) or types.is_string_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype)


def safe_frame(frame: pd.DataFrame, mark: str = CSV_MARK) -> pd.DataFrame:
    """A copy of ``frame`` for a CSV export: text cells and column names neutralised, numbers left numbers."""
    out = frame.copy()
    for i in range(out.shape[1]):
        column = out.iloc[:, i]
        if is_text_column(column):
            # object dtype: a string column may become object once marked, which pandas' str dtype would refuse
            out.isetitem(i, column.astype(object).map(lambda v: safe_value(v, mark)))
    out.columns = [safe_value(c, mark) for c in out.columns]
    return out


def guard_cell(cell: Cell) -> Cell:
    """Make a worksheet cell whose text looks like a formula inert, keeping the text as typed: a string cell
    (openpyxl would otherwise store ``=...`` as a formula) with the quote-prefix style. Returns the cell."""
    if looks_like_formula(cell.value):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell
