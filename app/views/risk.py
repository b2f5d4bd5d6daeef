"""The Risk page: how bumpy the active backtest's ride was — rolling volatility and Sharpe, its drawdowns, the
distribution of daily returns with VaR and CVaR, monthly returns, and how closely it follows the stock.

One function, :func:`risk_page`, registered with ``st.navigation`` in ``streamlit_app.py``. Numbers come from
:mod:`core.risk_stats` and :mod:`core.metrics`, charts from :mod:`core.figures_analysis`.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.analysis_context import analysis_context
from app.widgets import Kpi, render_kpis, show_chart
from core.figures_analysis import monthly_heatmap_figure, returns_distribution_figure, rolling_figure
from core.metrics import conditional_value_at_risk, daily_equity, value_at_risk
from core.risk_stats import (
    beta_correlation,
    daily_returns,
    drawdown_table,
    monthly_returns,
    rolling_beta_correlation,
    rolling_risk,
)

# Rolling windows offered, in trading days.
WINDOWS: dict[int, str] = {21: "1 month (21 days)", 63: "3 months (63 days)", 126: "6 months (126 days)",
                           252: "1 year (252 days)"}


def _fmt(value: float, spec: str) -> str:
    return "n/a" if pd.isna(value) else format(value, spec)


def risk_page() -> None:
    """Rolling risk, drawdowns, return distribution, monthly returns and beta of the active backtest."""
    st.title("Risk")
    ctx = analysis_context("The risk analysis")
    if ctx is None:
        return
    result, cfg = ctx.result, ctx.result.config
    strategy = daily_returns(result.daily_equity)
    stock = daily_returns(daily_equity(result.benchmarks["buy_and_hold"], cfg.initial_capital, ctx.data.timezone))
    if len(strategy) < 3:
        st.info("The period is too short for risk figures: choose a longer one on the Backtest page.",
                icon=":material/info:")
        return

    window = st.selectbox("Rolling window", list(WINDOWS), index=1, format_func=WINDOWS.get, key="risk_window")
    level = st.select_slider(
        "VaR / CVaR confidence", options=[0.90, 0.95, 0.99], value=0.95, format_func=lambda v: f"{v:.0%}",
        key="risk_level",
    )
    tail = 1.0 - level
    var, cvar = value_at_risk(strategy.to_numpy(), tail), conditional_value_at_risk(strategy.to_numpy(), tail)
    link = beta_correlation(strategy, stock)
    render_kpis(
        [
            Kpi(f"VaR {level:.0%}", _fmt(var, ".2%"), f"A day's return is at or below this on {tail:.0%} of days."),
            Kpi(f"CVaR {level:.0%}", _fmt(cvar, ".2%"), "Average return of the days at or below the VaR."),
            Kpi("Beta to the stock", _fmt(link["beta"], ".2f"),
                "How much the account moves per 1 % move of the stock (daily returns against buy-and-hold's)."),
            Kpi("Correlation", _fmt(link["correlation"], ".2f"),
                "Pearson correlation of daily returns with the stock's."),
        ],
        per_row=4,
    )

    st.subheader("Rolling volatility and Sharpe")
    rolling = rolling_risk(strategy, window, cfg.risk_free_rate, cfg.periods_per_year)
    if rolling.dropna(how="all").empty:
        st.info(f"The period has fewer than {window} daily returns: choose a shorter window.", icon=":material/info:")
    else:
        show_chart(
            rolling_figure(rolling[["volatility"]], title="Volatility (annualised)", tickformat=".0%"),
            key="risk_rolling_vol",
        )
        show_chart(rolling_figure(rolling[["sharpe"]], title="Sharpe (annualised)"), key="risk_rolling_sharpe")

    st.subheader("Drawdowns")
    top = st.number_input("Deepest drawdowns listed", min_value=1, max_value=50, value=10, key="risk_top")
    drawdowns = drawdown_table(result.daily_equity, int(top))
    if drawdowns.empty:
        st.caption("The account value never fell below a previous peak.")
    else:
        st.dataframe(
            drawdowns,
            column_config={
                "peak_date": st.column_config.DateColumn("Peak"),
                "trough_date": st.column_config.DateColumn("Trough"),
                "end_date": st.column_config.DateColumn("Recovered / last day"),
                "depth": st.column_config.NumberColumn("Depth", format="percent"),
                "days": st.column_config.NumberColumn("Days", format="%d"),
                "recovered": st.column_config.CheckboxColumn("Recovered"),
            },
            key="risk_drawdowns",
        )
        st.download_button("Download the drawdowns (CSV)", drawdowns.to_csv().encode("utf-8"),
                           file_name="drawdowns.csv", mime="text/csv", icon=":material/download:", key="risk_dd_csv")

    st.subheader("Distribution of daily returns")
    show_chart(returns_distribution_figure(strategy, var, cvar, tail),
                    key="risk_distribution")

    st.subheader("Monthly returns")
    monthly = monthly_returns(result.daily_equity)
    show_chart(monthly_heatmap_figure(monthly), key="risk_monthly")
    st.download_button("Download the monthly returns (CSV)", monthly.to_csv().encode("utf-8"),
                       file_name="monthly_returns.csv", mime="text/csv", icon=":material/download:",
                       key="risk_monthly_csv")

    st.subheader("Beta and correlation to the stock")
    st.caption(f"Over a rolling {WINDOWS[window]} window; the stock is the buy-and-hold benchmark.")
    show_chart(
        rolling_figure(rolling_beta_correlation(strategy, stock, window), title="Beta / correlation"), key="risk_beta"
    )
