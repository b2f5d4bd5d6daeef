"""Real daily price histories bundled in ``data/`` so the app works offline (provenance in ``data/README.md``).

GOOG, MSFT and SP500 are byte-for-byte copies of files shipped in PyPI packages; INTC, MMM and COST (prices and
dividend events) were extracted from a zipline-reloaded test bundle by ``data/tools/zipline_example_bundle.py``.
Nothing here imports those packages.
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
    dividends_file: str = ""  # dividend events (ex_date, amount[, pay_date]) relative to data/; "" for none

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
        SampleInfo(
            key="INTC",
            symbol="INTC",
            name="INTC daily 2004-2014 with dividends (zipline test bundle)",
            description="Intel daily OHLCV 2004-2014, raw closes (no split in the period), 44 quarterly dividends.",
            file="intc.csv",
            start="2004-01-02",
            end="2014-12-31",
            rows=2769,
            interval="1d",
            # Raw closes; Intel did not split in 2004-2014 (last split 2000), so they are split-adjusted as well.
            price_basis="split_adjusted",
            dividends="44 cash dividends as events (ex-date and amount per share; no pay dates in the source)",
            origin="zipline-reloaded 3.2.1 sdist, tests/resources/example_data.tar.gz (bundle 'test'), extracted",
            licence="Apache-2.0 (zipline-reloaded)",
            dividends_file="intc_dividends.csv",
        ),
        SampleInfo(
            key="MMM",
            symbol="MMM",
            name="MMM daily 2004-2014 with dividends (zipline test bundle)",
            description="3M daily OHLCV 2004-2014, raw closes (no split in the period), 44 quarterly dividends.",
            file="mmm.csv",
            start="2004-01-02",
            end="2014-12-31",
            rows=2769,
            interval="1d",
            # Raw closes; 3M's last split was in 2003, before the first bar.
            price_basis="split_adjusted",
            dividends="44 cash dividends as events (ex-date and amount per share; no pay dates in the source)",
            origin="zipline-reloaded 3.2.1 sdist, tests/resources/example_data.tar.gz (bundle 'test'), extracted",
            licence="Apache-2.0 (zipline-reloaded)",
            dividends_file="mmm_dividends.csv",
        ),
        SampleInfo(
            key="COST",
            symbol="COST",
            name="COST daily 2004-2014 with dividends (zipline test bundle)",
            description="Costco daily OHLCV 2004-2014, raw closes (no split in the period), 44 dividends incl. a "
            "7 USD special one.",
            file="cost.csv",
            start="2004-01-02",
            end="2014-12-31",
            rows=2769,
            interval="1d",
            # Raw closes; Costco's last split was in 2000.
            price_basis="split_adjusted",
            dividends="44 cash dividends as events, one of them the 7 USD special dividend of December 2012 (no pay "
            "dates in the source)",
            origin="zipline-reloaded 3.2.1 sdist, tests/resources/example_data.tar.gz (bundle 'test'), extracted",
            licence="Apache-2.0 (zipline-reloaded)",
            dividends_file="cost_dividends.csv",
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
    dividends = None
    if info.dividends_file:
        dividends = DATA_DIR / info.dividends_file
        if not dividends.is_file():
            raise DataError(f"bundled dataset {key} is missing: {dividends} not found (reinstall or restore data/)")
    loaded = load_csv(path, symbol=info.symbol, dividends=dividends)
    # The file's own columns cannot tell split- from dividend-adjusted prices; the registry knows.
    return replace(loaded, name=info.name, price_basis=info.price_basis, source="bundled")


def load_sample(name: str) -> MarketData:
    """Load a bundled dataset by key (``"GOOG"``, ``"MSFT"``, ``"SP500"``, ``"INTC"``, ``"MMM"``, ``"COST"``;
    case-insensitive). INTC, MMM and COST come with their dividend events in ``.dividends``.

    Parsed once per process; every call returns a fresh deep copy, so callers may modify what they get.

    Raises:
        DataError: for an unknown name (the message lists the available ones) or a missing file.
    """
    return _load_cached(_info(name).key).copy()
