"""Study workbooks: Summary, All Trials (parameters and every metric), Top N, Heatmap (pivot of two parameters
with a colour scale), Parameter Sensitivity, Robustness, and Walk-Forward when results are given."""

from __future__ import annotations

import pandas as pd
from openpyxl import Workbook
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.utils import get_column_letter

from core.report.context import StudyReport
from core.report.excel_style import BOLD, TITLE_FONT, set_widths, write_pairs, write_table
from core.report.safe_cells import safe_text
from core.report.study_tables import heatmap_pivot, param_label, robustness, sensitivity

_TRIAL_KINDS = {"index": "count", "duration_s": "ratio"}


def _trials_sheet_frame(frame: pd.DataFrame) -> pd.DataFrame:
    # Parameters first, named without the "param." prefix, then metrics; bookkeeping columns at the end.
    params = [c for c in frame.columns if str(c).startswith("param.")]
    tail = [c for c in ("status", "duration_s", "error") if c in frame.columns]
    rest = [c for c in frame.columns if c not in params and c not in tail and c != "index"]
    ordered = frame[[*(["index"] if "index" in frame.columns else []), *params, *rest, *tail]]
    return ordered.rename(columns={c: param_label(c) for c in params})


def study_workbook(
    study: StudyReport, *, top_n: int = 20, heatmap: tuple[str, str] | None = None, heatmap_agg: str = "mean"
) -> Workbook:
    """The study's workbook. ``heatmap`` names the two parameters (x, y) of the Heatmap sheet; by default the
    first two varied ones. The Walk-Forward sheet appears only when ``study.walk_forward`` holds rows."""
    metric = study.objective_metric
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    title = f"Study {study.study_id}: {study.name}" if study.study_id is not None else study.name
    ws.cell(1, 1, safe_text(title)).font = TITLE_FONT
    pairs: list[tuple[str, object]] = [
        ("Method", study.method),
        ("Objective", f"{'maximise' if study.maximise else 'minimise'} {metric}"),
        ("Status", study.status),
        ("Trials", len(study.trials)),
    ]
    if study.dataset is not None:
        pairs += [("Dataset", study.dataset.name), ("Symbol", study.dataset.symbol),
                  ("Dataset SHA-256", study.dataset.sha256)]  # fmt: skip
    pairs += [(f"Search space: {k}", str(v)) for k, v in study.search_space.items()]
    row = write_pairs(ws, pairs, first_row=3)
    ws.cell(row + 1, 1, "Robustness").font = BOLD
    write_pairs(ws, robustness(study), first_row=row + 2, bold_keys=False)
    set_widths(ws, (36, 70))

    write_table(wb.create_sheet("All Trials"), _trials_sheet_frame(study.trials), _TRIAL_KINDS)
    write_table(wb.create_sheet(f"Top {top_n}"), _trials_sheet_frame(study.top(top_n)), _TRIAL_KINDS)

    hm = wb.create_sheet("Heatmap")
    pivot = heatmap_pivot(study, *(heatmap or (None, None)), agg=heatmap_agg)
    if pivot is None:
        hm.cell(1, 1, "The study varies fewer than two parameters: no heatmap.")
    else:
        hm.cell(1, 1, safe_text(f"{heatmap_agg} {metric} by {pivot.index.name} (rows) and {pivot.columns.name} "
                                "(columns)")).font = BOLD  # fmt: skip
        table = pivot.reset_index()
        table.columns = [f"{pivot.index.name} \\ {pivot.columns.name}", *(str(c) for c in pivot.columns)]
        last = write_table(hm, table, {c: "ratio" for c in table.columns[1:]} | {table.columns[0]: "text"},
                           first_row=3, filters=False)  # fmt: skip
        if len(pivot.columns):
            area = f"B4:{get_column_letter(len(pivot.columns) + 1)}{last}"
            hm.conditional_formatting.add(
                area,
                ColorScaleRule(start_type="min", start_color="F8696B", mid_type="percentile", mid_value=50,
                               mid_color="FFEB84", end_type="max", end_color="63BE7B"),
            )  # fmt: skip
        hm.column_dimensions["A"].width = 26

    sens = sensitivity(study)
    write_table(wb.create_sheet("Parameter Sensitivity"), sens,
                {c: "ratio" for c in ("Mean", "Median", "Min", "Max")} | {"Trials": "count"})  # fmt: skip
    walk_forward = study.walk_forward_tables()
    if walk_forward is not None:
        folds, summary = walk_forward
        wf = wb.create_sheet("Walk-Forward")
        next_row = write_pairs(wf, summary, first_row=1) + 1 if summary else 1
        write_table(wf, folds, first_row=next_row)
    wb.properties.creator = "Volatility Balancing Lab"
    return wb
