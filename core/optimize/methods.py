"""Search methods: which points of a :class:`~core.optimize.space.SearchSpace` are tried, in which order.

* ``grid``: every combination; trial ``i`` is grid index ``i``.
* ``random``: ``n`` distinct grid indices drawn with a seeded generator; trial ``i`` is the ``i``-th draw. The
  sequence depends only on (space size, n, seed), so a resumed study re-derives it exactly.
* ``bayes``: Optuna's TPE sampler, seeded, asked one trial at a time. Numeric ranges are searched by value index
  (an ordered integer), booleans and categories as categorical choices. Resuming replays the stored trials through
  the same sampler (ask, check, tell), which reproduces its random state, so the continuation is identical to an
  uninterrupted run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from core.optimize.space import SearchSpace, SearchSpaceError

METHODS: tuple[str, ...] = ("grid", "random", "bayes")
DEFAULT_MAX_GRID = 500_000


def check_method(method: str) -> str:
    """``method`` if known, else ``SearchSpaceError``."""
    if method not in METHODS:
        raise SearchSpaceError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    return method


def planned_trials(space: SearchSpace, method: str, n_trials: int | None, max_grid: int = DEFAULT_MAX_GRID) -> int:
    """How many trials a study runs; raises for a grid above ``max_grid`` or a missing/invalid ``n_trials``."""
    check_method(method)
    if method == "grid":
        if space.size > max_grid:
            raise SearchSpaceError(
                f"the grid has {space.size:,} combinations, more than the maximum of {max_grid:,}; use random search "
                "(--method random --n-trials N) or Bayesian search (--method bayes), or coarser steps"
            )
        return space.size
    if n_trials is None or int(n_trials) < 1:
        raise SearchSpaceError(f"{method} search needs a number of trials >= 1, got {n_trials!r}")
    if method == "random":
        return min(int(n_trials), space.size)  # without repeats: a finite grid caps the sample
    return int(n_trials)


def random_grid_indices(size: int, n: int, seed: int | None) -> np.ndarray:
    """``n`` distinct grid indices in ``[0, size)`` in draw order, reproducible from ``seed``."""
    n = min(n, size)
    rng = np.random.default_rng(seed)
    if size < 2**62:
        return rng.choice(size, size=n, replace=False, shuffle=True).astype(np.int64)
    # Beyond int64 the choice is drawn digit-free: rejection of repeats among uniformly drawn big integers.
    seen: dict[int, None] = {}
    bits = size.bit_length()
    while len(seen) < n:
        v = int.from_bytes(rng.bytes((bits + 7) // 8), "little") % size
        seen.setdefault(v, None)
    return np.array(list(seen), dtype=object)


def trial_grid_indices(space: SearchSpace, method: str, n_planned: int, seed: int | None) -> np.ndarray:
    """Grid index of every trial of a grid or random study (trial ``i`` → element ``i``)."""
    if method == "grid":
        return np.arange(n_planned, dtype=np.int64)
    if method == "random":
        return random_grid_indices(space.size, n_planned, seed)
    raise ValueError(f"{method} studies have no precomputed trials")


class TpeSearch:
    """Optuna TPE over a search space through ask/tell (no Optuna storage: the store is the record)."""

    def __init__(self, space: SearchSpace, seed: int | None) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.space = space
        dists: dict[str, Any] = {}
        for r in space.ranges:
            if len(r) == 1:
                continue
            if r.kind in ("float", "int"):
                dists[r.name] = optuna.distributions.IntDistribution(0, len(r) - 1)
            else:
                dists[r.name] = optuna.distributions.CategoricalDistribution(list(range(len(r))))
        self._dists = dists
        sampler = optuna.samplers.TPESampler(seed=seed)
        self.study = optuna.create_study(direction="maximize", sampler=sampler)
        self._pending: Any = None

    def ask(self) -> np.ndarray:
        """The value indices (one per range) of the next trial."""
        trial = self.study.ask(self._dists)
        self._pending = trial
        return np.array([int(trial.params.get(r.name, 0)) for r in self.space.ranges], dtype=np.int64)

    def tell(self, value: float | None, constraints: tuple[float, ...] | None = None) -> None:
        """Report the pending trial: its oriented score, or ``None`` when it was invalid or scored NaN.

        Such a trial is told as *infeasible* (constraint ``valid`` = 1) rather than failed: TPE ignores failed
        trials and keeps proposing the same invalid region (e.g. ``guardrail_min >= guardrail_max``), while
        infeasible ones teach it to stay away. ``constraints`` are how far each of the objective's constraints is
        broken (<= 0 when met), for the same reason.
        """
        trial = self._pending
        self._pending = None
        ok = value is not None and math.isfinite(value)
        trial.set_constraint("valid", 0.0 if ok else 1.0)
        for k, excess in enumerate(constraints or ()):
            trial.set_constraint(f"c{k}", excess)
        # An infeasible trial's value is never compared with feasible ones; any finite number will do.
        self.study.tell(trial, value if ok else 0.0)


def choices_of_params(space: SearchSpace, params: Mapping[str, Any]) -> np.ndarray:
    """Value indices of a stored trial's params (inverse of ``SearchSpace.values_for``)."""
    out = []
    for r in space.ranges:
        v = params.get(r.name)
        found = next((i for i, x in enumerate(r.values) if x == v and isinstance(x, bool) == isinstance(v, bool)),
                     None)
        if found is None:
            raise ValueError(f"stored trial value {r.name}={v!r} is not in the study's search space")
        out.append(found)
    return np.array(out, dtype=np.int64)
