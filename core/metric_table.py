"""How metrics are shown: labels, number formats, groups, and the strategy-vs-benchmarks table.

Shared by the command line, the app and the reports so a figure reads the same everywhere. No UI imports.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import pandas as pd

from core.engine import METRIC_NAMES, SimulationResult
from core.metrics import daily_equity, performance_metrics

COLUMNS: tuple[str, ...] = ("strategy", "buy_and_hold", "static_mix")
COLUMN_TITLES: dict[str, str] = {"strategy": "Strategy", "buy_and_hold": "Buy & hold", "static_mix": "Static mix"}

@dataclasses.dataclass(frozen=True)
class MetricInfo:
    """How one metric is labelled and formatted; ``group`` orders the terminal table."""

    label: str
    fmt: str  # "pct", "signed_pct", "ratio", "count", "money", "times", "number"
    group: str


GROUP_RISK = "Return and risk"
GROUP_TRADING = "Trading"
GROUP_DIVIDENDS = "Dividends"
GROUP_BENCHMARKS = "Against the benchmarks"
GROUP_ORDER = (GROUP_RISK, GROUP_TRADING, GROUP_DIVIDENDS, GROUP_BENCHMARKS)

METRIC_INFO: dict[str, MetricInfo] = {
    "total_return": MetricInfo("Total return", "pct", GROUP_RISK),
    "cagr": MetricInfo("CAGR", "pct", GROUP_RISK),
    "volatility": MetricInfo("Volatility (annual)", "pct", GROUP_RISK),
    "sharpe": MetricInfo("Sharpe ratio", "ratio", GROUP_RISK),
    "sortino": MetricInfo("Sortino ratio", "ratio", GROUP_RISK),
    "max_drawdown": MetricInfo("Max drawdown", "pct", GROUP_RISK),
    "max_drawdown_days": MetricInfo("Longest drawdown (days)", "count", GROUP_RISK),
    "calmar": MetricInfo("Calmar ratio", "ratio", GROUP_RISK),
    "var_95": MetricInfo("Daily VaR 95%", "pct", GROUP_RISK),
    "cvar_95": MetricInfo("Daily CVaR 95%", "pct", GROUP_RISK),
    "n_trades": MetricInfo("Trades", "count", GROUP_TRADING),
    "n_buys": MetricInfo("Buys", "count", GROUP_TRADING),
    "n_sells": MetricInfo("Sells", "count", GROUP_TRADING),
    "n_rebalances": MetricInfo("Guardrail rebalances", "count", GROUP_TRADING),
    "total_commission": MetricInfo("Commission paid", "money", GROUP_TRADING),
    "turnover": MetricInfo("Turnover per year", "times", GROUP_TRADING),
    "pct_time_in_band": MetricInfo("Time inside guardrails", "pct", GROUP_TRADING),
    "n_skipped_min_notional": MetricInfo("Orders below minimum", "count", GROUP_TRADING),
    "n_trimmed": MetricInfo("Orders trimmed to a guardrail", "count", GROUP_TRADING),
    "n_blocked": MetricInfo("Orders blocked", "count", GROUP_TRADING),
    "win_rate": MetricInfo("Win rate (sells)", "pct", GROUP_TRADING),
    "profit_factor": MetricInfo("Profit factor", "ratio", GROUP_TRADING),
    "dividends_gross": MetricInfo("Dividends, gross", "money", GROUP_DIVIDENDS),
    "dividends_net": MetricInfo("Dividends, net", "money", GROUP_DIVIDENDS),
    "withholding_tax": MetricInfo("Withholding tax", "money", GROUP_DIVIDENDS),
    "buy_hold_return": MetricInfo("Buy-and-hold return", "pct", GROUP_BENCHMARKS),
    "static_mix_return": MetricInfo("Static-mix return", "pct", GROUP_BENCHMARKS),
    "excess_return_vs_buy_hold": MetricInfo("Excess vs buy-and-hold", "signed_pct", GROUP_BENCHMARKS),
    "excess_return_vs_static_mix": MetricInfo("Excess vs static mix", "signed_pct", GROUP_BENCHMARKS),
}

# The return and risk figures: the rows that exist for the benchmarks as well as for the strategy.
RETURN_AND_RISK: tuple[str, ...] = tuple(name for name, info in METRIC_INFO.items() if info.group == GROUP_RISK)

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


def metric_info(name: str) -> MetricInfo:
    """Label, format and group of a metric; a metric the table does not know yet shows under its own name."""
    return METRIC_INFO.get(name, MetricInfo(name, "number", "Other"))


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
