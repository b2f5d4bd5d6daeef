"""Delivery of reports: schedules, e-mail over SMTP, storage through fsspec, and the scheduler process.

The interfaces (app, CLI, API) use these names only:

* :class:`ReportSubject` — what to send; :func:`send_now` — send it to destinations at once;
* :func:`create_schedule`, :func:`pause_schedule`, :func:`resume_schedule`, :func:`run_schedule_now`,
  :func:`next_slot` — schedules;
* :class:`ReportScheduler` — the scheduler process (``python -m cli scheduler``).
"""

from usecases.delivery.cadence import DAYS, Cadence, CadenceError, parse_cadence
from usecases.delivery.cloud import StorageDeliveryError
from usecases.delivery.destinations import Destination, DestinationError, parse_destination, parse_destinations
from usecases.delivery.mail import EmailError, SmtpSettings
from usecases.delivery.scheduler import ReportScheduler
from usecases.delivery.schedules import (
    create_schedule,
    due_slot,
    next_slot,
    pause_schedule,
    resume_schedule,
    run_due,
    run_schedule_now,
)
from usecases.delivery.send import RetryPolicy, retry_due, send_now
from usecases.delivery.subjects import FORMATS, OPTIONS, BuiltReport, ReportSubject, SubjectError, build_report

__all__ = [
    "DAYS",
    "FORMATS",
    "OPTIONS",
    "BuiltReport",
    "Cadence",
    "CadenceError",
    "Destination",
    "DestinationError",
    "EmailError",
    "ReportScheduler",
    "ReportSubject",
    "RetryPolicy",
    "SmtpSettings",
    "StorageDeliveryError",
    "SubjectError",
    "build_report",
    "create_schedule",
    "due_slot",
    "next_slot",
    "parse_cadence",
    "parse_destination",
    "parse_destinations",
    "pause_schedule",
    "resume_schedule",
    "retry_due",
    "run_due",
    "run_schedule_now",
    "send_now",
]
