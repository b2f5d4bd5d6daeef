"""CSV columns as Arrow string arrays, and the vectorised text operations the loaders run on them.

A column is a ``pyarrow.StringArray`` of the fields as written, trimmed exactly as ``str.strip`` trims. Loading a
2,000,000-row file used to spend its time in per-field Python (``strip``, regular expressions, ``float``); here each
step is one Arrow kernel over the whole column. Arrow's regular expressions (RE2) read ``\\d`` and ``\\s`` as ASCII
only while Python's read any Unicode digit or space, so callers take the vectorised route only for ASCII columns
(:func:`is_ascii`) and keep their exact per-value Python code for the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Every character str.isspace() accepts, so that trimming here equals str.strip() (Arrow's own notion differs).
PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)
# The ASCII part, for RE2 patterns standing in for Python's \s.
ASCII_SPACE_CLASS = r"[\t\n\x0b\x0c\r\x1c-\x1f ]"


def text_column(values: Sequence[str] | pa.Array | pa.ChunkedArray) -> pa.StringArray:
    """``values`` as one trimmed Arrow string array (``None`` becomes ``""``)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not isinstance(values, pa.Array):
        values = pa.array(["" if v is None else str(v) for v in values], type=pa.string())
    if values.type != pa.string():
        values = values.cast(pa.string())
    if values.null_count:
        values = pc.fill_null(values, "")
    if is_ascii(values) and not matches(values, f"^{ASCII_SPACE_CLASS}|{ASCII_SPACE_CLASS}$").any():
        return values  # nothing to trim: spare a copy of the column (a big file's columns are its size again)
    return pc.utf8_trim(values, characters=PY_WHITESPACE)


def is_ascii(column: pa.Array) -> bool:
    """True when every value of the string column is plain ASCII (vectorised regexes then match Python's)."""
    return len(column) == 0 or bool(pc.all(pc.string_is_ascii(column)).as_py())


def as_objects(column: pa.Array) -> np.ndarray:
    """The column as a NumPy array of Python strings (what pandas' parsers and the per-value fallbacks take)."""
    return column.to_numpy(zero_copy_only=False).astype(object, copy=False)


def in_set(column: pa.Array, tokens: Iterable[str], *, lower: bool = True) -> np.ndarray:
    """Boolean mask: the (lower-cased) value is one of ``tokens``."""
    keys = pc.utf8_lower(column) if lower else column
    mask = pc.is_in(keys, value_set=pa.array(sorted(tokens), type=pa.string()))
    return mask.to_numpy(zero_copy_only=False)


def matches(column: pa.Array, pattern: str) -> np.ndarray:
    """Boolean mask: the RE2 ``pattern`` is found in the value (anchor it with ``^...$`` for a full match)."""
    return pc.match_substring_regex(column, pattern).to_numpy(zero_copy_only=False)


def first_true(mask: np.ndarray) -> int | None:
    """Position of the first True in ``mask``, or ``None``."""
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None
