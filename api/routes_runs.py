"""``/v1/runs``: stored runs (list, show, re-run with verification, delete), their reports, and a JSON run bundle
(as ``GET /v1/runs/{id}/report.json`` exports it) imported as a new run after re-running it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Response

from api.app import StoreDep
from api.exports import MAX_PIXELS, MAX_SCALE, CsvHeaders, attachment, exported
from api.problems import ConfigProblem, Problem
from api.responses import RerunOut, RunDetail, RunImported, RunList
from core.errors import ConfigError
from core.figures import RUN_CHARTS
from core.json_values import plain, records
from core.report.bundle import BUNDLE_FORMAT, BundleError, read_bundle
from core.report.exports import run_export
from usecases.reports import import_bundle, run_report_from_store
from usecases.runs import verify_run
from usecases.store import RUN_SORT_KEYS, RunFilter, RunRecord

router = APIRouter(prefix="/v1/runs", tags=["runs"])


def run_json(record: RunRecord) -> dict[str, Any]:
    """A stored run's record."""
    return {"id": record.id, "dataset_id": record.dataset_id, "name": record.name, "tags": list(record.tags),
            "notes": record.notes, "config": record.config.to_dict(), "engine_version": record.engine_version,
            "created_at": plain(record.created_at), "metrics": plain(record.metrics), "n_trades": record.n_trades}


@router.get("", response_model=RunList)
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


@router.get("/{run_id}", response_model=RunDetail, response_model_exclude_unset=True)
def get_run(run_id: int, store: StoreDep, trades: bool = True) -> dict[str, Any]:
    """A stored run with its trades (exactly as saved)."""
    out = run_json(store.get_run(run_id))
    if trades:
        out["trades"] = records(store.get_run_trades(run_id), index=False)
    return out


@router.post("/{run_id}/rerun", response_model=RerunOut)
def rerun(run_id: int, store: StoreDep) -> dict[str, Any]:
    """Re-run from the stored dataset and configuration and say whether metrics and trades are reproduced exactly."""
    check = verify_run(store, run_id)
    return {"id": run_id, "identical": check.identical, "differences": list(check.differences),
            "stored_engine_version": check.stored_engine_version,
            "current_engine_version": check.current_engine_version}


BundleBody = Annotated[dict[str, Any], Body(
    description=f"a run bundle (format {BUNDLE_FORMAT!r}), as exported by GET /v1/runs/{{id}}/report.json",
    examples=[{"format": BUNDLE_FORMAT, "version": 1, "engine_version": "...", "run": {"name": "GOOG 4 %"},
               "dataset": {"sha256": "...", "name": "GOOG"}, "config": {"trigger_up": 0.04}, "metrics": {},
               "trades": []}])]


def _bundle_problem(detail: str) -> Problem:
    return Problem(422, detail, kind="invalid-bundle", title="Invalid run bundle")


@router.post("/import", status_code=201, response_model=RunImported)
def import_run(
    bundle: BundleBody,
    response: Response,
    store: StoreDep,
    name: str | None = Query(None, max_length=200, description="the new run's name (default: the bundle's)"),
) -> dict[str, Any]:
    """Re-run the bundle's configuration on the stored dataset with the bundle's SHA-256 and save it as a new run
    when every metric comes out identical. No such dataset: a 409 problem (upload the data first); a re-run that
    differs: a 422 problem naming the metrics that differ; a malformed bundle: a 422 problem."""
    try:
        parsed = read_bundle(bundle)
    except ConfigError as exc:
        raise ConfigProblem(exc, ["config"]) from None
    except BundleError as exc:
        raise _bundle_problem(str(exc)) from None
    except KeyError as exc:
        raise _bundle_problem(f"not a run bundle: it has no {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise _bundle_problem(f"not a run bundle: {exc}") from None
    if not parsed.sha256:
        raise _bundle_problem("the bundle does not name its dataset (dataset.sha256)")
    # Checked before the use case, so that a missing dataset (fixed on the server by uploading it) is told apart
    # from a bundle that does not reproduce.
    if store.find_dataset(parsed.sha256) is None:
        label = parsed.dataset.get("name") or parsed.dataset.get("symbol") or "?"
        raise Problem(409, f"no stored dataset has the bundle's SHA-256 {parsed.sha256[:12]}... ({label}); upload "
                      "that data first (POST /v1/datasets), then import again", kind="bundle-dataset-missing",
                      title="Dataset missing")
    try:
        run_id = import_bundle(store, parsed, name=name)
    except BundleError as exc:
        raise Problem(422, str(exc), kind="bundle-not-reproduced", title="Bundle not reproduced") from None
    record = store.get_run(run_id)
    response.headers["Location"] = f"/v1/runs/{run_id}"
    return {"id": run_id, "dataset_id": record.dataset_id, "name": record.name, "reproduced": True,
            "metrics": plain(record.metrics), "n_trades": record.n_trades}


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
    headers: CsvHeaders = "names",
    chart: Literal[RUN_CHARTS] = "equity",  # type: ignore[valid-type]
    width: int | None = Query(None, ge=1, le=MAX_PIXELS),
    height: int | None = Query(None, ge=1, le=MAX_PIXELS),
    scale: float = Query(2.0, gt=0, le=MAX_SCALE),
) -> Response:
    """The run's workbook (xlsx), PDF report, JSON bundle, one table as CSV (``table``; ``headers``: engine names or
    labels with units) or one chart as PNG/SVG
    (``chart``, ``width``, ``height``, ``scale``), built by ``core.report`` from the stored run."""
    report = run_report_from_store(store, run_id)
    export = exported(lambda: run_export(report, fmt, template=template, page_size=page_size, table=table,
                                         headers=headers, chart=chart, width=width, height=height, scale=scale))
    store.record_audit("export", "run", run_id, {"format": fmt, "filename": export.filename, "via": "api"})
    return attachment(export)
