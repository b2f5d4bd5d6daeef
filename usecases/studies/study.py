"""Running a study: create it in the store, run it in batches, pause / cancel / resume it, report progress.

The store is the single record and the control channel. :func:`run_study` evaluates the pending trials batch by
batch, writes each batch in one transaction and, between batches, re-reads the study's status: ``paused`` or
``cancelled`` (set by :func:`pause_study` / :func:`cancel_study` from any process) makes it stop cleanly. Trials are
idempotent by index, so a run killed at any point (even SIGKILL) and started again skips what is stored and ends with
exactly the trials and metrics of an uninterrupted run.

The app never runs a study in its own script thread: :func:`usecases.studies.control.start_worker` launches
``python -m usecases.studies.worker`` as a separate process.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from core.config import StrategyConfig
from core.engine import METRIC_NAMES, prepare
from core.optimize.executors import Executor, LocalExecutor
from core.optimize.methods import (
    DEFAULT_MAX_GRID,
    TpeSearch,
    check_method,
    choices_of_params,
    planned_trials,
    trial_grid_indices,
)
from core.optimize.objective import Objective
from core.optimize.space import SearchSpace, validate_params

if TYPE_CHECKING:
    from storage import Store
    from storage.values import StudyRecord

DEFAULT_BATCH = 2_500
# A running study's worker writes a heartbeat every HEARTBEAT_S seconds; a study with nothing written for
# HEARTBEAT_TIMEOUT_S seconds is marked "interrupted" (its worker died) and can be resumed at once.
HEARTBEAT_S = 2.0
HEARTBEAT_TIMEOUT_VAR = "VBL_STUDY_HEARTBEAT_TIMEOUT_S"
DEFAULT_HEARTBEAT_TIMEOUT_S = 15.0
BAYES_SAVE_EVERY = 25
INVALID_PREFIX = "invalid configuration: "


@dataclass(frozen=True)
class Progress:
    """Where a study stands. ``rate`` is trials per second over the recent batches (``None`` when not running or
    not yet measurable); ``eta_s`` the seconds left at that rate."""

    study_id: int
    status: str
    done: int
    total: int
    completed: int
    invalid: int
    failed: int
    rate: float | None
    eta_s: float | None

    @property
    def fraction(self) -> float:
        """Share done, 0..1."""
        return self.done / self.total if self.total else 1.0


def create_study(
    store: Store,
    dataset_id: int,
    space: SearchSpace,
    objective: Objective,
    *,
    method: str = "grid",
    n_trials: int | None = None,
    seed: int | None = 0,
    name: str = "",
    max_grid: int = DEFAULT_MAX_GRID,
) -> int:
    """Check and store a study (status ``draft``) and return its id.

    Raises ``SearchSpaceError`` (a ``ConfigError``) for a grid above ``max_grid`` (the message gives the count and
    suggests random or Bayesian search) or a missing ``n_trials`` for random/Bayesian search.
    """
    check_method(method)
    n_planned = planned_trials(space, method, n_trials, max_grid)
    return store.create_study(
        dataset_id,
        search_space=space.to_dict(),
        method=method,
        objective=objective.to_dict(),
        constraints=[str(c) for c in objective.constraints],
        seed=seed,
        name=name or f"{method}: {objective.label} over {', '.join(space.names)}",
        base_config=space.base,
        n_planned=n_planned,
    )


def load_study(store: Store, study_id: int) -> tuple[StudyRecord, SearchSpace, Objective]:
    """The stored study with its search space and objective rebuilt."""
    record = store.get_study(study_id)
    space = SearchSpace.parse(record.search_space.to_dict(), record.base_config or StrategyConfig())
    objective = Objective.from_dict(_thaw(record.objective))
    return record, space, objective


def _thaw(value: Any) -> Any:
    from storage.values import thaw

    return thaw(value)


def _status(store: Store, study_id: int) -> str:
    return store.get_study(study_id).status


def run_study(
    store: Store,
    study_id: int,
    *,
    executor: Executor | None = None,
    batch_size: int = DEFAULT_BATCH,
    on_progress: Callable[[Progress], None] | None = None,
) -> StudyRecord:
    """Run (or resume) a study to completion, pause or cancellation and return its final record.

    Trials already stored are skipped. A study that is ``completed`` or ``cancelled`` is returned as it is; a
    ``draft``, ``paused`` or ``failed`` one is set ``running`` (a ``running`` one is taken over: its worker died).
    An unexpected error marks the study ``failed`` with the message and is re-raised; ``KeyboardInterrupt`` marks it
    ``paused``.
    """
    record, space, objective = load_study(store, study_id)
    if record.status in ("completed", "cancelled"):
        return record
    if record.status != "running":
        store.set_study_status(study_id, "running")
    executor = executor or LocalExecutor()
    tracker = _Tracker(store, study_id, int(record.n_planned or 0), on_progress)
    try:
        with _heartbeat(store, study_id):
            frames = store.load_dataset(record.dataset_id)
            prices = frames.prices
            if frames.info.timezone and not prices.attrs.get("timezone"):
                prices.attrs["timezone"] = frames.info.timezone
            dividends = frames.dividends if frames.dividends is not None and len(frames.dividends) else None
            executor.start(prepare(prices, dividends))
            if record.method == "bayes":
                finished = _run_bayes(store, record, space, objective, executor, tracker)
            else:
                finished = _run_indexed(store, record, space, executor, batch_size, tracker)
    except KeyboardInterrupt:
        _set_if_running(store, study_id, "paused")  # Ctrl-C in a terminal: resumable, like a pause
        raise
    except Exception as exc:
        _set_if_running(store, study_id, "failed", f"{type(exc).__name__}: {exc}")
        raise
    finally:
        executor.close()
    if finished and _status(store, study_id) == "running":
        store.set_study_status(study_id, "completed")
    return store.get_study(study_id)


def heartbeat_timeout_s() -> float:
    """How long a running study may go without a write before it counts as interrupted
    (``$VBL_STUDY_HEARTBEAT_TIMEOUT_S``, default 15 s; at least 3 heartbeats)."""
    raw = os.environ.get(HEARTBEAT_TIMEOUT_VAR, "").strip()
    try:
        value = float(raw) if raw else DEFAULT_HEARTBEAT_TIMEOUT_S
    except ValueError:
        raise ValueError(f"{HEARTBEAT_TIMEOUT_VAR} must be a number of seconds, got {raw!r}") from None
    if not 3 * HEARTBEAT_S <= value <= 86_400:
        raise ValueError(f"{HEARTBEAT_TIMEOUT_VAR} must be between {3 * HEARTBEAT_S:g} and 86400 s, got {value:g}")
    return value


@contextlib.contextmanager
def _heartbeat(store: Store, study_id: int) -> Iterator[None]:
    """Write the study's heartbeat every HEARTBEAT_S seconds from a background thread while the block runs (a
    batch may compute for longer than the timeout without writing a trial)."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT_S):
            with contextlib.suppress(Exception):  # a missed beat is retried; the trials' writes report errors
                if not store.heartbeat_study(study_id):
                    return  # paused, cancelled or marked interrupted: the tracker stops the work at its next batch

    thread = threading.Thread(target=beat, name=f"study-{study_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def _set_if_running(store: Store, study_id: int, status: str, message: str | None = None) -> None:
    try:
        if _status(store, study_id) == "running":
            store.set_study_status(study_id, status, error=None if message is None else message[:2000])
    except Exception:  # the original error matters more than a failure to record it
        pass


class _Tracker:
    """Calls ``on_progress`` after each batch with a rate measured in this process."""

    def __init__(self, store: Store, study_id: int, total: int, callback: Callable[[Progress], None] | None) -> None:
        self.store, self.study_id, self.total, self.callback = store, study_id, total, callback
        self.t0 = time.perf_counter()
        self.done_here = 0

    def batch(self, n: int) -> bool:
        """Record ``n`` stored trials; True when the study should go on (still ``running``)."""
        self.done_here += n
        record = self.store.get_study(self.study_id)
        if self.callback is not None:
            elapsed = time.perf_counter() - self.t0
            rate = self.done_here / elapsed if elapsed > 0 and self.done_here else None
            self.callback(_progress_of(record, rate))
            record = self.store.get_study(self.study_id)  # the callback may have paused or cancelled the study
        return record.status == "running"


def _progress_of(record: StudyRecord, rate: float | None) -> Progress:
    counts = dict(record.counts)
    done = sum(counts.values())
    total = int(record.n_planned or done)
    eta = (total - done) / rate if rate else None
    return Progress(
        study_id=record.id,
        status=record.status,
        done=done,
        total=total,
        completed=counts.get("completed", 0),
        invalid=counts.get("pruned", 0),
        failed=counts.get("failed", 0),
        rate=rate,
        eta_s=eta,
    )


def _trial_rows(
    indices: list[int], values: list[dict[str, Any]], valid: np.ndarray, messages: list[str | None],
    metrics: np.ndarray, duration: float,
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    metric_rows = iter(metrics.tolist())
    for i, index in enumerate(indices):
        if valid[i]:
            rows.append({"index": index, "params": values[i], "metrics": dict(zip(METRIC_NAMES, next(metric_rows),
                                                                                  strict=True)),
                         "status": "completed", "duration_s": duration})
        else:
            rows.append({"index": index, "params": values[i], "status": "pruned",
                         "error": INVALID_PREFIX + str(messages[i])})
    return rows


def _run_indexed(store: Store, record: StudyRecord, space: SearchSpace, executor: Executor, batch_size: int,
                 tracker: _Tracker) -> bool:
    n = int(record.n_planned)
    grid_index = trial_grid_indices(space, record.method, n, record.seed)
    done = np.fromiter(store.trial_indices(record.id), dtype=np.int64)
    pending = np.setdiff1d(np.arange(n, dtype=np.int64), done)
    for start in range(0, len(pending), max(1, batch_size)):
        trial_idx = pending[start : start + batch_size]
        choices = space.choices(grid_index[trial_idx])
        params = space.params_for(choices)
        valid, messages = validate_params(params)
        t0 = time.perf_counter()
        metrics = executor.evaluate(params[valid])
        per_trial = (time.perf_counter() - t0) / max(1, int(valid.sum()))
        rows = _trial_rows(trial_idx.tolist(), space.values_for(choices), valid, messages, metrics, per_trial)
        store.save_trials(record.id, rows)
        if not tracker.batch(len(rows)):
            return False
    return True


def _run_bayes(store: Store, record: StudyRecord, space: SearchSpace, objective: Objective, executor: Executor,
               tracker: _Tracker) -> bool:
    n = int(record.n_planned)
    search = TpeSearch(space, record.seed)
    # Replay the stored prefix through the sampler: same asks, same tells, so its random state is as it was.
    i = 0
    for trial in store.iter_trials(record.id):
        if trial.index != i:
            break
        asked = search.ask()
        if not np.array_equal(asked, choices_of_params(space, trial.params)):
            raise RuntimeError(f"cannot resume study {record.id}: trial {i} differs on replay (was the Optuna "
                               "version changed?)")
        if trial.status == "completed":
            metrics = dict(trial.metrics)
            search.tell(objective.score_one(metrics), _excess(objective, metrics))
        else:
            search.tell(None)
        i += 1
    buffer: list[dict[str, Any]] = []
    while i < n:
        choices = search.ask()[None, :]
        params = space.params_for(choices)
        valid, messages = validate_params(params)
        t0 = time.perf_counter()
        metrics = executor.evaluate(params[valid])
        duration = time.perf_counter() - t0
        row = _trial_rows([i], space.values_for(choices), valid, messages, metrics, duration)[0]
        if valid[0]:
            search.tell(objective.score_one(row["metrics"]), _excess(objective, row["metrics"]))
        else:
            search.tell(None)
        buffer.append(row)
        i += 1
        if len(buffer) >= BAYES_SAVE_EVERY or i == n:
            store.save_trials(record.id, buffer)
            written = len(buffer)
            buffer = []
            if not tracker.batch(written):
                return False
    return True


def _excess(objective: Objective, metrics: dict[str, float]) -> tuple[float, ...] | None:
    if not objective.constraints:
        return None
    return tuple(c.excess(metrics) for c in objective.constraints)
