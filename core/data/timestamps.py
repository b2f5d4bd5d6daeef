"""Reading bar timestamps written in the many ways files write them, and naming the bar interval.

Rules (docs/strategy.md §2): naive timestamps are exchange-local time; aware intraday ones are converted to the exchange
time zone; aware daily ones keep the calendar date they were written with. Everything returned is tz-naive,
exchange-local, ``datetime64[ns]``; daily bars sit at midnight.
"""

from __future__ import annotations

import re
import warnings
import zoneinfo
from collections.abc import Sequence

import numpy as np
import pandas as pd

from core.data.market_data import DATETIME_DTYPE
from core.errors import DataError

# An offset only counts after a clock time: "2020-01-02" ends in "-02", which is the day, not UTC-2.
_OFFSET_RE = re.compile(
    r"^(?P<wall>.*\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)\s*(?:(?P<utc>Z|UTC|GMT)|(?P<off>[+-]\d{2}(?::?\d{2})?))$",
    re.IGNORECASE,
)
_MISSING = {"", "nan", "nat", "none", "null", "n/a", "na", "-"}

_DATE_FORMATS = (
    "%m/%d/%Y",  # Yahoo's older CSVs, US brokers
    "%d/%m/%Y",  # tried only when month/day fails, e.g. a day above 12
    "%d.%m.%Y",  # European brokers, Dukascopy
    "%Y%m%d",  # MetaStock / Stooq ASCII
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%m/%d/%y",
    "%d-%m-%Y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%b %d, %Y",  # copied from web tables: "Jan 02, 2020"
    "%d %b %Y",
    "%B %d, %Y",
)
_TIME_FORMATS = ("", " %H:%M", " %H:%M:%S", " %H:%M:%S.%f", " %I:%M %p", " %I:%M:%S %p")
# datetime64[ns] spans 1677-09-21 .. 2262-04-11; a day of margin keeps offset arithmetic inside it.
EARLIEST = pd.Timestamp("1678-01-01")
LATEST = pd.Timestamp("2261-12-31 23:59:59")


def outside_range(values: pd.Series | pd.Index) -> np.ndarray:
    """Boolean mask of timestamps a ``datetime64[ns]`` index cannot hold (years before 1678 or after 2261)."""
    stamps = pd.Series(values)
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_localize(None)
    return ((stamps < EARLIEST) | (stamps > LATEST)).to_numpy()


def _check_range(parsed: pd.Series, strings: np.ndarray, lines: Sequence[int], where: str, what: str) -> None:
    bad = np.flatnonzero(outside_range(parsed))
    if bad.size:
        pos = int(bad[0])
        raise DataError(f"{where}row {lines[pos]}: the {what} {strings[pos]!r} is outside the years 1678-2261")


def check_timezone(timezone: str) -> str:
    """Return ``timezone`` if it is a known IANA zone name, else raise ``DataError``."""
    try:
        zoneinfo.ZoneInfo(str(timezone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise DataError(f"unknown time zone {timezone!r}: use an IANA name such as 'America/New_York'") from None
    return str(timezone)


def _clean(raw: Sequence) -> np.ndarray:
    return np.array(["" if v is None else str(v).strip() for v in raw], dtype=object)


def _first_missing(strings: np.ndarray) -> int | None:
    for pos, s in enumerate(strings):
        if s.lower() in _MISSING:
            return pos
    return None


def _parse_naive(strings: np.ndarray) -> pd.Series:
    """Parse offset-free date(time) strings with the single format that reads the most of them."""
    series = pd.Series(strings, dtype=object)
    best: pd.Series | None = None

    def attempt(**kwargs) -> pd.Series:
        with warnings.catch_warnings():
            # "Could not infer format" and friends: we pick formats ourselves and only want the result.
            warnings.simplefilter("ignore")
            try:
                return pd.to_datetime(series, errors="coerce", **kwargs)
            except (ValueError, TypeError, OverflowError):
                return pd.Series(pd.NaT, index=series.index, dtype=DATETIME_DTYPE)

    candidates: list[dict] = [{"format": "ISO8601"}]
    # Only formats that read at least one of a few sample values are worth a full pass.
    samples = {strings[0], strings[len(strings) // 2], strings[-1]}
    for date_fmt in _DATE_FORMATS:
        for time_fmt in _TIME_FORMATS:
            fmt = date_fmt + time_fmt
            if any(_reads(sample, fmt) for sample in samples):
                candidates.append({"format": fmt})
    for kwargs in candidates:
        parsed = attempt(**kwargs)
        if best is None or parsed.isna().sum() < best.isna().sum():
            best = parsed
        if not best.isna().any():
            break
    assert best is not None
    if best.dt.tz is not None:  # defensive: keep the wall time if a format ever yields an aware value
        best = best.dt.tz_localize(None)
    return best


def _reads(value: str, fmt: str) -> bool:
    try:
        pd.to_datetime(value, format=fmt)
    except (ValueError, TypeError, OverflowError):
        return False
    return True


def parse_timestamps(
    raw: Sequence,
    lines: Sequence[int],
    where: str,
    timezone: str,
    *,
    what: str = "date",
) -> pd.DatetimeIndex:
    """Parse bar timestamps into a tz-naive exchange-local index (same order as ``raw``).

    ``lines`` are the file line numbers of the values, used in error messages; ``where`` is the message prefix
    (``"prices.csv: "``). Raises ``DataError`` naming the first missing or unreadable value.
    """
    strings = _clean(raw)
    if len(strings) == 0:
        return pd.DatetimeIndex([], dtype=DATETIME_DTYPE)
    pos = _first_missing(strings)
    if pos is not None:
        raise DataError(f"{where}row {lines[pos]}: the {what} is missing")

    walls = strings.copy()
    offsets = np.full(len(strings), np.nan)  # minutes east of UTC; NaN = naive
    for i, s in enumerate(strings):
        m = _OFFSET_RE.match(s)
        if m is None:
            continue
        walls[i] = m.group("wall").replace("T", " ")
        if m.group("utc"):
            offsets[i] = 0.0
        else:
            off = m.group("off").replace(":", "")
            sign = -1.0 if off[0] == "-" else 1.0
            hours = int(off[1:3])
            minutes = int(off[3:5]) if len(off) >= 5 else 0
            offsets[i] = sign * (hours * 60 + minutes)

    wall = _parse_naive(walls)
    bad = np.flatnonzero(wall.isna().to_numpy())
    if bad.size:
        pos = int(bad[0])
        raise DataError(f"{where}row {lines[pos]}: cannot read the {what} {strings[pos]!r}")
    _check_range(wall, strings, lines, where, what)
    wall_idx = pd.DatetimeIndex(wall).astype(DATETIME_DTYPE)

    if (wall_idx == wall_idx.normalize()).all():
        # Daily data keeps the dates it was written with, offset or not.
        return wall_idx
    aware = ~np.isnan(offsets)
    local = wall_idx
    if aware.any():
        utc = wall_idx - pd.to_timedelta(np.nan_to_num(offsets), unit="min")
        converted = utc.tz_localize("UTC").tz_convert(timezone).tz_localize(None).astype(DATETIME_DTYPE)
        local = pd.DatetimeIndex(np.where(aware, converted, wall_idx)).astype(DATETIME_DTYPE)
    if (local == local.normalize()).all():
        return local
    # Daily bars stamped with a clock time (e.g. the close at 16:00): one bar per date, a day or more apart.
    dates = local.normalize()
    if dates.is_unique and len(local) > 1:
        spacing = np.median(np.diff(np.sort(local.asi8)))
        if spacing >= pd.Timedelta(hours=20).value:
            return dates
    return local


def parse_dates(raw: Sequence, lines: Sequence[int], where: str, *, what: str, required: bool) -> pd.DatetimeIndex:
    """Parse calendar dates (dividend ex/pay dates): any clock time or offset is dropped, the written date kept.

    Missing values raise ``DataError`` when ``required``, else become ``NaT``.
    """
    strings = _clean(raw)
    present = np.array([s.lower() not in _MISSING for s in strings], dtype=bool)
    if required and not present.all():
        pos = int(np.flatnonzero(~present)[0])
        raise DataError(f"{where}row {lines[pos]}: the {what} is missing")
    out = np.full(len(strings), np.datetime64("NaT"), dtype="datetime64[ns]")
    if present.any():
        walls = np.array([_strip_offset(s) for s in strings[present]], dtype=object)
        parsed = _parse_naive(walls)
        bad = np.flatnonzero(parsed.isna().to_numpy())
        if bad.size:
            pos = int(np.flatnonzero(present)[bad[0]])
            raise DataError(f"{where}row {lines[pos]}: cannot read the {what} {strings[pos]!r}")
        _check_range(parsed, strings[present], np.asarray(lines)[present], where, what)
        out[present] = pd.DatetimeIndex(parsed).normalize().astype(DATETIME_DTYPE).to_numpy()
    return pd.DatetimeIndex(out)


def _strip_offset(s: str) -> str:
    m = _OFFSET_RE.match(s)
    return m.group("wall").replace("T", " ") if m else s


def is_intraday(index: pd.DatetimeIndex) -> bool:
    """True when any timestamp carries a clock time (docs/strategy.md §7: daily bars sit at midnight)."""
    return bool(len(index)) and not (index == index.normalize()).all()


def infer_interval(index: pd.DatetimeIndex) -> str:
    """Name the bar interval from the median spacing: ``"1d"``, ``"1wk"``, ``"1mo"``, ``"1h"``, ``"5m"`` ...

    Daily data is recognised by midnight timestamps, so weekends and holidays do not matter; intraday spacing is
    the median gap between consecutive bars, which ignores overnight and weekend gaps.
    """
    if len(index) < 2:
        return "unknown"
    steps = np.diff(np.sort(index.as_unit("ns").asi8))
    steps = steps[steps > 0]
    if steps.size == 0:
        return "unknown"
    median = pd.Timedelta(int(np.median(steps)))
    if not is_intraday(index):
        days = median / pd.Timedelta(days=1)
        if days <= 4:
            return "1d"
        if days <= 10:
            return "1wk"
        if 25 <= days <= 35:
            return "1mo"
        if 80 <= days <= 100:
            return "3mo"
        return f"{round(days)}d"
    seconds = round(median.total_seconds())
    if seconds >= 86400 and seconds % 86400 == 0:
        return f"{seconds // 86400}d"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"
