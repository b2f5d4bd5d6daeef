"""load_csv / load_dividends_csv: every layout we promise to read, and every error naming the right file line."""

from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.data import MarketData, load_csv, load_dividends_csv
from core.errors import DataError

FIXTURES = Path(__file__).parent / "fixtures" / "market_data"


def write(tmp_path: Path, text: str, name: str = "prices.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


YAHOO_ROWS = """Date,Open,High,Low,Close,Adj Close,Volume
2020-01-13,10.0,10.5,9.5,10.2,10.0,1000
2020-01-14,10.2,10.8,10.1,10.6,10.4,1100
2020-01-15,10.6,10.9,10.3,10.4,10.2,900
2020-01-16,10.4,10.7,10.0,10.5,10.3,1000
2020-01-17,10.5,11.0,10.4,10.9,10.7,1200
"""


# --------------------------------------------------------------------------- layouts


def test_yahoo_layout_uses_raw_close_and_is_split_adjusted():
    md = load_csv(FIXTURES / "yahoo_layout.csv", symbol="AAPL")
    assert isinstance(md, MarketData)
    assert md.source == "csv"
    assert md.symbol == "AAPL"
    assert md.price_basis == "split_adjusted"
    assert md.interval == "1d"
    assert list(md.prices.columns) == ["open", "high", "low", "close", "volume"]
    assert md.prices.index.name == "timestamp"
    assert md.prices.index.dtype == "datetime64[ns]"
    assert md.prices.index.is_monotonic_increasing
    assert all(str(dtype) == "float64" for dtype in md.prices.dtypes)
    assert md.prices["close"].iloc[0] == 75.087502  # Close, not Adj Close (73.449394)
    assert md.prices.index[0] == pd.Timestamp("2020-01-02")
    assert len(md.prices) == 6
    assert md.prices.attrs["timezone"] == "America/New_York"
    assert list(md.dividends.columns) == ["ex_date", "amount", "pay_date"]
    assert md.dividends.empty
    assert md.splits is None


def test_stooq_layout_close_only_has_unknown_basis():
    md = load_csv(FIXTURES / "stooq_layout.csv")
    assert md.price_basis == "unknown"
    assert md.symbol == "stooq_layout"
    assert len(md.prices) == 5
    assert md.prices["volume"].iloc[0] == 135647008.0


def test_broker_export_with_preamble_quotes_separate_date_and_time_and_thousands():
    md = load_csv(FIXTURES / "broker_date_time.csv", symbol="SPY")
    assert md.interval == "1h"
    assert md.prices.index[0] == pd.Timestamp("2024-03-08 09:30")
    assert md.prices.index[-1] == pd.Timestamp("2024-03-11 10:30")
    assert md.prices["volume"].iloc[0] == 6_142_440.0
    assert md.price_basis == "unknown"


def test_lowercase_adj_close_only_is_dividend_adjusted():
    md = load_csv(FIXTURES / "lowercase_adj_close.csv")
    assert md.price_basis == "dividend_adjusted"
    assert md.prices["close"].tolist() == [120.94, 118.44, 115.52, 113.07]


def test_tz_aware_intraday_is_converted_to_exchange_time_across_dst():
    md = load_csv(FIXTURES / "intraday_tz.csv")
    # 14:30Z on 8 March is 09:30 EST; 13:30Z on 11 March is 09:30 EDT; "-04:00" stamps are already local.
    expected = pd.DatetimeIndex(
        [
            "2024-03-08 09:30",
            "2024-03-08 10:30",
            "2024-03-08 11:30",
            "2024-03-11 09:30",
            "2024-03-11 10:30",
            "2024-03-11 11:30",
        ],
        name="timestamp",
    )
    pd.testing.assert_index_equal(md.prices.index, expected.astype("datetime64[ns]"))
    assert md.interval == "1h"


def test_intraday_converted_to_another_exchange_zone():
    text = "Datetime,Close\n2024-03-08 09:30:00-05:00,10\n2024-03-08 09:35:00-05:00,11\n"
    md = load_csv(io.StringIO(text), timezone="Europe/London")
    assert md.prices.index[0] == pd.Timestamp("2024-03-08 14:30")
    assert md.timezone == "Europe/London"
    assert md.prices.attrs["timezone"] == "Europe/London"
    assert md.interval == "5m"


def test_aware_daily_timestamps_keep_their_dates():
    text = "Date,Close\n2020-01-06 00:00:00+09:00,10\n2020-01-07 00:00:00+09:00,11\n2020-01-08 00:00:00+09:00,12\n"
    md = load_csv(io.StringIO(text))
    assert list(md.prices.index) == [pd.Timestamp("2020-01-06"), pd.Timestamp("2020-01-07"), pd.Timestamp("2020-01-08")]
    assert md.interval == "1d"


def test_daily_bars_stamped_with_close_time_become_dates():
    text = "Date,Close\n2020-01-06T21:00:00Z,10\n2020-01-07T21:00:00Z,11\n2020-01-08T21:00:00Z,12\n"
    md = load_csv(io.StringIO(text))
    assert md.prices.index[0] == pd.Timestamp("2020-01-06")
    assert md.interval == "1d"


def test_newest_first_is_sorted_and_equals_oldest_first():
    newest = load_csv(FIXTURES / "newest_first.csv")
    oldest = load_csv(FIXTURES / "yahoo_layout.csv")
    assert newest.prices.index.is_monotonic_increasing
    pd.testing.assert_frame_equal(newest.prices, oldest.prices)
    assert newest.sha256() == oldest.sha256()


def test_semicolon_and_decimal_comma():
    text = "Date;Open;High;Low;Close;Volume\n02.01.2020;1.234,50;1.240,00;1.230,25;1.238,75;1.000\n"
    text += "03.01.2020;1.238,75;1.250,00;1.235,00;1.249,00;2.000\n"
    md = load_csv(io.StringIO(text))
    assert md.prices.index[0] == pd.Timestamp("2020-01-02")
    assert md.prices["close"].tolist() == [1238.75, 1249.0]
    assert md.prices["volume"].tolist() == [1000.0, 2000.0]


def test_metastock_ascii_date_and_time():
    text = (
        "<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>,<OPENINT>\n"
        "SPY.US,5,20240308,153000,514.0,514.5,513.5,514.2,1000,0\n"
        "SPY.US,5,20240308,153500,514.2,514.8,514.0,514.6,1200,0\n"
        "SPY.US,5,20240308,154000,514.6,514.9,514.1,514.3,900,0\n"
    )
    md = load_csv(io.StringIO(text))
    assert md.prices.index[0] == pd.Timestamp("2024-03-08 15:30")
    assert md.interval == "5m"
    assert md.symbol == "SPY.US"  # from the ticker column


def test_unnamed_index_column_like_pandas_to_csv():
    md = load_csv(Path(__file__).resolve().parents[1] / "data" / "goog.csv")
    assert md.prices.index[0] == pd.Timestamp("2004-08-19")


def test_nasdaq_close_last_with_dollar_signs_and_us_dates():
    text = (
        "Date,Close/Last,Volume,Open,High,Low\n"
        "01/03/2020,$74.3575,146322800,$74.2875,$75.145,$74.125\n"
        "01/02/2020,$75.0875,135480400,$74.06,$75.15,$73.7975\n"
    )
    md = load_csv(io.StringIO(text))
    assert md.prices.index.tolist() == [pd.Timestamp("2020-01-02"), pd.Timestamp("2020-01-03")]
    assert md.prices["close"].tolist() == [75.0875, 74.3575]


def test_day_first_dates_are_detected_when_a_day_exceeds_12():
    text = "Date,Close\n12/01/2020,1\n13/01/2020,2\n14/01/2020,3\n"
    md = load_csv(io.StringIO(text))
    assert md.prices.index[0] == pd.Timestamp("2020-01-12")


def test_upload_object_is_read_from_start_and_named():
    upload = io.BytesIO(YAHOO_ROWS.encode())
    upload.name = "AAPL.csv"  # what Streamlit's UploadedFile carries
    upload.read()  # a previous rerun consumed it
    md = load_csv(upload)
    assert md.symbol == "AAPL"
    assert "AAPL.csv" in md.name
    assert len(md.prices) == 5


def test_raw_bytes_text_and_crlf_and_bom():
    data = ("\ufeff" + YAHOO_ROWS).replace("\n", "\r\n").encode("utf-8")
    md = load_csv(data)
    assert len(md.prices) == 5
    assert md.symbol == "CSV"


def test_weekly_and_monthly_intervals_are_inferred():
    weekly = "Date,Close\n" + "".join(
        f"{d:%Y-%m-%d},{i + 1}\n" for i, d in enumerate(pd.date_range("2020-01-03", periods=6, freq="W-FRI"))
    )
    monthly = "Date,Close\n" + "".join(
        f"{d:%Y-%m-%d},{i + 1}\n" for i, d in enumerate(pd.date_range("2020-01-31", periods=6, freq="ME"))
    )
    assert load_csv(io.StringIO(weekly)).interval == "1wk"
    assert load_csv(io.StringIO(monthly)).interval == "1mo"


def test_dividends_argument_accepts_file_frame_and_series():
    md = load_csv(FIXTURES / "yahoo_layout.csv", dividends=FIXTURES / "dividends_yahoo.csv")
    assert len(md.dividends) == 4
    frame = pd.DataFrame({"Date": ["2020-02-07"], "Dividends": [0.1925]})
    assert load_csv(FIXTURES / "yahoo_layout.csv", dividends=frame).dividends["amount"].tolist() == [0.1925]
    series = pd.Series([0.205], index=pd.DatetimeIndex(["2020-05-08"], tz="America/New_York"), name="Dividends")
    divs = load_csv(FIXTURES / "yahoo_layout.csv", dividends=series).dividends
    assert divs["ex_date"].tolist() == [pd.Timestamp("2020-05-08")]
    assert divs["pay_date"].isna().all()


# --------------------------------------------------------------------------- dividends CSV


def test_load_dividends_yahoo_export_sorted():
    divs = load_dividends_csv(FIXTURES / "dividends_yahoo.csv")
    assert list(divs.columns) == ["ex_date", "amount", "pay_date"]
    assert divs["ex_date"].is_monotonic_increasing
    assert divs["amount"].tolist() == [0.1925, 0.205, 0.205, 0.205]
    assert divs["pay_date"].isna().all()
    assert divs["ex_date"].dtype == "datetime64[ns]"


def test_load_dividends_broker_export_with_pay_dates_and_decimal_commas():
    divs = load_dividends_csv(FIXTURES / "dividends_broker.csv")
    assert divs["ex_date"].tolist() == [
        pd.Timestamp("2020-02-07"),
        pd.Timestamp("2020-05-08"),
        pd.Timestamp("2020-08-07"),
    ]
    assert divs["pay_date"].tolist()[:2] == [pd.Timestamp("2020-02-13"), pd.Timestamp("2020-05-14")]
    assert pd.isna(divs["pay_date"].iloc[2])
    assert divs["amount"].tolist() == [0.1925, 0.205, 0.205]


def test_load_dividends_header_only_is_empty():
    divs = load_dividends_csv(io.StringIO("ex_date,amount,pay_date\n"))
    assert divs.empty
    assert list(divs.columns) == ["ex_date", "amount", "pay_date"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "Date,Dividends\n2020-02-07,0.19\n2020-05-08,-0.2\n",
            "divs.csv: row 3 (2020-05-08): dividend amount must not be negative, got -0.2",
        ),
        ("Date,Dividends\n2020-02-07,0.19\nnot a date,0.2\n", "divs.csv: row 3: cannot read the ex-date 'not a date'"),
        (
            "Date,Dividends\n2020-02-07,0.19\n2020-05-08,abc\n",
            "divs.csv: row 3: dividend amount is not a number ('abc')",
        ),
        ("Date,Dividends\n2020-02-07,\n", "divs.csv: row 2 (2020-02-07): the dividend amount is missing"),
        ("Ex Date,Pay Date,Amount\n2020-02-07,soon,0.2\n", "divs.csv: row 2: cannot read the pay date 'soon'"),
        ("Date,Price\n2020-02-07,0.2\n", "divs.csv: no dividend amount column"),
        ("What,Amount\nx,0.2\n", "divs.csv: no ex-date column"),
        ("", "divs.csv: the file is empty"),
    ],
)
def test_dividend_errors_name_file_and_line(tmp_path, text, message):
    with pytest.raises(DataError) as err:
        load_dividends_csv(write(tmp_path, text, "divs.csv"))
    assert message in str(err.value)
    assert str(err.value).startswith(str(tmp_path / "divs.csv"))


# --------------------------------------------------------------------------- errors with line numbers


def broken(line: int, replacement: str) -> str:
    """YAHOO_ROWS with file line ``line`` replaced."""
    lines = YAHOO_ROWS.splitlines()
    lines[line - 1] = replacement
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            broken(6, "2020-01-17,10.5,11.0,10.4,-3.0,10.7,1200"),
            "row 6 (2020-01-17): close must be positive, got -3.0",
        ),
        (
            broken(3, "2020-01-14,10.2,10.8,10.1,0,10.4,1100"),
            "row 3 (2020-01-14): close must be positive, got 0.0",
        ),
        (broken(4, "2020-01-15,10.6,10.9,10.3,abc,10.2,900"), "row 4: close is not a number ('abc')"),
        (
            broken(4, "2020-01-15,10.6,10.9,10.3,,10.2,900"),
            "row 4 (2020-01-15): close is missing or not finite (nan)",
        ),
        (
            broken(4, "2020-01-15,10.6,10.9,10.3,null,10.2,900"),
            "row 4 (2020-01-15): close is missing or not finite",
        ),
        (
            broken(5, "2020-01-16,10.4,10.7,10.0,inf,10.3,1000"),
            "row 5 (2020-01-16): close is missing or not finite (inf)",
        ),
        (broken(5, "16th Jan,10.4,10.7,10.0,10.5,10.3,1000"), "row 5: cannot read the date '16th Jan'"),
        (broken(5, ",10.4,10.7,10.0,10.5,10.3,1000"), "row 5: the date is missing"),
        (broken(5, "2020-01-15,10.4,10.7,10.0,10.5,10.3,1000"), "row 5 (2020-01-15): duplicate timestamp"),
        (
            broken(3, "2020-01-14,10.2,10.0,10.9,10.6,10.4,1100"),
            "row 3 (2020-01-14): high 10.0 is below low 10.9",
        ),
        (
            broken(3, "2020-01-14,10.2,10.8,10.1,11.6,10.4,1100"),
            "row 3 (2020-01-14): close 11.6 is above the high 10.8",
        ),
        (
            broken(3, "2020-01-14,10.2,10.8,10.1,9.6,10.4,1100"),
            "row 3 (2020-01-14): close 9.6 is below the low 10.1",
        ),
        (broken(2, "2020-01-13,10.0,10.5,9.5,10.2,10.0,-5"), "row 2 (2020-01-13): volume is negative (-5.0)"),
        (broken(4, "2020-01-15,10.6,10.9,10.3,10.4,10.2,900,7"), "row 4: 8 fields but the header (line 1) has 7"),
        (broken(4, "2020-01-15,10.6,10.9"), "row 4: only 3 fields but the header (line 1) has 7"),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(DataError) as err:
        load_csv(path)
    assert str(err.value) == f"{path}: {expected}" or str(err.value).startswith(f"{path}: {expected}")


def test_newest_first_error_names_the_file_line_not_the_sorted_position(tmp_path):
    text = (FIXTURES / "newest_first.csv").read_text().replace("74.597504,72.970093", "-3.0,72.970093")
    path = write(tmp_path, text)
    with pytest.raises(DataError, match=r"row 4 \(2020-01-07\): close must be positive, got -3.0"):
        load_csv(path)


def test_blank_lines_and_preamble_keep_line_numbers(tmp_path):
    text = "Exported by Broker\n\nDate,Close\n2020-01-02,1\n\n2020-01-03,x\n"
    with pytest.raises(DataError, match=r"prices.csv: row 6: close is not a number \('x'\)"):
        load_csv(write(tmp_path, text))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (b"  \n\n\t\n", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01", "not a CSV text file (it contains binary data)"),
        (bytes(range(256)) * 4, "not a CSV text file"),
        (b"PK\x03\x04\x14\x00\x06\x00", "Excel workbook or a zip archive"),
        (b"Date,Open,High\n2020-01-02,1,2\n2020-01-03,1,2\n", "no close column in the header (line 1)"),
        (b"When,Close\nyesterday,1\ntoday,2\n", "no date column in the header (line 1)"),
        (b"Date,Close,Last\n2020-01-02,1,1\n2020-01-03,2,2\n", "ambiguous close: columns 'Close' and 'Last'"),
        (b"Date,Close,close\n2020-01-02,1,1\n2020-01-03,2,2\n", "ambiguous close"),
        (b"Date,Adj Close,adj_close\n2020-01-02,1,1\n2020-01-03,2,2\n", "ambiguous adjusted close"),
        (b"Date,Date,Close\n2020-01-02,2020-01-02,1\n", "ambiguous date column"),
        (b"Date,Close\n", "the price data is empty: no rows below the header (line 1)"),
        (b"Date,Close\n2020-01-02,1\n", "need at least 2 bars, got 1"),
    ],
)
def test_file_level_errors(tmp_path, content, expected):
    path = tmp_path / "prices.csv"
    path.write_bytes(content)
    with pytest.raises(DataError) as err:
        load_csv(path)
    assert str(err.value).startswith(f"{path}: ")
    assert expected in str(err.value)


def test_missing_file_and_bad_argument_types(tmp_path):
    with pytest.raises(DataError, match=r"nope\.csv: file not found"):
        load_csv(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="is a directory"):
        load_csv(tmp_path)
    with pytest.raises(DataError, match="cannot read CSV data from a int"):
        load_csv(42)
    with pytest.raises(DataError, match="unknown time zone 'Mars/Olympus'"):
        load_csv(FIXTURES / "yahoo_layout.csv", timezone="Mars/Olympus")


def test_unnamed_buffer_is_called_uploaded_file():
    with pytest.raises(DataError, match=r"^uploaded file: row 3: cannot read the date 'xx'"):
        load_csv(io.BytesIO(b"Date,Close\n2020-01-02,1\nxx,2\n"))


def test_loader_does_not_mutate_or_depend_on_global_state():
    a = load_csv(FIXTURES / "yahoo_layout.csv")
    a.prices.iloc[0, 0] = -1.0
    b = load_csv(FIXTURES / "yahoo_layout.csv")
    assert b.prices.iloc[0, 0] == 74.059998


# --------------------------------------------------------------------------- never a foreign exception


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_random_bytes_give_market_data_or_data_error(content):
    try:
        md = load_csv(content)
    except DataError:
        return
    assert md.prices.index.is_monotonic_increasing


CELL = st.one_of(
    st.sampled_from(["2020-01-02", "2020-01-03", "01/04/2020", "", "null", "abc", "1e400", "-1", "0"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(alphabet=",;\"'\t 0123456789.-:TZ+", max_size=12),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["Date,Close", "Date,Open,High,Low,Close,Volume", "Date;Close", "timestamp,adj_close,close"]),
    st.lists(st.lists(CELL, min_size=1, max_size=7), max_size=8),
)
def test_messy_csv_text_gives_market_data_or_data_error(header, rows):
    text = header + "\n" + "\n".join(",".join(r) for r in rows)
    try:
        md = load_csv(io.StringIO(text))
    except DataError as exc:
        assert str(exc).startswith("uploaded file: ")
        return
    assert np.isfinite(md.prices["close"]).all()
    assert (md.prices["close"] > 0).all()


@pytest.mark.parametrize(
    ("first", "stamp"),
    [
        ("2020-01-02", "0099-01-04"),
        ("2020-01-02", "9999-12-31"),
        ("2020-01-02 09:30:00+05:00", "2262-04-11 23:00:00+05:00"),
        ("1/2/2020", "1/4/1066"),
    ],
)
def test_dates_outside_the_supported_range_are_data_errors(tmp_path, first, stamp):
    path = write(tmp_path, f"Date,Close\n{first},1\n{stamp},2\n")
    with pytest.raises(DataError, match=rf"prices\.csv: row 3: the \w+ '{re.escape(stamp)}' is outside the years"):
        load_csv(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)), min_size=1, max_size=6),
    st.sampled_from(["%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y %H:%M", "%Y-%m-%dT%H:%M:%S+09:00", "%Y%m%d", "%b %d, %Y"]),
)
def test_any_date_in_any_supported_format_gives_market_data_or_data_error(stamps, fmt):
    text = "Date,Close\n" + "".join(f"{ts.strftime(fmt)},{i + 1}\n" for i, ts in enumerate(stamps))
    try:
        md = load_csv(io.StringIO(text))
    except DataError:
        return
    assert md.prices.index.is_monotonic_increasing
