"""One heatmap in every format: the first y value at the bottom, a colour legend, cell values up to 30 × 30 (the
same text in the PDF and the PNG), and grids of 55 × 55 and 100 × 100 scaled onto a PDF page."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reportlab.graphics.shapes import Group, Rect, String

from core.analysis import heatmap
from core.figures_optimize import MAX_LABELLED_CELLS, heatmap_view, study_heatmap_figure
from core.report import exports
from core.report.context import StudyReport
from core.report.formats import cell_text, setting_text
from core.report.pdf import study_pdf
from core.report.pdf_charts import heatmap_drawing


def _study(n_x: int, n_y: int, objective: str = "sharpe") -> StudyReport:
    ups = np.round(np.linspace(0.01, 0.1, n_x), 5)
    downs = np.round(np.linspace(0.01, 0.08, n_y), 5)
    u, d = (a.ravel() for a in np.meshgrid(ups, downs, indexing="ij"))
    trials = pd.DataFrame({"index": np.arange(len(u)), "status": "completed", "param.trigger_up": u,
                           "param.trigger_down": d, "sharpe": 0.5 + 5 * u - 3 * d, "volatility": 0.2 + d,
                           "total_return": 1.2 + u - d})  # fmt: skip
    return StudyReport(trials, name="grid", study_id=1, method="grid", objective=objective)


def _strings(node) -> list[String]:
    out = []
    for child in getattr(node, "contents", []):
        out += [child] if isinstance(child, String) else _strings(child) if isinstance(child, Group) else []
    return out


def test_pdf_heatmap_puts_the_first_y_value_at_the_bottom_with_a_colour_bar() -> None:
    pivot = pd.DataFrame([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], index=[0.01, 0.02, 0.03], columns=[0.04, 0.05])
    drawing = heatmap_drawing(pivot, title="t", x_label="x", y_label="y", value_text=lambda v: f"v{v:.1f}")
    cells = [r for r in drawing.contents if isinstance(r, Rect)]
    rows = [cells[i * 2].y for i in range(3)]  # drawn row by row, in index order
    assert rows[0] < rows[1] < rows[2]  # 0.01 lowest, like a chart's y axis
    legends = [g for g in drawing.contents if isinstance(g, Group)]
    assert len(legends) == 1
    bar = [r for r in legends[0].contents if isinstance(r, Rect)]
    assert len(bar) >= 10 and bar[0].y < bar[-1].y  # a colour bar from the lowest value up
    labels = {s.text for s in _strings(legends[0])}
    assert {"v0.1", "v0.6"} <= labels  # its ends are labelled with the range
    assert {"v0.1", "v0.2", "v0.6"} <= {s.text for s in drawing.contents if isinstance(s, String)}


def test_cell_values_only_in_grids_up_to_the_limit() -> None:
    def values(n: int) -> set[str]:
        pivot = pd.DataFrame(np.arange(n * n, dtype=float).reshape(n, n))
        drawing = heatmap_drawing(pivot, title="t", x_label="x", y_label="y", width=2000, max_height=5000,
                                  value_text=lambda v: f"c{v:g}")  # fmt: skip
        return {s.text for s in drawing.contents if isinstance(s, String) and s.text.startswith("c")}

    assert values(MAX_LABELLED_CELLS) and not values(MAX_LABELLED_CELLS + 1)


@pytest.mark.parametrize("size", [55, 100])
def test_large_study_heatmaps_fit_a_pdf_page(size: int, tmp_path: Path) -> None:
    pdf = study_pdf(_study(size, size), top_n=5)  # raised reportlab's LayoutError before
    assert pdf is not None and pdf.startswith(b"%PDF")
    path = tmp_path / "big.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    assert f"{size} × {size} cells" in text and "not printed" in text


def test_png_heatmap_reads_like_the_pdf(monkeypatch: pytest.MonkeyPatch) -> None:
    captured = []
    monkeypatch.setattr("core.report.images.figure_image", lambda fig, fmt, **_: captured.append(fig) or b"png")
    study = _study(4, 3)
    exports.study_export(study, "png")
    trace = captured[0].data[0]
    pivot = study.trials.pivot_table(index="param.trigger_down", columns="param.trigger_up", values="sharpe")
    assert list(trace.y) == [setting_text("trigger_down", v) for v in pivot.index]  # first value first: at the bottom
    assert captured[0].layout.yaxis.autorange in (None, True)  # not reversed
    assert trace.colorbar.title.text == "Sharpe ratio"
    expected = [[cell_text("sharpe", v) for v in row] for row in pivot.to_numpy()]
    assert [list(r) for r in trace.text] == expected and trace.texttemplate == "%{text}"
    drawing = heatmap_drawing(pivot, title="t", x_label="x", y_label="y", value_text=lambda v: cell_text("sharpe", v))
    assert {t for row in expected for t in row} <= {s.text for s in drawing.contents if isinstance(s, String)}


def test_png_heatmap_of_a_large_grid_has_no_cell_values_and_green_means_better(monkeypatch) -> None:
    captured = []
    monkeypatch.setattr("core.report.images.figure_image", lambda fig, fmt, **_: captured.append(fig) or b"png")
    exports.study_export(_study(MAX_LABELLED_CELLS + 1, 3, objective="volatility"), "png")
    trace = captured[0].data[0]
    assert trace.text is None and trace.reversescale is True  # lower volatility is better: green


def test_app_heatmap_prints_cell_values_in_small_grids() -> None:
    names = {"param.trigger_up": "trigger_up", "param.trigger_down": "trigger_down"}
    trials = _study(3, 2).trials.rename(columns=names)
    view = heatmap_view(trials, "trigger_up", "trigger_down", "sharpe", "max", ["trigger_up", "trigger_down"])
    trace = study_heatmap_figure(view).data[0]
    grid = heatmap(trials, "trigger_up", "trigger_down", "sharpe", "max")
    assert [list(r) for r in trace.text] == [[cell_text("sharpe", v) for v in row] for row in grid.to_numpy()]


def test_a_continuous_random_search_is_binned_not_pivoted_on_every_value() -> None:
    from core.report.study_tables import MAX_LEVELS, heatmap_pivot, levels, sensitivity

    rng = np.random.default_rng(3)
    n = 5_000
    u, d = rng.uniform(0.01, 0.1, n), rng.uniform(0.01, 0.08, n)
    trials = pd.DataFrame({"index": np.arange(n), "status": "completed", "param.trigger_up": u,
                           "param.trigger_down": d, "sharpe": 5 * u - 3 * d})
    study = StudyReport(trials, name="random", study_id=2, method="random", objective="sharpe")
    pivot = heatmap_pivot(study)
    assert pivot.shape[0] <= MAX_LEVELS and pivot.shape[1] <= MAX_LEVELS
    binned = levels(pd.Series(u))
    width = (u.max() - u.min()) / MAX_LEVELS
    assert binned.nunique() <= MAX_LEVELS and np.all(np.abs(binned - u) <= width / 2 + 1e-12)
    assert len(sensitivity(study)) <= 2 * MAX_LEVELS
    grid = pd.Series(np.repeat([0.01, 0.02, 0.03], 4))
    assert levels(grid).equals(grid)  # a grid's own values are kept
