"""Reports from the store: a stored run or study as a report record, and a JSON bundle imported as a new run.

The exports themselves (:mod:`core.report`) are pure functions of these records, so a report built here equals the
one built from the same run in the app, the CLI or a test.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from core.report.bundle import BundleError, RunBundle, rerun_bundle
from core.report.context import DatasetMeta, RunReport, StudyReport
from storage import Store
from usecases.runs import rerun


def run_report_from_store(
    store: Store, run_id: int, *, start: date | None = None, end: date | None = None
) -> RunReport:
    """The stored run ``run_id``, re-run for its timeline, as a report (``NotFound`` if it does not exist)."""
    record = store.get_run(run_id)
    info = store.get_dataset(record.dataset_id)
    result = rerun(store, run_id)
    report = RunReport(
        result=result,
        dataset=DatasetMeta.from_market_data(info),
        run_id=record.id,
        name=record.name,
        notes=record.notes,
        created_at=record.created_at,
    )
    return report.with_period(start, end)


def study_report_from_store(store: Store, study_id: int, *, walk_forward: pd.DataFrame | None = None) -> StudyReport:
    """The stored study ``study_id`` with all its trials (``NotFound`` if it does not exist)."""
    study = store.get_study(study_id)
    info = store.get_dataset(study.dataset_id)
    return StudyReport(
        trials=store.list_trials(study_id),
        name=study.name,
        study_id=study.id,
        method=study.method,
        objective=study.objective,
        search_space=dict(study.search_space),
        status=study.status,
        dataset=DatasetMeta.from_market_data(info),
        walk_forward=walk_forward,
    )


def import_bundle(store: Store, bundle: RunBundle, *, name: str | None = None) -> int:
    """Re-run a bundle on the stored dataset with its hash, check the metrics and save it as a new run.

    Raises:
        BundleError: no stored dataset has the bundle's hash, or the re-run differs.
    """
    info = store.find_dataset(bundle.sha256)
    if info is None:
        raise BundleError(
            f"no stored dataset has SHA-256 {bundle.sha256[:12]}... ({bundle.dataset.get('name', '?')}); "
            "import that data first"
        )
    result = rerun_bundle(bundle, store.load_market_data(info.id))
    run_name = name if name is not None else str(bundle.run.get("name") or "imported bundle")
    return store.save_run(info.id, result, name=run_name, notes=str(bundle.run.get("notes") or ""))
