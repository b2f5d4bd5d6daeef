"""The portfolio's Plotly figures (``core.figures_portfolio``) draw exactly the result's series, in the theme, with
a title on every figure and the heatmaps' one orientation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import StrategyConfig
from core.data.samples import load_sample
from core.figures_portfolio import (
    CHART_TITLES,
    POOL_LABEL,
    PORTFOLIO_CHARTS,
    allocation_columns,
    allocation_figure,
    contributions_figure,
    correlation_figure,
    portfolio_equity_figure,
    portfolio_figures,
)
from core.portfolio import POOL, PortfolioCell, PortfolioRules, simulate_portfolio
from core.theme import COLORS, FONTS, SERIES


def _portfolio(names: tuple[str, ...], weight: float, rules: PortfolioRules):
    cells = []
    for name in names:
        md = load_sample(name)
        cells.append(PortfolioCell(name, md.prices, StrategyConfig(trigger_up=0.04), weight, md.dividends))
    return simulate_portfolio(cells, rules)


@pytest.fixture(scope="module")
def pooled():
    """Three cells at 30 % each, 10 % in a cash pool, re-allocated every year."""
    return _portfolio(("INTC", "MMM", "COST"), 0.3, PortfolioRules(cash_pool=True, reallocation="yearly"))


@pytest.fixture(scope="module")
def unpooled():
    return _portfolio(("INTC", "MMM"), 0.5, PortfolioRules())


def test_every_figure_has_a_title_and_the_theme(pooled) -> None:
    figures = portfolio_figures(pooled)
    assert tuple(figures) == PORTFOLIO_CHARTS
    for key, fig in figures.items():
        assert fig.layout.title.text == CHART_TITLES[key]
        assert fig.layout.template.layout.font.family == FONTS.family  # the project's template, applied
        assert fig.layout.margin.t >= 40  # room for the title above the plot


def test_equity_is_the_portfolio_against_its_two_benchmarks(pooled) -> None:
    fig = portfolio_equity_figure(pooled.equity, pooled.benchmarks)
    assert [t.name for t in fig.data] == ["Portfolio", "Equal-weight buy & hold", "Initial mix"]
    np.testing.assert_array_equal(fig.data[0].y, pooled.equity.to_numpy())
    np.testing.assert_array_equal(fig.data[1].y, pooled.benchmarks["equal_weight_buy_and_hold"].to_numpy())
    np.testing.assert_array_equal(fig.data[2].y, pooled.benchmarks["initial_mix"].to_numpy())
    # the single run's styles: the portfolio is the strategy's line, the benchmarks buy-and-hold's and the mix's
    assert fig.data[0].line.color == SERIES["strategy"].color
    assert fig.data[1].line.color == SERIES["buy_and_hold"].color
    assert fig.data[2].line.dash == SERIES["static_mix"].dash
    assert fig.layout.yaxis.type == "linear"
    assert portfolio_equity_figure(pooled.equity, pooled.benchmarks, log_scale=True).layout.yaxis.type == "log"


def test_contributions_are_the_cells_profits(pooled) -> None:
    fig = contributions_figure(pooled.contributions)
    bar = fig.data[0]
    assert list(bar.x) == ["INTC", "MMM", "COST"]
    np.testing.assert_array_equal(bar.y, pooled.contributions["profit"].to_numpy())
    assert list(bar.marker.color) == [COLORS.buy if p >= 0 else COLORS.sell for p in pooled.contributions["profit"]]


def test_a_loss_is_a_red_bar() -> None:
    frame = pd.DataFrame({"cell": ["A", "B"], "profit": [120.0, -40.0], "share_of_profit": [1.5, -0.5]})
    assert list(contributions_figure(frame).data[0].marker.color) == [COLORS.buy, COLORS.sell]


def test_the_correlation_heatmap_prints_its_values_with_a_legend_first_cell_at_the_bottom(pooled) -> None:
    corr = pooled.correlation
    fig = correlation_figure(corr)
    heat = fig.data[0]
    np.testing.assert_array_equal(np.asarray(heat.z, dtype=float), corr.to_numpy())
    assert list(heat.x) == list(heat.y) == ["INTC", "MMM", "COST"]
    # categories in their order from the bottom, as every heatmap of the app and the PDF (no reversed axis)
    assert fig.layout.yaxis.autorange != "reversed" and list(fig.layout.yaxis.categoryarray) == list(heat.y)
    assert heat.text[0][1] == f"{corr.iloc[0, 1]:.2f}" and heat.texttemplate == "%{text}"
    assert heat.colorbar.title.text == "Correlation" and (heat.zmin, heat.zmax) == (-1.0, 1.0)
    assert heat.reversescale  # green is better: low correlation, cells that diversify each other


def test_allocation_stacks_the_cells_and_the_pool(pooled, unpooled) -> None:
    fig = allocation_figure(pooled.allocation)
    assert [t.name for t in fig.data] == ["INTC", "MMM", "COST", POOL_LABEL]
    assert {t.stackgroup for t in fig.data} == {"allocation"}
    np.testing.assert_array_equal(fig.data[3].y, pooled.allocation[POOL].to_numpy())
    total = np.sum([t.y for t in fig.data], axis=0)
    np.testing.assert_allclose(total, 1.0, rtol=0, atol=1e-12)
    # without a pool the engine's all-zero pool column is left out, in the figure and the workbook alike
    assert allocation_columns(unpooled.allocation) == ["INTC", "MMM"]
    assert [t.name for t in allocation_figure(unpooled.allocation).data] == ["INTC", "MMM"]
