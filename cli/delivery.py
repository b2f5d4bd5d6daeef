"""``python -m cli send | schedules | scheduler``: reports delivered by e-mail or to storage, now or on a schedule.

::

    python -m cli send --run 7 --format pdf --to mailto:team@example.com --to s3://team-reports/weekly/
    python -m cli schedules add "Monday GOOG" --run 7 --format pdf --every "weekly mon 07:30" \\
        --timezone Europe/Zurich --to mailto:team@example.com --latest-data
    python -m cli schedules list | history [ID] | pause ID | resume ID | run ID | delete ID
    python -m cli scheduler            # the scheduler process (until SIGTERM); --once: one pass, for cron

Destinations never carry credentials: SMTP settings come from ``VBL_SMTP_*``, storage credentials from the
storage library's own environment variables (``AWS_*`` for S3). Exit code 0 when everything asked was sent, 1 when
a delivery failed or waits for a retry, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from typing import Any, TextIO

from cli.main import EXIT_OK, CliError, record_id

EXIT_NOT_SENT = 1


def _subject(args: argparse.Namespace) -> Any:
    from usecases.delivery import ReportSubject, SubjectError

    kinds = [(k, getattr(args, k)) for k in ("run", "study", "portfolio", "position") if getattr(args, k) is not None]
    if args.alerts:
        kinds.append(("alerts", 0))
    if len(kinds) != 1:
        raise CliError("name exactly one of --run ID, --study ID, --portfolio ID, --position ID or --alerts")
    kind, ident = kinds[0]
    options: dict[str, Any] = {}
    if getattr(args, "latest_data", False):
        if kind not in ("run", "portfolio"):
            raise CliError("--latest-data applies to a run or a portfolio")
        options["latest_data"] = True
    for name in ("template", "page_size", "table", "chart"):
        value = getattr(args, name, None)
        if value is not None:
            if kind != "run" and name != "page_size":
                raise CliError(f"--{name.replace('_', '-')} applies to a run")
            options[name] = value
    fmt = args.format or {"position": "xlsx", "alerts": "csv"}.get(kind, "pdf")
    try:
        return ReportSubject(kind, ident, fmt, options)
    except SubjectError as exc:
        raise CliError(str(exc)) from None


def _subject_arguments(p: argparse.ArgumentParser) -> None:
    what = p.add_argument_group("what to send (one of)")
    what.add_argument("--run", type=record_id, metavar="ID", help="a saved run")
    what.add_argument("--study", type=record_id, metavar="ID", help="an optimisation study")
    what.add_argument("--portfolio", type=record_id, metavar="ID", help="a stored portfolio")
    what.add_argument("--position", type=record_id, metavar="ID", help="a held position (xlsx or csv)")
    what.add_argument("--alerts", action="store_true", help="the watch list of every held position (csv or json)")
    p.add_argument("--format", choices=("xlsx", "pdf", "csv", "json", "png", "svg"),
                   help="file format (default pdf; xlsx for a position, csv for the alerts)")
    p.add_argument("--latest-data", action="store_true",
                   help="re-run the run on the newest stored dataset of its symbol before reporting")
    p.add_argument("--template", help="workbook template of a run (xlsx)")
    p.add_argument("--page-size", dest="page_size", choices=("a4", "letter"), help="PDF page size")
    p.add_argument("--table", help="which table of a run as CSV")
    p.add_argument("--chart", help="which chart of a run as PNG/SVG")
    p.add_argument("--to", dest="destinations", action="append", required=True, metavar="DEST",
                   help="mailto:address or a storage URL (s3://bucket/folder/, file:///path/); repeat for several")


def _report(records: Sequence[Any], stdout: TextIO) -> int:
    from usecases.store import DELIVERY_SENT

    for r in records:
        size = f", {r.size_bytes:,} bytes" if r.size_bytes is not None else ""
        detail = f": {r.error}" if r.error else ""
        print(f"delivery {r.id} to {r.destination}: {r.status}{size}{detail}", file=stdout)
    return EXIT_OK if records and all(r.status == DELIVERY_SENT for r in records) else EXIT_NOT_SENT


def _value_errors() -> tuple[type[Exception], ...]:
    from usecases.delivery import CadenceError, DestinationError, SubjectError

    return (CadenceError, DestinationError, SubjectError)


def send(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from cli.runs import open_store
    from usecases.delivery import send_now

    subject = _subject(args)
    with open_store() as store:
        try:
            return _report(send_now(store, subject, args.destinations), stdout)
        except _value_errors() as exc:
            raise CliError(str(exc)) from None


def add_schedule(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from cli.runs import open_store
    from usecases.delivery import create_schedule, next_slot

    subject = _subject(args)
    with open_store() as store:
        try:
            schedule = create_schedule(store, args.name, subject, args.every, timezone=args.timezone,
                                       destinations=args.destinations)
        except _value_errors() as exc:
            raise CliError(str(exc)) from None
        nxt = next_slot(schedule)
        print(f"schedule {schedule.id} '{schedule.name}': {schedule.cadence} ({schedule.cron}, {schedule.timezone}); "
              f"next {nxt:%Y-%m-%d %H:%M} UTC" if nxt else f"schedule {schedule.id} created", file=stdout)
    return EXIT_OK


def list_schedules(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from cli.runs import open_store
    from usecases.delivery import next_slot

    with open_store() as store:
        schedules = store.list_schedules()
        if not schedules:
            print("no schedules; add one with 'schedules add'", file=stdout)
        for s in schedules:
            nxt = next_slot(s)
            subject = f"{s.subject['kind']} {s.subject['id']} as {s.subject['format']}"
            print(f"{s.id:>4}  {s.status:<7} {s.name[:32]:<32} {subject:<20} {s.cadence} ({s.timezone})  "
                  f"next {f'{nxt:%Y-%m-%d %H:%M} UTC' if nxt else '-'}  to {', '.join(s.destinations)}", file=stdout)
    return EXIT_OK


def history(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from cli.runs import open_store

    with open_store() as store:
        records = store.list_deliveries(schedule_id=args.schedule_id, limit=args.limit or None)
        if not records:
            print("no deliveries yet", file=stdout)
        for r in records:
            slot = f"{r.slot:%Y-%m-%d %H:%M}" if r.slot else "by hand"
            size = f"{r.size_bytes:,} B" if r.size_bytes is not None else "-"
            print(f"{r.id:>5}  {r.created_at:%Y-%m-%d %H:%M:%S}  schedule {r.schedule_id or '-':<4} slot {slot:<16} "
                  f"{r.status:<8} attempts {r.attempts}  {size:>10}  {r.destination}"
                  + (f"\n       {r.error}" if r.error else ""), file=stdout)
    return EXIT_OK


def change_status(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from cli.runs import open_store
    from usecases.delivery import pause_schedule, resume_schedule, run_schedule_now

    with open_store() as store:
        if args.schedules_action == "pause":
            schedule = pause_schedule(store, args.schedule_id)
        elif args.schedules_action == "resume":
            schedule = resume_schedule(store, args.schedule_id)
        elif args.schedules_action == "run":
            return _report(run_schedule_now(store, args.schedule_id), stdout)
        else:
            store.delete_schedule(args.schedule_id)
            print(f"schedule {args.schedule_id} deleted (its delivery history is kept)", file=stdout)
            return EXIT_OK
        print(f"schedule {schedule.id} '{schedule.name}' is {schedule.status}", file=stdout)
    return EXIT_OK


def scheduler(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from usecases.delivery import ReportScheduler
    from usecases.settings import SettingsError, load_settings

    try:
        load_settings("scheduler")
    except SettingsError as exc:
        raise CliError(str(exc)) from None
    logging.basicConfig(level=logging.INFO, stream=stderr, format="%(asctime)s %(levelname)s %(message)s")
    try:
        service = ReportScheduler(sync_s=args.sync_seconds)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if not args.once:
        if args.health_port is not None:
            service.serve_health(args.health_port)
        service.serve_forever()
        return EXIT_OK
    try:
        records = service.run_pending()
    finally:
        service.store.close()
    if not records:
        print("nothing due", file=stdout)
        return EXIT_OK
    return _report(records, stdout)


def register(subparsers: Any) -> None:
    """Add ``send``, ``schedules`` and ``scheduler``."""
    p = subparsers.add_parser("send", help="send a report by e-mail or to storage now")
    _subject_arguments(p)
    p.set_defaults(handler=send)

    sched = subparsers.add_parser("schedules", help="add, list, pause, resume, run and delete report schedules")
    actions = sched.add_subparsers(dest="schedules_action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="a new schedule")
    add.add_argument("name")
    add.add_argument("--every", required=True, metavar="CADENCE",
                     help="'daily 08:00', 'weekdays 07:30', 'weekly mon 07:30', 'monthly 1 06:00', 'hourly :15' "
                          "or a cron expression such as '0 8 * * mon-fri'")
    add.add_argument("--timezone", default="UTC", help="IANA time zone the cadence is read in (default UTC)")
    _subject_arguments(add)
    add.set_defaults(handler=add_schedule)
    actions.add_parser("list", help="every schedule with its next slot").set_defaults(handler=list_schedules)
    hist = actions.add_parser("history", help="the deliveries, newest first")
    hist.add_argument("schedule_id", nargs="?", type=record_id, metavar="ID")
    hist.add_argument("--limit", type=int, default=50, help="at most N deliveries, 0 for all (50)")
    hist.set_defaults(handler=history)
    for action, text in (("pause", "stop sending"), ("resume", "send again from the next slot"),
                         ("run", "send now to the schedule's destinations"), ("delete", "delete the schedule")):
        a = actions.add_parser(action, help=text)
        a.add_argument("schedule_id", type=record_id, metavar="ID")
        a.set_defaults(handler=change_status)

    run = subparsers.add_parser("scheduler", help="the scheduler process: send scheduled reports at their slots")
    run.add_argument("--once", action="store_true",
                     help="one pass (due slots, missed slots, due retries), then exit: for cron-driven setups")
    run.add_argument("--sync-seconds", type=float, default=30.0, metavar="S",
                     help="how often schedules are re-read and retries attempted (default 30)")
    run.add_argument("--health-port", type=int, default=None, metavar="PORT",
                     help="answer GET /health on 127.0.0.1:PORT (for the process supervisor)")
    run.set_defaults(handler=scheduler)
