"""The tear sheet of a run: the tables the run PDF and the run workbook add to the metrics, built from the same pure
functions as the app's Risk and Trade-analysis pages (:mod:`core.risk_stats`, :mod:`core.trade_stats`,
:mod:`core.metrics`).

The figures describe the whole run, as the metrics do (that is what the analyst ran); with a date range, the tables
that list dates (months, years, period ends, dividends) keep the rows inside it. Every figure has a
:class:`Statistic` entry here (label, registry format, definition), so the PDF, the workbook and the workbook's
Definitions sheet read it the same way; the metric registry itself is the kernel's output order and is not the
place for figures the kernel does not compute.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.metric_registry import Format
from core.metric_table import COLUMN_TITLES
from core.metrics import daily_equity
from core.report.context import RunReport
from core.report.run_tables import monthly_returns
from core.risk_stats import (
    daily_returns,
    drawdown_table,
    relative_figures,
    return_distribution,
    rolling_at_period_ends,
    rolling_beta_correlation,
    rolling_risk,
    yearly_returns,
)
from core.trade_stats import pnl_distribution

ROLLING_WINDOW = 126
"""Daily returns in a rolling window: six months of trading days, QuantStats' and pyfolio's default."""
TOP_DRAWDOWNS = 5
NOT_RECOVERED = "not recovered"
BENCHMARK = "buy_and_hold"  # the stock: what alpha, beta and the capture ratios are measured against
BENCHMARKS: tuple[str, ...] = ("buy_and_hold", "static_mix")

GROUP_TABLES = "Tear sheet: tables"
GROUP_RELATIVE = "Tear sheet: against a benchmark"
GROUP_DISTRIBUTION = "Tear sheet: daily returns"
GROUP_TRADES = "Tear sheet: realised P&L of the sells"
GROUP_KEYS: dict[str, str] = {
    GROUP_TABLES: "table", GROUP_RELATIVE: "relative", GROUP_DISTRIBUTION: "daily", GROUP_TRADES: "sells",
}  # fmt: skip


@dataclass(frozen=True)
class Statistic:
    """One tear-sheet figure: its field name, label, registry format (``pct``, ``ratio``, ``money``…), which way
    is better (``"higher"``, ``"lower"`` or ``""`` when neither) and what it measures."""

    name: str
    label: str
    fmt: Format
    better: str
    definition: str
    group: str

    @property
    def key(self) -> str:
        """The name qualified by its table (``daily.mean``, ``sells.mean``): the Definitions sheet's unique key."""
        return f"{GROUP_KEYS[self.group]}.{self.name}"


def _stats(group: str, rows: tuple[tuple[str, str, Format, str, str], ...]) -> tuple[Statistic, ...]:
    return tuple(Statistic(name, label, fmt, better, text, group) for name, label, fmt, better, text in rows)


TABLE_STATISTICS: tuple[Statistic, ...] = _stats(GROUP_TABLES, (
    ("monthly_return", "Monthly return", "pct", "higher",
     "Compounded daily return of a calendar month; the first month is measured from the initial capital."),
    ("yearly_return", "Yearly return", "pct", "higher",
     "Compounded daily return of a calendar year, for the strategy and each benchmark; the excess columns are the "
     "strategy's yearly return minus the benchmark's."),
    ("drawdown_depth", "Drawdown depth", "pct", "higher",
     "Fall from the peak to the trough, as a fraction of the peak value (a negative fraction)."),
    ("drawdown_days", "Drawdown length (days)", "count", "lower",
     "Calendar days from the peak to the recovery (the first day back at or above the peak), or to the last day "
     "when not recovered."),
    ("rolling_volatility", "Rolling volatility", "pct", "lower",
     f"Standard deviation of the last {ROLLING_WINDOW} daily returns, annualised."),
    ("rolling_sharpe", "Rolling Sharpe ratio", "ratio", "higher",
     f"Sharpe ratio of the last {ROLLING_WINDOW} daily returns, annualised."),
    ("rolling_beta", "Rolling beta", "ratio", "",
     f"Beta of the last {ROLLING_WINDOW} daily returns against the stock's (the buy-and-hold benchmark)."),
))  # fmt: skip

RELATIVE_STATISTICS: tuple[Statistic, ...] = _stats(GROUP_RELATIVE, (
    ("alpha", "Alpha (annual)", "pct", "higher",
     "Mean daily return not explained by beta, (1 + mean(r − rf − β·(b − rf)))^K − 1: r the strategy's and b the "
     "benchmark's daily returns, rf the daily risk-free rate, K the periods per year."),
    ("beta", "Beta", "ratio", "",
     "Covariance of the strategy's daily returns with the benchmark's over the benchmark's variance."),
    ("correlation", "Correlation", "ratio", "",
     "Pearson correlation of the strategy's daily returns with the benchmark's."),
    ("tracking_error", "Tracking error (annual)", "pct", "",
     "Standard deviation of the daily active return r − b, annualised with the square root of K."),
    ("information_ratio", "Information ratio", "ratio", "higher",
     "Mean daily active return r − b over its standard deviation, annualised with the square root of K."),
    ("up_capture", "Up capture", "pct", "higher",
     "On the days the benchmark rose: the strategy's geometric mean daily return over the benchmark's (100 % = "
     "as much; Morningstar's capture ratio, on daily returns)."),
    ("down_capture", "Down capture", "pct", "lower",
     "On the days the benchmark fell: the strategy's geometric mean daily return over the benchmark's (below "
     "100 % = it lost less)."),
    ("n", "Days compared", "count", "", "Daily returns both series have."),
))  # fmt: skip

DISTRIBUTION_STATISTICS: tuple[Statistic, ...] = _stats(GROUP_DISTRIBUTION, (
    ("n", "Daily returns", "count", "", "Number of daily returns (dates with bars, after the first)."),
    ("mean", "Mean daily return", "pct", "higher", "Arithmetic mean of the daily returns."),
    ("median", "Median daily return", "pct", "higher", "Median of the daily returns."),
    ("std", "Daily standard deviation", "pct", "lower", "Standard deviation of the daily returns (ddof = 1)."),
    ("skew", "Skewness", "ratio", "higher", "Sample skewness of the daily returns (bias-corrected)."),
    ("kurtosis", "Excess kurtosis", "ratio", "lower",
     "Sample excess kurtosis of the daily returns (bias-corrected; 0 for a normal distribution)."),
    ("best", "Best day", "pct", "higher", "Largest daily return."),
    ("worst", "Worst day", "pct", "higher", "Smallest daily return."),
    ("positive_share", "Positive days", "pct", "higher", "Share of days with a return above zero."),
    ("p25", "25th percentile", "pct", "higher",
     "25th percentile of the daily returns (linear interpolation; the 5th and 1st are the VaR rows)."),
    ("p75", "75th percentile", "pct", "higher", "75th percentile of the daily returns."),
    ("p95", "95th percentile", "pct", "higher", "95th percentile of the daily returns."),
    ("p99", "99th percentile", "pct", "higher", "99th percentile of the daily returns."),
    ("var_95", "Daily VaR 95%", "pct", "higher",
     "Historical value at risk: the 5th percentile of the daily returns (the metric var_95 for the strategy)."),
    ("cvar_95", "Daily CVaR 95%", "pct", "higher", "Mean of the daily returns at or below the 95 % VaR."),
    ("var_99", "Daily VaR 99%", "pct", "higher", "Historical value at risk: the 1st percentile of the daily returns."),
    ("cvar_99", "Daily CVaR 99%", "pct", "higher", "Mean of the daily returns at or below the 99 % VaR."),
))  # fmt: skip

PNL_STATISTICS: tuple[Statistic, ...] = _stats(GROUP_TRADES, (
    ("n_sells", "Sells", "count", "", "Executed sells, rebalance sells included."),
    ("n_wins", "Winning sells", "count", "", "Sells with a realised P&L above zero."),
    ("n_losses", "Losing sells", "count", "", "Sells with a realised P&L below zero."),
    ("win_rate", "Win rate", "pct", "higher", "Share of sells with a positive realised P&L (the metric win_rate)."),
    ("total", "Realised P&L", "money", "higher",
     "Sum over the sells of notional − commission − quantity × average cost (buy commissions in the cost)."),
    ("mean", "Mean P&L per sell", "money", "higher", "Mean realised P&L of a sell."),
    ("median", "Median P&L per sell", "money", "higher", "Median realised P&L of a sell."),
    ("std", "Standard deviation of P&L", "money", "", "Standard deviation of the sells' realised P&L (ddof = 1)."),
    ("best", "Best sell", "money", "higher", "Largest realised P&L of a sell."),
    ("worst", "Worst sell", "money", "higher", "Smallest realised P&L of a sell."),
    ("p05", "5th percentile", "money", "higher", "5th percentile of the sells' realised P&L."),
    ("p25", "25th percentile", "money", "higher", "25th percentile of the sells' realised P&L."),
    ("p75", "75th percentile", "money", "higher", "75th percentile of the sells' realised P&L."),
    ("p95", "95th percentile", "money", "higher", "95th percentile of the sells' realised P&L."),
    ("mean_win", "Mean win", "money", "higher", "Mean realised P&L of the winning sells."),
    ("mean_loss", "Mean loss", "money", "higher", "Mean realised P&L of the losing sells."),
    ("payoff_ratio", "Payoff ratio", "ratio", "higher", "Mean win over the absolute mean loss."),
    ("profit_factor", "Profit factor", "ratio", "higher",
     "Sum of the winning sells' P&L over the absolute sum of the losing sells' (the metric profit_factor)."),
    ("mean_return", "Mean return per sell", "pct", "higher",
     "Mean of each sell's realised P&L over the average cost of the shares it sold."),
    ("median_holding_days", "Median holding period (days)", "count", "",
     "Median over the sells of the share-weighted age of the shares sold, first in first out, in calendar days."),
))  # fmt: skip

ALL_STATISTICS: tuple[Statistic, ...] = (
    TABLE_STATISTICS + RELATIVE_STATISTICS + DISTRIBUTION_STATISTICS + PNL_STATISTICS
)


@dataclass(frozen=True, eq=False)
class TearSheet:
    """The tear-sheet tables of one run, ready to print or write.

    Tables with a ``key`` and an ``fmt`` column are statistics (one row per :class:`Statistic`: its label, one
    value column per series, its definition); the exports drop the two and format each row by its ``fmt``.
    """

    monthly: pd.DataFrame  # Year, Jan … Dec, Total: the strategy's monthly and yearly returns
    yearly: pd.DataFrame  # Year, Strategy, Buy & hold, Static mix, Excess vs buy & hold, Excess vs static mix
    drawdowns: pd.DataFrame  # Rank, Peak, Trough, Recovery, Depth, Length (days)
    rolling: pd.DataFrame  # daily rolling Volatility, Sharpe ratio, Beta (for charts), indexed by date
    rolling_ends: pd.DataFrame  # Date, Volatility, Sharpe ratio, Beta at each year end and the last date
    relative: pd.DataFrame  # statistics against each benchmark
    distribution: pd.DataFrame  # daily-return statistics of the strategy and each benchmark
    trade_pnl: pd.DataFrame  # statistics of the sells' realised P&L
    window: int


def report_dailies(report: RunReport) -> dict[str, pd.Series]:
    """The daily value series of the strategy and of each benchmark (docs/strategy.md §7), as the metrics table
    and the Risk page build them."""
    result = report.result
    cfg = result.config
    out = {"strategy": result.daily_equity}
    for column in BENCHMARKS:
        if column in result.benchmarks.columns:
            out[column] = daily_equity(result.benchmarks[column], cfg.initial_capital, report.dataset.timezone)
    return out


def _title(key: str) -> str:
    return COLUMN_TITLES.get(key, key)


def statistics_frame(stats: tuple[Statistic, ...], columns: dict[str, Any]) -> pd.DataFrame:
    """A statistics table: ``Statistic`` (label), one column per entry of ``columns`` (title -> a record with a
    field per statistic, e.g. a :class:`core.risk_stats.ReturnDistribution`), ``Definition``, ``key``, ``fmt``."""
    values = {title: asdict(record) for title, record in columns.items()}
    frame = pd.DataFrame({"Statistic": [s.label for s in stats]})
    for title, record in values.items():
        frame[title] = [float(record[s.name]) for s in stats]
    frame["Definition"] = [s.definition for s in stats]
    frame["key"] = [s.name for s in stats]
    frame["fmt"] = [s.fmt for s in stats]
    return frame


def _years_shown(report: RunReport, years: pd.Index) -> np.ndarray:
    keep = np.ones(len(years), dtype=bool)
    if report.start is not None:
        keep &= years >= report.start.year
    if report.end is not None:
        keep &= years <= report.end.year
    return keep


def yearly_table(report: RunReport, dailies: dict[str, pd.Series]) -> pd.DataFrame:
    """Yearly returns of the strategy and both benchmarks (:func:`core.risk_stats.yearly_returns`) with the
    strategy's excess over each; the years the date range touches."""
    table = yearly_returns(dailies)
    frame = pd.DataFrame({"Year": table.index.astype(int)})
    for key in table.columns:
        frame[_title(key)] = table[key].to_numpy()
    for key in BENCHMARKS:
        if key in table.columns:
            frame[f"Excess vs {_title(key).lower()}"] = (table["strategy"] - table[key]).to_numpy()
    return frame[_years_shown(report, table.index)].reset_index(drop=True)


def drawdowns_frame(daily: pd.Series, top: int = TOP_DRAWDOWNS) -> pd.DataFrame:
    """The ``top`` deepest drawdowns (:func:`core.risk_stats.drawdown_table`): peak, trough, recovery date (or
    ``"not recovered"``), depth and length in calendar days."""
    table = drawdown_table(daily, top)
    columns = ["Rank", "Peak", "Trough", "Recovery", "Depth", "Length (days)"]
    if table.empty:
        return pd.DataFrame({c: [] for c in columns})
    recovery = [end if ok else NOT_RECOVERED for end, ok in zip(table["end_date"], table["recovered"], strict=True)]
    return pd.DataFrame(
        {
            "Rank": table.index.to_numpy(dtype=int),
            "Peak": pd.DatetimeIndex(table["peak_date"]),
            "Trough": pd.DatetimeIndex(table["trough_date"]),
            "Recovery": pd.Series(recovery, dtype=object).to_numpy(),
            "Depth": table["depth"].to_numpy(dtype=float),
            "Length (days)": table["days"].to_numpy(dtype=float),
        }
    )


ROLLING_TITLES: dict[str, str] = {"volatility": "Volatility", "sharpe": "Sharpe ratio", "beta": "Beta"}


def rolling_daily(report: RunReport, returns: dict[str, pd.Series], window: int) -> pd.DataFrame:
    """The daily rolling volatility, Sharpe ratio (:func:`core.risk_stats.rolling_risk`) and beta to the stock
    (:func:`core.risk_stats.rolling_beta_correlation`) over ``window`` returns, inside the date range; the dates
    before the first full window are left out."""
    cfg = report.result.config
    strategy, stock = returns["strategy"], returns[BENCHMARK]
    daily = rolling_risk(strategy, window, cfg.risk_free_rate, cfg.periods_per_year)
    daily["beta"] = rolling_beta_correlation(strategy, stock, window)["beta"].reindex(daily.index)
    return report.clip(daily.dropna(how="all").rename(columns=ROLLING_TITLES))


def rolling_period_ends(report: RunReport, returns: dict[str, pd.Series], window: int) -> pd.DataFrame:
    """``Date``, ``Volatility``, ``Sharpe ratio`` and ``Beta`` of the rolling window ending at each year end and at
    the last date (:func:`core.risk_stats.rolling_at_period_ends`), inside the date range."""
    cfg = report.result.config
    ends = rolling_at_period_ends(returns["strategy"], returns[BENCHMARK], window, cfg.risk_free_rate,
                                  cfg.periods_per_year)  # fmt: skip
    return report.clip(ends).rename(columns=ROLLING_TITLES).reset_index(names="Date")


def tear_sheet(report: RunReport, window: int = ROLLING_WINDOW) -> TearSheet:
    """Every tear-sheet table of ``report`` (see :class:`TearSheet`)."""
    result = report.result
    cfg = result.config
    dailies = report_dailies(report)
    returns = {key: daily_returns(daily) for key, daily in dailies.items()}
    relative = {
        f"vs {_title(key)}": relative_figures(returns["strategy"], returns[key], cfg.risk_free_rate,
                                              cfg.periods_per_year)
        for key in BENCHMARKS if key in returns
    }  # fmt: skip
    distribution = {_title(key): return_distribution(r) for key, r in returns.items()}
    return TearSheet(
        monthly=monthly_returns(report),
        yearly=yearly_table(report, dailies),
        drawdowns=drawdowns_frame(dailies["strategy"]),
        rolling=rolling_daily(report, returns, window),
        rolling_ends=rolling_period_ends(report, returns, window),
        relative=statistics_frame(RELATIVE_STATISTICS, relative),
        distribution=statistics_frame(DISTRIBUTION_STATISTICS, distribution),
        trade_pnl=statistics_frame(PNL_STATISTICS, {"Value": pnl_distribution(result.trades)}),
        window=window,
    )


def statistic_definitions() -> pd.DataFrame:
    """Every tear-sheet figure in the layout of :func:`core.report.definitions.metric_definitions` (name, label,
    group, unit, which way is better, definition), for the workbook's Definitions sheet and the PDF."""
    units = {"pct": "percent", "signed_pct": "percent", "ratio": "ratio", "count": "count", "money": "currency",
             "times": "times a year", "number": "number"}  # fmt: skip
    return pd.DataFrame(
        {
            "Metric": [s.key for s in ALL_STATISTICS],
            "Label": [s.label for s in ALL_STATISTICS],
            "Group": [s.group for s in ALL_STATISTICS],
            "Unit": [units[s.fmt] for s in ALL_STATISTICS],
            "Better": [s.better for s in ALL_STATISTICS],
            "Definition": [s.definition for s in ALL_STATISTICS],
        }
    )
