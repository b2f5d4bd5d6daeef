"""One entry point per export for the app's download buttons and the command line: bytes, a file name and a MIME
type, so ``st.download_button(data=e.data, file_name=e.filename, mime=e.mime)`` needs nothing else."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from core.report.context import RunReport, StudyReport

MIME: dict[str, str] = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "csv": "text/csv",
    "json": "application/json",
    "png": "image/png",
    "svg": "image/svg+xml",
}
RUN_FORMATS: tuple[str, ...] = ("xlsx", "pdf", "csv", "json", "png", "svg")
STUDY_FORMATS: tuple[str, ...] = ("xlsx", "pdf", "csv", "png", "svg")


@dataclass(frozen=True)
class Export:
    """A finished export: the file's bytes, a suggested file name and its MIME type."""

    data: bytes
    filename: str
    mime: str


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:60] or "export"


def _run_stem(report: RunReport) -> str:
    ident = f"run{report.run_id}" if report.run_id is not None else "run"
    return _slug(f"{report.dataset.symbol}_{ident}")


def clipped_result(report: RunReport) -> Any:
    """The run's result with its series limited to the report's date range (for charts)."""
    result = report.result
    if report.start is None and report.end is None:
        return result
    return dataclasses.replace(
        result,
        timeline=report.clip(result.timeline),
        equity=report.clip(result.equity),
        benchmarks=report.clip(result.benchmarks),
        trades=report.clip(result.trades, "timestamp"),
    )


def run_export(
    report: RunReport,
    fmt: str,
    *,
    template: str = "full_audit",
    rows: str = "all",
    page_size: str = "a4",
    table: str = "trades",
    headers: str = "names",
    chart: str = "equity",
    width: int | None = None,
    height: int | None = None,
    scale: float = 2.0,
) -> Export:
    """Export one run as ``fmt`` (``RUN_FORMATS``). ``template``/``rows`` apply to xlsx, ``page_size`` to pdf,
    ``table`` and ``headers`` (engine ``names`` or registry ``labels``) to csv, ``chart``/``width``/``height``/``scale``
    to png and svg.

    Raises:
        ValueError: for an unknown format, template, table or chart.
        core.report.images.ImageExportError: when a chart cannot be rendered.
    """
    stem = _run_stem(report)
    if fmt == "xlsx":
        from core.report.excel_run import run_workbook, save_workbook

        data = save_workbook(run_workbook(report, template=template, rows=rows))  # type: ignore[arg-type]
        return Export(data or b"", f"{stem}_{template}.xlsx", MIME[fmt])
    if fmt == "pdf":
        from core.report.pdf import run_pdf

        return Export(run_pdf(report, page_size=page_size) or b"", f"{stem}_report.pdf", MIME[fmt])  # type: ignore[arg-type]
    if fmt == "csv":
        from core.report.bundle import run_csv

        return Export(run_csv(report, table, headers).encode("utf-8"), f"{stem}_{table}.csv", MIME[fmt])
    if fmt == "json":
        from core.report.bundle import run_bundle_json

        return Export(run_bundle_json(report).encode("utf-8"), f"{stem}_bundle.json", MIME[fmt])
    if fmt in ("png", "svg"):
        from core.report.images import figure_image

        data = figure_image(run_chart_figure(report, chart), fmt, width=width, height=height, scale=scale)  # type: ignore[arg-type]
        return Export(data, _run_chart_filename(report, chart, fmt), MIME[fmt])
    raise ValueError(f"a run exports as {', '.join(RUN_FORMATS)}, not {fmt!r}")


def run_chart_figure(report: RunReport, chart: str) -> Any:
    """One chart of a run as exported: the report's date range, the export overlays, and a title naming the chart,
    the run, the symbol and the period (``chart`` in ``core.figures.RUN_CHARTS``)."""
    from core.figures import CHART_TITLES, EXPORT_OVERLAYS, run_figure, with_title

    fig = run_figure(clipped_result(report), chart, overlays=EXPORT_OVERLAYS)
    first, last = report.period
    return with_title(fig, f"{CHART_TITLES[chart]} — {report.title}",
                      f"{report.dataset.symbol} · {first:%Y-%m-%d} to {last:%Y-%m-%d}")  # fmt: skip


def _run_chart_filename(report: RunReport, chart: str, fmt: str) -> str:
    return f"{_run_stem(report)}_{chart}.{fmt}"


def run_chart_exports(
    charts: Iterable[tuple[RunReport, str]],
    fmt: str,
    *,
    width: int | None = None,
    height: int | None = None,
    scale: float = 2.0,
) -> list[Export]:
    """Several run charts as images, in order, in one pass through the export process: each ``(report, chart)``
    is drawn as :func:`run_export` draws it, and rendered while the next is built (``charts`` may be a generator
    that loads its reports as it goes). All or nothing.

    Raises:
        ValueError: for an unknown format or chart.
        core.report.images.ImageExportError: when a chart cannot be rendered.
    """
    from core.report.images import figure_images

    names: list[str] = []

    def figures() -> Iterator[Any]:
        for report, chart in charts:
            fig = run_chart_figure(report, chart)
            names.append(_run_chart_filename(report, chart, fmt))
            yield fig

    data = figure_images(figures(), fmt, width=width, height=height, scale=scale)  # type: ignore[arg-type]
    return [Export(image, name, MIME[fmt]) for image, name in zip(data, names, strict=True)]


def runs_export(reports: Sequence[RunReport], *, template: str = "full_audit", rows: str = "all") -> Export:
    """Several runs in one workbook (Summary plus one ``{TICKER}_{RUN_ID}`` sheet per run)."""
    from core.report.excel_run import runs_workbook, save_workbook

    if not reports:
        raise ValueError("no runs to export")
    data = save_workbook(runs_workbook(reports, template=template, rows=rows))  # type: ignore[arg-type]
    return Export(data or b"", f"runs_{'_'.join(_run_stem(r) for r in reports[:5])}.xlsx", MIME["xlsx"])


def study_export(
    study: StudyReport,
    fmt: str,
    *,
    page_size: str = "a4",
    top_n: int = 20,
    heatmap: tuple[str, str] | None = None,
    headers: str = "names",
    width: int | None = None,
    height: int | None = None,
    scale: float = 2.0,
) -> Export:
    """Export a study as ``fmt`` (``STUDY_FORMATS``); png and svg draw its heatmap.

    Raises:
        ValueError: for an unknown format or heatmap parameter, or a heatmap of a study varying < 2 parameters.
    """
    stem = _slug(f"study{study.study_id}" if study.study_id is not None else study.name)
    if fmt == "xlsx":
        from core.report.excel_run import save_workbook
        from core.report.excel_study import study_workbook

        data = save_workbook(study_workbook(study, top_n=top_n, heatmap=heatmap))
        return Export(data or b"", f"{stem}.xlsx", MIME[fmt])
    if fmt == "pdf":
        from core.report.pdf import study_pdf

        data = study_pdf(study, page_size=page_size, top_n=top_n, heatmap=heatmap)  # type: ignore[arg-type]
        return Export(data or b"", f"{stem}_report.pdf", MIME[fmt])
    if fmt == "csv":
        from core.report.bundle import trials_csv

        return Export(trials_csv(study, headers).encode("utf-8"), f"{stem}_trials.csv", MIME[fmt])
    if fmt in ("png", "svg"):
        from core.figures import heatmap_figure
        from core.figures_optimize import annotate_heatmap
        from core.report.formats import metric_label, setting_label, setting_text
        from core.report.images import figure_image
        from core.report.study_tables import heatmap_pivot

        pivot = heatmap_pivot(study, *(heatmap or (None, None)))
        if pivot is None:
            raise ValueError("the study varies fewer than two parameters: there is no heatmap to draw")
        # The same pivot, orientation, labels and cell values as the study PDF's heatmap: ticks in the settings'
        # units ("3 %"), the first y value at the bottom, a colour bar titled with the metric's label.
        x_name, y_name = str(pivot.columns.name), str(pivot.index.name)
        labelled = pivot.copy()
        labelled.columns = [setting_text(x_name, v) for v in pivot.columns]
        labelled.index = [setting_text(y_name, v) for v in pivot.index]
        metric = study.objective_metric
        fig = heatmap_figure(labelled, metric=metric_label(metric), x_label=setting_label(x_name),
                             y_label=setting_label(y_name))  # fmt: skip
        fig = annotate_heatmap(fig, pivot, metric)
        data = figure_image(fig, fmt, width=width, height=height, scale=scale)  # type: ignore[arg-type]
        return Export(data, f"{stem}_heatmap.{fmt}", MIME[fmt])
    raise ValueError(f"a study exports as {', '.join(STUDY_FORMATS)}, not {fmt!r}")
