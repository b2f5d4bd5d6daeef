"""The dividend-paying bundled samples (INTC, MMM, COST, 2004-2014): pinned files, exact values, dividends counted.

Provenance and the extraction script (``data/tools/zipline_example_bundle.py``) are described in ``data/README.md``.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

import core
from core.data import load_dividends_csv, load_sample
from core.data.samples import DATA_DIR, SAMPLES

KEYS = ("INTC", "MMM", "COST")

# Pinned SHA-256 of the bundled files: what data/tools/zipline_example_bundle.py writes from zipline-reloaded 3.2.1.
FILE_SHA256 = {
    "intc.csv": "0e41384a036d3179c85322de78b324bbe687313267937152c143a7ca121ecbc3",
    "intc_dividends.csv": "58e6f281429df9a2f56e56109d8a0088cd96dd5a1369ed843ff37c93822499fe",
    "mmm.csv": "17dda6f128a0be15e0eac148ccc46f3bec893badec816d255e2858bd81dd1947",
    "mmm_dividends.csv": "cebde5f77f720abecdb7ad6490b8e5bf588ae6a2208a11cc22f3dd4cb2746b29",
    "cost.csv": "fce1d03264c1a3d2c50c2d3d1cb5a71abbf663776e2a4aa4edfca0811def79d0",
    "cost_dividends.csv": "d602f9a9ef54682494651953d78005df22c424bff321e98c5b9aaeb7d4b28c28",
}
# Normalised-data fingerprints (MarketData.sha256(), prices and dividends), as in data/README.md.
FINGERPRINTS = {
    "INTC": "dfa60c9318a7f70fa553e408c8dc8a9fa4807958f44e26d0d049ee39117e4782",
    "MMM": "9e3352cccc172bd7fdb58e508cde95ebdb0e4dc5d9a9360d67ef8d92fcda1d8c",
    "COST": "153cb5d44329baaa4a4788a49461d9083bf11c3d24a0fdee49cf352392bc15f6",
}
# key: (first close, last close, dividends: count, first ex-date, last ex-date, sum of amounts)
VALUES = {
    "INTC": (32.16, 36.29, 44, "2004-02-04", "2014-11-05", 6.524),
    "MMM": (83.37, 164.32, 44, "2004-02-18", "2014-11-19", 23.54),
    "COST": (36.32, 141.75, 44, "2004-05-06", "2014-11-12", 15.505),
}
# A few events exactly as the source has them (ex-date, amount per share).
EVENTS = {
    "INTC": [("2004-02-04", 0.04), ("2008-02-05", 0.128), ("2014-11-05", 0.225)],
    "MMM": [("2004-02-18", 0.36), ("2013-11-20", 0.635), ("2014-02-12", 0.855)],
    "COST": [("2004-05-06", 0.1), ("2012-12-06", 7.0), ("2014-11-12", 0.355)],
}


@pytest.mark.parametrize("name", sorted(FILE_SHA256))
def test_bundled_file_is_pinned(name):
    assert hashlib.sha256((DATA_DIR / name).read_bytes()).hexdigest() == FILE_SHA256[name]


@pytest.mark.parametrize("key", KEYS)
def test_registry_names_the_files(key):
    info = SAMPLES[key]
    assert info.file == f"{key.lower()}.csv"
    assert info.dividends_file == f"{key.lower()}_dividends.csv"
    assert "zipline-reloaded 3.2.1" in info.origin and "Apache-2.0" in info.licence


@pytest.mark.parametrize("key", KEYS)
def test_fingerprint_is_pinned(key):
    assert load_sample(key).sha256() == FINGERPRINTS[key]


@pytest.mark.parametrize("key", KEYS)
def test_prices_and_dividends_have_the_expected_values(key):
    first_close, last_close, n_divs, first_ex, last_ex, total = VALUES[key]
    md = load_sample(key)
    close = md.prices["close"]
    assert (close.iloc[0], close.iloc[-1]) == (first_close, last_close)
    # Whole cents everywhere (the extraction restored the cents zipline's writer had truncated to thousandths).
    prices = md.prices[["open", "high", "low", "close"]].to_numpy()
    assert np.allclose(prices * 100, np.round(prices * 100), rtol=0, atol=1e-6)
    assert (md.prices["volume"] > 0).all()

    divs = md.dividends
    assert len(divs) == n_divs
    assert divs["ex_date"].iloc[0] == pd.Timestamp(first_ex) and divs["ex_date"].iloc[-1] == pd.Timestamp(last_ex)
    assert divs["amount"].sum() == pytest.approx(total, abs=1e-9)
    assert (divs["amount"] > 0).all() and divs["ex_date"].is_monotonic_increasing and divs["ex_date"].is_unique
    assert divs["pay_date"].isna().all()  # the source has no pay dates: the simulator's pay lag applies
    assert divs["ex_date"].isin(md.prices.index).all()  # every ex-date is a bar
    by_date = dict(zip(divs["ex_date"], divs["amount"], strict=True))
    for ex, amount in EVENTS[key]:
        assert by_date[pd.Timestamp(ex)] == amount


@pytest.mark.parametrize("key", KEYS)
def test_dividends_file_reads_alone_like_the_sample(key):
    alone = load_dividends_csv(DATA_DIR / SAMPLES[key].dividends_file)
    pd.testing.assert_frame_equal(alone, load_sample(key).dividends)


@pytest.mark.parametrize("key", KEYS)
def test_simulation_counts_the_dividends(key):
    md = load_sample(key)
    with_divs = core.simulate(md.prices, dividends=md.dividends)
    without = core.simulate(md.prices)
    assert with_divs.metrics["dividends_gross"] > 0
    assert 0 < with_divs.metrics["dividends_net"] <= with_divs.metrics["dividends_gross"]
    assert without.metrics["dividends_gross"] == 0
    assert with_divs.equity.iloc[-1] > without.equity.iloc[-1]


@pytest.mark.parametrize("key", KEYS)
def test_bars_line_up_with_goog_and_msft(key):
    """A GOOG or MSFT portfolio with these stocks has the same sessions: GOOG's bars all fall on theirs, and MSFT's
    2004-2014 bars are theirs exactly."""
    bars = load_sample(key).prices.index
    goog = load_sample("GOOG").prices.index
    msft = load_sample("MSFT").prices.index
    assert goog.isin(bars).all()
    assert bars[(bars >= goog[0]) & (bars <= goog[-1])].equals(goog)
    assert msft[(msft >= bars[0]) & (msft <= bars[-1])].equals(bars)
