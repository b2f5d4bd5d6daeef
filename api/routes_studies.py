"""``/v1/studies/{id}/report.{fmt}``: a stored study as a workbook, PDF, CSV of its trials or its heatmap image."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Response

from api.app import StoreDep
from api.exports import MAX_PIXELS, MAX_SCALE, CsvHeaders, attachment, exported
from api.problems import Problem
from core.report.exports import study_export
from usecases.reports import study_report_from_store

router = APIRouter(prefix="/v1/studies", tags=["studies"])


@router.get("/{study_id}/report.{fmt}")
def study_report(
    study_id: int,
    fmt: Literal["xlsx", "pdf", "csv", "png", "svg"],
    store: StoreDep,
    top_n: int = Query(20, ge=1, le=10_000),
    heatmap: str | None = Query(None, description="two varied parameters, 'x,y' (default: the first two)"),
    page_size: Literal["a4", "letter"] = "a4",
    headers: CsvHeaders = "names",
    width: int | None = Query(None, ge=1, le=MAX_PIXELS),
    height: int | None = Query(None, ge=1, le=MAX_PIXELS),
    scale: float = Query(2.0, gt=0, le=MAX_SCALE),
) -> Response:
    """The study report built by ``core.report`` from the stored trials (as ``python -m cli report --study``)."""
    axes = None
    if heatmap is not None:
        parts = [p.strip() for p in heatmap.split(",")]
        if len(parts) != 2 or not all(parts):
            raise Problem(422, f"heatmap must name two parameters as 'x,y', got {heatmap!r}",
                          errors=[{"field": "heatmap", "location": "query", "message": "expected 'x,y'"}])
        axes = (parts[0], parts[1])
    report = study_report_from_store(store, study_id)
    export = exported(lambda: study_export(report, fmt, page_size=page_size, top_n=top_n, heatmap=axes,
                                           headers=headers, width=width, height=height, scale=scale))
    store.record_audit("export", "study", study_id, {"format": fmt, "filename": export.filename, "via": "api"})
    return attachment(export)
