"""Against peers: the same 900-configuration grid through ``core.simulate_many``, vectorbt and backtesting.py.

Run with ``make bench-peers`` (creates ``.venv-peers`` with vectorbt and backtesting.py, then runs
``python -m benchmarks peers`` there). ``python -m benchmarks`` (``make bench``) prints these rows too: it runs this
module in ``.venv-peers`` when that environment exists, else one line saying how to create it. Nothing in the test
suite imports this module or the peers.

**The rule subset** all three express exactly (docs/strategy.md §5.0, §5.4–§5.8, §5.10): bundled GOOG daily closes
(no dividends), initial capital 10,000, 50 % bought at the first close, fixed triggers with the 1e-9 tolerance, the
anchor reset to the fill price, ``proportional`` sizing, the guardrail trim (§5.7) at the default 0.25 / 0.75,
auto-rebalance to the nearer guardrail (on, the default), no short selling, no margin; commission 0, slippage 0,
minimum order 0, fractional shares, no per-order cap. The daily order cap (5) never binds on daily bars. Every order
fills at the bar's close. With zero costs ``Px = P`` and ``fee = 0``, so §5.7's quantity to a bound is
``(g·V − S·P) / (P − g·P + g·P)``.

The peers run :func:`decide`, a separate transcription of those rules from docs/strategy.md (it does not call
``core``): compiled by Numba inside vectorbt's ``from_order_func`` order function, interpreted inside a backtesting.py
``Strategy``. The grid is trigger_up × trigger_down × rebalance_ratio = 10 × 10 × 9.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
import warnings
from itertools import product
from pathlib import Path

import numpy as np

from benchmarks.timing import timed

ROOT = Path(__file__).resolve().parents[1]
PEERS_PYTHON = ROOT / ".venv-peers" / "bin" / "python"
NOT_INSTALLED = "peers: not installed; run make bench-peers"

TRIGGERS_UP = tuple(round(0.01 * k, 2) for k in range(1, 11))
TRIGGERS_DOWN = TRIGGERS_UP
RATIOS = (0.5, 0.75, 1.0, 1.25, 1.6667, 2.0, 2.5, 3.0, 4.0)
DEFAULT = (0.03, 0.03, 1.6667)  # StrategyConfig's triggers and ratio
CAPITAL = 10_000.0
INITIAL_PCT = 0.5
GMIN, GMAX = 0.25, 0.75
TOLERANCE = 1e-9  # §5.4 relative trigger tolerance and §5.6 absolute band tolerance
# backtesting.py trades whole units: FractionalBacktest makes one unit a billionth of a share.
FRACTIONAL_UNIT = 1e-9
# backtesting.py's optimize runs the grid in Python (about a minute for the 900 on two cores): by default it runs a
# seeded random 10 % of the grid (90 configurations, the default among them; a run's cost grows with its trade count,
# so a sample of the whole grid, not a corner of it) and the 900 are extrapolated. VBL_BENCH_PEERS_FULL=1 runs all 900.
BT_SAMPLE_SIZE = 90
BT_SAMPLE_SEED = 12
AGREEMENT = 1e-6

try:  # only in .venv-peers
    os.environ.setdefault("TQDM_DISABLE", "1")  # backtesting.py's optimize draws a progress bar when tqdm is there
    import backtesting
    import vectorbt  # noqa: F401
    from backtesting.lib import FractionalBacktest

    HAVE_PEERS = True
except ModuleNotFoundError:
    HAVE_PEERS = False


def grid() -> list[tuple[float, float, float]]:
    """The 900 (trigger_up, trigger_down, rebalance_ratio) combinations, in that nesting order."""
    return list(product(TRIGGERS_UP, TRIGGERS_DOWN, RATIOS))


def decide(price, shares, cash, anchor, up, down, ratio, gmin, gmax):
    """The signed order quantity of one bar after the first (§5.4–§5.8 of the subset above); 0 means no trade.

    Plain scalar Python calling nothing but ``math``, so that Numba compiles it unchanged for vectorbt and
    backtesting.py runs it as it is.
    """
    value = shares * price + cash
    side = 0
    if price >= anchor * (1.0 + up) * (1.0 - TOLERANCE):
        side = -1
    elif price <= anchor * (1.0 - down) * (1.0 + TOLERANCE):
        side = 1
    if side != 0:  # §5.5 proportional sizing and the side rule, then §5.7's trim
        q = (anchor / price - 1.0) * ratio * value / price
        if q * side <= 0.0:
            return 0.0
        post_value = value + q * price - q * price
        post = (shares + q) * price / post_value if post_value > 0.0 else math.inf
        bound = math.nan
        if side > 0 and post > gmax:
            bound = gmax
        elif side < 0 and post < gmin:
            bound = gmin
        if not math.isnan(bound):
            qg = (bound * value - shares * price) / (price - bound * price + bound * price)  # §5.7, Px = P, no fee
            if qg * side <= 0.0:
                return 0.0
            if abs(qg) < abs(q):
                q = qg
    else:  # §5.6 auto-rebalance to the nearer guardrail
        if value <= 0.0:
            return 0.0
        pct = shares * price / value
        if pct > gmax + TOLERANCE:
            side, bound = -1, gmax
        elif pct < gmin - TOLERANCE:
            side, bound = 1, gmin
        else:
            return 0.0
        q = (bound * value - shares * price) / (price - bound * price + bound * price)
        if q * side <= 0.0:
            return 0.0
    # §5.8: no short selling, no margin.
    if side < 0:
        if shares <= 0.0:
            return 0.0
        if -q > shares:
            q = -shares
    elif q * price > cash:
        q = cash / price
        if q <= 0.0:
            return 0.0
    return q


# --- ours -----------------------------------------------------------------------------------------------------------


def _prices():
    from core.data import load_sample

    data = load_sample("GOOG")
    assert data.dividends.empty
    return data.prices


def _configs(combos):
    from core import StrategyConfig

    base = StrategyConfig(commission_rate=0.0, slippage_bps=0.0, min_notional=0.0, fractional_shares=True,
                          initial_capital=CAPITAL, initial_stock_share=INITIAL_PCT, guardrail_min=GMIN,
                          guardrail_max=GMAX, auto_rebalance=True)
    return [base.replace(trigger_up=u, trigger_down=d, rebalance_ratio=r) for u, d, r in combos]


def _ours(prices, configs, threads):
    """Final equity of every configuration through the public ``simulate_many`` (parameter matrix, kernel, the
    result frame of parameters and metrics)."""
    from core import simulate_many

    return (1.0 + simulate_many(prices, configs, n_threads=threads)["total_return"].to_numpy()) * CAPITAL


def _ours_kernel(prices, configs):
    """The kernel alone: ``run_many`` on prepared bars and a prepared parameter matrix (what ``simulate_many``
    spends its time in), returning a runner to time."""
    from core.engine import params_matrix, prepare, run_params

    bars = prepare(prices)
    params = params_matrix(configs)
    return lambda threads: run_params(bars, params, threads)


# --- vectorbt -------------------------------------------------------------------------------------------------------


def _vectorbt_functions():
    """The order function (and the post-order hook that moves the anchor) for ``from_order_func``."""
    import numba
    from vectorbt.portfolio import nb as vnb
    from vectorbt.portfolio.enums import Direction, OrderStatus

    decide_nb = numba.njit(decide)
    long_only = Direction.LongOnly
    filled = OrderStatus.Filled

    @numba.njit
    def order_func_nb(c, anchor, up, down, ratio, gmin, gmax, init_pct):
        col = c.col
        price = c.close[c.i, col]
        if c.i == 0:  # §5.0: the initial purchase at the first close
            return vnb.order_nb(size=init_pct * c.cash_now / price, price=price, direction=long_only)
        q = decide_nb(price, c.position_now, c.cash_now, anchor[col], up[col], down[col], ratio[col], gmin, gmax)
        if q == 0.0:
            return vnb.order_nothing_nb()
        return vnb.order_nb(size=q, price=price, direction=long_only)

    @numba.njit
    def post_order_nb(c, anchor):
        if c.order_result.status == filled:  # §5.10: a trade resets the anchor to its fill price
            anchor[c.col] = c.order_result.price

    return order_func_nb, post_order_nb


def _vectorbt(prices, combos, functions):
    """Final equity of every combination: one column per configuration, one ``from_order_func`` call."""
    import pandas as pd
    import vectorbt as vbt

    order_func_nb, post_order_nb = functions
    close = prices["close"].to_numpy()
    k = len(combos)
    up, down, ratio = (np.array(x, dtype=np.float64) for x in zip(*combos, strict=True))
    columns = pd.MultiIndex.from_tuples(combos, names=["trigger_up", "trigger_down", "rebalance_ratio"])
    frame = pd.DataFrame(np.repeat(close[:, None], k, axis=1), index=prices.index, columns=columns)
    anchor = np.full(k, np.nan)
    pf = vbt.Portfolio.from_order_func(
        frame, order_func_nb, anchor, up, down, ratio, GMIN, GMAX, INITIAL_PCT,
        post_order_func_nb=post_order_nb, post_order_args=(anchor,), init_cash=CAPITAL, freq="1D",
    )
    return np.asarray(pf.final_value(), dtype=np.float64)


# --- backtesting.py -------------------------------------------------------------------------------------------------

if HAVE_PEERS:

    class VolatilityBalancing(backtesting.Strategy):
        """The subset's rule as a backtesting.py strategy (run with ``trade_on_close=True`` in a FractionalBacktest,
        so prices are per unit, one unit = ``FRACTIONAL_UNIT`` shares, and sizes are whole units)."""

        trigger_up = DEFAULT[0]
        trigger_down = DEFAULT[1]
        rebalance_ratio = DEFAULT[2]

        def init(self):
            price = self.data.Close[0]
            self.buy(size=round(INITIAL_PCT * self.equity / price))  # fills at the first close
            self.anchor = price

        def next(self):
            price = self.data.Close[-1]
            units = self.position.size
            cash = self.equity - units * price
            q = decide(price, units, cash, self.anchor, self.trigger_up, self.trigger_down, self.rebalance_ratio,
                       GMIN, GMAX)
            if q > 0.0:
                n = min(round(q), math.floor(cash / price) - 1)  # one unit spare: the broker cancels, not trims
                if n >= 1:
                    self.buy(size=n)
                    self.anchor = price
            elif q < 0.0:
                n = min(round(-q), units)
                if n >= 1:
                    self.sell(size=n)
                    self.anchor = price


def _backtest(prices):
    data = prices.rename(columns=str.capitalize)[["Open", "High", "Low", "Close", "Volume"]]
    return FractionalBacktest(data, VolatilityBalancing, cash=CAPITAL, commission=0.0, trade_on_close=True,
                              fractional_unit=FRACTIONAL_UNIT)


def bt_sample() -> set[tuple[float, float, float]]:
    """The timed sample of the grid: ``BT_SAMPLE_SIZE`` combinations drawn with a fixed seed, the default included."""
    combos = grid()
    picks = np.random.default_rng(BT_SAMPLE_SEED).choice(len(combos), BT_SAMPLE_SIZE - 1, replace=False)
    return {combos[i] for i in picks} | {DEFAULT}


def _backtesting_optimize(bt, sample):
    """``Backtest.optimize`` over the grid (every combination, or those in ``sample`` through its ``constraint``);
    the heatmap holds the final equities."""
    def admit(p):
        return sample is None or (p.trigger_up, p.trigger_down, p.rebalance_ratio) in sample

    _, heatmap = bt.optimize(maximize="Equity Final [$]", method="grid", max_tries=None, return_heatmap=True,
                             constraint=admit, trigger_up=TRIGGERS_UP, trigger_down=TRIGGERS_DOWN,
                             rebalance_ratio=RATIOS)
    return heatmap


# --- the benchmark ----------------------------------------------------------------------------------------------


def _times(x):
    return f"{x:,.1f}×" if x < 100 else f"{x:,.0f}×"


def _rel(a, b):
    return abs(a - b) / abs(b)


def _measure() -> list[tuple[str, str, str]]:
    warnings.filterwarnings("ignore", module="backtesting")
    warnings.filterwarnings("ignore", message=".*(trades remain open|Searching for best|fraction).*")
    prices = _prices()
    combos = grid()
    k = len(combos)
    n_bars = len(prices)
    full_bt = os.environ.get("VBL_BENCH_PEERS_FULL") == "1"

    # backtesting.py first: its optimize forks worker processes, done before any Numba thread pool starts.
    bt = _backtest(prices)
    sample = None if full_bt else bt_sample()
    n_bt = k if sample is None else len(sample)
    t = time.perf_counter()
    heatmap = _backtesting_optimize(bt, sample)
    bt_s = time.perf_counter() - t
    bt_default = float(bt.run(trigger_up=DEFAULT[0], trigger_down=DEFAULT[1],
                              rebalance_ratio=DEFAULT[2])["Equity Final [$]"])
    bt_one_s = timed(lambda: bt.run(trigger_up=DEFAULT[0], trigger_down=DEFAULT[1], rebalance_ratio=DEFAULT[2]))

    # vectorbt: the first call compiles the order function and vectorbt's simulate_nb for it.
    functions = _vectorbt_functions()
    compile_s = timed(lambda: _vectorbt(prices.iloc[:10], combos[:2], functions))
    vbt_equity = _vectorbt(prices, combos, functions)
    vbt_s = min(timed(lambda: _vectorbt(prices, combos, functions)) for _ in range(2))

    # ours: the first call loads the kernel from the Numba cache; then the best of three, 2 threads and 1. The
    # configurations are built outside the timing, as a caller holds them (StrategyConfig validation: ≈ 20 µs each).
    configs = _configs(combos)
    first_s = timed(lambda: _ours(prices, configs[:2], 2))
    ours_equity = _ours(prices, configs, 2)
    ours2_s = min(timed(lambda: _ours(prices, configs, 2)) for _ in range(3))
    ours1_s = min(timed(lambda: _ours(prices, configs, 1)) for _ in range(3))
    kernel = _ours_kernel(prices, configs)
    kernel2_s = min(timed(lambda: kernel(2)) for _ in range(3))

    ours_by = dict(zip(combos, ours_equity, strict=True))
    i_default = combos.index(DEFAULT)
    ours_default = float(ours_equity[i_default])
    vbt_default = float(vbt_equity[i_default])
    vbt_worst = max(_rel(v, o) for v, o in zip(vbt_equity, ours_equity, strict=True))
    bt_pairs = [(float(v), ours_by[tuple(key)]) for key, v in heatmap.items() if not math.isnan(v)]
    bt_worst = max(_rel(v, o) for v, o in bt_pairs)

    def rate(seconds, n=k):
        return f"{seconds:.3f} s, {n / seconds:,.0f} configs/s"

    bt_900_s = bt_s * k / n_bt
    bt_label = (f"all {k}" if full_bt else
                f"a seeded random {n_bt} of the {k} (VBL_BENCH_PEERS_FULL=1: all), {k} extrapolated")

    def ok(worst):
        return "agrees" if worst <= AGREEMENT else "DIFFERS"

    return [
        (f"grid: trigger_up × trigger_down × rebalance_ratio = 10 × 10 × 9 = {k} configs, GOOG {n_bars:,} daily bars",
         "rule subset: see benchmarks/bench_peers.py", ""),
        ("ours: core.simulate_many, 2 threads (best of 3)", rate(ours2_s), "baseline"),
        ("ours: core.simulate_many, 1 thread (best of 3)", rate(ours1_s), ""),
        ("ours: the kernel alone (core.engine.run_params, prepared bars and parameter matrix), 2 threads",
         rate(kernel2_s), ""),
        ("ours: first call in this process (kernel from the Numba cache, 2 configs)", f"{first_s:.2f} s", ""),
        ("vectorbt: Portfolio.from_order_func, 900 columns, final_value (best of 2)",
         f"{rate(vbt_s)}; ours {_times(vbt_s / ours2_s)} faster (1 thread: {_times(vbt_s / ours1_s)})", ""),
        ("vectorbt: build + compile of the order function (first call, 2 columns × 10 bars)",
         f"{compile_s:.2f} s", ""),
        (f"backtesting.py: Backtest.optimize, grid, {bt_label}, {os.cpu_count()} worker processes",
         f"{bt_s:.1f} s ({n_bt / bt_s:,.1f} configs/s){'' if full_bt else f'; {k}: ≈ {bt_900_s:,.0f} s'}; "
         f"ours ≈ {_times(bt_900_s / ours2_s)} faster", ""),
        ("backtesting.py: one Backtest.run, default config, this process", f"{bt_one_s:.3f} s", ""),
        ("final equity, default config (0.03, 0.03, 1.6667): ours", f"{ours_default:,.6f}", ""),
        ("final equity, default config: vectorbt", f"{vbt_default:,.6f} (rel. diff "
         f"{_rel(vbt_default, ours_default):.1e}, {ok(_rel(vbt_default, ours_default))})", f"≤ {AGREEMENT:g} relative"),
        ("final equity, default config: backtesting.py", f"{bt_default:,.6f} (rel. diff "
         f"{_rel(bt_default, ours_default):.1e}, {ok(_rel(bt_default, ours_default))})", f"≤ {AGREEMENT:g} relative"),
        (f"final equity, all {k} configs: vectorbt, largest rel. diff", f"{vbt_worst:.1e} ({ok(vbt_worst)})",
         f"≤ {AGREEMENT:g} relative"),
        (f"final equity, the {len(bt_pairs)} backtesting.py configs: largest rel. diff",
         f"{bt_worst:.1e} ({ok(bt_worst)})", f"≤ {AGREEMENT:g} relative"),
    ]


def run() -> list[tuple[str, str, str]] | str:
    """Rows of (figure, measured, target): measured here when the peers import, else in ``.venv-peers`` when it
    exists, else the one-line note."""
    if HAVE_PEERS:
        return _measure()
    if not PEERS_PYTHON.exists():
        return NOT_INSTALLED
    proc = subprocess.run([str(PEERS_PYTHON), "-m", "benchmarks.bench_peers", "--json"], cwd=ROOT,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return f"peers: failed in .venv-peers (exit {proc.returncode}: {last}); rerun with make bench-peers"
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return result if isinstance(result, str) else [tuple(row) for row in result]


if __name__ == "__main__":
    result = run()
    if "--json" in sys.argv:
        print(json.dumps(result))
    elif isinstance(result, str):
        print(result)
    else:
        from benchmarks.__main__ import print_rows

        print_rows("peers", result)
