"""The kernel's structure: named decisions, named codes, one function per rule, short functions.

Expected numbers are derived here from the formulas of docs/strategy.md §5, not copied from the code's output.
"""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest

from core import StrategyConfig, kernel_interpreted
from core import kernel as K
from core.config_registry import SIZINGS
from core.engine import params_row

# No costs and an open band, so the numbers follow the formulas exactly (docs/strategy.md §8 (a)).
PLAIN = dict(commission_rate=0.0, commission_min=0.0, slippage_bps=0.0, min_notional=0.0, rebalance_ratio=1.0,
             guardrail_min=0.0, guardrail_max=1.0)
S, C, A = 50.0, 5_000.0, 100.0  # shares, cash, anchor
FIXED = (0.03, 0.03)  # the default triggers in force (fixed thresholds, docs/strategy.md §5.4a)


def _p(**changes) -> object:
    return params_row(StrategyConfig(**{**PLAIN, **changes}))


@pytest.fixture(params=["compiled", "interpreted"])
def kernel(request):
    return K if request.param == "compiled" else kernel_interpreted.load()


def test_decide_order_returns_a_named_order_decision(kernel):
    d = kernel.decide_order(90.0, S, C, 0.0, A, *FIXED, _p())
    assert type(d).__name__ == "OrderDecision"
    assert d._fields == ("kind", "trigger", "side", "raw_qty", "qty", "exec_price", "fee", "reason", "flags", "bound")
    # §5.4: 90 ≤ 100·(1 − 3 %) fires a buy. §5.5 proportional: q = (A/P − 1)·r·V/P with V = S·P + C = 9 500.
    v = S * 90.0 + C
    q = (A / 90.0 - 1.0) * 1.0 * v / 90.0
    assert (d.kind, d.trigger, d.side) == (K.KIND_TRIGGER, K.SIDE_BUY, K.SIDE_BUY)
    assert d.raw_qty == pytest.approx(q, rel=1e-12) and d.qty == pytest.approx(q, rel=1e-12)
    assert d.exec_price == 90.0 and d.fee == 0.0
    assert (d.reason, d.flags) == (K.REASON_NONE, 0) and math.isnan(d.bound)


def test_a_trimmed_buy_names_its_bound(kernel):
    # §5.7: the buy above would leave (S + q)·P / V ≈ 58.5 % > 55 %, so it aims at g = 0.55:
    # q_g = (g·V − S·P) / (P − g·P + g·Px) with Px = P and no commission.
    d = kernel.decide_order(90.0, S, C, 0.0, A, *FIXED, _p(guardrail_max=0.55))
    v = S * 90.0 + C
    q_g = (0.55 * v - S * 90.0) / (90.0 - 0.55 * 90.0 + 0.55 * 90.0)
    assert d.qty == pytest.approx(q_g, rel=1e-12)
    assert d.flags == K.FLAG_TRIMMED and d.bound == 0.55 and d.reason == K.REASON_NONE


def test_minimum_order_and_fixed_fraction_sell(kernel):
    # §5.9: |q|·Px ≈ 1 055.6 is below a 2 000 minimum: skipped, no fee.
    d = kernel.decide_order(90.0, S, C, 0.0, A, *FIXED, _p(min_notional=2_000.0))
    assert d.reason == K.REASON_BELOW_MIN and d.fee == 0.0
    # §5.4 + §5.5 fixed_fraction: 110 ≥ 103 sells trade_fraction·S = 0.25·50 shares.
    d = kernel.decide_order(110.0, S, C, 0.0, A, *FIXED, _p(sizing="fixed_fraction", trade_fraction=0.25))
    assert (d.kind, d.side, d.qty, d.reason) == (K.KIND_TRIGGER, K.SIDE_SELL, -12.5, K.REASON_NONE)
    # No trigger and inside the band: a hold priced at the close.
    hold = kernel.decide_order(100.5, S, C, 0.0, A, *FIXED, _p())
    assert hold[:-1] == (K.KIND_NONE, K.SIDE_NONE, K.SIDE_NONE, 0.0, 0.0, 100.5, 0.0, K.REASON_NONE, 0)
    assert math.isnan(hold.bound) and math.isnan(kernel.hold_decision(100.5).bound)


def test_sizing_codes_are_named_and_follow_the_registry():
    assert K.SIZING_CODES == {
        "proportional": K.SIZING_PROPORTIONAL,
        "fixed_fraction": K.SIZING_FIXED_FRACTION,
        "original": K.SIZING_ORIGINAL,
    }
    assert [K.SIZING_CODES[name] for name in SIZINGS] == list(range(len(SIZINGS)))


def test_session_and_daily_cap_rule(kernel):
    # §5.2 comes first: an after-hours bar is after_hours even when the cap is reached.
    assert kernel.bar_status(False, 5, False, 5.0) == K.STATUS_AFTER_HOURS
    assert kernel.bar_status(False, 0, True, 5.0) == K.STATUS_EVALUATED
    assert kernel.bar_status(True, 5, False, 5.0) == K.STATUS_DAILY_CAP  # §5.3
    assert kernel.bar_status(True, 4, False, 5.0) == K.STATUS_EVALUATED
    assert kernel.orders_counted_today(10, 10, 3) == 3 and kernel.orders_counted_today(11, 10, 3) == 0


def test_dividend_rules(kernel):
    # §5.1: gross = amount·S, withholding = gross·tax, net = gross − withholding, R += net, A −= amount.
    gross, wh, net, receivable, anchor = kernel.book_ex_dividend(0.5, S, 10.0, A, 0.25)
    assert (gross, wh, net, receivable, anchor) == (25.0, 6.25, 18.75, 28.75, 99.5)
    assert kernel.dividend_pay_day(100, -1, 14) == 114  # none given: ex-date + lag
    assert kernel.dividend_pay_day(100, 95, 14) == 100  # never before the ex-date
    assert kernel.dividend_pay_day(100, 120, 14) == 120
    assert kernel.pay_dividend(18.75, 100.0, 28.75) == (118.75, 10.0)


def test_trigger_prices_with_and_without_tolerance(kernel):
    p = _p(trigger_up=0.05, trigger_down=0.04)
    up, down = kernel.triggers_in_force(math.nan, p)  # fixed mode: the configuration's own triggers
    assert (up, down) == (0.05, 0.04)
    assert kernel.trigger_prices(A, up, down) == (A * 1.05, A * 0.96)  # §5.4, as shown
    sell, buy = kernel.trigger_levels(A, up, down)
    assert sell == pytest.approx(105.0 * (1 - 1e-9), rel=1e-15) and buy == pytest.approx(96.0 * (1 + 1e-9), rel=1e-15)


def _function_lengths() -> dict[str, int]:
    tree = ast.parse(Path(K.__file__).read_text())
    return {n.name: n.end_lineno - n.lineno + 1 for n in tree.body if isinstance(n, ast.FunctionDef)}


def test_kernel_functions_stay_short():
    lengths = _function_lengths()
    # run_cell is the one bar loop (run_one is run_cell without portfolio transfers).
    assert lengths["run_cell"] <= 130, lengths["run_cell"]
    others = {name: n for name, n in lengths.items() if name != "run_cell"}
    assert max(others.values()) <= 80, others


def test_the_advisor_uses_the_kernels_rule_functions():
    tree = ast.parse(Path(K.__file__).with_name("advisor.py").read_text())
    called = {n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
              and isinstance(n.func.value, ast.Name) and n.func.value.id == "K"}
    assert {"decide_order", "bar_status", "orders_counted_today", "order_action", "execute_order", "valuation",
            "trigger_prices", "book_ex_dividend", "pay_dividend", "initial_order", "hold_decision",
            "triggers_in_force", "log_returns", "window_volatility"} <= called
