"""Schedules as the interfaces use them: create (validated), pause, resume, run now, and what is due.

A schedule's slots start at ``starts_at`` (its creation, or the time it was last resumed: slots that passed while
it was paused are not sent afterwards). What is due at a moment is the schedule's **latest** slot not yet claimed,
so a scheduler that was down for three days sends the missed daily report once, not three times.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from storage import SCHEDULE_ACTIVE, SCHEDULE_PAUSED, DeliveryRecord, ScheduleRecord, Store
from usecases.delivery.cadence import Cadence, parse_cadence
from usecases.delivery.destinations import parse_destinations
from usecases.delivery.send import RetryPolicy, claimant_name, deliver_slot, send_now
from usecases.delivery.subjects import ReportSubject, require_subject


def create_schedule(store: Store, name: str, subject: ReportSubject, cadence: str, *, timezone: str = "UTC",
                    destinations: Sequence[str], starts_at: datetime | None = None) -> ScheduleRecord:
    """Validate and store a schedule; its first slot is the first after ``starts_at`` (default now).

    Raises:
        CadenceError, DestinationError, SubjectError: what is wrong, said plainly (all ``ValueError``).
        NotFound: the run, study or position does not exist.
        ConflictError: the name is taken.
    """
    parsed = parse_cadence(cadence, timezone)
    targets = parse_destinations(list(destinations))
    require_subject(store, subject)
    schedule_id = store.create_schedule(
        name, subject=subject.to_dict(), cadence=parsed.text, cron=parsed.cron, timezone=parsed.timezone,
        destinations=[d.text for d in targets], starts_at=starts_at,
    )
    return store.get_schedule(schedule_id)


def cadence_of(schedule: ScheduleRecord) -> Cadence:
    """The schedule's cadence (as stored, already validated)."""
    return Cadence(schedule.cadence, schedule.cron, schedule.timezone)


def pause_schedule(store: Store, schedule_id: int) -> ScheduleRecord:
    """Stop sending until resumed."""
    return store.update_schedule(schedule_id, status=SCHEDULE_PAUSED)


def resume_schedule(store: Store, schedule_id: int) -> ScheduleRecord:
    """Send again from the next slot on (slots missed while paused are skipped, on purpose)."""
    return store.update_schedule(schedule_id, status=SCHEDULE_ACTIVE, starts_at=datetime.now(UTC))


def next_slot(schedule: ScheduleRecord, now: datetime | None = None) -> datetime | None:
    """When the schedule fires next (None when paused)."""
    if schedule.status != SCHEDULE_ACTIVE:
        return None
    at = now or datetime.now(UTC)
    return cadence_of(schedule).next_slot(max(at, schedule.starts_at))


def due_slot(store: Store, schedule: ScheduleRecord, now: datetime | None = None) -> datetime | None:
    """The slot to send now: the latest slot in ``[starts_at, now]`` if it is later than every slot claimed."""
    if schedule.status != SCHEDULE_ACTIVE:
        return None
    latest = cadence_of(schedule).latest_slot(now or datetime.now(UTC), not_before=schedule.starts_at)
    if latest is None:
        return None
    claimed = store.last_slot(schedule.id)
    return latest if claimed is None or latest > claimed else None


def run_due(store: Store, schedule: ScheduleRecord, *, policy: RetryPolicy, claimant: str,
            now: datetime | None = None) -> list[DeliveryRecord]:
    """Send the schedule's due slot, if any (the claim makes it once across processes)."""
    slot = due_slot(store, schedule, now)
    return [] if slot is None else deliver_slot(store, schedule, slot, policy=policy, claimant=claimant)


def run_schedule_now(store: Store, schedule_id: int, *, policy: RetryPolicy | None = None) -> list[DeliveryRecord]:
    """Send the schedule's report to its destinations now, outside its slots ("Run now"; paused ones too)."""
    schedule = store.get_schedule(schedule_id)
    return send_now(store, ReportSubject.from_dict(schedule.subject), schedule.destinations, policy=policy,
                    schedule_id=schedule.id, claimant=claimant_name("run-now"))
