"""What a delivery sends: a stored run (optionally re-run on the newest data of its stock), a study, a stored
portfolio (likewise, on the newest data of each cell's stock), a held position or the watch list of every held
position (docs/strategy.md §11), in one of its export formats, with the summary that goes into the message.

The files are the exports of :mod:`core.report.exports`, :mod:`core.report.portfolio_exports` and
:mod:`core.position_history`, built from the store by the same use cases as the app's downloads, so an attached
report equals the one downloaded by hand.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core import simulate
from core.alerts import ACTION_DUE, AlertSettings, alerts_frame
from core.json_values import records
from core.position_history import history_csv, history_excel
from core.report.context import DatasetMeta, RunReport
from core.report.email_summary import ReportSummary, kpi_pairs
from core.report.exports import MIME, RUN_FORMATS, STUDY_FORMATS, Export, run_export, study_export
from core.report.portfolio_exports import portfolio_export
from core.report.safe_cells import safe_frame
from storage import Store
from usecases.alerts import newest_dataset, record_changes, watch_list
from usecases.ledger import ledger
from usecases.portfolio_reports import PORTFOLIO_FORMATS, portfolio_report_record
from usecases.reports import run_report_from_store, study_report_from_store

RUN = "run"
STUDY = "study"
POSITION = "position"
ALERTS = "alerts"  # the watch list of every active position; its id is 0 (there is one list)
PORTFOLIO = "portfolio"
POSITION_FORMATS: tuple[str, ...] = ("xlsx", "csv")
ALERTS_FORMATS: tuple[str, ...] = ("csv", "json")
FORMATS: dict[str, tuple[str, ...]] = {RUN: RUN_FORMATS, STUDY: STUDY_FORMATS, PORTFOLIO: PORTFOLIO_FORMATS,
                                       POSITION: POSITION_FORMATS, ALERTS: ALERTS_FORMATS}
# The options each kind takes (passed to its export), and their types.
OPTIONS: dict[str, dict[str, type]] = {
    RUN: {"template": str, "page_size": str, "table": str, "headers": str, "chart": str, "latest_data": bool},
    STUDY: {"page_size": str, "top_n": int, "headers": str},
    PORTFOLIO: {"latest_data": bool},
    POSITION: {},
    ALERTS: {"near_pct": float, "stale_hours": float},
}


class SubjectError(ValueError):
    """A subject that cannot be sent (unknown kind, format or option)."""


@dataclass(frozen=True)
class ReportSubject:
    """``kind`` (``run``, ``study``, ``position``), the stored ``id``, the ``format`` and export ``options``.

    A run with ``options["latest_data"]`` is re-run with its configuration on the newest stored dataset of the
    same symbol and interval (the one saved last), so a weekly report shows the latest prices once they are
    imported; without it the run is re-run on its own dataset.
    """

    kind: str
    id: int
    format: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in FORMATS:
            raise SubjectError(f"a report is of a {', '.join(FORMATS)}, not {self.kind!r}")
        if self.format not in FORMATS[self.kind]:
            raise SubjectError(f"a {self.kind} report is one of {', '.join(FORMATS[self.kind])}, not {self.format!r}")
        lowest = 0 if self.kind == ALERTS else 1
        if isinstance(self.id, bool) or not isinstance(self.id, int) or self.id < lowest:
            raise SubjectError(f"a {self.kind} id is a whole number from {lowest}, got {self.id!r}")
        allowed = OPTIONS[self.kind]
        for key, value in self.options.items():
            if key not in allowed:
                names = ", ".join(allowed) or "none"
                raise SubjectError(f"a {self.kind} report has no option {key!r} (options: {names})")
            expected = (int, float) if allowed[key] is float else allowed[key]
            if not isinstance(value, expected) or (allowed[key] in (int, float) and isinstance(value, bool)):
                raise SubjectError(f"the option {key!r} must be a {allowed[key].__name__}, got {value!r}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReportSubject:
        """From the stored form ``{"kind", "id", "format", "options"}``."""
        try:
            return cls(str(data["kind"]), data["id"], str(data["format"]), dict(data.get("options") or {}))
        except KeyError as exc:
            raise SubjectError(f"a report subject needs {exc.args[0]!r}") from None

    def to_dict(self) -> dict[str, Any]:
        """The stored form."""
        return {"kind": self.kind, "id": self.id, "format": self.format, "options": dict(self.options)}

    @property
    def label(self) -> str:
        """``"run 7 as pdf"``."""
        return f"{self.kind} {self.id} as {self.format}"


@dataclass(frozen=True)
class BuiltReport:
    """The file and what the message says about it."""

    export: Export
    summary: ReportSummary


def require_subject(store: Store, subject: ReportSubject) -> None:
    """Raise ``NotFound`` (saying which) when the subject's run, study or position does not exist."""
    if subject.kind == RUN:
        store.get_run(subject.id)
    elif subject.kind == STUDY:
        store.get_study(subject.id)
    elif subject.kind == PORTFOLIO:
        store.get_portfolio(subject.id)
    elif subject.kind == POSITION:
        ledger(store).get(subject.id)


def _run_report(store: Store, subject: ReportSubject) -> RunReport:
    if not subject.options.get("latest_data"):
        return run_report_from_store(store, subject.id)
    record = store.get_run(subject.id)
    own = store.get_dataset(record.dataset_id)
    latest = newest_dataset(store, own.symbol, interval=own.interval)
    newest = record.dataset_id if latest is None else latest.id
    if newest == record.dataset_id:
        return run_report_from_store(store, subject.id)
    frames = store.load_dataset(newest)
    info = store.get_dataset(newest)
    result = simulate(frames.prices, record.config, dividends=frames.dividends)
    return RunReport(result=result, dataset=DatasetMeta.from_market_data(info), run_id=record.id,
                     name=f"{record.name} (re-run on {info.name})", notes=record.notes, created_at=record.created_at)


def build_report(store: Store, subject: ReportSubject) -> BuiltReport:
    """Build the subject's file and summary from the store (``NotFound`` when it no longer exists)."""
    options = dict(subject.options)
    if subject.kind == RUN:
        options.pop("latest_data", None)
        report = _run_report(store, subject)
        first, last = report.period
        facts = (("Data", f"{report.dataset.name} ({report.dataset.symbol})"),
                 ("Period", f"{first:%Y-%m-%d} to {last:%Y-%m-%d}"))
        return BuiltReport(run_export(report, subject.format, **options),
                           ReportSummary(report.title, facts, kpi_pairs(report.result.metrics)))
    if subject.kind == STUDY:
        study = study_report_from_store(store, subject.id)
        best = study.top(1)
        facts: tuple[tuple[str, str], ...] = (
            ("Method", study.method), ("Status", study.status), ("Trials", str(len(study.trials))),
            ("Objective", study.objective_metric))
        kpis: tuple[tuple[str, str], ...] = ()
        if len(best):
            row = best.iloc[0]
            params = ", ".join(f"{c.removeprefix('param.')} = {row[c]}" for c in study.varied_params)
            facts += (("Best trial", f"#{int(row['index'])}" + (f" ({params})" if params else "")),)
            kpis = kpi_pairs({k: float(row[k]) for k in study.metric_columns if k in row.index})
        title = f"Study {study.study_id}: {study.name}"
        return BuiltReport(study_export(study, subject.format, **options), ReportSummary(title, facts, kpis))
    if subject.kind == ALERTS:
        return _alerts_report(store, subject)
    if subject.kind == PORTFOLIO:
        return _portfolio_report(store, subject)
    history = ledger(store).history(subject.id)
    position = history.position
    data = history_excel(history) if subject.format == "xlsx" else history_csv(history)
    stem = f"position{position.id}_{position.ticker}".replace("/", "_")
    facts = (("Ticker", position.ticker), ("Shares", f"{position.shares:,.4f}"), ("Cash", f"{position.cash:,.2f}"),
             ("Anchor", f"{position.anchor:,.4f}"), ("Status", position.status))
    title = f"Position {position.id}: {position.name or position.ticker}"
    return BuiltReport(Export(data, f"{stem}.{subject.format}", MIME[subject.format]),
                       ReportSummary(title, facts))



def _portfolio_report(store: Store, subject: ReportSubject) -> BuiltReport:
    report = portfolio_report_record(store, subject.id, latest_data=bool(subject.options.get("latest_data")))
    result = report.result
    first, last = result.equity.index[0], result.equity.index[-1]
    facts = (("Cells", ", ".join(f"{c.name} {c.weight * 100:.0f} %" for c in report.cells)),
             ("Period", f"{first:%Y-%m-%d} to {last:%Y-%m-%d}"))
    return BuiltReport(portfolio_export(report, subject.format),
                       ReportSummary(f"Portfolio {subject.id}: {report.name or 'unnamed'}", facts,
                                     kpi_pairs(result.metrics)))


def _alerts_report(store: Store, subject: ReportSubject) -> BuiltReport:
    settings = AlertSettings(near_fraction=float(subject.options.get("near_pct", 1.0)) / 100,
                             stale_after_hours=float(subject.options.get("stale_hours", 96.0)))
    alerts = watch_list(store, settings=settings)
    record_changes(store, alerts)
    frame = safe_frame(alerts_frame(alerts))
    if subject.format == "csv":
        data = frame.to_csv(index=False).encode("utf-8")
    else:
        data = json.dumps({"items": records(frame, index=False)}, indent=2, allow_nan=False).encode("utf-8")
    due = sum(a.state == ACTION_DUE for a in alerts)
    facts = tuple((f"#{a.position_id} {a.ticker}", f"{a.label}: {a.message}") for a in alerts)
    title = f"Watch list: {due} action(s) due" if due else "Watch list: no action due"
    return BuiltReport(Export(data, f"watch_list.{subject.format}", MIME[subject.format]),
                       ReportSummary(title, facts))
