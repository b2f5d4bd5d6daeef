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
from usecases.studies.study import Progress, _progress_of

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


def resume_study(
    store: Store, study_id: int, database_url: str, *, stale_after_s: float = 60.0, **worker_options: Any
) -> subprocess.Popen[bytes]:
    """Start a worker for a draft, paused or failed study, or for a ``running`` one whose worker died (nothing
    written for ``stale_after_s`` seconds, e.g. after a SIGKILL or a reboot). Stored trials are skipped.

    Raises :class:`StudyBusyError` for a finished study or one whose worker still writes (two workers on one study
    would only waste work: trials are idempotent, but each would compute them).
    """
    record = store.get_study(study_id)
    if record.status in ("completed", "cancelled"):
        raise StudyBusyError(f"study {study_id} is {record.status}; there is nothing to resume")
    if record.status == "running":
        idle = (datetime.now(UTC) - record.updated_at).total_seconds()
        if idle < stale_after_s:
            raise StudyBusyError(
                f"study {study_id} is running (last write {idle:.0f} s ago); pause it first, or resume after "
                f"{stale_after_s:.0f} s without writes if its worker died"
            )
    else:
        store.set_study_status(study_id, "running")
    return start_worker(database_url, study_id, **worker_options)


def study_progress(store: Store, study_id: int) -> Progress:
    """Done / total / invalid, and the rate and ETA measured from the recent batches' timestamps in the store."""
    record = store.get_study(study_id)
    rate = store.study_rate(study_id) if record.status == "running" else None
    return _progress_of(record, rate)
