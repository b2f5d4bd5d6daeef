"""The Trade analysis page: what the strategy's orders did — realised P&L per sell, win rate, holding periods, when
it traded, how large its orders were, what they cost, and which orders it wanted but could not place.

One function, :func:`trade_analysis_page`, registered with ``st.navigation`` in ``streamlit_app.py``. The numbers
come from :mod:`core.trade_stats`, the charts from :mod:`core.figures_analysis`.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.analysis_context import analysis_context
from app.widgets import Kpi, render_kpis, show_chart
from core.figures_analysis import fees_figure, histogram_figure, pnl_figure, side_counts_figure
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
        show_chart(pnl_figure(sells), key="trades_pnl_chart")
        held = holding_periods(trades)
        st.subheader("Holding periods")
        st.caption("Age of the shares each sell sold, first in first out (share-weighted mean, calendar days).")
        show_chart(
            histogram_figure(held["holding_days"], label="Holding period (days)"),
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
    show_chart(side_counts_figure(counts), key="trades_timing_chart")
    st.dataframe(counts.T, key="trades_timing_table")

    st.subheader("Order sizes")
    show_chart(
        histogram_figure(placed["notional"], label="Order value"), key="trades_sizes"
    )

    st.subheader("Fees over time")
    show_chart(fees_figure(fees_by_month(trades)), key="trades_fees_chart")

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
