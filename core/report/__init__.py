"""Reports and exports of runs and studies: Excel workbooks, PDF reports, CSV/JSON and chart images.

Everything here is a pure function of what the analyst ran (a :class:`~core.report.context.RunReport` built from a
``SimulationResult`` or a stored run, or a :class:`~core.report.context.StudyReport`), so the app's buttons, the
command line (``python -m core report``) and cron jobs produce the same files. Values are written, never formulas.

Modules: ``context`` (what a report is about), ``safe_cells`` (formula-injection guard), ``transaction_log``,
``excel_run``, ``excel_study``, ``pdf``, ``bundle`` (JSON bundle and CSV), ``images`` (PNG/SVG via kaleido).
"""

from core.report.context import RunReport, StudyReport, run_report_from_store, study_report_from_store

__all__ = ["RunReport", "StudyReport", "run_report_from_store", "study_report_from_store"]
