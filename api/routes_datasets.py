"""``/v1/datasets``: the stored datasets and bundled samples, CSV upload (multipart) and the quality report."""

from __future__ import annotations

import io
import os
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile

from api.app import StoreDep, state_of
from api.problems import Problem
from api.responses import DatasetList, DatasetUploaded, QualityOut
from core.data import list_samples, load_csv, load_dividends_csv, quality_report
from core.json_values import plain, records
from usecases.store import DatasetInfo

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])
CHUNK = 1 << 20


def dataset_json(info: DatasetInfo) -> dict[str, Any]:
    """A stored dataset's description."""
    return {"id": info.id, "name": info.name, "symbol": info.symbol, "source": info.source,
            "interval": info.interval, "price_basis": info.price_basis, "timezone": info.timezone,
            "start": plain(info.first_timestamp), "end": plain(info.last_timestamp), "rows": info.n_rows,
            "dividends": info.n_dividends, "sha256": info.sha256, "created_at": plain(info.created_at)}


@router.get("", response_model=DatasetList)
def list_datasets(store: StoreDep) -> dict[str, Any]:
    """The stored datasets (usable by id) and the bundled samples (usable by key)."""
    return {
        "datasets": [dataset_json(d) for d in store.list_datasets()],
        "samples": [{"key": s.key, "symbol": s.symbol, "name": s.name, "description": s.description,
                     "start": s.start, "end": s.end, "rows": s.rows, "interval": s.interval,
                     "price_basis": s.price_basis, "licence": s.licence} for s in list_samples()],
    }


async def _read_limited(upload: UploadFile, limit: int, what: str) -> io.BytesIO:
    buffer = io.BytesIO()
    while chunk := await upload.read(CHUNK):
        buffer.write(chunk)
        if buffer.tell() > limit:
            raise Problem(413, f"the {what} is larger than the limit of {limit:,} bytes (VBL_API_MAX_UPLOAD_MB)")
    buffer.seek(0)
    # core.data names the file in its messages by the buffer's name
    buffer.name = os.path.basename(upload.filename or "") or "uploaded file"  # type: ignore[attr-defined]
    return buffer


@router.post("", status_code=201, response_model=DatasetUploaded)
async def upload_dataset(
    request: Request,
    response: Response,
    file: Annotated[UploadFile, File(description="price CSV (Yahoo, Stooq, broker exports)")],
    dividends: Annotated[UploadFile | None, File(description="optional dividends CSV (ex-date, amount, pay date)")]
    = None,
    name: Annotated[str | None, Form(max_length=200)] = None,
    symbol: Annotated[str | None, Form(max_length=40)] = None,
    timezone: Annotated[str, Form()] = "America/New_York",
) -> dict[str, Any]:
    """Upload a price CSV (multipart field ``file``): parsed by ``core.data.load_csv`` (a malformed file is a 422
    problem naming the row), stored, and described with its quality report summary."""
    state = state_of(request)
    limit = state.settings.max_upload_bytes
    prices_buf = await _read_limited(file, limit, "price file")
    divs = None
    if dividends is not None and dividends.filename:
        divs = load_dividends_csv(await _read_limited(dividends, limit, "dividends file"))
    data = load_csv(prices_buf, dividends=divs, symbol=symbol or None, timezone=timezone)
    store = state.store()
    dataset_id = store.save_dataset(data, name=name or None)
    report = quality_report(data)
    response.headers["Location"] = f"/v1/datasets/{dataset_id}"
    return {**dataset_json(store.get_dataset(dataset_id)), "quality": plain(report.summary),
            "issues": list(report.issues)}


@router.get("/{dataset_id}/quality", response_model=QualityOut)
def dataset_quality(dataset_id: int, store: StoreDep) -> dict[str, Any]:
    """``core.data.quality_report`` of a stored dataset: summary counts, readable issues and every finding."""
    data = store.load_market_data(dataset_id)
    report = quality_report(data)
    return {"id": dataset_id, "summary": plain(report.summary), "issues": list(report.issues),
            "findings": records(report.findings, index=False), "settings": plain(report.settings)}
