"""The Robustness page: would the active settings have held up out of sample and on other histories?

* **Walk-forward** — a small grid around the active settings (triggers × ⅔, 1, 1½); each fold picks the best on
  its training window and is judged on the unseen window after it; the out-of-sample windows are stitched.
* **Deflated Sharpe** — the Sharpe ratio corrected for having tried several configurations: the trials of the
  latest stored study of the active dataset when there is one, else the grid's configurations.
* **Monte Carlo** — the strategy re-run on bootstrapped price histories: a fan of the paths and the distribution
  of its metrics.

One function, :func:`robustness_page`, registered with ``st.navigation`` in ``streamlit_app.py``. The heavy work
(a few seconds at most) runs on a button press and is cached by dataset, period, settings and options, so it is
shown again without re-running after any other widget changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from app.analysis_context import AnalysisContext, analysis_context
from app.state import active_period
from app.store_access import get_store
from app.table_columns import metric_column, setting_column
from app.widgets import Kpi, metric_label, render_kpis, show_chart
from core import StrategyConfig
from core.analysis import (
    DeflatedSharpe,
    MonteCarloResult,
    WalkForwardResult,
    deflated_sharpe_of_study,
    monte_carlo,
    walk_forward,
)
from core.data import MarketData
from core.engine import METRIC_NAMES, params_matrix, prepare, run_params
from core.figures_analysis import distribution_figure, fan_figure, folds_timeline_figure, stitched_equity_figure
from core.metric_table import format_metric
from core.risk_stats import daily_returns, trigger_grid
from usecases.store import StoreError

OBJECTIVES: tuple[str, ...] = ("sharpe", "cagr", "total_return", "calmar", "sortino")
MC_METRICS: tuple[str, ...] = ("total_return", "sharpe", "max_drawdown", "excess_return_vs_buy_hold")
_WF_KEY = "robustness_wf_settings"  # the settings of the last walk-forward asked for, shown until they change
_MC_KEY = "robustness_mc_settings"


def _dividends(data: MarketData) -> pd.DataFrame | None:
    return data.dividends if len(data.dividends) else None


@st.cache_data(show_spinner=False, max_entries=16)
def _walk_forward(token: str, period: tuple[date, date] | None, config_json: str, settings: tuple[Any, ...],
                  _data: MarketData) -> WalkForwardResult:
    metric, n_folds, mode = settings
    grid = trigger_grid(StrategyConfig.from_dict(json.loads(config_json)))
    return walk_forward(_data.prices, grid, metric=metric, n_folds=n_folds, mode=mode, dividends=_dividends(_data))


@st.cache_data(show_spinner=False, max_entries=16)
def _monte_carlo(token: str, period: tuple[date, date] | None, config_json: str, settings: tuple[Any, ...],
                 _data: MarketData) -> MonteCarloResult:
    n_paths, block, seed = settings
    config = StrategyConfig.from_dict(json.loads(config_json))
    return monte_carlo(_data.prices, config, n_paths=n_paths, block_length=block, seed=seed,
                       dividends=_dividends(_data), n_sample_paths=n_paths)


@st.cache_data(show_spinner=False, max_entries=16)
def _grid_sharpes(token: str, period: tuple[date, date] | None, config_json: str, _data: MarketData) -> np.ndarray:
    # Every grid configuration's Sharpe ratio on the whole active period (one fast kernel sweep).
    grid = trigger_grid(StrategyConfig.from_dict(json.loads(config_json)))
    values = run_params(prepare(_data.prices, _dividends(_data)), params_matrix(grid), 1)
    return values[:, METRIC_NAMES.index("sharpe")]


@dataclass(frozen=True)
class TrialSource:
    """Where the deflated Sharpe's trials come from, for the sentence that names N."""

    sharpes: np.ndarray
    description: str


def _study_trials(ctx: AnalysisContext) -> TrialSource | None:
    """The Sharpe ratios of the latest stored study of the active dataset that has trials, if any."""
    if ctx.ref.kind != "stored":
        return None
    store = get_store()
    for study in store.list_studies(dataset_id=int(ctx.ref.key)):
        trials = store.list_trials(study.id)
        if "sharpe" in trials.columns and len(trials):
            name = study.name or f"study #{study.id}"
            return TrialSource(
                pd.to_numeric(trials["sharpe"], errors="coerce").to_numpy(dtype=float),
                f"the {len(trials):,} trials of the latest stored study of this dataset, “{name}” (#{study.id})",
            )
    return None


def _deflated_sharpe(ctx: AnalysisContext, config_json: str) -> None:
    st.subheader("Deflated Sharpe ratio")
    try:
        source = _study_trials(ctx)
    except StoreError as exc:
        st.warning(f"The stored studies could not be read ({exc}); the grid is used instead.",
                   icon=":material/warning:")
        source = None
    if source is None:
        sharpes = _grid_sharpes(ctx.ref.token, active_period(), config_json, ctx.data)
        source = TrialSource(sharpes, f"the {len(sharpes)} configurations of the grid around the active settings "
                                      "(no stored study of this dataset)")
    returns = daily_returns(ctx.result.daily_equity).to_numpy()
    dsr: DeflatedSharpe = deflated_sharpe_of_study(returns, source.sharpes, ctx.result.config.periods_per_year)
    render_kpis(
        [
            Kpi("Deflated Sharpe", "n/a" if np.isnan(dsr.dsr) else f"{dsr.dsr:.1%}",
                "Probability that the true Sharpe ratio beats the best one expected from N unskilled trials."),
            Kpi("Sharpe (annualised)", f"{dsr.sr_annual:.2f}", "The active settings' Sharpe ratio, no risk-free rate."),
            Kpi("Expected best of N", f"{dsr.sr0_annual:.2f}", "The Sharpe ratio the luckiest of N unskilled trials "
                                                                "would reach (annualised)."),
            Kpi("Trials N", f"{dsr.n_trials:,}", "Configurations tried before choosing these settings."),
        ],
        per_row=4,
    )
    st.caption(f"N = {dsr.n_trials:,}: {source.description}. Above 95 % the Sharpe ratio is unlikely to be luck alone.")


def _walk_forward_section(ctx: AnalysisContext, config_json: str) -> None:
    st.subheader("Walk-forward")
    grid = trigger_grid(ctx.result.config)
    st.caption(
        f"{len(grid)} candidates: the active sell and buy triggers each × ⅔, 1 and 1½. Each fold picks the best "
        "candidate on its training window and is judged on the following, unseen window."
    )
    metric = st.selectbox("Choose by", OBJECTIVES, format_func=metric_label, key="robustness_wf_metric")
    n_folds = st.slider("Folds", min_value=2, max_value=10, value=5, key="robustness_wf_folds")
    mode = st.radio("Training window", ["rolling", "anchored"], horizontal=True, key="robustness_wf_mode",
                    format_func=lambda m: "Rolling (fixed length)" if m == "rolling" else "Anchored (expanding)")
    settings = (metric, int(n_folds), mode)
    key = (ctx.ref.token, active_period(), config_json, settings)
    if st.button("Run walk-forward", icon=":material/play_arrow:", key="robustness_wf_run"):
        st.session_state[_WF_KEY] = key
    if st.session_state.get(_WF_KEY) != key:
        st.caption("Press the button to run it (a few seconds).")
        return
    try:
        with st.spinner("Running the walk-forward…"):
            wf = _walk_forward(ctx.ref.token, active_period(), config_json, settings, ctx.data)
    except ValueError as exc:
        st.error(f"**The walk-forward could not run.** {exc}\n\nUse fewer folds or a longer period.",
                 icon=":material/error:")
        return

    s = wf.summary
    render_kpis(
        [
            Kpi("Out-of-sample return", format_metric("total_return", s["oos_total_return"]),
                "Total return of the stitched out-of-sample windows."),
            Kpi("Buy & hold, same windows", format_metric("total_return", s["buy_and_hold_return"]),
                "Buy-and-hold stitched over the same windows."),
            Kpi("Out-of-sample Sharpe", format_metric("sharpe", s["oos_sharpe"]), "Sharpe of the stitched equity."),
            Kpi("Efficiency", "n/a" if np.isnan(s["efficiency"]) else f"{s['efficiency']:.2f}",
                f"Mean out-of-sample {metric_label(metric)} / mean in-sample; near 1 means it carried over."),
        ],
        per_row=4,
    )
    show_chart(folds_timeline_figure(wf.folds), key="robustness_folds")
    table = wf.folds[["fold", "test_start", "test_end", "in_sample", "out_of_sample", "gap", "oos_percentile"]].copy()
    table["fold"] = table["fold"] + 1
    table["trigger_up"] = wf.chosen_params["trigger_up"].to_numpy()
    table["trigger_down"] = wf.chosen_params["trigger_down"].to_numpy()
    label = metric_label(metric)
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "fold": st.column_config.NumberColumn("Fold", format="%d"),
            "test_start": st.column_config.DateColumn("Test from"),
            "test_end": st.column_config.DateColumn("Test to"),
            "in_sample": metric_column(metric, f"In-sample {label}"),
            "out_of_sample": metric_column(metric, f"Out-of-sample {label}"),
            "gap": metric_column(metric, "Degradation"),
            "oos_percentile": st.column_config.NumberColumn("OOS rank", format="percent"),
            "trigger_up": setting_column("trigger_up", "Chosen sell trigger"),
            "trigger_down": setting_column("trigger_down", "Chosen buy trigger"),
        },
        key="robustness_wf_table",
    )
    show_chart(stitched_equity_figure(wf.equity, wf.buy_and_hold),
                    key="robustness_wf_equity")
    st.download_button("Download the folds (CSV)", wf.folds.to_csv(index=False).encode("utf-8"),
                       file_name="walk_forward_folds.csv", mime="text/csv", icon=":material/download:",
                       key="robustness_wf_csv")


def _monte_carlo_section(ctx: AnalysisContext, config_json: str) -> None:
    st.subheader("Monte Carlo")
    st.caption(
        "The stock's daily returns are resampled in blocks (stationary bootstrap) into synthetic price histories; "
        "the active settings are run on each one."
    )
    n_paths = st.select_slider("Paths", options=[50, 100, 200, 500, 1000], value=200, key="robustness_mc_paths")
    block = st.number_input("Mean block length (days)", min_value=1, max_value=250, value=20,
                            key="robustness_mc_block")
    seed = st.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, key="robustness_mc_seed")
    settings = (int(n_paths), float(block), int(seed))
    key = (ctx.ref.token, active_period(), config_json, settings)
    if st.button("Run Monte Carlo", icon=":material/play_arrow:", key="robustness_mc_run"):
        st.session_state[_MC_KEY] = key
    if st.session_state.get(_MC_KEY) != key:
        st.caption("Press the button to run it (a few seconds).")
        return
    try:
        with st.spinner(f"Simulating {n_paths} paths…"):
            mc = _monte_carlo(ctx.ref.token, active_period(), config_json, settings, ctx.data)
    except ValueError as exc:
        st.error(f"**The Monte Carlo could not run.** {exc}\n\nTry a longer block length or another seed.",
                 icon=":material/error:")
        return

    beats = float(mc.prob_beats_buy_hold.iloc[0])
    st.metric("Paths beating buy & hold", f"{beats:.0%}", border=True,
              help="Share of synthetic histories on which the strategy ended above buy-and-hold.")
    close = ctx.data.prices["close"]
    show_chart(fan_figure(mc.sample_paths, close, title="Price (synthetic paths)"), key="robustness_mc_fan")
    metric = st.selectbox("Distribution of", MC_METRICS, format_func=metric_label, key="robustness_mc_metric")
    pct = mc.percentiles[mc.percentiles["metric"] == metric].iloc[0]
    show_chart(
        distribution_figure(mc.metrics[metric], float(pct["actual"]), label=metric_label(metric),
                            tickformat=".2f" if metric == "sharpe" else ".0%"), key="robustness_mc_dist",
    )
    shown = mc.percentiles[mc.percentiles["metric"].isin(MC_METRICS)].drop(columns=["config"]).copy()
    shown["metric"] = shown["metric"].map(metric_label)
    st.dataframe(shown, hide_index=True, key="robustness_mc_table")
    st.download_button("Download every path's metrics (CSV)", mc.metrics.to_csv(index=False).encode("utf-8"),
                       file_name="monte_carlo_paths.csv", mime="text/csv", icon=":material/download:",
                       key="robustness_mc_csv")


def robustness_page() -> None:
    """Walk-forward, deflated Sharpe and Monte Carlo of the active settings."""
    st.title("Robustness")
    ctx = analysis_context("The robustness analysis")
    if ctx is None:
        return
    config_json = json.dumps(ctx.result.config.to_dict(), sort_keys=True)
    _walk_forward_section(ctx, config_json)
    _deflated_sharpe(ctx, config_json)
    _monte_carlo_section(ctx, config_json)
