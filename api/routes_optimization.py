"""``/v1/optimization``: studies (create, start, progress, results, heatmap, pause / cancel / resume) and the
registries a client needs to build a study (metrics, parameter types).

Every action is a use case of :mod:`usecases.studies` (the same calls as the CLI and the app); a study runs in its
own worker process (``start_worker``), so ``start`` and ``resume`` answer 202 at once and the client polls
``progress``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from fastapi import APIRouter, Query, Request, Response

from api.app import StoreDep, state_of
from api.datasets import resolve, stored_id
from api.problems import ConfigProblem, Problem, unknown_metric
from api.responses_studies import (
    HeatmapOut,
    MetricsOut,
    ParametersOut,
    ProgressOut,
    ResultColumnsOut,
    ResultsOut,
    StudyCreated,
    StudyOut,
    StudyStarted,
)
from api.schemas import StudyCreate, to_config
from core.analysis import heatmap
from core.config_registry import CONFIG_FIELDS
from core.engine import METRIC_NAMES
from core.errors import ConfigError
from core.json_values import plain
from core.metric_registry import MAXIMISE, METRICS
from core.optimize.methods import DEFAULT_MAX_GRID, planned_trials
from core.optimize.objective import Objective, check_metric
from core.optimize.space import SearchSpace
from core.result_columns import TABLES
from usecases.store import StudyRecord
from usecases.studies import (
    cancel_study,
    create_study,
    load_study,
    pause_study,
    resume_study,
    start_worker,
    study_progress,
    top_trials,
)

router = APIRouter(prefix="/v1/optimization", tags=["optimization"])

AGGREGATIONS = ("max", "mean", "median", "min", "best", "worst")


# --- registries -------------------------------------------------------------------------------------------------


@router.get("/metrics", response_model=MetricsOut)
def list_metrics() -> dict[str, Any]:
    """Every metric a run reports (core.metric_registry): name, label, unit, format, group, direction, definition."""
    return {"metrics": [
        {"name": m.name, "label": m.label, "unit": m.unit, "format": m.fmt, "group": m.group,
         "direction": "maximise" if m.direction == MAXIMISE else "minimise", "direction_sign": m.direction,
         "definition": m.definition}
        for m in METRICS
    ]}


def _range(field: Any) -> dict[str, Any] | None:
    if not field.numeric:
        return None
    b = field.bounds
    return {"low": b.low, "low_inclusive": b.low_inclusive, "high": b.high, "high_inclusive": b.high_inclusive,
            "text": b.text()}


def _search_forms(kind: str) -> list[str]:
    if kind in ("float", "int", "optfloat"):
        return ["min:max:step", "[values]"]
    if kind == "bool":
        return ["bool", "[values]"]
    return ["[values]"]


@router.get("/parameter-types", response_model=ParametersOut)
def parameter_types() -> dict[str, Any]:
    """Every configuration field (core.config_registry): name, kind, unit, label, default, range, choices, help."""
    return {"parameters": [
        {"name": f.name, "kind": f.kind, "unit": f.unit, "label": f.label, "default": plain(f.default),
         "range": _range(f), "choices": list(f.choices) or None, "help": f.help, "group": f.group,
         "step": f.step, "search_forms": _search_forms(f.kind)}
        for f in CONFIG_FIELDS
    ]}


@router.get("/result-columns", response_model=ResultColumnsOut)
def result_columns() -> dict[str, Any]:
    """Every column of a run's trades and timeline tables (core.result_columns): the CSV exports' and the JSON
    bundle's column names, with the label, display kind and meaning the app, the workbook and the PDF use."""
    return {"columns": [{"table": table, "name": c.name, "label": c.label, "kind": c.kind, "help": c.help}
                        for table, columns in TABLES.items() for c in columns.values()]}


# --- studies ----------------------------------------------------------------------------------------------------


def study_json(record: StudyRecord) -> dict[str, Any]:
    """A stored study as JSON."""
    return {
        "id": record.id,
        "name": record.name,
        "dataset_id": record.dataset_id,
        "method": record.method,
        "objective": plain(record.objective),
        "constraints": plain(record.constraints),
        "search_space": plain(record.search_space),
        "seed": record.seed,
        "status": record.status,
        "n_planned": record.n_planned,
        "n_trials": record.n_trials,
        "counts": plain(record.counts),
        "base_config": plain(record.base_config),
        "error": record.error,
        "created_at": plain(record.created_at),
        "updated_at": plain(record.updated_at),
        "started_at": plain(record.started_at),
        "finished_at": plain(record.finished_at),
    }


def _links(study_id: int) -> dict[str, str]:
    base = f"/v1/optimization/configs/{study_id}"
    return {"self": base, "start": f"{base}/start", "progress": f"{base}/progress", "results": f"{base}/results",
            "heatmap": f"{base}/heatmap"}


@router.post("/configs", status_code=201, response_model=StudyCreated)
def create_config(body: StudyCreate, response: Response, store: StoreDep) -> dict[str, Any]:
    """Create a study (status ``draft``): returns its id and the number of combinations of the search space."""
    try:
        base = to_config(body.base_config)
    except ConfigError as exc:
        raise ConfigProblem(exc, ["base_config"]) from None
    try:
        space = SearchSpace.parse(body.search_space, base)
        planned_trials(space, body.method, body.n_trials, body.max_grid or DEFAULT_MAX_GRID)
    except ConfigError as exc:
        raise ConfigProblem(exc, ["search_space"]) from None
    try:
        objective = Objective(body.objective, weights=dict(body.score or {}), constraints=tuple(body.constraints),
                              penalty=body.penalty)
    except ConfigError as exc:
        raise ConfigProblem(exc, ["score" if body.score else "objective"]) from None
    resolved = resolve(store, body.dataset, body.start, body.end)
    dataset_id = stored_id(store, resolved)
    study_id = create_study(store, dataset_id, space, objective, method=body.method, n_trials=body.n_trials,
                            seed=body.seed, name=body.name, max_grid=body.max_grid or DEFAULT_MAX_GRID)
    record = store.get_study(study_id)
    response.headers["Location"] = f"/v1/optimization/configs/{study_id}"
    return {"id": study_id, "combinations": space.size, "n_planned": record.n_planned, "status": record.status,
            "dataset_id": dataset_id, "name": record.name, "objective": objective.label, "links": _links(study_id)}


@router.get("/configs/{study_id}", response_model=StudyOut, response_model_exclude_unset=True)
def get_config(study_id: int, store: StoreDep) -> dict[str, Any]:
    """The stored study: search space, objective, constraints, status and trial counts."""
    return {**study_json(store.get_study(study_id)), "links": _links(study_id)}


@router.post("/configs/{study_id}/start", status_code=202, response_model=StudyStarted)
def start_config(study_id: int, request: Request, store: StoreDep) -> dict[str, Any]:
    """Start the study's worker process (``usecases.studies.start_worker``) and answer at once; poll progress."""
    record = store.get_study(study_id)
    if record.status != "draft":
        resumable = record.status in ("paused", "interrupted", "failed")
        hint = "resume it instead" if resumable else "there is nothing to start"
        raise Problem(409, f"study {study_id} is {record.status}, not draft; {hint}", kind="study-not-draft")
    # Claim the study first: of two concurrent starts only one can move it from draft to running (the store
    # refuses the second change), so one worker runs it. The worker takes over a running study.
    store.set_study_status(study_id, "running")
    state = state_of(request)
    try:
        proc = start_worker(store.url, study_id, log_path=state.settings.worker_log)
    except OSError as exc:
        store.set_study_status(study_id, "failed", error=f"the worker process could not start: {exc}")
        raise Problem(503, "the worker process could not be started", kind="worker-unavailable") from None
    state.adopt(proc)
    return {"id": study_id, "status": "running", "worker_pid": proc.pid, "links": _links(study_id)}


@router.post("/configs/{study_id}/pause", response_model=StudyOut, response_model_exclude_unset=True)
def pause_config(study_id: int, store: StoreDep) -> dict[str, Any]:
    """Ask the worker to stop after its current batch (resumable); 409 unless the study is running."""
    return study_json(pause_study(store, study_id))


@router.post("/configs/{study_id}/cancel", response_model=StudyOut, response_model_exclude_unset=True)
def cancel_config(study_id: int, store: StoreDep) -> dict[str, Any]:
    """Stop the study for good after the current batch (stored trials stay)."""
    return study_json(cancel_study(store, study_id))


@router.post("/configs/{study_id}/resume", status_code=202, response_model=StudyStarted)
def resume_config(study_id: int, request: Request, store: StoreDep) -> dict[str, Any]:
    """Start a worker for a paused or failed study (or a running one whose worker died); stored trials are kept."""
    state = state_of(request)
    proc = resume_study(store, study_id, store.url, log_path=state.settings.worker_log)  # StudyBusyError -> 409
    state.adopt(proc)
    return {"id": study_id, "status": "running", "worker_pid": proc.pid, "links": _links(study_id)}


@router.get("/configs/{study_id}/progress", response_model=ProgressOut)
def progress(study_id: int, store: StoreDep) -> dict[str, Any]:
    """Done, total, rate (trials/s), ETA (s) and state."""
    p = study_progress(store, study_id)
    return {"id": p.study_id, "state": p.status, "done": p.done, "total": p.total, "completed": p.completed,
            "invalid": p.invalid, "failed": p.failed, "fraction": p.fraction, "rate": plain(p.rate),
            "eta_s": plain(p.eta_s), "finished": p.status in ("completed", "cancelled", "failed")}


def _trial_json(row: pd.Series, names: list[str]) -> dict[str, Any]:
    return {
        "index": int(row["index"]),
        "params": {n: plain(row.get(f"param.{n}")) for n in names},
        "metrics": {m: plain(row.get(m)) for m in METRIC_NAMES if m in row.index},
        "score": plain(row.get("score")),
        "violations": plain(row.get("violations")),
    }


@router.get("/configs/{study_id}/results", response_model=ResultsOut)
def results(
    study_id: int,
    store: StoreDep,
    limit: int = Query(50, ge=1, le=10_000),
    offset: int = Query(0, ge=0),
    sort: str = Query("score", description="score, or a metric (best first); prefix - or + for descending or "
                      "ascending"),
    feasible_only: bool = Query(True, description="only trials that satisfy every constraint"),
) -> dict[str, Any]:
    """The completed trials ranked by the study's objective (or sorted by a metric), a page at a time."""
    record, space, objective = load_study(store, study_id)
    ranked = top_trials(store, study_id, None, feasible_only=feasible_only)
    key = sort.strip().lstrip("+-")
    if key != "score":
        try:
            check_metric(key)
        except ConfigError:
            raise unknown_metric(key, "sort") from None
        if not ranked.empty:
            from core.analysis import direction

            ascending = sort.startswith("+") or (not sort.startswith("-") and direction(key) < 0)
            ranked = ranked.sort_values(key, ascending=ascending, na_position="last", kind="stable")
    elif sort.startswith("+") and not ranked.empty:
        ranked = ranked.iloc[::-1]
    page = ranked.iloc[offset : offset + limit]
    names = list(space.names)
    return {"id": study_id, "status": record.status, "objective": objective.label, "sort": sort,
            "feasible_only": feasible_only, "total": len(ranked), "offset": offset, "limit": limit,
            "items": [_trial_json(row, names) for _, row in page.iterrows()]}


@router.get("/configs/{study_id}/heatmap", response_model=HeatmapOut)
def study_heatmap(
    study_id: int,
    store: StoreDep,
    x: str | None = Query(None, description="parameter on the x axis (default: the first searched)"),
    y: str | None = Query(None, description="parameter on the y axis (default: the second searched)"),
    metric: str | None = Query(None, description="metric of the cells (default: the objective's)"),
    agg: str = Query("max", description="how the parameters not shown are reduced: " + ", ".join(AGGREGATIONS)),
) -> dict[str, Any]:
    """``core.analysis.heatmap`` of the study's stored trials: rows are the ``y`` values, columns the ``x`` values."""
    from core.figures_optimize import study_trials

    _, space, objective = load_study(store, study_id)
    names = list(space.names)
    metric = metric or objective.metric or "sharpe"
    try:
        check_metric(metric)
    except ConfigError:
        raise unknown_metric(metric, "metric") from None
    if agg not in AGGREGATIONS:
        raise Problem(422, f"agg must be one of {', '.join(AGGREGATIONS)}, got {agg!r}", kind="validation-error",
                      errors=[{"field": "agg", "location": ["query", "agg"], "message": "unknown aggregation",
                               "valid": list(AGGREGATIONS)}])
    if len(names) < 2:
        raise Problem(422, f"a heatmap needs two searched parameters; study {study_id} varies only {names[0]}",
                      kind="heatmap-needs-two-parameters")
    x = x or names[0]
    y = y or next(n for n in names if n != x)
    for axis, value in (("x", x), ("y", y)):
        if value not in names:
            raise Problem(422, f"{axis}={value!r} is not a parameter of study {study_id}; it varies "
                          f"{', '.join(names)}", kind="validation-error",
                          errors=[{"field": axis, "location": ["query", axis], "message": "not a searched parameter",
                                   "valid": names}])
    if x == y:
        raise Problem(422, "x and y must be different parameters", kind="validation-error",
                      errors=[{"field": "y", "location": ["query", "y"], "message": "same as x", "valid": names}])
    trials = study_trials(store.list_trials(study_id, status="completed"))
    base = {"id": study_id, "x": x, "y": y, "metric": metric, "agg": agg}
    if trials.empty:
        return {**base, "x_values": [], "y_values": [], "values": [], "n_trials": 0}
    grid = heatmap(trials, x, y, metric, agg)
    return {**base, "x_values": plain(list(grid.columns)), "y_values": plain(list(grid.index)),
            "values": plain(grid.to_numpy(dtype=float)), "n_trials": len(trials)}
