"""Response models of datasets, backtests and stored runs, so the OpenAPI schema documents what comes back.

The routes still build plain dicts (from the records and ``core.json_values.plain``); FastAPI validates them
against these models and serialises them. A model of a dict the route builds key by key (:class:`Out`) refuses
unknown keys, so a route and its documented response cannot drift apart unnoticed (the tests call every route).
A model of an engine or store record passed through whole (:class:`RecordOut`: a decision, a fill, a position's
state) keeps keys it does not list, so a field added to that record reaches clients at once instead of failing
the response. Numbers that the engine reports as NaN or infinity are ``null``; times are ISO 8601 text.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

Metrics = dict[str, float | None]
"""Metric name → value (``GET /v1/optimization/metrics`` lists the names, units and definitions)."""
ConfigJson = dict[str, Any]
"""Every configuration field with its value (the fields of ``StrategyConfigModel``)."""
Number = int | float
"""An integer stays an integer (a smart union), so a value reads as the route gave it."""
Records = list[dict[str, Any]]
"""A table as one object per row."""


class Out(BaseModel):
    """A response object built by the route: exactly the documented keys."""

    model_config = ConfigDict(extra="forbid")


class RecordOut(BaseModel):
    """A record of the engine or the store, passed through whole: the documented keys and any newer ones."""

    model_config = ConfigDict(extra="allow")


# --- datasets ---------------------------------------------------------------------------------------------------


class DatasetOut(Out):
    """A stored dataset: usable by ``id`` wherever a dataset is asked for."""

    id: int
    name: str
    symbol: str
    source: str
    interval: str
    price_basis: str
    timezone: str | None
    start: str | None = Field(description="first bar")
    end: str | None = Field(description="last bar")
    rows: int
    dividends: int
    sha256: str = Field(description="SHA-256 of the normalised bars and dividends")
    created_at: str | None


class SampleOut(Out):
    """A bundled dataset: usable by ``key`` wherever a dataset is asked for."""

    key: str
    symbol: str
    name: str
    description: str
    start: str
    end: str
    rows: int
    interval: str
    price_basis: str
    licence: str


class DatasetList(Out):
    """``GET /v1/datasets``."""

    datasets: list[DatasetOut]
    samples: list[SampleOut]


class DatasetUploaded(DatasetOut):
    """``POST /v1/datasets``: the stored dataset and its quality report's summary."""

    quality: dict[str, Any]
    issues: list[str]


class QualityOut(Out):
    """``GET /v1/datasets/{id}/quality``: ``core.data.quality_report``."""

    id: int
    summary: dict[str, Any]
    issues: list[str] = Field(description="readable sentences, one per problem found")
    findings: Records = Field(description="every finding: check, timestamp, value, detail")
    settings: dict[str, Any] = Field(description="the thresholds used")


# --- backtests --------------------------------------------------------------------------------------------------


class BacktestDataset(Out):
    """The bars a backtest ran on (``id`` is ``null`` unless they are stored as they are)."""

    id: int | None
    name: str
    symbol: str
    sha256: str
    start: str
    end: str
    bars: int
    price_basis: str


class BacktestOut(Out):
    """``POST /v1/backtests``: ``trades`` unless ``include_trades`` is false, ``timeline`` with
    ``include_timeline``, ``run_id`` with ``save``."""

    dataset: BacktestDataset
    config: ConfigJson
    engine_version: str
    metrics: Metrics
    benchmarks: dict[str, Metrics] = Field(description="buy_and_hold and static_mix: their metrics")
    n_trades: int
    trades: Records | None = Field(None, description="one row per executed order, with the reason")
    timeline: Records | None = Field(None, description="one row per bar: anchor, triggers, shares, cash, ...")
    run_id: int | None = Field(None, description="the stored run (with save)")


# --- runs -------------------------------------------------------------------------------------------------------


class RunOut(Out):
    """A stored run."""

    id: int
    dataset_id: int
    name: str
    tags: list[str]
    notes: str
    config: ConfigJson
    engine_version: str
    created_at: str | None
    metrics: Metrics
    n_trades: int | None


class RunDetail(RunOut):
    """``GET /v1/runs/{id}``: the run with its trades (unless ``trades=false``)."""

    trades: Records | None = Field(None, description="the stored trades, exactly as saved")


class RunList(Out):
    """``GET /v1/runs``: one page of runs."""

    total: int = Field(description="runs matching the filter, over all pages")
    offset: int
    limit: int
    items: list[RunOut]


class RerunOut(Out):
    """``POST /v1/runs/{id}/rerun``: whether the stored run is reproduced exactly."""

    id: int
    identical: bool
    differences: list[str]
    stored_engine_version: str
    current_engine_version: str


class RunImported(Out):
    """``POST /v1/runs/import``: the new run, re-run from the stored dataset with the bundle's hash."""

    id: int
    dataset_id: int
    name: str
    reproduced: bool = Field(description="always true: a bundle whose re-run differs is refused")
    metrics: Metrics
    n_trades: int | None
