"""A CSV file as columns of text, read with Arrow when the file is regular, and numbers parsed a column at a time.

The price loader works on columns: :func:`read_columns` gives a :class:`ColumnTable` of trimmed Arrow string
arrays. A regular file (UTF-8, one record per line, no blank rows) is split by Arrow's multithreaded CSV reader,
in a few seconds and a few times the file's size in memory for 2,000,000 rows; anything else (other encodings,
quoted line breaks, blank or short rows, a field count that does not match the header) is read by
:func:`core.data.csv_table.read_table`, row by row, which gives the same table or the exact error message. Row
numbers are file lines in both cases.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from core.data.csv_table import (
    MISSING_NUMBERS,
    find_header,
    looks_binary,
    parse_numbers,
    read_bytes,
    source_name,
    table_of_text,
    text_of,
    uses_decimal_comma,
)
from core.data.text_columns import as_objects, in_set, is_ascii, matches, text_column

# RE2 twins of csv_table's patterns, applied only to ASCII columns (where they match what Python's re matches).
_PLAIN_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"  # what float() reads and Arrow's cast reads alike
_THOUSANDS_COMMA = r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$"
_DECIMAL_COMMA = r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$"
_DOT_DECIMAL = r"\.(\d{1,2}|\d{4,})$"
_NOT_UTF8_STARTS = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_SAMPLE_BYTES = 65536
_HEADER_SEARCH_LINES = 2000  # as csv_table: the header is found among the first lines
_TRAILING_BLANK = b" \t\r\n"
_ARROW_BLOCK_BYTES = 16 << 20  # Arrow reads in blocks of this size, one per thread


@dataclass(frozen=True)
class ColumnTable:
    """A CSV split into columns. ``columns[j][i]`` is field ``j`` of row ``i`` (trimmed); ``lines[i]`` is the file
    line (1-based) of row ``i``."""

    source: str
    header: list[str]
    header_line: int
    columns: list[pa.StringArray]
    lines: np.ndarray
    delimiter: str

    def column(self, pos: int) -> pa.StringArray:
        return self.columns[pos]

    def __len__(self) -> int:
        return len(self.lines)


def read_columns(
    path_or_buffer: object, looks_like_header: Callable[[Sequence[str]], bool], *, max_mb: float | None = None
) -> ColumnTable:
    """Read a CSV into a :class:`ColumnTable`; the rules (header search, blank rows, field counts, messages) are
    those of :func:`core.data.csv_table.read_table`. ``max_mb``: see :func:`core.data.csv_table.size_limit_mb`."""
    source = source_name(path_or_buffer)
    data = read_bytes(path_or_buffer, source, max_mb)
    if isinstance(data, bytes):
        table = _read_with_arrow(data, source, looks_like_header)
        if table is not None:
            return table
    raw = table_of_text(text_of(data, source), source, looks_like_header)
    width = len(raw.header)
    columns = [text_column([row[j] for row in raw.rows]) for j in range(width)]
    return ColumnTable(
        raw.source, raw.header, raw.header_line, columns, np.asarray(raw.lines, dtype=np.int64), raw.delimiter
    )


def _read_with_arrow(
    data: bytes, source: str, looks_like_header: Callable[[Sequence[str]], bool]
) -> ColumnTable | None:
    """The table, if the file is regular enough for Arrow to split it exactly as ``read_table`` would; else None."""
    if data.startswith(_NOT_UTF8_STARTS) or b"\x00" in data[:_SAMPLE_BYTES]:
        return None
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None  # lone carriage returns end lines for the row reader, not for Arrow
    head_end = start
    for _ in range(_HEADER_SEARCH_LINES):
        found = data.find(b"\n", head_end)
        if found < 0:
            head_end = len(data)  # a short file: the header search sees all of it
            break
        head_end = found + 1
    try:
        head = data[start:head_end].decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not head.strip() or looks_binary(head[:_SAMPLE_BYTES]):
        return None
    lines = head.replace("\r\n", "\n").split("\n")
    header_line, delimiter = find_header(lines, looks_like_header)
    if any('"' in line for line in lines[: header_line - 1]) or lines[header_line - 1].count('"') % 2:
        return None  # a quoted field before the rows could span lines
    header = next(csv.reader(io.StringIO(lines[header_line - 1]), delimiter=delimiter), [])
    if not header:
        return None
    body = start
    for _ in range(header_line):
        found = data.find(b"\n", body)
        if found < 0:
            return None  # nothing below the header
        body = found + 1
    end = len(data)
    while end > body and data[end - 1] in _TRAILING_BLANK:
        end -= 1
    if end <= body:
        return None
    names = [f"f{j}" for j in range(len(header))]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(data).slice(body, end - body)),
            read_options=pacsv.ReadOptions(column_names=names, block_size=_ARROW_BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, quote_char='"', double_quote=True, escape_char=False,
                newlines_in_values=False, ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False,
                quoted_strings_can_be_null=False, check_utf8=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # a short or long row, a bad quote, invalid UTF-8: the row reader says which line
    if table.num_rows != data.count(b"\n", body, end) + 1:
        return None  # a line break inside quotes: one record spans lines
    columns = []
    blank = None
    for name in names:
        column = text_column(table.column(name))
        empty = pc.equal(column, "")
        blank = empty if blank is None else pc.and_(blank, empty)
        columns.append(column)
    del table
    if pc.any(blank).as_py():
        return None  # the row reader skips rows of empty fields (and numbers lines without them)
    lines_of_rows = np.arange(header_line + 1, header_line + 1 + len(columns[0]), dtype=np.int64)
    return ColumnTable(source, [f.strip() for f in header], header_line, columns, lines_of_rows, delimiter)


def _cleaned(column: pa.Array) -> pa.Array:
    # csv_table._cleaned for ASCII text: no currency sign but "$", no non-breaking space.
    return pc.replace_substring(pc.utf8_ltrim(column, characters="$"), " ", "")


def columns_use_decimal_comma(columns: Sequence[pa.Array], delimiter: str) -> bool:
    """:func:`core.data.csv_table.uses_decimal_comma` for Arrow columns."""
    if delimiter == ",":
        return False
    if not all(is_ascii(c) for c in columns):
        return uses_decimal_comma([c.to_pylist() for c in columns], delimiter)
    has_comma = dot_decimal = False
    fits = True
    for column in columns:
        cleaned = _cleaned(column)
        present = ~in_set(cleaned, MISSING_NUMBERS)
        has_comma |= bool((present & matches(cleaned, ",")).any())
        dot_decimal |= bool((present & matches(cleaned, _DOT_DECIMAL)).any())
        fits &= bool((~present | matches(cleaned, _DECIMAL_COMMA)).all())
    return has_comma and not dot_decimal and fits


def parse_number_column(
    column: pa.Array, what: str, lines: Sequence[int], where: str, *, decimal_comma: bool = False
) -> np.ndarray:
    """:func:`core.data.csv_table.parse_numbers` for an Arrow column: one cast for a column of plain numbers; the
    per-value parser for anything else, so that every message (and every odd spelling it accepts) is the same."""
    if is_ascii(column):
        if not decimal_comma and matches(column, _PLAIN_NUMBER).all():  # the usual case: nothing to clean
            return column.cast(pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
        cleaned = _cleaned(column)
        if decimal_comma:
            cleaned = pc.replace_substring(pc.replace_substring(cleaned, ".", ""), ",", ".")
        else:
            thousands = pa.array(matches(cleaned, _THOUSANDS_COMMA))
            cleaned = pc.if_else(thousands, pc.replace_substring(cleaned, ",", ""), cleaned)
        missing = in_set(cleaned, MISSING_NUMBERS)
        if bool((missing | matches(cleaned, _PLAIN_NUMBER)).all()):
            numbers = pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), cleaned).cast(pa.float64())
            return numbers.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    return parse_numbers(as_objects(column), what, lines, where, decimal_comma=decimal_comma)
