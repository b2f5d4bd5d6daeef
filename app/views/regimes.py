"""The Regimes page: the price history shaded by market regime (bull, bear, sideways; high or low volatility) and
how the strategy did in each regime beside buy-and-hold.

One function, :func:`regimes_page`, registered with ``st.navigation`` in ``streamlit_app.py``. Labels and metrics
come from :mod:`core.analysis.regimes` (backward-looking labels; a day's return counts in the regime known at the
previous close), charts from :mod:`core.figures_analysis`.
"""

from __future__ import annotations

import json
from datetime import date

import streamlit as st

from app.analysis_context import analysis_context
from app.state import active_period
from app.table_columns import metric_column
from app.widgets import show_chart
from core import StrategyConfig
from core.analysis import RegimeAnalysis, RegimeThresholds, regime_metrics
from core.data import MarketData
from core.figures_analysis import regime_price_figure, regime_returns_figure

DIMENSIONS: dict[str, tuple[str, str]] = {
    # shown name -> (RegimeAnalysis.metrics dimension, label column that shades the price chart)
    "Trend": ("trend", "trend"),
    "Volatility": ("volatility", "vol_regime"),
    "Trend × volatility": ("regime", "trend"),
}
VALUES: dict[str, str] = {"Return": "return", "CAGR": "cagr", "Volatility": "volatility", "Sharpe": "sharpe",
                          "Max drawdown": "max_drawdown"}
REGISTRY_NAMES: dict[str, str] = {"return": "total_return"}  # a per-regime value -> the metric it is computed as


@st.cache_data(show_spinner="Labelling regimes…", max_entries=16)
def _regimes(token: str, period: tuple[date, date] | None, config_json: str, thresholds: RegimeThresholds,
             _data: MarketData) -> RegimeAnalysis:
    # Keyed like the shared backtest (dataset token, period, configuration JSON) plus the thresholds.
    dividends = _data.dividends if len(_data.dividends) else None
    return regime_metrics(_data.prices, StrategyConfig.from_dict(json.loads(config_json)), dividends, thresholds)


def regimes_page() -> None:
    """Regime-shaded price and per-regime metrics of the active configuration and buy-and-hold."""
    st.title("Market regimes")
    ctx = analysis_context("The regime analysis")
    if ctx is None:
        return
    st.caption(
        "Trend: the return over the trend window above the bull threshold is bull, below the bear threshold bear, "
        "otherwise sideways. Volatility: the 21-day volatility above its own one-year rolling median is high "
        "(or above a fixed level, when one is set). Each label uses only earlier prices."
    )
    with st.expander("Regime thresholds", icon=":material/tune:"):
        window = st.number_input("Trend window (trading days)", min_value=5, max_value=504, value=63, step=1,
                                 key="regimes_window")
        bull = st.number_input("Bull above (trend return, %)", min_value=0.0, max_value=100.0, value=5.0, step=0.5,
                               key="regimes_bull")
        bear = st.number_input("Bear below (trend return, %)", min_value=-100.0, max_value=0.0, value=-5.0, step=0.5,
                               key="regimes_bear")
        fixed = st.number_input("Fixed high-volatility level (annual %, 0 = rolling median)", min_value=0.0,
                                max_value=500.0, value=0.0, step=1.0, key="regimes_vol")
    thresholds = RegimeThresholds(
        trend_window=int(window), bull_threshold=bull / 100, bear_threshold=bear / 100,
        vol_threshold=fixed / 100 if fixed > 0 else None,
        periods_per_year=ctx.result.config.periods_per_year,
    )
    try:
        analysis = _regimes(ctx.ref.token, active_period(), json.dumps(ctx.result.config.to_dict(), sort_keys=True),
                            thresholds, ctx.data)
    except ValueError as exc:
        st.error(f"**The regimes could not be computed.** {exc}\n\nAdjust the thresholds above.",
                 icon=":material/error:")
        return

    shown = st.segmented_control("Regimes by", list(DIMENSIONS), default="Trend", key="regimes_dimension")
    dimension, column = DIMENSIONS[shown or "Trend"]
    show_chart(regime_price_figure(analysis.labels, column), key="regimes_price")

    metrics = analysis.metrics
    rows = metrics[(metrics["dimension"] == dimension) & (metrics["n_days"] > 0)]
    value_label = st.selectbox("Compare", list(VALUES), key="regimes_value")
    show_chart(regime_returns_figure(rows, VALUES[value_label]),
                    key="regimes_bars")

    st.subheader("Per-regime metrics")
    st.caption("Returns are compounded over the regime's days chained together; Sharpe and CAGR are annualised.")
    table = rows.drop(columns=["dimension"]).set_index("regime")
    number = st.column_config.NumberColumn
    column_config = {"n_days": number("Days", format="%d"), "share": number("Share of days", format="percent")}
    for prefix, who in (("strategy", "Strategy"), ("buy_hold", "B&H")):
        for label, name in VALUES.items():
            # formats and meanings from the metric registry (the regime's return reads like the total return)
            column_config[f"{prefix}_{name}"] = metric_column(
                REGISTRY_NAMES.get(name, name), f"{who} {label if label.isupper() else label.lower()}")
    column_config["excess_return"] = metric_column("excess_return_vs_buy_hold", "Excess return")
    st.dataframe(table, column_config=column_config, key="regimes_table")
    st.download_button("Download the per-regime metrics (CSV)", metrics.to_csv(index=False).encode("utf-8"),
                       file_name="regime_metrics.csv", mime="text/csv", icon=":material/download:",
                       key="regimes_csv")
