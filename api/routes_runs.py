"""``/v1/runs``: stored runs (list, show, re-run with verification, delete) and their reports."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Response

from api.app import StoreDep
from api.exports import MAX_PIXELS, MAX_SCALE, attachment, exported
from api.problems import Problem
from core.figures import RUN_CHARTS
from core.json_values import plain, records
from core.report.exports import run_export
from usecases.reports import run_report_from_store
from usecases.runs import verify_run
from usecases.store import RUN_SORT_KEYS, RunFilter, RunRecord

router = APIRouter(prefix="/v1/runs", tags=["runs"])


def run_json(record: RunRecord) -> dict[str, Any]:
    """A stored run's record."""
    return {"id": record.id, "dataset_id": record.dataset_id, "name": record.name, "tags": list(record.tags),
            "notes": record.notes, "config": record.config.to_dict(), "engine_version": record.engine_version,
            "created_at": plain(record.created_at), "metrics": plain(record.metrics), "n_trades": record.n_trades}


@router.get("")
def list_runs(
    store: StoreDep,
    limit: int = Query(50, ge=1, le=1000),
    offset: int = Query(0, ge=0),
    sort: str = Query("-created_at", description="one of " + ", ".join(RUN_SORT_KEYS) + "; prefix - for "
                      "descending"),
    dataset_id: int | None = None,
    tag: str | None = None,
    name_contains: str | None = None,
) -> dict[str, Any]:
    """Stored runs, filtered, sorted and paged."""
    if sort.lstrip("+-") not in RUN_SORT_KEYS:
        raise Problem(422, f"cannot sort runs by {sort!r}; use one of {', '.join(RUN_SORT_KEYS)}",
                      kind="validation-error", errors=[{"field": "sort", "location": ["query", "sort"],
                                                        "message": "unknown sort key", "valid": list(RUN_SORT_KEYS)}])
    try:
        flt = RunFilter(dataset_id=dataset_id, tag=tag, name_contains=name_contains)
    except ValueError as exc:  # e.g. a NUL character in a filter
        raise Problem(422, str(exc), kind="validation-error") from None
    rows = store.list_runs(flt, sort=sort.lstrip("+"), limit=limit, offset=offset)
    return {"total": store.count_runs(flt), "offset": offset, "limit": limit, "items": [run_json(r) for r in rows]}


@router.get("/{run_id}")
def get_run(run_id: int, store: StoreDep, trades: bool = True) -> dict[str, Any]:
    """A stored run with its trades (exactly as saved)."""
    out = run_json(store.get_run(run_id))
    if trades:
        out["trades"] = records(store.get_run_trades(run_id), index=False)
    return out


@router.post("/{run_id}/rerun")
def rerun(run_id: int, store: StoreDep) -> dict[str, Any]:
    """Re-run from the stored dataset and configuration and say whether metrics and trades are reproduced exactly."""
    check = verify_run(store, run_id)
    return {"id": run_id, "identical": check.identical, "differences": list(check.differences),
            "stored_engine_version": check.stored_engine_version,
            "current_engine_version": check.current_engine_version}


@router.delete("/{run_id}", status_code=204)
def delete_run(run_id: int, store: StoreDep) -> Response:
    """Delete a stored run (404 if there is none)."""
    store.get_run(run_id)
    store.delete_run(run_id)
    return Response(status_code=204)


@router.get("/{run_id}/report.{fmt}")
def run_report(
    run_id: int,
    fmt: Literal["xlsx", "pdf", "json", "csv", "png", "svg"],
    store: StoreDep,
    template: Literal["full_audit", "performance", "trades_only"] = "full_audit",
    page_size: Literal["a4", "letter"] = "a4",
    table: Literal["trades", "timeline", "transaction_log", "metrics"] = "trades",
    chart: Literal[RUN_CHARTS] = "equity",  # type: ignore[valid-type]
    width: int | None = Query(None, ge=1, le=MAX_PIXELS),
    height: int | None = Query(None, ge=1, le=MAX_PIXELS),
    scale: float = Query(2.0, gt=0, le=MAX_SCALE),
) -> Response:
    """The run's workbook (xlsx), PDF report, JSON bundle, one table as CSV (``table``) or one chart as PNG/SVG
    (``chart``, ``width``, ``height``, ``scale``), built by ``core.report`` from the stored run."""
    report = run_report_from_store(store, run_id)
    export = exported(lambda: run_export(report, fmt, template=template, page_size=page_size, table=table,
                                         chart=chart, width=width, height=height, scale=scale))
    store.record_audit("export", "run", run_id, {"format": fmt, "filename": export.filename, "via": "api"})
    return attachment(export)
