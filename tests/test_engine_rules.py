"""Every rule of docs/strategy.md §5 pinned to exact numbers derived here from the spec's formulas."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from engine_helpers import NO_COSTS, daily, intraday, post_share, run

from core import StrategyConfig, simulate

EXACT = {"rel": 1e-12, "abs": 1e-9}
R = 1.6667  # default rebalance ratio


def test_worked_example_of_the_spec():
    res = run([100, 96.9, 100], **NO_COSTS)
    tl = res.timeline
    # Bar 1: 50 shares at 100, anchor 100.
    assert tl["shares"].iloc[0] == 50.0
    assert tl["cash"].iloc[0] == 5000.0
    # Bar 2: -3.1 % fires a buy sized by the proportional formula.
    v2 = 50 * 96.9 + 5000
    assert v2 == pytest.approx(9845.0, **EXACT)
    q2 = (100 / 96.9 - 1) * R * v2 / 96.9
    assert q2 == pytest.approx(5.4174, abs=1e-4)
    s2, c2 = 50 + q2, 5000 - q2 * 96.9
    assert tl["action"].iloc[1] == "BUY"
    assert tl["shares"].iloc[1] == pytest.approx(s2, **EXACT)
    assert tl["cash"].iloc[1] == pytest.approx(c2, **EXACT)
    assert tl["anchor_after"].iloc[1] == 96.9
    # Bar 3: +3.2 % above the new anchor fires a sell.
    v3 = s2 * 100 + c2
    q3 = (96.9 / 100 - 1) * R * v3 / 100
    assert tl["action"].iloc[2] == "SELL"
    assert tl["qty"].iloc[2] == pytest.approx(q3, **EXACT)
    assert tl["shares"].iloc[2] == pytest.approx(s2 + q3, **EXACT)
    assert tl["cash"].iloc[2] == pytest.approx(c2 - q3 * 100, **EXACT)
    assert tl["anchor_after"].iloc[2] == 100.0
    assert list(res.trades["kind"]) == ["initial", "trigger", "trigger"]


@pytest.mark.parametrize(
    ("price", "action"),
    [(103.0, "SELL"), (97.0, "BUY"), (102.99, "HOLD"), (97.01, "HOLD")],
)
def test_triggers_are_inclusive_at_exactly_three_percent(price, action):
    res = run([100, price], **NO_COSTS)
    assert res.timeline["action"].iloc[1] == action


def test_inclusive_trigger_survives_float_rounding_on_an_awkward_anchor():
    anchor = 37.13
    res = run([anchor, anchor * 1.03, anchor * 1.03 * 0.97], **NO_COSTS)
    assert list(res.timeline["action"])[1:] == ["SELL", "BUY"]


def test_initial_order_includes_the_commission():
    res = run([100, 100], commission_rate=0.001)
    notional = 5000 / 1.001
    first = res.trades.iloc[0]
    assert first["kind"] == "initial"
    assert first["notional"] + first["commission"] == pytest.approx(5000.0, **EXACT)
    assert first["qty"] == pytest.approx(notional / 100, **EXACT)
    assert res.timeline["cash"].iloc[0] == 5000.0


def test_original_sizing():
    res = run([100, 97], sizing="original", rebalance_ratio=0.1, **NO_COSTS)
    v = 50 * 97 + 5000
    assert res.timeline["qty"].iloc[1] == pytest.approx((100 / 97) * 0.1 * v / 97, **EXACT)
    res = run([100, 103], sizing="original", rebalance_ratio=0.1, **NO_COSTS)
    v = 50 * 103 + 5000
    assert res.timeline["qty"].iloc[1] == pytest.approx(-(100 / 103) * 0.1 * v / 103, **EXACT)


def test_fixed_fraction_sizing():
    res = run([100, 97], sizing="fixed_fraction", trade_fraction=0.25, **NO_COSTS)
    assert res.timeline["qty"].iloc[1] == pytest.approx(0.25 * 5000 / 97, **EXACT)
    res = run([100, 103], sizing="fixed_fraction", trade_fraction=0.25, **NO_COSTS)
    assert res.timeline["qty"].iloc[1] == pytest.approx(-0.25 * 50, **EXACT)


def test_side_rule_zero_size_buy_without_cash_is_skipped_not_flipped():
    # All capital in stock: a fixed-fraction buy sizes to zero; it must not become a sell.
    res = run([100, 97], sizing="fixed_fraction", initial_stock_share=1.0, guardrail_max=1.0, auto_rebalance=False,
              **NO_COSTS)
    row = res.timeline.iloc[1]
    assert row["action"] == "SKIP"
    assert row["qty"] == 0.0
    assert row["skip_reason"] == "no cash"
    assert res.metrics["n_blocked"] == 1.0


def test_buy_trim_lands_exactly_on_the_upper_guardrail_with_commission_and_slippage():
    c, s = 0.001, 10 / 10_000
    res = run([100, 90], rebalance_ratio=5, commission_rate=c, slippage_bps=10, min_notional=0)
    s0 = 5000 / 1.001 / 100
    v = s0 * 90 + 5000
    px = 90 * (1 + s)
    raw = (100 / 90 - 1) * 5 * v / 90
    expected = (0.75 * v - s0 * 90) / (90 - 0.75 * 90 + 0.75 * px * (1 + c))
    row = res.timeline.iloc[1]
    assert row["raw_qty"] == pytest.approx(raw, **EXACT)
    assert row["qty"] == pytest.approx(expected, **EXACT)
    assert row["trimmed"]
    assert row["exec_price"] == pytest.approx(px, **EXACT)
    assert row["commission"] == pytest.approx(c * expected * px, **EXACT)
    assert row["stock_share"] == pytest.approx(0.75, abs=1e-12)
    assert "trimmed to" in row["reason"]
    assert res.metrics["n_trimmed"] == 1.0


def test_sell_trim_lands_exactly_on_the_lower_guardrail_with_commission_and_slippage():
    c, s = 0.001, 10 / 10_000
    res = run([100, 115], rebalance_ratio=5, commission_rate=c, slippage_bps=10, min_notional=0)
    s0 = 5000 / 1.001 / 100
    v = s0 * 115 + 5000
    px = 115 * (1 - s)
    expected = (0.25 * v - s0 * 115) / (115 - 0.25 * 115 + 0.25 * px * (1 - c))
    row = res.timeline.iloc[1]
    assert row["qty"] == pytest.approx(expected, **EXACT)
    assert row["stock_share"] == pytest.approx(0.25, abs=1e-12)
    assert row["cash"] == pytest.approx(5000 - expected * px - c * abs(expected) * px, **EXACT)


def test_trim_with_minimum_commission_solves_with_the_fixed_fee():
    fmin = 20.0
    res = run([100, 90], rebalance_ratio=5, commission_rate=0.0, commission_min=fmin, min_notional=0)
    s0 = (5000 - fmin) / 100  # the initial order pays the minimum commission too
    assert res.timeline["shares"].iloc[0] == pytest.approx(s0, **EXACT)
    v = s0 * 90 + 5000
    expected = (0.75 * (v - fmin) - s0 * 90) / (90 - 0.75 * 90 + 0.75 * 90)
    row = res.timeline.iloc[1]
    assert row["qty"] == pytest.approx(expected, **EXACT)
    assert row["commission"] == fmin
    assert row["stock_share"] == pytest.approx(0.75, abs=1e-12)


def test_buy_blocked_when_already_above_the_band_never_flips_to_a_sell():
    res = run([100, 97], initial_stock_share=0.9, auto_rebalance=False, **NO_COSTS)
    row = res.timeline.iloc[1]
    assert row["trigger"] == "BUY"
    assert row["action"] == "SKIP"
    assert row["skip_reason"] == "blocked by guardrail"
    assert row["qty"] == 0.0
    assert row["shares"] == 90.0
    assert row["anchor_after"] == 100.0
    assert "blocked" in row["reason"]
    assert res.metrics["n_blocked"] == 1.0


def test_minimum_commission_alone_carrying_the_share_past_the_bound_blocks_the_buy():
    # Share 7080.03 / 9581.03 = 73.9 % after the drop; a 200 fee alone makes it 7080.03 / 9381.03 = 75.5 %.
    res = run([100, 97], initial_stock_share=0.7499, auto_rebalance=False, commission_rate=0.0,
              commission_min=200.0, min_notional=0)
    row = res.timeline.iloc[1]
    assert row["pre_trade_stock_share"] < 0.75 < 72.99 * 97 / (72.99 * 97 + 2501 - 200)
    assert row["action"] == "SKIP"
    assert row["skip_reason"] == "blocked by guardrail"


def test_minimum_order_skip_keeps_the_anchor_and_the_next_trade_uses_the_old_anchor():
    res = run([100, 96.9, 95], rebalance_ratio=4, commission_rate=0.0, min_notional=2000)
    tl = res.timeline
    q2 = (100 / 96.9 - 1) * 4 * (50 * 96.9 + 5000) / 96.9
    assert q2 * 96.9 < 2000
    assert tl["action"].iloc[1] == "SKIP"
    assert tl["skip_reason"].iloc[1] == "below minimum"
    assert tl["qty"].iloc[1] == pytest.approx(q2, **EXACT)
    assert tl["anchor_after"].iloc[1] == 100.0
    assert tl["shares"].iloc[1] == 50.0
    # Next bar: measured against the old anchor 100, not 96.9.
    q3 = (100 / 95 - 1) * 4 * (50 * 95 + 5000) / 95
    assert tl["anchor"].iloc[2] == 100.0
    assert tl["action"].iloc[2] == "BUY"
    assert tl["qty"].iloc[2] == pytest.approx(q3, **EXACT)
    assert tl["anchor_after"].iloc[2] == 95.0
    assert res.metrics["n_skipped_min_notional"] == 1.0
    assert [e.type for e in res.events if e.bar == 1] == ["threshold_crossed", "order_rejected_min"]


def test_auto_rebalance_sells_back_to_the_upper_guardrail_exactly():
    c = 0.0001
    res = run([100, 100.5], initial_stock_share=0.8, commission_rate=c, min_notional=0)
    s0 = 8000 / (1 + c) / 100
    v = s0 * 100.5 + 2000
    expected = (0.75 * v - s0 * 100.5) / (100.5 - 0.75 * 100.5 + 0.75 * 100.5 * (1 - c))
    row = res.timeline.iloc[1]
    assert row["trigger"] == ""
    assert row["kind"] == "rebalance"
    assert row["action"] == "SELL"
    assert row["qty"] == pytest.approx(expected, **EXACT)
    assert row["stock_share"] == pytest.approx(0.75, abs=1e-12)
    assert row["anchor_after"] == 100.5
    assert res.metrics["n_rebalances"] == 1.0
    assert any(e.type == "auto_guardrail_rebalance" for e in res.events)
    assert run([100, 100.5], initial_stock_share=0.8, auto_rebalance=False).timeline["action"].iloc[1] == "HOLD"


def test_a_bar_whose_trigger_did_not_execute_does_not_also_rebalance():
    # Share 90 % (outside the band) and a buy trigger that is blocked: the bar is a SKIP, not a rebalance sell.
    res = run([100, 97], initial_stock_share=0.9, **NO_COSTS)
    row = res.timeline.iloc[1]
    assert row["kind"] == "trigger"
    assert row["action"] == "SKIP"
    assert res.metrics["n_rebalances"] == 0.0


def test_daily_cap_on_intraday_bars():
    day1 = ["2024-01-02 09:30", "2024-01-02 09:35", "2024-01-02 09:40", "2024-01-02 09:45", "2024-01-02 09:50"]
    day2 = ["2024-01-03 09:30", "2024-01-03 09:35"]
    closes = [100, 95, 100, 95, 100, 95, 100]
    prices = intraday(list(zip(day1 + day2, closes, strict=True)))
    res = run(prices, max_orders_per_day=2, **NO_COSTS)
    tl = res.timeline
    assert list(tl["action"]) == ["BUY", "BUY", "SELL", "HOLD", "HOLD", "BUY", "SELL"]
    assert list(tl["status"])[3:5] == ["daily_cap", "daily_cap"]
    assert res.metrics["n_trades"] == 4.0
    caps = [e for e in res.events if e.type == "daily_cap_reached"]
    assert len(caps) == 1 and caps[0].bar == 3


def test_after_hours_bars_are_marked_to_market_unless_allowed():
    bars = [
        ("2024-01-02 10:00", 100),
        ("2024-01-02 17:00", 90),  # after the close
        ("2024-01-03 08:00", 90),  # before the open
        ("2024-01-06 10:00", 90),  # Saturday
        ("2024-01-08 09:30", 90),  # Monday open: in session
    ]
    off = run(intraday(bars), **NO_COSTS).timeline
    assert list(off["status"])[1:] == ["after_hours", "after_hours", "after_hours", "evaluated"]
    assert list(off["action"])[1:] == ["HOLD", "HOLD", "HOLD", "BUY"]
    assert off["value"].iloc[1] == pytest.approx(50 * 90 + 5000, **EXACT)  # marked to market
    on = run(intraday(bars), allow_after_hours=True, **NO_COSTS).timeline
    assert on["action"].iloc[1] == "BUY"


def test_whole_shares_round_down_every_order():
    c = 0.0001
    res = run([33, 31], fractional_shares=False, commission_rate=c, min_notional=0)
    s0 = math.floor(5000 / (1 + c) / 33)
    assert s0 == 151
    tl = res.timeline
    assert tl["shares"].iloc[0] == 151
    assert tl["cash"].iloc[0] == pytest.approx(10_000 - 151 * 33 - c * 151 * 33, **EXACT)
    v = 151 * 31 + tl["cash"].iloc[0]
    raw = (33 / 31 - 1) * R * v / 31
    assert tl["raw_qty"].iloc[1] == pytest.approx(raw, **EXACT)
    assert tl["qty"].iloc[1] == math.floor(raw)
    assert tl["shares"].iloc[1] == 151 + math.floor(raw)


def test_whole_shares_that_round_to_zero_are_skipped():
    res = run([1000, 969], fractional_shares=False, initial_capital=3000, rebalance_ratio=0.1, min_notional=0)
    row = res.timeline.iloc[1]
    assert row["action"] == "SKIP"
    assert row["skip_reason"] == "rounded to zero shares"


def test_minimum_commission_applies_to_small_orders():
    res = run([100, 97], commission_rate=0.0001, commission_min=5.0, min_notional=0)
    tl = res.timeline
    s0 = (5000 - 5) / 100  # 0.01 % of ~5000 is under the 5.00 minimum
    assert tl["shares"].iloc[0] == pytest.approx(s0, **EXACT)
    assert tl["cash"].iloc[0] == 5000.0
    v = s0 * 97 + 5000
    q = (100 / 97 - 1) * R * v / 97
    assert tl["commission"].iloc[1] == 5.0
    assert tl["cash"].iloc[1] == pytest.approx(5000 - q * 97 - 5.0, **EXACT)
    assert res.metrics["total_commission"] == 10.0


def test_max_trade_share_caps_the_notional_at_the_close():
    res = run([100, 90], rebalance_ratio=5, max_trade_share=0.02, **NO_COSTS)
    v = 50 * 90 + 5000
    row = res.timeline.iloc[1]
    assert row["qty"] == pytest.approx(0.02 * v / 90, **EXACT)
    assert "capped at 2.0 %" in row["reason"]


def test_no_shorting_and_no_margin():
    # A sell larger than the holding (guardrail 0 so no trim) sells exactly what is held.
    res = run([100, 200], rebalance_ratio=50, guardrail_min=0.0, **NO_COSTS)
    assert res.timeline["shares"].iloc[1] == 0.0
    assert res.timeline["qty"].iloc[1] == -50.0
    # A buy larger than the cash (guardrail 1 so no trim) spends exactly the cash, commission included.
    c = 0.001
    res = run([100, 50], rebalance_ratio=50, guardrail_max=1.0, commission_rate=c, min_notional=0)
    row = res.timeline.iloc[1]
    assert row["qty"] == pytest.approx(5000 / (50 * (1 + c)), **EXACT)
    assert row["cash"] == pytest.approx(0.0, abs=1e-9)
    assert row["cash"] >= 0.0


def test_zero_initial_stock_starts_in_cash_and_buys_on_a_drop():
    res = run([100, 97], initial_stock_share=0.0, guardrail_min=0.0, **NO_COSTS)
    tl = res.timeline
    assert len(res.trades) == 1  # no initial order at all
    assert tl["shares"].iloc[0] == 0.0 and tl["cash"].iloc[0] == 10_000.0
    assert tl["action"].iloc[0] == "HOLD"
    q = (100 / 97 - 1) * R * 10_000 / 97
    assert tl["qty"].iloc[1] == pytest.approx(q, **EXACT)


def test_full_initial_stock_spends_everything_and_sells_on_a_rise():
    c = 0.0001
    res = run([100, 103], initial_stock_share=1.0, guardrail_max=1.0, commission_rate=c, min_notional=0)
    tl = res.timeline
    s0 = 10_000 / (1 + c) / 100
    assert tl["shares"].iloc[0] == pytest.approx(s0, **EXACT)
    assert tl["cash"].iloc[0] == 0.0
    v = s0 * 103
    q = (100 / 103 - 1) * R * v / 103
    assert tl["qty"].iloc[1] == pytest.approx(q, **EXACT)
    assert tl["cash"].iloc[1] == pytest.approx(-q * 103 * (1 - c), **EXACT)


def _divs(*rows):
    return pd.DataFrame(rows, columns=["ex_date", "amount", "pay_date"])


def test_dividend_across_ex_date_and_pay_date():
    closes = [100, 97] + [97] * 13
    divs = _divs((pd.Timestamp("2024-01-03"), 3.0, pd.NaT))
    res = run(closes, dividends=divs, **NO_COSTS)
    tl = res.timeline
    gross, withheld = 50 * 3.0, 50 * 3.0 * 0.25
    net = gross - withheld
    ex = tl.iloc[1]
    # The ex-date drop of 3 % would fire a buy against anchor 100; the anchor is cut to 97 first.
    assert ex["anchor"] == 97.0
    assert ex["action"] == "HOLD"
    assert ex["dividend_gross"] == gross
    assert ex["dividend_withholding"] == withheld
    assert ex["dividend_net"] == net
    assert ex["receivable"] == net
    assert ex["cash"] == 5000.0
    assert ex["value"] == 50 * 97 + 5000 + net
    assert ex["stock_share"] == pytest.approx(post_share(50, 5000, net, 97), **EXACT)
    # Paid 14 calendar days after the ex-date (2024-01-17, the 12th bar).
    pay_bar = list(tl.index).index(pd.Timestamp("2024-01-17"))
    assert tl["receivable"].iloc[pay_bar - 1] == net
    assert tl["cash"].iloc[pay_bar] == 5000.0 + net
    assert tl["receivable"].iloc[pay_bar] == 0.0
    assert tl["dividend_cash"].iloc[pay_bar] == net
    d = res.dividends.iloc[0]
    assert (d["gross"], d["withholding"], d["net"], d["shares"]) == (gross, withheld, net, 50.0)
    assert d["pay_date"] == pd.Timestamp("2024-01-17") and d["paid"]
    assert res.metrics["dividends_gross"] == gross
    assert res.metrics["dividends_net"] == net
    assert res.metrics["withholding_tax"] == withheld
    kinds = [e.type for e in res.events]
    assert {"ex_div_effective", "anchor_adjusted_for_dividend", "dividend_cash_received"} <= set(kinds)
    # Benchmarks receive the same dividend, net of tax.
    bh = res.benchmarks["buy_and_hold"]
    assert bh.iloc[1] == pytest.approx(100 * 97 + 100 * 3.0 * 0.75, **EXACT)
    assert res.benchmarks["static_mix"].iloc[-1] == pytest.approx(50 * 97 + 5000 + net, **EXACT)


def test_receivable_counts_in_value_but_cannot_be_spent():
    divs = _divs((pd.Timestamp("2024-01-03"), 1.0, pd.Timestamp("2024-02-01")))
    res = run([100, 99, 90], dividends=divs, initial_stock_share=1.0, guardrail_min=0.0, guardrail_max=1.0,
              auto_rebalance=False, **NO_COSTS)
    row = res.timeline.iloc[2]
    assert row["receivable"] == 75.0
    assert row["trigger"] == "BUY"
    assert row["action"] == "SKIP"
    assert row["skip_reason"] == "no cash"


def test_dividend_edge_rules():
    divs = _divs(
        (pd.Timestamp("2024-01-02"), 5.0, pd.NaT),  # on the first bar: ignored
        (pd.Timestamp("2024-01-04"), 1.0, pd.Timestamp("2024-01-04")),  # paid on its ex-date: paid at once
        (pd.Timestamp("2024-01-04"), 0.5, pd.NaT),  # same bar: same shares, anchor cut again
    )
    res = run([100, 100, 100, 100], dividends=divs, dividend_pay_lag_days=1, **NO_COSTS)
    tl = res.timeline
    assert len(res.dividends) == 2
    assert tl["anchor"].iloc[2] == 100 - 1.0 - 0.5
    assert list(res.dividends["shares"]) == [50.0, 50.0]
    assert tl["cash"].iloc[2] == 5000 + 50 * 1.0 * 0.75
    assert tl["receivable"].iloc[2] == 50 * 0.5 * 0.75
    assert tl["receivable"].iloc[3] == 0.0  # the second is paid a day later
    assert tl["cash"].iloc[3] == 5000 + 50 * 1.5 * 0.75


def test_a_pay_date_before_its_ex_date_is_refused():
    from core.errors import DataError

    divs = _divs((pd.Timestamp("2024-01-04"), 1.0, pd.Timestamp("2024-01-01")))
    with pytest.raises(DataError, match=r"dividend row 1: pay_date 2024-01-01 is before ex_date 2024-01-04"):
        run([100, 100, 100], dividends=divs, **NO_COSTS)


def test_dividend_with_no_shares_still_lowers_the_anchor():
    divs = _divs((pd.Timestamp("2024-01-03"), 2.0, pd.NaT))
    res = run([100, 100], dividends=divs, initial_stock_share=0.0, guardrail_min=0.0, **NO_COSTS)
    assert res.timeline["anchor"].iloc[1] == 98.0
    assert res.dividends["gross"].iloc[0] == 0.0


def test_value_moves_only_by_fee_and_slippage_at_a_trade():
    res = run([100, 95, 101, 96], commission_rate=0.002, slippage_bps=25, min_notional=0)
    tl = res.timeline
    for i in range(1, len(tl)):
        row, prev = tl.iloc[i], tl.iloc[i - 1]
        before = prev["shares"] * row["price"] + prev["cash"] + prev["receivable"]
        cost = row["commission"] + abs(row["qty"]) * abs(row["exec_price"] - row["price"])
        if row["action"] in ("BUY", "SELL"):
            assert row["value"] == pytest.approx(before - cost, rel=1e-13)


def test_events_and_reasons_explain_a_trimmed_buy():
    res = run([100, 90], rebalance_ratio=5, **NO_COSTS)
    types = [e.type for e in res.events if e.bar == 1]
    assert types == ["threshold_crossed", "order_trimmed_guardrail", "order_filled", "anchor_updated"]
    reason = res.timeline["reason"].iloc[1]
    assert reason.startswith("Price 90.00 is 10.00 % below anchor 100.00 (trigger 3.00 %): buy ")
    assert reason.endswith("to keep stock at 75.0 % at 90.00")
    filled = next(e for e in res.events if e.type == "order_filled" and e.bar == 1)
    assert filled.outputs["stock_share_after"] == pytest.approx(0.75, abs=1e-12)


def test_simulate_refuses_unsorted_data():
    from core.errors import DataError

    prices = daily([100, 101, 102]).iloc[::-1]
    with pytest.raises(DataError, match="not increasing"):
        simulate(prices, StrategyConfig())


def test_the_receivable_after_payments_is_exact_and_never_negative():
    from core import kernel as K

    # docs/strategy.md §5.1: nothing outstanding -> exactly 0; something outstanding -> the sum, floored at 0.
    assert K.settle_receivable(1e-13, 0) == 0.0
    assert K.settle_receivable(18.75, 1) == 18.75
    assert K.settle_receivable(-8.881784197001252e-16, 1) == 0.0
    # 3.854 + 7.708 booked, then a zero-net dividend, then the two paid: float residue of the sum stays >= 0.
    cash, receivable = K.pay_dividend(3.8540250000000003, 0.0, 3.8540250000000003 + 7.708050000000001)
    cash, receivable = K.pay_dividend(7.708050000000001, cash, receivable)
    assert K.settle_receivable(receivable, 1) >= 0.0
