"""``/v1/schedules`` and ``/v1/deliveries``: report schedules (create, list, pause, resume, run now, delete, their
delivery history) and sending a report now — the same use cases as the app's Schedules and Reports pages and the
CLI's ``schedules``/``send``.

A destination is ``mailto:address`` or a storage URL (``s3://bucket/folder/``, ``file:///srv/reports/`` …); it may
not carry credentials (the server's environment holds them). A send answers with one record per destination:
``sent``, ``retrying`` (the scheduler process tries again with backoff) or ``failed``.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from api.app import StoreDep
from api.problems import Problem
from core.json_values import plain
from usecases.delivery import (
    FORMATS,
    CadenceError,
    DestinationError,
    ReportSubject,
    SubjectError,
    create_schedule,
    next_slot,
    pause_schedule,
    resume_schedule,
    run_schedule_now,
    send_now,
)
from usecases.store import DeliveryRecord, ScheduleRecord

router = APIRouter(tags=["delivery"])


class SubjectBody(BaseModel):
    """What to send: a stored run, study or position, the file format and the export's options."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["run", "study", "portfolio", "position", "alerts"]
    id: int = Field(ge=0, description="the run, study, portfolio or position id; 0 for the alerts (the watch list)")
    format: Literal["xlsx", "pdf", "csv", "json", "png", "svg"]
    options: dict[str, Any] = Field(default_factory=dict, description=(
        "run: template, page_size, table, chart, latest_data (re-run on the newest stored dataset of the symbol); "
        "study: page_size, top_n; portfolio: latest_data; position: none; alerts: near_pct, stale_hours"))


class SendBody(BaseModel):
    """Send a report now."""

    model_config = ConfigDict(extra="forbid")

    subject: SubjectBody
    destinations: list[str] = Field(min_length=1, max_length=50)


class ScheduleBody(BaseModel):
    """A new schedule."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    subject: SubjectBody
    cadence: str = Field(min_length=1, max_length=200, description=(
        "'daily 08:00', 'weekdays 07:30', 'weekly mon 07:30', 'monthly 1 06:00', 'hourly :15' or a five-field "
        "cron expression"))
    timezone: str = Field("UTC", description="IANA time zone the cadence is read in")
    destinations: list[str] = Field(min_length=1, max_length=50)


def _subject(body: SubjectBody) -> ReportSubject:
    try:
        return ReportSubject(body.kind, body.id, body.format, dict(body.options))
    except SubjectError as exc:
        raise Problem(422, str(exc), kind="validation-error", errors=[
            {"field": "subject", "location": ["body", "subject"], "message": str(exc),
             "valid": {kind: list(formats) for kind, formats in FORMATS.items()}}]) from None


def _invalid(exc: Exception, field: str) -> Problem:
    return Problem(422, str(exc), kind="validation-error",
                   errors=[{"field": field, "location": ["body", field], "message": str(exc)}])


def schedule_json(schedule: ScheduleRecord) -> dict[str, Any]:
    """A schedule with its next slot."""
    return {"id": schedule.id, "name": schedule.name, "subject": plain(schedule.subject),
            "cadence": schedule.cadence, "cron": schedule.cron, "timezone": schedule.timezone,
            "destinations": list(schedule.destinations), "status": schedule.status,
            "starts_at": plain(schedule.starts_at), "next_slot": plain(next_slot(schedule)),
            "created_at": plain(schedule.created_at), "updated_at": plain(schedule.updated_at)}


def delivery_json(record: DeliveryRecord) -> dict[str, Any]:
    """A delivery's record."""
    return {"id": record.id, "schedule_id": record.schedule_id, "slot": plain(record.slot),
            "destination": record.destination, "subject": plain(record.subject), "status": record.status,
            "attempts": record.attempts, "next_attempt_at": plain(record.next_attempt_at),
            "filename": record.filename, "size_bytes": record.size_bytes, "error": record.error,
            "claimed_by": record.claimed_by, "created_at": plain(record.created_at),
            "finished_at": plain(record.finished_at)}


@router.post("/v1/deliveries", status_code=200)
def send(body: SendBody, store: StoreDep) -> dict[str, Any]:
    """Send a report to the destinations now; one record per destination."""
    subject = _subject(body.subject)
    try:
        records = send_now(store, subject, body.destinations)
    except DestinationError as exc:
        raise _invalid(exc, "destinations") from None
    return {"items": [delivery_json(r) for r in records]}


@router.get("/v1/deliveries")
def list_deliveries(store: StoreDep, schedule_id: int | None = Query(None, ge=1),
                    limit: int = Query(100, ge=1, le=1000)) -> dict[str, Any]:
    """Deliveries, newest first (those of one schedule with ``schedule_id``)."""
    return {"items": [delivery_json(r) for r in store.list_deliveries(schedule_id=schedule_id, limit=limit)]}


@router.post("/v1/schedules", status_code=201)
def create(body: ScheduleBody, store: StoreDep) -> dict[str, Any]:
    """Create a schedule; it sends from its next slot on (the scheduler process must run: ``cli scheduler``)."""
    subject = _subject(body.subject)
    try:
        schedule = create_schedule(store, body.name, subject, body.cadence, timezone=body.timezone,
                                   destinations=body.destinations)
    except CadenceError as exc:
        raise _invalid(exc, "cadence" if "time zone" not in str(exc) else "timezone") from None
    except DestinationError as exc:
        raise _invalid(exc, "destinations") from None
    except ValueError as exc:
        raise _invalid(exc, "name") from None
    return schedule_json(schedule)


@router.get("/v1/schedules")
def list_schedules(store: StoreDep, status: Literal["active", "paused"] | None = None) -> dict[str, Any]:
    """Every schedule (or those with ``status``) with its next slot."""
    return {"items": [schedule_json(s) for s in store.list_schedules(status=status)]}


@router.get("/v1/schedules/{schedule_id}")
def get_schedule(schedule_id: int, store: StoreDep) -> dict[str, Any]:
    """One schedule."""
    return schedule_json(store.get_schedule(schedule_id))


@router.post("/v1/schedules/{schedule_id}/pause")
def pause(schedule_id: int, store: StoreDep) -> dict[str, Any]:
    """Stop sending until resumed."""
    return schedule_json(pause_schedule(store, schedule_id))


@router.post("/v1/schedules/{schedule_id}/resume")
def resume(schedule_id: int, store: StoreDep) -> dict[str, Any]:
    """Send again from the next slot (slots missed while paused are skipped)."""
    return schedule_json(resume_schedule(store, schedule_id))


@router.post("/v1/schedules/{schedule_id}/run")
def run_now(schedule_id: int, store: StoreDep) -> dict[str, Any]:
    """Send the schedule's report to its destinations now (outside its slots)."""
    return {"items": [delivery_json(r) for r in run_schedule_now(store, schedule_id)]}


@router.get("/v1/schedules/{schedule_id}/deliveries")
def schedule_deliveries(schedule_id: int, store: StoreDep, limit: int = Query(100, ge=1, le=1000)) -> dict[str, Any]:
    """The schedule's delivery history, newest first."""
    store.get_schedule(schedule_id)
    return {"items": [delivery_json(r) for r in store.list_deliveries(schedule_id=schedule_id, limit=limit)]}


@router.delete("/v1/schedules/{schedule_id}", status_code=204)
def delete(schedule_id: int, store: StoreDep) -> Response:
    """Delete a schedule (its delivery history is kept)."""
    store.delete_schedule(schedule_id)
    return Response(status_code=204)

