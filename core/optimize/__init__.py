"""Parameter optimisation, the pure part: search spaces, objectives, search methods and executors.

Typical use::

    from core.optimize import Objective, SearchSpace
    space = SearchSpace.parse({"trigger_up": "0.01:0.08:0.005", "sizing": "proportional,original"})
    objective = Objective("sharpe", constraints=["max_drawdown>=-0.3"])

Running a space as a stored, resumable study is a use case (:mod:`usecases.studies`), because it needs the store.

Modules: ``space`` (ranges, spaces, vectorised validation), ``objective`` (directions, constraints, scores,
ranking), ``methods`` (grid / random / TPE), ``executors`` (local Numba, Dask).
"""

from core.optimize.executors import DaskExecutor, Executor, LocalExecutor, make_executor
from core.optimize.methods import DEFAULT_MAX_GRID, METHODS, planned_trials, random_grid_indices
from core.optimize.objective import MINIMIZE, Constraint, Objective, ObjectiveError, direction, rank
from core.optimize.space import ParamRange, SearchSpace, SearchSpaceError, validate_params

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
    "SearchSpace",
    "SearchSpaceError",
    "direction",
    "make_executor",
    "planned_trials",
    "random_grid_indices",
    "rank",
    "validate_params",
]
