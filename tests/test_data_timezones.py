"""Time zones of intraday CSV data (docs/strategy.md §2, §9): UTC and fixed-offset timestamps across both US DST
changes of a year, the loader's ``timezone`` option, naive timestamps that a DST change makes ambiguous or
impossible, and ``--timezone`` on the command line."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cli.main import EXIT_USAGE, build_parser, main
from core import StrategyConfig, simulate
from core.bars import prepare_bars
from core.data import load_csv, quality_report
from core.errors import DataError

NY = "America/New_York"
AUTUMN_UTC = ["04:00", "04:30", "05:00", "05:30", "06:00", "06:30", "07:00"]  # 2015-11-01: NY goes back at 06:00Z
SPRING_UTC = ["05:30", "06:00", "06:30", "07:00", "07:30"]  # 2015-03-08: NY jumps forward at 07:00Z


def csv_bytes(stamps: list[str]) -> bytes:
    return ("Datetime,Close\n" + "".join(f"{s},{10 + i}\n" for i, s in enumerate(stamps))).encode()


def utc_stamps(day: str, clocks: list[str]) -> list[str]:
    return [f"{day}T{c}:00Z" for c in clocks]


def test_utc_bars_across_the_autumn_change_keep_every_instant():
    # Before: "row 6 (2015-11-01 01:00:00): duplicate timestamp" -- 05:00Z and 06:00Z are both 01:00 in New York.
    md = load_csv(io.BytesIO(csv_bytes(utc_stamps("2015-11-01", AUTUMN_UTC))))
    assert str(md.prices.index.tz) == NY
    assert [ts.isoformat() for ts in md.prices.index] == [
        "2015-11-01T00:00:00-04:00", "2015-11-01T00:30:00-04:00", "2015-11-01T01:00:00-04:00",
        "2015-11-01T01:30:00-04:00", "2015-11-01T01:00:00-05:00", "2015-11-01T01:30:00-05:00",
        "2015-11-01T02:00:00-05:00",
    ]
    pd.testing.assert_index_equal(
        md.prices.index.tz_convert("UTC"),
        pd.DatetimeIndex(utc_stamps("2015-11-01", AUTUMN_UTC)).as_unit("ns").rename("timestamp"),
    )
    assert md.prices["close"].tolist() == [10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0]
    assert (md.interval, md.timezone) == ("30m", NY)


def test_utc_bars_across_the_spring_change_are_new_york_wall_time():
    md = load_csv(io.BytesIO(csv_bytes(utc_stamps("2015-03-08", SPRING_UTC))))
    # No wall time repeats in spring, so the index stays naive: 02:00-03:00 simply does not occur.
    expected = pd.DatetimeIndex(
        ["2015-03-08 00:30", "2015-03-08 01:00", "2015-03-08 01:30", "2015-03-08 03:00", "2015-03-08 03:30"],
        name="timestamp",
    ).as_unit("ns")
    pd.testing.assert_index_equal(md.prices.index, expected)


def test_mixed_offsets_across_the_autumn_change():
    stamps = ["2015-11-01 00:30:00-04:00", "2015-11-01 01:00:00-04:00", "2015-11-01 01:30:00-04:00",
              "2015-11-01 01:00:00-05:00", "2015-11-01 01:30:00-05:00", "2015-11-01 02:00:00-05:00"]
    md = load_csv(io.BytesIO(csv_bytes(stamps)))
    assert [ts.isoformat() for ts in md.prices.index] == [s.replace(" ", "T") for s in stamps]
    assert md.prices.index.is_unique and md.prices.index.is_monotonic_increasing


def test_fixed_offset_input_is_converted_to_the_exchange_zone():
    stamps = ["2024-03-08 20:00:00+05:30", "2024-03-08 20:05:00+05:30", "2024-03-08 20:10:00+05:30"]
    md = load_csv(io.BytesIO(csv_bytes(stamps)))
    assert md.prices.index.tz is None
    assert list(md.prices.index) == [pd.Timestamp("2024-03-08 09:30"), pd.Timestamp("2024-03-08 09:35"),
                                     pd.Timestamp("2024-03-08 09:40")]


def test_trading_day_and_session_of_aware_bars_are_new_york_ones():
    stamps = ["2015-11-01T05:30:00Z", "2015-11-01T06:30:00Z", "2015-11-02T04:30:00Z", "2015-11-02T14:30:00Z",
              "2015-11-02T15:00:00Z"]
    md = load_csv(io.BytesIO(csv_bytes(stamps)))
    bars = prepare_bars(md.prices)
    first_day = (pd.Timestamp("2015-11-01") - pd.Timestamp("1970-01-01")).days
    # 04:30Z on 2 November is 23:30 on 1 November in New York; 14:30Z is the 09:30 open.
    assert bars.day.tolist() == [first_day, first_day, first_day, first_day + 1, first_day + 1]
    assert bars.in_session.tolist() == [False, False, False, True, True]
    result = simulate(md.prices, StrategyConfig())
    assert list(result.daily_equity.index.unique()) == [pd.Timestamp("2015-11-01"), pd.Timestamp("2015-11-02")]


def test_quality_report_of_aware_bars_sees_no_duplicates_or_disorder():
    md = load_csv(io.BytesIO(csv_bytes(utc_stamps("2015-11-01", AUTUMN_UTC))))
    report = quality_report(md)
    assert report.count("duplicate") == 0
    assert report.count("unsorted") == 0
    assert report.count("intraday_gap") == 0


def test_the_timezone_option_names_the_zone_of_naive_timestamps():
    stamps = ["2015-11-01 05:00:00", "2015-11-01 05:30:00", "2015-11-01 06:00:00"]
    md = load_csv(io.BytesIO(csv_bytes(stamps)), timezone="UTC")
    assert md.timezone == "UTC" and md.prices.attrs["timezone"] == "UTC"
    assert list(md.prices.index) == [pd.Timestamp(s) for s in stamps]


def test_the_timezone_option_converts_aware_timestamps_for_day_boundaries():
    # The UK goes back at 01:00Z on 25 October 2015: 00:30Z and 01:30Z are both 01:30 in London.
    md = load_csv(io.BytesIO(csv_bytes(utc_stamps("2015-10-25", ["00:00", "00:30", "01:00", "01:30"]))),
                  timezone="Europe/London")
    assert str(md.prices.index.tz) == "Europe/London"
    assert [ts.isoformat() for ts in md.prices.index] == [
        "2015-10-25T01:00:00+01:00", "2015-10-25T01:30:00+01:00", "2015-10-25T01:00:00+00:00",
        "2015-10-25T01:30:00+00:00",
    ]


def test_naive_timestamps_in_the_repeated_autumn_hour_are_refused():
    stamps = ["2015-11-01 00:30:00", "2015-11-01 01:00:00", "2015-11-01 01:30:00", "2015-11-01 02:00:00"]
    with pytest.raises(DataError) as err:
        load_csv(io.BytesIO(csv_bytes(stamps)))
    assert str(err.value) == (
        "uploaded file: row 3 (2015-11-01 01:00:00): this time happens twice in America/New_York (the clocks go "
        "back an hour when daylight saving time ends), so without a UTC offset it is ambiguous; write the "
        "timestamps in UTC (ending in Z) or with their UTC offset (+hh:mm), or name the zone they are written in "
        "(the CLI's --timezone, the Data page's time zone, e.g. UTC)"
    )
    assert len(load_csv(io.BytesIO(csv_bytes(stamps)), timezone="UTC").prices) == 4


def test_naive_timestamps_in_the_skipped_spring_hour_are_refused():
    stamps = ["2015-03-08 01:30:00", "2015-03-08 02:00:00", "2015-03-08 02:30:00", "2015-03-08 03:00:00"]
    with pytest.raises(DataError) as err:
        load_csv(io.BytesIO(csv_bytes(stamps)))
    assert str(err.value) == (
        "uploaded file: row 3 (2015-03-08 02:00:00): this time does not exist in America/New_York (the clocks skip "
        "that hour when daylight saving time starts), so the timestamps are not America/New_York wall time; write "
        "the timestamps in UTC (ending in Z) or with their UTC offset (+hh:mm), or name the zone they are written "
        "in (the CLI's --timezone, the Data page's time zone, e.g. UTC)"
    )


def test_a_naive_row_among_aware_ones_is_checked_too():
    stamps = ["2015-11-01T04:30:00Z", "2015-11-01 01:30:00", "2015-11-01T07:30:00Z"]
    with pytest.raises(DataError, match=r"^uploaded file: row 3 \(2015-11-01 01:30:00\): this time happens twice"):
        load_csv(io.BytesIO(csv_bytes(stamps)))


def test_naive_session_bars_on_both_change_days_stay_naive():
    days = ["2015-03-06", "2015-03-09", "2015-10-30", "2015-11-02"]
    stamps = [f"{d} {c}:00" for d in days for c in ("09:30", "12:00", "15:30")]
    md = load_csv(io.BytesIO(csv_bytes(stamps)))
    assert md.prices.index.tz is None
    assert list(md.prices.index) == [pd.Timestamp(s) for s in stamps]


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "../etc/passwd"])
def test_an_unknown_zone_is_a_clear_error(zone):
    with pytest.raises(DataError) as err:
        load_csv(io.BytesIO(csv_bytes(utc_stamps("2015-11-01", AUTUMN_UTC))), timezone=zone)
    assert str(err.value) == f"unknown time zone {zone!r}: use an IANA name such as 'America/New_York'"


def test_an_aware_dataset_survives_the_store(tmp_path):
    from usecases.store import Store

    md = load_csv(io.BytesIO(csv_bytes(utc_stamps("2015-11-01", AUTUMN_UTC))))
    store = Store(f"sqlite:///{tmp_path / 'tz.sqlite3'}", actor="test")
    back = store.load_market_data(store.save_dataset(md))
    pd.testing.assert_index_equal(back.prices.index, md.prices.index)
    assert back.sha256() == md.sha256()


# --- the command line ----------------------------------------------------------------------------------------------


@pytest.fixture
def autumn_utc_csv(tmp_path: Path) -> Path:
    stamps = pd.date_range("2015-10-30 13:00", "2015-11-03 21:00", freq="30min", tz="UTC")
    close = 100 + np.sin(np.arange(len(stamps)) / 5) * 5
    path = tmp_path / "utc.csv"
    path.write_text("Datetime,Close\n" + "".join(f"{t:%Y-%m-%dT%H:%M:%SZ},{c:.4f}\n" for t, c in zip(stamps, close,
                                                                                                     strict=True)))
    return path


def test_cli_backtest_reads_utc_data_across_the_autumn_change(capsys, autumn_utc_csv):
    assert main(["backtest", "--csv", str(autumn_utc_csv)]) == 0
    out = capsys.readouterr().out
    assert "2015-10-30 to 2015-11-03, 209 bars (30m" in out


def test_cli_timezone_flag_is_passed_to_the_loader(capsys, tmp_path):
    path = tmp_path / "naive.csv"
    path.write_bytes(csv_bytes(["2015-11-01 00:30:00", "2015-11-01 01:00:00", "2015-11-01 01:30:00",
                                "2015-11-01 02:00:00"]))
    assert main(["backtest", "--csv", str(path)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: row 3 (2015-11-01 01:00:00): this time happens twice in America/New_York")
    assert "--timezone" in err
    assert main(["backtest", "--csv", str(path), "--timezone", "UTC"]) == 0
    assert "2015-11-01 to 2015-11-01, 4 bars (30m" in capsys.readouterr().out


def test_cli_unknown_zone_and_zone_without_csv_are_one_line_errors(capsys, autumn_utc_csv):
    assert main(["backtest", "--csv", str(autumn_utc_csv), "--timezone", "Mars/Olympus"]) == EXIT_USAGE
    out, err = capsys.readouterr()
    assert (out, err) == ("", "error: unknown time zone 'Mars/Olympus': use an IANA name such as "
                              "'America/New_York'\n")
    assert main(["backtest", "--data", "GOOG", "--timezone", "UTC"]) == EXIT_USAGE
    assert capsys.readouterr().err == (
        "error: --timezone applies to --csv files; a bundled dataset has its own time zone\n"
    )


def test_cli_optimize_takes_the_timezone_flag():
    args = build_parser().parse_args(["optimize", "--csv", "x.csv", "--timezone", "Europe/London",
                                      "--param", "trigger_up=0.01:0.02:0.01"])
    assert args.timezone == "Europe/London"
