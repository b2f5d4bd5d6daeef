"""The Backtest page: the default strategy on a bundled price history, next to its two benchmarks.

One function, :func:`backtest_page`, registered with ``st.navigation`` in ``streamlit_app.py``.
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from app.data import DEFAULT_SAMPLE, load_sample_data, samples
from app.store_access import open_store_or_report, parse_tags, store_errors
from app.widgets import backtest_kpis, metric_label, render_kpis, render_problem
from core import ConfigError, DataError, SimulationResult, StrategyConfig, simulate
from core.data import MarketData
from core.figures import drawdown_figure, equity_figure
from core.metric_table import COLUMN_TITLES, RETURN_AND_RISK, format_metric, metrics_table


def settings_summary(config: StrategyConfig) -> str:
    """The settings of a run in one sentence, in the percentages people read (the core itself takes fractions)."""
    c = config
    return (
        f"Settings: {c.initial_capital:,.0f} starting capital, {c.initial_stock_pct:.0%} of it in stock; "
        f"sell {c.trigger_up:.1%} above / buy {c.trigger_down:.1%} below the anchor with {c.sizing.replace('_', ' ')} "
        f"sizing (r = {c.rebalance_ratio:g}); guardrails {c.guardrail_min:.0%} to {c.guardrail_max:.0%}; commission "
        f"{c.commission_rate:.2%}; minimum order {c.min_notional:,.0f}; dividend withholding tax "
        f"{c.withholding_tax_rate:.0%}."
    )


def comparison_frame(result: SimulationResult, timezone: str) -> pd.DataFrame:
    """Return and risk figures of the strategy, buy-and-hold and the static mix as display strings."""
    table = metrics_table(result, timezone).loc[list(RETURN_AND_RISK)]
    shown = pd.DataFrame(
        {
            COLUMN_TITLES[column]: [
                format_metric(name, value) if math.isfinite(value) or column == "strategy" else ""
                for name, value in table[column].items()
            ]
            for column in table.columns
        },
        index=pd.Index([metric_label(name) for name in table.index], name="Metric"),
    )
    return shown


def _trade_columns(trades: pd.DataFrame) -> dict[str, object]:
    stamps = pd.DatetimeIndex(trades["timestamp"]) if len(trades) else pd.DatetimeIndex([])
    daily = bool((stamps == stamps.normalize()).all())
    cc = st.column_config
    return {
        "timestamp": cc.DatetimeColumn("Time", format="YYYY-MM-DD" if daily else "YYYY-MM-DD HH:mm"),
        "kind": cc.TextColumn("Kind"),
        "side": cc.TextColumn("Side"),
        "qty": cc.NumberColumn("Shares", format="%.4f"),
        "price": cc.NumberColumn("Price", format="%.2f"),
        "notional": cc.NumberColumn("Notional", format="%.2f"),
        "commission": cc.NumberColumn("Commission", format="%.2f"),
        "anchor_before": cc.NumberColumn("Anchor before", format="%.2f"),
        "anchor_after": cc.NumberColumn("Anchor after", format="%.2f"),
        "shares_after": cc.NumberColumn("Shares after", format="%.4f"),
        "cash_after": cc.NumberColumn("Cash after", format="%.2f"),
        "asset_pct_after": cc.NumberColumn("Stock share after", format="percent"),
        "reason": cc.TextColumn("Why", width="large"),
    }


def backtest_page() -> None:
    """Pick a bundled dataset, run the default strategy on it and show metrics, equity, drawdown and trades."""
    st.title("Backtest")
    st.caption(
        "The volatility-balancing strategy with its default settings: sell part of the stock when the price rises "
        "past the trigger above the anchor, buy when it falls past the one below, and keep the stock share inside "
        "the guardrails. Buy & hold puts all capital in the stock on day one; the static mix keeps the starting "
        "split and never trades."
    )

    catalogue = samples()
    keys = list(catalogue)
    key = st.selectbox(
        "Dataset",
        keys,
        index=keys.index(DEFAULT_SAMPLE) if DEFAULT_SAMPLE in keys else 0,
        format_func=lambda k: catalogue[k].name,
        key="backtest_dataset",
    )
    info = catalogue[key]
    st.caption(
        f"{info.description} {info.period}, {info.rows:,} bars. Dividends: {info.dividends}. "
        f"Source: {info.origin}; licence: {info.licence}."
    )

    try:
        data = load_sample_data(key)
    except DataError as exc:
        render_problem(
            f"The {key} dataset could not be loaded",
            exc,
            "Restore the project's data/ folder (a fresh checkout has it) or choose another dataset.",
        )
        return

    config = StrategyConfig()
    try:
        result = simulate(data.prices, config, data.dividends if len(data.dividends) else None)
    except (DataError, ConfigError) as exc:
        render_problem(
            f"The backtest on {key} could not run",
            exc,
            "The bundled data and the default settings should always work together: choose another dataset and "
            "report this one.",
        )
        return

    st.caption(settings_summary(config))
    render_kpis(backtest_kpis(result.metrics))

    st.subheader("Account value")
    log_scale = st.toggle(
        "Logarithmic scale",
        value=False,
        key="backtest_log_scale",
        help="Equal percentage moves look equally large; helps with long histories.",
    )
    st.plotly_chart(equity_figure(result.equity, result.benchmarks, log_scale=log_scale), key="backtest_equity")
    st.subheader("Drawdown")
    st.plotly_chart(drawdown_figure(result.equity, result.benchmarks), key="backtest_drawdown")

    st.subheader("Strategy vs benchmarks")
    st.dataframe(comparison_frame(result, data.timezone), width="content")

    trades = result.trades
    st.subheader(f"Trades ({len(trades):,})")
    st.caption("Every executed order, the initial purchase first, with the reason it was placed.")
    st.dataframe(trades, hide_index=True, height=420, column_config=_trade_columns(trades))
    st.download_button(
        "Download trades (CSV)",
        trades.to_csv(index=False).encode("utf-8"),
        file_name=f"{data.symbol.strip('^')}_trades.csv",
        mime="text/csv",
        key="backtest_trades_csv",
    )

    save_run_form(data, result)


def save_run_form(data: MarketData, result: SimulationResult) -> None:
    """The "Save run" form: stores the dataset (once per content hash) and the run, and confirms with the run id.

    The store is opened when the section is drawn, not on submit, so that the app upgrades an existing database on
    start and a broken one is reported right away; the backtest above stays usable either way.
    """
    st.subheader("Save run")
    store = open_store_or_report("Runs cannot be saved: the run store is not available")
    if store is None:
        return
    st.caption("Keeps the dataset, settings, metrics and trades, so that the run can be re-run on the Runs page.")
    with st.form("backtest_save_run", clear_on_submit=False):
        name = st.text_input("Name", value=f"{data.symbol} default settings", max_chars=200, key="save_run_name")
        tags_text = st.text_input(
            "Tags", placeholder="baseline, defaults", help="Separated by commas.", key="save_run_tags"
        )
        notes = st.text_area("Notes", key="save_run_notes")
        submitted = st.form_submit_button("Save run", icon=":material/save:")
    if submitted:
        with store_errors("The run could not be saved"):
            dataset_id = store.save_dataset(data)
            run_id = store.save_run(dataset_id, result, name=name, tags=parse_tags(tags_text), notes=notes)
            st.success(
                f"Saved as run {run_id} (dataset {dataset_id}). Find it on the Runs page.",
                icon=":material/check_circle:",
            )
