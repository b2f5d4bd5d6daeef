"""The configuration and metric registries: everything that lists fields or metrics is derived from them."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app.config_form import FIELDS as FORM_FIELDS
from app.navigation import url_path
from app.views.compare import COMPARED
from app.widgets import BACKTEST_KPIS
from core import ConfigError, StrategyConfig, simulate
from core import kernel as K
from core.analysis.directions import MAXIMISE, METRIC_DIRECTION, MINIMISE
from core.config_registry import CONFIG_FIELDS, FIELDS_BY_NAME, KERNEL_SLOTS, Bounds
from core.engine import METRIC_NAMES, params_row
from core.metric_registry import GROUP_RISK, METRICS, METRICS_BY_NAME, SHOWN_REPORT, shown_in
from core.metric_table import RETURN_AND_RISK, format_metric, metric_info
from core.optimize.space import PARAM_COLUMNS, ParamRange, validate_params
from core.report.definitions import METRIC_DEFINITIONS, config_definitions, metric_definitions
from core.report.pdf import KPI_METRICS, STRATEGY_KPIS

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")

# The kernel's slot constants by field, written out here (not derived) so a reordering on either side fails.
KERNEL_CONSTANTS = {
    "initial_capital": K.P_CAPITAL, "initial_stock_share": K.P_INIT_SHARE, "trigger_up": K.P_TRIGGER_UP,
    "trigger_down": K.P_TRIGGER_DOWN, "sizing": K.P_SIZING, "rebalance_ratio": K.P_RATIO,
    "trade_fraction": K.P_TRADE_FRACTION, "guardrail_min": K.P_GMIN, "guardrail_max": K.P_GMAX,
    "auto_rebalance": K.P_AUTO, "max_trade_share": K.P_MAX_TRADE, "commission_rate": K.P_COMMISSION,
    "commission_min": K.P_COMMISSION_MIN, "slippage_bps": K.P_SLIPPAGE_BPS, "min_notional": K.P_MIN_NOTIONAL,
    "max_orders_per_day": K.P_MAX_ORDERS, "fractional_shares": K.P_FRACTIONAL, "allow_after_hours": K.P_AFTER_HOURS,
    "withholding_tax_rate": K.P_TAX, "dividend_pay_lag_days": K.P_PAY_LAG, "risk_free_rate": K.P_RISK_FREE,
    "periods_per_year": K.P_PERIODS, "threshold_mode": K.P_THRESHOLD_MODE, "vol_window_bars": K.P_VOL_WINDOW,
    "vol_reference": K.P_VOL_REFERENCE, "trigger_min": K.P_TRIGGER_MIN, "trigger_max": K.P_TRIGGER_MAX,
}  # fmt: skip


def test_dataclass_fields_and_defaults_are_the_registry():
    fields = dataclasses.fields(StrategyConfig)
    assert [f.name for f in fields] == [f.name for f in CONFIG_FIELDS]
    defaults = StrategyConfig()
    for entry in CONFIG_FIELDS:
        assert getattr(defaults, entry.name) == entry.default


def test_result_columns_registry_is_the_engines_columns_in_order():
    from core.result_columns import TIMELINE_COLUMNS, TRADE_COLUMNS

    prices = pd.DataFrame({"close": [100.0, 104.0, 99.0]}, index=pd.bdate_range("2024-01-02", periods=3))
    result = simulate(prices, StrategyConfig())
    assert [c.name for c in TRADE_COLUMNS] == list(result.trades.columns)
    assert [c.name for c in TIMELINE_COLUMNS] == list(result.timeline.columns)
    assert all(c.label and c.help for c in (*TRADE_COLUMNS, *TIMELINE_COLUMNS))


def test_kernel_slots_follow_the_registry():
    assert KERNEL_SLOTS == KERNEL_CONSTANTS
    assert PARAM_COLUMNS == KERNEL_CONSTANTS
    assert len(CONFIG_FIELDS) == K.N_PARAMS


def test_params_row_encodes_every_kind():
    cfg = StrategyConfig(sizing="original", auto_rebalance=False, max_trade_share=None, max_orders_per_day=3)
    row = params_row(cfg)
    assert row[K.P_SIZING] == K.SIZING_CODES["original"] == 2.0
    assert row[K.P_AUTO] == 0.0 and row[K.P_FRACTIONAL] == 1.0
    assert math.isnan(row[K.P_MAX_TRADE])
    assert row[K.P_MAX_ORDERS] == 3.0
    assert row[K.P_TRIGGER_UP] == 0.03
    for entry in CONFIG_FIELDS:  # the inverse recovers the configuration
        assert entry.from_kernel(row[KERNEL_SLOTS[entry.name]]) == getattr(cfg, entry.name)


@pytest.mark.parametrize(
    ("bounds", "inside", "outside", "text"),
    [
        (Bounds(0.0, False), [1e-12, 5.0], [0.0, -1.0], "(0, inf)"),
        (Bounds(0.0, True, 1.0, True), [0.0, 1.0], [-1e-12, 1.0000001], "[0, 1]"),
        (Bounds(0.0, False, 1.0, False), [0.5], [0.0, 1.0], "(0, 1)"),
        (Bounds(-1.0, False), [-0.999], [-1.0], "(-1, inf)"),
    ],
)
def test_bounds(bounds, inside, outside, text):
    assert all(bounds.contains(v) for v in inside)
    assert not any(bounds.contains(v) for v in outside)
    assert bounds.text() == text


def test_every_range_is_enforced_by_the_dataclass_and_the_search_space_alike():
    # One value just outside each finite bound: StrategyConfig and validate_params give the same message.
    for entry in CONFIG_FIELDS:
        if not entry.numeric:
            continue
        for bound, inclusive, step in ((entry.bounds.low, entry.bounds.low_inclusive, -1),
                                       (entry.bounds.high, entry.bounds.high_inclusive, 1)):
            if bound is None:
                continue
            bad = bound + step if inclusive else bound
            with pytest.raises(ConfigError) as raised:
                StrategyConfig().replace(**{entry.name: bad})
            row = params_row(StrategyConfig())
            row[KERNEL_SLOTS[entry.name]] = bad
            valid, messages = validate_params(row[None, :])
            assert not valid[0]
            assert messages[0] == str(raised.value)
            assert entry.bounds.text() in messages[0]


def test_search_space_columns_use_the_registry_encoding():
    assert list(ParamRange.of_values("sizing", ["original", "proportional"]).column()) == [2.0, 0.0]
    column = ParamRange.of_values("max_trade_share", [None, 0.1]).column()
    assert np.isnan(column[0]) and column[1] == 0.1


def test_form_covers_every_field_with_percent_for_fractions():
    assert [s.name for s in FORM_FIELDS] == [f.name for f in CONFIG_FIELDS]
    widgets = {s.name: s.widget for s in FORM_FIELDS}
    assert widgets["trigger_up"] == "pct" and widgets["max_trade_share"] == "optpct"
    assert widgets["initial_capital"] == "number" and widgets["slippage_bps"] == "number"
    assert widgets["sizing"] == "choice" and widgets["auto_rebalance"] == "bool"
    assert widgets["max_orders_per_day"] == "int"


def test_metric_registry_is_the_kernels_output_order():
    assert tuple(METRICS_BY_NAME) == tuple(METRIC_NAMES)


def test_metric_views_are_derived():
    assert set(METRIC_DIRECTION) == set(METRIC_NAMES)
    assert METRIC_DIRECTION["max_drawdown_days"] == MINIMISE and METRIC_DIRECTION["sharpe"] == MAXIMISE
    assert set(METRIC_DEFINITIONS) == set(METRIC_NAMES)
    assert RETURN_AND_RISK == KPI_METRICS == tuple(m.name for m in METRICS if m.group == GROUP_RISK)
    assert shown_in(SHOWN_REPORT) == STRATEGY_KPIS
    assert "n_trades" in STRATEGY_KPIS and "sharpe" not in STRATEGY_KPIS
    assert [name for name, _, _ in BACKTEST_KPIS] == [
        "total_return", "cagr", "sharpe", "sortino", "max_drawdown", "n_trades", "total_commission", "dividends_net",
        "excess_return_vs_buy_hold", "excess_return_vs_static_mix",
    ]  # fmt: skip
    assert dict((n, label) for n, label, _ in BACKTEST_KPIS)["sharpe"] == "Sharpe"
    assert set(COMPARED) <= set(METRIC_NAMES) and "volatility" in COMPARED and "n_buys" not in COMPARED
    assert metric_info("total_return").label == "Total return"
    assert format_metric("total_return", 0.1234) == "12.34 %"
    assert format_metric("n_trades", 410.0) == "410"
    assert metric_info("score").label == "score"  # a derived column shows under its own name


def test_definition_tables_list_every_field_and_metric():
    fields = config_definitions()
    assert list(fields["Field"]) == [f.name for f in CONFIG_FIELDS]
    row = fields.set_index("Field").loc["trigger_down"]
    assert row["Unit"] == "percent" and row["Default"] == "3 %" and row["Valid values"] == "(0, 1)"
    assert fields.set_index("Field").loc["max_trade_share", "Valid values"] == "(0, inf) or not set"
    assert fields.set_index("Field").loc["sizing", "Valid values"] == ", ".join(FIELDS_BY_NAME["sizing"].choices)
    metrics = metric_definitions()
    assert list(metrics["Metric"]) == list(METRIC_NAMES)
    assert metrics.set_index("Metric").loc["volatility", "Better"] == "lower"


def test_definitions_page_shows_both_tables():
    at = AppTest.from_file(APP, default_timeout=120).run()
    at._page_hash = next(h for h, i in at._registered_pages.items() if i.get("url_pathname") == url_path("definitions"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Definitions"
    tables = [df.value for df in at.dataframe]
    assert list(tables[0]["Field"]) == [f.name for f in CONFIG_FIELDS]
    assert list(tables[1]["Metric"]) == list(METRIC_NAMES)


def test_an_absurd_capital_is_refused_rather_than_giving_nan_metrics():
    with pytest.raises(ConfigError, match=r"initial_capital must be in \(0, 1e\+12\], got 1e\+308"):
        StrategyConfig(initial_capital=1e308)
    cfg = StrategyConfig(initial_capital=1e12)
    prices = pd.DataFrame({"close": [100.0, 95.0, 105.0, 99.0]}, index=pd.bdate_range("2024-01-02", periods=4))
    metrics = simulate(prices, cfg).metrics
    assert math.isfinite(metrics["total_return"]) and math.isfinite(metrics["sharpe"])
