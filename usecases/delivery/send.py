"""Sending a report: claim the delivery, build the file once, hand it to each destination, record the outcome.

Every attempt ends in the store (``deliveries`` and the audit log): ``sent`` with the file's name and size,
``retrying`` with the time of the next attempt, or ``failed`` after the last one. A failed attempt is retried with
exponential backoff (``RetryPolicy``) by whichever scheduler process finds it due first; a delivery is claimed
before it is attempted, so it is never attempted by two processes at once.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.report.images import ImageExportError
from storage import (
    DELIVERY_FAILED,
    DELIVERY_RETRYING,
    DELIVERY_SENT,
    DeliveryRecord,
    NotFound,
    ScheduleRecord,
    Store,
)
from usecases.delivery.cloud import StorageDeliveryError, upload
from usecases.delivery.destinations import EMAIL, Destination, DestinationError, parse_destination, parse_destinations
from usecases.delivery.mail import EmailError, SmtpSettings, compose, send_message
from usecases.delivery.subjects import BuiltReport, ReportSubject, SubjectError, build_report, require_subject

ATTEMPTS_VAR = "VBL_DELIVERY_ATTEMPTS"
RETRY_VAR = "VBL_DELIVERY_RETRY_S"
LEASE_VAR = "VBL_DELIVERY_LEASE_S"


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` in all; the n-th retry waits ``first_delay_s × factor^(n−1)`` seconds (1, 4, 16 minutes by
    default); a claim older than ``lease_s`` belongs to a process that died and may be taken over."""

    attempts: int = 4
    first_delay_s: float = 60.0
    factor: float = 4.0
    lease_s: float = 900.0

    def __post_init__(self) -> None:
        if not 1 <= self.attempts <= 20:
            raise ValueError(f"{ATTEMPTS_VAR}: between 1 and 20 attempts, got {self.attempts}")
        if not 0 <= self.first_delay_s <= 86_400 or not 1 <= self.factor <= 10:
            raise ValueError(f"{RETRY_VAR}: a first delay of 0 to 86400 s, a factor of 1 to 10")
        if not 1 <= self.lease_s <= 86_400:
            raise ValueError(f"{LEASE_VAR}: a lease of 1 to 86400 s, got {self.lease_s}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RetryPolicy:
        """``VBL_DELIVERY_ATTEMPTS``, ``VBL_DELIVERY_RETRY_S`` (first delay), ``VBL_DELIVERY_LEASE_S``."""
        env = os.environ if environ is None else environ
        try:
            return cls(attempts=int(env.get(ATTEMPTS_VAR, "") or cls.attempts),
                       first_delay_s=float(env.get(RETRY_VAR, "") or cls.first_delay_s),
                       lease_s=float(env.get(LEASE_VAR, "") or cls.lease_s))
        except ValueError as exc:
            raise ValueError(f"delivery settings: {exc}") from None

    def delay_s(self, attempts_done: int) -> float:
        """The wait after the ``attempts_done``-th failed attempt."""
        return self.first_delay_s * self.factor ** max(attempts_done - 1, 0)


def claimant_name(role: str) -> str:
    """``host:pid:role``: who holds a claim (shown in the delivery history)."""
    return f"{socket.gethostname()}:{os.getpid()}:{role}"


def _message_id(delivery: DeliveryRecord) -> str:
    # fixed per delivery: a retry after a lost acknowledgement carries the same id and mail systems drop it
    return f"<vbl-delivery-{delivery.id}-{delivery.created_at:%Y%m%d%H%M%S%f}@{socket.gethostname()}>"


def _hand_over(destination: Destination, built: BuiltReport, delivery: DeliveryRecord) -> int:
    """Send to one destination; returns the size delivered."""
    if destination.kind == EMAIL:
        settings = SmtpSettings.from_env()
        send_message(settings, compose(settings, [destination.target], built.export, built.summary,
                                       message_id=_message_id(delivery)))
        return len(built.export.data)
    return upload(destination.target, built.export).size_bytes


def attempt(store: Store, delivery: DeliveryRecord, policy: RetryPolicy,
            built: BuiltReport | None = None) -> DeliveryRecord:
    """One attempt of a claimed delivery (``built`` when the caller has the file already); returns the record."""
    try:
        subject = ReportSubject.from_dict(delivery.subject)
        if built is None:
            built = build_report(store, subject)
        size = _hand_over(parse_destination(delivery.destination), built, delivery)
    except (SubjectError, DestinationError, NotFound) as exc:
        # nothing a retry could change: the report or the destination is gone or invalid
        return store.finish_attempt(delivery.id, status=DELIVERY_FAILED, error=str(exc))
    except (EmailError, StorageDeliveryError, ImageExportError, ValueError, OSError) as exc:
        done = delivery.attempts + 1
        if done >= policy.attempts:
            return store.finish_attempt(delivery.id, status=DELIVERY_FAILED,
                                        error=f"{exc} (attempt {done} of {policy.attempts}, giving up)")
        retry_at = datetime.now(UTC) + timedelta(seconds=policy.delay_s(done))
        note = f"attempt {done} of {policy.attempts}; next at {retry_at:%H:%M:%S} UTC"
        return store.finish_attempt(delivery.id, status=DELIVERY_RETRYING, next_attempt_at=retry_at,
                                    error=f"{exc} ({note})")
    return store.finish_attempt(delivery.id, status=DELIVERY_SENT, filename=built.export.filename[:200],
                                size_bytes=size)


def _send(store: Store, claimed: Sequence[DeliveryRecord], subject: ReportSubject,
          policy: RetryPolicy) -> list[DeliveryRecord]:
    """Build the report once for every claimed delivery and attempt each."""
    if not claimed:
        return []
    try:
        built: BuiltReport | None = build_report(store, subject)
    except (SubjectError, NotFound, ImageExportError, ValueError):
        built = None  # each attempt records the error (and retries what a retry can fix)
    return [attempt(store, d, policy, built) for d in claimed]


def send_now(store: Store, subject: ReportSubject, destinations: Sequence[str], *, policy: RetryPolicy | None = None,
             schedule_id: int | None = None, claimant: str | None = None) -> list[DeliveryRecord]:
    """Send ``subject`` to ``destinations`` at once (the Reports page's "Send now", the API, ``cli send``);
    returns one record per destination. A failed one is left ``retrying`` for the scheduler, if attempts remain.

    Raises:
        DestinationError: a destination is invalid; NotFound: the subject does not exist (nothing is sent then).
    """
    policy = policy or RetryPolicy.from_env()
    parsed = parse_destinations(list(destinations))
    require_subject(store, subject)
    who = claimant or claimant_name("send-now")
    claimed = [store.claim_delivery(destination=d.text, subject=subject.to_dict(), claimant=who,
                                    schedule_id=schedule_id) for d in parsed]
    return _send(store, [c for c in claimed if c is not None], subject, policy)


def deliver_slot(store: Store, schedule: ScheduleRecord, slot: datetime, *, policy: RetryPolicy,
                 claimant: str) -> list[DeliveryRecord]:
    """Send ``schedule``'s report for ``slot`` to every destination this process wins the claim of (none when
    another process, or an earlier run, claimed the slot already)."""
    subject = ReportSubject.from_dict(schedule.subject)
    claimed = [store.claim_delivery(destination=d, subject=subject.to_dict(), claimant=claimant,
                                    schedule_id=schedule.id, slot=slot) for d in schedule.destinations]
    return _send(store, [c for c in claimed if c is not None], subject, policy)


def retry_due(store: Store, *, policy: RetryPolicy, claimant: str) -> list[DeliveryRecord]:
    """Attempt every delivery whose retry is due or whose sender died; returns the records attempted."""
    done = []
    for due in store.due_deliveries(lease_s=policy.lease_s):
        taken = store.take_over_delivery(due.id, claimant=claimant, lease_s=policy.lease_s)
        if taken is not None:
            done.append(attempt(store, taken, policy))
    return done
