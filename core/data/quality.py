"""A data-quality report for a price series: gaps, duplicates, zero volume, outliers, missing sessions, basis.

It diagnoses, it does not validate: it accepts unsorted or duplicated bars and reports them instead of raising,
so it can explain what is wrong with a file. It never prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.data.market_data import MarketData
from core.data.timestamps import infer_interval, is_intraday
from core.errors import DataError

FINDING_COLUMNS = ("check", "timestamp", "until", "value", "detail")
HOLIDAY_NOTE = "exchange holidays count as missing because there is no holiday calendar; about 9 a year on US exchanges"
_EXAMPLES = 5  # examples per issue line; the frame has them all


@dataclass(frozen=True, eq=False)
class QualityReport:
    """Result of :func:`quality_report`.

    Attributes:
        n_bars, start, end, interval, intraday, price_basis: what the series is.
        findings: one row per finding, columns ``check`` (``gap``, ``intraday_gap``, ``duplicate``,
            ``zero_volume``, ``outlier``, ``missing_session``, ``unsorted``, ``dividend``), ``timestamp``,
            ``until`` (end of a gap), ``value`` (size: missing days/bars, count, σ multiple, volume) and ``detail``.
        issues: readable lines, one per kind of problem, most important first; empty when the data looks clean.
        settings: the thresholds used.
    """

    n_bars: int
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    interval: str
    intraday: bool
    price_basis: str
    n_dividends: int
    findings: pd.DataFrame
    issues: list[str]
    settings: dict[str, Any]

    def count(self, check: str) -> int:
        """Number of findings of one kind."""
        return int((self.findings["check"] == check).sum())

    @property
    def summary(self) -> dict[str, Any]:
        """Counts and facts as a flat dict (a fresh dict on every access)."""
        return {
            "bars": self.n_bars,
            "start": self.start,
            "end": self.end,
            "interval": self.interval,
            "intraday": self.intraday,
            "price_basis": self.price_basis,
            "dividends": self.n_dividends,
            "gaps": self.count("gap") + self.count("intraday_gap"),
            "duplicate_days": self.count("duplicate"),
            "zero_volume_bars": self.count("zero_volume"),
            "outliers": self.count("outlier"),
            "missing_sessions": self.count("missing_session"),
            "missing_sessions_note": HOLIDAY_NOTE,
            "unsorted": self.count("unsorted") > 0,
            "issues": len(self.issues),
        }

    def to_frame(self) -> pd.DataFrame:
        """The findings as a new DataFrame (one row per finding)."""
        return self.findings.copy()


def _fmt(ts: pd.Timestamp, intraday: bool) -> str:
    return f"{ts:%Y-%m-%d %H:%M}" if intraday else f"{ts:%Y-%m-%d}"


def _examples(rows: list[dict], render) -> str:
    shown = ", ".join(render(r) for r in rows[:_EXAMPLES])
    more = f" and {len(rows) - _EXAMPLES} more" if len(rows) > _EXAMPLES else ""
    return shown + more


def quality_report(
    prices: pd.DataFrame | MarketData,
    dividends: pd.DataFrame | None = None,
    *,
    price_basis: str | None = None,
    max_gap_business_days: int = 3,
    outlier_sigma: float = 10.0,
    vol_window: int = 20,
) -> QualityReport:
    """Inspect a price series and say what might be wrong with it.

    Args:
        prices: a price frame (``DatetimeIndex``, ``close``, optional ``volume``) or a :class:`MarketData`
            (its dividends and price basis are then used unless given here).
        dividends: optional ``ex_date, amount`` frame; checked against the price period and the price basis.
        price_basis: overrides ``prices.attrs["price_basis"]``; ``"unknown"`` when neither says.
        max_gap_business_days: daily data: a gap is reported when more than this many weekdays lie between two
            consecutive bars (a weekend plus a holiday is 1; the 2001 September closure is 4).
        outlier_sigma: a bar is an outlier when its absolute log return exceeds this many standard deviations of
            the previous ``vol_window`` log returns (bars with a flat window are not judged).
        vol_window: trailing window for that standard deviation.

    Checks: gaps (daily: calendar gaps longer than ``max_gap_business_days`` weekdays; intraday: missing bars
    within a calendar day, the overnight break not counted), duplicate days/timestamps, zero-volume bars,
    outliers, missing sessions (weekdays without any bar between the first and last bar; holidays count since
    there is no holiday calendar), unsorted rows, and the price basis (dividend-adjusted prices plus dividend
    events would count dividends twice).
    """
    if isinstance(prices, MarketData):
        dividends = prices.dividends if dividends is None else dividends
        price_basis = price_basis or prices.price_basis
        prices = prices.prices
    if not isinstance(prices, pd.DataFrame) or not isinstance(prices.index, pd.DatetimeIndex):
        raise DataError("quality_report needs a DataFrame with a DatetimeIndex of bar timestamps")
    cols = {str(c).lower(): c for c in prices.columns}
    if "close" not in cols:
        raise DataError("quality_report needs a 'close' column")
    basis = price_basis or prices.attrs.get("price_basis") or "unknown"
    settings = {
        "max_gap_business_days": max_gap_business_days,
        "outlier_sigma": outlier_sigma,
        "vol_window": vol_window,
    }

    # Order, duplicates and spacing are about instants; dates and sessions about wall-clock time. They differ for an
    # aware index across a DST change (the repeated autumn hour reads the same twice on the wall clock).
    instants = prices.index.as_unit("ns").asi8
    index = prices.index if prices.index.tz is None else prices.index.tz_localize(None)
    unsorted = not prices.index.is_monotonic_increasing
    order = np.argsort(instants, kind="stable")
    stamps = pd.DatetimeIndex(index[order]).as_unit("ns")
    instants = instants[order]
    close = pd.to_numeric(prices[cols["close"]], errors="coerce").to_numpy(dtype=float)[order]
    volume = (
        pd.to_numeric(prices[cols["volume"]], errors="coerce").to_numpy(dtype=float)[order]
        if "volume" in cols
        else None
    )
    intraday = is_intraday(stamps)
    interval = infer_interval(stamps) if len(stamps) >= 2 else "unknown"
    findings: list[dict] = []
    issues: list[str] = []

    def add(check: str, ts: pd.Timestamp, value: float, detail: str, until: pd.Timestamp | None = None) -> None:
        findings.append({"check": check, "timestamp": ts, "until": until, "value": float(value), "detail": detail})

    if unsorted:
        pos = int(np.flatnonzero(np.diff(prices.index.as_unit("ns").asi8) < 0)[0]) + 1
        add("unsorted", index[pos], 1, f"row {pos + 1} is earlier than the row before it")
        issues.append(f"Rows are not in time order (first at row {pos + 1}, {_fmt(index[pos], intraday)}).")

    _duplicates(stamps, instants, intraday, add, issues)
    first_of_instant = ~pd.Index(instants).duplicated()
    unique = stamps[first_of_instant]
    if intraday:
        _intraday_gaps(unique, instants[first_of_instant], interval, add, issues)
    else:
        _daily_gaps(unique, max_gap_business_days, add, issues)
    _zero_volume(stamps, volume, intraday, add, issues)
    _outliers(stamps, close, intraday, outlier_sigma, vol_window, add, issues)
    _missing_sessions(unique, add, issues)

    n_div = 0 if dividends is None else len(dividends)
    if basis == "dividend_adjusted":
        msg = "Prices are dividend-adjusted: dividends are already in the prices."
        if n_div:
            msg += f" The {n_div} dividend event(s) supplied would count them twice: drop them or use raw prices."
        issues.append(msg)
    elif basis == "unknown":
        issues.append(
            "Price basis unknown: make sure the closes are split-adjusted but not dividend-adjusted before adding "
            "dividend events."
        )
    if n_div and len(stamps):
        ex = pd.to_datetime(dividends["ex_date"], errors="coerce")
        if getattr(ex.dt, "tz", None) is not None:
            ex = ex.dt.tz_localize(None)
        outside = ex[(ex < stamps[0].normalize()) | (ex > stamps[-1])]
        for ts in outside:
            add("dividend", ts, 1, "ex-date outside the price period (ignored by the simulation)")
        if len(outside):
            issues.append(f"{len(outside)} dividend ex-date(s) fall outside the price period and will be ignored.")

    frame = pd.DataFrame(findings, columns=list(FINDING_COLUMNS))
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    frame["until"] = pd.to_datetime(frame["until"])
    frame["value"] = frame["value"].astype(float)
    return QualityReport(
        n_bars=len(stamps),
        start=stamps[0] if len(stamps) else None,
        end=stamps[-1] if len(stamps) else None,
        interval=interval,
        intraday=intraday,
        price_basis=basis,
        n_dividends=n_div,
        findings=frame,
        issues=issues,
        settings=settings,
    )


def _duplicates(stamps: pd.DatetimeIndex, instants: np.ndarray, intraday: bool, add, issues: list[str]) -> None:
    # Intraday bars are duplicates when they share an instant (shown at its wall time), daily bars when they share a
    # day.
    keys = pd.Index(instants) if intraday else pd.Index(stamps.normalize().asi8)
    dup = keys.duplicated(keep="first")
    if not dup.any():
        return
    counts = pd.Series(keys).value_counts()
    first = pd.Series(np.arange(len(keys)), index=keys).groupby(level=0).first()
    rows = []
    for key in keys[dup].unique():
        n = int(counts[key])
        ts = stamps[int(first[key])] if intraday else stamps[int(first[key])].normalize()
        add("duplicate", ts, n, f"{n} bars share this {'timestamp' if intraday else 'day'}")
        rows.append({"ts": ts, "n": n})
    word = "timestamps" if intraday else "days"
    listed = _examples(rows, lambda r: f"{_fmt(r['ts'], intraday)} ×{r['n']}")
    issues.append(f"{len(rows)} duplicate {word}: {listed}.")


def _daily_gaps(stamps: pd.DatetimeIndex, max_gap: int, add, issues: list[str]) -> None:
    if len(stamps) < 2:
        return
    days = stamps.normalize().values.astype("datetime64[D]")
    missing = np.busday_count(days[:-1] + 1, days[1:])  # weekdays strictly between consecutive bars
    rows = []
    for i in np.flatnonzero(missing > max_gap):
        a, b = stamps[i], stamps[i + 1]
        add("gap", a, int(missing[i]), f"{int(missing[i])} weekdays without a bar", until=b)
        rows.append({"a": a, "b": b, "n": int(missing[i])})
    if rows:
        listed = _examples(rows, lambda r: f"{_fmt(r['a'], False)} → {_fmt(r['b'], False)} ({r['n']} days)")
        issues.append(f"{len(rows)} gap(s) longer than {max_gap} business days: {listed}.")


def _intraday_gaps(stamps: pd.DatetimeIndex, instants: np.ndarray, interval: str, add, issues: list[str]) -> None:
    if len(stamps) < 3:
        return
    steps = np.diff(instants)  # elapsed time: a DST change is neither a gap nor a step back
    step = np.median(steps[steps > 0]) if (steps > 0).any() else 0
    if step <= 0:
        return
    same_day = stamps[:-1].normalize() == stamps[1:].normalize()
    # Half a bar of slack: vendors' clocks jitter, and a missing bar doubles the spacing.
    missing = np.round(steps / step).astype(int) - 1
    rows = []
    for i in np.flatnonzero(same_day & (steps > 1.5 * step)):
        a, b = stamps[i], stamps[i + 1]
        add("intraday_gap", a, int(missing[i]), f"about {int(missing[i])} {interval} bar(s) missing", until=b)
        rows.append({"a": a, "b": b, "n": int(missing[i])})
    if rows:
        listed = _examples(rows, lambda r: f"{_fmt(r['a'], True)} → {r['b']:%H:%M} ({r['n']} bars)")
        issues.append(f"{len(rows)} gap(s) inside a trading day: {listed}.")


def _zero_volume(stamps: pd.DatetimeIndex, volume: np.ndarray | None, intraday: bool, add, issues: list[str]) -> None:
    if volume is None:
        return
    hits = np.flatnonzero(volume == 0)
    for i in hits:
        add("zero_volume", stamps[i], 0.0, "volume is 0")
    if hits.size:
        listed = _examples([{"ts": stamps[i]} for i in hits], lambda r: _fmt(r["ts"], intraday))
        issues.append(f"{hits.size} bar(s) with zero volume (stale or filled prices?): {listed}.")


def _outliers(
    stamps: pd.DatetimeIndex,
    close: np.ndarray,
    intraday: bool,
    sigma: float,
    window: int,
    add,
    issues: list[str],
) -> None:
    if len(close) < window + 2:
        return
    with np.errstate(divide="ignore", invalid="ignore"):
        logret = pd.Series(np.log(close[1:] / close[:-1]))
    # The window ends at the previous return, so a spike cannot hide itself by inflating its own yardstick.
    trailing = logret.rolling(window, min_periods=window).std(ddof=1).shift(1).to_numpy()
    r = logret.to_numpy()
    ok = np.isfinite(r) & np.isfinite(trailing) & (trailing > 0)
    multiple = np.full(len(r), np.nan)
    multiple[ok] = np.abs(r[ok]) / trailing[ok]
    rows = []
    for i in np.flatnonzero(ok & (multiple > sigma)):
        ts = stamps[i + 1]
        detail = (
            f"log return {r[i]:+.2%} is {multiple[i]:.1f}σ of the trailing {window}-bar volatility {trailing[i]:.2%}"
        )
        add("outlier", ts, multiple[i], detail)
        rows.append({"ts": ts, "r": r[i], "m": multiple[i]})
    if rows:
        listed = _examples(rows, lambda x: f"{_fmt(x['ts'], intraday)} ({x['r']:+.1%}, {x['m']:.0f}σ)")
        issues.append(f"{len(rows)} outlier move(s) beyond {sigma:g}σ: {listed}.")


def _missing_sessions(stamps: pd.DatetimeIndex, add, issues: list[str]) -> None:
    if len(stamps) < 2:
        return
    have = pd.DatetimeIndex(stamps.normalize().unique())
    weekdays = pd.bdate_range(have[0], have[-1])
    missing = weekdays.difference(have)
    for ts in missing:
        add("missing_session", ts, 1, "weekday without a bar (holiday or missing data)")
    if len(missing):
        listed = _examples([{"ts": ts} for ts in missing], lambda r: _fmt(r["ts"], False))
        share = len(missing) / max(len(weekdays), 1)
        issues.append(
            f"{len(missing)} missing session(s): weekdays without a bar, {share:.1%} of all weekdays ({HOLIDAY_NOTE}): "
            f"{listed}."
        )
