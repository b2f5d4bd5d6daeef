"""Tables derived from a run for the exports: daily equity with benchmarks and drawdowns, monthly returns,
configuration rows and the metrics table with labels. Shared by the workbook, the PDF and the CSV exports."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.config_registry import CONFIG_FIELDS
from core.figures import STYLES
from core.metric_table import COLUMN_TITLES, metric_info
from core.metrics import drawdown_series
from core.report.context import RunReport
from core.report.formats import unit_text
from core.risk_stats import monthly_returns as risk_monthly_returns

MONTHS: tuple[str, ...] = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _last_per_date(series: pd.Series) -> pd.Series:
    index = pd.DatetimeIndex(series.index)
    if index.tz is not None:
        index = index.tz_localize(None)
    daily = pd.Series(series.to_numpy(dtype=float), index=index.normalize())
    return daily[~daily.index.duplicated(keep="last")]


def daily_table(report: RunReport) -> pd.DataFrame:
    """One row per calendar date with bars (the day's last bar): the strategy and each benchmark's value and
    drawdown, the stock share and the guardrail band. Drawdowns are measured over the whole run."""
    result = report.result
    cfg = result.config
    lines = {"strategy": result.equity, **{str(c): result.benchmarks[c] for c in result.benchmarks.columns}}
    daily = {key: _last_per_date(series) for key, series in lines.items()}
    index = daily["strategy"].index
    frame = pd.DataFrame({"Date": index})
    for key, series in daily.items():
        frame[STYLES[key].name if key in STYLES else key] = series.to_numpy()
    for key, series in daily.items():
        name = STYLES[key].name if key in STYLES else key
        frame[f"{name} drawdown"] = drawdown_series(series.to_numpy())
    frame["Stock share"] = _last_per_date(result.timeline["stock_share"]).to_numpy()
    frame["Guardrail min"] = cfg.guardrail_min
    frame["Guardrail max"] = cfg.guardrail_max
    return report.clip(frame.set_index("Date", drop=False)).reset_index(drop=True)


def monthly_returns(report: RunReport) -> pd.DataFrame:
    """Strategy returns per calendar month (columns Jan..Dec) and per year (``Total``), one row per year: the Risk
    page's table (:func:`core.risk_stats.monthly_returns` of the run's daily series) with month names.

    The first month is measured from the initial capital; months outside the date range are left out.
    """
    table = risk_monthly_returns(report.result.daily_equity)
    frame = pd.DataFrame({"Year": table.index.astype(int)})
    for month, label in enumerate(MONTHS, start=1):
        frame[label] = table[month].to_numpy(dtype=float)
    frame["Total"] = table["year"].to_numpy(dtype=float)
    start = pd.Timestamp(report.start) if report.start else None
    end = pd.Timestamp(report.end) if report.end else None
    if start is not None or end is not None:
        for month, label in enumerate(MONTHS, start=1):
            first_day = pd.to_datetime({"year": frame["Year"], "month": month, "day": 1})
            outside = np.zeros(len(frame), dtype=bool)
            if end is not None:
                outside |= (first_day > end).to_numpy()
            if start is not None:
                outside |= (first_day + pd.offsets.MonthEnd(0) < start).to_numpy()
            frame.loc[outside, label] = math.nan
    return frame[frame[list(MONTHS)].notna().any(axis=1)].reset_index(drop=True)


DIVIDEND_COLUMNS: dict[str, str] = {
    "ex_date": "Ex date", "pay_date": "Pay date", "amount": "Amount per share", "shares": "Shares",
    "gross": "Gross", "withholding": "Withheld", "net": "Net", "paid": "Paid", "paid_at": "Paid at",
}  # fmt: skip


def dividend_table(report: RunReport) -> pd.DataFrame:
    """The run's booked dividends with readable headers (ex date, pay date, amount per share, shares, gross,
    withheld, net, paid, paid at), those with an ex-date inside the date range."""
    divs = report.result.dividends
    divs = report.clip(divs, "ex_date") if len(divs) else divs
    frame = divs.reindex(columns=list(DIVIDEND_COLUMNS)).rename(columns=DIVIDEND_COLUMNS).reset_index(drop=True)
    for column in ("Ex date", "Pay date", "Paid at"):
        frame[column] = pd.to_datetime(frame[column])
    frame["Paid"] = frame["Paid"].astype(bool)
    return frame


@dataclass(frozen=True)
class ConfigRow:
    """One configuration field as the exports show it: its label, raw value, unit and the value as text."""

    name: str
    label: str
    value: Any
    unit: str
    text: str


def config_rows(report: RunReport) -> list[ConfigRow]:
    """Every configuration field, in registry order, with its label, unit and value text (``3 %`` for 0.03)."""
    config = report.result.config
    rows = []
    for field in CONFIG_FIELDS:
        value = getattr(config, field.name)
        rows.append(ConfigRow(field.name, field.label, value, field.unit, unit_text(field.unit, value)))
    return rows


def labelled_metrics(report: RunReport) -> pd.DataFrame:
    """The metrics table with a ``Metric`` label column, the registry's ``Definition`` (what a count counts: the
    initial purchase is no trade, its commission is paid) and the ``fmt`` of each row (for number formats)."""
    table = report.table
    frame = pd.DataFrame(
        {
            "Metric": [metric_info(n).label for n in table.index],
            **{COLUMN_TITLES.get(c, c): table[c].to_numpy() for c in table.columns},
            "Definition": [metric_info(n).definition for n in table.index],
        }
    )
    frame["key"] = list(table.index)
    frame["fmt"] = [metric_info(n).fmt for n in table.index]
    return frame
