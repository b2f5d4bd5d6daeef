"""The formula-injection guard, file by file: xlsx cells keep the text as typed (quote prefix, string type), CSV
files get an apostrophe, whatever the pandas dtype; the positions and audit-log CSVs use the same guard."""

from __future__ import annotations

import dataclasses
import functools
import io
import zipfile
from datetime import datetime
from types import SimpleNamespace

import openpyxl
import pandas as pd
import pytest

from app.views.audit import audit_csv, audit_frame
from core import StrategyConfig, simulate
from core.data import load_sample
from core.position_history import history_csv
from core.report.bundle import run_csv
from core.report.context import DatasetMeta, RunReport, StudyReport
from core.report.excel_run import run_workbook, save_workbook
from core.report.excel_study import study_workbook
from core.report.safe_cells import safe_frame
from storage import FrozenMap
from usecases.store import AuditEntry

HOSTILE = {
    "dataset": '=HYPERLINK("http://evil","x")',
    "name": "+cmd|' /C calc'!A0",
    "notes": "@SUM(1+1)",
    "symbol": "-2+3",
}


@functools.cache
def _report() -> RunReport:
    goog = load_sample("GOOG")
    result = simulate(goog.prices, StrategyConfig(), goog.dividends)
    meta = dataclasses.replace(DatasetMeta.from_market_data(goog), name=HOSTILE["dataset"], symbol=HOSTILE["symbol"])
    return RunReport(result, meta, run_id=3, name=HOSTILE["name"], notes=HOSTILE["notes"])


def _reopen(data: bytes | None) -> openpyxl.Workbook:
    assert data is not None
    return openpyxl.load_workbook(io.BytesIO(data))


def _hostile_cells(wb: openpyxl.Workbook) -> dict[str, list]:
    found: dict[str, list] = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@")):
                    found.setdefault(cell.value, []).append(cell)
    return found


def test_run_workbook_shows_the_text_as_typed_in_inert_string_cells() -> None:
    data = save_workbook(run_workbook(_report()))
    cells = _hostile_cells(_reopen(data))
    for text in HOSTILE.values():
        assert text in cells, f"{text!r} missing or changed (an apostrophe would show in Excel)"
        for cell in cells[text]:
            assert cell.data_type == "s" and cell.quotePrefix, (cell.coordinate, cell.value)
    assert "'" + HOSTILE["dataset"] not in {c.value for cs in cells.values() for c in cs}
    summary = _reopen(data)["Summary"]
    values = {r[0].value: r[1].value for r in summary.iter_rows() if r[0].value}
    assert values["Run name"] == HOSTILE["name"] and values["Dataset"] == HOSTILE["dataset"]
    # The stored XML has no formula element at all: nothing runs when the file is opened.
    with zipfile.ZipFile(io.BytesIO(data or b"")) as archive:
        for member in archive.namelist():
            if member.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(member) and b"<f " not in archive.read(member)
        assert b'quotePrefix="1"' in archive.read("xl/styles.xml")


def test_study_workbook_and_trials_tables_guard_their_text() -> None:
    trials = pd.DataFrame({"index": [0, 1], "status": "completed", "param.trigger_up": [0.02, 0.03],
                           "param.trigger_down": [0.02, 0.02], "sharpe": [0.5, 0.6],
                           "error": pd.array(["=1+1", "@x"], dtype="str")})  # fmt: skip
    study = StudyReport(trials, name="=evil()", study_id=None, method="grid", objective="sharpe",
                        search_space={"trigger_up": [0.02, 0.03]})  # fmt: skip
    cells = _hostile_cells(_reopen(save_workbook(study_workbook(study))))
    assert {"=evil()", "=1+1", "@x"} <= set(cells)
    assert all(c.quotePrefix and c.data_type == "s" for cs in cells.values() for c in cs)


@pytest.mark.parametrize("dtype", [object, "str", "string", "category"])
def test_csv_guard_covers_every_text_dtype(dtype: object) -> None:
    frame = pd.DataFrame({"name": pd.Series(["=HYPERLINK(1)", "+1", "-x", "@A1", "ok"], dtype=dtype),
                          "value": [-1.0, 2.0, 3.0, 4.0, 5.0]})  # fmt: skip
    out = pd.read_csv(io.StringIO(safe_frame(frame).to_csv(index=False)))
    assert out["name"].tolist() == ["'=HYPERLINK(1)", "'+1", "'-x", "'@A1", "ok"]
    assert out["value"].tolist() == [-1.0, 2.0, 3.0, 4.0, 5.0]  # numbers stay numbers, negative ones too


def test_run_csv_keeps_the_apostrophe() -> None:
    report = _report()
    text = run_csv(report, "transaction_log")
    assert "\n=" not in text and ",=" not in text  # no cell starts a formula


@dataclasses.dataclass(frozen=True)
class _Event:
    id: int
    kind: str
    message: str
    actor: str


def test_positions_csv_guards_pandas_string_columns() -> None:
    # records_frame builds str-dtype columns (pandas 3), which the positions guard used to skip
    history = SimpleNamespace(events=[_Event(1, "created", '=HYPERLINK("x")', "@me"), _Event(2, "fill", "ok", "me")])
    csv = pd.read_csv(io.BytesIO(history_csv(history)))
    assert not any(str(v).startswith(("=", "+", "-", "@")) for v in [*csv["message"], *csv["actor"]])
    assert csv["message"].iloc[0].strip() == '=HYPERLINK("x")'  # marked, not altered


def test_audit_log_csv_is_guarded() -> None:
    entry = AuditEntry(id=1, at=datetime(2024, 1, 2), actor="=cmd()", action="export", entity="run",
                       entity_id="7", details=FrozenMap({"name": "x"}))  # fmt: skip
    csv = pd.read_csv(io.BytesIO(audit_csv(audit_frame([entry]))))
    assert csv.loc[0, "actor"] == "'=cmd()"
