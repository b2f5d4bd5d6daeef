"""Bundled samples: right rows, periods and basis; cached but handed out as copies; files match data/README.md.

The dividend-paying samples (INTC, MMM, COST) are checked further in ``tests/test_data_samples_dividends.py``.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pandas as pd
import pytest

from core.data import MarketData, list_samples, load_sample
from core.data.samples import DATA_DIR
from core.errors import DataError

EXPECTED = {
    # key: (rows, first bar, last bar, basis, symbol)
    "GOOG": (2148, "2004-08-19", "2013-03-01", "split_adjusted", "GOOG"),
    "MSFT": (7983, "1986-03-13", "2017-11-10", "dividend_adjusted", "MSFT"),
    "SP500": (5031, "1999-01-04", "2018-12-31", "split_adjusted", "^GSPC"),
    "INTC": (2769, "2004-01-02", "2014-12-31", "split_adjusted", "INTC"),
    "MMM": (2769, "2004-01-02", "2014-12-31", "split_adjusted", "MMM"),
    "COST": (2769, "2004-01-02", "2014-12-31", "split_adjusted", "COST"),
}
# key: number of dividend events bundled with the prices (0: none as events)
DIVIDEND_EVENTS = {"GOOG": 0, "MSFT": 0, "SP500": 0, "INTC": 44, "MMM": 44, "COST": 44}


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_sample_loads_with_expected_rows_period_and_basis(key):
    rows, first, last, basis, symbol = EXPECTED[key]
    md = load_sample(key)
    assert isinstance(md, MarketData)
    assert len(md.prices) == rows
    assert md.prices.index[0] == pd.Timestamp(first)
    assert md.prices.index[-1] == pd.Timestamp(last)
    assert md.price_basis == basis
    assert md.symbol == symbol
    assert md.source == "bundled"
    assert md.interval == "1d"
    assert md.timezone == "America/New_York"
    assert md.prices.attrs["timezone"] == "America/New_York"
    assert list(md.prices.columns) == ["open", "high", "low", "close", "volume"]
    assert md.prices.index.is_monotonic_increasing and md.prices.index.is_unique
    assert list(md.dividends.columns) == ["ex_date", "amount", "pay_date"]
    assert len(md.dividends) == DIVIDEND_EVENTS[key]


def test_list_samples_agrees_with_the_data():
    infos = {info.key: info for info in list_samples()}
    assert set(infos) == set(EXPECTED)
    for key, info in infos.items():
        rows, first, last, basis, symbol = EXPECTED[key]
        assert (info.rows, info.start, info.end, info.price_basis, info.symbol) == (rows, first, last, basis, symbol)
        assert info.period == f"{first} – {last}"
        assert info.description and info.name and info.licence and info.origin
        assert (DATA_DIR / info.file).is_file()
        assert bool(info.dividends_file) == (DIVIDEND_EVENTS[key] > 0)
        if info.dividends_file:
            assert (DATA_DIR / info.dividends_file).is_file()


def test_names_are_case_insensitive_and_unknown_lists_available():
    assert load_sample("goog").symbol == "GOOG"
    assert load_sample(" Sp500 ").symbol == "^GSPC"
    available = "GOOG, MSFT, SP500, INTC, MMM, COST"
    with pytest.raises(DataError, match=rf"unknown sample dataset 'AAPL'; available: {available}"):
        load_sample("AAPL")


def test_cache_hands_out_copies():
    first = load_sample("GOOG")
    close0 = first.prices["close"].iloc[0]
    first.prices.loc[first.prices.index[0], "close"] = -1.0
    first.dividends.loc[0] = [pd.Timestamp("2005-01-03"), 1.0, pd.NaT]
    second = load_sample("GOOG")
    assert second.prices["close"].iloc[0] == close0 == 100.34
    assert second.dividends.empty
    assert second.prices is not first.prices


def test_readme_states_file_hashes_rows_and_licences():
    readme = (DATA_DIR / "README.md").read_text(encoding="utf-8")
    for info in list_samples():
        digest = hashlib.sha256((DATA_DIR / info.file).read_bytes()).hexdigest()
        section = readme.split(f"## `{info.file}`", 1)[1].split("\n## ", 1)[0]
        assert f"`{digest}`" in section, f"data/README.md has a stale SHA-256 for {info.file}"
        if info.dividends_file:
            div_digest = hashlib.sha256((DATA_DIR / info.dividends_file).read_bytes()).hexdigest()
            assert f"`{info.dividends_file}`" in section
            assert f"`{div_digest}`" in section, f"data/README.md has a stale SHA-256 for {info.dividends_file}"
        assert re.search(rf"\*\*Rows:\*\* {info.rows} daily bars, {info.start} to {info.end}", section)
        assert "**Licence:**" in section and "**Source:**" in section and "**Price basis:**" in section
    for name in (
        "arch-8.0.0-LICENSE.md",
        "backtesting-0.6.6-LICENSE.md",
        "pmdarima-2.1.1-LICENSE.txt",
        "zipline-reloaded-3.2.1-LICENSE",
    ):
        assert (DATA_DIR / "licenses" / name).is_file()


def test_sample_files_are_small():
    files = [info.file for info in list_samples()] + [i.dividends_file for i in list_samples() if i.dividends_file]
    total = sum((DATA_DIR / name).stat().st_size for name in files)
    assert total < 1_600_000
    assert Path(DATA_DIR / "README.md").is_file()
