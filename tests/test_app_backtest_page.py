"""The Backtest page through Streamlit's AppTest, and the pure Plotly builders and KPI cards behind it."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

from app.widgets import BACKTEST_KPIS, backtest_kpis
from core import StrategyConfig, simulate
from core.data import load_sample
from core.data import samples as sample_registry
from core.figures import drawdown_figure, equity_figure
from core.metric_table import format_metric

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
KPI_LABELS = [label for _, label, _ in BACKTEST_KPIS]


def run_app() -> AppTest:
    # Generous timeout: the first simulate in a fresh process may have to load or compile the Numba kernel.
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown_metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def expected_metrics(key: str) -> dict[str, float]:
    data = load_sample(key)
    return simulate(data.prices, StrategyConfig(), data.dividends if len(data.dividends) else None).metrics


def test_page_runs_and_shows_the_metrics():
    at = run_app()
    assert not at.error
    assert at.title[0].value == "Backtest"
    assert at.selectbox(key="backtest_dataset").value == "GOOG"

    shown = shown_metrics(at)
    assert list(shown) == KPI_LABELS
    expected = expected_metrics("GOOG")
    assert shown["Total return"] == format_metric("total_return", expected["total_return"])
    assert shown["Trades"] == f"{expected['n_trades']:,.0f}"
    assert shown["Excess vs buy & hold"] == format_metric(
        "excess_return_vs_buy_hold", expected["excess_return_vs_buy_hold"]
    )

    assert len(at.get("plotly_chart")) == 2
    comparison, trades = at.dataframe
    assert list(comparison.value.columns) == ["Strategy", "Buy & hold", "Static mix"]
    assert len(trades.value) == expected["n_trades"] + 1  # the initial purchase is listed too


def test_switching_the_dataset_changes_the_numbers():
    at = run_app()
    goog = shown_metrics(at)
    at.selectbox(key="backtest_dataset").set_value("SP500").run()
    assert not at.exception and not at.error
    sp500 = shown_metrics(at)
    assert sp500["Total return"] != goog["Total return"]
    assert sp500["Trades"] != goog["Trades"]
    expected = expected_metrics("SP500")
    assert sp500["Total return"] == format_metric("total_return", expected["total_return"])
    assert sp500["Sharpe"] == format_metric("sharpe", expected["sharpe"])


def test_a_dataset_that_cannot_load_is_explained_not_raised(monkeypatch):
    broken = dataclasses.replace(sample_registry.SAMPLES["GOOG"], key="BROKEN", name="Broken sample", file="gone.csv")
    monkeypatch.setitem(sample_registry.SAMPLES, "BROKEN", broken)
    at = run_app()
    at.selectbox(key="backtest_dataset").set_value("BROKEN").run()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "could not be loaded" in message and "gone.csv" in message and "data/" in message
    assert not at.metric


# --- figures and KPI cards (no Streamlit runtime) ---------------------------------------------------------------


@pytest.fixture(scope="module")
def result():
    return simulate(load_sample("GOOG").prices, StrategyConfig())


def test_equity_figure_has_strategy_and_both_benchmarks(result):
    fig = equity_figure(result.equity, result.benchmarks)
    assert isinstance(fig, go.Figure)
    assert [t.name for t in fig.data] == ["Strategy", "Buy & hold", "Static mix"]
    np.testing.assert_array_equal(fig.data[0].y, result.equity.to_numpy())
    np.testing.assert_array_equal(fig.data[1].y, result.benchmarks["buy_and_hold"].to_numpy())
    np.testing.assert_array_equal(fig.data[2].y, result.benchmarks["static_mix"].to_numpy())
    assert fig.layout.yaxis.type == "linear"
    assert equity_figure(result.equity, result.benchmarks, log_scale=True).layout.yaxis.type == "log"
    assert [t.name for t in equity_figure(result.equity).data] == ["Strategy"]


def test_drawdown_figure_is_the_fall_from_the_running_peak(result):
    fig = drawdown_figure(result.equity, result.benchmarks)
    assert [t.name for t in fig.data] == ["Strategy", "Buy & hold", "Static mix"]
    for trace in fig.data:
        assert np.nanmax(trace.y) <= 0.0
    index = pd.date_range("2024-01-01", periods=4)
    small = drawdown_figure(pd.Series([100.0, 120.0, 90.0, 130.0], index=index))
    np.testing.assert_allclose(small.data[0].y, [0.0, 0.0, -0.25, 0.0])


def test_kpi_cards_format_fractions_counts_and_missing_values():
    metrics = {name: math.nan for name, _, _ in BACKTEST_KPIS}
    metrics.update({"total_return": 0.1234, "n_trades": 1234.0, "max_drawdown": -0.05})
    cards = {k.label: k.value for k in backtest_kpis(metrics)}
    assert cards["Total return"] == "12.34 %"
    assert cards["Trades"] == "1,234"
    assert cards["Max drawdown"] == "-5.00 %"
    assert cards["Sharpe"] == "n/a"
    assert all(k.help for k in backtest_kpis(metrics))
