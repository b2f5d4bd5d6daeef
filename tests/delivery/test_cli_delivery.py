"""``python -m cli send`` and ``python -m cli schedules …`` in process, on the test's own store."""

from __future__ import annotations

from pathlib import Path

import pytest
from delivery_servers import Seeded

from cli.main import EXIT_USAGE, main
from storage import ENV_VAR


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def _store(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, seeded.url)


def test_send_writes_the_report_and_exits_0(seeded: Seeded, tmp_path: Path, capsys) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code, out, err = run_cli(capsys, "send", "--run", str(seeded.run_id), "--format", "csv", "--table", "trades",
                             "--to", f"file://{out_dir}/")
    assert code == 0, err
    assert f"to file://{out_dir}/: sent, " in out
    assert [p.name for p in out_dir.iterdir()] == ["GOOG_run1_trades.csv"]


def test_send_that_fails_exits_1_and_says_why(seeded: Seeded, tmp_path: Path, capsys) -> None:
    code, out, _ = run_cli(capsys, "send", "--study", str(seeded.study_id), "--format", "csv",
                           "--to", f"file://{tmp_path}/missing/")
    assert code == 1
    assert "retrying" in out and "the bucket or folder does not exist" in out


@pytest.mark.parametrize(("argv", "message"), [
    (["send", "--format", "pdf", "--to", "a@example.com"],
     "exactly one of --run ID, --study ID, --portfolio ID, --position ID or --alerts"),
    (["send", "--run", "1", "--study", "1", "--to", "a@example.com"], "exactly one of"),
    (["send", "--run", "99", "--to", "a@example.com"], "no run with id 99"),
    (["send", "--run", "1", "--to", "s3://k:s@b/"], "credentials never go in a destination"),
    (["send", "--study", "1", "--latest-data", "--to", "a@example.com"], "--latest-data applies to a run"),
    (["schedules", "add", "x", "--run", "1", "--every", "fortnightly", "--to", "a@example.com"], "is not a cadence"),
    (["schedules", "add", "x", "--run", "1", "--every", "daily", "--timezone", "Nowhere/City", "--to",
      "a@example.com"], "unknown time zone"),
    (["schedules", "pause", "42"], "no schedule with id 42"),
])
def test_bad_requests_are_one_error_line_with_exit_2(argv: list[str], message: str, capsys) -> None:
    code, _, err = run_cli(capsys, *argv)
    assert code == EXIT_USAGE
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_schedule_commands(seeded: Seeded, tmp_path: Path, capsys) -> None:
    code, out, err = run_cli(capsys, "schedules", "add", "Monday GOOG", "--run", str(seeded.run_id), "--format",
                             "json", "--every", "weekly mon 07:30", "--timezone", "Europe/Zurich", "--to",
                             f"file://{tmp_path}/", "--latest-data")
    assert code == 0, err
    assert out.startswith("schedule 1 'Monday GOOG': weekly mon 07:30 (30 7 * * mon, Europe/Zurich); next ")
    code, out, _ = run_cli(capsys, "schedules", "list")
    assert code == 0 and "Monday GOOG" in out and "run 1 as json" in out and "active" in out
    assert run_cli(capsys, "schedules", "pause", "1")[1].strip() == "schedule 1 'Monday GOOG' is paused"
    assert run_cli(capsys, "schedules", "resume", "1")[1].strip() == "schedule 1 'Monday GOOG' is active"
    code, out, _ = run_cli(capsys, "schedules", "run", "1")
    assert code == 0 and "sent" in out
    code, out, _ = run_cli(capsys, "schedules", "history", "1")
    assert code == 0 and "by hand" in out and "sent" in out
    assert run_cli(capsys, "scheduler", "--once")[1].strip() == "nothing due"
    code, out, _ = run_cli(capsys, "schedules", "delete", "1")
    assert code == 0 and "history is kept" in out
