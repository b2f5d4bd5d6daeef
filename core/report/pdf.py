"""PDF reports (reportlab): a run report and a study report, on A4 or Letter, with page numbers.

Run report: title block (dataset and hash, period, configuration), the KPI table against buy-and-hold and the
static mix, the main charts (equity vs benchmarks, drawdown, stock share in the guardrail band; vector drawings),
a trades summary, the tear sheet (:mod:`core.report.pdf_tear_sheet`: monthly and yearly returns, worst drawdowns,
rolling risk, figures against the benchmarks, return and P&L distributions, dividends), the configuration with
units, the metric and statistic definitions, and the assumptions and limitations. Study report: summary, top-N
table, heatmap, parameter sensitivity, robustness findings and walk-forward results when present, formatted like
the run report (:mod:`core.report.formats`: registry labels, ``154.48 %``).

Text is set in embedded TrueType fonts with per-character fallback (:mod:`core.report.pdf_fonts`), so any name
prints: Latin, Greek, Cyrillic, Arabic, CJK and emoji.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal

import pandas as pd
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, PageBreak, SimpleDocTemplate, Spacer, Table, TableStyle

from core.analysis.overlays import trend_line
from core.config_registry import config_field
from core.figures import STYLES
from core.metric_registry import SHOWN_REPORT, shown_in
from core.metric_table import COLUMN_TITLES, RETURN_AND_RISK, format_metric, metric_info
from core.report.context import RunReport, StudyReport
from core.report.definitions import METRIC_DEFINITIONS, config_definitions
from core.report.formats import (
    cell_text,
    format_value,
    metric_label,
    search_space_text,
    setting_label,
    setting_text,
)
from core.report.pdf_charts import MAX_LABELLED_CELLS, heatmap_drawing, line_chart
from core.report.pdf_fonts import BOLD, REGULAR, fit_text, text_runs
from core.report.pdf_layout import H2, SMALL, TITLE, grid, pairs_table, para, para_text
from core.report.pdf_tear_sheet import assumptions_section, statistic_definitions_grid, tear_sheet_story
from core.report.run_tables import config_rows, daily_table
from core.report.study_tables import SENSITIVITY_STATS, heatmap_pivot, robustness, sensitivity, trial_columns
from core.report.tear_sheet import tear_sheet
from core.result_columns import result_column
from core.theme import COLORS

PageSize = Literal["a4", "letter"]
PAGE_SIZES: dict[str, tuple[float, float]] = {"a4": A4, "letter": LETTER}
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 15 * mm, 14 * mm, 16 * mm
FOOTER_SIZE = 7
FOOTER_GAP = 6 * mm  # between the footer text and the page number
HEADING_ROOM = 72  # points kept free above a page-high drawing for its heading and caption


KPI_METRICS: tuple[str, ...] = RETURN_AND_RISK
STRATEGY_KPIS: tuple[str, ...] = shown_in(SHOWN_REPORT)

def draw_runs(canvas: Canvas, x: float, y: float, text: str, size: float, primary: str = REGULAR) -> None:
    """Draw ``text`` on ``canvas`` from ``x``, each run in the font that has its characters."""
    for name, chunk in text_runs(text, primary):
        canvas.setFont(name, size)
        canvas.drawString(x, y, chunk)
        x += canvas.stringWidth(chunk, name, size)


class _NumberedCanvas(Canvas):
    """Canvas that writes "Page n of N" and the report's footer once the page count is known. The footer is cut
    with an ellipsis at its measured width, so a long name never runs into the page number."""

    footer = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # the document template passes None, and every page would start in Helvetica, which is not embedded
        kwargs["initialFontName"] = kwargs.get("initialFontName") or REGULAR
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # reportlab's camelCase API
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            width, _ = self._pagesize
            self.setFillColor(colors.HexColor(COLORS.footer))
            page = f"Page {self._pageNumber} of {total}"
            self.setFont(REGULAR, FOOTER_SIZE)
            self.drawRightString(width - MARGIN_X, 10 * mm, page)
            room = width - 2 * MARGIN_X - self.stringWidth(page, REGULAR, FOOTER_SIZE) - FOOTER_GAP
            draw_runs(self, MARGIN_X, 10 * mm, fit_text(self.footer, room, FOOTER_SIZE), FOOTER_SIZE)
            super().showPage()
        super().save()


Target = str | Path | BinaryIO | None


def build_pdf(story: list[Any], target: Target, page_size: str, title: str, footer: str) -> bytes | None:
    """Lay ``story`` out on ``page_size`` pages with the report's fonts, title and footer (page numbers); the bytes,
    or None when written to ``target``. Shared by the run, study and portfolio PDFs."""
    if page_size not in PAGE_SIZES:
        raise ValueError(f"page size must be one of {', '.join(PAGE_SIZES)}, got {page_size!r}")
    buffer = io.BytesIO() if target is None else None
    out = buffer if buffer is not None else (str(target) if isinstance(target, Path) else target)
    doc = SimpleDocTemplate(
        out, pagesize=PAGE_SIZES[page_size], leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM, title=title, author="Volatility Balancing Lab",
    )  # fmt: skip
    canvas_class = type("Canvas", (_NumberedCanvas,), {"footer": footer})
    doc.build(story, canvasmaker=canvas_class)
    return buffer.getvalue() if buffer is not None else None


# --- run report -------------------------------------------------------------------------------------------------


def kpi_rows(table: pd.DataFrame, titles: Mapping[str, str] = COLUMN_TITLES) -> list[list[str]]:
    """The headline metrics (``KPI_METRICS``) of a metrics table (one column per series: the strategy or portfolio
    and its benchmarks, headed by ``titles``), labelled and formatted from the metric registry."""
    rows = [["Metric", *(titles[c] for c in table.columns)]]
    for name in KPI_METRICS:
        rows.append([metric_info(name).label, *(format_metric(name, table.at[name, c]) for c in table.columns)])
    return rows


def figure_rows(metrics: Mapping[str, float], heading: str) -> list[list[Any]]:
    """The ``STRATEGY_KPIS`` figures with what each counts: "Trades" leaves out the initial purchase, whose
    commission the commission figure includes (a run with no trade still paid for its initial order)."""
    rows: list[list[Any]] = [[heading, "Value", "What it counts"]]
    for name in STRATEGY_KPIS:
        info = metric_info(name)
        rows.append([info.label, format_metric(name, metrics.get(name)),
                     para(para_text(info.definition), SMALL)])  # fmt: skip
    return rows


def _charts(report: RunReport, width: float) -> list[Any]:
    daily = daily_table(report).set_index("Date")
    if daily.empty:
        return [para("No bars in the selected date range.")]
    names = [STYLES[k].name for k in ("strategy", "buy_and_hold", "static_mix") if STYLES[k].name in daily]
    styles = {
        STYLES[k].name: (STYLES[k].color, 1.6 if k == "strategy" else 0.9, STYLES[k].dash != "solid") for k in STYLES
    }
    money = lambda v: f"{v:,.0f}"  # noqa: E731
    pct = lambda v: f"{v:.0%}"  # noqa: E731
    equity_lines = {n: daily[n] for n in names}
    strategy = daily[STYLES["strategy"].name]
    if (strategy > 0).sum() >= 2:  # the export overlay of the images (core.figures.EXPORT_OVERLAYS), drawn alike
        trend = trend_line(strategy)
        equity_lines[trend.label] = trend.fitted
        styles[trend.label] = (COLORS.trigger, 0.9, True)
    equity = line_chart(
        equity_lines, styles, title="Account value: strategy vs benchmarks", y_format=money, width=width
    )
    drawdown = line_chart(
        {n: daily[f"{n} drawdown"] for n in names},
        styles,
        title="Drawdown from the running peak",
        y_format=pct,
        width=width,
        height=150,
    )
    cfg = report.result.config
    share = line_chart(
        {"Stock share": daily["Stock share"]},
        {"Stock share": (STYLES["strategy"].color, 1.0, False)},
        title="Stock share and the guardrail band",
        y_format=pct,
        width=width,
        height=150,
        band=(cfg.guardrail_min, cfg.guardrail_max),
        y_range=(0.0, 1.0),
    )
    return [equity, Spacer(1, 4), drawdown, Spacer(1, 4), share]


def order_count_text(trades: pd.DataFrame) -> str:
    """How the orders listed relate to the Trades figure: the initial purchase is an order but not a trade
    (the ``n_trades`` metric's rule, docs/strategy.md §7)."""
    initial = int((trades["kind"] == "initial").sum()) if "kind" in trades else 0
    counted = len(trades) - initial
    orders = "order" if len(trades) == 1 else "orders"
    text = f"{len(trades):,} {orders}: {counted:,} {'trade' if counted == 1 else 'trades'}"
    if initial:
        text += " and the initial purchase, which is an order but not a trade (its commission is paid all the same)"
    return text + "."


def _trades_summary(report: RunReport) -> list[Any]:
    trades = report.clip(report.result.trades, "timestamp")
    if trades.empty:
        return [para("No trades in the period shown.")]
    grouped = trades.groupby(["kind", "side"], sort=True).agg(
        orders=("qty", "size"), shares=("qty", "sum"), notional=("notional", "sum"), commission=("commission", "sum")
    )
    rows = [["Kind", "Side", "Orders", "Shares", "Notional", "Commission"]]
    for (kind, side), r in grouped.iterrows():
        rows.append([kind, side, f"{r.orders:,.0f}", f"{r.shares:,.2f}", f"{r.notional:,.2f}", f"{r.commission:,.2f}"])
    rows.append(
        ["All orders", "", f"{len(trades):,}", "", f"{trades['notional'].sum():,.2f}",
         f"{trades['commission'].sum():,.2f}"]
    )  # fmt: skip
    out: list[Any] = [para(para_text(order_count_text(trades)), SMALL), Spacer(1, 3), grid(rows), Spacer(1, 6)]
    last = trades.tail(15)
    shown = ("timestamp", "kind", "side", "qty", "price", "notional", "stock_share_after")
    recent = [[result_column("trades", c).label for c in shown]]
    for _, t in last.iterrows():
        recent.append(
            [
                f"{pd.Timestamp(t.timestamp):%Y-%m-%d %H:%M}".removesuffix(" 00:00"),
                t.kind,
                t.side,
                f"{t.qty:,.2f}",
                f"{t.price:,.2f}",
                f"{t.notional:,.2f}",
                f"{t.stock_share_after:.1%}",
            ]
        )
    out += [para(f"Last {len(last)} of {len(trades):,} {'order' if len(trades) == 1 else 'orders'}:", SMALL),
            grid(recent)]  # fmt: skip
    return out


def _definitions() -> Table:
    rows = [["Metric", "Definition"]]
    rows += [[metric_info(k).label, para(para_text(v), SMALL)] for k, v in METRIC_DEFINITIONS.items()]
    table = grid(rows, widths=(45 * mm, 130 * mm))
    table.setStyle(TableStyle([("ALIGN", (1, 1), (-1, -1), "LEFT")]))
    return table


def _configuration(report: RunReport) -> Table:
    # Every field with its value in its unit, the unit in words and the default (core.config_registry).
    registry = config_definitions().set_index("Field")
    rows = [["Setting", "Value", "Unit", "Default"]]
    rows += [[r.label, r.text, registry.at[r.name, "Unit"], setting_text(r.name, config_field(r.name).default)]
             for r in config_rows(report)]  # fmt: skip
    return grid(rows, widths=(60 * mm, 35 * mm, 35 * mm, 30 * mm))


def run_pdf(report: RunReport, target: Target = None, *, page_size: PageSize = "a4") -> bytes | None:
    """Write the run report to ``target`` (path or binary stream); with no target return the PDF bytes."""
    width = PAGE_SIZES[page_size][0] - 30 * mm if page_size in PAGE_SIZES else 0
    first, last = report.period
    ds = report.dataset
    cfg = report.result.config
    story: list[Any] = [
        para(para_text(report.title, BOLD), TITLE),
        para(
            f"Generated {datetime.now():%Y-%m-%d %H:%M} by Volatility Balancing Lab, engine "
            f"{para_text(report.result.engine_version)}",
            SMALL,
        ),
        para("Hypothetical results from a simulation on historical prices: see Assumptions and limitations, the "
             "last page.", SMALL),
        Spacer(1, 6),
    ]
    period = f"{first:%Y-%m-%d} to {last:%Y-%m-%d} ({len(report.clip(report.result.timeline)):,} bars, {ds.interval})"
    settings = (
        f"trigger up {cfg.trigger_up:.2%}, down {cfg.trigger_down:.2%}; sizing {cfg.sizing} "
        f"(r = {cfg.rebalance_ratio:g}); guardrails {cfg.guardrail_min:.0%} to {cfg.guardrail_max:.0%}; "
        f"initial {cfg.initial_capital:,.0f} with {cfg.initial_stock_share:.0%} in stock; commission "
        f"{cfg.commission_rate:.3%}"
    )
    pairs = [
        ("Dataset", f"{ds.name} ({ds.symbol}, {ds.source}, {ds.price_basis})"),
        ("SHA-256", ds.sha256),
        ("Period", period),
        ("Configuration", settings),
    ]
    if report.start or report.end:
        pairs.append(("Date range", "charts and tables of dated rows limited to the period; metrics and statistics "
                                    "cover the whole run"))
    if report.notes:
        pairs.append(("Notes", report.notes))
    story += [pairs_table(pairs, (28 * mm, width - 28 * mm)), Spacer(1, 6)]
    kpis = grid(kpi_rows(report.table), widths=(55 * mm, 30 * mm, 30 * mm, 30 * mm))
    strategy = grid(figure_rows(report.result.metrics, "Strategy figure"), widths=(55 * mm, 30 * mm, width - 85 * mm))
    strategy.setStyle(TableStyle([("ALIGN", (2, 1), (2, -1), "LEFT")]))
    story += [para("Key figures against the benchmarks", H2), kpis, Spacer(1, 6), strategy]
    story += [PageBreak(), para("Charts", H2), *_charts(report, width)]
    story += [para("Trades", H2), *_trades_summary(report)]
    story += [PageBreak(), *tear_sheet_story(report, tear_sheet(report), width)]
    story += [KeepTogether([para("Configuration", H2), _configuration(report)])]
    story += [PageBreak(), para("Metric definitions", H2), _definitions()]
    story += [para("Tear-sheet statistics", H2), statistic_definitions_grid((45 * mm, 130 * mm))]
    story += [PageBreak(), *assumptions_section(report, width)]
    footer = f"{report.title} - {ds.symbol} {first:%Y-%m-%d} to {last:%Y-%m-%d}"
    return build_pdf(story, target, page_size, report.title, footer)


# --- study report -----------------------------------------------------------------------------------------------

STUDY_METRICS: tuple[str, ...] = ("total_return", "cagr", "max_drawdown", "n_trades")  # beside the objective
# Walk-forward fold columns in the objective's unit, and the others' registry formats.
WALK_FORWARD_OBJECTIVE: tuple[str, ...] = ("in_sample", "out_of_sample", "oos_best", "gap")
WALK_FORWARD_FORMATS: dict[str, str] = {"oos_percentile": "pct", "rank_correlation": "ratio"}


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "" if not math.isfinite(value) else f"{value:.4g}"
    return str(value)


def _trials_rows(frame: pd.DataFrame, keys: Sequence[str]) -> list[list[str]]:
    """Trials as table rows: registry labels as headers, settings and metrics in their units."""
    columns = [c for c in trial_columns(frame) if c.key in keys]
    columns.sort(key=lambda c: list(keys).index(c.key))
    rows = [[c.header for c in columns]]
    for _, trial in frame.iterrows():
        row = []
        for c in columns:
            value = trial[c.key]
            if c.role == "param":
                row.append(setting_text(c.key, value))
            elif c.role == "metric":
                row.append(format_metric(c.key, value))
            else:
                row.append(f"{value:,.0f}" if c.key == "index" else _fmt(value))
        rows.append(row)
    return rows


def _walk_forward_rows(folds: pd.DataFrame, metric: str) -> list[list[str]]:
    rows = [[str(c) for c in folds.columns]]
    for _, fold in folds.iterrows():
        row = []
        for column in folds.columns:
            value = fold[column]
            if column in WALK_FORWARD_OBJECTIVE:
                row.append(format_metric(metric, value))
            elif column in WALK_FORWARD_FORMATS:
                row.append(format_value(WALK_FORWARD_FORMATS[column], value))
            else:
                row.append(_fmt(value))
        rows.append(row)
    return rows


def _heatmap_section(
    study: StudyReport, heatmap: tuple[str, str] | None, width: float, frame_height: float
) -> list[Any]:
    """The heading, a caption saying how to read it, and the heatmap drawing scaled to the page."""
    metric = study.objective_metric
    pivot = heatmap_pivot(study, *(heatmap or (None, None)))
    if pivot is None:
        return []
    x_name, y_name = str(pivot.columns.name), str(pivot.index.name)
    label = metric_label(metric)
    rows, cols = pivot.shape
    values = "printed in the cells" if rows <= MAX_LABELLED_CELLS and cols <= MAX_LABELLED_CELLS else (
        f"not printed (the grid is larger than {MAX_LABELLED_CELLS} × {MAX_LABELLED_CELLS}; the All Trials sheet of "
        "the workbook has every value)"
    )  # fmt: skip
    caption = (
        f"{rows} × {cols} cells. The first {setting_label(y_name)} value is at the bottom, as on a chart axis; "
        f"green is better, red worse (colour bar on the right); values {values}."
    )
    drawing = heatmap_drawing(
        pivot,
        title=f"{label} (mean over the other parameters)",
        x_label=setting_label(x_name),
        y_label=setting_label(y_name),
        width=width,
        max_height=frame_height - HEADING_ROOM,  # a 100 × 100 grid is scaled to the page, never a LayoutError
        value_text=lambda v: cell_text(metric, v),
        tick_text=(lambda v: setting_text(x_name, v), lambda v: setting_text(y_name, v)),
        reverse=not study.maximise,
    )
    heading = para(para_text(f"Heatmap: mean {label} by {setting_label(x_name)} and {setting_label(y_name)}"), H2)
    return [KeepTogether([heading, para(para_text(caption), SMALL), Spacer(1, 3), drawing])]


def study_pdf(
    study: StudyReport,
    target: Target = None,
    *,
    page_size: PageSize = "a4",
    top_n: int = 20,
    heatmap: tuple[str, str] | None = None,
) -> bytes | None:
    """Write the study report to ``target``; with no target return the PDF bytes."""
    page_w, page_h = PAGE_SIZES.get(page_size, A4)
    width = page_w - 2 * MARGIN_X
    frame_height = page_h - MARGIN_TOP - MARGIN_BOTTOM
    metric = study.objective_metric
    label = metric_label(metric)
    title = f"Study {study.study_id}: {study.name}" if study.study_id is not None else study.name
    story: list[Any] = [
        para(para_text(title, BOLD), TITLE),
        para(f"Generated {datetime.now():%Y-%m-%d %H:%M} by Volatility Balancing Lab", SMALL),
        Spacer(1, 6),
    ]
    goal = "maximise" if study.maximise else "minimise"
    pairs: list[tuple[str, Any]] = [
        ("Method", study.method), ("Objective", f"{goal} {label}"), ("Status", study.status),
        ("Trials", f"{len(study.trials):,}"),
    ]  # fmt: skip
    if study.dataset is not None:
        pairs += [("Dataset", f"{study.dataset.name} ({study.dataset.symbol})"), ("SHA-256", study.dataset.sha256)]
    space = "<br/>".join(para_text(search_space_text(k, v)) for k, v in study.search_space.items())
    pairs.append(("Search space", para(space or "none", SMALL)))
    story += [pairs_table(pairs, (28 * mm, width - 28 * mm))]

    shown = [m for m in dict.fromkeys((metric, *STUDY_METRICS)) if m in study.trials]
    top = study.top(top_n)
    story += [
        para(para_text(f"Top {len(top)} trials by {label}"), H2),
        grid(_trials_rows(top, ["index", *study.param_columns, *shown])),
    ]
    story += _heatmap_section(study, heatmap, width, frame_height)
    sens = sensitivity(study)
    if len(sens):
        rows = [["Parameter", "Value", "Trials", *(f"{c} {label}" for c in SENSITIVITY_STATS)]]
        for _, r in sens.iterrows():
            rows.append([r["Parameter"], r["Value"], f"{r['Trials']:,.0f}",
                         *(format_metric(metric, r[c]) for c in SENSITIVITY_STATS)])  # fmt: skip
        story += [para("Parameter sensitivity", H2), grid(rows)]
    findings = [[f.label, format_value(f.fmt, f.value)] for f in robustness(study)]
    story += [para("Robustness", H2), grid([["Finding", "Value"], *findings])]
    walk_forward = study.walk_forward_tables()
    if walk_forward is not None:
        folds, summary = walk_forward
        story += [para("Walk-forward results", H2)]
        if summary:
            story += [grid([["Summary", "Value"], *[[k, _fmt(v)] for k, v in summary]]), Spacer(1, 6)]
        story += [grid(_walk_forward_rows(folds, metric))]
    return build_pdf(story, target, page_size, title, title)
