"""The command line (``cli.main``): in-process through ``main(argv)``, and once as a real ``python -m cli``."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cli.main import EXIT_USAGE, main, parse_settings, parse_value, write_atomic
from core import METRIC_NAMES, StrategyConfig, simulate
from core.data import load_csv, load_sample
from core.metric_table import format_metric

REPO = Path(__file__).resolve().parents[1]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def cells(out: str, label: str) -> list[str]:
    """The cells (strategy, buy & hold, static mix) of the table row labelled ``label``."""
    for line in out.splitlines():
        if line.startswith(f"  {label}  "):
            # Cells are separated by 2+ spaces; a formatted value holds at most one ("12.34 %").
            return re.split(r"\s{2,}", line.strip())[1:]
    raise AssertionError(f"no row {label!r} in:\n{out}")


def table_cell(out: str, label: str) -> str:
    """The strategy cell of the row labelled ``label``."""
    return cells(out, label)[0]


def assert_one_line_error(code: int, out: str, err: str) -> str:
    assert code == EXIT_USAGE
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    return lines[0]


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.fixture(scope="module")
def goog() -> pd.DataFrame:
    return load_sample("GOOG").prices


# --- the table ---------------------------------------------------------------------------------------------------


def test_backtest_prints_the_metrics_table(capsys, goog):
    code, out, err = run_cli(capsys, "backtest", "--data", "GOOG")
    assert code == 0, err
    assert err == ""
    header = out.splitlines()[3]
    assert header.split() == ["Strategy", "Buy", "&", "hold", "Static", "mix"]
    metrics = simulate(goog, StrategyConfig()).metrics
    assert table_cell(out, "Total return") == format_metric("total_return", metrics["total_return"])
    assert table_cell(out, "Trades") == f"{metrics['n_trades']:,.0f}"
    assert table_cell(out, "Sharpe ratio") == f"{metrics['sharpe']:.2f}"
    # Fractions print as percentages, counts as plain numbers.
    assert table_cell(out, "Max drawdown").endswith(" %")
    assert "%" not in table_cell(out, "Trades")
    # The benchmarks get their own return and risk figures.
    bh_cells = cells(out, "Total return")
    assert bh_cells[1] == format_metric("total_return", metrics["buy_hold_return"])
    assert bh_cells[2] == format_metric("total_return", metrics["static_mix_return"])


def test_real_subprocess_prints_the_table():
    proc = subprocess.run(
        [sys.executable, "-m", "cli", "backtest", "--data", "GOOG"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "Total return" in proc.stdout
    assert "Buy & hold" in proc.stdout and "Static mix" in proc.stdout


def test_real_subprocess_reports_a_bad_setting_in_one_line():
    proc = subprocess.run(
        [sys.executable, "-m", "cli", "backtest", "--set", "trigger_up=-0.1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    assert proc.stderr == "error: trigger_up must be in (0, inf), got -0.1\n"


def test_set_changes_the_trade_count(capsys, goog):
    _, default_out, _ = run_cli(capsys, "backtest", "--data", "GOOG")
    code, wider_out, err = run_cli(capsys, "backtest", "--data", "GOOG", "--set", "trigger_up=0.05")
    assert code == 0, err
    expected = simulate(goog, StrategyConfig(trigger_up=0.05)).metrics["n_trades"]
    assert table_cell(wider_out, "Trades") == f"{expected:,.0f}"
    assert table_cell(wider_out, "Trades") != table_cell(default_out, "Trades")
    assert "settings: defaults with trigger_up=0.05" in wider_out


# --- output files ------------------------------------------------------------------------------------------------


def test_out_writes_files_that_match_simulate(capsys, tmp_path, goog):
    out_dir = tmp_path / "runs" / "goog"  # created, parents included
    code, out, err = run_cli(
        capsys,
        "backtest",
        "--data",
        "goog",
        "--set",
        "trigger_up=0.05",
        "--set",
        "sizing=original",
        "--out",
        str(out_dir),
    )
    assert code == 0, err
    assert sorted(p.name for p in out_dir.iterdir()) == ["metrics.csv", "metrics.json", "timeline.csv", "trades.csv"]
    assert f"to {out_dir}" in out

    result = simulate(goog, StrategyConfig(trigger_up=0.05, sizing="original"))
    table = pd.read_csv(out_dir / "metrics.csv", index_col="metric")
    assert list(table.index) == list(METRIC_NAMES)
    assert list(table.columns) == ["strategy", "buy_and_hold", "static_mix"]
    for name in METRIC_NAMES:
        assert same(table.loc[name, "strategy"], result.metrics[name]), name
    assert table.loc["total_return", "buy_and_hold"] == pytest.approx(result.metrics["buy_hold_return"], rel=1e-12)
    assert table.loc["total_return", "static_mix"] == pytest.approx(result.metrics["static_mix_return"], rel=1e-12)

    payload = json.loads((out_dir / "metrics.json").read_text())
    for name in METRIC_NAMES:
        value = payload["metrics"]["strategy"].get(name)
        assert same(math.nan if value is None else value, result.metrics[name]), name
    assert payload["run"]["config"] == result.config.to_dict()
    assert payload["run"]["period"]["bars"] == len(goog)
    assert payload["run"]["dataset"]["sha256"] == load_sample("GOOG").sha256()

    trades = pd.read_csv(out_dir / "trades.csv")
    assert len(trades) == len(result.trades)
    np.testing.assert_array_equal(trades["qty"].to_numpy(), result.trades["qty"].to_numpy())
    timeline = pd.read_csv(out_dir / "timeline.csv", index_col="timestamp")
    assert len(timeline) == len(goog)
    np.testing.assert_array_equal(timeline["value"].to_numpy(), result.timeline["value"].to_numpy())


def test_start_and_end_select_the_period(capsys, tmp_path, goog):
    code, out, err = run_cli(
        capsys, "backtest", "--data", "GOOG", "--start", "2010-01-01", "--end", "2010-12-31", "--out", str(tmp_path)
    )
    assert code == 0, err
    assert "2010-01-04 to 2010-12-31, 252 bars" in out
    expected = simulate(goog.loc["2010-01-01":"2010-12-31"], StrategyConfig()).metrics
    table = pd.read_csv(tmp_path / "metrics.csv", index_col="metric")
    for name in METRIC_NAMES:
        assert same(table.loc[name, "strategy"], expected[name]), name


def test_csv_with_a_dividends_file(capsys, tmp_path):
    days = pd.bdate_range("2021-01-04", periods=40)
    close = 100 * np.cumprod(1 + 0.02 * np.sin(np.arange(40)))
    prices = tmp_path / "acme.csv"
    pd.DataFrame({"Date": days.strftime("%Y-%m-%d"), "Close": close}).to_csv(prices, index=False)
    dividends = tmp_path / "acme_dividends.csv"
    dividends.write_text("Ex Date,Amount,Pay Date\n2021-01-20,1.25,2021-02-01\n")
    out_dir = tmp_path / "out"

    code, out, err = run_cli(
        capsys, "backtest", "--csv", str(prices), "--dividends", str(dividends), "--out", str(out_dir)
    )
    assert code == 0, err
    data = load_csv(prices, dividends=dividends)
    expected = simulate(data.prices, StrategyConfig(), data.dividends).metrics
    assert expected["dividends_gross"] > 0
    table = pd.read_csv(out_dir / "metrics.csv", index_col="metric")
    assert table.loc["dividends_gross", "strategy"] == expected["dividends_gross"]
    assert "1 dividend(s)" in out


def test_write_atomic_replaces_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "metrics.csv"
    target.write_text("old")
    write_atomic(target, "new\n")
    assert target.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.csv"]


# --- errors: one line, exit code 2 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("trigger_up=-0.1", "error: trigger_up must be in (0, inf), got -0.1"),
        ("trigger_up=4%", "use trigger_up=0.04 for 4 %"),
        ("trigger_up=abc", "error: trigger_up must be a number, got 'abc'"),
        ("max_orders_per_day=2.5", "error: max_orders_per_day must be a whole number, got '2.5'"),
        ("auto_rebalance=maybe", "error: auto_rebalance must be true or false, got 'maybe'"),
        ("sizing=martingale", "error: sizing must be one of proportional, fixed_fraction, original"),
        ("guardrail_min=0.8", "must be greater than guardrail_min"),
        ("trigger=0.05", "error: unknown setting 'trigger'"),
        ("trigger_up", "error: --set expects FIELD=VALUE, got 'trigger_up'"),
    ],
)
def test_bad_set_is_one_line_and_exit_2(capsys, setting, message):
    line = assert_one_line_error(*run_cli(capsys, "backtest", "--data", "GOOG", "--set", setting))
    assert message in line


def test_unknown_setting_suggests_the_field(capsys):
    line = assert_one_line_error(*run_cli(capsys, "backtest", "--set", "trigger_upp=0.04"))
    assert "did you mean trigger_up" in line


def test_unknown_dataset(capsys):
    line = assert_one_line_error(*run_cli(capsys, "backtest", "--data", "NOPE"))
    assert "NOPE" in line and "GOOG" in line


def test_malformed_csv_names_the_file_and_row(capsys, tmp_path):
    bad = tmp_path / "broken_prices.csv"
    bad.write_text(
        "Date,Open,High,Low,Close,Volume\n"
        "2020-01-02,10,11,9,10.5,100\n"
        "2020-01-03,10,11,9,10.7,100\n"
        "2020-01-06,10,11,9,oops,100\n"
        "2020-01-07,10,11,9,10.1,100\n"
    )
    line = assert_one_line_error(*run_cli(capsys, "backtest", "--csv", str(bad)))
    assert "broken_prices.csv" in line
    assert "row 4" in line


def test_missing_csv_file(capsys, tmp_path):
    line = assert_one_line_error(*run_cli(capsys, "backtest", "--csv", str(tmp_path / "nowhere.csv")))
    assert "nowhere.csv" in line and "not found" in line


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["backtest", "--bogus"],
        ["backtest", "--start", "2020-13-01"],
        ["backtest", "--data", "GOOG", "--csv", "x.csv"],
        ["backtest", "--start", "2012-01-01", "--end", "2011-01-01"],
        ["backtest", "--start", "2030-01-01"],
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(capsys, argv):
    assert_one_line_error(*run_cli(capsys, *argv))


def test_help_exits_0(capsys):
    code, out, _ = run_cli(capsys, "backtest", "--help")
    assert code == 0
    assert "--set FIELD=VALUE" in out


def test_unwritable_out_dir(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    line = assert_one_line_error(*run_cli(capsys, "backtest", "--out", str(blocker)))
    assert "is a file, not a directory" in line
    # Found only when writing: the table is already printed, the error still is one line and exit code 2.
    code, _, err = run_cli(capsys, "backtest", "--out", str(blocker / "sub"))
    assert code == EXIT_USAGE
    assert err.startswith("error: cannot write to ") and err.count("\n") == 1


# --- value parsing -----------------------------------------------------------------------------------------------


def test_values_are_parsed_by_the_field_kind():
    assert parse_value("trigger_up", " 0.04 ") == 0.04
    assert parse_value("commission_rate", "1e-4") == 0.0001
    assert parse_value("initial_capital", "25_000") == 25_000.0
    assert parse_value("max_orders_per_day", "3") == 3 and isinstance(parse_value("max_orders_per_day", "3"), int)
    assert parse_value("auto_rebalance", "False") is False
    assert parse_value("fractional_shares", "true") is True
    assert parse_value("max_trade_share", "none") is None
    assert parse_value("max_trade_share", "0.2") == 0.2
    assert parse_value("sizing", "fixed_fraction") == "fixed_fraction"
    assert parse_settings(["trigger_up=0.04", "trigger-down=0.05", "trigger_up=0.06"]) == {
        "trigger_up": 0.06,
        "trigger_down": 0.05,
    }


@pytest.mark.parametrize(("flag", "value", "message"), [("--scale", "0", "above 0"), ("--scale", "nan", "above 0"),
                                                        ("--width", "-100", "between 1 and"),
                                                        ("--height", "abc", "whole number")])
def test_report_refuses_image_sizes_it_would_silently_replace(flag, value, message, tmp_path, capsys):
    code = main(["report", "--run", "1", "--format", "png", "--out", str(tmp_path / "x.png"), flag, value])
    assert code == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"argument {flag}" in err and message in err
    assert not (tmp_path / "x.png").exists()
