"""Tables derived from a study's trials for the study workbook and report: heatmap pivot, parameter sensitivity
and robustness findings.

Computed here from the trials table with small pandas code, so the exports do not depend on the analysis
module's API; the numbers are plain aggregates a reader can re-derive from the All Trials sheet.
"""

from __future__ import annotations

import math

import pandas as pd

from core.report.context import StudyReport


def param_label(column: str) -> str:
    """``param.trigger_up`` -> ``trigger_up``."""
    return column.removeprefix("param.")


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
    pivot = done.pivot_table(index=y_col, columns=x_col, values=metric, aggfunc=agg)
    pivot.index.name, pivot.columns.name = param_label(y_col), param_label(x_col)
    return pivot.sort_index().sort_index(axis=1)


def sensitivity(study: StudyReport, metric: str | None = None) -> pd.DataFrame:
    """For each varied parameter and each of its values: number of trials and the mean, median, min and max of
    the objective over the completed trials with that value."""
    metric = metric or study.objective_metric
    done = study.completed()
    frames = []
    for column in study.varied_params:
        grouped = done.groupby(column, dropna=True)[metric].agg(["count", "mean", "median", "min", "max"])
        grouped = grouped.reset_index().rename(columns={column: "Value"})
        grouped.insert(0, "Parameter", param_label(column))
        grouped["Value"] = grouped["Value"].astype(str)
        frames.append(grouped)
    columns = ["Parameter", "Value", "count", "mean", "median", "min", "max"]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    return out.rename(columns={"count": "Trials", "mean": "Mean", "median": "Median", "min": "Min", "max": "Max"})


def robustness(study: StudyReport) -> list[tuple[str, str]]:
    """Findings about how much the result depends on the exact parameters, as (finding, value) text rows."""
    metric = study.objective_metric
    trials = study.trials
    done = study.completed()
    values = pd.to_numeric(done[metric], errors="coerce")
    rows: list[tuple[str, str]] = [
        ("Trials stored", f"{len(trials):,}"),
        ("Completed with a finite objective", f"{len(done):,}"),
    ]
    if "status" in trials.columns:
        failed = int((trials["status"] == "failed").sum())
        rows.append(("Failed trials", f"{failed:,}"))
    if len(values) == 0:
        return rows
    best = values.max() if study.maximise else values.min()
    q1, median, q3 = values.quantile([0.25, 0.5, 0.75])
    top = study.top(max(1, len(done) // 10))[metric]
    rows += [
        (f"Best {metric}", f"{best:.4g}"),
        (f"Median {metric}", f"{median:.4g}"),
        (f"Interquartile range of {metric}", f"{q1:.4g} to {q3:.4g}"),
        (f"Mean {metric} of the top 10 %", f"{top.mean():.4g}"),
    ]
    if math.isfinite(best) and best != 0:
        rows.append(("Median as a share of the best", f"{median / best:.0%}"))
    for column, label in (
        ("excess_return_vs_buy_hold", "Trials beating buy-and-hold"),
        ("excess_return_vs_static_mix", "Trials beating the static mix"),
    ):
        if column in done.columns:
            share = float((pd.to_numeric(done[column], errors="coerce") > 0).mean())
            rows.append((label, f"{share:.0%}"))
    return rows
