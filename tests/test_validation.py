"""docs/strategy.md §2 validation: each problem raises DataError naming it and the first offending row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import DataError, simulate
from core.validation import validate_dividends, validate_prices


def _frame(**cols) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    return pd.DataFrame(cols, index=pd.bdate_range("2021-01-04", periods=n))


@pytest.mark.parametrize(
    ("prices", "message"),
    [
        (pd.DataFrame({"close": []}, index=pd.DatetimeIndex([])), "empty"),
        (_frame(price=[1.0, 2.0]), "no 'close' column"),
        (pd.DataFrame([[1.0, 1.0], [2.0, 2.0]], columns=["close", "Close"],
                      index=pd.bdate_range("2021-01-04", periods=2)), "ambiguous"),
        (pd.DataFrame({"close": [1.0, 2.0]}, index=[0, 1]), "DatetimeIndex"),
        (_frame(close=[1.0, 0.0, 2.0]), r"row 2 \(2021-01-05\): close must be positive"),
        (_frame(close=[1.0, np.nan]), "row 2 .*close is missing or not finite"),
        (_frame(close=[1.0, np.inf]), "not finite"),
        (_frame(close=[1.0]), "at least 2 bars"),
        (_frame(close=[5.0, 6.0], high=[5.0, 5.5], low=[4.0, 5.8]), "row 2 .*high 5.5 is below low 5.8"),
        (_frame(close=[5.0, 6.0], high=[5.5, 5.9], low=[4.0, 5.0]), "row 2 .*close 6.0 is above the high 5.9"),
        (_frame(close=[5.0, 6.0], low=[5.1, 5.0]), "row 1 .*close 5.0 is below the low 5.1"),
        (_frame(close=[5.0, 6.0], volume=[10, -1]), "row 2 .*volume is negative"),
        (_frame(close=["5.0", "abc"]), "row 2 .*close is not a number"),
    ],
)
def test_bad_prices_raise_data_error(prices, message):
    with pytest.raises(DataError, match=message):
        validate_prices(prices, "prices")
    with pytest.raises(DataError, match=message):
        simulate(prices)


def test_duplicate_and_unsorted_timestamps():
    idx = pd.to_datetime(["2021-01-04", "2021-01-05", "2021-01-05", "2021-01-06"])
    with pytest.raises(DataError, match=r"row 3 .*duplicate timestamp"):
        validate_prices(pd.DataFrame({"close": [1.0, 2, 3, 4]}, index=idx))
    idx = pd.to_datetime(["2021-01-04", "2021-01-06", "2021-01-05"])
    with pytest.raises(DataError, match=r"row 3 .*not increasing"):
        validate_prices(pd.DataFrame({"close": [1.0, 2, 3]}, index=idx))
    validate_prices(pd.DataFrame({"close": [1.0, 2, 3]}, index=idx), require_sorted=False)


def test_row_labels_point_at_file_lines():
    with pytest.raises(DataError, match=r"prices.csv: row 17 "):
        validate_prices(_frame(close=[1.0, -2.0]), "prices.csv", row_labels=[16, 17])


@pytest.mark.parametrize(
    ("divs", "message"),
    [
        (pd.DataFrame({"amount": [1.0]}), "need an 'ex_date' column"),
        (pd.DataFrame({"ex_date": ["2021-01-05", "not a date"], "amount": [1.0, 1.0]}), "dividend row 2: ex_date"),
        (pd.DataFrame({"ex_date": ["2021-01-05"], "amount": [-0.5]}), "must not be negative"),
        (pd.DataFrame({"ex_date": ["2021-01-05"], "amount": [None]}), "amount is missing"),
        (pd.DataFrame({"ex_date": ["2021-01-05"], "amount": [1.0], "pay_date": ["soon"]}), "pay_date"),
    ],
)
def test_bad_dividends_raise_data_error(divs, message):
    with pytest.raises(DataError, match=message):
        validate_dividends(divs, "dividends")
    with pytest.raises(DataError, match=message):
        simulate(_frame(close=[1.0, 2.0]), dividends=divs)
