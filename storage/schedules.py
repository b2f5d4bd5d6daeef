"""Scheduled reports and their deliveries: the records, and the claims that make a delivery happen once.

A *schedule* says what to send (a subject: a run, a study or a position, with format and options), when (a cron
expression in a time zone, from ``starts_at`` on) and where (destination texts). The store keeps them as given; the
use-case layer (:mod:`usecases.delivery`) validates them and computes the slots.

A *delivery* is one report sent to one destination. Before anything is sent, the sender **claims** the row
``(schedule_id, slot, destination)``; the table's unique constraint lets exactly one claimant win, so two scheduler
processes, or one restarted mid-slot, never send a slot twice. A claim carries the claimant's name and time; a
claim older than the lease (its process died while sending) may be taken over, which is the one case where a
report can be sent a second time — only when a process died between handing the message over and recording it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from storage import codec
from storage._base import StoreBase, aware, naive_utc, require, utcnow
from storage.errors import ConflictError
from storage.models import deliveries, schedules
from storage.values import FrozenMap

SCHEDULE_ACTIVE = "active"
SCHEDULE_PAUSED = "paused"
SCHEDULE_STATUSES: tuple[str, ...] = (SCHEDULE_ACTIVE, SCHEDULE_PAUSED)

DELIVERY_SENDING = "sending"  # claimed; the report is being built or handed over
DELIVERY_SENT = "sent"
DELIVERY_RETRYING = "retrying"  # an attempt failed; the next one is due at next_attempt_at
DELIVERY_FAILED = "failed"  # every attempt failed
DELIVERY_STATUSES: tuple[str, ...] = (DELIVERY_SENDING, DELIVERY_SENT, DELIVERY_RETRYING, DELIVERY_FAILED)
MAX_NAME_CHARS = 200


@dataclass(frozen=True)
class ScheduleRecord:
    """A stored schedule. ``subject`` is ``{"kind", "id", "format", "options"}``; times are aware UTC."""

    id: int
    name: str
    subject: FrozenMap
    cadence: str
    cron: str
    timezone: str
    destinations: tuple[str, ...]
    status: str
    starts_at: datetime
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class DeliveryRecord:
    """One report to one destination: its slot (None when sent by hand), state, attempts and outcome."""

    id: int
    schedule_id: int | None
    slot: datetime | None
    destination: str
    subject: FrozenMap
    status: str
    attempts: int
    next_attempt_at: datetime | None
    claimed_by: str
    claimed_at: datetime
    finished_at: datetime | None
    filename: str | None
    size_bytes: int | None
    error: str | None
    created_at: datetime


def _schedule(row: Any) -> ScheduleRecord:
    return ScheduleRecord(
        id=row.id, name=row.name, subject=FrozenMap(codec.loads(row.subject)), cadence=row.cadence, cron=row.cron,
        timezone=row.timezone, destinations=tuple(codec.loads(row.destinations)), status=row.status,
        starts_at=aware(row.starts_at), created_at=aware(row.created_at), updated_at=aware(row.updated_at),
    )


def _delivery(row: Any) -> DeliveryRecord:
    return DeliveryRecord(
        id=int(row.id), schedule_id=row.schedule_id, slot=aware(row.slot), destination=row.destination,
        subject=FrozenMap(codec.loads(row.subject)), status=row.status, attempts=int(row.attempts),
        next_attempt_at=aware(row.next_attempt_at), claimed_by=row.claimed_by, claimed_at=aware(row.claimed_at),
        finished_at=aware(row.finished_at), filename=row.filename, size_bytes=row.size_bytes, error=row.error,
        created_at=aware(row.created_at),
    )


def _schedule_name(name: str) -> str:
    cleaned = " ".join(str(name).split())
    if not cleaned:
        raise ValueError("a schedule needs a name")
    if len(cleaned) > MAX_NAME_CHARS:
        raise ValueError(f"a schedule name has at most {MAX_NAME_CHARS} characters, got {len(cleaned)}")
    return cleaned


class SchedulesMixin(StoreBase):
    """Create, list, change and delete schedules; claim, finish and list deliveries."""

    # -- schedules ----------------------------------------------------------------------------------------------

    def create_schedule(
        self,
        name: str,
        *,
        subject: Mapping[str, Any],
        cadence: str,
        cron: str,
        timezone: str,
        destinations: Sequence[str],
        starts_at: datetime | None = None,
        status: str = SCHEDULE_ACTIVE,
    ) -> int:
        """Store a schedule (validated by the caller) and return its id; ``ConflictError`` if the name is taken."""
        name = _schedule_name(name)
        if status not in SCHEDULE_STATUSES:
            raise ValueError(f"a schedule's status is one of {', '.join(SCHEDULE_STATUSES)}, got {status!r}")
        now = utcnow()

        def create(conn: Connection) -> int:
            taken = conn.execute(sa.select(schedules.c.id).where(schedules.c.name == name)).first()
            if taken is not None:
                raise ConflictError(f"a schedule named {name!r} exists already (id {taken.id}); choose another name")
            result = conn.execute(sa.insert(schedules).values(
                name=name, subject=codec.dumps(dict(subject)), cadence=cadence, cron=cron, timezone=timezone,
                destinations=codec.dumps(list(destinations)), status=status,
                starts_at=naive_utc(starts_at) if starts_at is not None else now, created_at=now, updated_at=now,
            ))
            schedule_id = int(result.inserted_primary_key[0])
            self._audit(conn, "create", "schedule", schedule_id, {"name": name, "cron": cron, "timezone": timezone,
                                                                  "destinations": list(destinations)})
            return schedule_id

        return self._write(create)

    def get_schedule(self, schedule_id: int) -> ScheduleRecord:
        """The schedule ``schedule_id`` (``NotFound`` if it does not exist)."""
        row = self._read(lambda conn: conn.execute(
            sa.select(schedules).where(schedules.c.id == schedule_id)).first())
        return _schedule(require(row, "schedule", schedule_id))

    def list_schedules(self, *, status: str | None = None) -> list[ScheduleRecord]:
        """Every schedule (or those with ``status``), by id."""
        query = sa.select(schedules).order_by(schedules.c.id)
        if status is not None:
            query = query.where(schedules.c.status == status)
        return [_schedule(r) for r in self._read(lambda conn: conn.execute(query).all())]

    def update_schedule(self, schedule_id: int, **changes: Any) -> ScheduleRecord:
        """Change a schedule's ``name``, ``subject``, ``cadence``/``cron``/``timezone``, ``destinations``,
        ``starts_at`` or ``status``; returns the updated record."""
        allowed = {"name", "subject", "cadence", "cron", "timezone", "destinations", "starts_at", "status"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"a schedule has no field(s) {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for key, value in changes.items():
            if key == "name":
                value = _schedule_name(value)
            elif key == "status" and value not in SCHEDULE_STATUSES:
                raise ValueError(f"a schedule's status is one of {', '.join(SCHEDULE_STATUSES)}, got {value!r}")
            elif key == "subject":
                value = codec.dumps(dict(value))
            elif key == "destinations":
                value = codec.dumps(list(value))
            elif key == "starts_at":
                value = naive_utc(value)
            values[key] = value

        def update(conn: Connection) -> None:
            require(conn.execute(sa.select(schedules.c.id).where(schedules.c.id == schedule_id)).first(),
                    "schedule", schedule_id)
            if "name" in values:
                clash = conn.execute(sa.select(schedules.c.id).where(
                    schedules.c.name == values["name"], schedules.c.id != schedule_id)).first()
                if clash is not None:
                    raise ConflictError(f"a schedule named {values['name']!r} exists already; choose another name")
            conn.execute(sa.update(schedules).where(schedules.c.id == schedule_id).values(**values,
                                                                                         updated_at=utcnow()))
            logged = {k: codec.loads(v) if k in ("subject", "destinations") else str(v) for k, v in values.items()}
            self._audit(conn, "update", "schedule", schedule_id, logged)

        self._write(update)
        return self.get_schedule(schedule_id)

    def delete_schedule(self, schedule_id: int) -> None:
        """Delete a schedule; its delivery history is kept (detached from the schedule)."""

        def delete(conn: Connection) -> None:
            row = require(conn.execute(sa.select(schedules).where(schedules.c.id == schedule_id)).first(),
                          "schedule", schedule_id)
            conn.execute(sa.update(deliveries).where(deliveries.c.schedule_id == schedule_id).values(schedule_id=None))
            conn.execute(sa.delete(schedules).where(schedules.c.id == schedule_id))
            self._audit(conn, "delete", "schedule", schedule_id, {"name": row.name})

        self._write(delete)

    # -- deliveries ---------------------------------------------------------------------------------------------

    def claim_delivery(
        self,
        *,
        destination: str,
        subject: Mapping[str, Any],
        claimant: str,
        schedule_id: int | None = None,
        slot: datetime | None = None,
    ) -> DeliveryRecord | None:
        """Claim the delivery of ``slot`` of ``schedule_id`` to ``destination``: the new record, or None when that
        slot was claimed before (by this or any other process). A delivery sent by hand (no schedule) always gets
        a new record."""
        now = utcnow()

        def claim(conn: Connection) -> int | None:
            insert = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(deliveries)
            stmt = insert.values(
                schedule_id=schedule_id, slot=naive_utc(slot), destination=destination,
                subject=codec.dumps(dict(subject)), status=DELIVERY_SENDING, attempts=0, claimed_by=claimant[:200],
                claimed_at=now, created_at=now,
            ).on_conflict_do_nothing(index_elements=["schedule_id", "slot", "destination"])
            result = conn.execute(stmt.returning(deliveries.c.id))
            row = result.first()
            return None if row is None else int(row.id)

        delivery_id = self._write(claim)
        return None if delivery_id is None else self.get_delivery(delivery_id)

    def take_over_delivery(self, delivery_id: int, *, claimant: str, lease_s: float) -> DeliveryRecord | None:
        """Claim a delivery that is due for a retry, or whose claim is older than ``lease_s`` seconds (its sender
        died); None when another process has it (compare-and-set on the row's state)."""
        now = utcnow()
        stale = now - timedelta(seconds=lease_s)

        def take(conn: Connection) -> int:
            due = sa.or_(
                sa.and_(deliveries.c.status == DELIVERY_RETRYING, deliveries.c.next_attempt_at <= now),
                sa.and_(deliveries.c.status == DELIVERY_SENDING, deliveries.c.claimed_at < stale),
            )
            return conn.execute(sa.update(deliveries).where(deliveries.c.id == delivery_id, due).values(
                status=DELIVERY_SENDING, claimed_by=claimant[:200], claimed_at=now)).rowcount

        return self.get_delivery(delivery_id) if self._write(take) == 1 else None

    def due_deliveries(self, *, lease_s: float, now: datetime | None = None) -> list[DeliveryRecord]:
        """Deliveries waiting for a retry that is due, and claims older than ``lease_s`` seconds, oldest first."""
        at = naive_utc(now) if now is not None else utcnow()
        stale = at - timedelta(seconds=lease_s)
        query = sa.select(deliveries).where(sa.or_(
            sa.and_(deliveries.c.status == DELIVERY_RETRYING, deliveries.c.next_attempt_at <= at),
            sa.and_(deliveries.c.status == DELIVERY_SENDING, deliveries.c.claimed_at < stale),
        )).order_by(deliveries.c.id)
        return [_delivery(r) for r in self._read(lambda conn: conn.execute(query).all())]

    def finish_attempt(
        self,
        delivery_id: int,
        *,
        status: str,
        error: str | None = None,
        filename: str | None = None,
        size_bytes: int | None = None,
        next_attempt_at: datetime | None = None,
    ) -> DeliveryRecord:
        """Record the outcome of one attempt (``sent``, ``retrying`` with the next attempt's time, or ``failed``)
        and write it to the audit log in the same transaction."""
        if status not in (DELIVERY_SENT, DELIVERY_RETRYING, DELIVERY_FAILED):
            raise ValueError(f"an attempt ends as sent, retrying or failed, not {status!r}")
        if (status == DELIVERY_RETRYING) != (next_attempt_at is not None):
            raise ValueError("a retrying delivery needs next_attempt_at, and only it")
        now = utcnow()

        def finish(conn: Connection) -> None:
            row = require(conn.execute(sa.select(deliveries).where(deliveries.c.id == delivery_id)).first(),
                          "delivery", delivery_id)
            attempts = int(row.attempts) + 1
            conn.execute(sa.update(deliveries).where(deliveries.c.id == delivery_id).values(
                status=status, attempts=attempts, error=error, filename=filename, size_bytes=size_bytes,
                next_attempt_at=naive_utc(next_attempt_at), finished_at=None if status == DELIVERY_RETRYING else now,
            ))
            self._audit(conn, "deliver", "delivery", delivery_id, {
                "schedule_id": row.schedule_id, "slot": None if row.slot is None else aware(row.slot).isoformat(),
                "destination": row.destination, "status": status, "attempt": attempts, "filename": filename,
                "size_bytes": size_bytes, "error": error,
            })

        self._write(finish)
        return self.get_delivery(delivery_id)

    def get_delivery(self, delivery_id: int) -> DeliveryRecord:
        """The delivery ``delivery_id`` (``NotFound`` if it does not exist)."""
        row = self._read(lambda conn: conn.execute(
            sa.select(deliveries).where(deliveries.c.id == delivery_id)).first())
        return _delivery(require(row, "delivery", delivery_id))

    def list_deliveries(self, *, schedule_id: int | None = None, limit: int | None = 100) -> list[DeliveryRecord]:
        """Deliveries, newest first, optionally only those of one schedule."""
        query = sa.select(deliveries).order_by(deliveries.c.id.desc())
        if schedule_id is not None:
            query = query.where(deliveries.c.schedule_id == schedule_id)
        if limit is not None:
            query = query.limit(limit)
        return [_delivery(r) for r in self._read(lambda conn: conn.execute(query).all())]

    def last_slot(self, schedule_id: int) -> datetime | None:
        """The latest slot of ``schedule_id`` that was claimed (whatever its outcome), or None."""
        value = self._read(lambda conn: conn.execute(
            sa.select(sa.func.max(deliveries.c.slot)).where(deliveries.c.schedule_id == schedule_id)).scalar())
        return aware(value)
