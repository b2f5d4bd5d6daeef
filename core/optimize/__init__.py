"""Parameter optimisation: search spaces, objectives, search methods, executors and resumable studies.

Typical use::

    from core.optimize import Objective, SearchSpace, create_study, run_study, top_trials
    space = SearchSpace.parse({"trigger_up": "0.01:0.08:0.005", "sizing": "proportional,original"})
    objective = Objective("sharpe", constraints=["max_drawdown>=-0.3"])
    study_id = create_study(store, dataset_id, space, objective, method="grid")
    run_study(store, study_id)                      # in this process (the CLI), or from the app:
    start_worker(database_url, study_id)            # a separate worker process; then study_progress(),
                                                    # pause_study(), cancel_study(), resume_study()
    top_trials(store, study_id, 10)

Modules: ``space`` (ranges, spaces, vectorised validation), ``objective`` (directions, constraints, scores,
ranking), ``methods`` (grid / random / TPE), ``executors`` (local Numba, Dask), ``study`` (create and run),
``control`` (worker process, pause / cancel / resume, progress), ``results`` (top trials), ``worker`` (entry
point of the worker process).
"""

from core.optimize.control import (
    StudyBusyError,
    cancel_study,
    pause_study,
    resume_study,
    start_worker,
    study_progress,
)
from core.optimize.executors import DaskExecutor, Executor, LocalExecutor, make_executor
from core.optimize.methods import DEFAULT_MAX_GRID, METHODS, planned_trials, random_grid_indices
from core.optimize.objective import MINIMIZE, Constraint, Objective, ObjectiveError, direction, rank
from core.optimize.results import invalid_summary, top_trials
from core.optimize.space import ParamRange, SearchSpace, SearchSpaceError, validate_params
from core.optimize.study import Progress, create_study, load_study, run_study

__all__ = [
    "DEFAULT_MAX_GRID",
    "METHODS",
    "MINIMIZE",
    "Constraint",
    "DaskExecutor",
    "Executor",
    "LocalExecutor",
    "Objective",
    "ObjectiveError",
    "ParamRange",
    "Progress",
    "SearchSpace",
    "SearchSpaceError",
    "StudyBusyError",
    "cancel_study",
    "create_study",
    "direction",
    "invalid_summary",
    "load_study",
    "make_executor",
    "pause_study",
    "planned_trials",
    "random_grid_indices",
    "rank",
    "resume_study",
    "run_study",
    "start_worker",
    "study_progress",
    "top_trials",
    "validate_params",
]
