"""The two benchmarks' dividends (docs/strategy.md §6 and §5.1), with numbers derived from the rule.

Buy-and-hold buys like the strategy's initial order with all the capital; the static mix holds the strategy's
starting split. Both receive every dividend whose ex-date falls after the first bar and on or before the last
(an ex-date on a non-trading day is booked on the next bar), net of withholding, counted in value from that bar on
(as a receivable, then as cash: the value is the same). A dividend on or before the first bar, or after the last,
is never received. ``simulate`` and ``simulate_many`` must agree with the rule and with each other.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import StrategyConfig, simulate, simulate_many

# Friday 2024-01-05, then Monday to Wednesday: the Saturday 01-06 ex-date is booked on Monday 01-08.
DATES = pd.DatetimeIndex(["2024-01-05", "2024-01-08", "2024-01-09", "2024-01-10"])
CLOSES = [100.0, 110.0, 120.0, 90.0]
DIVIDENDS = pd.DataFrame(
    {
        "ex_date": pd.to_datetime(["2024-01-03", "2024-01-06", "2024-01-10", "2024-01-13"]),
        "amount": [1.0, 2.0, 1.0, 5.0],
        # before the first bar; a weekend ex-date paid after the last bar; the last bar, lag pay date; after the end
        "pay_date": pd.to_datetime(["2024-01-08", "2024-01-20", None, "2024-01-20"]),
    }
)
# Per share received by the end: 2.00 (weekend ex-date, booked 01-08) + 1.00 (last bar); 1.00 and 5.00 never.
RECEIVED_PER_SHARE = [0.0, 2.0, 2.0, 3.0]  # cumulative, by bar


def _prices() -> pd.DataFrame:
    return pd.DataFrame({"open": CLOSES, "high": CLOSES, "low": CLOSES, "close": CLOSES, "volume": 1e6},
                        index=DATES)


def _initial_order(capital: float, share: float, price: float, commission: float) -> tuple[float, float]:
    """docs/strategy.md §5.0 with fractional shares: spend share·capital, commission included."""
    budget = share * capital
    notional = budget / (1.0 + commission)
    return notional / price, capital - budget


@pytest.mark.parametrize("tax", [0.0, 0.25, 1.0])
@pytest.mark.parametrize("commission", [0.0, 0.001])
def test_both_benchmarks_receive_exactly_the_dividends_of_the_rule(tax, commission):
    cfg = StrategyConfig(withholding_tax_rate=tax, commission_rate=commission, min_notional=0.0,
                         dividend_pay_lag_days=3)
    bh_shares, bh_cash = _initial_order(cfg.initial_capital, 1.0, CLOSES[0], commission)
    mix_shares, mix_cash = _initial_order(cfg.initial_capital, cfg.initial_stock_share, CLOSES[0], commission)
    expected_bh = [bh_shares * (c + d * (1 - tax)) + bh_cash for c, d in zip(CLOSES, RECEIVED_PER_SHARE, strict=True)]
    expected_mix = [mix_shares * (c + d * (1 - tax)) + mix_cash
                    for c, d in zip(CLOSES, RECEIVED_PER_SHARE, strict=True)]

    res = simulate(_prices(), cfg, DIVIDENDS)
    assert res.benchmarks["buy_and_hold"].to_numpy() == pytest.approx(expected_bh, rel=1e-12)
    assert res.benchmarks["static_mix"].to_numpy() == pytest.approx(expected_mix, rel=1e-12)
    bh_return = expected_bh[-1] / cfg.initial_capital - 1
    mix_return = expected_mix[-1] / cfg.initial_capital - 1
    assert res.metrics["buy_hold_return"] == pytest.approx(bh_return, rel=1e-12)
    assert res.metrics["static_mix_return"] == pytest.approx(mix_return, rel=1e-12)
    assert res.metrics["excess_return_vs_buy_hold"] == pytest.approx(res.metrics["total_return"] - bh_return,
                                                                     rel=1e-12, abs=1e-15)

    table = simulate_many(_prices(), [cfg], DIVIDENDS)
    assert table["buy_hold_return"].iloc[0] == pytest.approx(bh_return, rel=1e-12)
    assert table["static_mix_return"].iloc[0] == pytest.approx(mix_return, rel=1e-12)


def test_with_zero_tax_the_numbers_are_round():
    # 100 shares (no commission): 100·90 + 100·3 = 9300; the mix: 50·90 + 5000 + 50·3 = 9650.
    cfg = StrategyConfig(withholding_tax_rate=0.0, commission_rate=0.0, min_notional=0.0)
    res = simulate(_prices(), cfg, DIVIDENDS)
    assert res.benchmarks["buy_and_hold"].iloc[-1] == pytest.approx(9300.0, rel=1e-15)
    assert res.benchmarks["static_mix"].iloc[-1] == pytest.approx(9650.0, rel=1e-15)
    assert res.metrics["buy_hold_return"] == pytest.approx(-0.07, rel=1e-12)
    assert res.metrics["static_mix_return"] == pytest.approx(-0.035, rel=1e-12)


def test_the_dividends_table_lists_only_booked_dividends():
    # The one after the last bar was once shown as "booked on bar 0, paid 1970-01-01" and counted in the benchmarks.
    res = simulate(_prices(), StrategyConfig(), DIVIDENDS)
    assert list(res.dividends["ex_date"]) == list(pd.to_datetime(["2024-01-06", "2024-01-10"]))
    assert list(res.dividends["paid"]) == [False, False]  # 01-20 and 01-13 both fall after the last bar


def _rule_return(prices: pd.DataFrame, divs: pd.DataFrame, cfg: StrategyConfig, share: float) -> float:
    """A benchmark's total return from the rule alone (docs/strategy.md §5.0 and §6), any commission setting."""
    price0 = float(prices["close"].iloc[0])
    budget = share * cfg.initial_capital
    c, fmin = cfg.commission_rate, cfg.commission_min
    notional = budget / (1.0 + c)
    if c * notional < fmin:
        notional = budget - fmin
    shares, cash = 0.0, cfg.initial_capital
    if budget > 0 and notional > 0:
        if cfg.fractional_shares:
            shares, cash = notional / price0, cfg.initial_capital - budget
        else:
            n = int(notional // price0)
            while n > 0 and n * price0 + max(c * n * price0, fmin) > budget:
                n -= 1
            if n > 0:
                shares, cash = float(n), cfg.initial_capital - n * price0 - max(c * n * price0, fmin)
    days = prices.index.normalize()
    received = sum(float(a) for e, a in zip(divs["ex_date"], divs["amount"], strict=True)
                   if days[0] < e <= days[-1])
    final = shares * float(prices["close"].iloc[-1]) + cash + shares * received * (1.0 - cfg.withholding_tax_rate)
    return final / cfg.initial_capital - 1.0


@pytest.mark.parametrize("seed", range(12))
def test_random_calendars_and_costs_agree_with_the_rule(seed):
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2015-01-02", periods=int(rng.integers(30, 400)))
    close = 50.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, len(index))))
    prices = pd.DataFrame({"open": close, "high": close, "low": close, "close": close, "volume": 1e6}, index=index)
    # Ex-dates on any calendar day (weekends too), from before the first bar to after the last.
    k = int(rng.integers(1, 8))
    ex = pd.DatetimeIndex(sorted(index[0] + pd.Timedelta(days=int(d))
                                 for d in rng.integers(-10, len(index) * 7 // 5 + 20, k)))
    pays = [e + pd.Timedelta(days=int(rng.integers(0, 60))) if rng.random() < 0.5 else pd.NaT for e in ex]
    divs = pd.DataFrame({"ex_date": ex, "amount": rng.uniform(0.1, 2.0, k), "pay_date": pays})
    cfg = StrategyConfig(
        initial_stock_share=float(rng.uniform(0.0, 1.0)), commission_rate=float(rng.choice([0.0, 0.001, 0.01])),
        commission_min=float(rng.choice([0.0, 5.0])), fractional_shares=bool(rng.random() < 0.5),
        withholding_tax_rate=float(rng.choice([0.0, 0.3, 1.0])), slippage_bps=float(rng.choice([0.0, 10.0])),
        guardrail_min=0.0, guardrail_max=1.0,
    )
    bh, mix = _rule_return(prices, divs, cfg, 1.0), _rule_return(prices, divs, cfg, cfg.initial_stock_share)
    res = simulate(prices, cfg, divs)
    table = simulate_many(prices, [cfg], divs)
    for got in (res.metrics, table.iloc[0]):
        assert got["buy_hold_return"] == pytest.approx(bh, rel=1e-11, abs=1e-12)
        assert got["static_mix_return"] == pytest.approx(mix, rel=1e-11, abs=1e-12)
