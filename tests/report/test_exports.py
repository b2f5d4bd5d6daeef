"""The app-facing export entry points: bytes, file names and MIME types; refusals for unknown options."""

from __future__ import annotations

import pytest
from report_helpers import Seeded

from core.report.exports import MIME, run_export, runs_export, study_export
from storage import Store
from usecases.reports import run_report_from_store, study_report_from_store


def test_run_exports_name_and_type(seeded: Seeded, store: Store) -> None:
    report = run_report_from_store(store, seeded.run_id)
    for fmt in ("xlsx", "pdf", "csv", "json"):
        export = run_export(report, fmt)
        assert export.mime == MIME[fmt]
        assert export.filename.startswith(f"GOOG_run{seeded.run_id}") and export.filename.endswith(f".{fmt}")
        assert export.data
    assert runs_export([report, report]).filename.endswith(".xlsx")
    with pytest.raises(ValueError):
        run_export(report, "docx")
    with pytest.raises(ValueError):
        run_export(report, "png", chart="pie")


def test_study_exports(seeded: Seeded, store: Store) -> None:
    study = study_report_from_store(store, seeded.study_id)
    assert study_export(study, "csv").filename == f"study{seeded.study_id}_trials.csv"
    assert study_export(study, "pdf").data.startswith(b"%PDF")
    with pytest.raises(ValueError):
        study_export(study, "json")
