"""Studies end to end on a SQLite store: results, invalid combinations, methods, control, progress, resume."""

from __future__ import annotations

import pytest
from optimize_helpers import make_prices, trial_tuples

from core.config import StrategyConfig
from core.engine import METRIC_NAMES, simulate_many
from core.optimize import Objective, SearchSpace
from usecases.studies import (
    cancel_study,
    create_study,
    invalid_summary,
    pause_study,
    run_study,
    study_progress,
    top_trials,
)
from usecases.studies.study import INVALID_PREFIX

BASE = StrategyConfig(min_notional=0.0)
SPACE = {
    "trigger_up": "0.02:0.06:0.02",
    "sizing": "proportional,original",
    "guardrail_min": "0.2:0.8:0.3",  # 0.8 >= guardrail_max 0.75: invalid
}


def _space() -> SearchSpace:
    return SearchSpace.parse(SPACE, BASE)


def test_grid_study_matches_simulate_many_and_reports_invalid(store, dataset_id) -> None:
    objective = Objective("sharpe", constraints=("max_drawdown>=-0.5",))
    study_id = create_study(store, dataset_id, _space(), objective, method="grid")
    record = run_study(store, study_id, batch_size=7)
    assert record.status == "completed"
    assert dict(record.counts) == {"completed": 12, "pruned": 6}
    trials = list(store.iter_trials(study_id))
    invalid = [t for t in trials if t.status == "pruned"]
    assert all(t.params["guardrail_min"] == 0.8 for t in invalid)
    assert invalid[0].error == INVALID_PREFIX + "guardrail_max (0.75) must be greater than guardrail_min (0.8)"
    assert invalid_summary(store, study_id).sum() == 6

    done = [t for t in trials if t.status == "completed"]
    prices, dividends = make_prices()
    expected = simulate_many(prices, [BASE.replace(**dict(t.params)) for t in done], dividends)
    for t, (_, row) in zip(done, expected.iterrows(), strict=True):
        for m in METRIC_NAMES:
            assert t.metrics[m] == pytest.approx(row[m], rel=1e-12, nan_ok=True), m

    top = top_trials(store, study_id, 5)
    assert len(top) <= 5 and (top["max_drawdown"] >= -0.5).all()
    assert top["sharpe"].is_monotonic_decreasing


def test_random_study_is_seeded_and_without_repeats(store, dataset_id) -> None:
    space = SearchSpace.parse({"trigger_up": "0.01:0.1:0.01", "trigger_down": "0.01:0.1:0.01"}, BASE)
    ids = [create_study(store, dataset_id, space, Objective("cagr"), method="random", n_trials=25, seed=s)
           for s in (5, 5, 6)]
    for i in ids:
        run_study(store, i)
    a, b, c = (trial_tuples(store, i) for i in ids)
    assert a == b and a != c
    combos = {(p["trigger_up"], p["trigger_down"]) for _, p, *_ in a}
    assert len(combos) == 25


def test_bayes_is_seeded_and_pause_resume_gives_the_same_trials(store, dataset_id) -> None:
    space = SearchSpace.parse({"trigger_up": "0.01:0.1:0.005", "trigger_down": "0.01:0.1:0.005",
                               "sizing": "proportional,original"}, BASE)
    objective = Objective("sharpe", constraints=("n_trades<=300",))
    whole = create_study(store, dataset_id, space, objective, method="bayes", n_trials=60, seed=11)
    assert run_study(store, whole).status == "completed"

    parts = create_study(store, dataset_id, space, objective, method="bayes", n_trials=60, seed=11)
    seen = []

    def pause_once(progress) -> None:
        seen.append(progress)
        if len(seen) == 1:
            pause_study(store, parts)

    record = run_study(store, parts, on_progress=pause_once)
    assert record.status == "paused" and 0 < record.n_trials < 60
    assert run_study(store, parts).status == "completed"
    assert trial_tuples(store, parts) == trial_tuples(store, whole)
    assert seen[0].total == 60 and seen[0].rate and seen[0].rate > 0


def test_cancel_stops_and_progress(store, dataset_id) -> None:
    space = SearchSpace.parse({"trigger_up": "0.01:0.1:0.01", "trigger_down": "0.01:0.1:0.01"}, BASE)
    study_id = create_study(store, dataset_id, space, Objective("sharpe"), method="grid")
    record = run_study(store, study_id, batch_size=10,
                       on_progress=lambda p: cancel_study(store, study_id) if p.done >= 20 else None)
    assert record.status == "cancelled" and record.n_trials == 20
    p = study_progress(store, study_id)
    assert (p.done, p.total, p.status, p.rate) == (20, 100, "cancelled", None)
    assert run_study(store, study_id).n_trials == 20  # a cancelled study stays as it is


def test_progress_from_the_store_while_running(store, dataset_id) -> None:
    space = SearchSpace.parse({"trigger_up": "0.01:0.1:0.01", "trigger_down": "0.01:0.1:0.01"}, BASE)
    study_id = create_study(store, dataset_id, space, Objective("sharpe"), method="grid")
    assert study_progress(store, study_id).status == "draft"
    seen = []
    run_study(store, study_id, batch_size=25, on_progress=lambda _: seen.append(study_progress(store, study_id)))
    assert [p.done for p in seen] == [25, 50, 75, 100]
    assert seen[0].rate is None  # one batch: no interval to measure yet
    assert all(p.rate and p.rate > 0 and p.eta_s is not None and p.status == "running" for p in seen[1:])
    assert seen[-1].eta_s == 0 and seen[-1].fraction == 1.0
    final = study_progress(store, study_id)
    assert (final.status, final.done, final.completed, final.invalid, final.rate) == ("completed", 100, 100, 0, None)


class _Flaky:
    """A local executor that raises on its second batch."""

    name = "flaky"

    def __init__(self, error: BaseException) -> None:
        from core.optimize import LocalExecutor

        self.inner, self.calls, self.error = LocalExecutor(), 0, error

    def start(self, bars) -> None:
        self.inner.start(bars)

    def evaluate(self, params):
        self.calls += 1
        if self.calls == 2:
            raise self.error
        return self.inner.evaluate(params)

    def close(self) -> None:
        self.inner.close()


@pytest.mark.parametrize(
    ("error", "status"), [(RuntimeError("worker lost"), "failed"), (KeyboardInterrupt(), "paused")]
)
def test_errors_mark_the_study_and_resume_completes_it(store, dataset_id, error, status) -> None:
    space = SearchSpace.parse({"trigger_up": "0.01:0.1:0.01", "trigger_down": "0.01:0.1:0.01"}, BASE)
    study_id = create_study(store, dataset_id, space, Objective("sharpe"), method="grid")
    with pytest.raises(type(error)):
        run_study(store, study_id, batch_size=30, executor=_Flaky(error))
    record = store.get_study(study_id)
    assert (record.status, record.n_trials) == (status, 30)
    if status == "failed":
        assert record.error == "RuntimeError: worker lost"
    assert run_study(store, study_id, batch_size=30).status == "completed"
    assert store.count_trials(study_id) == 100


@pytest.mark.parametrize(
    "objective",
    [Objective("max_drawdown", constraints=("n_trades<=200",)),  # indexed metrics only: the fast path
     Objective(weights={"sharpe": 1.0, "volatility": 3.0}, constraints=("win_rate>=0.3",))],
)
def test_top_trials_paths_agree(store, dataset_id, objective) -> None:
    from core.optimize import rank

    space = SearchSpace.parse({"trigger_up": "0.01:0.1:0.01", "trigger_down": "0.01:0.1:0.01"}, BASE)
    study_id = create_study(store, dataset_id, space, objective, method="grid")
    run_study(store, study_id)
    fast = top_trials(store, study_id, 7)
    slow = rank(store.list_trials(study_id, status="completed"), objective, 7)
    assert fast["index"].tolist() == slow["index"].tolist() and len(fast) == 7
    assert fast["score"].tolist() == slow["score"].tolist()
    assert fast["param.trigger_up"].tolist() == slow["param.trigger_up"].tolist()


def test_bayes_learns_to_avoid_invalid_combinations(store, dataset_id) -> None:
    # guardrail_max > guardrail_min holds for only 171 of these 361 pairs: random search wastes about half.
    space = SearchSpace.parse({"guardrail_min": "0.05:0.95:0.05", "guardrail_max": "0.05:0.95:0.05",
                               "trigger_up": "0.01:0.08:0.01"}, BASE)
    study_id = create_study(store, dataset_id, space, Objective("sharpe"), method="bayes", n_trials=100, seed=1)
    record = run_study(store, study_id)
    assert record.counts["pruned"] < 35, dict(record.counts)


def test_resume_study_starts_a_worker_unless_one_is_alive(db_url, store, dataset_id) -> None:
    from usecases.studies import StudyBusyError, resume_study

    space = SearchSpace.parse({"trigger_up": "0.01:0.1:0.01", "trigger_down": "0.01:0.05:0.01"}, BASE)
    study_id = create_study(store, dataset_id, space, Objective("sharpe"), method="grid")
    store.set_study_status(study_id, "running")  # as if a worker had just started
    with pytest.raises(StudyBusyError, match="is running"):
        resume_study(store, study_id, db_url)
    pause_study(store, study_id)
    assert resume_study(store, study_id, db_url).wait(120) == 0
    assert store.get_study(study_id).status == "completed" and store.count_trials(study_id) == 50
    with pytest.raises(StudyBusyError, match="nothing to resume"):
        resume_study(store, study_id, db_url)
