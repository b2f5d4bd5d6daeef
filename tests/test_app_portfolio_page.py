"""The Portfolio page through Streamlit's AppTest, on a throw-away SQLite store: it renders with the three bundled
stocks as cells, a run on two of them shows the KPIs of ``simulate_portfolio`` itself, and a saved portfolio is
listed, re-run exactly and downloadable."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app.navigation import url_path
from app.views.portfolio import (
    CELL_FIELDS,
    cell_config,
    cell_key,
    equal_weights,
    rule_input,
    rules_from_inputs,
)
from app.widgets import backtest_kpis
from core import StrategyConfig
from core.data import load_sample
from core.metric_table import format_metric
from core.portfolio import PORTFOLIO_FIELDS, PortfolioCell, PortfolioRules, simulate_portfolio
from storage import ENV_VAR, Store
from storage.database import dispose_engine

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh SQLite store per test, selected through ``$VBL_DATABASE_URL``."""
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    monkeypatch.setenv(ENV_VAR, url)
    yield url
    dispose_engine(url)


def open_portfolio_page() -> AppTest:
    """The app on the Portfolio page (Home is the default; ours are functions behind a url_path)."""
    at = AppTest.from_file(APP, default_timeout=180).run()
    assert not at.exception, [e.value for e in at.exception]
    at._page_hash = next(h for h, i in at._registered_pages.items() if i.get("url_pathname") == url_path("portfolio"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def table_with(at: AppTest, column: str) -> pd.DataFrame:
    """The page's table that has ``column`` (AppTest does not keep a dataframe's key)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def shown_kpis(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_the_page_renders_with_the_three_bundled_stocks_as_cells(db_url: str) -> None:
    at = open_portfolio_page()
    assert not at.error
    assert at.title[0].value == "Portfolio"
    assert at.multiselect(key="portfolio_cells").value == ["sample:INTC", "sample:MMM", "sample:COST"]
    weights = [at.number_input(key=cell_key(t, "weight")).value for t in ("sample:INTC", "sample:MMM", "sample:COST")]
    assert sum(weights) == pytest.approx(100.0)
    for f in PORTFOLIO_FIELDS:  # the rules' form is the registry's
        assert any(w.label == f.label for w in [*at.number_input, *at.toggle, *at.selectbox]), f.name
    assert not at.metric  # nothing has run yet


def test_a_run_on_two_bundled_stocks_shows_simulate_portfolios_kpis_then_saves_and_reruns(db_url: str) -> None:
    at = open_portfolio_page()
    at.multiselect(key="portfolio_cells").set_value(["sample:INTC", "sample:MMM"]).run()
    assert at.number_input(key=cell_key("sample:INTC", "weight")).value == 50.0  # reset to equal weights
    at.number_input(key=cell_key("sample:MMM", "trigger_up")).set_value(6.0).run()
    at.selectbox(key="portfolio_rule_reallocation").set_value("quarterly").run()
    at.button(key="portfolio_run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]

    intc, mmm = load_sample("INTC"), load_sample("MMM")
    expected = simulate_portfolio(
        [PortfolioCell("INTC", intc.prices, StrategyConfig(), 0.5, intc.dividends),
         PortfolioCell("MMM", mmm.prices, StrategyConfig(trigger_up=0.06), 0.5, mmm.dividends)],
        PortfolioRules(reallocation="quarterly"),
    )
    assert shown_kpis(at) == {k.label: k.value for k in backtest_kpis(expected.metrics)}
    assert len(at.get("plotly_chart")) == 4  # equity, contributions, correlation, allocation
    beside = table_with(at, "Equal-weight buy & hold")
    assert beside.at["Total return", "Portfolio"] == format_metric("total_return", expected.metrics["total_return"])
    assert beside.at["Total return", "Equal-weight buy & hold"] == format_metric(
        "total_return", expected.metrics["buy_hold_return"])
    assert len(table_with(at, "reason")) == len(expected.trades)
    at.multiselect(key="portfolio_trades_cells").set_value(["MMM"]).run()
    shown = table_with(at, "reason")
    assert set(shown["cell"]) == {"MMM"} and len(shown) == int((expected.trades["cell"] == "MMM").sum())
    assert len(table_with(at, "amount")) == len(expected.transfers) > 0

    at.text_input(key="portfolio_save_name").set_value("two cells")
    at.button(key="FormSubmitter:portfolio_save-Save portfolio").click().run()
    assert not at.exception and not at.error
    found = re.search(r"Saved as portfolio (\d+)", " ".join(s.value for s in at.success))
    assert found, [s.value for s in at.success]
    portfolio_id = int(found.group(1))
    with Store(db_url) as store:
        record = store.get_portfolio(portfolio_id)
        assert record.name == "two cells" and [c.name for c in record.cells] == ["INTC", "MMM"]
        assert dict(record.metrics) == pytest.approx(dict(expected.metrics), nan_ok=True, rel=0, abs=0)

    at.run()  # the stored list is drawn after the form: the next run lists the new portfolio
    assert list(table_with(at, "cells")["id"]) == [portfolio_id]
    at.selectbox(key="portfolio_stored_selected").set_value(portfolio_id).run()
    at.button(key="portfolio_rerun").click().run()
    assert not at.exception and not at.error
    assert any(f"Re-run of portfolio {portfolio_id}: reproduced exactly" in s.value for s in at.success)
    labels = [b.proto.label for b in at.get("download_button") if "portfolio_download" in b.proto.id]
    assert labels == ["Excel", "PDF report", "Trades CSV", "JSON"]  # built (re-run and exported) when clicked


def test_the_inputs_convert_percent_to_the_cores_fractions() -> None:
    base = StrategyConfig()
    assert cell_config(base, {"trigger_up": 4.0, "sizing": "original"}) == base.replace(trigger_up=0.04,
                                                                                         sizing="original")
    assert set(CELL_FIELDS) <= set(StrategyConfig.__dataclass_fields__)
    # Any field of a cell (the "All settings" expander): a fraction in percent, an optional cap as (on, percent).
    assert cell_config(base, {"commission_rate": 0.05, "max_trade_share": (True, 20.0), "max_orders_per_day": 2}) == \
        base.replace(commission_rate=0.0005, max_trade_share=0.2, max_orders_per_day=2)
    defaults = PortfolioRules()
    assert rules_from_inputs({f.name: rule_input(f, getattr(defaults, f.name)) for f in PORTFOLIO_FIELDS}) == defaults
    weights = equal_weights(["a", "b", "c"])
    assert abs(sum(w / 100 for w in weights.values()) - 1.0) < 1e-9  # the engine's tolerance without a pool


def test_every_setting_of_a_cell_can_be_changed(db_url: str) -> None:
    at = open_portfolio_page()
    at.multiselect(key="portfolio_cells").set_value(["sample:INTC", "sample:MMM"]).run()
    at.number_input(key=cell_key("sample:MMM", "commission_rate")).set_value(0.05).run()  # "All settings"
    at.toggle(key=cell_key("sample:MMM", "fractional_shares")).set_value(False).run()
    at.button(key="portfolio_run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    intc, mmm = load_sample("INTC"), load_sample("MMM")
    expected = simulate_portfolio(
        [PortfolioCell("INTC", intc.prices, StrategyConfig(), 0.5, intc.dividends),
         PortfolioCell("MMM", mmm.prices, StrategyConfig(commission_rate=0.0005, fractional_shares=False), 0.5,
                       mmm.dividends)],
        PortfolioRules(),
    )
    assert shown_kpis(at) == {k.label: k.value for k in backtest_kpis(expected.metrics)}
