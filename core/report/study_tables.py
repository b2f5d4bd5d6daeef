"""Tables derived from a study's trials for the study workbook and report: the labelled trials table, heatmap
pivot, parameter sensitivity and robustness findings.

Computed here from the trials table with small pandas code, so the exports do not depend on the analysis
module's API; the numbers are plain aggregates a reader can re-derive from the All Trials sheet. Headers are the
registries' labels and every number keeps its unit (:mod:`core.report.formats`), as in the run's exports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.metric_table import metric_info
from core.report.context import StudyReport
from core.report.formats import metric_kind, metric_label, setting_kind, setting_label, setting_text

# Bookkeeping columns of a trials table: header and workbook number-format kind.
BOOKKEEPING: dict[str, tuple[str, str]] = {
    "index": ("Trial", "count"),
    "status": ("Status", "text"),
    "duration_s": ("Duration (s)", "ratio"),
    "error": ("Error", "wide"),
}


def param_label(column: str) -> str:
    """``param.trigger_up`` -> ``trigger_up``."""
    return column.removeprefix("param.")


@dataclass(frozen=True)
class TrialColumn:
    """One column of a trials table as the exports show it."""

    key: str  # the stored column: ``index``, ``param.trigger_up``, ``sharpe``
    header: str  # the registry label: ``Trial``, ``Sell trigger (%)``, ``Sharpe ratio``
    kind: str  # workbook number-format kind (``pct``, ``ratio``, ``count``…)
    role: str  # "trial", "param", "metric" or "bookkeeping"


def trial_columns(frame: pd.DataFrame) -> list[TrialColumn]:
    """The columns of a trials table in the exports' order (trial, parameters, metrics, bookkeeping) with their
    labels from the field and metric registries and their number formats."""
    params = [str(c) for c in frame.columns if str(c).startswith("param.")]
    tail = [c for c in ("status", "duration_s", "error") if c in frame.columns]
    metrics = [str(c) for c in frame.columns if c not in params and c not in tail and c != "index"]
    out: list[TrialColumn] = []
    if "index" in frame.columns:
        out.append(TrialColumn("index", *BOOKKEEPING["index"], "trial"))
    out += [TrialColumn(c, setting_label(c), setting_kind(c), "param") for c in params]
    out += [TrialColumn(c, metric_label(c), metric_kind(c), "metric") for c in metrics]
    out += [TrialColumn(c, *BOOKKEEPING[c], "bookkeeping") for c in tail]
    seen: set[str] = set()
    unique = []
    for column in out:
        # Two columns with one label (an unknown metric named like a field) keep their own names beside it.
        header = column.header if column.header not in seen else f"{column.header} ({column.key})"
        seen.add(header)
        unique.append(TrialColumn(column.key, header, column.kind, column.role))
    return unique


def labelled_trials(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """A trials table with label headers, and each header's number-format kind (for ``write_table``)."""
    columns = trial_columns(frame)
    table = frame[[c.key for c in columns]].copy()
    table.columns = [c.header for c in columns]
    return table, {c.header: c.kind for c in columns}


def heatmap_axes(study: StudyReport, x: str | None = None, y: str | None = None) -> tuple[str, str] | None:
    """The two parameter columns of the heatmap: the ones given (with or without ``param.``), else the first two
    varied parameters; ``None`` when the study varies fewer than two."""

    def column(name: str) -> str:
        full = name if name.startswith("param.") else f"param.{name}"
        if full not in study.trials.columns:
            raise ValueError(
                f"the study has no parameter {param_label(full)!r}; it has "
                f"{', '.join(param_label(c) for c in study.param_columns) or 'none'}"
            )
        return full

    if x is not None and y is not None:
        return column(x), column(y)
    varied = study.varied_params
    if len(varied) < 2:
        return None
    return varied[0], varied[1]


MAX_LEVELS = 100
"""A parameter with more distinct values than this (a random or Bayesian search over a continuous range) is grouped
into this many equal-width bins, labelled by their midpoints, for the heatmap and the sensitivity table: a
100,000-trial study otherwise asked for a 100,000 × 100,000 pivot."""


def levels(values: pd.Series, max_levels: int = MAX_LEVELS) -> pd.Series:
    """``values`` unchanged when they take at most ``max_levels`` distinct values (or are not numbers), else each
    replaced by the midpoint of its bin among ``max_levels`` equal-width bins over their range."""
    if values.nunique(dropna=True) <= max_levels or not pd.api.types.is_numeric_dtype(values.dtype):
        return values
    v = values.to_numpy(dtype=float)
    edges = np.linspace(np.nanmin(v), np.nanmax(v), max_levels + 1)
    bins = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, max_levels - 1)
    middles = (edges[:-1] + edges[1:]) / 2
    return pd.Series(np.where(np.isnan(v), np.nan, middles[bins]), index=values.index, name=values.name)


def heatmap_pivot(
    study: StudyReport, x: str | None = None, y: str | None = None, *, metric: str | None = None, agg: str = "mean"
) -> pd.DataFrame | None:
    """The objective (or ``metric``) of the completed trials pivoted on two parameters: rows = ``y`` values,
    columns = ``x`` values, cells = ``agg`` ("mean", "max", "median") over the other parameters."""
    axes = heatmap_axes(study, x, y)
    if axes is None:
        return None
    x_col, y_col = axes
    metric = metric or study.objective_metric
    done = study.completed()
    if done.empty:
        return None
    binned = done.assign(**{x_col: levels(done[x_col]), y_col: levels(done[y_col])})
    pivot = binned.pivot_table(index=y_col, columns=x_col, values=metric, aggfunc=agg)
    pivot.index.name, pivot.columns.name = param_label(y_col), param_label(x_col)
    return pivot.sort_index().sort_index(axis=1)


def sensitivity(study: StudyReport, metric: str | None = None) -> pd.DataFrame:
    """For each varied parameter and each of its values: number of trials and the mean, median, min and max of
    the objective over the completed trials with that value. ``Parameter`` is the field's label and ``Value``
    its value in its unit (``3 %``); the statistics are numbers in the metric's unit."""
    metric = metric or study.objective_metric
    done = study.completed()
    frames = []
    for column in study.varied_params:
        grouped = levels(done[column]).to_frame().assign(_m=done[metric]).groupby(column, dropna=True)["_m"].agg(
            ["count", "mean", "median", "min", "max"])
        grouped = grouped.reset_index().rename(columns={column: "Value"})
        grouped.insert(0, "Parameter", setting_label(column))
        grouped["Value"] = [setting_text(column, v) for v in grouped["Value"]]
        frames.append(grouped)
    columns = ["Parameter", "Value", "count", "mean", "median", "min", "max"]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    return out.rename(columns={"count": "Trials", "mean": "Mean", "median": "Median", "min": "Min", "max": "Max"})


SENSITIVITY_STATS: tuple[str, ...] = ("Mean", "Median", "Min", "Max")


@dataclass(frozen=True)
class Finding:
    """One robustness finding: what it says, its value (a number), and how the value reads: a registry format
    (``count``, ``pct``, or the objective's own, such as ``ratio`` for a Sharpe ratio)."""

    label: str
    value: float
    fmt: str


def robustness(study: StudyReport) -> list[Finding]:
    """Findings about how much the result depends on the exact parameters, as numbers with their formats."""
    metric = study.objective_metric
    label = metric_label(metric)
    fmt = metric_info(metric).fmt
    trials = study.trials
    done = study.completed()
    values = pd.to_numeric(done[metric], errors="coerce")
    rows = [Finding("Trials stored", len(trials), "count"), Finding("Completed with a finite objective", len(done),
                                                                        "count")]  # fmt: skip
    if "status" in trials.columns:
        rows.append(Finding("Failed trials", int((trials["status"] == "failed").sum()), "count"))
    if len(values) == 0:
        return rows
    best = float(values.max() if study.maximise else values.min())
    q1, median, q3 = (float(q) for q in values.quantile([0.25, 0.5, 0.75]))
    top = study.top(max(1, len(done) // 10))[metric]
    rows += [
        Finding(f"Best {label}", best, fmt),
        Finding(f"Median {label}", median, fmt),
        Finding(f"Lower quartile of {label}", q1, fmt),
        Finding(f"Upper quartile of {label}", q3, fmt),
        Finding(f"Mean {label} of the top 10 %", float(top.mean()), fmt),
    ]
    if math.isfinite(best) and best != 0:
        rows.append(Finding("Median as a share of the best", median / best, "pct"))
    for column, text in (
        ("excess_return_vs_buy_hold", "Trials beating buy-and-hold"),
        ("excess_return_vs_static_mix", "Trials beating the static mix"),
    ):
        if column in done.columns:
            share = float((pd.to_numeric(done[column], errors="coerce") > 0).mean())
            rows.append(Finding(text, share, "pct"))
    return rows
