"""fetch_yahoo from recorded responses: normalisation, the disk cache, retries, and the errors users see.

Nothing here reaches the network: every test runs with Python sockets and curl_cffi (which yfinance uses and which
bypasses Python sockets) blocked, and the downloads come from frames recorded in tests/fixtures/market_data.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pandas as pd
import pytest
import requests
import yfinance
from yfinance import exceptions as yfe

from core.data import fetch_yahoo
from core.data.yahoo_cache import default_cache_dir
from core.errors import DataError

FIXTURES = Path(__file__).parent / "fixtures" / "market_data"


class NetworkBlocked(AssertionError):
    pass


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Fail loudly on any attempt to open a connection."""

    def refuse(*args, **kwargs):
        raise NetworkBlocked("a test tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    import curl_cffi.requests

    monkeypatch.setattr(curl_cffi.requests.Session, "request", refuse)
    monkeypatch.setattr(requests.Session, "request", refuse)


def recorded(name: str) -> pd.DataFrame:
    """A frame exactly as ``yfinance.Ticker.history(auto_adjust=False, actions=True)`` returns it."""
    frame = pd.read_csv(FIXTURES / name, index_col=0)
    index = pd.to_datetime(frame.index, utc=True).tz_convert("America/New_York")
    frame.index = index.rename(frame.index.name)
    return frame


class Recorder:
    """A downloader that replays a recorded frame and remembers its calls."""

    def __init__(self, name: str = "yahoo_aapl_2020-08_1d.csv", failures: list[BaseException] | None = None):
        self.frame = recorded(name)
        self.failures = list(failures or [])
        self.calls: list[tuple] = []

    def __call__(self, symbol, start, end, interval, session=None):
        self.calls.append((symbol, start, end, interval, session))
        if self.failures:
            raise self.failures.pop(0)
        return self.frame.copy()


def never_called(*args, **kwargs):
    raise AssertionError("the downloader must not be called on a cache hit")


@pytest.fixture
def sleeps():
    return []


def test_recorded_daily_response_is_normalised(tmp_path, sleeps):
    md = fetch_yahoo("aapl", "2020-08-01", "2020-09-05", cache_dir=tmp_path, downloader=Recorder(), sleep=sleeps.append)
    assert md.symbol == "AAPL"
    assert md.source == "yahoo"
    assert md.price_basis == "split_adjusted"
    assert md.interval == "1d"
    assert md.timezone == "America/New_York"
    assert len(md.prices) == 25
    assert md.prices.index[0] == pd.Timestamp("2020-08-03")  # midnight, naive, exchange date kept
    assert md.prices.index.dtype == "datetime64[ns]"
    assert list(md.prices.columns) == ["open", "high", "low", "close", "volume"]
    assert md.prices["close"].iloc[0] == 108.94  # Close, not Adj Close
    assert md.dividends.to_dict("list") == {
        "ex_date": [pd.Timestamp("2020-08-07")],
        "amount": [0.205],
        "pay_date": [pd.NaT],
    }
    assert md.splits.to_dict("list") == {"ex_date": [pd.Timestamp("2020-08-31")], "ratio": [4.0]}
    assert md.name == "AAPL 1d 2020-08-03–2020-09-04 (Yahoo Finance)"
    assert sleeps == []


def test_downloader_gets_exchange_local_datetimes(tmp_path):
    rec = Recorder()
    fetch_yahoo("AAPL", "2020-08-01", "2020-09-05", cache_dir=tmp_path, downloader=rec, session="S")
    symbol, start, end, interval, session = rec.calls[0]
    assert (symbol, interval, session) == ("AAPL", "1d", "S")
    assert (start.isoformat(), end.isoformat()) == ("2020-08-01T00:00:00", "2020-09-05T00:00:00")


def test_intraday_response_across_dst_becomes_exchange_local(tmp_path):
    md = fetch_yahoo(
        "SPY", "2024-03-08", "2024-03-12", "60m", cache_dir=tmp_path, downloader=Recorder("yahoo_spy_2024-03_1h.csv")
    )
    assert md.interval == "1h"
    assert md.prices.index[0] == pd.Timestamp("2024-03-08 09:30")
    assert md.prices.index[7] == pd.Timestamp("2024-03-11 09:30")  # EDT after the switch, still 09:30 local
    assert len(md.prices) == 14
    assert md.dividends.empty and md.splits.empty


def test_second_call_is_served_offline_from_cache(tmp_path):
    first = fetch_yahoo("AAPL", "2020-08-01", "2020-09-05", cache_dir=tmp_path, downloader=Recorder())
    files = list(tmp_path.glob("*.json"))
    assert len(files) == 1
    doc = json.loads(files[0].read_text())
    assert doc["key"] == ["AAPL", "2020-08-01", "2020-09-05", "1d"] and doc["timezone"] == "America/New_York"

    again = fetch_yahoo("AAPL", "2020-08-01", "2020-09-05", cache_dir=tmp_path, downloader=never_called)
    assert again.sha256() == first.sha256()
    pd.testing.assert_frame_equal(again.prices, first.prices)
    pd.testing.assert_frame_equal(again.dividends, first.dividends)
    pd.testing.assert_frame_equal(again.splits, first.splits)


def test_cache_key_includes_every_part(tmp_path):
    rec = Recorder()
    fetch_yahoo("AAPL", "2020-08-01", "2020-09-05", cache_dir=tmp_path, downloader=rec)
    fetch_yahoo("AAPL", "2020-08-02", "2020-09-05", cache_dir=tmp_path, downloader=rec)
    fetch_yahoo("AAPL", "2020-08-01", "2020-09-06", cache_dir=tmp_path, downloader=rec)
    fetch_yahoo("AAPL", "2020-08-01", "2020-09-05", "1wk", cache_dir=tmp_path, downloader=rec)
    fetch_yahoo("MSFT", "2020-08-01", "2020-09-05", cache_dir=tmp_path, downloader=rec)
    assert len(rec.calls) == 5
    assert len(list(tmp_path.glob("*.json"))) == 5


def test_default_cache_dir_comes_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("VBL_CACHE_DIR", str(tmp_path))
    assert default_cache_dir() == tmp_path / "yahoo"
    fetch_yahoo("AAPL", "2020-08-01", "2020-09-05", downloader=Recorder())
    assert len(list((tmp_path / "yahoo").glob("*.json"))) == 1
    fetch_yahoo("AAPL", "2020-08-01", "2020-09-05", downloader=never_called)
    monkeypatch.delenv("VBL_CACHE_DIR")
    assert default_cache_dir().parts[-3:] == ("var", "cache", "yahoo")


def test_range_ending_in_the_future_is_not_cached(tmp_path):
    rec = Recorder()
    end = (pd.Timestamp.now() + pd.Timedelta(days=30)).strftime("%Y-%m-%d")
    fetch_yahoo("AAPL", "2020-08-01", end, cache_dir=tmp_path, downloader=rec)
    fetch_yahoo("AAPL", "2020-08-01", end, cache_dir=tmp_path, downloader=rec)
    assert len(rec.calls) == 2
    assert not list(tmp_path.glob("*.json"))


def test_damaged_cache_file_is_refetched(tmp_path):
    fetch_yahoo("AAPL", "2020-08-01", "2020-09-05", cache_dir=tmp_path, downloader=Recorder())
    (path,) = tmp_path.glob("*.json")
    path.write_text("{not json")
    rec = Recorder()
    fetch_yahoo("AAPL", "2020-08-01", "2020-09-05", cache_dir=tmp_path, downloader=rec)
    assert len(rec.calls) == 1
    json.loads(path.read_text())  # rewritten


def test_transient_failures_are_retried_with_exponential_backoff(tmp_path, sleeps):
    rec = Recorder(failures=[requests.exceptions.ConnectionError("reset"), TimeoutError("slow")])
    md = fetch_yahoo(
        "AAPL", "2020-08-01", "2020-09-05", cache_dir=tmp_path, downloader=rec, backoff_s=0.5, sleep=sleeps.append
    )
    assert len(md.prices) == 25
    assert len(rec.calls) == 3
    assert sleeps == [0.5, 1.0]


def test_rate_limit_is_retried_then_explained(tmp_path, sleeps):
    rec = Recorder(failures=[yfe.YFRateLimitError()] * 3)
    with pytest.raises(DataError, match="rate-limiting"):
        fetch_yahoo(
            "AAPL", "2020-08-01", "2020-09-05", cache_dir=tmp_path, downloader=rec, retries=2, sleep=sleeps.append
        )
    assert sleeps == [1.0, 2.0]


def test_offline_gives_a_clear_error_after_retries(tmp_path, sleeps):
    import curl_cffi.requests.exceptions as curl_errors

    rec = Recorder(failures=[curl_errors.ConnectionError("Could not resolve host: query2.finance.yahoo.com")] * 4)
    with pytest.raises(DataError) as err:
        fetch_yahoo("AAPL", "2020-08-01", "2020-09-05", cache_dir=tmp_path, downloader=rec, sleep=sleeps.append)
    message = str(err.value)
    assert message.startswith("could not reach Yahoo Finance for 'AAPL' (tried 4 times")
    assert "check your connection or use a bundled dataset / CSV upload" in message
    assert sleeps == [1.0, 2.0, 4.0]
    assert not list(tmp_path.glob("*.json"))


@pytest.mark.parametrize(
    "failure",
    [
        yfe.YFPricesMissingError("NOSUCH", "(1d 2020-08-01 -> 2020-09-05)"),
        yfe.YFTzMissingError("NOSUCH"),
        yfe.YFPricesMissingError("NOSUCH", "", yahoo_reason="No data found, symbol may be delisted"),
    ],
)
def test_unknown_symbol_is_not_retried(tmp_path, sleeps, failure):
    rec = Recorder(failures=[failure])
    with pytest.raises(DataError, match=r"Yahoo Finance returned no data for 'NOSUCH' from 2020-08-01 to 2020-09-05"):
        fetch_yahoo("NOSUCH", "2020-08-01", "2020-09-05", cache_dir=tmp_path, downloader=rec, sleep=sleeps.append)
    assert len(rec.calls) == 1 and sleeps == []


def test_empty_response_is_no_data(tmp_path):
    empty = yfinance.utils.empty_df()
    with pytest.raises(DataError, match="returned no data for 'ZZZZ'"):
        fetch_yahoo("ZZZZ", "2020-08-01", "2020-09-05", cache_dir=tmp_path, downloader=lambda *a, **k: empty)
    assert not list(tmp_path.glob("*.json"))


def test_unexpected_library_error_becomes_data_error(tmp_path, sleeps):
    rec = Recorder(failures=[KeyError("chart")])
    with pytest.raises(DataError, match=r"Yahoo Finance download of 'AAPL' failed: KeyError"):
        fetch_yahoo("AAPL", "2020-08-01", "2020-09-05", cache_dir=tmp_path, downloader=rec, sleep=sleeps.append)
    assert sleeps == []


def test_inconsistent_response_fails_validation(tmp_path):
    rec = Recorder()
    rec.frame.iloc[3, rec.frame.columns.get_loc("Close")] = -1.0
    with pytest.raises(DataError, match=r"Yahoo Finance AAPL: row 4 \(2020-08-06\): close must be positive"):
        fetch_yahoo("AAPL", "2020-08-01", "2020-09-05", cache_dir=tmp_path, downloader=rec)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("AA PL", "2020-01-01", "2020-02-01"), "is not a ticker symbol"),
        (("AAPL", "2020-01-01", "2020-02-01", "2d"), "unknown interval '2d'"),
        (("AAPL", "2020-02-01", "2020-01-01"), "must be before the end"),
        (("AAPL", "someday", "2020-01-01"), "cannot read the start date 'someday'"),
    ],
)
def test_bad_arguments(tmp_path, args, message):
    with pytest.raises(DataError, match=message):
        fetch_yahoo(*args, cache_dir=tmp_path, downloader=never_called)


# ---------------------------------------------------------------- the default downloader, with yfinance patched


def test_default_downloader_calls_yfinance_for_raw_prices(tmp_path, monkeypatch):
    seen = {}

    def history(self, **kwargs):
        seen.update(kwargs, ticker=self.ticker, hide=yfinance.config.debug.hide_exceptions)
        return recorded("yahoo_aapl_2020-08_1d.csv")

    monkeypatch.setattr(yfinance.Ticker, "history", history)
    hide_before = yfinance.config.debug.hide_exceptions
    md = fetch_yahoo("AAPL", "2020-08-01", "2020-09-05", cache_dir=tmp_path)
    assert len(md.prices) == 25
    assert seen["ticker"] == "AAPL"
    assert seen["auto_adjust"] is False and seen["actions"] is True
    assert seen["interval"] == "1d"
    assert seen["hide"] is False  # exceptions on, so "offline" is not mistaken for "unknown symbol"
    assert yfinance.config.debug.hide_exceptions == hide_before


def test_default_downloader_offline(tmp_path, monkeypatch, sleeps):
    import curl_cffi.requests.exceptions as curl_errors

    def history(self, **kwargs):
        raise curl_errors.DNSError("Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com")

    monkeypatch.setattr(yfinance.Ticker, "history", history)
    with pytest.raises(DataError, match="could not reach Yahoo Finance"):
        fetch_yahoo("AAPL", "2020-08-01", "2020-09-05", cache_dir=tmp_path, retries=1, sleep=sleeps.append)
    assert sleeps == [1.0]


def test_network_is_really_blocked():
    with pytest.raises(NetworkBlocked):
        socket.create_connection(("query2.finance.yahoo.com", 443))
    import curl_cffi.requests

    with pytest.raises(NetworkBlocked):
        curl_cffi.requests.Session().get("https://query2.finance.yahoo.com")
