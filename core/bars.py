"""Bar timing: exchange-local calendar days and trading-session flags (docs/strategy.md §2, §5.2, §7).

The engine works on plain arrays; this module turns a price frame's ``DatetimeIndex`` and a dividends frame into
those arrays once, so that a sweep of many configurations pays for the calendar work a single time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

DEFAULT_TIMEZONE = "America/New_York"
_NS_PER_DAY = 86_400 * 1_000_000_000
_NS_PER_MINUTE = 60 * 1_000_000_000
SESSION_OPEN_MINUTE = 9 * 60 + 30  # 09:30 exchange-local, bars labelled by their start time
SESSION_CLOSE_MINUTE = 16 * 60  # 16:00, exclusive


@dataclass(frozen=True, eq=False)
class BarArrays:
    """Everything the kernel needs from the data, as contiguous arrays.

    ``day`` holds exchange-local calendar days (days since 1970-01-01); ``in_session`` is True for daily bars and
    for intraday bars that start in 09:30–16:00 Mon–Fri; dividends are sorted by ex-date with ``div_pay_day`` = -1
    where the data gives no pay date (the configuration's lag then applies).
    """

    close: np.ndarray
    day: np.ndarray
    in_session: np.ndarray
    is_intraday: bool
    n_days: int
    div_ex_day: np.ndarray
    div_amount: np.ndarray
    div_pay_day: np.ndarray
    local_index: pd.DatetimeIndex
    dividends: pd.DataFrame  # the sorted dividends frame the arrays come from


def local_wall_clock(index: pd.DatetimeIndex, timezone: str = DEFAULT_TIMEZONE) -> pd.DatetimeIndex:
    """Naive exchange-local timestamps for ``index``.

    Naive stamps are taken as exchange-local already. Aware stamps are converted to ``timezone`` unless every stamp
    is at midnight in its own zone: such daily bars keep their dates (a daily bar dated 2020-01-02 UTC is the
    2 January session, not 1 January 19:00 in New York).
    """
    if index.tz is None:
        return index
    own = index.tz_localize(None)
    own_ns = own.as_unit("ns").asi8
    if np.all(own_ns % _NS_PER_DAY == 0):
        return own
    return index.tz_convert(timezone).tz_localize(None)


def _days_of(local: pd.DatetimeIndex) -> np.ndarray:
    return np.floor_divide(local.as_unit("ns").asi8, _NS_PER_DAY).astype(np.int64)


def dates_to_days(values: pd.Series | pd.Index) -> np.ndarray:
    """Calendar days since 1970-01-01 of date-like values (time of day dropped, NaT becomes -1)."""
    stamps = pd.DatetimeIndex(pd.to_datetime(values))
    if stamps.tz is not None:
        stamps = stamps.tz_localize(None)
    out = np.full(len(stamps), -1, dtype=np.int64)
    ok = ~stamps.isna()
    out[ok] = _days_of(stamps[ok])
    return out


def prepare_bars(
    prices: pd.DataFrame, dividends: pd.DataFrame | None = None, timezone: str | None = None
) -> BarArrays:
    """Arrays for the kernel from a validated price frame and an optional validated dividends frame."""
    tz = timezone or prices.attrs.get("timezone") or DEFAULT_TIMEZONE
    local = local_wall_clock(prices.index, tz)
    ns = local.as_unit("ns").asi8
    day = np.floor_divide(ns, _NS_PER_DAY).astype(np.int64)
    minute = (ns - day * _NS_PER_DAY) // _NS_PER_MINUTE
    is_intraday = bool(np.any(minute != 0) or np.any(ns % _NS_PER_MINUTE != 0))
    if is_intraday:
        weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        in_session = (weekday < 5) & (minute >= SESSION_OPEN_MINUTE) & (minute < SESSION_CLOSE_MINUTE)
    else:
        in_session = np.ones(len(day), dtype=np.bool_)
    cols = {str(c).lower(): c for c in prices.columns}
    close = np.ascontiguousarray(prices[cols["close"]].to_numpy(dtype=np.float64))
    n_days = int(np.count_nonzero(np.diff(day))) + 1

    if dividends is None or len(dividends) == 0:
        divs = pd.DataFrame({"ex_date": pd.Series([], dtype="datetime64[ns]"), "amount": pd.Series([], dtype=float)})
        divs["pay_date"] = pd.Series([], dtype="datetime64[ns]")
    else:
        divs = dividends.copy()
        divs["ex_date"] = pd.to_datetime(divs["ex_date"])
        if "pay_date" not in divs.columns:
            divs["pay_date"] = pd.NaT
        divs["pay_date"] = pd.to_datetime(divs["pay_date"])
        divs["amount"] = pd.to_numeric(divs["amount"]).astype(float)
        # Stable sort: dividends sharing an ex-date keep their input order.
        divs = divs.sort_values("ex_date", kind="mergesort").reset_index(drop=True)
    return BarArrays(
        close=close,
        day=np.ascontiguousarray(day),
        in_session=np.ascontiguousarray(in_session),
        is_intraday=is_intraday,
        n_days=n_days,
        div_ex_day=np.ascontiguousarray(dates_to_days(divs["ex_date"])),
        div_amount=np.ascontiguousarray(divs["amount"].to_numpy(dtype=np.float64)),
        div_pay_day=np.ascontiguousarray(dates_to_days(divs["pay_date"])),
        local_index=local,
        dividends=divs[["ex_date", "amount", "pay_date"]],
    )
