"""Turning a CSV file (path, upload or bytes) into a table of strings that remembers each row's file line.

Nothing here knows about prices: it decodes the bytes, refuses binary junk and empty files, finds the header
(skipping a short preamble some brokers write), guesses the delimiter and splits the rows. Every failure is a
``DataError`` that names the file; no parser exception escapes. A file larger than the size limit
(``$VBL_MAX_CSV_MB``, default 500 MB, or the caller's ``max_mb``) is refused before it is read.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import DataError

UPLOADED = "uploaded file"
MAX_CSV_MB_ENV = "VBL_MAX_CSV_MB"
DEFAULT_MAX_CSV_MB = 500.0  # a 2,000,000-row intraday file is about 120 MB; loading takes a few times that in memory
_BYTES_PER_MB = 1_000_000
_READ_CHUNK = 1 << 20  # a stream of unknown size is read in pieces of this many bytes (or characters)
_SAMPLE_CHARS = 65536  # how much of the start of a file the binary checks look at
_HEADER_SEARCH_LINES = 2000  # the header is looked for among the non-blank lines of this many first lines
_DELIMITERS = (",", ";", "\t", "|")
_HEADER_SCAN_LINES = 30  # a broker preamble ("Account: ...", "Symbol: ...") is never longer than this
MISSING_NUMBERS = {"", "nan", "null", "none", "n/a", "na", "-", "--"}
_THOUSANDS_COMMA = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$")
_DOT_DECIMAL = re.compile(r"\.(\d{1,2}|\d{4,})$")  # a dot that cannot be a thousands separator


@dataclass(frozen=True)
class RawTable:
    """A CSV split into strings. ``lines[i]`` is the file line (1-based) of ``rows[i]``."""

    source: str
    header: list[str]
    header_line: int
    rows: list[list[str]]
    lines: list[int]
    delimiter: str

    def column(self, pos: int) -> list[str]:
        return [row[pos] for row in self.rows]


def source_name(path_or_buffer: object) -> str:
    """How messages name the input: the path as given, an upload's file name, else ``"uploaded file"``."""
    if isinstance(path_or_buffer, str | os.PathLike):
        return str(path_or_buffer)
    name = getattr(path_or_buffer, "name", None)
    if isinstance(name, str) and name and not name.startswith("<"):
        return os.path.basename(name)
    return UPLOADED


def size_limit_mb(max_mb: float | None = None) -> float:
    """The CSV size limit in MB: ``max_mb`` if given, else ``$VBL_MAX_CSV_MB``, else 500. Raises ``DataError`` for a
    limit that is not a positive number."""
    if max_mb is None:
        text = os.environ.get(MAX_CSV_MB_ENV, "").strip()
        if not text:
            return DEFAULT_MAX_CSV_MB
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise DataError(f"{MAX_CSV_MB_ENV}={text!r} is not a size in MB: set it to a positive number such as 500")
        return value
    value = float(max_mb)
    if not (math.isfinite(value) and value > 0):
        raise DataError(f"the CSV size limit must be a positive number of MB, got {max_mb!r}")
    return value


def _refuse_size(source: str, size: int, limit_mb: float, *, at_least: bool = False) -> None:
    if size > limit_mb * _BYTES_PER_MB:
        shown = f"{size / _BYTES_PER_MB:,.1f} MB" if size >= _BYTES_PER_MB else f"{size:,} bytes"
        raise DataError(
            f"{source}: the file is {'at least ' if at_least else ''}{shown}, above the {limit_mb:,g} MB limit for "
            f"CSV files; split it, or raise the limit with {MAX_CSV_MB_ENV} (or max_mb=) if this machine has a few "
            "times that in memory"
        )


def _buffer_size(buffer: object) -> int | None:
    """Bytes from the current position of a seekable file to its end, without reading it; ``None`` if unknown."""
    try:
        if not buffer.seekable():  # type: ignore[attr-defined]
            return None
        here = buffer.tell()  # type: ignore[attr-defined]
        end = buffer.seek(0, io.SEEK_END)  # type: ignore[attr-defined]
        buffer.seek(here)  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return None
    return end


def _read_up_to(read: Callable[..., object], source: str, limit_mb: float) -> object:
    """All of a stream of unknown size (a pipe, a socket), read in chunks and refused as soon as it passes the limit."""
    try:
        first = read(_READ_CHUNK)
    except TypeError:  # a read() without a size: all at once, then checked
        first = read()
        if isinstance(first, bytes | bytearray | str):
            _refuse_size(source, len(first), limit_mb)
        return first
    if not isinstance(first, bytes | bytearray | str):
        return first
    chunks, total = [first], len(first)
    while chunks[-1]:
        if total > limit_mb * _BYTES_PER_MB:
            _refuse_size(source, total, limit_mb, at_least=True)
        chunks.append(read(_READ_CHUNK))
        total += len(chunks[-1])
    return chunks[0][:0].join(chunks)


def read_bytes(path_or_buffer: object, source: str, max_mb: float | None = None) -> bytes | str:
    """The raw content of a path, bytes or file-like object (text files give ``str``), refused with ``DataError``
    when it is larger than :func:`size_limit_mb` — checked before reading wherever the size is known up front."""
    limit = size_limit_mb(max_mb)
    if isinstance(path_or_buffer, bytes | bytearray | memoryview):
        _refuse_size(source, len(path_or_buffer), limit)
        return bytes(path_or_buffer)
    if isinstance(path_or_buffer, str | os.PathLike):
        path = Path(path_or_buffer)
        try:
            if path.is_file():
                _refuse_size(source, path.stat().st_size, limit)
            return path.read_bytes()
        except FileNotFoundError:
            raise DataError(f"{source}: file not found") from None
        except IsADirectoryError:
            raise DataError(f"{source}: is a directory, not a CSV file") from None
        except OSError as exc:
            raise DataError(f"{source}: cannot read the file ({exc.strerror or exc})") from None
    read = getattr(path_or_buffer, "read", None)
    if not callable(read):
        raise DataError(
            f"cannot read CSV data from a {type(path_or_buffer).__name__}: pass a path, bytes or an open file"
        )
    try:
        # An upload may already have been read once (Streamlit reruns): always read it from the start.
        if getattr(path_or_buffer, "seekable", lambda: False)():
            path_or_buffer.seek(0)
        size = _buffer_size(path_or_buffer)
    except (OSError, ValueError) as exc:
        raise DataError(f"{source}: cannot read the file ({exc})") from None
    if size is not None:
        _refuse_size(source, size, limit)  # a text buffer counts characters: close enough for a limit
    try:
        data = read() if size is not None else _read_up_to(read, source, limit)
    except DataError:
        raise
    except (OSError, ValueError) as exc:
        raise DataError(f"{source}: cannot read the file ({exc})") from None
    if not isinstance(data, bytes | bytearray | str):
        raise DataError(f"{source}: reading the file gave {type(data).__name__}, not text")
    return data if isinstance(data, str) else bytes(data)


def _decode(data: bytes, source: str) -> str:
    head = data[:8]
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise DataError(f"{source}: this is an Excel workbook or a zip archive, not a CSV file: save it as CSV first")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise DataError(f"{source}: not a readable text file (broken UTF-16)") from None
    if b"\x00" in data[:_SAMPLE_CHARS]:
        raise DataError(f"{source}: not a CSV text file (it contains binary data)")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")  # never fails; the junk check below catches binary that got this far


def looks_binary(sample: str) -> bool:
    """True when the start of a decoded file has too many control or replacement characters to be a CSV."""
    junk = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\r\n") or ch == "\ufffd")
    return junk > max(2, len(sample) // 100)


def text_of(data: bytes | str, source: str) -> str:
    """Decoded text with a BOM removed and line ends made ``\n``; ``DataError`` for empty or binary content."""
    text = data if isinstance(data, str) else _decode(data, source)
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise DataError(f"{source}: the file is empty")
    if looks_binary(text[:_SAMPLE_CHARS]):
        raise DataError(f"{source}: not a CSV text file (it contains binary data)")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text(path_or_buffer: object, *, max_mb: float | None = None) -> tuple[str, str]:
    """Read a path, bytes or file-like object as text. Returns ``(text, source)``; raises ``DataError``."""
    source = source_name(path_or_buffer)
    return text_of(read_bytes(path_or_buffer, source, max_mb), source), source


def _split_line(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def _best_delimiter(line: str) -> str:
    counts = [line.count(d) for d in _DELIMITERS]
    return _DELIMITERS[int(np.argmax(counts))] if max(counts) > 0 else ","


def find_header(lines: Sequence[str], looks_like_header: Callable[[Sequence[str]], bool]) -> tuple[int, str]:
    """``(line number, delimiter)`` of the header among the first lines of a file (see :func:`read_table`)."""
    nonblank = [(i + 1, line) for i, line in enumerate(lines[:_HEADER_SEARCH_LINES]) if line.strip()]
    nonblank = nonblank[:_HEADER_SCAN_LINES]
    header_line, delimiter = nonblank[0][0], _best_delimiter(nonblank[0][1])
    for number, line in nonblank:
        delim = _best_delimiter(line)
        if looks_like_header([f.strip() for f in _split_line(line, delim)]):
            return number, delim
    return header_line, delimiter


def read_table(
    path_or_buffer: object, looks_like_header: Callable[[Sequence[str]], bool], *, max_mb: float | None = None
) -> RawTable:
    """Read a CSV into a :class:`RawTable`.

    The header is the first of the first 30 non-blank lines for which ``looks_like_header(fields)`` is true, or
    the first non-blank line when none is. Blank rows are skipped; a row with more non-empty fields than the
    header, or fewer fields, raises ``DataError`` naming its line. ``max_mb``: see :func:`size_limit_mb`.
    """
    text, source = read_text(path_or_buffer, max_mb=max_mb)
    return table_of_text(text, source, looks_like_header)


def table_of_text(
    text: str, source: str, looks_like_header: Callable[[Sequence[str]], bool], *, max_rows: int | None = None
) -> RawTable:
    """Split decoded text (see :func:`text_of`) into a :class:`RawTable`, row by row; with ``max_rows`` only the
    first rows (a preview of a big file costs its first lines, not its two million rows)."""
    header_line, delimiter = find_header(text.split("\n", _HEADER_SEARCH_LINES), looks_like_header)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[list[str]] = []
    row_lines: list[int] = []
    try:
        for record in reader:
            number = reader.line_num
            if header is None:
                if number >= header_line and record:
                    header = [f.strip() for f in record]
                continue
            if not any(f.strip() for f in record):
                continue
            if len(record) > len(header):
                if any(f.strip() for f in record[len(header) :]):
                    raise DataError(
                        f"{source}: row {number}: {len(record)} fields but the header (line {header_line}) "
                        f"has {len(header)}"
                    )
                record = record[: len(header)]
            elif len(record) < len(header):
                raise DataError(
                    f"{source}: row {number}: only {len(record)} fields but the header (line {header_line}) "
                    f"has {len(header)}"
                )
            rows.append(record)
            row_lines.append(number)
            if max_rows is not None and len(rows) >= max_rows:
                break
    except csv.Error as exc:
        raise DataError(f"{source}: row {reader.line_num}: malformed CSV ({exc})") from None
    if header is None:  # pragma: no cover - read_text guarantees a non-blank line
        raise DataError(f"{source}: the file is empty")
    return RawTable(source, header, header_line, rows, row_lines, delimiter)


def _cleaned(value: str) -> str:
    return value.strip().lstrip("$€£").replace("\u00a0", "").replace(" ", "")


def uses_decimal_comma(columns: Sequence[Sequence[str]], delimiter: str) -> bool:
    """True when a file not separated by commas writes numbers as ``1.234,5``: some value has a comma and every
    value fits that style. Decided for the whole file, so a volume of ``1.000`` reads as a thousand."""
    if delimiter == ",":
        return False
    values = [v for col in columns for v in map(_cleaned, col) if v.lower() not in MISSING_NUMBERS]
    return (
        any("," in v for v in values)
        and not any(_DOT_DECIMAL.search(v) for v in values)
        and all(_DECIMAL_COMMA.match(v) for v in values)
    )


def parse_numbers(
    values: Sequence[str], what: str, lines: Sequence[int], where: str, *, decimal_comma: bool = False
) -> np.ndarray:
    """Convert strings to floats; missing values (empty, ``null``, ``NaN``, ``-``) become NaN.

    Understands thousands separators (``"1,234.5"``), a currency sign (``"$12.30"``, Nasdaq exports) and, with
    ``decimal_comma`` (see :func:`uses_decimal_comma`), ``"1.234,5"``. Raises ``DataError`` at the first value
    that is not a number.
    """
    out = np.full(len(values), np.nan)
    for i, raw in enumerate(values):
        v = _cleaned(raw)
        if v.lower() in MISSING_NUMBERS:
            continue
        if decimal_comma:
            v = v.replace(".", "").replace(",", ".")
        elif _THOUSANDS_COMMA.match(v):
            v = v.replace(",", "")
        try:
            out[i] = float(v)
        except ValueError:
            raise DataError(f"{where}row {lines[i]}: {what} is not a number ({raw.strip()!r})") from None
    return out
