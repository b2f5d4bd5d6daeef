"""The result type of every loader: :class:`MarketData`, plus the canonical frame layouts it holds.

``prices`` has a strictly increasing ``DatetimeIndex`` named ``timestamp`` holding exchange-local time
(``prices.attrs["timezone"]`` names the zone; tz-naive wall time, or tz-aware in that zone for intraday data whose
bars pass through an hour repeated when the clocks go back, see ``core.data.timestamps``) and float columns
``open, high, low, close, volume`` (``close`` always, the rest when the source has them). ``dividends`` always has
the columns ``ex_date, amount, pay_date`` (``pay_date`` may be ``NaT``) and ``splits``, when known, the columns
``ex_date, ratio``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

PRICE_COLUMN_ORDER = ("open", "high", "low", "close", "volume")
DIVIDEND_COLUMNS = ("ex_date", "amount", "pay_date")
SPLIT_COLUMNS = ("ex_date", "ratio")
PRICE_BASES = ("split_adjusted", "dividend_adjusted", "unknown")
SOURCES = ("bundled", "csv", "yahoo")
DATETIME_DTYPE = "datetime64[ns]"


def empty_dividends() -> pd.DataFrame:
    """An empty dividends frame with the canonical columns and dtypes."""
    return pd.DataFrame(
        {
            "ex_date": pd.Series([], dtype=DATETIME_DTYPE),
            "amount": pd.Series([], dtype=float),
            "pay_date": pd.Series([], dtype=DATETIME_DTYPE),
        }
    )


def empty_splits() -> pd.DataFrame:
    """An empty splits frame (``ex_date``, ``ratio`` = new shares per old share)."""
    return pd.DataFrame({"ex_date": pd.Series([], dtype=DATETIME_DTYPE), "ratio": pd.Series([], dtype=float)})


@dataclass(frozen=True, eq=False)
class MarketData:
    """Prices and corporate actions of one instrument, as returned by every loader.

    Attributes:
        prices: bars indexed by a strictly increasing ``DatetimeIndex`` named ``timestamp`` (exchange-local:
            tz-naive wall time, or tz-aware in ``timezone`` when intraday bars fall in a repeated DST hour; daily
            bars at midnight) with float columns ``close`` and, when available, ``open``,
            ``high``, ``low``, ``volume``.
        dividends: columns ``ex_date``, ``amount`` (gross per share), ``pay_date`` (``NaT`` when unknown); an
            empty frame with those columns when there are none.
        symbol: ticker or short label.
        name: human-readable name, e.g. ``"GOOG daily 2004-2013 (backtesting.py test data)"``.
        interval: bar spacing such as ``"1d"``, ``"1h"``, ``"5m"``.
        price_basis: ``"split_adjusted"`` (raw closes, not dividend-adjusted: what the engine expects),
            ``"dividend_adjusted"`` (dividends already folded into the prices: do not add dividend events) or
            ``"unknown"``.
        source: ``"bundled"``, ``"csv"`` or ``"yahoo"``.
        timezone: IANA name of the exchange time zone the timestamps are expressed in.
        splits: ``ex_date``, ``ratio`` when the source reports splits, else ``None``.
    """

    prices: pd.DataFrame
    dividends: pd.DataFrame
    symbol: str
    name: str
    interval: str
    price_basis: str
    source: str
    timezone: str = "America/New_York"
    splits: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        # attrs travel with the frame into the engine and the quality report, which see no MarketData.
        self.prices.attrs["timezone"] = self.timezone
        self.prices.attrs["price_basis"] = self.price_basis
        self.prices.attrs["symbol"] = self.symbol

    @property
    def start(self) -> pd.Timestamp:
        """Timestamp of the first bar."""
        return self.prices.index[0]

    @property
    def end(self) -> pd.Timestamp:
        """Timestamp of the last bar."""
        return self.prices.index[-1]

    def copy(self) -> MarketData:
        """A deep copy: mutating the copy's frames leaves this object untouched."""
        return replace(
            self,
            prices=self.prices.copy(deep=True),
            dividends=self.dividends.copy(deep=True),
            splits=None if self.splits is None else self.splits.copy(deep=True),
        )

    def sha256(self) -> str:
        """SHA-256 (hex) of the normalised bars and dividends.

        The digest is taken over a canonical text rendering (ISO timestamps, shortest round-trip float reprs,
        fixed column order), never over pickles, so it is identical across runs, machines and pandas versions and
        changes whenever any bar value, timestamp or dividend changes. Names, source and splits are not part of it.
        """
        digest = hashlib.sha256()
        digest.update(b"vbl-market-data-v1\n[prices]\n")
        cols = [c for c in PRICE_COLUMN_ORDER if c in self.prices.columns]
        _hash_table(digest, self.prices.index, [(c, self.prices[c]) for c in cols])
        digest.update(b"[dividends]\n")
        divs = self.dividends
        _hash_table(
            digest,
            pd.RangeIndex(len(divs)),
            [
                ("ex_date", divs["ex_date"]),
                ("amount", divs["amount"]),
                ("pay_date", divs["pay_date"] if "pay_date" in divs else pd.Series(pd.NaT, index=divs.index)),
            ],
        )
        return digest.hexdigest()


def _render(values: Iterable) -> list[str]:
    out = []
    for v in values:
        if v is None or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
            out.append("")
        elif isinstance(v, pd.Timestamp):
            out.append(v.isoformat())
        elif isinstance(v, float | np.floating):
            out.append(repr(float(v)))
        else:
            out.append(str(v))
    return out


_NS_PER_SECOND = 1_000_000_000
_HASH_CHUNK_ROWS = 100_000  # rows rendered and hashed at a time: bounded memory for a 2,000,000-bar dataset


def _render_floats(values: np.ndarray) -> list[str]:
    """``_render`` of a float64 array, without a per-value type test (a big dataset has millions)."""
    out = list(map(float.__repr__, values.tolist()))
    for i in np.flatnonzero(np.isnan(values)):
        out[i] = ""
    return out


def _render_stamps(index: pd.DatetimeIndex) -> list[str] | None:
    """``_render`` of whole-second timestamps (``Timestamp.isoformat()`` of each), or None for any other index."""
    if index.hasnans:
        return None
    wall = (index if index.tz is None else index.tz_localize(None)).as_unit("ns").asi8
    if np.any(wall % _NS_PER_SECOND):
        return None  # fractions of a second: isoformat's own rules apply
    text = np.datetime_as_string(wall.view("datetime64[ns]"), unit="s")
    if index.tz is None:
        return text.tolist()
    offsets = (wall - index.as_unit("ns").asi8) // _NS_PER_SECOND
    if np.any(offsets % 60):
        return None
    suffix = {int(o): f"{'-' if o < 0 else '+'}{abs(o) // 3600:02d}:{abs(o) % 3600 // 60:02d}"
              for o in np.unique(offsets)}
    return [t + suffix[o] for t, o in zip(text.tolist(), offsets.tolist(), strict=True)]


def _render_column(values: pd.Index | pd.Series) -> list[str]:
    if isinstance(values, pd.DatetimeIndex):
        fast = _render_stamps(values)
        if fast is not None:
            return fast
    elif values.dtype == np.float64:
        return _render_floats(np.asarray(values))
    return _render(values if isinstance(values, pd.Index) else values.tolist())


def _hash_table(digest: hashlib._Hash, index: pd.Index, columns: list[tuple[str, pd.Series]]) -> None:
    digest.update(("index," + ",".join(name for name, _ in columns) + "\n").encode())
    # The same bytes as one update per row ("v,v,...\n"), hashed a chunk of rows at a time.
    for start in range(0, len(index), _HASH_CHUNK_ROWS):
        stop = start + _HASH_CHUNK_ROWS
        rendered = [_render_column(index[start:stop])] + [_render_column(s.iloc[start:stop]) for _, s in columns]
        digest.update(("\n".join(map(",".join, zip(*rendered, strict=True))) + "\n").encode())


def finish_prices(prices: pd.DataFrame) -> pd.DataFrame:
    """Put a price frame into the canonical layout: float columns in OHLCV order, index ``timestamp`` [ns]."""
    cols = [c for c in PRICE_COLUMN_ORDER if c in prices.columns]
    out = prices[cols].astype(float)
    out.index = pd.DatetimeIndex(out.index).as_unit("ns")  # as_unit keeps a time zone (astype would refuse it)
    out.index.name = "timestamp"
    return out


def finish_dividends(dividends: pd.DataFrame | None) -> pd.DataFrame:
    """Canonical dividends: the three columns, datetime64[ns] dates at midnight, float amounts, sorted by ex-date."""
    if dividends is None or len(dividends) == 0:
        return empty_dividends()
    ex = _local_dates(dividends["ex_date"])
    pay = (
        _local_dates(dividends["pay_date"])
        if "pay_date" in dividends
        else pd.Series(pd.NaT, index=dividends.index, dtype=DATETIME_DTYPE)
    )
    out = pd.DataFrame(
        {"ex_date": ex.to_numpy(), "amount": dividends["amount"].astype(float).to_numpy(), "pay_date": pay.to_numpy()}
    )
    return out.sort_values("ex_date", kind="stable").reset_index(drop=True)


def _local_dates(values: pd.Series) -> pd.Series:
    # An aware date keeps the calendar date it was written with; converting it first could move it a day.
    stamps = pd.to_datetime(values)
    if stamps.dt.tz is not None:
        stamps = stamps.dt.tz_localize(None)
    return stamps.dt.normalize().astype(DATETIME_DTYPE)
