"""Reports and exports of runs and studies: Excel workbooks, PDF reports, CSV/JSON and chart images.

Everything here is a pure function of what the analyst ran (a :class:`~core.report.context.RunReport` built from a
``SimulationResult``, or a :class:`~core.report.context.StudyReport`; :mod:`usecases.reports` builds both from the
store), so the app's buttons, the command line and scheduled jobs produce the same files. Values are written, never
formulas.

Modules: ``context`` (what a report is about), ``formats`` (the one formatting layer: labels, units and number
formats from the registries), ``safe_cells`` (formula-injection guard), ``transaction_log``, ``tear_sheet`` (the
run's monthly, yearly, drawdown, rolling, benchmark, distribution and trade P&L tables, with their statistics'
definitions), ``assumptions`` (the assumptions and limitations of a run), ``excel_run`` with ``excel_tear_sheet``,
``excel_study``, ``pdf`` with ``pdf_layout`` (styles and tables), ``pdf_tear_sheet``, ``pdf_charts``, ``pdf_fonts``
(embedded TrueType fonts in ``fonts/``, per-character fallback) and ``pdf_text`` (right-to-left text), ``bundle``
(JSON bundle and CSV), ``images`` (PNG/SVG via kaleido).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.report.context import RunReport, StudyReport

__all__ = ["RunReport", "StudyReport"]


def __getattr__(name: str) -> Any:
    # imported on first use, like ``core``'s names: ``images`` must load without the report context's pandas
    if name not in __all__:
        raise AttributeError(f"module 'core.report' has no attribute {name!r}")
    from core.report import context

    value = getattr(context, name)
    globals()[name] = value
    return value
