"""StrategyConfig: docs/strategy.md §3 defaults, validation and exact dict/JSON round-trips."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core import ConfigError, StrategyConfig

SPEC_DEFAULTS = {
    "initial_capital": 10_000.0, "initial_stock_share": 0.5, "trigger_up": 0.03, "trigger_down": 0.03,
    "sizing": "proportional", "rebalance_ratio": 1.6667, "trade_fraction": 0.25, "guardrail_min": 0.25,
    "guardrail_max": 0.75, "auto_rebalance": True, "max_trade_share": None, "commission_rate": 0.0001,
    "commission_min": 0.0, "slippage_bps": 0.0, "min_notional": 100.0, "max_orders_per_day": 5,
    "fractional_shares": True, "allow_after_hours": False, "withholding_tax_rate": 0.25,
    "dividend_pay_lag_days": 14, "risk_free_rate": 0.0, "periods_per_year": 252, "threshold_mode": "fixed",
    "vol_window_bars": 20, "vol_reference": 0.30, "trigger_min": 0.005, "trigger_max": 0.50,
}


def test_defaults_are_the_spec_defaults():
    assert StrategyConfig().to_dict() == SPEC_DEFAULTS


def test_round_trip_through_dict_and_json_is_exact():
    cfg = StrategyConfig(trigger_up=0.1 + 0.2, sizing="original", max_trade_share=0.07, fractional_shares=False)
    again = StrategyConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg
    assert hash(again) == hash(cfg)
    assert again.trigger_up == 0.1 + 0.2


def test_numpy_scalars_are_accepted_and_normalised():
    cfg = StrategyConfig(trigger_up=np.float64(0.05), max_orders_per_day=np.int64(3), auto_rebalance=np.bool_(False))
    assert type(cfg.max_orders_per_day) is int and cfg.max_orders_per_day == 3
    assert type(cfg.auto_rebalance) is bool
    assert json.dumps(cfg.to_dict())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"initial_capital": 0}, "initial_capital must be in"),
        ({"trigger_up": -0.01}, "trigger_up must be in"),
        ({"trigger_down": 1.0}, "trigger_down must be in"),
        ({"guardrail_min": 0.8}, "guardrail_max .* must be greater than guardrail_min"),
        ({"sizing": "martingale"}, "sizing must be one of"),
        ({"max_orders_per_day": 0}, "max_orders_per_day must be in"),
        ({"max_orders_per_day": 2.5}, "whole number"),
        ({"auto_rebalance": 1}, "true or false"),
        ({"trigger_up": True}, "must be a number"),
        ({"trigger_up": float("nan")}, "finite"),
        ({"commission_rate": "0.1"}, "must be a number"),
        ({"withholding_tax_rate": 1.5}, "withholding_tax_rate must be in"),
    ],
)
def test_out_of_range_values_raise_config_error_naming_the_field(changes, message):
    with pytest.raises(ConfigError, match=message):
        StrategyConfig(**changes)


def test_unknown_keys_are_refused():
    with pytest.raises(ConfigError, match="unknown configuration key"):
        StrategyConfig.from_dict({"trigger": 0.03})
    with pytest.raises(ConfigError, match="unknown configuration key"):
        StrategyConfig().replace(triger_up=0.05)


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)
