"""Big CSV files: a size limit checked before reading, and the Arrow reader that makes large regular files fast,
which must give exactly what the row reader gives (values, row numbers, messages) for every file it accepts."""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.bench_data import write_csv
from core.data import csv_columns, load_csv, load_dividends_csv
from core.errors import DataError

FIXTURES = Path(__file__).parent / "fixtures" / "market_data"
HINT = "split it, or raise the limit with VBL_MAX_CSV_MB (or max_mb=) if this machine has a few times that in memory"


def outcome(source: object, **kwargs: object) -> tuple:
    """Everything a load gives, comparable across inputs: the frame, index, metadata, or the error text."""
    try:
        md = load_csv(source, **kwargs)
    except DataError as exc:
        return ("error", str(exc).replace("uploaded file: ", ""))
    return ("ok", md.prices.to_dict("list"), [ts.isoformat() for ts in md.prices.index], md.interval,
            md.price_basis, md.symbol, md.dividends.to_dict("list"))


@pytest.fixture
def arrow_reads(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Records, for each load, whether the Arrow reader took the file (True) or left it to the row reader."""
    taken: list[bool] = []
    real = csv_columns._read_with_arrow

    def spy(*args: object) -> object:
        table = real(*args)
        taken.append(table is not None)
        return table

    monkeypatch.setattr(csv_columns, "_read_with_arrow", spy)
    return taken


# --- the size limit -------------------------------------------------------------------------------------------------


def test_a_file_above_the_default_limit_is_refused_before_it_is_read(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.truncate(600_000_000)  # sparse: 600 MB that take no disk space
    monkeypatch.delenv("VBL_MAX_CSV_MB", raising=False)
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("the file was read"))
    start = time.perf_counter()
    with pytest.raises(DataError) as err:
        load_csv(path)
    assert time.perf_counter() - start < 1.0
    assert str(err.value) == f"{path}: the file is 600.0 MB, above the 500 MB limit for CSV files; {HINT}"


def test_the_limit_comes_from_the_environment_or_the_argument(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "prices.csv"
    path.write_text("Date,Close\n" + "".join(f"2020-01-{d:02d},{d}\n" for d in range(1, 29)))
    size = path.stat().st_size
    monkeypatch.setenv("VBL_MAX_CSV_MB", "0.0001")
    message = f"{path}: the file is {size:,} bytes, above the 0.0001 MB limit for CSV files; {HINT}"
    with pytest.raises(DataError) as err:
        load_csv(path)
    assert str(err.value) == message
    assert len(load_csv(path, max_mb=1).prices) == 28  # the argument wins over the environment
    with pytest.raises(DataError) as err:
        load_csv(path.read_bytes())
    assert str(err.value) == message.replace(str(path), "uploaded file")
    with pytest.raises(DataError, match=r"^uploaded file: the file is \d+ bytes, above the 0\.0001 MB limit"):
        load_csv(io.BytesIO(path.read_bytes()))
    with pytest.raises(DataError, match=r"dividends\.csv: the file is \d+ bytes, above the 0\.0001 MB limit"):
        divs = tmp_path / "dividends.csv"
        divs.write_text("Ex Date,Amount\n" + "2020-01-02,0.5\n" * 20)
        load_dividends_csv(divs)


class _Pipe(io.RawIOBase):
    """A stream that cannot seek (a pipe, a socket): its size is unknown until it has been read."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._data.read(size)


def test_a_stream_of_unknown_size_is_read_only_up_to_the_limit() -> None:
    data = b"Date,Close\n" + b"2020-01-02,1\n" * 1000
    with pytest.raises(DataError) as err:
        load_csv(_Pipe(data), max_mb=0.001)
    assert str(err.value) == f"uploaded file: the file is at least {len(data):,} bytes, above the 0.001 MB limit " \
                             f"for CSV files; {HINT}"


@pytest.mark.parametrize("value", ["lots", "0", "-5", "nan", "inf"])
def test_a_bad_limit_in_the_environment_is_named(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("VBL_MAX_CSV_MB", value)
    with pytest.raises(DataError) as err:
        load_csv(FIXTURES / "yahoo_layout.csv")
    assert str(err.value) == f"VBL_MAX_CSV_MB={value!r} is not a size in MB: set it to a positive number such as 500"


# --- the Arrow reader gives what the row reader gives ---------------------------------------------------------------


def _rows(n: int, layout: str) -> str:
    idx = pd.date_range("2021-03-01 09:30", periods=n, freq="5min")
    close = np.round(100 + np.cumsum(np.sin(np.arange(n) / 7)), 4)
    if layout == "yahoo":
        body = "".join(f"{t:%Y-%m-%d %H:%M:%S},{c},{c + 1},{c - 1},{c},{c},{i * 10}\n"
                       for i, (t, c) in enumerate(zip(idx, close, strict=True)))
        return "Datetime,Open,High,Low,Close,Adj Close,Volume\n" + body
    if layout == "metastock":
        body = "".join(f"SYM,{t:%Y%m%d},{t:%H%M%S},{c},{c},{c},{c},{i}\n" for i, (t, c) in enumerate(zip(idx, close,
                                                                                                      strict=True)))
        return "<TICKER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>\n" + body
    if layout == "european":
        body = "".join(f"{t:%d.%m.%Y %H:%M};{str(c).replace('.', ',')};\"1.{i % 1000:03d}\"\n"
                       for i, (t, c) in enumerate(zip(idx, close, strict=True)))
        return "Account: 123\nSymbol: XYZ\n\nDate;Close;Volume\n" + body
    if layout == "utc_newest_first":
        body = "".join(f"{t:%Y-%m-%dT%H:%M:%S}Z,\"{c:,.4f}\",$ {c}\n" for t, c in zip(idx[::-1], close, strict=True))
        return "Timestamp,Close,Open\n" + body
    raise AssertionError(layout)


@pytest.mark.parametrize("layout", ["yahoo", "metastock", "european", "utc_newest_first"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_regular_files_take_the_arrow_reader_and_load_the_same(layout: str, newline: str,
                                                               arrow_reads: list[bool]) -> None:
    text = _rows(3000, layout).replace("\n", newline)
    fast = outcome(text.encode("utf-8"))
    assert arrow_reads == [True]
    assert fast == outcome(io.StringIO(text))  # text input goes through the row reader
    assert fast[0] == "ok"


def test_the_fixtures_load_the_same_through_both_readers(arrow_reads: list[bool]) -> None:
    for path in sorted(FIXTURES.glob("*.csv")):
        if path.name.startswith("dividends"):
            continue
        assert outcome(path.read_bytes()) == outcome(io.StringIO(path.read_text(encoding="utf-8"))), path.name
    assert arrow_reads and all(arrow_reads)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Date,Close\n2020-01-02,1\n\n2020-01-03,2\n2020-01-06,x\n", "row 5: close is not a number ('x')"),
        ("Date,Close\n2020-01-02,1\n2020-01-03\n", "row 3: only 1 fields but the header (line 1) has 2"),
        ("Date,Close\n2020-01-02,1\n,\n2020-01-03,oops\n", "row 4: close is not a number ('oops')"),
        ('Date,Close,Note\n2020-01-02,1,"two\nlines"\n2020-01-03,zz,x\n', "row 4: close is not a number ('zz')"),
        ("Date,Close\r2020-01-02,1\r2020-01-03,y\r", "row 3: close is not a number ('y')"),
        ("Date,Close\n2020-01-02,1,,\n2020-01-03,w\n", "row 3: close is not a number ('w')"),
    ],
)
def test_irregular_files_go_to_the_row_reader_with_its_messages(text: str, expected: str,
                                                                arrow_reads: list[bool]) -> None:
    assert outcome(text.encode("utf-8")) == ("error", expected)
    assert arrow_reads == [False]


def test_a_file_that_is_not_utf8_goes_to_the_row_reader(arrow_reads: list[bool]) -> None:
    data = "Date,Close,Note\n2020-01-02,1,caf\u00e9\n2020-01-03,2,na\u00efve\n".encode("cp1252")
    assert outcome(data)[0] == "ok"
    assert arrow_reads == [False]


STAMP = st.sampled_from([
    "2020-01-02", "2020-01-03", "01/04/2020", "2020-01-02T10:00:00Z", "2020-01-02 10:30:00-05:00", "20200102",
    "2015-11-01T05:30:00Z", "2015-11-01 01:30", "2015-03-08 02:30", "2015-11-01 01:30:00-05:00", "", "null", "x",
])
NUMBER = st.one_of(
    st.sampled_from(["", "null", "abc", "1e400", "-1", "0", "1,234.5", "$12.5", " 7 ", "1.000,5", "nan", "--", "inf",
                     "1_0", "+3", ".5", "\u00a012"]),
    st.floats(min_value=0.01, max_value=1e6).map(lambda x: f"{x:.4f}"),
)
TIME = st.sampled_from(["0930", "093000", "10:00", "10:00:00", "9:30 AM", "", "10:00Z", "2020-01-02 10:00"])
HEADERS = [["Date", "Close"], ["Date", "Open", "High", "Low", "Close", "Volume"], ["Date", "Time", "Close"],
           ["Symbol", "Date", "Close"], ["Datetime", "Adj Close", "Close"]]


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    header = draw(st.sampled_from(HEADERS))
    cells = {"Date": STAMP, "Datetime": STAMP, "Time": TIME, "Symbol": st.sampled_from(["AAPL", "MSFT", ""])}
    rows = [[draw(cells.get(h, NUMBER)) for h in header] for _ in range(draw(st.integers(0, 8)))]
    return header, rows


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(tables(), st.sampled_from([",", ";", "\t"]), st.sampled_from(["\n", "\r\n"]), st.booleans(),
       st.sampled_from(["America/New_York", "UTC", "Europe/London"]))
def test_any_small_table_loads_the_same_through_both_readers(table, delimiter, newline, trailing, zone) -> None:
    header, rows = table
    text = delimiter.join(header) + newline + newline.join(delimiter.join(r) for r in rows) + (newline * trailing)
    assert outcome(text.encode("utf-8"), timezone=zone) == outcome(io.StringIO(text), timezone=zone)


# --- speed ----------------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_half_a_million_rows_load_in_seconds(tmp_path: Path) -> None:
    # The row reader took about 7 s for this file (30 s for 2,000,000 rows); the Arrow reader well under 1 s.
    path = tmp_path / "minute_bars.csv"
    write_csv(path, 500_000)
    start = time.perf_counter()
    md = load_csv(path)
    elapsed = time.perf_counter() - start
    assert len(md.prices) == 500_000
    assert md.prices.index.tz is not None  # 24-hour UTC bars pass through the November repeated hour
    assert elapsed < 4.0, f"{elapsed:.1f} s"


# --- the content hash of a big dataset ------------------------------------------------------------------------------


def _reference_sha256(md) -> str:
    """MarketData.sha256 as first written: one rendered value at a time, one hashed row at a time."""
    import hashlib

    def render(values):
        out = []
        for v in values:
            if v is None or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
                out.append("")
            elif isinstance(v, pd.Timestamp):
                out.append(v.isoformat())
            elif isinstance(v, float | np.floating):
                out.append(repr(float(v)))
            else:
                out.append(str(v))
        return out

    def table(digest, index, columns):
        digest.update(("index," + ",".join(name for name, _ in columns) + "\n").encode())
        for row in zip(render(index), *(render(s.tolist()) for _, s in columns), strict=True):
            digest.update((",".join(row) + "\n").encode())

    digest = hashlib.sha256(b"vbl-market-data-v1\n[prices]\n")
    cols = [c for c in ("open", "high", "low", "close", "volume") if c in md.prices.columns]
    table(digest, md.prices.index, [(c, md.prices[c]) for c in cols])
    digest.update(b"[dividends]\n")
    d = md.dividends
    table(digest, pd.RangeIndex(len(d)), [(c, d[c]) for c in ("ex_date", "amount", "pay_date")])
    return digest.hexdigest()


@pytest.mark.parametrize(
    "text",
    [
        "Datetime,Close,Volume\n2015-11-01T05:30:00Z,1,\n2015-11-01T06:30:00Z,2.5e-7,5\n2015-11-01T07:30:00Z,1e22,\n",
        "Datetime,Close\n2015-11-01T05:30:00.25Z,1\n2015-11-01T06:30:00Z,2\n",
        "Datetime,Close\n2024-03-08 20:00:00+05:30,10\n2024-03-08 20:05:00+05:30,11\n",
        "Date,Close,Volume\n2020-01-02,1,0\n2020-01-03,3,nan\n",
    ],
)
def test_the_content_hash_is_unchanged_by_its_faster_rendering(text: str) -> None:
    md = load_csv(io.BytesIO(text.encode()))
    assert md.sha256() == _reference_sha256(md)


def test_the_content_hash_of_a_big_aware_dataset_is_unchanged() -> None:
    from core.data import MarketData, load_sample, normalise_dividends

    idx = pd.date_range("2015-10-31 20:00", periods=250_001, freq="7min", tz="America/New_York", name="timestamp")
    close = np.random.default_rng(2).random(len(idx)) * 100 + 1
    volume = np.where(np.arange(len(idx)) % 11 == 0, np.nan, np.arange(len(idx), dtype=float))
    dividends = normalise_dividends(pd.DataFrame({"ex_date": ["2016-01-04"], "amount": [0.5]}))
    md = MarketData(prices=pd.DataFrame({"close": close, "volume": volume}, index=idx), dividends=dividends,
                    symbol="X", name="x", interval="7m", price_basis="unknown", source="csv")
    assert md.sha256() == _reference_sha256(md)
    goog = load_sample("GOOG")
    assert goog.sha256() == _reference_sha256(goog)


def test_the_data_pages_preview_reads_only_the_first_rows():
    from app.views.data import PREVIEW_ROWS, raw_table

    lines = ["Date,Close"] + [f"2020-01-{d:02d},{d}.5" for d in range(1, 29)] + ["2020-02-01,1,2,3"]  # bad last row
    content = "\n".join(lines).encode()
    preview = raw_table(content, max_rows=PREVIEW_ROWS)
    assert preview.header == ["Date", "Close"] and len(preview.rows) == PREVIEW_ROWS
    assert preview.rows[0] == ["2020-01-01", "1.5"]
    with pytest.raises(DataError, match="row 30"):
        raw_table(content)  # the whole file (for a chosen mapping) is still checked row by row
