"""Downloading prices, dividends and splits from Yahoo Finance through yfinance, with retries and a disk cache.

The HTTP layer is a replaceable ``downloader`` callable with the signature of :func:`yfinance_history`
(``symbol, start, end, interval, session`` → the frame ``yfinance.Ticker.history`` returns), so tests feed
recorded responses and never touch the network.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.data.market_data import DATETIME_DTYPE, MarketData, empty_splits, finish_dividends, finish_prices
from core.data.yahoo_cache import CacheKey, YahooCache, default_cache_dir
from core.errors import DataError
from core.validation import validate_prices

Downloader = Callable[..., pd.DataFrame]
DateLike = str | date | datetime | pd.Timestamp

INTERVALS = ("1m", "2m", "5m", "15m", "30m", "60m", "90m", "1h", "1d", "5d", "1wk", "1mo", "3mo")
_DAILY_OR_LONGER = ("1d", "5d", "1wk", "1mo", "3mo")
_SYMBOL_RE = re.compile(r"^[A-Z0-9.^=_&-]{1,20}$")
_FALLBACK = "check your connection or use a bundled dataset / CSV upload"
_YF_LOCK = threading.Lock()


def yfinance_history(symbol: str, start: datetime, end: datetime, interval: str, session: Any = None) -> pd.DataFrame:
    """The default downloader: ``yfinance.Ticker(symbol).history(...)`` with raw (not dividend-adjusted) prices.

    yfinance normally logs failures and returns an empty frame, which would make "offline" look like "unknown
    symbol"; its exceptions are switched on for the call so the two can be told apart.
    """
    import yfinance as yf  # imported lazily: it is slow to import and only this path needs it

    with _YF_LOCK:  # the switch is process-global, so calls take turns
        hide = yf.config.debug.hide_exceptions
        yf.config.debug.hide_exceptions = False
        try:
            ticker = yf.Ticker(symbol, session=session)
            return ticker.history(
                start=start,
                end=end,
                interval=interval,
                auto_adjust=False,  # Close = split-adjusted raw close; dividends stay separate events
                back_adjust=False,
                actions=True,
                repair=False,
                keepna=False,
            )
        finally:
            yf.config.debug.hide_exceptions = hide


def _as_timestamp(value: DateLike, what: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        raise DataError(f"Yahoo Finance request: cannot read the {what} {value!r} (use YYYY-MM-DD)") from None
    if ts is pd.NaT:
        raise DataError(f"Yahoo Finance request: the {what} is missing")
    return ts


def _key_text(ts: pd.Timestamp) -> str:
    if ts.tzinfo is None and ts == ts.normalize():
        return ts.strftime("%Y-%m-%d")
    return ts.isoformat()


def _classify(exc: BaseException) -> str:
    """``"missing"`` (Yahoo has no such data), ``"transient"`` (worth retrying) or ``"other"``."""
    try:
        from yfinance import exceptions as yfe
    except ImportError:  # pragma: no cover - yfinance is a runtime dependency
        yfe = None
    if yfe is not None:
        if isinstance(exc, yfe.YFRateLimitError):
            return "transient"
        if isinstance(exc, yfe.YFTickerMissingError):
            return "missing"
        if isinstance(exc, yfe.YFDataException) and "down" in str(exc).lower():
            return "transient"
    # requests and curl_cffi errors are OSError subclasses, like socket and timeout errors; an HTML error page
    # instead of JSON is a hiccup too.
    if isinstance(exc, OSError | json.JSONDecodeError):
        return "transient"
    return "other"


def _no_data(symbol: str, start: str, end: str, interval: str, reason: str | None = None) -> DataError:
    why = f" (Yahoo says: {reason})" if reason else ""
    return DataError(
        f"Yahoo Finance returned no data for {symbol!r} from {start} to {end} at interval {interval}{why}: the "
        "symbol may be unknown or delisted, or the range has no trading days. Check the symbol (e.g. 'AAPL', "
        "'^GSPC', 'BRK-B') and the dates, or use a bundled dataset / CSV upload"
    )


def _download(
    downloader: Downloader,
    key: CacheKey,
    start: pd.Timestamp,
    end: pd.Timestamp,
    session: Any,
    retries: int,
    backoff_s: float,
    sleep: Callable[[float], None],
) -> pd.DataFrame:
    last: BaseException | None = None
    for attempt in range(retries + 1):
        try:
            return downloader(key.symbol, start.to_pydatetime(), end.to_pydatetime(), key.interval, session=session)
        except DataError:
            raise
        except Exception as exc:
            kind = _classify(exc)
            if kind == "missing":
                reason = getattr(exc, "yahoo_reason", None) or getattr(exc, "rationale", None) or str(exc)
                raise _no_data(key.symbol, key.start, key.end, key.interval, reason) from exc
            if kind == "other":
                raise DataError(
                    f"Yahoo Finance download of {key.symbol!r} failed: {type(exc).__name__}: {exc}"
                ) from exc
            last = exc
            if attempt < retries:
                sleep(backoff_s * 2**attempt)  # 1 s, 2 s, 4 s ... with the default backoff
    assert last is not None
    if "RateLimit" in type(last).__name__:
        raise DataError(
            f"Yahoo Finance is rate-limiting requests for {key.symbol!r} (tried {retries + 1} times): wait a few "
            f"minutes, or use a bundled dataset / CSV upload"
        ) from last
    raise DataError(
        f"could not reach Yahoo Finance for {key.symbol!r} (tried {retries + 1} times; last error "
        f"{type(last).__name__}: {last}); {_FALLBACK}"
    ) from last


def _zone_name(index: pd.DatetimeIndex) -> str | None:
    tz = index.tz
    if tz is None:
        return None
    return getattr(tz, "key", None) or getattr(tz, "zone", None) or str(tz)


def history_to_market_data(raw: pd.DataFrame, key: CacheKey, timezone: str = "America/New_York") -> MarketData:
    """Normalise a ``Ticker.history`` frame (``Open, High, Low, Close, Adj Close, Volume, Dividends, Stock
    Splits``, tz-aware index) into :class:`MarketData` with ``source="yahoo"``.

    Daily bars keep their exchange dates at midnight; intraday bars become naive exchange-local times. The raw
    ``Close`` is used (split-adjusted, not dividend-adjusted), so ``price_basis`` is ``"split_adjusted"``;
    dividends and splits come from the action columns (pay dates unknown → ``NaT``). Rows without a close
    (Yahoo's placeholders for dividend-only rows) are dropped; the remaining bars are validated.
    """
    if not isinstance(raw, pd.DataFrame) or not isinstance(raw.index, pd.DatetimeIndex):
        raise DataError(f"Yahoo Finance {key.symbol}: unexpected response ({type(raw).__name__}), not a price table")
    cols = {str(c).strip().lower(): c for c in raw.columns}
    if "close" not in cols:
        raise _no_data(key.symbol, key.start, key.end, key.interval)
    zone = _zone_name(raw.index) or timezone
    index = raw.index
    if index.tz is not None:
        # Daily bars keep the exchange date they carry; intraday bars become exchange-local wall-clock times.
        index = index.tz_localize(None) if key.interval in _DAILY_OR_LONGER else index.tz_convert(zone)
        index = index.tz_localize(None)
    if key.interval in _DAILY_OR_LONGER:
        index = index.normalize()
    index = pd.DatetimeIndex(index).astype(DATETIME_DTYPE)

    def column(name: str) -> np.ndarray | None:
        return pd.to_numeric(raw[cols[name]], errors="coerce").to_numpy(dtype=float) if name in cols else None

    close = column("close")
    has_bar = np.isfinite(close)
    if not has_bar.any():
        raise _no_data(key.symbol, key.start, key.end, key.interval)
    data = {name: column(name)[has_bar] for name in ("open", "high", "low", "close", "volume") if name in cols}
    prices = finish_prices(pd.DataFrame(data, index=index[has_bar]))
    # yfinance's own order is chronological, but a recorded or cached frame might not be.
    prices = prices.sort_index(kind="stable")
    validate_prices(prices, f"Yahoo Finance {key.symbol}")

    div_amount = column("dividends")
    if div_amount is not None and (div_amount > 0).any():
        hit = div_amount > 0
        dividends = finish_dividends(pd.DataFrame({"ex_date": index[hit].normalize(), "amount": div_amount[hit]}))
    else:
        dividends = finish_dividends(None)
    split_ratio = column("stock splits")
    if split_ratio is not None and (split_ratio > 0).any():
        hit = split_ratio > 0
        splits = pd.DataFrame({"ex_date": index[hit].normalize(), "ratio": split_ratio[hit]}).reset_index(drop=True)
    else:
        splits = empty_splits()
    return MarketData(
        prices=prices,
        dividends=dividends,
        symbol=key.symbol,
        name=f"{key.symbol} {key.interval} {prices.index[0]:%Y-%m-%d}–{prices.index[-1]:%Y-%m-%d} (Yahoo Finance)",
        interval="1h" if key.interval == "60m" else key.interval,
        price_basis="split_adjusted",
        source="yahoo",
        timezone=zone,
        splits=splits,
    )


def fetch_yahoo(
    symbol: str,
    start: DateLike,
    end: DateLike,
    interval: str = "1d",
    *,
    cache_dir: str | Path | None = None,
    session: Any = None,
    retries: int = 3,
    backoff_s: float = 1.0,
    downloader: Downloader | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> MarketData:
    """Download ``symbol`` from Yahoo Finance (via yfinance) as :class:`MarketData` with ``source="yahoo"``.

    Args:
        symbol: Yahoo ticker, e.g. ``"AAPL"``, ``"^GSPC"``, ``"BRK-B"`` (upper-cased).
        start: first day, inclusive (``"2020-01-01"``, a date or a datetime; naive = exchange-local).
        end: last day, exclusive, as in yfinance.
        interval: one of ``1m 2m 5m 15m 30m 60m 90m 1h 1d 5d 1wk 1mo 3mo`` (Yahoo keeps intraday history only
            for recent weeks).
        cache_dir: where downloads are kept; default ``$VBL_CACHE_DIR/yahoo`` or ``var/cache/yahoo`` in the repo.
            A cached ``(symbol, start, end, interval)`` is answered from disk without any network access. Only
            ranges that ended in the past are stored, since later data could still change.
        session: an HTTP session handed to ``yfinance.Ticker`` (curl_cffi or requests).
        retries: extra attempts after a transient failure (network error, timeout, rate limit).
        backoff_s: wait before the first retry; doubles each time (1, 2, 4 s by default).
        downloader: replaces :func:`yfinance_history` (tests feed recorded responses through it).
        sleep: replaces ``time.sleep`` between retries (tests pass a fake).

    Prices are raw closes, split-adjusted but not dividend-adjusted (``auto_adjust=False``), so ``price_basis``
    is ``"split_adjusted"``; dividends (ex-date, amount; pay date unknown → ``NaT``) and splits come along.

    Raises:
        DataError: bad arguments; Yahoo unreachable after the retries ("could not reach Yahoo Finance ... check
            your connection or use a bundled dataset / CSV upload"); an unknown symbol or a range without rows;
            or data that fails validation.
    """
    sym = str(symbol).strip().upper()
    if not _SYMBOL_RE.match(sym):
        raise DataError(f"Yahoo Finance request: {symbol!r} is not a ticker symbol (e.g. 'AAPL', '^GSPC', 'BRK-B')")
    if interval not in INTERVALS:
        raise DataError(f"Yahoo Finance request: unknown interval {interval!r}; use one of {', '.join(INTERVALS)}")
    if retries < 0 or backoff_s < 0:
        raise DataError("Yahoo Finance request: retries and backoff_s must not be negative")
    start_ts, end_ts = _as_timestamp(start, "start date"), _as_timestamp(end, "end date")
    if (start_ts.tzinfo is None) != (end_ts.tzinfo is None):
        raise DataError("Yahoo Finance request: give start and end both with or both without a time zone")
    if start_ts >= end_ts:
        raise DataError(f"Yahoo Finance request: the start {start_ts} must be before the end {end_ts} (end exclusive)")
    key = CacheKey(sym, _key_text(start_ts), _key_text(end_ts), interval)
    cache = YahooCache(default_cache_dir() if cache_dir is None else cache_dir)

    raw = cache.load(key)
    if raw is not None:
        return _normalise(raw, key)
    raw = _download(downloader or yfinance_history, key, start_ts, end_ts, session, retries, backoff_s, sleep)
    if raw is None or len(raw) == 0:
        raise _no_data(sym, key.start, key.end, interval)
    market = _normalise(raw, key)
    end_utc = end_ts.tz_convert("UTC").tz_localize(None) if end_ts.tzinfo else end_ts
    if end_utc <= pd.Timestamp.now(tz="UTC").tz_localize(None):
        cache.store(key, raw)
    return market


def _normalise(raw: pd.DataFrame, key: CacheKey) -> MarketData:
    try:
        return history_to_market_data(raw, key)
    except DataError:
        raise
    except Exception as exc:  # a changed yfinance output must not surface as a bare pandas error
        raise DataError(
            f"Yahoo Finance {key.symbol}: unexpected response ({type(exc).__name__}: {exc}); {_FALLBACK}"
        ) from exc
