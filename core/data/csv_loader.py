"""Loading prices and dividends from the CSV files people actually have.

Layouts understood: Yahoo Finance (``Date,Open,High,Low,Close,Adj Close,Volume``), Stooq
(``Date,Open,High,Low,Close,Volume``), MetaStock ASCII (``<DATE>,<TIME>,...``), broker exports with a
``Datetime``/``Timestamp``/``Time`` column or separate ``Date`` and ``Time`` columns, an unnamed index column (a
pandas ``to_csv``), any header case, comma/semicolon/tab/pipe separators, thousands separators, quotes, naive or
offset timestamps, newest-first files. Row numbers in error messages are line numbers of the file (the header is
usually line 1), also when the rows were re-sorted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.data.columns import DIVIDEND_ALIASES, PRICE_ALIASES, assign_roles, is_unnamed, normalise_name
from core.data.csv_columns import ColumnTable, columns_use_decimal_comma, parse_number_column, read_columns
from core.data.csv_table import UPLOADED, RawTable, parse_numbers, read_table, source_name, uses_decimal_comma
from core.data.dividends import normalise_dividends
from core.data.market_data import MarketData, finish_dividends, finish_prices
from core.data.text_columns import ASCII_SPACE_CLASS, is_ascii, matches, text_column
from core.data.timestamps import check_timezone, infer_interval, parse_dates, parse_timestamps
from core.errors import DataError
from core.validation import validate_dividends, validate_prices

_TIME_ONLY = re.compile(
    r"^(\d{1,2}:\d{2}(:\d{2}([.,]\d+)?)?(\s*[ap]\.?m\.?)?|\d{4}|\d{6})(\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2}))?$",
    re.IGNORECASE,
)
# RE2 twin of _TIME_ONLY for ASCII columns (see core.data.text_columns).
_TIME_ONLY_RE2 = (
    r"(?i)^(\d{1,2}:\d{2}(:\d{2}([.,]\d+)?)?(" + ASCII_SPACE_CLASS + r"*[ap]\.?m\.?)?|\d{4}|\d{6})("
    + ASCII_SPACE_CLASS + r"*(Z|UTC|GMT|[+-]\d{2}:?\d{2}))?$"
)
_DATE_ROLES = ("datetime", "date", "time")
_PRICE_HEADER_KEYS = PRICE_ALIASES["datetime"] | PRICE_ALIASES["date"] | PRICE_ALIASES["time"]
_DIVIDEND_HEADER_KEYS = DIVIDEND_ALIASES["ex_date"] | DIVIDEND_ALIASES["amount"]
_TICKER_LIKE = re.compile(r"^[A-Za-z0-9.^=-]{1,10}$")  # "AAPL", "BRK-B", "^GSPC", "7203.T"


def _price_header(fields: Sequence[str]) -> bool:
    keys = {normalise_name(f) for f in fields}
    return bool(keys & _PRICE_HEADER_KEYS) and bool(keys & (PRICE_ALIASES["close"] | PRICE_ALIASES["adj_close"]))


def _dividend_header(fields: Sequence[str]) -> bool:
    keys = {normalise_name(f) for f in fields}
    return bool(keys & _DIVIDEND_HEADER_KEYS)


def _columns_text(table: RawTable | ColumnTable) -> str:
    return ", ".join(repr(h) for h in table.header)


def _single(table: RawTable | ColumnTable, roles: dict[str, list[int]], role: str, label: str) -> int | None:
    positions = roles.get(role, [])
    if len(positions) > 1:
        names = " and ".join(repr(table.header[p]) for p in positions)
        raise DataError(
            f"{table.source}: ambiguous {label}: columns {names} (header, line {table.header_line}) both look like "
            f"the {label}; remove or rename one"
        )
    return positions[0] if positions else None


def _time_of_day(value: str) -> str:
    value = value.strip()
    if value.isdigit() and len(value) == 6:  # MetaStock <TIME> 093000
        return f"{value[:2]}:{value[2:4]}:{value[4:]}"
    if value.isdigit() and len(value) == 4:
        return f"{value[:2]}:{value[2:]}"
    return value


def _date_and_time(dates: pa.Array, times: pa.Array) -> pa.Array | None:
    """``"date time"`` per row (just the date where either is empty), or None when the time column holds more than
    times of day."""
    if not (is_ascii(dates) and is_ascii(times)):
        date_list, time_list = dates.to_pylist(), times.to_pylist()
        if not all(_TIME_ONLY.match(t) for t in time_list if t):
            return None
        return text_column([
            f"{d} {_time_of_day(t)}" if d and t else d for d, t in zip(date_list, time_list, strict=True)
        ])
    present = pc.not_equal(times, "").to_numpy(zero_copy_only=False)
    if not (~present | matches(times, _TIME_ONLY_RE2)).all():
        return None

    def part(a: int, b: int) -> pa.Array:
        return pc.utf8_slice_codeunits(times, a, b)

    # MetaStock writes 093000 and 0930: the vectorised _time_of_day.
    six = pa.array(matches(times, r"^\d{6}$"))
    four = pa.array(matches(times, r"^\d{4}$"))
    clock = pc.if_else(
        six, pc.binary_join_element_wise(part(0, 2), part(2, 4), part(4, 6), ":"),
        pc.if_else(four, pc.binary_join_element_wise(part(0, 2), part(2, 4), ":"), times),
    )
    both = pc.and_(pc.not_equal(dates, ""), pa.array(present))
    return pc.if_else(both, pc.binary_join_element_wise(dates, clock, " "), dates)


def _timestamp_strings(table: ColumnTable, roles: dict[str, list[int]]) -> tuple[pa.Array, str]:
    """The raw timestamp text of each row and a word for messages (date/timestamp)."""
    dt = _single(table, roles, "datetime", "timestamp column")
    date = _single(table, roles, "date", "date column")
    time = _single(table, roles, "time", "time column")
    if dt is not None:
        return table.column(dt), "timestamp"
    if date is not None and time is not None:
        combined = _date_and_time(table.column(date), table.column(time))
        if combined is not None:
            return combined, "date and time"
        return table.column(time), "timestamp"  # a "Time" column that holds full timestamps
    if date is not None:
        return table.column(date), "date"
    if time is not None:
        return table.column(time), "timestamp"
    if table.header and is_unnamed(table.header[0]):
        return table.column(0), "date"  # pandas to_csv writes the index as an unnamed first column
    raise DataError(
        f"{table.source}: no date column in the header (line {table.header_line}): found {_columns_text(table)}; "
        "expected one named Date, Datetime, Time or Timestamp"
    )


def _symbol(table: ColumnTable, roles: dict[str, list[int]], symbol: str | None) -> str:
    if symbol:
        return str(symbol).strip()
    pos = roles.get("symbol")
    if pos:
        values = {v for v in pc.unique(table.column(pos[0])).to_pylist() if v}
        if len(values) == 1:
            return values.pop()
    if table.source != UPLOADED:
        stem = Path(table.source).stem
        return stem.upper() if _TICKER_LIKE.match(stem) else stem
    return "CSV"


def _coerce_dividends(dividends: object) -> pd.DataFrame:
    if dividends is None:
        return finish_dividends(None)
    if isinstance(dividends, pd.DataFrame | pd.Series):
        return normalise_dividends(dividends)
    return load_dividends_csv(dividends)


def load_csv(
    path_or_buffer: object,
    *,
    dividends: object = None,
    symbol: str | None = None,
    timezone: str = "America/New_York",
    max_mb: float | None = None,
) -> MarketData:
    """Load a price CSV into :class:`MarketData` (``source="csv"``).

    Args:
        path_or_buffer: a path, raw bytes, or an open/uploaded file (text or binary; read from the start).
        dividends: optional dividends as a DataFrame/Series (see :func:`normalise_dividends`) or a CSV path or
            buffer for :func:`load_dividends_csv`.
        symbol: ticker to record; default: a ``Symbol``/``Ticker`` column, else the file name.
        timezone: exchange time zone (an IANA name such as ``"America/New_York"`` or ``"UTC"``): sessions and
            calendar days are this zone's (docs/strategy.md §9). Naive timestamps are taken as its wall time and
            must exist there unambiguously (the hour repeated or skipped at a DST change is refused, naming the
            row); aware intraday timestamps are converted to it (a tz-aware index when bars fall in a repeated
            hour); aware daily timestamps keep their dates.
        max_mb: size limit of the file in MB, checked before reading; default ``$VBL_MAX_CSV_MB`` or 500.

    The close is the ``Close`` column (also spelt ``Last``, ``Price``, ``Close/Last``). With ``Close`` and ``Adj
    Close`` both present the raw ``Close`` is used and ``price_basis`` is ``"split_adjusted"``; with only ``Adj
    Close`` it is ``"dividend_adjusted"``; with only ``Close`` it is ``"unknown"`` (a vendor may or may not have
    adjusted it). Rows are sorted oldest first; the interval is inferred from the median bar spacing.

    Raises:
        DataError: for anything wrong with the file; the message names the file, the row (its line in the file)
            and the problem, e.g. ``"prices.csv: row 14 (2020-01-17 00:00:00): close must be positive, got -3.0"``.
    """
    try:
        return _load_csv(path_or_buffer, dividends, symbol, timezone, max_mb)
    except DataError:
        raise
    except Exception as exc:  # a parser bug must still reach the user as one readable DataError
        raise _unexpected(path_or_buffer, exc) from exc


def _unexpected(path_or_buffer: object, exc: Exception) -> DataError:
    return DataError(f"{source_name(path_or_buffer)}: could not read the file ({type(exc).__name__}: {exc})")


def _load_csv(
    path_or_buffer: object, dividends: object, symbol: str | None, timezone: str, max_mb: float | None
) -> MarketData:
    tz = check_timezone(timezone)
    table = read_columns(path_or_buffer, _price_header, max_mb=max_mb)
    where = f"{table.source}: "
    roles = assign_roles(table.header, PRICE_ALIASES)
    close_pos = _single(table, roles, "close", "close")
    adj_pos = _single(table, roles, "adj_close", "adjusted close")
    if close_pos is not None:
        basis = "split_adjusted" if adj_pos is not None else "unknown"
    elif adj_pos is not None:
        close_pos, basis = adj_pos, "dividend_adjusted"
    else:
        raise DataError(
            f"{where}no close column in the header (line {table.header_line}): found {_columns_text(table)}; "
            "expected one named Close, Adj Close, Last or Price"
        )
    columns = {"close": close_pos}
    for name in ("open", "high", "low", "volume"):
        pos = _single(table, roles, name, name)
        if pos is not None:
            columns[name] = pos
    stamps_text, what = _timestamp_strings(table, roles)
    if not len(table):
        raise DataError(f"{where}the price data is empty: no rows below the header (line {table.header_line})")

    lines = table.lines
    stamps = parse_timestamps(stamps_text, lines, where, tz, what=what)
    decimal_comma = columns_use_decimal_comma([table.column(pos) for pos in columns.values()], table.delimiter)
    data = {
        name: parse_number_column(table.column(pos), name, lines, where, decimal_comma=decimal_comma)
        for name, pos in columns.items()
    }
    if "volume" in data and np.isnan(data["volume"]).all():
        del data["volume"]  # an empty volume column carries no information
    sym = _symbol(table, roles, symbol)
    source = table.source
    del table, stamps_text  # the text of a big file is its size again in memory: free it before building the frame

    if stamps.is_monotonic_increasing:  # oldest first already: spare a reordered copy of every column
        prices = pd.DataFrame(data, index=stamps)
        row_labels = lines
    else:
        order = np.argsort(stamps.asi8, kind="stable")  # newest-first files; ties stay in file order
        prices = pd.DataFrame({k: v[order] for k, v in data.items()}, index=stamps[order])
        row_labels = lines[order]
    del data
    prices = finish_prices(prices)
    validate_prices(prices, source, row_labels=row_labels)

    divs = _coerce_dividends(dividends)
    interval = infer_interval(prices.index)
    label = Path(source).name if source != UPLOADED else UPLOADED
    return MarketData(
        prices=prices,
        dividends=divs,
        symbol=sym,
        name=f"{sym} {interval} {prices.index[0]:%Y-%m-%d}–{prices.index[-1]:%Y-%m-%d} (CSV: {label})",
        interval=interval,
        price_basis=basis,
        source="csv",
        timezone=tz,
        splits=None,
    )


def load_dividends_csv(path_or_buffer: object, *, max_mb: float | None = None) -> pd.DataFrame:
    """Load dividends from a CSV into a frame ``ex_date, amount, pay_date`` sorted by ex-date.

    Columns are recognised by name: ex-date as ``Ex Date``/``ex_date``/``Ex-Dividend Date`` or plain ``Date``
    (Yahoo's dividend export); amount as ``Dividends``/``Dividend``/``Amount``/``Cash Amount``; optional pay date
    as ``Pay Date``/``Payment Date``/``pay_date``. Dates keep the calendar date written (any time or offset is
    dropped); a missing pay date is ``NaT``. A file with a header and no rows means "no dividends". ``max_mb``: size
    limit, as for :func:`load_csv`.

    Raises:
        DataError: naming the file, the row (file line) and the problem, e.g. a negative amount.
    """
    try:
        return _load_dividends_csv(path_or_buffer, max_mb)
    except DataError:
        raise
    except Exception as exc:  # see load_csv
        raise _unexpected(path_or_buffer, exc) from exc


def _load_dividends_csv(path_or_buffer: object, max_mb: float | None) -> pd.DataFrame:
    # Dividend files are small: the row reader, with its per-value messages, is all they need.
    table = read_table(path_or_buffer, _dividend_header, max_mb=max_mb)
    where = f"{table.source}: "
    roles = assign_roles(table.header, DIVIDEND_ALIASES)
    ex_pos = _single(table, roles, "ex_date", "ex-date")
    if ex_pos is None:
        ex_pos = _single(table, roles, "date", "ex-date")
    if ex_pos is None and table.header and is_unnamed(table.header[0]):
        ex_pos = 0
    if ex_pos is None:
        raise DataError(
            f"{where}no ex-date column in the header (line {table.header_line}): found {_columns_text(table)}; "
            "expected one named Ex Date, ex_date or Date"
        )
    amount_pos = _single(table, roles, "amount", "dividend amount")
    if amount_pos is None:
        raise DataError(
            f"{where}no dividend amount column in the header (line {table.header_line}): found "
            f"{_columns_text(table)}; expected one named Dividends, Dividend or Amount"
        )
    pay_pos = _single(table, roles, "pay_date", "pay date")
    if not table.rows:
        return finish_dividends(None)

    lines = table.lines
    ex = parse_dates(table.column(ex_pos), lines, where, what="ex-date", required=True)
    amount_text = table.column(amount_pos)
    decimal_comma = uses_decimal_comma([amount_text], table.delimiter)
    amount = parse_numbers(amount_text, "dividend amount", lines, where, decimal_comma=decimal_comma)
    for i, value in enumerate(amount):
        row = f"{where}row {lines[i]} ({ex[i]:%Y-%m-%d})"
        if not np.isfinite(value):
            raise DataError(f"{row}: the dividend amount is missing")
        if value < 0:
            raise DataError(f"{row}: dividend amount must not be negative, got {value}")
    pay = (
        parse_dates(table.column(pay_pos), lines, where, what="pay date", required=False)
        if pay_pos is not None
        else pd.DatetimeIndex([pd.NaT] * len(lines))
    )
    frame = pd.DataFrame({"ex_date": ex, "amount": amount, "pay_date": pay})
    validate_dividends(frame, table.source)  # the shared checks, as a safety net behind the ones above
    return finish_dividends(frame)
