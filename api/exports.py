"""Sending an export (a workbook, a PDF, a CSV, a chart) as an HTTP attachment, with its errors as problems."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import Query, Response

from api.problems import Problem
from core.report.exports import Export
from core.report.images import MAX_PIXELS, MAX_SCALE, ImageExportError

__all__ = ["MAX_PIXELS", "MAX_SCALE", "CsvHeaders", "attachment", "exported"]

CsvHeaders = Annotated[Literal["names", "labels"], Query(
    description="CSV column headers: the engine's names (stock_share_after), or the registries' labels with the "
                "unit of fraction-valued columns (Stock share after (fraction)); the values are the same")]


def exported(build: Callable[[], Export]) -> Export:
    """Run ``build``; a bad option (``ValueError``) is a 422 problem, a chart renderer that cannot start a 503."""
    try:
        return build()
    except ImageExportError as exc:
        raise Problem(503, str(exc), title="Chart renderer unavailable") from None
    except ValueError as exc:
        raise Problem(422, str(exc)) from None


def attachment(export: Export) -> Response:
    """The export as a download with its content type and file name."""
    return Response(content=export.data, media_type=export.mime,
                    headers={"Content-Disposition": f'attachment; filename="{export.filename}"'})
