"""How metrics are shown: labels, number formats, groups, and the strategy-vs-benchmarks table.

Shared by the command line, the app and the reports so a figure reads the same everywhere. No UI imports.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd

from core.engine import METRIC_NAMES, SimulationResult
from core.metric_registry import (
    GROUP_BENCHMARKS,
    GROUP_DIVIDENDS,
    GROUP_ORDER,
    GROUP_RISK,
    GROUP_TRADING,
    MAXIMISE,
    METRICS,
    METRICS_BY_NAME,
    Metric,
)
from core.metrics import daily_equity, performance_metrics

__all__ = [
    "COLUMNS", "COLUMN_TITLES", "GROUP_BENCHMARKS", "GROUP_DIVIDENDS", "GROUP_ORDER", "GROUP_RISK", "GROUP_TRADING",
    "METRIC_INFO", "NOT_AVAILABLE", "RETURN_AND_RISK", "benchmark_metrics", "format_metric", "metric_info",
    "metrics_table",
]  # fmt: skip

COLUMNS: tuple[str, ...] = ("strategy", "buy_and_hold", "static_mix")
COLUMN_TITLES: dict[str, str] = {"strategy": "Strategy", "buy_and_hold": "Buy & hold", "static_mix": "Static mix"}

# Labels, formats and groups come from the metric registry; re-exported for the callers that group rows.
METRIC_INFO: dict[str, Metric] = METRICS_BY_NAME

# The return and risk figures: the rows that exist for the benchmarks as well as for the strategy.
RETURN_AND_RISK: tuple[str, ...] = tuple(m.name for m in METRICS if m.benchmarked)

NOT_AVAILABLE = "n/a"

# ASCII only: the table must print on any terminal encoding.
_FORMATTERS: dict[str, Callable[[float], str]] = {
    "pct": lambda v: f"{v * 100:,.2f} %",
    "signed_pct": lambda v: f"{v * 100:+,.2f} %",
    "ratio": lambda v: f"{v:,.2f}",
    "count": lambda v: f"{v:,.0f}",
    "money": lambda v: f"{v:,.2f}",
    "times": lambda v: f"{v:,.2f}x",
    "number": lambda v: f"{v:,.4g}",
}


def metric_info(name: str) -> Metric:
    """The registry entry of a metric; a name the registry does not know (a derived column such as ``score``)
    shows under its own name, as a plain number."""
    return METRICS_BY_NAME.get(name) or Metric(name, name, "ratio", "number", "Other", MAXIMISE, "")


def format_metric(name: str, value: float | None) -> str:
    """A metric value for people: ``"12.34 %"`` for fractions, ``"410"`` for counts, ``"n/a"`` for NaN/None."""
    if value is None or not math.isfinite(float(value)):
        return NOT_AVAILABLE
    return _FORMATTERS[metric_info(name).fmt](float(value))


def benchmark_metrics(result: SimulationResult, timezone: str = "America/New_York") -> dict[str, dict[str, float]]:
    """Return and risk figures (docs/strategy.md §7) of each benchmark column of ``result.benchmarks``.

    Computed exactly like the strategy's: the daily series of exchange-local dates with ``initial_capital``
    prepended, then :func:`core.metrics.performance_metrics`.
    """
    cfg = result.config
    out = {}
    for column in result.benchmarks.columns:
        daily = daily_equity(result.benchmarks[column], cfg.initial_capital, timezone)
        out[str(column)] = performance_metrics(daily, cfg.initial_capital, cfg.risk_free_rate, cfg.periods_per_year)
    return out


def metrics_table(result: SimulationResult, timezone: str = "America/New_York") -> pd.DataFrame:
    """Rows = metric names (``METRIC_NAMES`` order), columns = strategy, buy_and_hold, static_mix; raw floats.

    Benchmark cells exist for the return and risk figures only (trading and dividend counts belong to the
    strategy); the others are NaN.
    """
    bench = benchmark_metrics(result, timezone)
    names = list(METRIC_NAMES)
    data = {"strategy": [float(result.metrics.get(n, math.nan)) for n in names]}
    for column in COLUMNS[1:]:
        figures = bench.get(column, {})
        data[column] = [float(figures.get(n, math.nan)) for n in names]
    table = pd.DataFrame(data, index=pd.Index(names, name="metric"))
    return table
