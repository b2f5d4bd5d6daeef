"""Validation of price bars and dividends (docs/strategy.md §2), shared by the loaders and ``simulate``.

Every check raises :class:`core.errors.DataError` whose message names the source, the problem and the first
offending row, so a user can open the file and fix it. ``row_labels`` lets a loader report the line number of the
original file instead of the position in the (possibly re-sorted) frame.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from core.errors import DataError

PRICE_COLUMNS = ("open", "high", "low", "close")


def _where(source: str | None) -> str:
    return f"{source}: " if source else ""


def _row(df: pd.DataFrame, pos: int, row_labels: Sequence | None) -> str:
    label = row_labels[pos] if row_labels is not None else pos + 1
    stamp = df.index[pos]
    # Daily bars read better as a plain date: "row 14 (2020-01-17)".
    shown = stamp.date().isoformat() if isinstance(stamp, pd.Timestamp) and stamp == stamp.normalize() else stamp
    return f"row {label} ({shown})"


def _first(mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


def validate_prices(
    prices: pd.DataFrame,
    source: str | None = None,
    *,
    require_sorted: bool = True,
    row_labels: Sequence | None = None,
) -> None:
    """Check a normalised price frame: ``DatetimeIndex``, float ``close``, optional ``open/high/low/volume``.

    Raises ``DataError`` for empty data, a missing or ambiguous ``close``, a non-datetime index, non-positive or
    non-finite prices, duplicate or (with ``require_sorted``) decreasing timestamps, ``high < low``, a close outside
    ``[low, high]``, negative volume, or fewer than two bars.
    """
    where = _where(source)
    if not isinstance(prices, pd.DataFrame):
        raise DataError(f"{where}prices must be a pandas DataFrame, got {type(prices).__name__}")
    if prices.empty:
        raise DataError(f"{where}the price data is empty: no rows")
    names = [str(c).lower() for c in prices.columns]
    n_close = names.count("close")
    if n_close == 0:
        raise DataError(f"{where}no 'close' column (columns: {', '.join(map(str, prices.columns))})")
    if n_close > 1:
        raise DataError(f"{where}ambiguous: {n_close} columns are named 'close'")
    if not isinstance(prices.index, pd.DatetimeIndex):
        kind = type(prices.index).__name__
        raise DataError(f"{where}the index must be a DatetimeIndex of bar timestamps, got {kind}")
    bad_time = _first(np.asarray(prices.index.isna()))
    if bad_time is not None:
        raise DataError(f"{where}{_row(prices, bad_time, row_labels)}: missing or unparseable date")
    if len(prices) < 2:
        raise DataError(f"{where}need at least 2 bars, got {len(prices)}")

    cols = {str(c).lower(): c for c in prices.columns}
    values: dict[str, np.ndarray] = {}
    for name in (*PRICE_COLUMNS, "volume"):
        if name not in cols:
            continue
        column = prices[cols[name]]
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            values[name] = column.to_numpy(dtype=float, na_value=np.nan)  # already numbers: no parsing needed
            continue
        try:
            values[name] = pd.to_numeric(column, errors="raise").to_numpy(dtype=float)
        except (TypeError, ValueError):
            converted = pd.to_numeric(prices[cols[name]], errors="coerce")
            pos = _first(converted.isna().to_numpy() & prices[cols[name]].notna().to_numpy())
            pos = 0 if pos is None else pos
            raise DataError(
                f"{where}{_row(prices, pos, row_labels)}: {name} is not a number ({prices[cols[name]].iloc[pos]!r})"
            ) from None
    for name in PRICE_COLUMNS:
        if name not in values:
            continue
        v = values[name]
        pos = _first(~np.isfinite(v))
        if pos is not None:
            raise DataError(f"{where}{_row(prices, pos, row_labels)}: {name} is missing or not finite ({v[pos]})")
        pos = _first(v <= 0)
        if pos is not None:
            raise DataError(f"{where}{_row(prices, pos, row_labels)}: {name} must be positive, got {v[pos]}")

    idx = prices.index
    stamps = idx.asi8
    dup = _first(np.r_[False, stamps[1:] == stamps[:-1]]) if idx.is_monotonic_increasing else None
    if dup is None and idx.has_duplicates:
        dup = _first(np.asarray(idx.duplicated()))
    if dup is not None:
        raise DataError(f"{where}{_row(prices, dup, row_labels)}: duplicate timestamp")
    if require_sorted and not idx.is_monotonic_increasing:
        pos = _first(np.r_[False, stamps[1:] < stamps[:-1]])
        raise DataError(
            f"{where}{_row(prices, pos, row_labels)}: timestamps are not increasing (sort the bars oldest first)"
        )

    if "high" in values and "low" in values:
        pos = _first(values["high"] < values["low"])
        if pos is not None:
            raise DataError(
                f"{where}{_row(prices, pos, row_labels)}: high {values['high'][pos]} is below low {values['low'][pos]}"
            )
    close = values["close"]
    # A tiny relative tolerance: vendors round close and high/low independently.
    if "low" in values:
        pos = _first(close < values["low"] * (1 - 1e-9))
        if pos is not None:
            raise DataError(
                f"{where}{_row(prices, pos, row_labels)}: close {close[pos]} is below the low {values['low'][pos]}"
            )
    if "high" in values:
        pos = _first(close > values["high"] * (1 + 1e-9))
        if pos is not None:
            raise DataError(
                f"{where}{_row(prices, pos, row_labels)}: close {close[pos]} is above the high {values['high'][pos]}"
            )
    if "volume" in values:
        vol = values["volume"]
        pos = _first(vol < 0)
        if pos is not None:
            raise DataError(f"{where}{_row(prices, pos, row_labels)}: volume is negative ({vol[pos]})")


def validate_dividends(dividends: pd.DataFrame, source: str | None = None) -> None:
    """Check a dividends frame with columns ``ex_date``, ``amount`` and optional ``pay_date``.

    Raises ``DataError`` for a missing column, an unparseable or missing ex-date, an unparseable pay date, a pay
    date before its ex-date (docs/strategy.md §5.1: a dividend cannot be paid before it goes ex; the position
    ledger refuses the same booking), or a missing, non-finite or negative amount.
    """
    where = _where(source)
    if not isinstance(dividends, pd.DataFrame):
        raise DataError(f"{where}dividends must be a pandas DataFrame, got {type(dividends).__name__}")
    for col in ("ex_date", "amount"):
        if col not in dividends.columns:
            have = ", ".join(map(str, dividends.columns))
            raise DataError(f"{where}dividends need an '{col}' column (columns: {have})")
    for col in ("ex_date", "pay_date"):
        if col not in dividends.columns:
            continue
        raw = dividends[col]
        parsed = pd.to_datetime(raw, errors="coerce")
        bad = parsed.isna().to_numpy() & (raw.notna().to_numpy() if col == "pay_date" else True)
        pos = _first(bad)
        if pos is not None:
            raise DataError(f"{where}dividend row {pos + 1}: {col} is missing or not a date ({raw.iloc[pos]!r})")
    if "pay_date" in dividends.columns:
        ex = pd.to_datetime(dividends["ex_date"]).dt.normalize()
        pay = pd.to_datetime(dividends["pay_date"]).dt.normalize()
        pos = _first((pay < ex).to_numpy())
        if pos is not None:
            raise DataError(
                f"{where}dividend row {pos + 1}: pay_date {pay.iloc[pos].date()} is before ex_date "
                f"{ex.iloc[pos].date()}; a dividend is paid on or after its ex-date (correct the date, or leave the "
                "pay date empty to use the configuration's dividend_pay_lag_days)"
            )
    amount = pd.to_numeric(dividends["amount"], errors="coerce").to_numpy(dtype=float)
    pos = _first(~np.isfinite(amount))
    if pos is not None:
        raise DataError(
            f"{where}dividend row {pos + 1}: amount is missing or not a number ({dividends['amount'].iloc[pos]!r})"
        )
    pos = _first(amount < 0)
    if pos is not None:
        raise DataError(f"{where}dividend row {pos + 1}: amount must not be negative, got {amount[pos]}")
