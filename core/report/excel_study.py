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
from core.report.excel_style import BOLD, TITLE_FONT, set_widths, write_cell, write_pairs, write_table
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
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    title = f"Study {study.study_id}: {study.name}" if study.study_id is not None else study.name
    write_cell(ws, 1, 1, title).font = TITLE_FONT
    row = write_pairs(ws, study_summary_pairs(study), first_row=3, kinds=[None, None, None, "count"])
    ws.cell(row + 1, 1, "Robustness").font = BOLD
    findings = robustness(study)
    write_pairs(ws, [(f.label, f.value) for f in findings], first_row=row + 2, bold_keys=False,
                kinds=[format_kind(f.fmt) for f in findings])  # fmt: skip
    set_widths(ws, (36, 70))

    all_trials, kinds = labelled_trials(study.trials)
    write_table(wb.create_sheet("All Trials"), all_trials, kinds)
    top, top_kinds = labelled_trials(study.top(top_n))
    write_table(wb.create_sheet(f"Top {top_n}"), top, top_kinds)

    hm = wb.create_sheet("Heatmap")
    pivot = heatmap_pivot(study, *(heatmap or (None, None)), agg=heatmap_agg)
    if pivot is None:
        hm.cell(1, 1, "The study varies fewer than two parameters: no heatmap.")
    else:
        x_name, y_name = str(pivot.columns.name), str(pivot.index.name)
        x_label, y_label = setting_label(x_name), setting_label(y_name)
        write_cell(hm, 1, 1, f"{heatmap_agg} {label} by {y_label} (rows; the first value at the bottom, as in the "
                             f"charts) and {x_label} (columns)").font = BOLD  # fmt: skip
        # One orientation everywhere: the first y value at the bottom, like a chart's axis.
        flipped = pivot.iloc[::-1]
        table = pd.DataFrame(flipped.to_numpy(dtype=float), columns=[setting_text(x_name, c) for c in pivot.columns])
        table.insert(0, f"{y_label} \\ {x_label}", [setting_text(y_name, v) for v in flipped.index])
        kind = metric_kind(metric)
        last = write_table(hm, table, {c: kind for c in table.columns[1:]} | {table.columns[0]: "text"},
                           first_row=3, filters=False)  # fmt: skip
        if len(pivot.columns):
            low, high = (WORSE, BETTER) if study.maximise else (BETTER, WORSE)  # green is always "better"
            area = f"B4:{get_column_letter(len(pivot.columns) + 1)}{last}"
            hm.conditional_formatting.add(
                area,
                ColorScaleRule(start_type="min", start_color=low, mid_type="percentile", mid_value=50,
                               mid_color=MIDDLE, end_type="max", end_color=high),
            )  # fmt: skip
        hm.column_dimensions["A"].width = 26

    sens = sensitivity(study)
    stats = {c: f"{c} {label}" for c in SENSITIVITY_STATS}
    write_table(wb.create_sheet("Parameter Sensitivity"), sens.rename(columns=stats),
                {f"{c} {label}": metric_kind(metric) for c in SENSITIVITY_STATS} | {"Trials": "count"})  # fmt: skip
    walk_forward = study.walk_forward_tables()
    if walk_forward is not None:
        folds, summary = walk_forward
        wf = wb.create_sheet("Walk-Forward")
        next_row = write_pairs(wf, summary, first_row=1) + 1 if summary else 1
        write_table(wf, folds, first_row=next_row)
    wb.properties.creator = "Volatility Balancing Lab"
    return wb
