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

from core.data.columns import DIVIDEND_ALIASES, PRICE_ALIASES, assign_roles, is_unnamed, normalise_name
from core.data.csv_table import UPLOADED, RawTable, parse_numbers, read_table, source_name, uses_decimal_comma
from core.data.dividends import normalise_dividends
from core.data.market_data import MarketData, finish_dividends, finish_prices
from core.data.timestamps import check_timezone, infer_interval, parse_dates, parse_timestamps
from core.errors import DataError
from core.validation import validate_dividends, validate_prices

_TIME_ONLY = re.compile(
    r"^(\d{1,2}:\d{2}(:\d{2}([.,]\d+)?)?(\s*[ap]\.?m\.?)?|\d{4}|\d{6})(\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2}))?$",
    re.IGNORECASE,
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


def _columns_text(table: RawTable) -> str:
    return ", ".join(repr(h) for h in table.header)


def _single(table: RawTable, roles: dict[str, list[int]], role: str, label: str) -> int | None:
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


def _timestamp_strings(table: RawTable, roles: dict[str, list[int]]) -> tuple[list[str], str]:
    """The raw timestamp text of each row and a word for messages (date/timestamp)."""
    dt = _single(table, roles, "datetime", "timestamp column")
    date = _single(table, roles, "date", "date column")
    time = _single(table, roles, "time", "time column")
    if dt is not None:
        return table.column(dt), "timestamp"
    if date is not None and time is not None:
        times = table.column(time)
        if all(_TIME_ONLY.match(t.strip()) for t in times if t.strip()):
            dates = table.column(date)
            return [
                f"{d.strip()} {_time_of_day(t)}" if d.strip() and t.strip() else d.strip()
                for d, t in zip(dates, times, strict=True)
            ], "date and time"
        return times, "timestamp"  # a "Time" column that holds full timestamps
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


def _symbol(table: RawTable, roles: dict[str, list[int]], symbol: str | None) -> str:
    if symbol:
        return str(symbol).strip()
    pos = roles.get("symbol")
    if pos:
        values = {v.strip() for v in table.column(pos[0]) if v.strip()}
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
) -> MarketData:
    """Load a price CSV into :class:`MarketData` (``source="csv"``).

    Args:
        path_or_buffer: a path, raw bytes, or an open/uploaded file (text or binary; read from the start).
        dividends: optional dividends as a DataFrame/Series (see :func:`normalise_dividends`) or a CSV path or
            buffer for :func:`load_dividends_csv`.
        symbol: ticker to record; default: a ``Symbol``/``Ticker`` column, else the file name.
        timezone: exchange time zone. Naive timestamps are taken as this zone's local time; aware intraday
            timestamps are converted to it; aware daily timestamps keep their dates.

    The close is the ``Close`` column (also spelt ``Last``, ``Price``, ``Close/Last``). With ``Close`` and ``Adj
    Close`` both present the raw ``Close`` is used and ``price_basis`` is ``"split_adjusted"``; with only ``Adj
    Close`` it is ``"dividend_adjusted"``; with only ``Close`` it is ``"unknown"`` (a vendor may or may not have
    adjusted it). Rows are sorted oldest first; the interval is inferred from the median bar spacing.

    Raises:
        DataError: for anything wrong with the file; the message names the file, the row (its line in the file)
            and the problem, e.g. ``"prices.csv: row 14 (2020-01-17 00:00:00): close must be positive, got -3.0"``.
    """
    try:
        return _load_csv(path_or_buffer, dividends, symbol, timezone)
    except DataError:
        raise
    except Exception as exc:  # a parser bug must still reach the user as one readable DataError
        raise _unexpected(path_or_buffer, exc) from exc


def _unexpected(path_or_buffer: object, exc: Exception) -> DataError:
    return DataError(f"{source_name(path_or_buffer)}: could not read the file ({type(exc).__name__}: {exc})")


def _load_csv(path_or_buffer: object, dividends: object, symbol: str | None, timezone: str) -> MarketData:
    tz = check_timezone(timezone)
    table = read_table(path_or_buffer, _price_header)
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
    if not table.rows:
        raise DataError(f"{where}the price data is empty: no rows below the header (line {table.header_line})")

    lines = np.asarray(table.lines)
    stamps = parse_timestamps(stamps_text, lines, where, tz, what=what)
    decimal_comma = uses_decimal_comma([table.column(pos) for pos in columns.values()], table.delimiter)
    data = {
        name: parse_numbers(table.column(pos), name, lines, where, decimal_comma=decimal_comma)
        for name, pos in columns.items()
    }
    if "volume" in data and np.isnan(data["volume"]).all():
        del data["volume"]  # an empty volume column carries no information

    order = np.argsort(stamps.asi8, kind="stable")  # newest-first files; ties stay in file order
    prices = pd.DataFrame({k: v[order] for k, v in data.items()}, index=stamps[order])
    prices = finish_prices(prices)
    sorted_lines = lines[order].tolist()
    validate_prices(prices, table.source, row_labels=sorted_lines)

    divs = _coerce_dividends(dividends)
    interval = infer_interval(prices.index)
    sym = _symbol(table, roles, symbol)
    label = Path(table.source).name if table.source != UPLOADED else UPLOADED
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


def load_dividends_csv(path_or_buffer: object) -> pd.DataFrame:
    """Load dividends from a CSV into a frame ``ex_date, amount, pay_date`` sorted by ex-date.

    Columns are recognised by name: ex-date as ``Ex Date``/``ex_date``/``Ex-Dividend Date`` or plain ``Date``
    (Yahoo's dividend export); amount as ``Dividends``/``Dividend``/``Amount``/``Cash Amount``; optional pay date
    as ``Pay Date``/``Payment Date``/``pay_date``. Dates keep the calendar date written (any time or offset is
    dropped); a missing pay date is ``NaT``. A file with a header and no rows means "no dividends".

    Raises:
        DataError: naming the file, the row (file line) and the problem, e.g. a negative amount.
    """
    try:
        return _load_dividends_csv(path_or_buffer)
    except DataError:
        raise
    except Exception as exc:  # see load_csv
        raise _unexpected(path_or_buffer, exc) from exc


def _load_dividends_csv(path_or_buffer: object) -> pd.DataFrame:
    table = read_table(path_or_buffer, _dividend_header)
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
