"""The worked examples of docs/strategy.md §8, reproduced by the engine.

Every expected number below is a literal copied from the document, where it was derived by hand from the rules
(not from the engine's output). Each is compared to the precision the document prints it with.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from core import METRIC_NAMES, StrategyConfig, simulate


def dec(value: float, decimals: int):
    """``value`` as printed with ``decimals`` decimals: equal up to half a unit of the last printed digit."""
    return pytest.approx(value, abs=0.5 * 10.0**-decimals + 1e-12)


def bars(closes: list[float]) -> pd.DataFrame:
    """Daily bars on consecutive business days from Tuesday 2024-01-02, as in §8."""
    return pd.DataFrame({"close": [float(c) for c in closes]}, index=pd.bdate_range("2024-01-02", periods=len(closes)))


def day(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def test_a_basic_buy_and_sell_without_costs():
    res = simulate(bars([100, 96.9, 100]), StrategyConfig(commission_rate=0.0, min_notional=0.0))
    tl = res.timeline

    # Bar 1: 50 shares, 5000 cash, anchor 100.
    assert tl["shares"].iloc[0] == dec(50, 6)
    assert tl["cash"].iloc[0] == dec(5000, 6)
    assert tl["anchor_after"].iloc[0] == dec(100, 6)
    assert tl["value"].iloc[0] == dec(10_000, 6)

    # Bar 2: buy 5.417355 sh at 96.9.
    b2 = tl.iloc[1]
    assert b2["action"] == "BUY" and b2["trigger"] == "BUY" and b2["kind"] == "trigger"
    assert b2["buy_trigger_price"] == dec(97.00, 2)
    assert b2["value"] == dec(9845, 6)
    assert b2["qty"] == dec(5.417355, 6)
    assert b2["notional"] == dec(524.941699, 6)
    assert b2["stock_share"] == dec(0.545449, 6)
    assert not b2["trimmed"]
    assert b2["shares"] == dec(55.417355, 6)
    assert b2["cash"] == dec(4475.058301, 6)
    assert b2["anchor_after"] == dec(96.9, 6)

    # Bar 3: sell 5.175447 sh at 100.
    b3 = tl.iloc[2]
    assert b3["action"] == "SELL" and b3["trigger"] == "SELL"
    assert b3["sell_trigger_price"] == dec(99.807, 3)
    assert b3["qty"] == dec(-5.175447, 6)
    assert b3["notional"] == dec(517.544697, 6)
    assert b3["shares"] == dec(50.241908, 6)
    assert b3["cash"] == dec(4992.602998, 6)
    assert b3["value"] == dec(10_016.793800, 6)
    assert b3["stock_share"] == dec(0.501577, 6)
    assert b3["anchor_after"] == dec(100, 6)

    m = res.metrics
    assert m["total_return"] == dec(0.00167938, 8)
    assert m["max_drawdown"] == dec(-0.0155, 4)
    assert m["max_drawdown_days"] == 2.0
    assert (m["n_trades"], m["n_buys"], m["n_sells"]) == (2.0, 1.0, 1.0)
    assert m["total_commission"] == 0.0
    assert m["time_in_band_share"] == 1.0
    assert m["turnover"] == dec(8.797414, 6)
    assert m["win_rate"] == 1.0
    assert math.isnan(m["profit_factor"])
    assert list(res.trades["kind"]) == ["initial", "trigger", "trigger"]


def test_b_buy_trimmed_to_the_upper_guardrail_with_commission_and_slippage():
    cfg = StrategyConfig(rebalance_ratio=3, commission_rate=0.001, slippage_bps=10, min_notional=0.0)
    res = simulate(bars([100, 90]), cfg)
    tl = res.timeline

    b1 = tl.iloc[0]
    assert b1["notional"] == dec(4995.004995, 6)
    assert b1["commission"] == dec(4.995005, 6)
    assert b1["shares"] == dec(49.950050, 6)
    assert b1["cash"] == dec(5000, 6)

    b2 = tl.iloc[1]
    assert b2["action"] == "BUY"
    assert b2["exec_price"] == dec(90.09, 2)
    assert b2["raw_qty"] == dec(35.168535, 6)
    assert b2["trimmed"]
    assert b2["guardrail_bound"] == 0.75
    assert b2["qty"] == dec(29.135429, 6)
    assert b2["notional"] == dec(2624.810815, 6)
    assert b2["commission"] == dec(2.624811, 6)
    assert b2["shares"] == dec(79.085479, 6)
    assert b2["cash"] == dec(2372.564374, 6)
    assert b2["value"] == dec(9490.257496, 6)
    assert b2["stock_share"] == pytest.approx(0.75, abs=1e-12)  # exactly on the bound
    assert b2["anchor_after"] == dec(90.09, 2)
    assert res.metrics["n_trimmed"] == 1.0
    assert b2["reason"] == (
        "Price 90.00 is 10.00 % below anchor 100.00 (trigger 3.00 %): buy 35.17 sh, trimmed to 29.14 sh to keep "
        "stock at 75.0 % at 90.09"
    )
    types = [str(e.type) for e in res.events if e.bar == 1]
    assert types == ["threshold_crossed", "order_trimmed_guardrail", "order_filled", "anchor_updated"]


def test_b_prime_trim_with_a_minimum_commission_uses_the_fixed_fee():
    cfg = StrategyConfig(rebalance_ratio=3, commission_rate=0.0, commission_min=20.0, min_notional=0.0)
    res = simulate(bars([100, 90]), cfg)
    tl = res.timeline
    assert tl["shares"].iloc[0] == dec(49.8, 6)
    assert tl["commission"].iloc[0] == dec(20, 6)
    assert tl["cash"].iloc[0] == dec(5000, 6)
    b2 = tl.iloc[1]
    assert b2["raw_qty"] == dec(35.118519, 6)
    assert b2["qty"] == dec(29.05, 6)
    assert b2["commission"] == dec(20, 6)
    assert b2["shares"] == dec(78.85, 6)
    assert b2["cash"] == dec(2365.5, 6)
    assert b2["value"] == dec(9462, 6)
    assert b2["stock_share"] == pytest.approx(0.75, abs=1e-12)


def test_c_order_below_the_minimum_is_skipped_and_keeps_the_anchor():
    res = simulate(bars([100, 96.9, 95]), StrategyConfig(rebalance_ratio=0.3, commission_rate=0.0))
    assert res.config.min_notional == 100.0  # the default minimum order
    tl = res.timeline

    b2 = tl.iloc[1]
    assert b2["trigger"] == "BUY"
    assert b2["action"] == "SKIP"
    assert b2["skip_reason"] == "below minimum"
    assert b2["qty"] == dec(0.975104, 6)
    assert abs(b2["qty"]) * b2["exec_price"] == dec(94.49, 2)
    assert b2["shares"] == dec(50, 6)
    assert b2["cash"] == dec(5000, 6)
    assert b2["anchor_after"] == dec(100, 6)

    b3 = tl.iloc[2]
    assert b3["anchor"] == dec(100, 6)  # measured against the old anchor
    assert b3["action"] == "BUY"
    assert b3["value"] == dec(9750, 6)
    assert b3["qty"] == dec(1.620499, 6)
    assert b3["notional"] == dec(153.947368, 6)
    assert b3["shares"] == dec(51.620499, 6)
    assert b3["cash"] == dec(4846.052632, 6)
    assert b3["anchor_after"] == dec(95, 6)

    assert res.metrics["n_skipped_min_notional"] == 1.0
    assert res.metrics["n_trades"] == 1.0
    assert [str(e.type) for e in res.events if e.bar == 1] == ["threshold_crossed", "order_rejected_min"]


def test_d_auto_rebalance_sells_back_to_the_upper_guardrail():
    res = simulate(bars([100, 100.5]), StrategyConfig(initial_stock_share=0.8, commission_rate=0.0))
    tl = res.timeline
    b1 = tl.iloc[0]
    assert (b1["shares"], b1["cash"]) == (dec(80, 6), dec(2000, 6))
    assert b1["kind"] == "initial"  # the first bar never rebalances, though 80 % is outside the band

    b2 = tl.iloc[1]
    assert b2["trigger"] == ""
    assert b2["sell_trigger_price"] == dec(103.00, 2)
    assert b2["buy_trigger_price"] == dec(97.00, 2)
    assert b2["pre_trade_stock_share"] == dec(0.8008, 4)
    assert b2["kind"] == "rebalance"
    assert b2["action"] == "SELL"
    assert b2["qty"] == dec(-5.074627, 6)
    assert b2["notional"] == dec(510.00, 2)
    assert b2["shares"] == dec(74.925373, 6)
    assert b2["cash"] == dec(2510, 6)
    assert b2["value"] == dec(10_040, 6)
    assert b2["stock_share"] == pytest.approx(0.75, abs=1e-12)
    assert b2["anchor_after"] == dec(100.5, 6)
    assert res.metrics["n_rebalances"] == 1.0
    assert "auto_guardrail_rebalance" in [str(e.type) for e in res.events if e.bar == 1]


def test_e_dividend_across_ex_date_and_pay_date():
    divs = pd.DataFrame({"ex_date": [day("2024-01-03")], "amount": [3.0], "pay_date": [day("2024-01-05")]})
    res = simulate(bars([100, 97, 94, 94]), StrategyConfig(commission_rate=0.0, min_notional=0.0), divs)
    tl = res.timeline

    ex = tl.iloc[1]
    assert ex["dividend_gross"] == dec(150, 6)
    assert ex["dividend_withholding"] == dec(37.50, 6)
    assert ex["dividend_net"] == dec(112.50, 6)
    assert ex["receivable"] == dec(112.50, 6)
    assert ex["cash"] == dec(5000, 6)
    assert ex["anchor"] == dec(97, 6)  # cut from 100
    assert ex["sell_trigger_price"] == dec(99.91, 2)
    assert ex["buy_trigger_price"] == dec(94.09, 2)
    assert ex["action"] == "HOLD"
    assert ex["value"] == dec(9962.50, 6)
    assert ex["stock_share"] == dec(0.4868, 4)

    b3 = tl.iloc[2]
    assert b3["action"] == "BUY"
    assert b3["value"] == dec(9812.50, 6)
    assert b3["qty"] == dec(5.552680, 6)
    assert b3["notional"] == dec(521.951928, 6)
    assert b3["shares"] == dec(55.552680, 6)
    assert b3["cash"] == dec(4478.048072, 6)
    assert b3["receivable"] == dec(112.50, 6)
    assert b3["anchor_after"] == dec(94, 6)

    pay = tl.iloc[3]
    assert pay["cash"] == dec(4590.548072, 6)
    assert pay["receivable"] == 0.0
    assert pay["dividend_cash"] == dec(112.50, 6)
    assert pay["value"] == dec(9812.50, 6)

    bench = res.benchmarks
    assert bench["buy_and_hold"].iloc[1] == dec(9925, 6)
    assert bench["buy_and_hold"].iloc[-1] == dec(9625, 6)
    assert bench["static_mix"].iloc[1] == dec(9962.5, 6)
    assert bench["static_mix"].iloc[-1] == dec(9812.5, 6)

    m = res.metrics
    assert m["dividends_gross"] == dec(150, 6)
    assert m["dividends_net"] == dec(112.5, 6)
    assert m["withholding_tax"] == dec(37.5, 6)
    d = res.dividends.iloc[0]
    assert d["shares"] == dec(50, 6)
    assert d["pay_date"] == day("2024-01-05")
    assert d["paid"]
    types = [str(e.type) for e in res.events]
    assert types[2:4] == ["ex_div_effective", "anchor_adjusted_for_dividend"]
    assert types[-1] == "dividend_cash_received"


def test_e_prime_pay_date_edge_rules():
    divs = pd.DataFrame(
        {
            "ex_date": [day("2024-01-02"), day("2024-01-03"), day("2024-01-03")],
            "amount": [5.0, 1.0, 0.5],
            "pay_date": [pd.NaT, day("2024-01-03"), pd.NaT],
        }
    )
    cfg = StrategyConfig(commission_rate=0.0, min_notional=0.0, dividend_pay_lag_days=2)
    res = simulate(bars([100, 100, 100, 100]), cfg, divs)
    tl = res.timeline
    assert tl["anchor"].iloc[1] == dec(98.5, 6)
    assert tl["cash"].iloc[1] == dec(5037.50, 6)
    assert tl["receivable"].iloc[1] == dec(18.75, 6)
    assert tl["receivable"].iloc[2] == dec(18.75, 6)
    assert tl["cash"].iloc[3] == dec(5056.25, 6)
    assert tl["receivable"].iloc[3] == 0.0
    assert len(res.dividends) == 2  # the first-bar dividend is ignored
    assert list(res.dividends["net"]) == [dec(37.50, 6), dec(18.75, 6)]
    assert list(res.dividends["pay_date"]) == [day("2024-01-03"), day("2024-01-05")]


def test_f_metrics_on_a_five_point_daily_series():
    cfg = StrategyConfig(
        initial_stock_share=1.0, guardrail_max=1.0, trigger_up=0.5, trigger_down=0.5, commission_rate=0.0,
        periods_per_year=4,
    )
    res = simulate(bars([100, 110, 99, 121]), cfg)
    assert list(res.daily_equity) == [dec(w, 6) for w in (10_000, 10_000, 11_000, 9900, 12_100)]
    assert res.metrics["n_trades"] == 0.0

    expected = {
        "total_return": (0.21, 2),
        "cagr": (0.21, 2),
        "max_drawdown": (-0.10, 2),
        "max_drawdown_days": (2, 0),
        "calmar": (2.1, 1),
        "volatility": (0.2757705, 7),
        "sharpe": (0.8058230, 7),
        "sortino": (2.2222222, 7),
        "var_95": (-0.085, 3),
        "cvar_95": (-0.10, 2),
        "time_in_band_share": (1.0, 1),
        "buy_hold_return": (0.21, 2),
        "static_mix_return": (0.21, 2),
    }
    for name, (value, decimals) in expected.items():
        assert res.metrics[name] == dec(value, decimals), name
    assert math.isnan(res.metrics["win_rate"])
    assert math.isnan(res.metrics["profit_factor"])


VOL_G = dict(threshold_mode="vol_scaled", vol_window_bars=4, vol_reference=0.30, trigger_up=0.05, trigger_down=0.05,
             commission_rate=0.0, min_notional=0.0)
CLOSES_G = [100, 100 * math.exp(0.02), 100, 100 * math.exp(0.02), 100, 94.5, 91]


def test_g_volatility_scaled_triggers():
    res = simulate(bars(CLOSES_G), StrategyConfig(**VOL_G))
    tl = res.timeline
    assert tl["price"].iloc[1] == dec(102.020134, 6)

    # Bars 1-5: warm-up, the fixed 5 %, nothing fires.
    assert list(tl["trigger_down_in_force"].iloc[:5]) == [0.05] * 5
    assert tl["window_volatility"].iloc[:5].isna().all()
    assert list(tl["action"].iloc[:5]) == ["BUY", "HOLD", "HOLD", "HOLD", "HOLD"]

    # Bar 6: σ 36.66 %, triggers 6.11 %, buy level 93.89: 94.5 holds.
    b6 = tl.iloc[5]
    assert b6["window_volatility"] == dec(0.366606, 6)
    assert b6["trigger_down_in_force"] == dec(0.0611010, 7) and b6["trigger_up_in_force"] == dec(0.0611010, 7)
    assert b6["buy_trigger_price"] == dec(93.89, 2)
    assert b6["action"] == "HOLD"

    # Bar 7: σ 49.65 %, triggers 8.27 %, buy level 91.73: 91 buys 17.298981 sh.
    b7 = tl.iloc[6]
    assert b7["window_volatility"] == dec(0.496481, 6)
    assert b7["trigger_down_in_force"] == dec(0.0827469, 7)
    assert b7["buy_trigger_price"] == dec(91.73, 2)
    assert b7["action"] == "BUY" and b7["kind"] == "trigger" and not b7["trimmed"]
    assert b7["value"] == dec(9550, 6)
    assert b7["qty"] == dec(17.298981, 6)
    assert b7["notional"] == dec(1574.207308, 6)
    assert b7["stock_share"] == dec(0.6413, 4)
    assert b7["shares"] == dec(67.298981, 6)
    assert b7["cash"] == dec(3425.792692, 6)
    assert b7["anchor_after"] == dec(91, 6)
    assert "(trigger 8.27 %, vol-scaled: σ 4-bar 49.65 % / reference 30.00 % × 5.00 %)" in b7["reason"]

    # Fixed 5 % triggers would have bought on bar 6 (94.5 ≤ 95).
    assert simulate(bars(CLOSES_G), StrategyConfig(**{**VOL_G, "threshold_mode": "fixed"})).timeline[
        "action"].iloc[5] == "BUY"


def test_g_clamps():
    capped = simulate(bars(CLOSES_G), StrategyConfig(**{**VOL_G, "trigger_max": 0.08})).timeline.iloc[6]
    assert capped["trigger_down_in_force"] == dec(0.08, 2) and capped["buy_trigger_price"] == dec(92.00, 2)
    assert capped["action"] == "BUY"
    assert "= 8.27 %, cut to the 8.00 % cap" in capped["reason"]
    cfg = StrategyConfig(**{**VOL_G, "vol_reference": 0.50, "trigger_min": 0.04})
    floored = simulate(bars(CLOSES_G), cfg).timeline.iloc[5]
    assert floored["trigger_down_in_force"] == dec(0.04, 2) and floored["buy_trigger_price"] == dec(96.00, 2)
    assert floored["action"] == "BUY"
    assert "reference 50.00 % × 5.00 % = 3.67 %, raised to the 4.00 % floor" in floored["reason"]


def test_document_lists_every_metric_and_every_config_field():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "strategy.md").read_text(encoding="utf-8")
    for name in METRIC_NAMES:
        assert f"| `{name}` |" in text, name
    for name in StrategyConfig.__dataclass_fields__:
        assert f"| `{name}` |" in text, name
    for section in ("§1", "§2", "§3", "§4", "§5", "§6", "§7", "§8", "§9", "§10"):
        assert f"## {section} " in text, section
    for sub in range(12):
        assert f"### §5.{sub} " in text, f"§5.{sub}"
