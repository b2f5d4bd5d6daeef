"""Bringing dividends that arrive as a DataFrame or Series into the canonical ``ex_date, amount, pay_date`` frame."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data.columns import DIVIDEND_ALIASES, assign_roles, normalise_name
from core.data.market_data import finish_dividends
from core.data.timestamps import outside_range
from core.errors import DataError
from core.validation import validate_dividends


def normalise_dividends(dividends: pd.DataFrame | pd.Series, source: str = "dividends") -> pd.DataFrame:
    """Return dividends as ``ex_date, amount, pay_date`` (datetime64 dates at midnight, float amounts, sorted).

    Accepts the canonical frame, frames with vendor column names (``Date``/``Ex Date``, ``Dividends``/``Amount``,
    ``Pay Date``), a frame indexed by ex-date with an amount column, or a Series of amounts indexed by ex-date
    (what ``yfinance.Ticker.dividends`` returns). Aware dates keep the calendar date they carry.

    Raises:
        DataError: for missing or ambiguous columns, unreadable dates, or missing/negative amounts.
    """
    try:
        return _normalise(dividends, source)
    except DataError:
        raise
    except Exception as exc:  # pandas surprises still reach the user as one readable DataError
        raise DataError(f"{source}: could not read the dividends ({type(exc).__name__}: {exc})") from exc


def _normalise(dividends: pd.DataFrame | pd.Series, source: str) -> pd.DataFrame:
    if isinstance(dividends, pd.Series):
        dividends = pd.DataFrame({"ex_date": dividends.index, "amount": dividends.to_numpy()})
    if not isinstance(dividends, pd.DataFrame):
        raise DataError(f"{source}: dividends must be a pandas DataFrame, got {type(dividends).__name__}")
    if len(dividends) == 0:
        return finish_dividends(None)
    header = [str(c) for c in dividends.columns]
    roles = assign_roles(header, DIVIDEND_ALIASES)

    def pick(*names: str) -> object | None:
        for role in names:
            positions = roles.get(role, [])
            if len(positions) > 1:
                cols = " and ".join(repr(header[p]) for p in positions)
                raise DataError(f"{source}: ambiguous dividend columns {cols}; keep one")
            if positions:
                return dividends.columns[positions[0]]
        return None

    ex_col = pick("ex_date", "date")
    amount_col = pick("amount")
    pay_col = pick("pay_date")
    if amount_col is None:
        raise DataError(
            f"{source}: dividends need an amount column such as 'amount' or 'Dividends' (columns: {', '.join(header)})"
        )
    if ex_col is not None:
        ex = dividends[ex_col]
    elif isinstance(dividends.index, pd.DatetimeIndex) or normalise_name(dividends.index.name) in (
        DIVIDEND_ALIASES["ex_date"] | DIVIDEND_ALIASES["date"]
    ):
        ex = pd.Series(dividends.index, index=dividends.index)
    else:
        raise DataError(
            f"{source}: dividends need an ex-date column such as 'ex_date' or 'Date' (columns: {', '.join(header)})"
        )
    frame = pd.DataFrame(
        {
            "ex_date": ex.to_numpy(),
            "amount": dividends[amount_col].to_numpy(),
            "pay_date": dividends[pay_col].to_numpy() if pay_col is not None else pd.NaT,
        }
    )
    frame["ex_date"] = _dates(frame["ex_date"])
    frame["pay_date"] = _dates(frame["pay_date"])
    validate_dividends(frame, source)
    for col in ("ex_date", "pay_date"):
        bad = np.flatnonzero(outside_range(pd.to_datetime(frame[col])))
        if bad.size:
            pos = int(bad[0])
            raise DataError(
                f"{source}: dividend row {pos + 1}: {col} {frame[col].iloc[pos]} is outside the years 1678-2261"
            )
    frame["amount"] = pd.to_numeric(frame["amount"], errors="coerce")
    return finish_dividends(frame)


def _dates(values: pd.Series) -> pd.Series:
    # Mixed offsets would make pandas refuse the column; each date keeps its own calendar day instead.
    def one(v: object) -> object:
        if v is None or v is pd.NaT or (isinstance(v, float) and pd.isna(v)):
            return pd.NaT
        try:
            ts = pd.Timestamp(v)
        except (ValueError, TypeError, OverflowError):
            return v  # left as is, so validate_dividends reports it with its row
        if ts is pd.NaT:
            return pd.NaT
        return ts.tz_localize(None) if ts.tzinfo is not None else ts

    converted = values.map(one)
    if converted.map(lambda v: isinstance(v, pd.Timestamp) or v is pd.NaT).all():
        return pd.to_datetime(converted)
    return converted
