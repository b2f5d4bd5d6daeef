"""Study workbooks: Summary, All Trials (parameters and every metric), Top N, Heatmap (pivot of two parameters
with a colour scale), Parameter Sensitivity, Robustness, and Walk-Forward when results are given.

Formatted like the run workbook (:mod:`core.report.formats`): headers are the registries' labels (``Sell trigger
(%)``, ``Sharpe ratio``), numbers stay numbers with their unit's number format (a fraction shows as ``3.00%``),
and the search space reads ``Sell trigger: 2 %–5 %, step 1 %``.
"""

from __future__ import annotations

import pandas as pd
from openpyxl import Workbook
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.utils import get_column_letter

from core.report.context import StudyReport
from core.report.excel_style import (
    BOLD_STYLE,
    TITLE_STYLE,
    SheetWriter,
    new_workbook,
    table_layout,
    write_pairs,
    write_table,
)
from core.report.formats import (
    format_kind,
    metric_kind,
    metric_label,
    search_space_text,
    setting_label,
    setting_text,
)
from core.report.study_tables import SENSITIVITY_STATS, heatmap_pivot, labelled_trials, robustness, sensitivity

# Excel's 3-colour scale, as the app's red-to-green heatmaps: worse red, middle yellow, better green.
WORSE, MIDDLE, BETTER = "F8696B", "FFEB84", "63BE7B"


def study_summary_pairs(study: StudyReport) -> list[tuple[str, object]]:
    """Method, objective (by its label), status, trial count, dataset and the search space, readable."""
    goal = "maximise" if study.maximise else "minimise"
    pairs: list[tuple[str, object]] = [
        ("Method", study.method),
        ("Objective", f"{goal} {metric_label(study.objective_metric)}"),
        ("Status", study.status),
        ("Trials", len(study.trials)),
    ]
    if study.dataset is not None:
        pairs += [("Dataset", study.dataset.name), ("Symbol", study.dataset.symbol),
                  ("Dataset SHA-256", study.dataset.sha256)]  # fmt: skip
    for i, (name, spec) in enumerate(study.search_space.items()):
        pairs.append(("Search space" if i == 0 else "", search_space_text(name, spec)))
    return pairs


def study_workbook(
    study: StudyReport, *, top_n: int = 20, heatmap: tuple[str, str] | None = None, heatmap_agg: str = "mean"
) -> Workbook:
    """The study's workbook. ``heatmap`` names the two parameters (x, y) of the Heatmap sheet; by default the
    first two varied ones. The Walk-Forward sheet appears only when ``study.walk_forward`` holds rows."""
    metric = study.objective_metric
    label = metric_label(metric)
    with new_workbook() as wb:
        _write_summary(SheetWriter(wb, "Summary"), study)
        all_trials, kinds = labelled_trials(study.trials)
        write_table(SheetWriter(wb, "All Trials"), all_trials, kinds)
        top, top_kinds = labelled_trials(study.top(top_n))
        write_table(SheetWriter(wb, f"Top {top_n}"), top, top_kinds)
        _write_heatmap(SheetWriter(wb, "Heatmap"), study, heatmap, heatmap_agg)
        stats = {c: f"{c} {label}" for c in SENSITIVITY_STATS}
        write_table(SheetWriter(wb, "Parameter Sensitivity"), sensitivity(study).rename(columns=stats),
                    {f"{c} {label}": metric_kind(metric) for c in SENSITIVITY_STATS} | {"Trials": "count"})  # fmt: skip
        walk_forward = study.walk_forward_tables()
        if walk_forward is not None:
            _write_walk_forward(SheetWriter(wb, "Walk-Forward"), *walk_forward)
    return wb


def _write_summary(sheet: SheetWriter, study: StudyReport) -> None:
    """Title, what the study ran (:func:`study_summary_pairs`) and its robustness findings."""
    sheet.set_widths((36, 70))
    title = f"Study {study.study_id}: {study.name}" if study.study_id is not None else study.name
    sheet.write(title, style=TITLE_STYLE)
    row = write_pairs(sheet, study_summary_pairs(study), first_row=3, kinds=[None, None, None, "count"])
    sheet.skip_to(row + 1)
    sheet.write("Robustness", style=BOLD_STYLE)
    findings = robustness(study)
    write_pairs(sheet, [(f.label, f.value) for f in findings], first_row=row + 2, bold_keys=False,
                kinds=[format_kind(f.fmt) for f in findings])  # fmt: skip


def _write_heatmap(sheet: SheetWriter, study: StudyReport, heatmap: tuple[str, str] | None, agg: str) -> None:
    """The objective aggregated over a pivot of two parameters, coloured worse (red) to better (green)."""
    metric = study.objective_metric
    pivot = heatmap_pivot(study, *(heatmap or (None, None)), agg=agg)
    if pivot is None:
        sheet.write("The study varies fewer than two parameters: no heatmap.")
        return
    x_name, y_name = str(pivot.columns.name), str(pivot.index.name)
    x_label, y_label = setting_label(x_name), setting_label(y_name)
    # One orientation everywhere: the first y value at the bottom, like a chart's axis.
    flipped = pivot.iloc[::-1]
    table = pd.DataFrame(flipped.to_numpy(dtype=float), columns=[setting_text(x_name, c) for c in pivot.columns])
    table.insert(0, f"{y_label} \\ {x_label}", [setting_text(y_name, v) for v in flipped.index])
    kinds = {c: metric_kind(metric) for c in table.columns[1:]} | {table.columns[0]: "text"}
    sheet.set_width(1, 26)
    table_layout(sheet, table, kinds, first_row=3)  # before the title row: the table is frozen below its header
    sheet.write(f"{agg} {metric_label(metric)} by {y_label} (rows; the first value at the bottom, as in the charts) "
                f"and {x_label} (columns)", style=BOLD_STYLE)  # fmt: skip
    last = write_table(sheet, table, kinds, first_row=3, filters=False)
    if len(pivot.columns):
        low, high = (WORSE, BETTER) if study.maximise else (BETTER, WORSE)  # green is always "better"
        area = f"B4:{get_column_letter(len(pivot.columns) + 1)}{last}"
        sheet.ws.conditional_formatting.add(
            area,
            ColorScaleRule(start_type="min", start_color=low, mid_type="percentile", mid_value=50,
                           mid_color=MIDDLE, end_type="max", end_color=high),
        )  # fmt: skip


def _write_walk_forward(sheet: SheetWriter, folds: pd.DataFrame, summary: list[tuple[str, object]]) -> None:
    """The walk-forward summary pairs, then one row per fold below an empty row."""
    first_row = len(summary) + 2 if summary else 1
    table_layout(sheet, folds, first_row=first_row)  # before the pairs: the folds' header is frozen
    if summary:
        write_pairs(sheet, summary, first_row=1)
    write_table(sheet, folds, first_row=first_row)
