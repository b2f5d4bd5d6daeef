"""The Backtest page through Streamlit's AppTest (settings form, presets, events, exports), and the pure pieces behind
it: the percent conversion of the form, the Plotly builders and the KPI cards."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

from app.config_form import FIELDS, config_error_text, config_from_inputs, inputs_from_config
from app.navigation import url_path
from app.state import DatasetRef, select_period
from app.views import backtest
from app.widgets import BACKTEST_KPIS, backtest_kpis
from core import ConfigError, StrategyConfig, simulate
from core.config import FIELD_KINDS
from core.data import load_sample
from core.data import samples as sample_registry
from core.figures import drawdown_figure, equity_figure, event_timeline_figure, price_anchor_figure
from core.metric_table import format_metric
from core.report.context import DatasetMeta, RunReport
from storage import Store

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
KPI_LABELS = [label for _, label, _ in BACKTEST_KPIS]


def open_backtest() -> AppTest:
    """The app on the Backtest page (Home is the default page; ours are functions behind a url_path)."""
    # Generous timeout: the first simulate in a fresh process may have to load or compile the Numba kernel.
    at = AppTest.from_file(APP, default_timeout=120).run()
    at._page_hash = next(h for h, i in at._registered_pages.items() if i.get("url_pathname") == url_path("backtest"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown_metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def expected_metrics(key: str, config: StrategyConfig | None = None) -> dict[str, float]:
    data = load_sample(key)
    return simulate(data.prices, config or StrategyConfig(), data.dividends if len(data.dividends) else None).metrics


def test_page_runs_and_shows_the_metrics_charts_and_tables():
    at = open_backtest()
    assert not at.error
    assert at.title[0].value == "Backtest"
    assert at.selectbox(key="backtest_dataset").value == DatasetRef("sample", "GOOG")

    shown = shown_metrics(at)
    assert list(shown) == KPI_LABELS
    expected = expected_metrics("GOOG")
    assert shown["Total return"] == format_metric("total_return", expected["total_return"])
    assert shown["Trades"] == f"{expected['n_trades']:,.0f}"
    assert shown["Excess vs static mix"] == format_metric(
        "excess_return_vs_static_mix", expected["excess_return_vs_static_mix"]
    )
    assert len(at.get("plotly_chart")) == len(backtest.CHARTS)  # price, equity, drawdown, stock share, events
    comparison, events, trades = at.dataframe
    assert list(comparison.value.columns) == ["Strategy", "Buy & hold", "Static mix"]
    assert len(trades.value) == expected["n_trades"] + 1  # the initial purchase is listed too
    assert len(events.value) == expected["n_trades"] + 1  # "trades only" by default: one fill per order
    labels = [b.proto.label for b in at.get("download_button")]
    # Every chart carries server-side PNG and SVG downloads; the run's own exports come after them.
    assert labels.count("PNG") == labels.count("SVG") == len(backtest.CHARTS)
    assert [label for label in labels if label not in ("PNG", "SVG")] == ["Excel", "PDF report", "CSV", "JSON bundle"]


def test_a_different_trigger_gives_a_different_trade_count():
    at = open_backtest()
    before = shown_metrics(at)["Trades"]
    at.number_input(key="cfg_trigger_up").set_value(6.0)
    at.number_input(key="cfg_trigger_down").set_value(6.0).run()
    assert not at.exception and not at.error
    after = shown_metrics(at)
    expected = expected_metrics("GOOG", StrategyConfig(trigger_up=0.06, trigger_down=0.06))
    assert after["Trades"] == f"{expected['n_trades']:,.0f}" != before
    assert after["Sharpe"] == format_metric("sharpe", expected["sharpe"])


def test_switching_the_dataset_changes_the_numbers():
    at = open_backtest()
    goog = shown_metrics(at)
    at.selectbox(key="backtest_dataset").set_value(DatasetRef("sample", "SP500")).run()
    assert not at.exception and not at.error
    sp500 = shown_metrics(at)
    assert sp500["Total return"] != goog["Total return"]
    expected = expected_metrics("SP500")
    assert sp500["Total return"] == format_metric("total_return", expected["total_return"])
    assert sp500["Dividends (net)"] == format_metric("dividends_net", expected["dividends_net"])


def test_the_period_limits_the_backtest():
    at = open_backtest()
    at.date_input(key="backtest_period").set_value((date(2010, 1, 1), date(2011, 12, 31))).run()
    assert not at.exception and not at.error
    cut = select_period(load_sample("GOOG"), (date(2010, 1, 1), date(2011, 12, 31)))
    expected = simulate(cut.prices, StrategyConfig()).metrics
    assert shown_metrics(at)["Total return"] == format_metric("total_return", expected["total_return"])
    assert shown_metrics(at)["Trades"] == f"{expected['n_trades']:,.0f}"


def test_invalid_settings_show_the_config_error_next_to_the_form():
    at = open_backtest()
    at.number_input(key="cfg_guardrail_max").set_value(10.0).run()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "guardrail_max (0.1) must be greater than guardrail_min (0.25)" in message
    assert "Guardrail max (%)" in message
    assert not at.metric  # no results that would not match the form


def test_presets_save_load_reset_and_delete():
    at = open_backtest()
    at.number_input(key="cfg_trigger_up").set_value(6.0)
    at.number_input(key="cfg_trigger_down").set_value(6.0).run()
    wide_trades = shown_metrics(at)["Trades"]
    at.text_input(key="preset_name").set_value("wide triggers")
    at.button(key="preset_save").click().run()
    assert not at.exception and not at.error
    assert any("Saved the current settings as the preset 'wide triggers'" in s.value for s in at.success)
    with Store() as store:
        assert store.get_preset("wide triggers").config == StrategyConfig(trigger_up=0.06, trigger_down=0.06)
        assert store.list_audit(entity="preset", action="create", limit=1)[0].entity_id == "wide triggers"

    at.button(key="preset_reset").click().run()
    assert at.number_input(key="cfg_trigger_up").value == 3.0
    assert shown_metrics(at)["Trades"] == f"{expected_metrics('GOOG')['n_trades']:,.0f}"

    at.selectbox(key="preset_choice").set_value("wide triggers")
    at.button(key="preset_load").click().run()
    assert not at.exception and not at.error
    assert at.number_input(key="cfg_trigger_down").value == 6.0
    assert shown_metrics(at)["Trades"] == wide_trades

    # Saving under a taken name needs "overwrite"; a default preset can never be overwritten or deleted.
    at.text_input(key="preset_name").set_value("Default")
    at.button(key="preset_save").click().run()
    assert "default preset and cannot be changed" in at.error[0].value
    at.selectbox(key="preset_choice").set_value("Default").run()
    assert at.button(key="preset_delete").disabled
    at.selectbox(key="preset_choice").set_value("wide triggers").run()
    at.button(key="preset_delete").click().run()
    assert not at.exception
    assert "wide triggers" not in at.selectbox(key="preset_choice").options


def test_event_timeline_switches_between_trades_and_all_evaluations():
    at = open_backtest()
    trades_only = len(at.dataframe[1].value)
    at.radio(key="events_scope").set_value(backtest.ALL_EVALUATIONS).run()
    every = at.dataframe[1].value
    assert len(every) > trades_only
    assert {"threshold_crossed", "order_filled"} <= set(every["type"])
    at.multiselect(key="events_types").set_value(["threshold_crossed"]).run()
    assert set(at.dataframe[1].value["type"]) == {"threshold_crossed"}


def test_chart_images_are_rendered_only_on_request_and_audited(monkeypatch):
    """Each chart's own PNG/SVG buttons are the page's only image path: rendered when clicked, audited as the run."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    calls: list[str] = []

    def fake_image(fig, fmt="png", **kwargs):  # no headless browser in unit tests
        calls.append(fmt)
        return f"<{fmt}>".encode()

    deferred: dict[str, tuple] = {}  # file name -> (the download's callable, mime type)
    add_deferred = MediaFileManager.add_deferred

    def spy(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        deferred[file_name] = (data_callable, mimetype)
        return add_deferred(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr("core.report.images.figure_image", fake_image)
    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)
    at = open_backtest()
    assert calls == []  # drawing the page renders no image
    with Store() as store:
        assert store.list_audit(action="export") == []  # nor any lazily built export
    assert "export_chart" not in [s.key for s in at.selectbox]  # no second "prepare images" path
    assert not [b for b in at.button if b.key == "export_prepare_images"]
    images = sorted(name for name in deferred if name.endswith((".png", ".svg")))
    assert images == sorted(f"GOOG_backtest_{chart}.{fmt}" for chart in backtest.CHARTS for fmt in ("png", "svg"))
    build, mime = deferred["GOOG_backtest_drawdown.png"]
    assert mime == "image/png"
    assert build() == b"<png>" and calls == ["png"]
    with Store() as store:
        entry = store.list_audit(action="export", limit=1)[0]
    assert (entry.entity, entry.details["format"], entry.details["chart"]) == ("run", "png", "drawdown")
    assert entry.details["page"] == "backtest"


def test_a_dataset_that_cannot_load_is_explained_not_raised(monkeypatch):
    broken = dataclasses.replace(sample_registry.SAMPLES["GOOG"], key="BROKEN", name="Broken sample", file="gone.csv")
    monkeypatch.setitem(sample_registry.SAMPLES, "BROKEN", broken)
    at = open_backtest()
    at.selectbox(key="backtest_dataset").set_value(DatasetRef("sample", "BROKEN")).run()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "could not be loaded" in message and "gone.csv" in message and "data/" in message
    assert not at.metric


# --- exports, form conversion, figures and KPI cards (no Streamlit runtime) ----------------------------------------


@pytest.fixture(scope="module")
def result():
    return simulate(load_sample("GOOG").prices, StrategyConfig())


def test_lazy_exports_build_the_file_on_click_and_write_the_audit_log(result):
    report = RunReport(result, DatasetMeta.from_market_data(load_sample("GOOG")))
    with Store() as store:
        build = backtest._lazy_export(store, report, "json")
        assert store.list_audit(action="export") == []  # nothing happens before the click
        bundle = json.loads(build())
        assert bundle  # a JSON document
        csv_text = backtest._lazy_export(store, report, "csv", table="trades")().decode()
        assert csv_text.splitlines()[0].startswith("timestamp")
        formats = [e.details["format"] for e in store.list_audit(action="export")]
    assert formats == ["csv", "json"]


def test_the_form_covers_every_field_and_converts_percentages():
    assert {f.name for f in FIELDS} == set(FIELD_KINDS)
    assert all(f.help for f in FIELDS)
    defaults = inputs_from_config(StrategyConfig())
    shown = (defaults["trigger_up"], defaults["commission_rate"], defaults["max_trade_share"])
    assert shown == (3.0, 0.01, (False, 10.0))
    assert config_from_inputs(defaults) == StrategyConfig()
    custom = StrategyConfig(trigger_up=0.045, max_trade_share=0.2, commission_rate=0.00015, risk_free_rate=0.02)
    assert config_from_inputs(inputs_from_config(custom)) == custom
    bad = dict(defaults, guardrail_min=80.0)
    with pytest.raises(ConfigError) as caught:
        config_from_inputs(bad)
    assert "Guardrail min (%)" in config_error_text(caught.value)


def test_price_chart_has_anchor_steps_a_trigger_band_and_reasons_on_the_markers(result):
    fig = price_anchor_figure(result.timeline, result.trades)
    names = [t.name for t in fig.data]
    assert names[:4] == ["Price", "Anchor", "Buy trigger", "Sell trigger"]
    assert fig.data[1].line.shape == "hv" and fig.data[3].fill == "tonexty"
    buys = fig.data[names.index("Buys")]
    assert "%{customdata}" in buys.hovertemplate
    assert list(buys.customdata) == list(result.trades.loc[result.trades["side"] == "BUY", "reason"])


def test_event_timeline_figure_has_a_row_per_event_type(result):
    events = backtest.events_frame(result)
    fig = event_timeline_figure(events)
    assert {t.name for t in fig.data} == {t.replace("_", " ") for t in events["type"].unique()}
    assert sum(len(t.x) for t in fig.data) == len(events)
    assert len(backtest.events_frame(result, backtest.TRADES_ONLY)) == len(result.trades)


def test_equity_figure_has_strategy_and_both_benchmarks(result):
    fig = equity_figure(result.equity, result.benchmarks)
    assert isinstance(fig, go.Figure)
    assert [t.name for t in fig.data] == ["Strategy", "Buy & hold", "Static mix"]
    np.testing.assert_array_equal(fig.data[0].y, result.equity.to_numpy())
    np.testing.assert_array_equal(fig.data[1].y, result.benchmarks["buy_and_hold"].to_numpy())
    assert equity_figure(result.equity, result.benchmarks, log_scale=True).layout.yaxis.type == "log"


def test_drawdown_figure_is_the_fall_from_the_running_peak(result):
    fig = drawdown_figure(result.equity, result.benchmarks)
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
