"""``python -m cli report``: every format from a stored run or study, and one-line errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
import pytest
from report_helpers import Seeded

from cli.main import main
from storage import Store


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("fmt", ["xlsx", "pdf", "csv", "json"])
def test_run_formats(seeded: Seeded, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "sub" / f"run.{fmt}"
    code, stdout, stderr = _run(["report", "--run", str(seeded.run_id), "--format", fmt, "--out", str(out),
                                 "--database", seeded.url])  # fmt: skip
    assert (code, stderr) == (0, "")
    assert f"wrote {out}" in stdout
    data = out.read_bytes()
    if fmt == "xlsx":
        assert openpyxl.load_workbook(out).sheetnames[0] == "Summary"
    elif fmt == "pdf":
        assert data.startswith(b"%PDF")
    elif fmt == "json":
        assert json.loads(data)["format"] == "vbl-run-bundle"
    else:
        assert data.startswith(b"timestamp,kind,side,qty")
    with Store(seeded.url) as store:
        assert store.list_audit(action="export", entity="run", entity_id=seeded.run_id, limit=1)


def test_csv_headers_for_people(seeded: Seeded, tmp_path: Path) -> None:
    out = tmp_path / "trades.csv"
    code, _, err = _run(["report", "--run", str(seeded.run_id), "--format", "csv", "--headers", "labels",
                         "--out", str(out), "--db", seeded.url])  # fmt: skip
    assert code == 0, err
    assert out.read_text().startswith("Time,Kind,Side,Shares,Price,")
    trials = tmp_path / "trials.csv"
    code, _, err = _run(["report", "--study", str(seeded.study_id), "--format", "csv", "--headers", "labels",
                         "--out", str(trials), "--db", seeded.url])  # fmt: skip
    assert code == 0, err
    assert "Sell trigger (fraction)" in trials.read_text().splitlines()[0]


def test_several_runs_and_study(seeded: Seeded, tmp_path: Path) -> None:
    both = tmp_path / "both.xlsx"
    code, _, err = _run(["report", "--run", str(seeded.run_id), "--run", str(seeded.run_id_2), "--format", "xlsx",
                         "--template", "trades", "--out", str(both), "--db", seeded.url])  # fmt: skip
    assert code == 0, err
    assert len(openpyxl.load_workbook(both).sheetnames) == 3
    study = tmp_path / "study.xlsx"
    code, _, err = _run(["report", "--study", str(seeded.study_id), "--format", "xlsx", "--top-n", "2",
                         "--heatmap", "trigger_down,trigger_up", "--out", str(study), "--db", seeded.url])  # fmt: skip
    assert code == 0, err
    assert "Top 2" in openpyxl.load_workbook(study).sheetnames


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--run", "999", "--format", "pdf"], "999"),
        (["--study", "1", "--format", "json"], "json is for runs"),
        (["--run", "1", "--run", "2", "--format", "pdf"], "(--format xlsx) or one image each"),
        (["--run", "1", "--format", "csv", "--start", "2010-01-02", "--end", "2010-01-01"], "after --end"),
        (["--study", "1", "--format", "xlsx", "--heatmap", "nope,trigger_up"], "no parameter 'nope'"),
    ],
)
def test_errors_are_one_line(seeded: Seeded, tmp_path: Path, argv: list[str], message: str) -> None:
    code, _, err = _run(["report", *argv, "--out", str(tmp_path / "x"), "--db", seeded.url])
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1
    assert message in err
    assert not (tmp_path / "x").exists()
