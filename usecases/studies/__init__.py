"""Optimisation studies: a search space run against a stored dataset, trial by trial, into the store.

Typical use::

    from core.optimize import Objective, SearchSpace
    from usecases.studies import create_study, run_study, start_worker, top_trials
    study_id = create_study(store, dataset_id, space, objective, method="grid")
    run_study(store, study_id)                      # in this process (the CLI), or from the app:
    start_worker(database_url, study_id)            # a separate worker process; then study_progress(),
                                                    # pause_study(), cancel_study(), resume_study()
    top_trials(store, study_id, 10)

Modules: ``study`` (create and run), ``control`` (worker process, pause / cancel / resume, progress), ``results``
(top trials), ``worker`` (entry point of the worker process).
"""

from usecases.studies.control import (
    StudyBusyError,
    cancel_study,
    check_interrupted,
    pause_study,
    resume_study,
    start_worker,
    study_progress,
)
from usecases.studies.results import invalid_summary, top_trials
from usecases.studies.study import DEFAULT_BATCH, Progress, create_study, load_study, run_study

__all__ = [
    "DEFAULT_BATCH",
    "Progress",
    "StudyBusyError",
    "cancel_study",
    "check_interrupted",
    "create_study",
    "invalid_summary",
    "load_study",
    "pause_study",
    "resume_study",
    "run_study",
    "start_worker",
    "study_progress",
    "top_trials",
]
