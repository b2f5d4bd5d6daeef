"""Formula-injection guard for text written into spreadsheets and CSV files.

A dataset name or a note such as ``=HYPERLINK("http://evil", "x")`` would run as a formula when the file is
opened. Text that begins with a character a spreadsheet treats as the start of a formula is prefixed with an
apostrophe, the OWASP-recommended neutralisation: the cell then shows the text as typed and never evaluates it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

# "=", "+", "-", "@" start formulas; tab and carriage return can smuggle one past a naive check in some programs.
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    """``value`` unchanged, or prefixed with ``'`` when it would be read as a formula."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def safe_value(value: Any) -> Any:
    """Neutralise strings (see :func:`safe_text`); every other value passes through untouched."""
    return safe_text(value) if isinstance(value, str) else value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text columns are neutralised (numbers stay numbers); for CSV exports."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column].dtype):
            out[column] = out[column].map(safe_value)
    return out
