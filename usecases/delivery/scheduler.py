"""The scheduler process: APScheduler wakes it at each schedule's slots; the store's claims make every slot one
delivery, however many scheduler processes run.

* One cron job per active schedule (APScheduler's ``CronTrigger``, the same trigger that defines the slots), so a
  report leaves at its time.
* A sync job every ``sync_s`` seconds (default 30) re-reads the schedules (created, changed, paused or deleted in
  the app, the API or the CLI), sends any slot that is due but unclaimed — the catch-up after downtime, once — and
  attempts the deliveries whose retry is due.
* ``run_pending()`` is that sync pass alone, for ``cli scheduler --once`` (cron-driven setups) and the tests.

Stopped by SIGTERM or SIGINT, it finishes the delivery in progress first.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from storage import SCHEDULE_ACTIVE, DeliveryRecord, StoreError
from usecases.delivery.schedules import cadence_of, run_due
from usecases.delivery.send import RetryPolicy, claimant_name, retry_due
from usecases.store import Store

log = logging.getLogger("vbl.scheduler")
DEFAULT_SYNC_S = 30.0
_SYNC_JOB = "sync"


class ReportScheduler:
    """Sends scheduled reports from the store at ``url`` (see the module docstring)."""

    def __init__(self, url: str | None = None, *, policy: RetryPolicy | None = None,
                 sync_s: float = DEFAULT_SYNC_S) -> None:
        if not 0.1 <= sync_s <= 3600:
            raise ValueError(f"the sync interval is 0.1 to 3600 seconds, got {sync_s}")
        self.store = Store(url, actor="scheduler")
        self.policy = policy or RetryPolicy.from_env()
        self.sync_s = sync_s
        self.claimant = claimant_name("scheduler")
        self._scheduler: BackgroundScheduler | None = None
        self._jobs: dict[int, tuple[str, str]] = {}  # schedule id -> (cron, timezone) of its registered job
        self._stopped = threading.Event()
        self._lock = threading.Lock()  # one pass at a time in this process (claims guard other processes)
        self.last_pass_at: datetime | None = None
        self._health: ThreadingHTTPServer | None = None

    # -- one pass -------------------------------------------------------------------------------------------------

    def run_pending(self, now: datetime | None = None) -> list[DeliveryRecord]:
        """Send every due, unclaimed slot and every due retry; returns the deliveries attempted."""
        with self._lock:
            done: list[DeliveryRecord] = []
            for schedule in self.store.list_schedules(status=SCHEDULE_ACTIVE):
                done += self._guarded(run_due, self.store, schedule, policy=self.policy, claimant=self.claimant,
                                      now=now)
            done += self._guarded(retry_due, self.store, policy=self.policy, claimant=self.claimant)
            for record in done:
                log.info("delivery %s of schedule %s to %s: %s", record.id, record.schedule_id, record.destination,
                         record.status)
            self.last_pass_at = datetime.now(UTC)
            return done

    def _guarded(self, fn: Any, *args: Any, **kwargs: Any) -> list[DeliveryRecord]:
        # a store hiccup or one broken schedule must not stop the process; the next pass tries again
        try:
            return list(fn(*args, **kwargs))
        except StoreError as exc:
            log.error("store error, retrying at the next pass: %s", exc)
        except Exception:
            log.exception("unexpected error in a delivery pass")
        return []

    def _fire(self, schedule_id: int) -> None:
        with self._lock:
            try:
                schedule = self.store.get_schedule(schedule_id)
            except StoreError as exc:
                log.error("schedule %s: %s", schedule_id, exc)
                return
            self._guarded(run_due, self.store, schedule, policy=self.policy, claimant=self.claimant)

    # -- the long-running process ---------------------------------------------------------------------------------

    def sync(self) -> None:
        """Register a cron job per active schedule (and drop the others), then run a pass."""
        scheduler = self._scheduler
        if scheduler is not None:
            try:
                active = {s.id: s for s in self.store.list_schedules(status=SCHEDULE_ACTIVE)}
            except StoreError as exc:
                log.error("cannot read the schedules: %s", exc)
                active = None
            if active is not None:
                for schedule_id in set(self._jobs) - set(active):
                    scheduler.remove_job(f"schedule-{schedule_id}")
                    del self._jobs[schedule_id]
                for schedule_id, schedule in active.items():
                    key = (schedule.cron, schedule.timezone)
                    if self._jobs.get(schedule_id) != key:
                        scheduler.add_job(self._fire, cadence_of(schedule).trigger(), args=[schedule_id],
                                          id=f"schedule-{schedule_id}", replace_existing=True, coalesce=True,
                                          max_instances=1, misfire_grace_time=None)
                        self._jobs[schedule_id] = key
        self.run_pending()

    @property
    def registered(self) -> dict[int, datetime | None]:
        """The schedules with a job in this process and the job's next run time (UTC)."""
        if self._scheduler is None:
            return {}
        out = {}
        for schedule_id in self._jobs:
            job = self._scheduler.get_job(f"schedule-{schedule_id}")
            out[schedule_id] = None if job is None or job.next_run_time is None else job.next_run_time.astimezone(UTC)
        return out

    def start(self) -> None:
        """Start the background scheduler (a sync now, then every ``sync_s`` seconds)."""
        self._scheduler = BackgroundScheduler(timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1})
        self._scheduler.add_job(self.sync, "interval", seconds=self.sync_s, id=_SYNC_JOB,
                                next_run_time=datetime.now(UTC))
        self._scheduler.start()

    @property
    def alive(self) -> bool:
        """Whether a pass ran within three sync intervals (the health endpoint's answer)."""
        last = self.last_pass_at
        return last is not None and (datetime.now(UTC) - last).total_seconds() <= 3 * self.sync_s + 5

    def serve_health(self, port: int, host: str = "127.0.0.1") -> int:
        """Answer ``GET /health`` on ``host:port`` (200 while passes run, 503 otherwise); returns the port."""
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != "/health":
                    self.send_error(404)
                    return
                last = service.last_pass_at
                body = json.dumps({"status": "ok" if service.alive else "stale",
                                   "last_pass_at": None if last is None else last.isoformat()}).encode()
                self.send_response(200 if service.alive else 503)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:  # probes every few seconds would flood the log
                pass

        self._health = ThreadingHTTPServer((host, port), Handler)
        threading.Thread(target=self._health.serve_forever, name="scheduler-health", daemon=True).start()
        return int(self._health.server_address[1])

    def stop(self) -> None:
        """Stop after the delivery in progress."""
        self._stopped.set()
        if self._health is not None:
            self._health.shutdown()
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        self.store.close()

    def serve_forever(self) -> None:
        """Run until SIGTERM or SIGINT."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self._stopped.set())
        self.start()
        log.info("scheduler %s started (sync every %s s) on %s", self.claimant, self.sync_s, self.store)
        self._stopped.wait()
        self.stop()
        log.info("scheduler %s stopped", self.claimant)
