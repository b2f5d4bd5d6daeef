"""Response models of the optimisation endpoints: studies, progress, results, heatmaps and the registries."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from api.responses import ConfigJson, Metrics, Number, Out


class Links(Out):
    """Where to go next with a study."""

    self: str
    start: str
    progress: str
    results: str
    heatmap: str


class StudyCreated(Out):
    """``POST /v1/optimization/configs``: the new study (status ``draft``)."""

    id: int
    combinations: int = Field(description="the size of the search space")
    n_planned: int | None = Field(description="trials the study will run (the grid, or n_trials)")
    status: str
    dataset_id: int
    name: str
    objective: str
    links: Links


class StudyOut(Out):
    """A stored study (``links`` on ``GET /v1/optimization/configs/{id}``)."""

    id: int
    name: str
    dataset_id: int
    method: str
    objective: dict[str, Any] = Field(description="metric or weights, constraints, penalty")
    constraints: list[str]
    search_space: dict[str, Any]
    seed: int | None
    status: str = Field(description="draft, running, paused, interrupted, completed, cancelled or failed")
    n_planned: int | None
    n_trials: int = Field(description="stored trials, any status")
    counts: dict[str, int] = Field(description="stored trials by status")
    base_config: ConfigJson | None
    error: str | None
    created_at: str | None
    updated_at: str | None
    started_at: str | None
    finished_at: str | None
    links: Links | None = None


class StudyStarted(Out):
    """``POST …/start`` and ``…/resume`` (202): the worker process runs the study; poll ``progress``."""

    id: int
    status: str
    worker_pid: int
    links: Links


class ProgressOut(Out):
    """``GET …/progress``."""

    id: int
    state: str = Field(description="the study's status")
    done: int
    total: int
    completed: int
    invalid: int
    failed: int
    fraction: float = Field(description="done / total, 0..1")
    rate: float | None = Field(description="trials per second over the recent batches (while running)")
    eta_s: float | None = Field(description="seconds left at that rate")
    finished: bool = Field(description="completed, cancelled or failed")


class TrialOut(Out):
    """One completed trial."""

    index: int = Field(description="the trial's index in the study (unique)")
    params: dict[str, Any] = Field(description="the searched parameters' values")
    metrics: Metrics
    score: float | None
    violations: int | None = Field(description="constraints the trial violates")


class ResultsOut(Out):
    """``GET …/results``: one page of trials, best first."""

    id: int
    status: str
    objective: str
    sort: str
    feasible_only: bool
    total: int
    offset: int
    limit: int
    items: list[TrialOut]


class HeatmapOut(Out):
    """``GET …/heatmap``: ``values[i][j]`` is the cell at ``y_values[i]``, ``x_values[j]`` (``null``: no trial)."""

    id: int
    x: str
    y: str
    metric: str
    agg: str
    x_values: list[Any]
    y_values: list[Any]
    values: list[list[float | None]]
    n_trials: int


class MetricOut(Out):
    """A metric of ``core.metric_registry``."""

    name: str
    label: str
    unit: str
    format: str
    group: str
    direction: str = Field(description="maximise or minimise")
    direction_sign: int = Field(description="+1 (higher is better) or -1")
    definition: str


class MetricsOut(Out):
    """``GET /v1/optimization/metrics``."""

    metrics: list[MetricOut]


class RangeOut(Out):
    """A numeric field's valid range."""

    low: Number | None = Field(description="null: no lower bound")
    low_inclusive: bool
    high: Number | None = Field(description="null: no upper bound")
    high_inclusive: bool
    text: str


class ParameterOut(Out):
    """A configuration field of ``core.config_registry``."""

    name: str
    kind: str
    unit: str
    label: str
    default: Any
    range: RangeOut | None
    choices: list[str] | None
    help: str
    group: str
    step: Number | None = Field(description="the app's input step")
    search_forms: list[str] = Field(description="how a search space may give this parameter's range")


class ResultColumnOut(Out):
    """A column of a run's trades or timeline table (``core.result_columns``)."""

    table: str = Field(description="trades or timeline")
    name: str
    label: str
    kind: str = Field(description="display kind: money, price, qty, pct (a fraction shown as a percentage), "
                                  "count, datetime, text, wide")
    help: str


class ResultColumnsOut(Out):
    """``GET /v1/optimization/result-columns``."""

    columns: list[ResultColumnOut]


class ParametersOut(Out):
    """``GET /v1/optimization/parameter-types``."""

    parameters: list[ParameterOut]
