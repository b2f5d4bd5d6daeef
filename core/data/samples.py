"""Real daily price histories bundled in ``data/`` so the app works offline (provenance in ``data/README.md``).

The CSVs are byte-for-byte copies of files shipped in PyPI packages; nothing here imports those packages.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path

from core.data.csv_loader import load_csv
from core.data.market_data import MarketData
from core.errors import DataError

DATA_DIR = Path(__file__).resolve().parents[2] / "data"


@dataclass(frozen=True)
class SampleInfo:
    """What a bundled dataset is, without loading it."""

    key: str  # the name load_sample() takes, e.g. "GOOG"
    symbol: str
    name: str
    description: str
    file: str  # path relative to data/
    start: str  # first bar, ISO date
    end: str  # last bar, ISO date
    rows: int
    interval: str
    price_basis: str
    dividends: str  # what the dividend events are and why
    origin: str  # PyPI package, version and path inside it
    licence: str

    @property
    def period(self) -> str:
        """``"2004-08-19 – 2013-03-01"``."""
        return f"{self.start} – {self.end}"


SAMPLES: dict[str, SampleInfo] = {
    info.key: info
    for info in (
        SampleInfo(
            key="GOOG",
            symbol="GOOG",
            name="GOOG daily 2004-2013 (backtesting.py test data)",
            description="Alphabet/Google daily OHLCV from the IPO to March 2013: raw prices, no dividends paid.",
            file="goog.csv",
            start="2004-08-19",
            end="2013-03-01",
            rows=2148,
            interval="1d",
            # No split happened inside the period (the 2014 share split came later), so the raw closes are also
            # split-adjusted for the period; Google paid no dividends, so there is nothing to fold in or model.
            price_basis="split_adjusted",
            dividends="none: Google paid no dividends in this period",
            origin="backtesting 0.6.6, backtesting/test/GOOG.csv",
            licence="AGPL-3.0 (backtesting.py)",
        ),
        SampleInfo(
            key="MSFT",
            symbol="MSFT",
            name="MSFT daily 1986-2017 (pmdarima dataset, dividend-adjusted)",
            description="Microsoft daily OHLCV from the 1986 IPO to November 2017, split- and dividend-adjusted.",
            file="msft.csv",
            start="1986-03-13",
            end="2017-11-10",
            rows=7983,
            interval="1d",
            price_basis="dividend_adjusted",
            dividends="none as events: dividends are already folded into the adjusted prices",
            origin="pmdarima 2.1.1, pmdarima/datasets/data/msft.tar.gz (member msft.csv)",
            licence="MIT (pmdarima)",
        ),
        SampleInfo(
            key="SP500",
            symbol="^GSPC",
            name="S&P 500 index daily 1999-2018 (arch dataset)",
            description="S&P 500 price index daily OHLCV 1999-2018 (an index: no dividends, no splits).",
            file="sp500.csv",
            start="1999-01-04",
            end="2018-12-31",
            rows=5031,
            interval="1d",
            price_basis="split_adjusted",
            dividends="none: a price index pays none (total-return effects are not included)",
            origin="arch 8.0.0, arch/data/sp500/sp500.csv.gz (decompressed)",
            licence="NCSA (University of Illinois/NCSA Open Source License, arch)",
        ),
    )
}


def list_samples() -> list[SampleInfo]:
    """Describe every bundled dataset (key, name, description, period, rows, interval, basis, origin, licence)."""
    return list(SAMPLES.values())


def _info(name: str) -> SampleInfo:
    key = str(name).strip().upper()
    if key not in SAMPLES:
        available = ", ".join(SAMPLES)
        raise DataError(f"unknown sample dataset {name!r}; available: {available}")
    return SAMPLES[key]


@functools.lru_cache(maxsize=8)
def _load_cached(key: str) -> MarketData:
    info = SAMPLES[key]
    path = DATA_DIR / info.file
    if not path.is_file():
        raise DataError(f"bundled dataset {key} is missing: {path} not found (reinstall or restore data/)")
    loaded = load_csv(path, symbol=info.symbol)
    # The file's own columns cannot tell split- from dividend-adjusted prices; the registry knows.
    return replace(loaded, name=info.name, price_basis=info.price_basis, source="bundled")


def load_sample(name: str) -> MarketData:
    """Load a bundled dataset by key (``"GOOG"``, ``"MSFT"``, ``"SP500"``; case-insensitive).

    Parsed once per process; every call returns a fresh deep copy, so callers may modify what they get.

    Raises:
        DataError: for an unknown name (the message lists the available ones) or a missing file.
    """
    return _load_cached(_info(name).key).copy()
