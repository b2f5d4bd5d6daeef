"""Cutting prices and dividends to a date range: one implementation for the CLI's --start/--end and the app."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from core.bars import DEFAULT_TIMEZONE, local_wall_clock
from core.errors import DataError

if TYPE_CHECKING:
    from core.data.market_data import MarketData


def select_period(
    prices: pd.DataFrame, dividends: pd.DataFrame, start: date | None, end: date | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The bars from ``start`` to ``end`` (exchange-local calendar dates, both inclusive; intraday bars of ``end``
    included) and the dividends going ex up to ``end``.

    Earlier dividends are kept: the engine ignores those on or before the first bar. Raises ``DataError`` when the
    period is reversed or holds fewer than two bars.
    """
    if start is None and end is None:
        return prices, dividends
    if start is not None and end is not None and start > end:
        raise DataError(f"--start {start} is after --end {end}")
    # Compare exchange-local wall-clock dates, so aware timestamps cut where the user's dates say.
    local = local_wall_clock(prices.index, prices.attrs.get("timezone") or DEFAULT_TIMEZONE)
    keep = np.ones(len(local), dtype=bool)
    if start is not None:
        keep &= local >= pd.Timestamp(start)
    if end is not None:
        stop = pd.Timestamp(end) + pd.Timedelta(days=1)
        keep &= local < stop
        if len(dividends):
            dividends = dividends[pd.to_datetime(dividends["ex_date"]) < stop].reset_index(drop=True)
    selected = prices[keep]
    selected.attrs = dict(prices.attrs)  # the timezone and basis travel in attrs
    if len(selected) < 2:
        covered = f"{local[0]:%Y-%m-%d} to {local[-1]:%Y-%m-%d}"
        raise DataError(
            f"only {len(selected)} bar(s) between {start or 'the start'} and {end or 'the end'}; need at least 2 "
            f"(the data covers {covered})"
        )
    return selected, dividends


def market_data_for_period(data: MarketData, start: date | None, end: date | None) -> MarketData:
    """``data`` cut by :func:`select_period`; a cut dataset is named after its period (``GOOG 2010-01-04..2012-12-31``)
    so that, once stored, it does not pass for the whole history. Uncut data is returned as it is."""
    prices, dividends = select_period(data.prices, data.dividends, start, end)
    if len(prices) == len(data.prices) and len(dividends) == len(data.dividends):
        return data
    name = f"{data.name} {prices.index[0]:%Y-%m-%d}..{prices.index[-1]:%Y-%m-%d}"
    return dataclasses.replace(data, prices=prices, dividends=dividends, name=name)
