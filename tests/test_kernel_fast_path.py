"""The kernel's shortcut over quiet stretches (``core.kernel._skip_quiet_bars``, docs/strategy.md §10.13) changes no
result: every metric equals the plain per-bar path's bit for bit.

The plain path is the one ``run_cell`` takes when it records (``rec`` has rows); the shortcut is taken by unrecorded
runs with fixed triggers and no transfers (``run_one``, ``run_many``). The comparisons are on the float64 bits, NaN
where NaN. The price certificates the shortcut relies on (``band_prices``, ``below_minimum_bound``) are also checked
directly against the rule functions, at prices on and next to their edges.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from engine_helpers import random_config, random_path

from core import StrategyConfig, kernel_interpreted
from core import kernel as K
from core.engine import params_matrix, params_row, prepare, run_params

NO_DIV = np.empty((0, K.N_DIV_RECORD))
NO_SIGMA = np.empty(0)


def _args(bars):
    return bars.close, bars.day, bars.in_session, bars.div_ex_day, bars.div_amount, bars.div_pay_day


def _plain(bars, p: np.ndarray) -> np.ndarray:
    """The per-bar path: ``run_cell`` recording every bar (the shortcut is off when recording)."""
    rec = np.zeros((bars.close.shape[0], K.N_RECORD))
    return K.run_cell(*_args(bars), p, NO_SIGMA, bars.n_days, rec, NO_DIV, K.NO_TRANSFERS)


def _fast(bars, p: np.ndarray) -> np.ndarray:
    """The shortcut as ``run_one`` takes it (stretches computed per call)."""
    return K.run_one(*_args(bars), p, NO_SIGMA, bars.n_days, np.empty((0, K.N_RECORD)), NO_DIV)


def _assert_bits_equal(a: np.ndarray, b: np.ndarray, what: str) -> None:
    a = np.ascontiguousarray(a, dtype=np.float64)
    b = np.ascontiguousarray(b, dtype=np.float64)
    same = a.view(np.int64) == b.view(np.int64)
    if not same.all():
        where = np.argwhere(~same)[0]
        names = K.METRIC_NAMES[where[-1]]
        raise AssertionError(f"{what}: {names} differs at {tuple(where)}: {a[tuple(where)]!r} vs {b[tuple(where)]!r}")


def _check(bars, configs: list[StrategyConfig], what: str) -> None:
    params = params_matrix(configs)
    plain = np.vstack([_plain(bars, p) for p in params])
    for j, p in enumerate(params):
        _assert_bits_equal(_fast(bars, p), plain[j], f"{what}, run_one, config {j}: {configs[j]}")
    _assert_bits_equal(run_params(bars, params, 2), plain, f"{what}, run_params")


def shortcut_config(rng: np.random.Generator) -> StrategyConfig:
    """A configuration the certificates apply to (no minimum commission, no per-order cap, fractional shares, a
    minimum order), with tight or wide bands, auto-rebalance on or off, low daily caps and session rules."""
    gmin = float(rng.choice([0.0, 0.1, 0.3, 0.45, 0.499, rng.uniform(0.0, 0.6)]))
    width = float(rng.choice([0.001, 0.01, 0.1, 0.3, rng.uniform(0.01, 0.5)]))
    return StrategyConfig(
        initial_capital=float(rng.choice([1_000.0, 10_000.0, 250_000.0])),
        initial_stock_share=float(rng.choice([0.0, 0.5, 1.0, rng.uniform(0, 1)])),
        trigger_up=float(rng.choice([0.002, 0.01, 0.03, rng.uniform(0.001, 0.1)])),
        trigger_down=float(rng.choice([0.002, 0.01, 0.03, rng.uniform(0.001, 0.1)])),
        sizing=str(rng.choice(["proportional", "fixed_fraction", "original"])),
        rebalance_ratio=float(rng.uniform(0.1, 4.0)),
        trade_fraction=float(rng.uniform(0.0, 1.0)),
        guardrail_min=gmin,
        guardrail_max=min(1.0, gmin + width),
        auto_rebalance=bool(rng.random() < 0.75),
        commission_rate=float(rng.choice([0.0, 0.0001, 0.001, rng.uniform(0, 0.01)])),
        slippage_bps=float(rng.choice([0.0, 0.0, 5.0, rng.uniform(0, 50)])),
        min_notional=float(rng.choice([1.0, 100.0, 500.0, 2_000.0, rng.uniform(0, 5_000)])),
        max_orders_per_day=int(rng.integers(1, 6)),
        allow_after_hours=bool(rng.integers(2)),
        withholding_tax_rate=float(rng.uniform(0, 0.5)),
        dividend_pay_lag_days=int(rng.integers(0, 10)),
    )


def five_minute_path(rng: np.random.Generator, n_days: int, vol: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """78 five-minute bars a session (a few pre- and after-market bars too), and dividends booked and paid inside
    the path, some on the same date."""
    days = pd.bdate_range("2022-03-01", periods=n_days)
    slots = pd.timedelta_range("09:30:00", periods=78, freq="5min")
    extra = pd.to_timedelta(["08:00:00", "08:30:00", "16:00:00", "17:00:00"])
    index = pd.DatetimeIndex(sorted((days.values[:, None] + np.concatenate([slots.values, extra.values])).ravel()))
    close = 80.0 * np.exp(np.cumsum(rng.normal(0.0, vol, len(index))))
    dates = pd.DatetimeIndex(rng.choice(days[1:], size=4)).sort_values()
    lags = rng.choice([0, 0, 3, 12], size=4)
    pays = [d + pd.Timedelta(days=int(lag)) for d, lag in zip(dates, lags, strict=True)]
    dividends = pd.DataFrame({"ex_date": dates, "amount": rng.uniform(0.2, 2.0, 4), "pay_date": pays})
    return pd.DataFrame({"close": close}, index=index), dividends


@pytest.mark.parametrize("seed", range(6))
def test_the_shortcut_equals_the_per_bar_path_on_five_minute_bars(seed):
    rng = np.random.default_rng(100 + seed)
    prices, dividends = five_minute_path(rng, n_days=12, vol=float(rng.choice([0.0005, 0.0015, 0.004])))
    bars = prepare(prices, dividends)
    configs = [shortcut_config(rng) for _ in range(24)] + [random_config(rng) for _ in range(8)]
    _check(bars, configs, f"five-minute path {seed}")


@pytest.mark.parametrize("intraday", [False, True])
def test_the_shortcut_equals_the_per_bar_path_on_random_paths(intraday):
    rng = np.random.default_rng(7 if intraday else 8)
    for k in range(6):
        prices, dividends = random_path(rng, intraday_bars=intraday)
        configs = [shortcut_config(rng) for _ in range(10)] + [random_config(rng) for _ in range(10)]
        _check(prepare(prices, dividends), configs, f"random path {k} (intraday={intraday})")


def _edges(state: tuple[float, float, float], p: np.ndarray, anchor: float) -> list[float]:
    """Every price at which the shortcut's decision changes for this state: the trigger levels, the band prices and
    the below-minimum bounds (finite, positive ones)."""
    shares, cash, receivable = state
    sell, buy = K.trigger_levels(anchor, p[K.P_TRIGGER_UP], p[K.P_TRIGGER_DOWN])
    b = K._skip_bounds(shares, cash, receivable, p)
    values = [sell, buy, *b[3:]]
    return [v for v in values if math.isfinite(v) and v > 1e-6]


def _ulps(x: float, k: int) -> list[float]:
    out = [x]
    up = down = x
    for _ in range(k):
        up, down = math.nextafter(up, math.inf), math.nextafter(down, 0.0)
        out += [up, down]
    return out


@pytest.mark.parametrize("case", range(8))
def test_closes_on_every_edge_and_one_ulp_either_side(case):
    """A path whose closes sit exactly on the decision edges of the starting state (and 1–3 ulps away), between
    neutral closes, so each edge is met inside a stretch with the state it was computed for."""
    rng = np.random.default_rng(500 + case)
    cfg = shortcut_config(rng).replace(initial_stock_share=0.5, guardrail_min=0.45, guardrail_max=0.55,
                                       trigger_up=0.03, trigger_down=0.03, max_orders_per_day=5)
    if case % 2:
        cfg = cfg.replace(guardrail_min=0.499, guardrail_max=0.5, auto_rebalance=bool(case % 4 == 1))
    p = params_row(cfg)
    first = 100.0
    shares, cash, _ = K.initial_order(cfg.initial_capital, cfg.initial_stock_share, first, p)
    closes = [first]
    for edge in _edges((shares, cash, 0.0), p, first):
        for x in _ulps(edge, 3):
            closes += [x, first, first]  # back at the anchor between edges (a trade there would end the stretch)
    n = len(closes)
    day = pd.bdate_range("2023-01-02", periods=n // 60 + 2)
    stamps = [day[i // 60] + pd.Timedelta(minutes=9 * 60 + 30 + (i % 60) * 5) for i in range(n)]
    prices = pd.DataFrame({"close": closes}, index=pd.DatetimeIndex(stamps))
    _check(prepare(prices), [cfg, cfg.replace(min_notional=1e6), cfg.replace(auto_rebalance=not cfg.auto_rebalance)],
           f"edges {case}")


def _random_state(rng: np.random.Generator) -> tuple[np.ndarray, float, float, float]:
    cfg = shortcut_config(rng).replace(
        guardrail_min=float(rng.uniform(0.0, 0.6)), guardrail_max=float(rng.uniform(0.6, 1.0)), auto_rebalance=True,
        min_notional=float(rng.choice([1.0, 50.0, 100.0, 1_000.0])),
    )
    shares = float(rng.choice([rng.uniform(0.001, 10), rng.uniform(10, 5_000)]))
    cash = float(rng.choice([0.0, rng.uniform(0, 100), rng.uniform(100, 200_000)]))
    receivable = float(rng.choice([0.0, 0.0, rng.uniform(0, 500)]))
    return params_row(cfg), shares, cash, receivable


def _probe_prices(rng: np.random.Generator, edges: list[float]) -> list[float]:
    out = []
    for e in edges:
        if math.isfinite(e) and e > 1e-9:
            out += _ulps(e, 2)
            out += [e * (1.0 + s * 10.0 ** -k) for k in (13, 12, 10, 8, 6, 3, 1) for s in (-1.0, 1.0)]
            out += list(e * np.exp(rng.normal(0, 0.05, 20)))
    return [x for x in out if x > 0.0]


def test_band_prices_are_certain():
    rng = np.random.default_rng(3)
    for _ in range(300):
        p, shares, cash, receivable = _random_state(rng)
        inside_above, inside_below, over_above, under_below = K.band_prices(shares, cash, receivable, p)
        gmin, gmax = p[K.P_GMIN], p[K.P_GMAX]
        for price in _probe_prices(rng, [inside_above, inside_below, over_above, under_below]):
            _, share = K.valuation(shares, cash, receivable, price)
            if inside_above < price < inside_below:
                assert K.in_band(share, gmin, gmax) and K.band_side(share, p) == K.SIDE_NONE, (price, share)
            if price > over_above:
                assert K.band_side(share, p) == K.SIDE_SELL, (price, share)
            if price < under_below:
                assert K.band_side(share, p) == K.SIDE_BUY, (price, share)


def test_rebalance_refusals_below_the_minimum_are_certain():
    rng = np.random.default_rng(4)
    checked = 0
    for _ in range(400):
        p, shares, cash, receivable = _random_state(rng)
        b = K._skip_bounds(shares, cash, receivable, p)
        for price in _probe_prices(rng, [b.rebalance_sell_below, b.rebalance_buy_above, b.over_above, b.under_below]):
            value, share = K.valuation(shares, cash, receivable, price)
            side = K.band_side(share, p) if value > 0.0 else K.SIDE_NONE
            certain = (side == K.SIDE_SELL and price < b.rebalance_sell_below) or (
                side == K.SIDE_BUY and price > b.rebalance_buy_above)
            if certain:  # decide_order with no trigger in reach: the rebalance branch
                dec = K.decide_order(price, shares, cash, receivable, price, 0.9, 0.9, p)
                assert (dec.kind, dec.reason) == (K.KIND_REBALANCE, K.REASON_BELOW_MIN), (price, dec)
                checked += 1
    assert checked > 1_000


def test_trimmed_trigger_refusals_below_the_minimum_are_certain():
    rng = np.random.default_rng(5)
    checked = 0
    for _ in range(400):
        p, shares, cash, receivable = _random_state(rng)
        b = K._skip_bounds(shares, cash, receivable, p)
        up, down = p[K.P_TRIGGER_UP], p[K.P_TRIGGER_DOWN]
        for price in _probe_prices(rng, [b.trimmed_buy_above, b.trimmed_sell_below]):
            value, share = K.valuation(shares, cash, receivable, price)
            for side, anchor in ((K.SIDE_BUY, price / (1.0 - down) * 1.01), (K.SIDE_SELL, price / (1.0 + up) * 0.99)):
                assert K.trigger_side(price, anchor, up, down) == side
                if K._trimmed_below_minimum(side, price, share, shares, cash, value, anchor, b, p):
                    dec = K.decide_order(price, shares, cash, receivable, anchor, up, down, p)
                    assert (dec.kind, dec.reason, dec.flags & K.FLAG_TRIMMED) == (
                        K.KIND_TRIGGER, K.REASON_BELOW_MIN, K.FLAG_TRIMMED), (price, side, dec)
                    checked += 1
    assert checked > 500


def test_no_certificate_outside_the_simple_rules():
    p = params_row(StrategyConfig(commission_min=1.0))
    assert K.below_minimum_bound(0.5, K.SIDE_SELL, 10.0, 1_000.0, 0.0, p) == (-math.inf, 0.0)
    assert K.below_minimum_bound(0.5, K.SIDE_BUY, 10.0, 1_000.0, 0.0, p) == (math.inf, 0.0)
    for changes in ({"max_trade_share": 0.1}, {"fractional_shares": False}, {"min_notional": 0.0}):
        p = params_row(StrategyConfig(**changes))
        assert K.below_minimum_bound(0.5, K.SIDE_SELL, 10.0, 1_000.0, 0.0, p)[0] == -math.inf
    p = params_row(StrategyConfig())
    assert K.band_prices(0.0, 1_000.0, 0.0, p) == (math.inf, -math.inf, math.inf, -math.inf)


def test_quiet_bar_ends_marks_runs_inside_a_date_and_session():
    day = np.array([1, 1, 1, 1, 1, 2, 2, 2, 3], dtype=np.int64)
    session = np.array([0, 0, 1, 1, 1, 1, 1, 1, 1], dtype=np.bool_)
    # bar 1: inside date 1, run of session False ends at 2; bars 2–3: session True, the last bar of the date (4) is
    # no candidate; bar 6 is the only candidate of date 2; date 3 has one bar.
    assert K.quiet_bar_ends(day, session).tolist() == [0, 2, 4, 4, 4, 5, 7, 7, 8]
    assert K.quiet_bar_ends(np.arange(5, dtype=np.int64), np.ones(5, dtype=np.bool_)).tolist() == list(range(5))


def test_the_shortcut_is_taken(monkeypatch):
    """On five-minute bars most bars go through the shortcut, and most refusals are certified without sizing."""
    py = kernel_interpreted.load()
    passed = []
    skip = py._skip_quiet_bars

    def counting(j, *args):
        out = skip(j, *args)
        passed.append(out[0] - j)
        return out

    monkeypatch.setattr(py, "_skip_quiet_bars", counting)
    prices, _ = five_minute_path(np.random.default_rng(9), n_days=8, vol=0.0015)
    bars = prepare(prices)
    p = params_row(StrategyConfig())
    out = py.run_one(*_args(bars), p, NO_SIGMA, bars.n_days, np.empty((0, K.N_RECORD)), NO_DIV)
    _assert_bits_equal(out, _plain(bars, p), "interpreted shortcut")
    assert sum(passed) > 0.8 * bars.close.shape[0]
