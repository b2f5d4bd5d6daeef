"""What a report is about: a run (its result, dataset and identity) or a study (its trials), plus period clipping.

Reports are built from these records only, so an export from the app, the CLI and a test of the same run are
identical. :func:`usecases.reports.run_report_from_store` builds one from a stored run by re-running it (the
timeline is not stored; the re-run equals the saved metrics and trades bit for bit for the same engine version).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from core.engine import SimulationResult
from core.metric_table import metrics_table


@dataclass(frozen=True)
class DatasetMeta:
    """The dataset a run used, as reports name it; ``sha256`` identifies the exact bars and dividends."""

    name: str
    symbol: str
    sha256: str
    interval: str = "1d"
    price_basis: str = "unknown"
    source: str = "csv"
    timezone: str = "America/New_York"

    @classmethod
    def from_market_data(cls, data: Any) -> DatasetMeta:
        """From a ``core.data.MarketData`` (hash computed) or a stored ``DatasetInfo`` (hash as stored)."""
        sha = data.sha256() if callable(getattr(data, "sha256", None)) else str(data.sha256)
        return cls(
            name=str(data.name),
            symbol=str(data.symbol),
            sha256=sha,
            interval=str(getattr(data, "interval", "1d")),
            price_basis=str(getattr(data, "price_basis", "unknown")),
            source=str(getattr(data, "source", "csv")),
            timezone=str(getattr(data, "timezone", None) or "America/New_York"),
        )

    def to_dict(self) -> dict[str, str]:
        """Plain dict for JSON."""
        return dict(self.__dict__)


@dataclass(frozen=True, eq=False)
class RunReport:
    """One backtest as reported: the result plus where it came from.

    ``start``/``end`` (calendar dates, inclusive) restrict the rows that exports list (timeline, trades,
    dividends, equity); the metrics always describe the whole run, because that is what the analyst ran.
    """

    result: SimulationResult
    dataset: DatasetMeta
    run_id: int | None = None
    name: str = ""
    notes: str = ""
    created_at: datetime | None = None
    start: date | None = None
    end: date | None = None

    @functools.cached_property
    def table(self) -> pd.DataFrame:
        """Metrics of strategy, buy-and-hold and static mix (``core.metric_table.metrics_table``)."""
        return metrics_table(self.result, self.dataset.timezone)

    @property
    def title(self) -> str:
        """``"Run 7: name"`` for stored runs, else the name or the dataset's symbol."""
        label = self.name or f"{self.dataset.symbol} backtest"
        return f"Run {self.run_id}: {label}" if self.run_id is not None else label

    @property
    def sheet_name(self) -> str:
        """``{TICKER}_{RUN_ID}`` (Excel-safe, at most 31 characters)."""
        return excel_sheet_name(f"{self.dataset.symbol}_{self.run_id if self.run_id is not None else 'run'}")

    @property
    def period(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """First and last bar of the rows shown (after the date range)."""
        index = self.clip(self.result.timeline).index
        if len(index) == 0:
            index = self.result.timeline.index
        return index[0], index[-1]

    def clip(self, frame: pd.DataFrame | pd.Series, column: str | None = None) -> Any:
        """The rows of ``frame`` inside ``[start, end]`` (by index, or by ``column`` when given)."""
        if self.start is None and self.end is None:
            return frame
        stamps = pd.DatetimeIndex(frame[column] if column is not None else frame.index)
        if stamps.tz is not None:
            stamps = stamps.tz_localize(None)
        keep = np.ones(len(frame), dtype=bool)
        if self.start is not None:
            keep &= stamps >= pd.Timestamp(self.start)
        if self.end is not None:
            keep &= stamps < pd.Timestamp(self.end) + pd.Timedelta(days=1)
        return frame[keep]

    def with_period(self, start: date | None, end: date | None) -> RunReport:
        """The same report limited to ``[start, end]``; raises ``ValueError`` for a reversed range."""
        if start is not None and end is not None and start > end:
            raise ValueError(f"the date range starts ({start}) after it ends ({end})")
        return RunReport(self.result, self.dataset, self.run_id, self.name, self.notes, self.created_at, start, end)


@dataclass(frozen=True, eq=False)
class StudyReport:
    """An optimisation study as reported: its description, every trial, and walk-forward results when present.

    ``trials`` is ``Store.list_trials(study_id)``: ``index, status, duration_s, error``, one ``param.<name>``
    column per parameter and one column per metric.
    """

    trials: pd.DataFrame
    name: str = "study"
    study_id: int | None = None
    method: str = ""
    objective: Any = "sharpe"
    search_space: Mapping[str, Any] = field(default_factory=dict)
    status: str = ""
    dataset: DatasetMeta | None = None
    walk_forward: Any = None  # a DataFrame of folds or a core.analysis.WalkForwardResult

    @property
    def objective_metric(self) -> str:
        """The metric the study optimised (``objective`` may be a name or a mapping with ``metric``)."""
        obj = self.objective
        if isinstance(obj, Mapping):
            obj = obj.get("metric") or obj.get("name") or "sharpe"
        if isinstance(obj, list | tuple) and obj:
            obj = obj[0]
        name = str(obj or "sharpe")
        return name if name in self.trials.columns else "sharpe"

    @property
    def maximise(self) -> bool:
        """Whether a larger objective is better: the objective's own ``direction``/``goal`` when it says, else the
        metric's direction from ``core.analysis`` (volatility is minimised; max drawdown, a negative fraction, is
        maximised), else True."""
        obj = self.objective
        if isinstance(obj, Mapping) and (obj.get("direction") or obj.get("goal")):
            return not str(obj.get("direction") or obj.get("goal")).lower().startswith("min")
        try:
            from core.analysis.directions import direction
        except ImportError:  # the analysis package is optional for exports
            return True
        try:
            return direction(self.objective_metric) > 0
        except (KeyError, ValueError):
            return True

    def walk_forward_tables(self) -> tuple[pd.DataFrame, list[tuple[str, Any]]] | None:
        """Walk-forward folds and summary rows when present: ``walk_forward`` may be a frame of folds or a
        ``core.analysis.WalkForwardResult`` (its ``folds`` and ``summary``)."""
        wf = self.walk_forward
        if wf is None:
            return None
        if isinstance(wf, pd.DataFrame):
            return (wf, []) if len(wf) else None
        folds = getattr(wf, "folds", None)
        if not isinstance(folds, pd.DataFrame) or folds.empty:
            return None
        summary = [(str(k), v) for k, v in dict(getattr(wf, "summary", {}) or {}).items()]
        return folds, summary

    @property
    def param_columns(self) -> list[str]:
        """The ``param.<name>`` columns, in order."""
        return [c for c in self.trials.columns if str(c).startswith("param.")]

    @property
    def varied_params(self) -> list[str]:
        """Parameter columns that take more than one value across the trials."""
        return [c for c in self.param_columns if self.trials[c].nunique(dropna=True) > 1]

    @property
    def metric_columns(self) -> list[str]:
        """Metric columns (numeric, not parameters or bookkeeping)."""
        skip = {"index", "status", "duration_s", "error", *self.param_columns}
        return [c for c in self.trials.columns if c not in skip and pd.api.types.is_numeric_dtype(self.trials[c])]

    def completed(self) -> pd.DataFrame:
        """Completed trials with a finite objective."""
        frame = self.trials
        if "status" in frame.columns:
            frame = frame[frame["status"] == "completed"]
        values = pd.to_numeric(frame[self.objective_metric], errors="coerce").to_numpy(dtype=float)
        return frame[np.isfinite(values)]

    def top(self, n: int = 20) -> pd.DataFrame:
        """The ``n`` best completed trials by the objective."""
        return self.completed().sort_values(self.objective_metric, ascending=not self.maximise, kind="stable").head(n)


def excel_sheet_name(text: str) -> str:
    """A valid, unambiguous Excel sheet name: no ``[]:*?/\\``, at most 31 characters."""
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in text).strip("'") or "Sheet"
    return cleaned[:31]
