"""Market data for the simulator: bundled samples, CSV uploads and Yahoo Finance, all as :class:`MarketData`.

Every loader returns prices that satisfy docs/strategy.md §2 (sorted, validated, exchange-local timestamps), says which
price basis they are on, and raises :class:`core.errors.DataError` with a readable message for anything wrong.
"""

from core.data.csv_loader import load_csv, load_dividends_csv
from core.data.dividends import normalise_dividends
from core.data.market_data import MarketData, empty_dividends
from core.data.period import market_data_for_period, select_period
from core.data.quality import QualityReport, quality_report
from core.data.samples import SampleInfo, list_samples, load_sample
from core.data.timestamps import infer_interval
from core.data.yahoo import fetch_yahoo

__all__ = [
    "MarketData",
    "QualityReport",
    "SampleInfo",
    "empty_dividends",
    "fetch_yahoo",
    "infer_interval",
    "list_samples",
    "load_csv",
    "load_dividends_csv",
    "load_sample",
    "market_data_for_period",
    "normalise_dividends",
    "quality_report",
    "select_period",
]
