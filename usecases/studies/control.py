"""Controlling studies from any process through the store: start a worker, pause, cancel, resume, progress.

The store is the control channel: :func:`pause_study` and :func:`cancel_study` only change the study's status, and
the worker (:func:`usecases.studies.study.run_study`) stops after its current batch when it sees the change.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from storage.database import ENV_VAR
from usecases.studies.study import Progress, _progress_of, heartbeat_timeout_s

if TYPE_CHECKING:
    from storage import Store
    from storage.values import StudyRecord


def pause_study(store: Store, study_id: int) -> StudyRecord:
    """Ask the worker to stop after its current batch, keeping the study resumable."""
    return store.set_study_status(study_id, "paused")


def cancel_study(store: Store, study_id: int) -> StudyRecord:
    """Stop for good after the current batch (stored trials stay)."""
    return store.set_study_status(study_id, "cancelled")


def start_worker(
    database_url: str,
    study_id: int,
    *,
    executor: str = "local",
    scheduler: str | None = None,
    log_path: str | os.PathLike[str] | None = None,
) -> subprocess.Popen[bytes]:
    """Run (or resume) the study in a new ``python -m usecases.studies.worker`` process and return it at once.

    The process is detached from the caller's session (a Streamlit rerun or a closed terminal does not stop it);
    control it through the store with :func:`pause_study` / :func:`cancel_study` and watch :func:`study_progress`.
    Output goes to ``log_path`` (default: discarded). The database URL (which may hold a password) reaches the child
    in its environment (``VBL_DATABASE_URL``), never on its command line, where any local user could read it.
    """
    cmd = [sys.executable, "-m", "usecases.studies.worker", "--study", str(study_id), "--executor", executor]
    if scheduler:
        cmd += ["--scheduler", scheduler]
    out: Any = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - handed to the child
    try:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                env=worker_environment(database_url),
                                cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    finally:
        if log_path:
            out.close()


def worker_environment(database_url: str) -> dict[str, str]:
    """The environment of a worker process: this one's, with the study's database in ``VBL_DATABASE_URL``."""
    return {**os.environ, ENV_VAR: database_url}


class StudyBusyError(RuntimeError):
    """The study cannot be resumed now (it is finished, or a worker is still writing to it)."""


def check_interrupted(store: Store, study_id: int, *, stale_after_s: float | None = None) -> StudyRecord:
    """The study, marked ``interrupted`` first if it is ``running`` but its worker has written no trial and no
    heartbeat for ``stale_after_s`` seconds (default :func:`heartbeat_timeout_s`: the worker died)."""
    timeout = heartbeat_timeout_s() if stale_after_s is None else stale_after_s
    record = store.get_study(study_id)
    if record.status == "running" and (datetime.now(UTC) - record.updated_at).total_seconds() >= timeout:
        store.interrupt_stale_study(study_id, stale_after_s=timeout, reason=(
            f"the worker stopped: no heartbeat for {timeout:.0f} s (killed, crashed or the machine restarted); "
            "resume the study to continue from its stored trials"))
        record = store.get_study(study_id)
    return record


def resume_study(
    store: Store, study_id: int, database_url: str, *, stale_after_s: float | None = None, **worker_options: Any
) -> subprocess.Popen[bytes]:
    """Start a worker for a draft, paused, interrupted or failed study, or for a ``running`` one whose worker died
    (no heartbeat for ``stale_after_s`` seconds, default :func:`heartbeat_timeout_s`). Stored trials are skipped.

    Raises :class:`StudyBusyError` for a finished study or one whose worker is alive (two workers on one study
    would only waste work: trials are idempotent, but each would compute them).
    """
    record = check_interrupted(store, study_id, stale_after_s=stale_after_s)
    if record.status in ("completed", "cancelled"):
        raise StudyBusyError(f"study {study_id} is {record.status}; there is nothing to resume")
    if record.status == "running":
        idle = (datetime.now(UTC) - record.updated_at).total_seconds()
        raise StudyBusyError(
            f"study {study_id} is running (its worker wrote {idle:.0f} s ago); pause it first — a study whose "
            f"worker died is marked interrupted after {heartbeat_timeout_s():.0f} s without a heartbeat"
        )
    store.set_study_status(study_id, "running")
    return start_worker(database_url, study_id, **worker_options)


def study_progress(store: Store, study_id: int) -> Progress:
    """Done / total / invalid, and the rate and ETA measured from the recent batches' timestamps in the store."""
    record = check_interrupted(store, study_id)
    rate = store.study_rate(study_id) if record.status == "running" else None
    return _progress_of(record, rate)
