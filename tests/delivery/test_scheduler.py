"""The scheduler: due slots, catch-up once after downtime, no duplicate across restarts and concurrent processes,
retries of a sender that died, and APScheduler's jobs at the cadence's slots."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from delivery_servers import Seeded

from storage import DELIVERY_SENT, Store
from usecases.delivery import (
    ReportScheduler,
    ReportSubject,
    RetryPolicy,
    create_schedule,
    due_slot,
    pause_schedule,
    resume_schedule,
    run_due,
    run_schedule_now,
)
from usecases.delivery.send import retry_due

POLICY = RetryPolicy(attempts=2, first_delay_s=0.0, factor=1.0, lease_s=60.0)
ROOT = Path(__file__).resolve().parents[2]


def _folders(tmp_path: Path, n: int = 2) -> list[str]:
    out = []
    for i in range(n):
        folder = tmp_path / f"dest{i}"
        folder.mkdir()
        out.append(f"file://{folder}/")
    return out


def _files(tmp_path: Path) -> dict[str, list[str]]:
    return {p.name: sorted(f.name for f in p.iterdir()) for p in sorted(tmp_path.glob("dest*"))}


def _daily_an_hour_ago(now: datetime) -> str:
    past = now - timedelta(hours=1)
    return f"daily {past:%H:%M}"


def test_a_missed_slot_is_caught_up_once_and_only_the_latest(seeded: Seeded, tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    with Store(seeded.url) as store:
        schedule = create_schedule(store, "daily GOOG", ReportSubject("run", seeded.run_id, "csv"),
                                   _daily_an_hour_ago(now), destinations=_folders(tmp_path),
                                   starts_at=now - timedelta(days=3, hours=2))
        expected_slot = now - timedelta(hours=1)
        assert due_slot(store, schedule, now) == expected_slot  # three slots were missed; the latest is due
        sent = run_due(store, schedule, policy=POLICY, claimant="test", now=now)
        assert [(d.status, d.slot) for d in sent] == [(DELIVERY_SENT, expected_slot)] * 2
        assert due_slot(store, schedule, now) is None
        assert run_due(store, schedule, policy=POLICY, claimant="test", now=now + timedelta(hours=2)) == []
        tomorrow = now + timedelta(hours=23)
        assert due_slot(store, schedule, tomorrow) == expected_slot + timedelta(days=1)
    assert _files(tmp_path) == {"dest0": ["GOOG_run1_trades.csv"], "dest1": ["GOOG_run1_trades.csv"]}


def test_slots_missed_while_paused_are_not_sent_after_resume(seeded: Seeded, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with Store(seeded.url) as store:
        schedule = create_schedule(store, "paused", ReportSubject("run", seeded.run_id, "csv"),
                                   _daily_an_hour_ago(now), destinations=_folders(tmp_path, 1),
                                   starts_at=now - timedelta(days=2))
        pause_schedule(store, schedule.id)
        assert due_slot(store, store.get_schedule(schedule.id), now) is None
        resumed = resume_schedule(store, schedule.id)
        assert resumed.status == "active" and due_slot(store, resumed) is None
        # "Run now" sends at once, whatever the cadence, and is not a slot
        [record] = run_schedule_now(store, schedule.id, policy=POLICY)
        assert record.status == DELIVERY_SENT and record.slot is None and record.schedule_id == schedule.id


def _cli(url: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "VBL_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "cli", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_four_scheduler_processes_at_once_send_each_slot_once(seeded: Seeded, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with Store(seeded.url) as store:
        schedule = create_schedule(store, "race", ReportSubject("run", seeded.run_id, "json"),
                                   _daily_an_hour_ago(now), destinations=_folders(tmp_path),
                                   starts_at=now - timedelta(days=1, hours=2))
    procs = [_cli(seeded.url, "scheduler", "--once") for _ in range(4)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], outputs
    with Store(seeded.url) as store:
        deliveries = store.list_deliveries(schedule_id=schedule.id)
        assert sorted(d.destination for d in deliveries) == sorted(schedule.destinations)
        assert {d.status for d in deliveries} == {DELIVERY_SENT}
        assert len({d.claimed_by for d in deliveries}) >= 1
    assert _files(tmp_path) == {"dest0": ["GOOG_run1_bundle.json"], "dest1": ["GOOG_run1_bundle.json"]}
    # a restart finds nothing due
    again = _cli(seeded.url, "scheduler", "--once")
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0 and out.strip() == "nothing due", err


def test_the_serving_scheduler_catches_up_at_start_and_a_restart_does_not_repeat(
        seeded: Seeded, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with Store(seeded.url) as store:
        schedule = create_schedule(store, "served", ReportSubject("study", seeded.study_id, "csv"),
                                   _daily_an_hour_ago(now), destinations=_folders(tmp_path, 1),
                                   starts_at=now - timedelta(days=1, hours=2))

    def serve_until_sent() -> None:
        proc = _cli(seeded.url, "scheduler", "--sync-seconds", "0.5")
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with Store(seeded.url) as store:
                    if any(d.status == DELIVERY_SENT for d in store.list_deliveries(schedule_id=schedule.id)):
                        break
                time.sleep(0.3)
            time.sleep(1.5)  # a few more sync passes: none may send again
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "scheduler" in err and "started" in err and "stopped" in err

    serve_until_sent()
    restart = _cli(seeded.url, "scheduler", "--sync-seconds", "0.5")
    time.sleep(3)
    restart.send_signal(signal.SIGTERM)
    restart.communicate(timeout=30)
    with Store(seeded.url) as store:
        assert len(store.list_deliveries(schedule_id=schedule.id)) == 1
    assert _files(tmp_path) == {"dest0": ["study1_trials.csv"]}


def test_a_claim_whose_sender_died_is_taken_over_after_the_lease(seeded: Seeded, tmp_path: Path) -> None:
    [folder] = _folders(tmp_path, 1)
    short = RetryPolicy(attempts=2, first_delay_s=0.0, factor=1.0, lease_s=1.0)
    with Store(seeded.url) as store:
        subject = ReportSubject("run", seeded.run_id, "csv")
        dead = store.claim_delivery(destination=folder, subject=subject.to_dict(), claimant="host:1:crashed")
        assert dead is not None and dead.status == "sending"
        assert retry_due(store, policy=short, claimant="test") == []  # still within the lease
        time.sleep(1.2)
        [record] = retry_due(store, policy=short, claimant="host:2:scheduler")
        assert (record.id, record.status, record.claimed_by) == (dead.id, DELIVERY_SENT, "host:2:scheduler")
        assert retry_due(store, policy=short, claimant="test") == []


def test_apscheduler_jobs_follow_the_stored_schedules(seeded: Seeded, tmp_path: Path) -> None:
    service = ReportScheduler(seeded.url, policy=POLICY, sync_s=3600)
    with Store(seeded.url) as store:
        first = create_schedule(store, "weekly", ReportSubject("run", seeded.run_id, "csv"), "weekly mon 07:30",
                                timezone="Europe/Zurich", destinations=_folders(tmp_path, 1))
    service.start()
    try:
        service.sync()
        [(schedule_id, next_run)] = service.registered.items()
        assert schedule_id == first.id
        nxt = first.starts_at
        from usecases.delivery import next_slot

        assert next_run == next_slot(first, nxt)
        assert next_run.astimezone(UTC).weekday() == 0
        with Store(seeded.url) as store:
            pause_schedule(store, first.id)
        service.sync()
        assert service.registered == {}
    finally:
        service.stop()
