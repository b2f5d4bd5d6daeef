"""Reading a study's outcome: the ranked best trials and the invalid combinations by reason."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from core.optimize.objective import rank
from usecases.studies.study import INVALID_PREFIX, load_study

if TYPE_CHECKING:
    from storage import Store


def top_trials(store: Store, study_id: int, top_n: int | None = 10, *, feasible_only: bool = True) -> pd.DataFrame:
    """The study's best completed trials by its objective, constraints applied: ``index``, ``param.*``, every
    metric, ``score`` and ``violations``.

    When the objective and constraints use only the store's indexed metrics, the ranking reads those columns alone
    and decodes just the top rows (100,000 trials: a fraction of the time and memory of decoding every trial).
    """
    from storage.models import INDEXED_METRICS

    _, _, objective = load_study(store, study_id)
    used = set(objective.weights) | {c.metric for c in objective.constraints} | {objective.metric}
    if top_n is None or not used - {None} <= set(INDEXED_METRICS):
        return rank(store.list_trials(study_id, status="completed"), objective, top_n, feasible_only=feasible_only)
    summary = rank(store.list_trials(study_id, status="completed", full=False), objective, top_n,
                   feasible_only=feasible_only)
    records = store.get_trials(study_id, summary["index"].tolist())
    full = pd.DataFrame(
        [{"index": t.index, "status": t.status, "error": t.error, "duration_s": t.duration_s,
          **{f"param.{k}": v for k, v in t.params.items()}, **dict(t.metrics)} for t in records],
    )
    if full.empty:
        return summary
    return full.assign(score=summary["score"].to_numpy(), violations=summary["violations"].to_numpy())


def invalid_summary(store: Store, study_id: int) -> pd.Series:
    """How many combinations were invalid, by reason."""
    frame = store.list_trials(study_id, status="pruned")
    if frame.empty:
        return pd.Series(dtype="int64", name="count")
    reasons = frame["error"].str.removeprefix(INVALID_PREFIX)
    return reasons.value_counts().rename("count")
