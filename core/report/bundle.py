"""CSV exports and the JSON run bundle.

The bundle holds what is needed to reproduce a run: the configuration, the dataset's identity (SHA-256 of its bars
and dividends), the engine version, the metrics and the trades. Importing it finds the same data (a ``MarketData``
you pass, or the stored dataset with that hash), re-runs it and checks that the metrics come out identical.
Floats are written with Python's shortest round-trip repr, so they read back bit for bit; NaN is written as null.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from core.config import StrategyConfig
from core.engine import ENGINE_VERSION, SimulationResult, simulate
from core.errors import DataError
from core.json_values import plain
from core.metric_table import COLUMN_TITLES, metric_info
from core.report.context import RunReport, StudyReport
from core.report.definitions import UNIT_WORDS
from core.report.formats import metric_header, metric_label, result_header, setting_header
from core.report.safe_cells import safe_frame
from core.report.transaction_log import transaction_log

BUNDLE_FORMAT = "vbl-run-bundle"
BUNDLE_VERSION = 1
CSV_TABLES: tuple[str, ...] = ("trades", "timeline", "transaction_log", "metrics")
CSV_HEADERS: tuple[str, ...] = ("names", "labels")
# The unit of a stored value: CSV cells are not formatted, so a fraction is a fraction (0.03 for 3 %).
STORED_UNITS: dict[str, str] = {**UNIT_WORDS, "fraction": "fraction"}


class BundleError(ValueError):
    """A bundle that cannot be read or does not reproduce (wrong data, different metrics)."""


# --- CSV --------------------------------------------------------------------------------------------------------


def _csv(frame: pd.DataFrame, *, index: bool = False) -> str:
    # float_format=None keeps the shortest round-trip repr, so numbers read back exactly.
    return safe_frame(frame).to_csv(index=index, lineterminator="\n")


def _check_headers(headers: str) -> None:
    if headers not in CSV_HEADERS:
        raise ValueError(f"headers must be one of {', '.join(CSV_HEADERS)}, got {headers!r}")


def _result_table(frame: pd.DataFrame, table: str, headers: str) -> pd.DataFrame:
    if headers == "names":
        return frame
    labelled = frame.rename(columns={c: result_header(table, c) for c in frame.columns})
    if table == "timeline":  # indexed by the bar's time, headed like the trades' time column
        labelled.index.name = result_header("trades", "timestamp")
    return labelled


def _metrics_table(table: pd.DataFrame, headers: str) -> pd.DataFrame:
    if headers == "names":
        return table
    units = [STORED_UNITS[metric_info(name).unit] for name in table.index]
    labelled = table.rename(columns=COLUMN_TITLES)
    labelled.insert(0, "Unit", units)
    labelled.index = pd.Index([metric_label(name) for name in table.index], name="Metric")
    return labelled


def run_csv(report: RunReport, table: str = "trades", headers: str = "names") -> str:
    """One table of a run as CSV text: ``trades``, ``timeline`` (engine columns), ``transaction_log`` or
    ``metrics`` (strategy, buy-and-hold, static mix). Text that looks like a formula is neutralised.

    ``headers="names"`` (the default) heads the columns with the engine's names (``stock_share_after``), for
    scripts; ``"labels"`` with the registries' labels and the unit of fraction-valued columns (``Stock share after
    (fraction)``; the metrics table gains a Unit column), for people. Values are the same either way. The
    Transaction Log keeps the old system's headers in both.
    """
    _check_headers(headers)
    if table == "trades":
        return _csv(_result_table(report.clip(report.result.trades, "timestamp"), "trades", headers))
    if table == "timeline":
        return _csv(_result_table(report.clip(report.result.timeline), "timeline", headers), index=True)
    if table == "transaction_log":
        return _csv(report.clip(transaction_log(report.result)))
    if table == "metrics":
        return _csv(_metrics_table(report.table, headers), index=True)
    raise ValueError(f"unknown table {table!r}; use one of {', '.join(CSV_TABLES)}")


TRIAL_HEADERS: dict[str, str] = {"index": "Trial", "status": "Status", "duration_s": "Duration (s)", "error": "Error"}


def trials_csv(study: StudyReport, headers: str = "names") -> str:
    """Every trial of a study (parameters and metrics) as CSV text; ``headers`` as in :func:`run_csv`
    (``param.trigger_up`` or ``Sell trigger (fraction)``)."""
    _check_headers(headers)
    trials = study.trials
    if headers == "labels":
        trials = trials.rename(columns={
            c: TRIAL_HEADERS.get(c) or (setting_header(c) if str(c).startswith("param.") else metric_header(c))
            for c in trials.columns
        })  # fmt: skip
    return _csv(trials)


# --- JSON bundle ------------------------------------------------------------------------------------------------


def run_bundle(report: RunReport) -> dict[str, Any]:
    """The run as a JSON-ready dict (see the module docstring). The date range does not apply: a bundle is the
    whole run."""
    result = report.result
    first, last = result.timeline.index[0], result.timeline.index[-1]
    trades = result.trades.copy()
    trades["timestamp"] = [pd.Timestamp(t).isoformat() for t in trades["timestamp"]]
    return {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "engine_version": result.engine_version,
        "run": {"id": report.run_id, "name": report.name, "notes": report.notes},
        "dataset": {
            **report.dataset.to_dict(),
            "first_bar": first.isoformat(),
            "last_bar": last.isoformat(),
            "bars": len(result.timeline),
        },
        "config": result.config.to_dict(),
        "metrics": plain(dict(result.metrics)),
        "trades": plain(trades.to_dict(orient="records")),
    }


def run_bundle_json(report: RunReport) -> str:
    """:func:`run_bundle` as indented JSON text (strict JSON: no NaN)."""
    return json.dumps(run_bundle(report), indent=1, allow_nan=False) + "\n"


@dataclass(frozen=True)
class RunBundle:
    """A bundle read back: configuration, dataset identity and the metrics to reproduce."""

    config: StrategyConfig
    dataset: Mapping[str, Any]
    metrics: Mapping[str, float]
    engine_version: str
    trades: pd.DataFrame
    run: Mapping[str, Any] = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        """SHA-256 of the dataset the run used."""
        return str(self.dataset.get("sha256", ""))


def read_bundle(source: str | bytes | Path | Mapping[str, Any]) -> RunBundle:
    """Parse a bundle from JSON text/bytes, a file path or an already-decoded dict. Raises :class:`BundleError`."""
    if isinstance(source, Path):
        source = source.read_text(encoding="utf-8")
    try:
        data = dict(source) if isinstance(source, Mapping) else json.loads(source)
    except (ValueError, TypeError) as exc:
        raise BundleError(f"not a run bundle: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != BUNDLE_FORMAT:
        raise BundleError(f'not a run bundle (expected "format": "{BUNDLE_FORMAT}")')
    if int(data.get("version", 0)) > BUNDLE_VERSION:
        raise BundleError(f"bundle version {data.get('version')} is newer than this program reads ({BUNDLE_VERSION})")
    trades = pd.DataFrame(data.get("trades") or [])
    if "timestamp" in trades:
        trades["timestamp"] = pd.to_datetime(trades["timestamp"])
    metrics = {k: (math.nan if v is None else float(v)) for k, v in (data.get("metrics") or {}).items()}
    return RunBundle(
        config=StrategyConfig.from_dict(data["config"]),
        dataset=dict(data.get("dataset") or {}),
        metrics=metrics,
        engine_version=str(data.get("engine_version", "")),
        trades=trades,
        run=dict(data.get("run") or {}),
    )


def metric_differences(expected: Mapping[str, float], actual: Mapping[str, float]) -> list[str]:
    """Metrics that differ (exact comparison; NaN equals NaN), as readable lines."""
    out = []
    for key, want in expected.items():
        got = actual.get(key, math.nan)
        same = (math.isnan(want) and math.isnan(got)) if (want != want or got != got) else want == got
        if not same:
            out.append(f"{key}: bundle {want!r}, re-run {got!r}")
    return out


def rerun_bundle(bundle: RunBundle, data: Any) -> SimulationResult:
    """Re-run the bundle on ``data`` (a ``MarketData``) and check the metrics reproduce exactly.

    Raises:
        BundleError: when the data's hash differs from the bundle's or a metric differs.
    """
    sha = data.sha256()
    if bundle.sha256 and sha != bundle.sha256:
        raise BundleError(f"the data's SHA-256 {sha[:12]}... differs from the bundle's {bundle.sha256[:12]}...")
    if not len(data.prices):
        raise DataError("the dataset has no bars")
    dividends = data.dividends if len(data.dividends) else None
    result = simulate(data.prices, bundle.config, dividends)
    diffs = metric_differences(bundle.metrics, result.metrics)
    if diffs:
        note = (
            ""
            if bundle.engine_version == ENGINE_VERSION
            else (f" (bundle from engine {bundle.engine_version}, this is {ENGINE_VERSION})")
        )
        raise BundleError(f"the re-run does not reproduce the bundle{note}: " + "; ".join(diffs[:5]))
    return result
