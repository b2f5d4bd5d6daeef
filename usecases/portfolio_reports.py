"""Reports of a stored portfolio (docs/strategy.md §12): re-run it from the store and export it as a workbook, a
PDF, the trades as CSV or JSON. The CLI (``portfolio export``), the API (``/v1/portfolios/{id}/report.{fmt}``), the
scheduler and the app's Portfolio page all come through here, so a file is the same whichever asked for it.

The exports themselves (:mod:`core.report.portfolio_exports`) are pure functions of a
:class:`~core.report.portfolio_exports.PortfolioReport`; this module only builds that record from the store.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import NamedTuple

from core.report.portfolio_exports import PORTFOLIO_FORMATS, PortfolioCellMeta, PortfolioReport, portfolio_export
from storage import Store, StoredCell, StoreReadOnly
from usecases.portfolios import on_newest_data, run_portfolio, spec_of

__all__ = ["PORTFOLIO_FORMATS", "PortfolioReportFile", "cell_metas", "portfolio_report", "portfolio_report_record"]


class PortfolioReportFile(NamedTuple):
    """A finished portfolio report: ``(filename, data, mime)``.

    A tuple, so ``filename, data, mime = portfolio_report(...)`` unpacks it; and the attribute names of
    :class:`core.report.exports.Export` (``data``, ``filename``, ``mime``), so the API's ``attachment`` and
    anything else written for a run's export takes it unchanged.
    """

    filename: str
    data: bytes
    mime: str

    @property
    def content_type(self) -> str:
        """The HTTP content type (the MIME type)."""
        return self.mime


def portfolio_report_record(store: Store, portfolio_id: int, *, latest_data: bool = False) -> PortfolioReport:
    """The stored portfolio re-run — on the datasets it ran on, or (``latest_data``) on the newest stored dataset of
    each cell's symbol, as a scheduled report sends it — with its identity and each cell's dataset, as a report
    (``NotFound`` when there is no such portfolio). On its own data the re-run is the stored one bit for bit for the
    same engine version (``usecases.portfolios.verify_portfolio`` checks it)."""
    record = store.get_portfolio(portfolio_id)
    spec = spec_of(record)
    if latest_data:
        spec = on_newest_data(store, spec)
    result = run_portfolio(store, spec)
    with contextlib.suppress(StoreReadOnly):
        store.record_audit("run", "portfolio", portfolio_id, {"action": "rerun", "latest_data": latest_data})
    return PortfolioReport(result, cell_metas(store, spec.cells), portfolio_id=record.id, name=record.name,
                           notes=record.notes, created_at=record.created_at)


def cell_metas(store: Store, cells: Sequence[StoredCell]) -> tuple[PortfolioCellMeta, ...]:
    """Each cell with its stored dataset's identity (name, symbol, SHA-256, time zone), as the reports name it;
    the time zone dates the benchmarks' daily series as the engine dates the portfolio's."""
    metas = []
    for c in cells:
        info = store.get_dataset(c.dataset_id)
        metas.append(PortfolioCellMeta(c.name, c.weight, dataset_id=info.id, dataset_name=info.name,
                                       symbol=info.symbol, sha256=info.sha256, timezone=info.timezone))
    return tuple(metas)


def portfolio_report(store: Store, portfolio_id: int, fmt: str, *, latest_data: bool = False) -> PortfolioReportFile:
    """The stored portfolio ``portfolio_id`` re-run and exported as ``fmt`` (one of :data:`PORTFOLIO_FORMATS`:
    ``xlsx``, ``pdf``, ``csv`` of the trades, ``json``); the export is written to the audit log (skipped on a
    read-only store, where the file is still made).

    Raises:
        ValueError: for an unknown format (checked before anything is re-run).
        storage.NotFound: when there is no such portfolio or one of its datasets is gone.
    """
    if fmt not in PORTFOLIO_FORMATS:
        raise ValueError(f"a portfolio exports as {', '.join(PORTFOLIO_FORMATS)}, not {fmt!r}")
    export = portfolio_export(portfolio_report_record(store, portfolio_id, latest_data=latest_data), fmt)
    with contextlib.suppress(StoreReadOnly):
        store.record_audit("export", "portfolio", portfolio_id, {"format": fmt, "filename": export.filename})
    return PortfolioReportFile(export.filename, export.data, export.mime)
