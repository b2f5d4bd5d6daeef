"""``python -m cli backtest --save`` and ``python -m cli runs ...`` against a throw-away SQLite store."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.main import EXIT_USAGE, main
from cli.runs import EXIT_NOT_REPRODUCED
from core import StrategyConfig, simulate
from core.data import load_sample
from core.metric_table import format_metric
from storage import ENV_VAR, Store
from storage.database import dispose_engine, get_engine
from storage.migrate import current_revision, head_revision

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh SQLite store per test, selected the way users do it: through ``$VBL_DATABASE_URL``."""
    url = f"sqlite:///{tmp_path / 'runs.sqlite3'}"
    monkeypatch.setenv(ENV_VAR, url)
    yield url
    dispose_engine(url)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, out: str, err: str) -> str:
    assert code == EXIT_USAGE
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    return lines[0]


def save(capsys: pytest.CaptureFixture[str], *argv: str) -> int:
    """Run ``backtest --save`` with ``argv`` and return the printed run id."""
    code, out, err = run_cli(capsys, "backtest", "--save", *argv)
    assert code == 0, err
    found = re.search(r"^saved as run (\d+) \(dataset (\d+)\) in sqlite:///", out, flags=re.MULTILINE)
    assert found, out
    return int(found.group(1))


def listed_ids(out: str) -> list[int]:
    return [int(line.split()[0]) for line in out.splitlines()[1:] if line.split() and line.split()[0].isdigit()]


def test_backtest_save_then_list_show_rerun_delete(capsys, db_url):
    run_id = save(capsys, "--data", "GOOG", "--name", "baseline", "--tag", "defaults", "--tag", "goog")

    data = load_sample("GOOG")
    expected = simulate(data.prices, StrategyConfig(), data.dividends if len(data.dividends) else None)
    with Store(db_url) as store:
        record = store.get_run(run_id)
        assert record.name == "baseline"
        assert record.tags == ("defaults", "goog")
        assert record.metrics == expected.metrics
        assert store.get_dataset(record.dataset_id).sha256 == data.sha256()

    code, out, err = run_cli(capsys, "runs", "list")
    assert code == 0, err
    assert listed_ids(out) == [run_id]
    row = out.splitlines()[1]
    assert "baseline" in row and "defaults, goog" in row
    assert format_metric("total_return", expected.metrics["total_return"]) in row
    assert format_metric("sharpe", expected.metrics["sharpe"]) in row

    code, out, err = run_cli(capsys, "runs", "show", str(run_id))
    assert code == 0, err
    assert out.startswith(f"run {run_id}: baseline\n")
    assert "settings: defaults" in out and "tags:     defaults, goog" in out
    total_return_row = next(line for line in out.splitlines() if line.startswith("  Total return "))
    assert total_return_row.split()[-2:] == format_metric("total_return", expected.metrics["total_return"]).split()

    code, out, err = run_cli(capsys, "runs", "rerun", str(run_id))
    assert code == 0, out + err
    assert (
        out == f"run {run_id} reproduced exactly: metrics and trades are bit for bit the stored ones "
        f"(engine {record.engine_version})\n"
    )

    code, out, err = run_cli(capsys, "runs", "delete", str(run_id))
    assert (code, out, err) == (0, f"deleted run {run_id} (baseline)\n", "")
    line = assert_one_line_error(*run_cli(capsys, "runs", "show", str(run_id)))
    assert f"no run with id {run_id}" in line
    assert_one_line_error(*run_cli(capsys, "runs", "rerun", str(run_id)))
    assert_one_line_error(*run_cli(capsys, "runs", "delete", str(run_id)))
    code, out, _ = run_cli(capsys, "runs", "list")
    assert code == 0 and out.startswith("no saved runs in sqlite:///")


def test_a_saved_period_holds_only_the_simulated_bars_and_reruns_exactly(capsys, db_url):
    run_id = save(capsys, "--data", "GOOG", "--start", "2010-01-01", "--end", "2011-12-31", "--set", "trigger_up=0.05")
    with Store(db_url) as store:
        record = store.get_run(run_id)
        info = store.get_dataset(record.dataset_id)
        assert record.config.trigger_up == 0.05
        assert record.name == "GOOG: defaults with trigger_up=0.05"  # the default name says what was run
        assert info.name.endswith(", 2010-01-04 to 2011-12-30")
        assert info.n_rows == len(load_sample("GOOG").prices.loc["2010-01-01":"2011-12-31"])
    code, out, err = run_cli(capsys, "runs", "rerun", str(run_id))
    assert code == 0, out + err


def test_saving_the_same_data_twice_reuses_the_dataset(capsys, db_url):
    first = save(capsys, "--data", "GOOG")
    second = save(capsys, "--data", "GOOG", "--set", "trigger_up=0.05")
    with Store(db_url) as store:
        assert store.get_run(first).dataset_id == store.get_run(second).dataset_id
        assert len(store.list_datasets()) == 1


def test_list_filters_sorts_by_a_metric_and_limits(capsys, db_url):
    ids = {
        trigger: save(capsys, "--data", "GOOG", "--set", f"trigger_up={trigger}", "--tag", "sweep")
        for trigger in (0.02, 0.05, 0.1)
    }
    other = save(capsys, "--data", "SP500", "--tag", "index")
    with Store(db_url) as store:
        sharpe = {run_id: store.get_run(run_id).metrics["sharpe"] for run_id in [*ids.values(), other]}

    code, out, err = run_cli(capsys, "runs", "list", "--sort", "-sharpe")  # a dash-prefixed value, unquoted
    assert code == 0, err
    assert listed_ids(out) == sorted(sharpe, key=lambda i: -sharpe[i])
    code, out, _ = run_cli(capsys, "runs", "list", "--sort", "sharpe", "--tag", "sweep")
    assert listed_ids(out) == sorted(ids.values(), key=lambda i: sharpe[i])
    code, out, _ = run_cli(capsys, "runs", "list", "--sort=-sharpe", "--tag", "sweep", "--limit", "1")
    assert listed_ids(out) == [max(ids.values(), key=lambda i: sharpe[i])]
    assert "(1 of 3 runs shown; --limit 0 lists all)" in out
    code, out, _ = run_cli(capsys, "runs", "list", "--tag", "nothing-has-this")
    assert code == 0 and out.startswith("no saved runs match")

    line = assert_one_line_error(*run_cli(capsys, "runs", "list", "--sort", "-volume"))
    assert "cannot sort by '-volume'" in line and "sharpe" in line


def test_rerun_that_does_not_reproduce_exits_1_and_lists_the_differences(capsys, db_url, tmp_path):
    run_id = save(capsys, "--data", "GOOG")
    # As if the run had been saved by another engine version: change its stored total return behind the store's back.
    with sqlite3.connect(tmp_path / "runs.sqlite3") as conn:
        metrics = json.loads(conn.execute("SELECT metrics FROM runs WHERE id = ?", (run_id,)).fetchone()[0])
        metrics["total_return"] = 0.5
        conn.execute("UPDATE runs SET metrics = ? WHERE id = ?", (json.dumps(metrics), run_id))
    conn.close()

    code, out, err = run_cli(capsys, "runs", "rerun", str(run_id))
    assert code == EXIT_NOT_REPRODUCED, out + err
    assert out.startswith(f"run {run_id} NOT reproduced exactly (1 difference(s)):\n")
    assert "metric total_return: stored 0.5" in out


def test_name_and_tags_without_save_are_refused(capsys, db_url):
    line = assert_one_line_error(*run_cli(capsys, "backtest", "--data", "GOOG", "--tag", "x"))
    assert "add --save" in line


@pytest.mark.parametrize(
    "argv",
    [("backtest", "--data", "GOOG", "--save"), ("runs", "list"), ("runs", "show", "1"), ("runs", "rerun", "1")],
)
def test_a_corrupt_database_is_one_line_and_exit_2(capsys, db_url, tmp_path, argv):
    junk = b"this is not a database\x00\xff" * 200
    (tmp_path / "runs.sqlite3").write_bytes(junk)
    line = assert_one_line_error(*run_cli(capsys, *argv))
    assert "is damaged" in line and "move the file aside" in line
    assert (tmp_path / "runs.sqlite3").read_bytes() == junk  # reported, never overwritten


def test_a_missing_table_is_one_line_and_exit_2(capsys, db_url, tmp_path):
    save(capsys, "--data", "GOOG")
    dispose_engine(db_url)
    with sqlite3.connect(tmp_path / "runs.sqlite3") as conn:
        conn.execute("DROP TABLE run_trades")
    conn.close()
    line = assert_one_line_error(*run_cli(capsys, "runs", "list"))
    assert "run_trades" in line and ("restore" in line or "move the file aside" in line)


def test_an_existing_older_database_is_upgraded_on_start(capsys, db_url, tmp_path):
    # A database from before the run store: a SQLite file with other content and no schema revision.
    with sqlite3.connect(tmp_path / "runs.sqlite3") as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
        conn.execute("INSERT INTO notes VALUES ('kept')")
    conn.close()
    code, out, err = run_cli(capsys, "runs", "list")
    assert code == 0, err
    assert out.startswith("no saved runs in ")
    assert current_revision(get_engine(db_url)) == head_revision()
    with sqlite3.connect(tmp_path / "runs.sqlite3") as conn:
        assert conn.execute("SELECT text FROM notes").fetchall() == [("kept",)]
    conn.close()


def test_real_subprocess_saves_and_lists(db_url):
    env_run = {"cwd": REPO, "capture_output": True, "text": True, "timeout": 300}
    saved = subprocess.run([sys.executable, "-m", "cli", "backtest", "--data", "SP500", "--save"], **env_run)
    assert saved.returncode == 0, saved.stderr
    run_id = int(re.search(r"saved as run (\d+)", saved.stdout).group(1))
    listed = subprocess.run([sys.executable, "-m", "cli", "runs", "list", "--sort", "-sharpe"], **env_run)
    assert listed.returncode == 0, listed.stderr
    assert listed_ids(listed.stdout) == [run_id]
