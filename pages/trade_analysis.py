"""The Trade analysis page: what the strategy's orders did — realised P&L per sell, win rate, holding periods, when
it traded, how large its orders were, what they cost, and which orders it wanted but could not place.

One function, :func:`trade_analysis_page`, registered with ``st.navigation`` in ``streamlit_app.py``. The numbers
come from :mod:`core.trade_stats`, the charts from :mod:`core.figures_analysis`. This module also holds
:func:`analysis_context`, the header every analysis page shares (which dataset and settings it analyses).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitAPIException

from app.data import samples
from app.state import DatasetRef, active_config, active_data, active_dataset, active_period, active_result
from app.store_access import get_store
from app.widgets import Kpi, render_kpis, render_problem
from core import ConfigError, DataError, SimulationResult
from core.data import MarketData
from core.figures_analysis import fees_figure, histogram_figure, pnl_figure, side_counts_figure
from core.report.images import PLOTLY_TOOLBAR_CONFIG
from core.trade_stats import (
    fees_by_month,
    holding_periods,
    order_kind_counts,
    orders,
    sell_pnl,
    skipped_orders,
    trade_summary,
    trades_by,
)
from pages import backtest
from pages.backtest import backtest_page, settings_summary
from storage import StoreError


@dataclass(frozen=True)
class AnalysisContext:
    """What an analysis page works on: the active dataset (cut to the active period) and its cached backtest."""

    ref: DatasetRef
    label: str
    data: MarketData
    result: SimulationResult


def dataset_label(ref: DatasetRef) -> str:
    """A readable name of the dataset behind ``ref`` ("GOOG (bundled sample)", "my upload (stored #3)")."""
    if ref.kind == "sample":
        info = samples().get(str(ref.key))
        return f"{info.name if info else ref.key} (bundled sample)"
    try:
        return f"{get_store().get_dataset(int(ref.key)).name} (stored #{ref.key})"
    except StoreError:
        return f"stored dataset #{ref.key}"


def backtest_link() -> None:
    """A link to the Backtest page, where the active dataset, period and settings are changed.

    ``st.page_link`` needs a page object; one built with the registered url_path identifies the same page (pages
    are identified by a hash of their url_path), so the analysis pages need no import of the router.
    """
    page = st.Page(backtest_page, title="Backtest", icon=":material/query_stats:", url_path=backtest.URL_PATH)
    try:
        st.page_link(page, label="Change the dataset, period or settings on the Backtest page", icon=":material/tune:")
    except StreamlitAPIException:  # the Backtest page is registered under another url_path: say it in words
        st.caption("Change the dataset, period or settings on the Backtest page.")


def analysis_context(what: str) -> AnalysisContext | None:
    """Show which dataset, period and settings the page analyses (with the link to change them) and return them;
    ``None`` after an error box when the dataset or the backtest cannot be produced.

    ``what`` names the page's subject for the error message ("The trade analysis").
    """
    ref = active_dataset()
    label = dataset_label(ref)
    config = active_config()
    period = active_period()
    span = f"{period[0]:%Y-%m-%d} to {period[1]:%Y-%m-%d}" if period else "the whole history"
    st.caption(f"**Dataset:** {label}, {span}. {settings_summary(config)}")
    backtest_link()
    try:
        data = active_data()
        result = active_result()
    except DataError as exc:
        render_problem(f"{what} has no data", exc, "Choose another dataset on the Backtest page.")
        return None
    except ConfigError as exc:
        render_problem(f"{what} cannot run these settings", exc, "Correct the settings on the Backtest page.")
        return None
    return AnalysisContext(ref=ref, label=label, data=data, result=result)


def _fmt(value: float, spec: str) -> str:
    return "n/a" if pd.isna(value) else format(value, spec)


def trade_analysis_page() -> None:
    """Realised P&L, win rate, holding periods, timing, sizes, fees and skipped orders of the active backtest."""
    st.title("Trade analysis")
    ctx = analysis_context("The trade analysis")
    if ctx is None:
        return
    trades, timeline = ctx.result.trades, ctx.result.timeline
    placed = orders(trades)
    if placed.empty:
        st.info(
            "The strategy placed no order on this data after its initial purchase: there is nothing to analyse. "
            "Narrower triggers on the Backtest page make it trade.",
            icon=":material/info:",
        )
        return

    summary = trade_summary(trades)
    render_kpis(
        [
            Kpi("Orders", f"{len(placed):,}", "Trigger and rebalance orders executed (the initial purchase excluded)."),
            Kpi("Sells", f"{summary['n_sells']:,.0f}", "Sells realise a profit or loss against the average cost."),
            Kpi("Win rate", _fmt(summary["win_rate"], ".1%"), "Share of sells with a positive realised P&L."),
            Kpi("Profit factor", _fmt(summary["profit_factor"], ".2f"), "Sum of gains / sum of losses of the sells."),
            Kpi("Realised P&L", _fmt(summary["realised_pnl"], ",.0f"), "Total realised P&L of every sell, after fees."),
            Kpi("Mean win", _fmt(summary["mean_win"], ",.2f"), "Average realised P&L of a winning sell."),
            Kpi("Mean loss", _fmt(summary["mean_loss"], ",.2f"), "Average realised P&L of a losing sell."),
            Kpi(
                "Median holding",
                _fmt(summary["median_holding_days"], ",.0f") + " days",
                "Calendar days the shares a sell sold had been held (first in, first out), median over sells.",
            ),
        ],
        per_row=4,
    )

    st.subheader("Realised P&L per sell")
    sells = sell_pnl(trades)
    if sells.empty:
        st.info("The strategy never sold on this data.", icon=":material/info:")
    else:
        st.plotly_chart(pnl_figure(sells), config=PLOTLY_TOOLBAR_CONFIG, key="trades_pnl_chart")
        held = holding_periods(trades)
        st.subheader("Holding periods")
        st.caption("Age of the shares each sell sold, first in first out (share-weighted mean, calendar days).")
        st.plotly_chart(
            histogram_figure(held["holding_days"], label="Holding period (days)"),
            config=PLOTLY_TOOLBAR_CONFIG,
            key="trades_holding_chart",
        )
        table = sells.merge(held[["holding_days"]], left_index=True, right_index=True)
        st.download_button(
            "Download the sells (CSV)",
            table.to_csv(index=False).encode("utf-8"),
            file_name="sells_pnl.csv",
            mime="text/csv",
            icon=":material/download:",
            key="trades_sells_csv",
        )

    st.subheader("When it traded")
    grouping = st.segmented_control(
        "Orders per", ["month", "weekday"], default="month", format_func=str.capitalize, key="trades_grouping"
    )
    by = grouping or "month"
    counts = trades_by(trades, by)
    st.plotly_chart(side_counts_figure(counts), config=PLOTLY_TOOLBAR_CONFIG, key="trades_timing_chart")
    st.dataframe(counts.T, key="trades_timing_table")

    st.subheader("Order sizes")
    st.plotly_chart(
        histogram_figure(placed["notional"], label="Order value"), config=PLOTLY_TOOLBAR_CONFIG, key="trades_sizes"
    )

    st.subheader("Fees over time")
    st.plotly_chart(fees_figure(fees_by_month(trades)), config=PLOTLY_TOOLBAR_CONFIG, key="trades_fees_chart")

    st.subheader("Trigger and rebalance orders")
    st.caption(
        "Trigger orders follow a price move past a trigger; rebalance orders bring the stock share back inside "
        "the guardrails."
    )
    st.dataframe(order_kind_counts(trades), key="trades_kinds_table")

    st.subheader("Skipped orders")
    skipped = skipped_orders(timeline)
    if skipped.empty:
        st.caption("No order was skipped.")
    else:
        st.caption("Orders the rules wanted but did not place, by reason (e.g. below the minimum order size).")
        st.dataframe(skipped, hide_index=True, key="trades_skipped_table")
