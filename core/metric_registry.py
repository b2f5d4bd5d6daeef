"""The metric registry: every metric a run reports, once (docs/strategy.md §7).

One :class:`Metric` per metric holds its name, label, unit, number format, group, direction (which way is better),
plain-language definition and where it is shown. Derived from :data:`METRICS`:

* the kernel's output vector order (``core.kernel.METRIC_NAMES`` follows the registry; checked when
  ``core.engine`` is imported);
* the metric table's labels and formats (``core.metric_table``), the optimiser's directions
  (``core.analysis.directions``), the PDF's definitions (``core.report.definitions``);
* the selections each view shows: the Backtest KPI cards, the report's summary tables, the Compare page.

Adding a metric is one entry here plus the code that computes it (the kernel's streaming update and
``core.metrics``). No imports of ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MAXIMISE = 1
MINIMISE = -1

# How a value is printed (core.metric_table.format_metric): a fraction as a percentage, a count without decimals…
Format = Literal["pct", "signed_pct", "ratio", "count", "money", "times", "number"]
Unit = Literal["fraction", "ratio", "count", "money", "days", "times_per_year"]

GROUP_RISK = "Return and risk"
GROUP_TRADING = "Trading"
GROUP_DIVIDENDS = "Dividends"
GROUP_BENCHMARKS = "Against the benchmarks"
GROUP_ORDER: tuple[str, ...] = (GROUP_RISK, GROUP_TRADING, GROUP_DIVIDENDS, GROUP_BENCHMARKS)

# Where a metric is shown (Metric.shown_in).
SHOWN_KPI_CARD = "kpi_card"  # the Backtest and Runs pages' KPI cards
SHOWN_REPORT = "report"  # the PDF's strategy summary (return-and-risk metrics are in the benchmark table anyway)
SHOWN_COMPARE = "compare"  # the Compare page's side-by-side table


@dataclass(frozen=True)
class Metric:
    """One metric: what it is called, what it measures, how it reads and which way is better."""

    name: str
    label: str
    unit: Unit
    fmt: Format
    group: str
    direction: int  # MAXIMISE or MINIMISE
    definition: str
    shown_in: frozenset[str] = frozenset()
    card_label: str = ""  # a shorter label for a KPI card; the label when empty

    @property
    def short_label(self) -> str:
        """The KPI card's label."""
        return self.card_label or self.label

    @property
    def benchmarked(self) -> bool:
        """Whether the benchmarks have this metric too (the return and risk figures)."""
        return self.group == GROUP_RISK


_CARD = frozenset({SHOWN_KPI_CARD, SHOWN_COMPARE})
_CARD_REPORT = frozenset({SHOWN_KPI_CARD, SHOWN_REPORT, SHOWN_COMPARE})
_REPORT = frozenset({SHOWN_REPORT})
_REPORT_COMPARE = frozenset({SHOWN_REPORT, SHOWN_COMPARE})
_COMPARE = frozenset({SHOWN_COMPARE})

METRICS: tuple[Metric, ...] = (
    Metric("total_return", "Total return", "fraction", "pct", GROUP_RISK, MAXIMISE,
           "Final account value divided by the initial capital, minus one.", _CARD),
    Metric("cagr", "CAGR", "fraction", "pct", GROUP_RISK, MAXIMISE,
           "Compound annual growth rate: the total return annualised over the daily periods.", _CARD),
    Metric("volatility", "Volatility (annual)", "fraction", "pct", GROUP_RISK, MINIMISE,
           "Standard deviation of daily returns, annualised with the square root of periods per year.", _COMPARE),
    Metric("sharpe", "Sharpe ratio", "ratio", "ratio", GROUP_RISK, MAXIMISE,
           "Mean daily excess return over its standard deviation, annualised.", _CARD, "Sharpe"),
    Metric("sortino", "Sortino ratio", "ratio", "ratio", GROUP_RISK, MAXIMISE,
           "Mean daily excess return over the downside deviation, annualised.", _CARD, "Sortino"),
    # Drawdowns, VaR and CVaR are negative fractions: less negative (higher) is better.
    Metric("max_drawdown", "Max drawdown", "fraction", "pct", GROUP_RISK, MAXIMISE,
           "Largest fall of the daily account value from its running peak.", _CARD),
    Metric("max_drawdown_days", "Longest drawdown (days)", "days", "count", GROUP_RISK, MINIMISE,
           "Longest time, in calendar days, from a peak until the value is back at it.", _COMPARE),
    Metric("calmar", "Calmar ratio", "ratio", "ratio", GROUP_RISK, MAXIMISE,
           "CAGR divided by the absolute maximum drawdown.", _COMPARE),
    Metric("var_95", "Daily VaR 95%", "fraction", "pct", GROUP_RISK, MAXIMISE,
           "Daily value at risk: the 5th percentile of daily returns.", _COMPARE),
    Metric("cvar_95", "Daily CVaR 95%", "fraction", "pct", GROUP_RISK, MAXIMISE,
           "Daily conditional value at risk: the mean of the returns at or below the VaR.", _COMPARE),
    # Activity counts cost commissions and attention: fewer is better when they are the objective.
    # One rule everywhere: the initial purchase is an order (a row of the trades table, kind "initial") but not a
    # trade; its commission is paid, so "Commission" includes it (docs/strategy.md §7).
    Metric("n_trades", "Trades", "count", "count", GROUP_TRADING, MINIMISE,
           "Executed trigger and rebalance orders; the initial purchase is not counted (the trades table lists it "
           "as one more order, of kind initial).", _CARD_REPORT),
    Metric("n_buys", "Buys", "count", "count", GROUP_TRADING, MINIMISE,
           "Executed buy orders; the initial purchase is not counted.", _REPORT),
    Metric("n_sells", "Sells", "count", "count", GROUP_TRADING, MINIMISE,
           "Executed sell orders.", _REPORT),
    Metric("n_rebalances", "Guardrail rebalances", "count", "count", GROUP_TRADING, MINIMISE,
           "Orders placed by the automatic guardrail rebalance.", _REPORT),
    Metric("total_commission", "Commission incl. initial purchase", "money", "money", GROUP_TRADING, MINIMISE,
           "Every commission paid, the initial purchase's included (so a run without trades has paid one).",
           _CARD_REPORT, "Commission (incl. initial)"),
    Metric("turnover", "Turnover per year", "times_per_year", "times", GROUP_TRADING, MINIMISE,
           "Traded notional per year divided by the mean account value.", _REPORT_COMPARE),
    Metric("dividends_gross", "Dividends, gross", "money", "money", GROUP_DIVIDENDS, MAXIMISE,
           "Dividends before withholding tax on the shares held at each ex-date."),
    Metric("dividends_net", "Dividends, net", "money", "money", GROUP_DIVIDENDS, MAXIMISE,
           "Dividends after withholding tax.", frozenset({SHOWN_KPI_CARD, SHOWN_REPORT}), "Dividends (net)"),
    Metric("withholding_tax", "Withholding tax", "money", "money", GROUP_DIVIDENDS, MINIMISE,
           "Tax withheld from the dividends."),
    Metric("time_in_band_share", "Time inside guardrails", "fraction", "pct", GROUP_TRADING, MAXIMISE,
           "Share of bars whose closing stock share lies inside the guardrails.", _REPORT),
    Metric("n_skipped_min_notional", "Orders below minimum", "count", "count", GROUP_TRADING, MINIMISE,
           "Orders not executed because they were below the minimum order size."),
    Metric("n_trimmed", "Orders trimmed to a guardrail", "count", "count", GROUP_TRADING, MINIMISE,
           "Orders shrunk so that the stock share stays inside the guardrails."),
    Metric("n_blocked", "Orders blocked", "count", "count", GROUP_TRADING, MINIMISE,
           "Orders reduced to zero (guardrail, no cash, no shares, rounding)."),
    Metric("win_rate", "Win rate (sells)", "fraction", "pct", GROUP_TRADING, MAXIMISE,
           "Share of sells with a positive realised profit against the average cost.", _REPORT_COMPARE),
    Metric("profit_factor", "Profit factor", "ratio", "ratio", GROUP_TRADING, MAXIMISE,
           "Realised profits of winning sells over the losses of losing sells.", _REPORT_COMPARE),
    Metric("buy_hold_return", "Buy-and-hold return", "fraction", "pct", GROUP_BENCHMARKS, MAXIMISE,
           "Total return of holding all capital in the stock from the first close."),
    Metric("static_mix_return", "Static-mix return", "fraction", "pct", GROUP_BENCHMARKS, MAXIMISE,
           "Total return of the strategy's starting split, never traded."),
    Metric("excess_return_vs_buy_hold", "Excess vs buy-and-hold", "fraction", "signed_pct", GROUP_BENCHMARKS,
           MAXIMISE, "Strategy total return minus the buy-and-hold return.", _CARD_REPORT, "Excess vs buy & hold"),
    Metric("excess_return_vs_static_mix", "Excess vs static mix", "fraction", "signed_pct", GROUP_BENCHMARKS,
           MAXIMISE, "Strategy total return minus the static-mix return.", _CARD_REPORT),
)  # fmt: skip

METRICS_BY_NAME: dict[str, Metric] = {m.name: m for m in METRICS}
METRIC_ORDER: tuple[str, ...] = tuple(METRICS_BY_NAME)
"""The metric names in registry order, which is the kernel's output order."""


def shown_in(view: str) -> tuple[str, ...]:
    """The metrics a view shows (``SHOWN_KPI_CARD``, ``SHOWN_REPORT``, ``SHOWN_COMPARE``), in registry order."""
    return tuple(m.name for m in METRICS if view in m.shown_in)
