"""Schedules and deliveries in the store, on SQLite and PostgreSQL: records, claims that one process wins,
compare-and-set take-over, and the audit trail."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from storage import (
    DELIVERY_RETRYING,
    DELIVERY_SENDING,
    DELIVERY_SENT,
    ConflictError,
    NotFound,
    Store,
)

SUBJECT = {"kind": "run", "id": 1, "format": "pdf", "options": {}}
SLOT = datetime(2026, 12, 7, 7, 30, tzinfo=UTC)


def _schedule(store: Store, name: str = "Monday report") -> int:
    return store.create_schedule(name, subject=SUBJECT, cadence="weekly mon 07:30", cron="30 7 * * mon",
                                 timezone="Europe/Zurich", destinations=["mailto:a@example.com", "s3://b/r/"])


def test_schedule_records_round_trip_and_names_are_unique(store: Store) -> None:
    sid = _schedule(store)
    record = store.get_schedule(sid)
    assert (record.name, record.cron, record.timezone, record.status) == (
        "Monday report", "30 7 * * mon", "Europe/Zurich", "active")
    assert record.subject == SUBJECT and record.destinations == ("mailto:a@example.com", "s3://b/r/")
    with pytest.raises(ConflictError, match="exists already"):
        _schedule(store)
    assert store.update_schedule(sid, status="paused").status == "paused"
    assert [s.id for s in store.list_schedules(status="active")] == []
    with pytest.raises(ValueError, match="status is one of"):
        store.update_schedule(sid, status="sleeping")
    with pytest.raises(NotFound):
        store.get_schedule(sid + 100)
    actions = [(e.action, e.entity) for e in store.list_audit(entity="schedule")]
    assert actions == [("update", "schedule"), ("create", "schedule")]


def test_a_slot_is_claimed_once_even_by_eight_threads_at_once(store: Store) -> None:
    sid = _schedule(store)
    barrier = threading.Barrier(8)
    wins: list[object] = []

    def claim(n: int) -> None:
        barrier.wait()
        record = Store(store.url).claim_delivery(destination="mailto:a@example.com", subject=SUBJECT,
                                                 claimant=f"t{n}", schedule_id=sid, slot=SLOT)
        if record is not None:
            wins.append(record)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    assert store.last_slot(sid) == SLOT
    # the other destination of the same slot, and the next slot, are separate deliveries
    assert store.claim_delivery(destination="s3://b/r/", subject=SUBJECT, claimant="x", schedule_id=sid,
                                slot=SLOT) is not None
    assert store.claim_delivery(destination="mailto:a@example.com", subject=SUBJECT, claimant="x",
                                schedule_id=sid, slot=SLOT + timedelta(days=7)) is not None
    # sent by hand: never a conflict
    assert store.claim_delivery(destination="mailto:a@example.com", subject=SUBJECT, claimant="x") is not None
    assert store.claim_delivery(destination="mailto:a@example.com", subject=SUBJECT, claimant="x") is not None


def test_a_due_retry_is_taken_over_by_exactly_one_process(store: Store) -> None:
    record = store.claim_delivery(destination="mailto:a@example.com", subject=SUBJECT, claimant="first")
    past = datetime.now(UTC) - timedelta(seconds=1)
    retrying = store.finish_attempt(record.id, status=DELIVERY_RETRYING, error="server down", next_attempt_at=past)
    assert (retrying.status, retrying.attempts, retrying.finished_at) == (DELIVERY_RETRYING, 1, None)
    assert [d.id for d in store.due_deliveries(lease_s=60)] == [record.id]
    barrier = threading.Barrier(6)
    taken: list[object] = []

    def take(n: int) -> None:
        barrier.wait()
        got = Store(store.url).take_over_delivery(record.id, claimant=f"p{n}", lease_s=60)
        if got is not None:
            taken.append(got)

    threads = [threading.Thread(target=take, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(taken) == 1 and taken[0].status == DELIVERY_SENDING
    assert store.due_deliveries(lease_s=60) == []  # claimed again, within its lease
    sent = store.finish_attempt(record.id, status=DELIVERY_SENT, filename="r.pdf", size_bytes=1234)
    assert (sent.status, sent.attempts, sent.size_bytes) == (DELIVERY_SENT, 2, 1234)
    assert sent.finished_at is not None
    trail = [e.details["status"] for e in store.list_audit(action="deliver")]
    assert trail == ["sent", "retrying"]


def test_a_stale_claim_becomes_due_after_its_lease(store: Store) -> None:
    record = store.claim_delivery(destination="mailto:a@example.com", subject=SUBJECT, claimant="dead")
    assert store.due_deliveries(lease_s=1) == []
    time.sleep(1.1)
    assert [d.id for d in store.due_deliveries(lease_s=1)] == [record.id]
    assert store.take_over_delivery(record.id, claimant="alive", lease_s=1).claimed_by == "alive"


def test_deleting_a_schedule_keeps_its_delivery_history(store: Store) -> None:
    sid = _schedule(store)
    record = store.claim_delivery(destination="mailto:a@example.com", subject=SUBJECT, claimant="x",
                                  schedule_id=sid, slot=SLOT)
    store.delete_schedule(sid)
    assert store.list_schedules() == []
    kept = store.get_delivery(record.id)
    assert kept.schedule_id is None and kept.slot == SLOT


def test_attempt_outcomes_are_checked(store: Store) -> None:
    record = store.claim_delivery(destination="mailto:a@example.com", subject=SUBJECT, claimant="x")
    with pytest.raises(ValueError, match="sent, retrying or failed"):
        store.finish_attempt(record.id, status="sending")
    with pytest.raises(ValueError, match="needs next_attempt_at"):
        store.finish_attempt(record.id, status=DELIVERY_RETRYING)
