"""PDF reports (reportlab): a run report and a study report, on A4 or Letter, with page numbers.

Run report: title block (dataset and hash, period, configuration), the KPI table against buy-and-hold and the
static mix, the main charts (equity vs benchmarks, drawdown, stock share in the guardrail band; vector drawings),
a trades summary, and the metric definitions. Study report: summary, top-N table, heatmap, parameter
sensitivity, robustness findings and walk-forward results when present.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal
from xml.sax.saxutils import escape

import pandas as pd
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from core.figures import STYLES
from core.metric_registry import SHOWN_REPORT, shown_in
from core.metric_table import COLUMN_TITLES, RETURN_AND_RISK, format_metric, metric_info
from core.report.context import RunReport, StudyReport
from core.report.definitions import METRIC_DEFINITIONS
from core.report.pdf_charts import heatmap_drawing, line_chart
from core.report.run_tables import config_rows, daily_table
from core.report.study_tables import heatmap_pivot, param_label, robustness, sensitivity
from core.theme import COLORS

PageSize = Literal["a4", "letter"]
PAGE_SIZES: dict[str, tuple[float, float]] = {"a4": A4, "letter": LETTER}

KPI_METRICS: tuple[str, ...] = RETURN_AND_RISK
STRATEGY_KPIS: tuple[str, ...] = shown_in(SHOWN_REPORT)

_styles = getSampleStyleSheet()
TITLE = ParagraphStyle("vbl-title", parent=_styles["Title"], fontSize=17, spaceAfter=4, alignment=0)
H2 = ParagraphStyle("vbl-h2", parent=_styles["Heading2"], fontSize=12, spaceBefore=8, spaceAfter=4)
BODY = ParagraphStyle("vbl-body", parent=_styles["BodyText"], fontSize=8.5, leading=11)
SMALL = ParagraphStyle("vbl-small", parent=BODY, fontSize=7.5, leading=9.5)
GRID = TableStyle(
    [
        ("FONT", (0, 0), (-1, -1), "Helvetica", 7.5),
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 7.5),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor(COLORS.table_header)),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor(COLORS.table_stripe)]),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor(COLORS.table_grid)),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
)
PAIRS = TableStyle(
    [
        ("FONT", (0, 0), (-1, -1), "Helvetica", 8),
        ("FONT", (0, 0), (0, -1), "Helvetica-Bold", 8),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 1),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
    ]
)


class _NumberedCanvas(Canvas):
    """Canvas that writes "Page n of N" and the report's footer once the page count is known."""

    footer = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
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
            self.setFont("Helvetica", 7)
            self.setFillColor(colors.HexColor(COLORS.footer))
            self.drawString(15 * mm, 10 * mm, self.footer[:120])
            self.drawRightString(width - 15 * mm, 10 * mm, f"Page {self._pageNumber} of {total}")
            super().showPage()
        super().save()


def _text(value: Any) -> str:
    return escape(str(value))


def _para(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(text, style)


def _pairs_table(pairs: Sequence[tuple[str, Any]], widths: tuple[float, float]) -> Table:
    rows = [[_para(f"<b>{_text(k)}</b>", SMALL), _para(_text(v), SMALL)] for k, v in pairs]
    table = Table(rows, colWidths=widths, hAlign="LEFT")
    table.setStyle(PAIRS)
    return table


def _grid(rows: list[list[Any]], widths: Sequence[float] | None = None, repeat: int = 1) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=repeat, hAlign="LEFT")
    table.setStyle(GRID)
    return table


Target = str | Path | BinaryIO | None


def _build(story: list[Any], target: Target, page_size: str, title: str, footer: str) -> bytes | None:
    if page_size not in PAGE_SIZES:
        raise ValueError(f"page size must be one of {', '.join(PAGE_SIZES)}, got {page_size!r}")
    buffer = io.BytesIO() if target is None else None
    out = buffer if buffer is not None else (str(target) if isinstance(target, Path) else target)
    doc = SimpleDocTemplate(
        out, pagesize=PAGE_SIZES[page_size], leftMargin=15 * mm, rightMargin=15 * mm, topMargin=14 * mm,
        bottomMargin=16 * mm, title=title, author="Volatility Balancing Lab",
    )  # fmt: skip
    canvas_class = type("Canvas", (_NumberedCanvas,), {"footer": footer})
    doc.build(story, canvasmaker=canvas_class)
    return buffer.getvalue() if buffer is not None else None


# --- run report -------------------------------------------------------------------------------------------------


def _kpi_rows(report: RunReport) -> list[list[str]]:
    table = report.table
    head = ["Metric", *(COLUMN_TITLES[c] for c in table.columns)]
    rows = [head]
    for name in KPI_METRICS:
        rows.append([metric_info(name).label, *(format_metric(name, table.at[name, c]) for c in table.columns)])
    return rows


def _strategy_rows(report: RunReport) -> list[list[str]]:
    rows = [["Strategy figure", "Value"]]
    for name in STRATEGY_KPIS:
        rows.append([metric_info(name).label, format_metric(name, report.result.metrics.get(name))])
    return rows


def _charts(report: RunReport, width: float) -> list[Any]:
    daily = daily_table(report).set_index("Date")
    if daily.empty:
        return [_para("No bars in the selected date range.")]
    names = [STYLES[k].name for k in ("strategy", "buy_and_hold", "static_mix") if STYLES[k].name in daily]
    styles = {
        STYLES[k].name: (STYLES[k].color, 1.6 if k == "strategy" else 0.9, STYLES[k].dash != "solid") for k in STYLES
    }
    money = lambda v: f"{v:,.0f}"  # noqa: E731
    pct = lambda v: f"{v:.0%}"  # noqa: E731
    equity = line_chart(
        {n: daily[n] for n in names}, styles, title="Account value: strategy vs benchmarks", y_format=money, width=width
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


def _trades_summary(report: RunReport) -> list[Any]:
    trades = report.clip(report.result.trades, "timestamp")
    if trades.empty:
        return [_para("No trades in the period shown.")]
    grouped = trades.groupby(["kind", "side"], sort=True).agg(
        orders=("qty", "size"), shares=("qty", "sum"), notional=("notional", "sum"), commission=("commission", "sum")
    )
    rows = [["Kind", "Side", "Orders", "Shares", "Notional", "Commission"]]
    for (kind, side), r in grouped.iterrows():
        rows.append([kind, side, f"{r.orders:,.0f}", f"{r.shares:,.2f}", f"{r.notional:,.2f}", f"{r.commission:,.2f}"])
    rows.append(
        ["All", "", f"{len(trades):,}", "", f"{trades['notional'].sum():,.2f}", f"{trades['commission'].sum():,.2f}"]
    )
    out: list[Any] = [_grid(rows), Spacer(1, 6)]
    last = trades.tail(15)
    recent = [["Date", "Kind", "Side", "Qty", "Price", "Notional", "Stock share after"]]
    for _, t in last.iterrows():
        recent.append(
            [
                f"{pd.Timestamp(t.timestamp):%Y-%m-%d %H:%M}".removesuffix(" 00:00"),
                t.kind,
                t.side,
                f"{t.qty:,.2f}",
                f"{t.price:,.2f}",
                f"{t.notional:,.2f}",
                f"{t.asset_pct_after:.1%}",
            ]
        )
    out += [_para(f"Last {len(last)} of {len(trades):,} trades:", SMALL), _grid(recent)]
    return out


def _definitions() -> Table:
    rows = [["Metric", "Definition"]]
    rows += [[metric_info(k).label, _para(_text(v), SMALL)] for k, v in METRIC_DEFINITIONS.items()]
    table = _grid(rows, widths=(45 * mm, 130 * mm))
    table.setStyle(TableStyle([("ALIGN", (1, 1), (-1, -1), "LEFT")]))
    return table


def run_pdf(report: RunReport, target: Target = None, *, page_size: PageSize = "a4") -> bytes | None:
    """Write the run report to ``target`` (path or binary stream); with no target return the PDF bytes."""
    width = PAGE_SIZES[page_size][0] - 30 * mm if page_size in PAGE_SIZES else 0
    first, last = report.period
    ds = report.dataset
    cfg = report.result.config
    story: list[Any] = [
        _para(_text(report.title), TITLE),
        _para(
            f"Generated {datetime.now():%Y-%m-%d %H:%M} by Volatility Balancing Lab, engine "
            f"{_text(report.result.engine_version)}",
            SMALL,
        ),
        Spacer(1, 6),
    ]
    period = f"{first:%Y-%m-%d} to {last:%Y-%m-%d} ({len(report.clip(report.result.timeline)):,} bars, {ds.interval})"
    settings = (
        f"trigger up {cfg.trigger_up:.2%}, down {cfg.trigger_down:.2%}; sizing {cfg.sizing} "
        f"(r = {cfg.rebalance_ratio:g}); guardrails {cfg.guardrail_min:.0%} to {cfg.guardrail_max:.0%}; "
        f"initial {cfg.initial_capital:,.0f} with {cfg.initial_stock_pct:.0%} in stock; commission "
        f"{cfg.commission_rate:.3%}"
    )
    pairs = [
        ("Dataset", f"{ds.name} ({ds.symbol}, {ds.source}, {ds.price_basis})"),
        ("SHA-256", ds.sha256),
        ("Period", period),
        ("Configuration", settings),
    ]
    if report.start or report.end:
        pairs.append(("Date range", "charts and trades limited to the period; metrics cover the whole run"))
    if report.notes:
        pairs.append(("Notes", report.notes))
    story += [_pairs_table(pairs, (28 * mm, width - 28 * mm)), Spacer(1, 6)]
    kpis = _grid(_kpi_rows(report), widths=(55 * mm, 30 * mm, 30 * mm, 30 * mm))
    strategy = _grid(_strategy_rows(report), widths=(55 * mm, 30 * mm))
    story += [_para("Key figures against the benchmarks", H2), kpis, Spacer(1, 6), strategy]
    story += [PageBreak(), _para("Charts", H2), *_charts(report, width)]
    story += [_para("Trades", H2), *_trades_summary(report)]
    config_table = _grid(
        [["Setting", "Value"], *[[row.label, row.text] for row in config_rows(report)]], widths=(55 * mm, 40 * mm)
    )
    story += [KeepTogether([_para("Configuration", H2), config_table])]
    story += [PageBreak(), _para("Metric definitions", H2), _definitions()]
    footer = f"{report.title} - {ds.symbol} {first:%Y-%m-%d} to {last:%Y-%m-%d}"
    return _build(story, target, page_size, report.title, footer)


# --- study report -----------------------------------------------------------------------------------------------


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "" if not math.isfinite(value) else f"{value:.4g}"
    return str(value)


def _frame_rows(frame: pd.DataFrame, columns: Sequence[str], titles: Sequence[str] | None = None) -> list[list[str]]:
    rows = [list(titles or columns)]
    for _, r in frame.iterrows():
        rows.append([_fmt(r[c]) for c in columns])
    return rows


def study_pdf(
    study: StudyReport,
    target: Target = None,
    *,
    page_size: PageSize = "a4",
    top_n: int = 20,
    heatmap: tuple[str, str] | None = None,
) -> bytes | None:
    """Write the study report to ``target``; with no target return the PDF bytes."""
    width = PAGE_SIZES[page_size][0] - 30 * mm if page_size in PAGE_SIZES else 0
    metric = study.objective_metric
    title = f"Study {study.study_id}: {study.name}" if study.study_id is not None else study.name
    story: list[Any] = [
        _para(_text(title), TITLE),
        _para(f"Generated {datetime.now():%Y-%m-%d %H:%M} by Volatility Balancing Lab", SMALL),
        Spacer(1, 6),
    ]
    goal = "maximise" if study.maximise else "minimise"
    pairs: list[tuple[str, Any]] = [
        ("Method", study.method), ("Objective", f"{goal} {metric}"), ("Status", study.status),
        ("Trials", f"{len(study.trials):,}"),
    ]  # fmt: skip
    if study.dataset is not None:
        pairs += [("Dataset", f"{study.dataset.name} ({study.dataset.symbol})"), ("SHA-256", study.dataset.sha256)]
    pairs.append(("Search space", ", ".join(f"{k}: {v}" for k, v in study.search_space.items())))
    story += [_pairs_table(pairs, (28 * mm, width - 28 * mm))]

    params = study.param_columns
    shown_metrics = [m for m in (metric, "total_return", "cagr", "max_drawdown", "n_trades") if m in study.trials]
    shown_metrics = list(dict.fromkeys(shown_metrics))
    top = study.top(top_n)
    columns = ["index", *params, *shown_metrics]
    story += [
        _para(f"Top {len(top)} trials by {metric}", H2),
        _grid(_frame_rows(top, columns, ["Trial", *(param_label(p) for p in params), *shown_metrics])),
    ]

    pivot = heatmap_pivot(study, *(heatmap or (None, None)))
    if pivot is not None:
        story += [
            _para(f"Heatmap: mean {metric} by {pivot.columns.name} and {pivot.index.name}", H2),
            heatmap_drawing(
                pivot,
                title=f"{metric} (mean over the other parameters)",
                x_label=str(pivot.columns.name),
                y_label=str(pivot.index.name),
                width=width,
            ),
        ]
    sens = sensitivity(study)
    if len(sens):
        story += [_para("Parameter sensitivity", H2), _grid(_frame_rows(sens, list(sens.columns)))]
    story += [_para("Robustness", H2), _grid([["Finding", "Value"], *[list(r) for r in robustness(study)]])]
    walk_forward = study.walk_forward_tables()
    if walk_forward is not None:
        folds, summary = walk_forward
        story += [_para("Walk-forward results", H2)]
        if summary:
            story += [_grid([["Summary", "Value"], *[[k, _fmt(v)] for k, v in summary]]), Spacer(1, 6)]
        story += [_grid(_frame_rows(folds, list(folds.columns), [str(c) for c in folds.columns]))]
    return _build(story, target, page_size, title, title)
