"""Reading bar timestamps written in the many ways files write them, and naming the bar interval.

Rules (docs/strategy.md §2, §9): naive timestamps are exchange-local wall time (and must exist, unambiguously, in
the exchange zone); aware intraday ones are converted to the exchange zone; aware daily ones keep the calendar date
they were written with. Everything returned is ``datetime64[ns]``, tz-naive and exchange-local, except aware
intraday data with bars in the hour repeated when the clocks go back, which keeps a tz-aware index in the exchange
zone (wall time alone would merge the two passes through that hour). Daily bars sit at midnight.
"""

from __future__ import annotations

import re
import warnings
import zoneinfo
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.data.market_data import DATETIME_DTYPE
from core.data.text_columns import ASCII_SPACE_CLASS, as_objects, first_true, in_set, is_ascii, matches, text_column
from core.errors import DataError

# An offset only counts after a clock time: "2020-01-02" ends in "-02", which is the day, not UTC-2.
_OFFSET_RE = re.compile(
    r"^(?P<wall>.*\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)\s*(?:(?P<utc>Z|UTC|GMT)|(?P<off>[+-]\d{2}(?::?\d{2})?))$",
    re.IGNORECASE,
)
# The same pattern for Arrow (RE2), used on ASCII columns, where it matches exactly what _OFFSET_RE matches.
_OFFSET_RE2 = (
    r"(?i)^(?P<wall>.*\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)" + ASCII_SPACE_CLASS
    + r"*(?:(?P<utc>Z|UTC|GMT)|(?P<off>[+-]\d{2}(?::?\d{2})?))$"
)
_NS_PER_MINUTE = 60 * 1_000_000_000
_NS_PER_SECOND = 1_000_000_000
# Plain ISO layouts Arrow parses without making a Python string per value; a column that fits none of them exactly
# goes through _parse_naive. The patterns admit only valid fields, so Arrow and pandas' ISO8601 read them alike.
_ISO_DAY = r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
_ISO_LAYOUTS = (
    (_ISO_DAY + "$", "%Y-%m-%d"),
    (_ISO_DAY + r" ([01]\d|2[0-3]):[0-5]\d$", "%Y-%m-%d %H:%M"),
    (_ISO_DAY + r" ([01]\d|2[0-3]):[0-5]\d:[0-5]\d$", "%Y-%m-%d %H:%M:%S"),
)
_UTC_CLOCK_RE2 = r"\d{1,2}:\d{2}(:\d{2}([.,]\d+)?)?Z$"
_SUFFIX_RE2 = r"(?i)(Z|UTC|GMT|[+-]\d{2}(:?\d{2})?)$"  # what an offset could end in: a cheap first look
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


def _check_range(
    parsed: pd.Series, strings: np.ndarray | pa.Array, lines: Sequence[int], where: str, what: str
) -> None:
    bad = np.flatnonzero(outside_range(parsed))
    if bad.size:
        pos = int(bad[0])
        raise DataError(f"{where}row {lines[pos]}: the {what} {_at(strings, pos)!r} is outside the years 1678-2261")


def check_timezone(timezone: str) -> str:
    """Return ``timezone`` if it is a known IANA zone name, else raise ``DataError``."""
    try:
        zoneinfo.ZoneInfo(str(timezone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise DataError(f"unknown time zone {timezone!r}: use an IANA name such as 'America/New_York'") from None
    return str(timezone)


def _clean(raw: Sequence) -> np.ndarray:
    return np.array(["" if v is None else str(v).strip() for v in raw], dtype=object)


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


def _parse_iso(walls: pa.Array) -> pd.Series | None:
    """The column parsed by Arrow when every value has the same plain ISO layout and lies in 1678-2261, else None."""
    if not is_ascii(walls):
        return None
    first = walls[0].as_py()
    for pattern, fmt in _ISO_LAYOUTS:
        if not (re.search(pattern, first) and matches(walls, pattern).all()):
            continue
        parsed = pc.strptime(walls, format=fmt, unit="s", error_is_null=True)
        if parsed.null_count:
            return None  # e.g. 30 February: _parse_naive names the row
        seconds = parsed.cast(pa.int64()).to_numpy()
        if seconds.min() < EARLIEST.value // _NS_PER_SECOND or seconds.max() > LATEST.value // _NS_PER_SECOND:
            return None  # _parse_naive and the range check say which row
        return pd.Series((seconds * _NS_PER_SECOND).view(DATETIME_DTYPE))
    return None


def _reads(value: str, fmt: str) -> bool:
    try:
        pd.to_datetime(value, format=fmt)
    except (ValueError, TypeError, OverflowError):
        return False
    return True


def parse_timestamps(
    raw: Sequence | pa.Array,
    lines: Sequence[int],
    where: str,
    timezone: str,
    *,
    what: str = "date",
) -> pd.DatetimeIndex:
    """Parse bar timestamps into an exchange-local index (same order as ``raw``; docs/strategy.md §2, §9).

    The index is tz-naive exchange-local wall time, except for aware intraday data with bars in an hour that
    repeats when the clocks go back: that index is tz-aware in ``timezone``, so that distinct instants stay
    distinct. Naive intraday timestamps that are ambiguous (the repeated hour) or do not exist (the hour skipped
    in spring) in ``timezone`` are refused. ``raw`` is a sequence of strings or an Arrow string array; ``lines``
    are the file line numbers of the values, used in error messages; ``where`` is the message prefix
    (``"prices.csv: "``). Raises ``DataError`` naming the first missing or unreadable value.
    """
    strings = text_column(raw)
    if len(strings) == 0:
        return pd.DatetimeIndex([], dtype=DATETIME_DTYPE)
    pos = first_true(in_set(strings, _MISSING))
    if pos is not None:
        raise DataError(f"{where}row {lines[pos]}: the {what} is missing")

    walls, offsets = _split_offsets(strings)
    wall = _parse_iso(walls)
    if wall is None:
        wall = _parse_naive(as_objects(walls))
    bad = np.flatnonzero(wall.isna().to_numpy())
    if bad.size:
        pos = int(bad[0])
        raise DataError(f"{where}row {lines[pos]}: cannot read the {what} {_at(strings, pos)!r}")
    _check_range(wall, strings, lines, where, what)
    wall_idx = pd.DatetimeIndex(wall).astype(DATETIME_DTYPE)

    if (wall_idx == wall_idx.normalize()).all():
        # Daily data keeps the dates it was written with, offset or not.
        return wall_idx
    aware = ~np.isnan(offsets)
    instants: pd.DatetimeIndex | None = None
    local = wall_idx
    if aware.any():
        utc_ns = wall_idx.asi8 - np.round(np.nan_to_num(offsets) * _NS_PER_MINUTE).astype(np.int64)
        if not aware.all():  # naive rows among aware ones are wall time in the exchange zone
            naive = np.flatnonzero(~aware)
            local_naive = _localise(wall_idx[naive], timezone, np.asarray(lines)[naive], where)
            utc_ns[naive] = local_naive.tz_convert("UTC").tz_localize(None).as_unit("ns").asi8
        instants = pd.DatetimeIndex(utc_ns.view(DATETIME_DTYPE)).tz_localize("UTC").tz_convert(timezone)
        local = instants.tz_localize(None).as_unit("ns")
    if (local == local.normalize()).all():
        return local
    # Daily bars stamped with a clock time (e.g. the close at 16:00): one bar per date, a day or more apart.
    dates = local.normalize()
    if dates.is_unique and len(local) > 1:
        spacing = np.median(np.diff(np.sort(local.asi8)))
        if spacing >= pd.Timedelta(hours=20).value:
            return dates
    if instants is None:
        _localise(local, timezone, lines, where)  # refuses wall times that are ambiguous or do not exist
        return local
    if _ambiguous(local, timezone).any():
        # Wall time would not tell the two passes through the repeated hour apart: keep the instants.
        return instants.as_unit("ns")
    return local


def _at(strings: pa.Array | np.ndarray, pos: int) -> str:
    value = strings[pos]
    return value.as_py() if isinstance(value, pa.Scalar) else value


def _split_offsets(strings: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """The wall-clock part of each timestamp (``T`` read as a space) and its UTC offset in minutes (NaN: naive)."""
    if not is_ascii(strings):
        walls, offsets = _split_offsets_python(as_objects(strings))
        return pa.array(walls, type=pa.string()), offsets
    if not matches(strings, _SUFFIX_RE2).any():
        return strings, np.full(len(strings), np.nan)
    if matches(strings, _UTC_CLOCK_RE2).all() and not pc.any(pc.match_substring(strings, "\n")).as_py():
        # All "...hh:mm[:ss]Z", the usual UTC export: the wall is all but the Z (what _OFFSET_RE would say).
        walls = pc.replace_substring(pc.utf8_slice_codeunits(strings, 0, -1), "T", " ")
        return walls, np.zeros(len(strings))
    found = pc.extract_regex(strings, _OFFSET_RE2)
    aware = found.is_valid()
    walls = pc.if_else(aware, pc.replace_substring(found.field("wall"), "T", " "), strings)
    off = pc.replace_substring(found.field("off"), ":", "")
    off = pc.if_else(pc.equal(off, ""), "+00", off)
    hours = pc.cast(pc.utf8_slice_codeunits(off, 1, 3), pa.int64()).to_numpy()
    minutes_text = pc.utf8_slice_codeunits(off, 3, 5)
    minutes = pc.cast(pc.if_else(pc.equal(minutes_text, ""), "00", minutes_text), pa.int64()).to_numpy()
    sign = np.where(pc.starts_with(off, "-").to_numpy(zero_copy_only=False), -1.0, 1.0)
    offsets = np.where(aware.to_numpy(zero_copy_only=False), sign * (hours * 60 + minutes), np.nan)
    return walls, offsets


def _split_offsets_python(strings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
    return walls, offsets


def _ambiguous(local: pd.DatetimeIndex, timezone: str) -> np.ndarray:
    """Mask of wall times that occur twice in ``timezone`` (the hour repeated when the clocks go back)."""
    return np.asarray(local.tz_localize(timezone, ambiguous="NaT", nonexistent="shift_forward").isna())


def _localise(local: pd.DatetimeIndex, timezone: str, lines: Sequence[int], where: str) -> pd.DatetimeIndex:
    """``local`` (naive wall time) as aware timestamps in ``timezone``; ``DataError`` at the first wall time that
    is ambiguous or does not exist there, naming its row and what to do."""
    located = local.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
    pos = first_true(np.asarray(located.isna()))
    if pos is None:
        return located
    stamp = local[pos]
    hint = (
        "write the timestamps in UTC (ending in Z) or with their UTC offset (+hh:mm), or name the zone they are "
        "written in (the CLI's --timezone, the Data page's time zone, e.g. UTC)"
    )
    if pd.isna(pd.Timestamp(stamp).tz_localize(timezone, ambiguous=True, nonexistent="NaT")):
        raise DataError(
            f"{where}row {lines[pos]} ({stamp}): this time does not exist in {timezone} (the clocks skip that hour "
            f"when daylight saving time starts), so the timestamps are not {timezone} wall time; {hint}"
        )
    raise DataError(
        f"{where}row {lines[pos]} ({stamp}): this time happens twice in {timezone} (the clocks go back an hour when "
        f"daylight saving time ends), so without a UTC offset it is ambiguous; {hint}"
    )


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
