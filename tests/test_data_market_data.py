"""MarketData: the canonical layout and a fingerprint that is stable across runs and machines."""

from __future__ import annotations

import dataclasses
import io

import pandas as pd
import pytest

from core.data import MarketData, empty_dividends, load_csv, load_sample

# Pinned: a change means the canonical rendering (or the bundled data) changed, which invalidates stored runs.
PINNED = {
    "GOOG": "f74aa48a969a18030f15c52b72798827931b583b57506a6a8cdc632cbbb54a6a",
    "MSFT": "27f6aed357197069a3290a0de301cbfeb54ce8d1e6a6e1621520a21eaec43ffd",
    "SP500": "a97a8e73edc486e3ac83b0da8a04398ffd0f24f7bd99e94894cecbad588d895b",
}

CSV = "Date,Open,High,Low,Close,Volume\n2020-01-02,10,11,9,10.5,100\n2020-01-03,10.5,11.5,10,11,200\n"


def small() -> MarketData:
    return load_csv(io.StringIO(CSV), symbol="TEST")


@pytest.mark.parametrize("key", sorted(PINNED))
def test_sample_sha256_is_pinned(key):
    assert load_sample(key).sha256() == PINNED[key]


def test_sha256_is_stable_and_ignores_labels():
    a, b = small(), small()
    assert a.sha256() == b.sha256()
    assert len(a.sha256()) == 64
    renamed = dataclasses.replace(a, symbol="OTHER", name="other", source="bundled")
    assert renamed.sha256() == a.sha256()


def test_sha256_changes_with_any_price_timestamp_or_dividend():
    base = small()
    tweaked = base.copy()
    tweaked.prices.iloc[1, tweaked.prices.columns.get_loc("close")] = 11.000000001
    assert tweaked.sha256() != base.sha256()

    volume = base.copy()
    volume.prices.iloc[0, volume.prices.columns.get_loc("volume")] = 101
    assert volume.sha256() != base.sha256()

    shifted = base.copy()
    shifted.prices.index = shifted.prices.index + pd.Timedelta(days=1)
    assert shifted.sha256() != base.sha256()

    with_div = dataclasses.replace(
        base, dividends=pd.DataFrame({"ex_date": [pd.Timestamp("2020-01-03")], "amount": [0.1], "pay_date": [pd.NaT]})
    )
    assert with_div.sha256() != base.sha256()
    paid = dataclasses.replace(
        base,
        dividends=pd.DataFrame(
            {"ex_date": [pd.Timestamp("2020-01-03")], "amount": [0.1], "pay_date": [pd.Timestamp("2020-01-20")]}
        ),
    )
    assert paid.sha256() != with_div.sha256()


def test_copy_is_deep_and_attrs_carry_timezone_and_basis():
    md = small()
    assert md.prices.attrs == {"timezone": "America/New_York", "price_basis": "unknown", "symbol": "TEST"}
    clone = md.copy()
    clone.prices.iloc[0, 0] = 99.0
    assert md.prices.iloc[0, 0] == 10.0
    assert clone.prices.attrs["timezone"] == "America/New_York"
    assert (md.start, md.end) == (pd.Timestamp("2020-01-02"), pd.Timestamp("2020-01-03"))


def test_market_data_is_frozen_and_not_value_compared():
    md = small()
    with pytest.raises(dataclasses.FrozenInstanceError):
        md.symbol = "X"  # type: ignore[misc]
    assert md != small()  # eq=False: identity, frames are never compared element-wise by accident
    assert [f.name for f in dataclasses.fields(MarketData)] == [
        "prices",
        "dividends",
        "symbol",
        "name",
        "interval",
        "price_basis",
        "source",
        "timezone",
        "splits",
    ]


def test_empty_dividends_layout():
    empty = empty_dividends()
    assert list(empty.columns) == ["ex_date", "amount", "pay_date"]
    assert str(empty["ex_date"].dtype) == "datetime64[ns]" and str(empty["pay_date"].dtype) == "datetime64[ns]"
