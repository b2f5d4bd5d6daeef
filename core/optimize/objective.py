"""What a study optimises: one metric in its natural direction or a weighted score, plus hard constraints.

Every score is oriented so that **higher is better** (a metric that is better when lower, such as volatility, is
negated; ``max_drawdown`` is a negative fraction, so less negative is already higher). A NaN metric scores ``-inf``
and violates every constraint on it. Constraints filter the ranking; a weighted score also subtracts ``penalty``
per violated constraint, which steers Bayesian search away from infeasible regions.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.analysis.directions import METRIC_DIRECTION, direction
from core.engine import METRIC_NAMES
from core.errors import ConfigError

# Metrics that are better when smaller; one source of truth with the analysis functions.
MINIMIZE: frozenset[str] = frozenset(name for name, sign in METRIC_DIRECTION.items() if sign < 0)


class ObjectiveError(ConfigError):
    """An objective or constraint that names an unknown metric or is malformed."""


def check_metric(name: str) -> str:
    """``name`` if it is a metric of ``METRIC_NAMES``; :class:`ObjectiveError` with close matches otherwise."""
    key = str(name).strip()
    if key not in METRIC_NAMES:
        close = difflib.get_close_matches(key, METRIC_NAMES, n=3, cutoff=0.6)
        hint = f"did you mean {' or '.join(close)}?" if close else f"metrics: {', '.join(METRIC_NAMES)}"
        raise ObjectiveError(f"unknown metric {name!r}; {hint}")
    return key


def _column(metrics: Mapping[str, Any] | pd.DataFrame, name: str) -> np.ndarray:
    return np.asarray(metrics[name], dtype=np.float64)


@dataclass(frozen=True)
class Constraint:
    """A hard constraint ``metric >= value`` or ``metric <= value``."""

    metric: str
    op: str
    value: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "metric", check_metric(self.metric))
        if self.op not in (">=", "<="):
            raise ObjectiveError(f"a constraint compares with >= or <=, got {self.op!r}")
        v = float(self.value)
        if not math.isfinite(v):
            raise ObjectiveError(f"constraint value must be finite, got {self.value!r}")
        object.__setattr__(self, "value", v)

    @classmethod
    def parse(cls, text: str) -> Constraint:
        """``"max_drawdown>=-0.3"`` (also ``=>``, ``=<``, ``≥``, ``≤``; spaces allowed)."""
        t = str(text).replace("≥", ">=").replace("≤", "<=").replace("=>", ">=").replace("=<", "<=")
        m = re.fullmatch(r"\s*([A-Za-z_0-9]+)\s*(>=|<=)\s*(\S+)\s*", t)
        if not m:
            raise ObjectiveError(f"a constraint looks like metric>=value or metric<=value, got {text!r}")
        if "%" in m.group(3):
            raise ObjectiveError(f"{text!r}: a percent sign is not accepted; values are fractions (0.3 means 30 %)")
        try:
            value = float(m.group(3))
        except ValueError:
            raise ObjectiveError(f"{text!r}: {m.group(3)!r} is not a number") from None
        return cls(m.group(1), m.group(2), value)

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.value:g}"

    def violated(self, metrics: Mapping[str, Any] | pd.DataFrame) -> np.ndarray:
        """Boolean mask of rows that break the constraint (a NaN metric breaks it)."""
        col = _column(metrics, self.metric)
        with np.errstate(invalid="ignore"):
            ok = col >= self.value if self.op == ">=" else col <= self.value
        return ~ok

    def excess(self, metrics: Mapping[str, Any]) -> float:
        """How far one trial is on the wrong side (<= 0 when satisfied; Optuna's constraint convention)."""
        v = float(metrics[self.metric])
        if not math.isfinite(v):
            return 1e9
        return self.value - v if self.op == ">=" else v - self.value


@dataclass(frozen=True)
class Objective:
    """The objective of a study.

    ``metric``: optimise one metric in its natural direction (``direction(metric)``); or ``weights``
    ``{metric: weight}``: the score ``Σ weight · direction · metric − penalty · violations`` (positive weights
    always mean "more of the good thing"). ``constraints`` filter the ranking in both cases.
    """

    metric: str | None = "sharpe"
    weights: Mapping[str, float] = field(default_factory=dict)
    constraints: tuple[Constraint, ...] = ()
    penalty: float = 1.0

    def __post_init__(self) -> None:
        weights = {check_metric(k): float(v) for k, v in dict(self.weights).items()}
        if any(not math.isfinite(v) for v in weights.values()):
            raise ObjectiveError("score weights must be finite numbers")
        object.__setattr__(self, "weights", weights)
        if weights:
            object.__setattr__(self, "metric", None)
        elif self.metric is None:
            raise ObjectiveError("an objective needs a metric or score weights")
        else:
            object.__setattr__(self, "metric", check_metric(self.metric))
        parsed = tuple(c if isinstance(c, Constraint) else Constraint.parse(c) for c in self.constraints)
        object.__setattr__(self, "constraints", parsed)
        if not math.isfinite(float(self.penalty)) or float(self.penalty) < 0:
            raise ObjectiveError(f"penalty must be a finite number >= 0, got {self.penalty!r}")
        object.__setattr__(self, "penalty", float(self.penalty))

    @property
    def label(self) -> str:
        """``"sharpe (max)"`` or ``"score = 1·sharpe + 0.5·calmar"``."""
        if self.metric is not None:
            return f"{self.metric} ({'min' if direction(self.metric) < 0 else 'max'})"
        return "score = " + " + ".join(f"{w:g}·{m}" for m, w in self.weights.items())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; :meth:`from_dict` rebuilds it."""
        return {
            "metric": self.metric,
            "weights": dict(self.weights),
            "constraints": [str(c) for c in self.constraints],
            "penalty": self.penalty,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Objective:
        """Inverse of :meth:`to_dict`."""
        return cls(
            metric=data.get("metric"),
            weights=dict(data.get("weights") or {}),
            constraints=tuple(Constraint.parse(c) for c in data.get("constraints") or ()),
            penalty=float(data.get("penalty", 1.0)),
        )

    def violations(self, metrics: Mapping[str, Any] | pd.DataFrame) -> np.ndarray:
        """Number of violated constraints per row."""
        n = len(_column(metrics, METRIC_NAMES[0])) if not isinstance(metrics, pd.DataFrame) else len(metrics)
        out = np.zeros(n, dtype=np.int64)
        for c in self.constraints:
            out += c.violated(metrics)
        return out

    def score(self, metrics: Mapping[str, Any] | pd.DataFrame) -> np.ndarray:
        """Oriented score per row (higher is better, NaN → ``-inf``); a weighted score includes the penalty."""
        if self.metric is not None:
            s = direction(self.metric) * _column(metrics, self.metric)
        else:
            s = sum(w * direction(m) * _column(metrics, m) for m, w in self.weights.items())
            s = s - self.penalty * self.violations(metrics)
        s = np.asarray(s, dtype=np.float64)
        return np.where(np.isnan(s), -np.inf, s)

    def score_one(self, metrics: Mapping[str, float]) -> float:
        """:meth:`score` of one trial's metric dict."""
        return float(self.score({k: np.array([v]) for k, v in metrics.items()})[0])


def rank(trials: pd.DataFrame, objective: Objective, top_n: int | None = 10, *, feasible_only: bool = True
         ) -> pd.DataFrame:
    """The best trials first.

    ``trials`` has one row per completed trial and a column per metric (e.g. ``Store.list_trials(full=True)``).
    Adds ``score`` and ``violations``; with ``feasible_only`` rows breaking a constraint are dropped. Ties keep the
    trial order (stable sort), so the ranking is deterministic.
    """
    if trials.empty:
        return trials.assign(score=pd.Series(dtype=float), violations=pd.Series(dtype="int64"))
    if "status" in trials.columns:
        trials = trials[trials["status"] == "completed"]
    out = trials.assign(score=objective.score(trials), violations=objective.violations(trials))
    if feasible_only:
        out = out[out["violations"] == 0]
    out = out.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
    return out if top_n is None else out.head(top_n)


def parse_weights(text: str) -> dict[str, float]:
    """``"sharpe=1,calmar=0.5"`` → ``{"sharpe": 1.0, "calmar": 0.5}``."""
    out: dict[str, float] = {}
    for part in str(text).split(","):
        name, sep, value = part.partition("=")
        if not sep:
            raise ObjectiveError(f"a score looks like metric=weight,metric=weight, got {text!r}")
        try:
            out[check_metric(name.strip())] = float(value)
        except ValueError:
            raise ObjectiveError(f"{part!r}: {value!r} is not a number") from None
    return out


def objective_values(metrics: np.ndarray, objective: Objective) -> np.ndarray:
    """:meth:`Objective.score` of a raw kernel metric matrix (columns ``METRIC_NAMES``)."""
    return objective.score({m: metrics[:, j] for j, m in enumerate(METRIC_NAMES)})


__all__: Sequence[str] = (
    "MINIMIZE", "Constraint", "Objective", "ObjectiveError", "check_metric", "direction", "objective_values",
    "parse_weights", "rank",
)
