"""The strategy's rules (docs/strategy.md §5) as Numba-compiled functions: the one implementation every path uses.

Each rule is one function, called by ``run_one`` and, for a single evaluation, by :mod:`core.advisor`:
``book_ex_dividend`` and ``dividend_pay_day`` / ``pay_dividend`` (§5.1), ``bar_status`` (§5.2 session test, then
§5.3 daily cap, with ``orders_counted_today`` restarting the count), ``triggers_in_force`` (§5.4a, from
``window_volatility``), ``trigger_prices`` / ``trigger_levels`` / ``trigger_side`` (§5.4), ``raw_order_size`` and
``side_rule`` (§5.5), ``rebalance_order`` (§5.6),
``trim_to_guardrail`` (§5.7), ``apply_hard_limits`` (§5.8), ``minimum_order`` (§5.9), ``execute_order`` (§5.10).
``decide_order`` chains §5.4–§5.9 for one price and returns an :class:`OrderDecision`; ``run_one`` walks a price
path for one configuration, optionally recording every bar, and computes the metrics of docs/strategy.md §7 in a
streaming pass (no equity curve is kept); ``run_many`` runs ``run_one`` over a matrix of configurations in
parallel (``prange``).

Unrecorded runs with fixed triggers pass the bars inside a date and session at which the state cannot change in one
tight loop (``_skip_quiet_bars`` over the stretches of ``quiet_bar_ends``, docs/strategy.md §10.13): such a bar
adds only its value, its time in band and, for an order refused, a skip count. Where the close alone settles the
bar — inside the band between the trigger levels (``band_prices``), or a rebalance or trimmed trigger order certain
to be refused as below the minimum (``below_minimum_bound``, with its rounding proof) — no share or order is
computed; every other bar goes through the rule functions. The results are those of the per-bar path bit for bit
(``tests/test_kernel_fast_path.py``).

Configurations enter as rows of a float64 parameter matrix (``params_row`` builds one); codes for sizings, actions,
kinds, reasons, flags and statuses are the integer constants below. Volatility-scaled triggers (§5.4a) read a
per-bar volatility series, computed once per distinct window by ``volatility_series`` and passed in (``sigma``).
Nothing here knows about pandas: :mod:`core.engine` turns the recorded arrays into frames and readable reasons.

The same source also runs as plain Python (``benchmarks`` loads it with the decorators replaced), which is the
speed baseline and a check that compiled and interpreted semantics agree.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from core.config_registry import KERNEL_SLOTS, SIZINGS, THRESHOLD_MODES
from core.metric_registry import METRIC_ORDER

# --- configuration vector: a field's slot is its place in core.config_registry (the rules read these names) ----
P_CAPITAL = KERNEL_SLOTS["initial_capital"]
P_INIT_SHARE = KERNEL_SLOTS["initial_stock_share"]
P_TRIGGER_UP = KERNEL_SLOTS["trigger_up"]
P_TRIGGER_DOWN = KERNEL_SLOTS["trigger_down"]
P_SIZING = KERNEL_SLOTS["sizing"]
P_RATIO = KERNEL_SLOTS["rebalance_ratio"]
P_TRADE_FRACTION = KERNEL_SLOTS["trade_fraction"]
P_GMIN = KERNEL_SLOTS["guardrail_min"]
P_GMAX = KERNEL_SLOTS["guardrail_max"]
P_AUTO = KERNEL_SLOTS["auto_rebalance"]
P_MAX_TRADE = KERNEL_SLOTS["max_trade_share"]  # NaN when not set
P_COMMISSION = KERNEL_SLOTS["commission_rate"]
P_COMMISSION_MIN = KERNEL_SLOTS["commission_min"]
P_SLIPPAGE_BPS = KERNEL_SLOTS["slippage_bps"]
P_MIN_NOTIONAL = KERNEL_SLOTS["min_notional"]
P_MAX_ORDERS = KERNEL_SLOTS["max_orders_per_day"]
P_FRACTIONAL = KERNEL_SLOTS["fractional_shares"]
P_AFTER_HOURS = KERNEL_SLOTS["allow_after_hours"]
P_TAX = KERNEL_SLOTS["withholding_tax_rate"]
P_PAY_LAG = KERNEL_SLOTS["dividend_pay_lag_days"]
P_RISK_FREE = KERNEL_SLOTS["risk_free_rate"]
P_PERIODS = KERNEL_SLOTS["periods_per_year"]
P_THRESHOLD_MODE = KERNEL_SLOTS["threshold_mode"]
P_VOL_WINDOW = KERNEL_SLOTS["vol_window_bars"]
P_VOL_REFERENCE = KERNEL_SLOTS["vol_reference"]
P_TRIGGER_MIN = KERNEL_SLOTS["trigger_min"]
P_TRIGGER_MAX = KERNEL_SLOTS["trigger_max"]
N_PARAMS = len(KERNEL_SLOTS)

# --- sizing formulas (docs/strategy.md §5.5); the code is the choice's index in the configuration registry ---------
SIZING_PROPORTIONAL = SIZINGS.index("proportional")
SIZING_FIXED_FRACTION = SIZINGS.index("fixed_fraction")
SIZING_ORIGINAL = SIZINGS.index("original")
SIZING_CODES = {name: code for code, name in enumerate(SIZINGS)}

# --- threshold modes (docs/strategy.md §5.4a); the code is the choice's index in the configuration registry ---------
THRESHOLD_FIXED = THRESHOLD_MODES.index("fixed")
THRESHOLD_VOL_SCALED = THRESHOLD_MODES.index("vol_scaled")
THRESHOLD_CODES = {name: code for code, name in enumerate(THRESHOLD_MODES)}

# --- codes -----------------------------------------------------------------------------------------------------
SIDE_NONE = 0  # an order's side is a sign: quantities are side·|q|
SIDE_BUY = 1
SIDE_SELL = -1

ACTION_HOLD = 0
ACTION_BUY = 1
ACTION_SELL = 2
ACTION_SKIP = 3

KIND_NONE = 0
KIND_INITIAL = 1
KIND_TRIGGER = 2
KIND_REBALANCE = 3

REASON_NONE = 0
REASON_BELOW_MIN = 1
REASON_GUARDRAIL = 2
REASON_NO_CASH = 3
REASON_NO_SHARES = 4
REASON_ROUNDED = 5
REASON_ZERO_SIZE = 6

FLAG_TRIMMED = 1
FLAG_CAP_SHARES = 2
FLAG_CAP_CASH = 4
FLAG_CAP_MAX_TRADE = 8
FLAG_ROUNDED = 16

STATUS_EVALUATED = 0
STATUS_AFTER_HOURS = 1
STATUS_DAILY_CAP = 2
STATUS_FIRST_BAR = 3

# --- per-bar record columns --------------------------------------------------------------------------------------
R_SHARES = 0
R_CASH = 1
R_RECEIVABLE = 2
R_VALUE = 3
R_STOCK_SHARE = 4
R_ANCHOR_EVAL = 5
R_ANCHOR_AFTER = 6
R_ACTION = 7
R_KIND = 8
R_TRIGGER = 9  # +1 buy trigger, -1 sell trigger, 0 none (rebalance side is in R_SIDE)
R_RAW_QTY = 10
R_QTY = 11
R_EXEC_PRICE = 12
R_NOTIONAL = 13
R_FEE = 14
R_REASON = 15
R_FLAGS = 16
R_STATUS = 17
R_DIV_GROSS = 18
R_DIV_NET = 19
R_DIV_WITHHOLDING = 20
R_DIV_CASH = 21
R_BOUND = 22
R_PRE_STOCK_SHARE = 23
R_SIDE = 24
R_ORDERS_TODAY = 25
R_TRIGGER_UP = 26  # the triggers in force at the bar (§5.4a; the configuration's own in fixed mode)
R_TRIGGER_DOWN = 27
R_VOLATILITY = 28  # the window volatility they were scaled by; NaN in fixed mode and during the warm-up
N_RECORD = 29

# --- per-dividend record columns ---------------------------------------------------------------------------------
D_BAR = 0  # bar index at which the ex-date was processed, -1 if never (before/at first bar or after last bar)
D_SHARES = 1
D_GROSS = 2
D_WITHHOLDING = 3
D_NET = 4
D_PAY_DAY = 5
D_PAID_BAR = 6  # -1 while still receivable at the end
N_DIV_RECORD = 7

# --- metrics (docs/strategy.md §7): the output vector follows core.metric_registry's order -------------------------
METRIC_NAMES: tuple[str, ...] = METRIC_ORDER
N_METRICS = len(METRIC_NAMES)
M_TOTAL_RETURN = METRIC_ORDER.index("total_return")
M_CAGR = METRIC_ORDER.index("cagr")
M_VOLATILITY = METRIC_ORDER.index("volatility")
M_SHARPE = METRIC_ORDER.index("sharpe")
M_SORTINO = METRIC_ORDER.index("sortino")
M_MAX_DRAWDOWN = METRIC_ORDER.index("max_drawdown")
M_MAX_DRAWDOWN_DAYS = METRIC_ORDER.index("max_drawdown_days")
M_CALMAR = METRIC_ORDER.index("calmar")
M_VAR_95 = METRIC_ORDER.index("var_95")
M_CVAR_95 = METRIC_ORDER.index("cvar_95")
M_N_TRADES = METRIC_ORDER.index("n_trades")
M_N_BUYS = METRIC_ORDER.index("n_buys")
M_N_SELLS = METRIC_ORDER.index("n_sells")
M_N_REBALANCES = METRIC_ORDER.index("n_rebalances")
M_TOTAL_COMMISSION = METRIC_ORDER.index("total_commission")
M_TURNOVER = METRIC_ORDER.index("turnover")
M_DIVIDENDS_GROSS = METRIC_ORDER.index("dividends_gross")
M_DIVIDENDS_NET = METRIC_ORDER.index("dividends_net")
M_WITHHOLDING_TAX = METRIC_ORDER.index("withholding_tax")
M_TIME_IN_BAND_SHARE = METRIC_ORDER.index("time_in_band_share")
M_N_SKIPPED_MIN = METRIC_ORDER.index("n_skipped_min_notional")
M_N_TRIMMED = METRIC_ORDER.index("n_trimmed")
M_N_BLOCKED = METRIC_ORDER.index("n_blocked")
M_WIN_RATE = METRIC_ORDER.index("win_rate")
M_PROFIT_FACTOR = METRIC_ORDER.index("profit_factor")
M_BUY_HOLD_RETURN = METRIC_ORDER.index("buy_hold_return")
M_STATIC_MIX_RETURN = METRIC_ORDER.index("static_mix_return")
M_EXCESS_VS_BUY_HOLD = METRIC_ORDER.index("excess_return_vs_buy_hold")
M_EXCESS_VS_STATIC_MIX = METRIC_ORDER.index("excess_return_vs_static_mix")


TRIGGER_TOLERANCE = 1e-9  # relative: an exact 3 % move fires despite float rounding
BAND_TOLERANCE = 1e-9  # absolute, on stock_share

NAN = math.nan
NO_PAY_DAY = 2**62  # sentinel: no receivable pending
NO_BAR = -1.0  # per-dividend record: never booked / not paid yet

# A portfolio transfer into a cell at one bar (docs/strategy.md §12.3), one row per bar of ``run_cell``'s ``transfers``.
T_CASH = 0  # cash added (negative: taken out)
T_SHARES = 1  # shares added (negative: sold by a re-allocation)
T_VALUE = 2  # value moved in at the bar's close (negative: out); the daily return leaves it out
T_FEE = 3  # commission of a re-allocation sale (already taken from T_CASH; counted in the cell's commission)
N_TRANSFER = 4
NO_TRANSFERS = np.zeros((0, N_TRANSFER))


class OrderDecision(NamedTuple):
    """The outcome of one evaluation (docs/strategy.md §5.4–§5.9), as ``decide_order`` returns it.

    ``kind`` is KIND_NONE (hold), KIND_TRIGGER, KIND_REBALANCE (or KIND_INITIAL for the first bar's order);
    ``trigger`` is SIDE_BUY/SIDE_SELL when a trigger fired, else SIDE_NONE; ``side`` is the order's side;
    ``raw_qty`` the quantity before trims and limits; ``qty`` the signed final quantity (positive buys), which
    executes only when ``reason`` is REASON_NONE; ``exec_price`` the fill price (§5.10); ``fee`` the commission
    (0 when nothing executes); ``flags`` the FLAG_* bits; ``bound`` the guardrail aimed at (NaN if none).
    """

    kind: int
    trigger: int
    side: int
    raw_qty: float
    qty: float
    exec_price: float
    fee: float
    reason: int
    flags: int
    bound: float


class TradeStats(NamedTuple):
    """``run_one``'s running tallies of orders (docs/strategy.md §7): counts, notional, fees, cost basis and
    realised P&L. Immutable: each settled order returns the next one (plain scalars, so the loop keeps them in
    registers)."""

    n_buys: int
    n_sells: int
    n_rebalances: int
    n_skipped_min: int
    n_trimmed: int
    n_blocked: int
    n_wins: int
    n_losses: int
    traded_notional: float
    total_commission: float
    cost_basis: float
    gains: float
    losses: float


class Drawdown(NamedTuple):
    """The drawdown bookkeeping of the daily series (docs/strategy.md §7): running peak and the date it was set,
    whether the series is below it, the deepest drawdown and the longest spell below a peak, in days."""

    peak: float
    peak_day: int
    in_drawdown: bool
    max_dd: float
    max_dd_days: float


class DividendTotals(NamedTuple):
    """``run_one``'s running dividend sums (docs/strategy.md §7) and the cumulative amount per share (for the
    benchmarks of §6)."""

    gross: float
    net: float
    withholding: float
    per_share: float


@njit(cache=True, error_model="numpy", inline="always")
def hold_decision(price):
    """The decision of a bar that does not trade: no order, priced at the close."""
    return OrderDecision(KIND_NONE, SIDE_NONE, SIDE_NONE, 0.0, 0.0, price, 0.0, REASON_NONE, 0, NAN)


# --- valuation (docs/strategy.md §4) ------------------------------------------------------------------------------


@njit(cache=True, error_model="numpy", inline="always")
def account_value(shares, cash, receivable, price):
    """``V = S·P + C + R``."""
    return shares * price + cash + receivable


@njit(cache=True, error_model="numpy", inline="always")
def valuation(shares, cash, receivable, price):
    """``(V, stock_share)`` with ``stock_share = S·P / V`` (NaN when ``V ≤ 0``)."""
    value = account_value(shares, cash, receivable, price)
    return value, shares * price / value if value > 0.0 else NAN


@njit(cache=True, error_model="numpy", inline="always")
def in_band(share, gmin, gmax):
    """Whether ``stock_share`` is inside ``[gmin, gmax]`` ±1e-9 (docs/strategy.md §7 ``time_in_band_share``; NaN is
    outside)."""
    return share >= gmin - BAND_TOLERANCE and share <= gmax + BAND_TOLERANCE


# --- §5.1 dividends -----------------------------------------------------------------------------------------------


@njit(cache=True, error_model="numpy", inline="always")
def book_ex_dividend(amount, shares, receivable, anchor, tax):
    """Ex-date booking and anchor cut (docs/strategy.md §5.1) of one dividend of ``amount`` per share.

    Returns ``(gross, withholding, net, receivable, anchor)``: ``R += net`` and ``A −= amount``.
    """
    gross = amount * shares
    wh = gross * tax
    net = gross - wh
    return gross, wh, net, receivable + net, anchor - amount


@njit(cache=True, error_model="numpy", inline="always")
def dividend_pay_day(ex_day, pay_day, lag):
    """Effective pay date (docs/strategy.md §5.1): ex-date + lag when none is given (negative), never before the
    ex-date."""
    pay = pay_day
    if pay < 0:
        pay = ex_day + lag
    if pay < ex_day:
        pay = ex_day
    return pay


@njit(cache=True, error_model="numpy", inline="always")
def pay_dividend(net, cash, receivable):
    """Pay date (docs/strategy.md §5.1): the net amount moves from the receivable to cash. Returns ``(C, R)``."""
    return cash + net, receivable - net


@njit(cache=True, error_model="numpy", inline="always")
def settle_receivable(receivable, n_outstanding):
    """After payments (docs/strategy.md §5.1): ``R`` is exactly 0 once no booked dividend is outstanding (no float
    residue); while one is, ``R`` stays the running sum, never below 0 (a negative ``R`` can only be float residue,
    e.g. of nets paid while a zero-net dividend is still open)."""
    if n_outstanding == 0:
        return 0.0
    return max(receivable, 0.0)


# --- §5.2 session, §5.3 daily cap ------------------------------------------------------------------------------------


@njit(cache=True, error_model="numpy", inline="always")
def orders_counted_today(day, counted_day, orders_today):
    """Orders executed so far on ``day`` (docs/strategy.md §5.3): the count restarts on a new date."""
    if day != counted_day:
        return 0
    return orders_today


@njit(cache=True, error_model="numpy", inline="always")
def bar_status(in_session, orders_today, evaluates_after_hours, max_orders):
    """Session test (docs/strategy.md §5.2) first, then the daily order cap (§5.3): STATUS_AFTER_HOURS,
    STATUS_DAILY_CAP (both: mark to market only) or STATUS_EVALUATED.

    ``evaluates_after_hours`` is ``allow_after_hours`` (``p[P_AFTER_HOURS] != 0``), ``max_orders`` is
    ``max_orders_per_day`` (``p[P_MAX_ORDERS]``): scalars, so the per-bar test reads no array.
    """
    if not in_session and not evaluates_after_hours:
        return STATUS_AFTER_HOURS
    if orders_today >= max_orders:
        return STATUS_DAILY_CAP
    return STATUS_EVALUATED


# --- §5.10 costs --------------------------------------------------------------------------------------------------


@njit(cache=True, error_model="numpy", inline="always")
def fee_for(notional, p):
    """Commission for one order: ``max(commission_rate·notional, commission_min)``."""
    return max(p[P_COMMISSION] * notional, p[P_COMMISSION_MIN])


@njit(cache=True, error_model="numpy", inline="always")
def execution_price(price, side, p):
    """Fill price with slippage: buys at ``P·(1+s)``, sells at ``P·(1−s)``."""
    s = p[P_SLIPPAGE_BPS] * 1e-4
    if side > 0:
        return price * (1.0 + s)
    return price * (1.0 - s)


# --- §5.4a the triggers in force ----------------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def log_returns(close):
    """``ln(P_j / P_{j−1})`` at every bar ``j ≥ 1`` (NaN at bar 0, which has no bar before it)."""
    n = close.shape[0]
    out = np.empty(n)
    if n > 0:
        out[0] = NAN
    for j in range(1, n):
        out[j] = math.log(close[j] / close[j - 1])
    return out


@njit(cache=True, error_model="numpy", inline="always")
def window_volatility(log_ret, t, window, periods):
    """The volatility in force at bar ``t`` (docs/strategy.md §5.4a): the sample standard deviation (ddof = 1) of the
    ``window`` log returns ending at bar ``t − 1``'s close (``log_ret[t − window … t − 1]``), times ``√periods``.

    Nothing from bar ``t`` on is read, so a decision can never see its own or a later close. NaN while fewer than
    ``window`` returns precede bar ``t`` (the warm-up); exactly 0 when they are all equal (no rounding residue).
    """
    start = t - window
    if window < 2 or start < 1:
        return NAN
    total = 0.0
    lo = log_ret[start]
    hi = lo
    for j in range(start, t):
        r = log_ret[j]
        total += r
        lo = min(lo, r)
        hi = max(hi, r)
    if lo == hi:
        return 0.0
    mean = total / window
    ss = 0.0
    for j in range(start, t):  # two passes: the deviations, not a difference of large sums
        d = log_ret[j] - mean
        ss += d * d
    return math.sqrt(ss / (window - 1)) * math.sqrt(periods)


@njit(cache=True, error_model="numpy")
def volatility_series(close, window, periods):
    """``window_volatility`` at every bar of a price path: what ``run_one`` reads in vol_scaled mode."""
    log_ret = log_returns(close)
    out = np.empty(close.shape[0])
    for t in range(close.shape[0]):
        out[t] = window_volatility(log_ret, t, window, periods)
    return out


@njit(cache=True, error_model="numpy", inline="always")
def triggers_in_force(sigma, p):
    """The ``(trigger_up, trigger_down)`` in force at a bar whose window volatility is ``sigma`` (docs/strategy.md
    §5.4a): the configuration's own in fixed mode and during the warm-up (``sigma`` NaN); in vol_scaled mode each is
    ``trigger × σ / vol_reference``, clamped to ``[trigger_min, trigger_max]``."""
    if p[P_THRESHOLD_MODE] != THRESHOLD_VOL_SCALED or math.isnan(sigma):
        return p[P_TRIGGER_UP], p[P_TRIGGER_DOWN]
    scale = sigma / p[P_VOL_REFERENCE]
    lo = p[P_TRIGGER_MIN]
    hi = p[P_TRIGGER_MAX]
    return min(max(p[P_TRIGGER_UP] * scale, lo), hi), min(max(p[P_TRIGGER_DOWN] * scale, lo), hi)


# --- §5.4 triggers ------------------------------------------------------------------------------------------------


@njit(cache=True, error_model="numpy", inline="always")
def trigger_prices(anchor, up, down):
    """The trigger prices as shown (docs/strategy.md §5.4, **Code:** no tolerance): ``(A·(1+up), A·(1−down))`` for the
    triggers in force (§5.4a)."""
    return anchor * (1.0 + up), anchor * (1.0 - down)


@njit(cache=True, error_model="numpy", inline="always")
def trigger_levels(anchor, up, down):
    """The prices at which step 4 fires, tolerance included: ``(sell at or above, buy at or below)``."""
    sell_price, buy_price = trigger_prices(anchor, up, down)
    return sell_price * (1.0 - TRIGGER_TOLERANCE), buy_price * (1.0 + TRIGGER_TOLERANCE)


@njit(cache=True, error_model="numpy")
def trigger_side(price, anchor, up, down):
    """Step 4: SELL when ``P ≥ A·(1+up)``, else BUY when ``P ≤ A·(1−down)``, both within 1e-9 relative; else none."""
    sell_level, buy_level = trigger_levels(anchor, up, down)
    if price >= sell_level:
        return SIDE_SELL
    if price <= buy_level:
        return SIDE_BUY
    return SIDE_NONE


# --- §5.5 sizing and the side rule ------------------------------------------------------------------------------------


@njit(cache=True, error_model="numpy", inline="always")
def raw_order_size(side, price, anchor, shares, cash, value, p):
    """Raw signed quantity of a fired trigger (docs/strategy.md §5.5), ``V`` including the receivable."""
    sizing = int(p[P_SIZING])
    if sizing == SIZING_PROPORTIONAL:
        return (anchor / price - 1.0) * p[P_RATIO] * value / price
    if sizing == SIZING_ORIGINAL:
        return side * (anchor / price) * p[P_RATIO] * value / price
    # SIZING_FIXED_FRACTION: of the cash for a buy, of the shares for a sell
    if side > 0:
        return p[P_TRADE_FRACTION] * cash / price
    return -p[P_TRADE_FRACTION] * shares


@njit(cache=True, error_model="numpy", inline="always")
def side_rule(q, side, shares, cash):
    """Side rule (docs/strategy.md §5.5): a zero or wrong-signed ``q`` becomes no order. Returns ``(q, reason)``."""
    if q * side <= 0.0:
        if side > 0 and cash <= 0.0:
            return 0.0, REASON_NO_CASH
        if side < 0 and shares <= 0.0:
            return 0.0, REASON_NO_SHARES
        return 0.0, REASON_ZERO_SIZE
    return q, REASON_NONE


# --- §5.6 auto-rebalance, §5.7 guardrail trim -------------------------------------------------------------------------


@njit(cache=True, error_model="numpy", inline="always")
def band_side(share, p):
    """Step 6: the side of the order that brings ``stock_share`` back inside the guardrails (none when inside)."""
    if share > p[P_GMAX] + BAND_TOLERANCE:
        return SIDE_SELL
    if share < p[P_GMIN] - BAND_TOLERANCE:
        return SIDE_BUY
    return SIDE_NONE


@njit(cache=True, error_model="numpy", inline="always")
def quantity_to_bound(g, side, price, px, shares, value, p):
    """Signed quantity whose fill at ``px`` (fee included) leaves the stock share exactly at ``g`` (step 7).

    Proportional commission first; when that fee would be under the minimum commission, the fixed fee is used.
    """
    c = p[P_COMMISSION]
    fmin = p[P_COMMISSION_MIN]
    signed_c = c if side > 0 else -c  # buys pay the commission on top, sells receive net of it
    q = (g * value - shares * price) / (price - g * price + g * px * (1.0 + signed_c))
    if c * abs(q) * px < fmin:
        q = (g * (value - fmin) - shares * price) / (price - g * price + g * px)
    return q


@njit(cache=True, error_model="numpy", inline="always")
def guardrail_crossed(q, side, price, px, shares, value, p):
    """The test of step 7: the guardrail the post-trade share of a trigger order ``q`` would cross (strictly), NaN if
    none (docs/strategy.md §5.7)."""
    fee = fee_for(abs(q) * px, p)
    post_value = value + q * price - q * px - fee
    post = (shares + q) * price / post_value if post_value > 0.0 else math.inf
    if side > 0 and post > p[P_GMAX]:
        return p[P_GMAX]
    if side < 0 and post < p[P_GMIN]:
        return p[P_GMIN]
    return NAN


@njit(cache=True, error_model="numpy", inline="always")
def trim_to_guardrail(q, side, price, px, shares, value, p):
    """Guardrail trim of a trigger order (docs/strategy.md §5.7). Returns ``(q, reason, flags, bound)``."""
    bound = guardrail_crossed(q, side, price, px, shares, value, p)
    if math.isnan(bound):
        return q, REASON_NONE, 0, bound
    qt = quantity_to_bound(bound, side, price, px, shares, value, p)
    if qt * side <= 0.0:
        return 0.0, REASON_GUARDRAIL, 0, bound
    if abs(qt) < abs(q):
        return qt, REASON_NONE, FLAG_TRIMMED, bound
    return q, REASON_NONE, 0, bound


@njit(cache=True, error_model="numpy", inline="always")
def rebalance_order(side, price, shares, value, p):
    """Auto-rebalance (docs/strategy.md §5.6) to the nearer guardrail. Returns ``(bound, px, raw_qty, q, reason)``."""
    bound = p[P_GMAX] if side < 0 else p[P_GMIN]
    px = execution_price(price, side, p)
    raw = quantity_to_bound(bound, side, price, px, shares, value, p)
    if raw * side <= 0.0:
        return bound, px, raw, 0.0, REASON_GUARDRAIL
    return bound, px, raw, raw, REASON_NONE


# --- §5.8 hard limits, §5.9 minimum order ---------------------------------------------------------------------------


@njit(cache=True, error_model="numpy", inline="always")
def apply_hard_limits(q, side, price, px, shares, cash, value, p):
    """Step 8 in order: no shorting, no margin, ``max_trade_share``, whole shares. Returns ``(q, reason, flags)``."""
    c = p[P_COMMISSION]
    fmin = p[P_COMMISSION_MIN]
    flags = 0
    if side < 0:
        if shares <= 0.0:
            return 0.0, REASON_NO_SHARES, flags
        if -q > shares:
            q = -shares
            flags |= FLAG_CAP_SHARES
    else:
        if q * px + fee_for(q * px, p) > cash:
            flags |= FLAG_CAP_CASH
            q = cash / (px * (1.0 + c))
            if c * q * px < fmin:
                q = (cash - fmin) / px
            if q <= 0.0:
                return 0.0, REASON_NO_CASH, flags
    max_trade = p[P_MAX_TRADE]
    if not math.isnan(max_trade) and abs(q) * price > max_trade * value:
        q = side * max_trade * value / price
        flags |= FLAG_CAP_MAX_TRADE
    if p[P_FRACTIONAL] == 0.0:
        # The epsilon keeps 9.999999999 (a float rendering of 10) from losing a share; cash is re-checked below.
        n = math.floor(abs(q) + 1e-9)
        if side > 0:
            while n > 0 and n * px + fee_for(n * px, p) > cash:
                n -= 1
        if n != abs(q):
            flags |= FLAG_ROUNDED
        if n == 0:
            return 0.0, REASON_ROUNDED, flags
        q = side * float(n)
    if side < 0 and cash + abs(q) * px - fee_for(abs(q) * px, p) < 0.0:
        # The commission would exceed the proceeds plus the cash there is: the order cannot be paid for.
        return 0.0, REASON_NO_CASH, flags
    return q, REASON_NONE, flags


@njit(cache=True, error_model="numpy", inline="always")
def minimum_order(q, px, p):
    """Minimum order (docs/strategy.md §5.9) at the execution price. Returns ``(reason, fee)``."""
    if abs(q) * px < p[P_MIN_NOTIONAL]:
        return REASON_BELOW_MIN, 0.0
    return REASON_NONE, fee_for(abs(q) * px, p)


@njit(cache=True, error_model="numpy", inline="always")
def _limit_and_price_order(kind, trigger, side, raw, q, px, reason, flags, bound, price, shares, cash, value, p):
    """§5.8 and §5.9 on an order that §5.5–§5.7 left standing, then the decision."""
    if reason == REASON_NONE:
        q, reason, limit_flags = apply_hard_limits(q, side, price, px, shares, cash, value, p)
        flags |= limit_flags
    fee = 0.0
    if reason == REASON_NONE:
        reason, fee = minimum_order(q, px, p)
    return OrderDecision(kind, trigger, side, raw, q, px, fee, reason, flags, bound)


@njit(cache=True, error_model="numpy", inline="always")
def decide_order(price, shares, cash, receivable, anchor, up, down, p):
    """One evaluation at ``price`` (steps 4–9) for an account that may trade now, as an :class:`OrderDecision`.

    ``up`` and ``down`` are the triggers in force (``triggers_in_force``, §5.4a). A trigger order is sized (§5.5), held
    to the side rule and trimmed (§5.7); failing a trigger, an auto-rebalance order is formed (§5.6). Either then goes
    through the hard limits (§5.8) and the minimum order (§5.9).
    """
    value = account_value(shares, cash, receivable, price)
    kind = KIND_NONE
    side = SIDE_NONE
    trigger = trigger_side(price, anchor, up, down)
    if trigger != SIDE_NONE:
        kind = KIND_TRIGGER
        side = trigger
        px = execution_price(price, side, p)
        raw = raw_order_size(side, price, anchor, shares, cash, value, p)
        q, reason = side_rule(raw, side, shares, cash)
        flags = 0
        bound = NAN
        if reason == REASON_NONE:
            q, reason, flags, bound = trim_to_guardrail(q, side, price, px, shares, value, p)
    elif p[P_AUTO] != 0.0 and value > 0.0:
        side = band_side(shares * price / value, p)
        if side != SIDE_NONE:
            kind = KIND_REBALANCE
            flags = 0
            bound, px, raw, q, reason = rebalance_order(side, price, shares, value, p)
    if kind == KIND_NONE:
        return hold_decision(price)
    return _limit_and_price_order(kind, trigger, side, raw, q, px, reason, flags, bound, price, shares, cash, value, p)


@njit(cache=True, error_model="numpy", inline="always")
def order_action(kind, reason, side):
    """The action of a decision: HOLD without an order, SKIP when a reason stops it, else BUY or SELL (§5.9)."""
    if kind == KIND_NONE:
        return ACTION_HOLD
    if reason != REASON_NONE:
        return ACTION_SKIP
    return ACTION_BUY if side > 0 else ACTION_SELL


# --- §5.10 execution, §5.0 first bar ----------------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def execute_order(q, px, fee, shares, cash):
    """Step 10: shares and cash after filling signed ``q`` at ``px`` with commission ``fee``."""
    if q > 0.0:
        cash -= q * px + fee
        if cash < 0.0:
            cash = 0.0  # a cash-capped buy may overshoot by one ulp
        return shares + q, cash
    shares += q
    if shares < 0.0:
        shares = 0.0
    return shares, cash - q * px - fee


@njit(cache=True, error_model="numpy")
def initial_order(capital, share, price, p):
    """First-bar purchase: ``(shares, cash, fee)`` spending ``share·capital`` with the commission included."""
    budget = share * capital
    if budget <= 0.0:
        return 0.0, capital, 0.0
    c = p[P_COMMISSION]
    fmin = p[P_COMMISSION_MIN]
    notional = budget / (1.0 + c)
    if c * notional < fmin:
        notional = budget - fmin
    if notional <= 0.0:
        return 0.0, capital, 0.0
    if p[P_FRACTIONAL] == 0.0:
        n = math.floor(notional / price)
        while n > 0 and n * price + fee_for(n * price, p) > budget:
            n -= 1
        if n == 0:
            return 0.0, capital, 0.0
        shares = float(n)
        fee = fee_for(shares * price, p)
        return shares, capital - shares * price - fee, fee
    shares = notional / price
    # notional + fee equals the budget by construction; state the cash exactly as the spec does.
    return shares, capital - budget, budget - notional


@njit(cache=True, error_model="numpy", inline="always")
def first_bar_order(price, p):
    """The first bar (docs/strategy.md §5.0): ``(shares, cash, decision)``, the decision being the initial order (or
    a hold when nothing is bought)."""
    shares, cash, fee = initial_order(p[P_CAPITAL], p[P_INIT_SHARE], price, p)
    if shares > 0.0:
        return shares, cash, OrderDecision(
            KIND_INITIAL, SIDE_NONE, SIDE_BUY, shares, shares, price, fee, REASON_NONE, 0, NAN
        )
    return shares, cash, hold_decision(price)


# --- metrics (docs/strategy.md §7) ------------------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def _sell_pnl(qty, notional, fee, shares_before, cost_basis):
    """Realised P&L of a sell against average cost, and the cost basis left."""
    avg = cost_basis / shares_before if shares_before > 0.0 else 0.0
    return notional - fee - qty * avg, cost_basis - qty * avg


@njit(cache=True, error_model="numpy")
def _percentile_linear(values, q):
    """``numpy.percentile(values, 100·q)`` (linear interpolation) in O(n): one partition instead of a sort."""
    n = values.shape[0]
    pos = q * (n - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    part = np.partition(values, hi)
    upper = part[hi]
    lower = upper
    if lo < hi:
        lower = part[0]
        for i in range(1, hi):
            lower = max(lower, part[i])
    # numpy's own lerp form, so the result matches np.percentile bit for bit in the usual cases
    frac = pos - lo
    diff = upper - lower
    if frac >= 0.5:
        return upper - diff * (1.0 - frac)
    return lower + diff * frac


@njit(cache=True, error_model="numpy")
def risk_metrics(returns, out, p):
    """Fill volatility, Sharpe, Sortino, VaR and CVaR from the daily simple returns (empyrical conventions)."""
    n = returns.shape[0]
    k = p[P_PERIODS]
    rf_d = (1.0 + p[P_RISK_FREE]) ** (1.0 / k) - 1.0
    out[M_VOLATILITY] = NAN
    out[M_SHARPE] = NAN
    out[M_SORTINO] = NAN
    out[M_VAR_95] = NAN
    out[M_CVAR_95] = NAN
    if n == 0:
        return
    total = 0.0
    lo = returns[0]
    hi = returns[0]
    for i in range(n):
        total += returns[i]
        lo = min(lo, returns[i])
        hi = max(hi, returns[i])
    mean = total / n
    all_equal = lo == hi
    if n >= 2:
        # One pass for the squared deviations and the downside. The excess returns' deviations equal the raw
        # ones (rf_d is a constant shift), so one standard deviation serves volatility and Sharpe.
        ss = 0.0
        down = 0.0
        for i in range(n):
            d = returns[i] - mean
            ss += d * d
            e = returns[i] - rf_d
            if e < 0.0:
                down += e * e
        std = 0.0 if all_equal else math.sqrt(ss / (n - 1))
        out[M_VOLATILITY] = std * math.sqrt(k)
        mean_ex = mean - rf_d
        if std > 0.0:
            out[M_SHARPE] = mean_ex / std * math.sqrt(k)
        down = math.sqrt(down / n) * math.sqrt(k)
        if down > 0.0:
            out[M_SORTINO] = mean_ex * k / down
    var = _percentile_linear(returns, 0.05)
    tail = 0.0
    cnt = 0
    for i in range(n):
        if returns[i] <= var:
            tail += returns[i]
            cnt += 1
    out[M_VAR_95] = var
    out[M_CVAR_95] = tail / cnt if cnt > 0 else NAN


@njit(cache=True, error_model="numpy", inline="always")
def _benchmark_returns(close, div_per_share, p):
    """Final returns of buy-and-hold and of the static mix (docs/strategy.md §6), booked dividends net of tax."""
    capital = p[P_CAPITAL]
    tax = p[P_TAX]
    first = close[0]
    bh_shares, bh_cash, _ = initial_order(capital, 1.0, first, p)
    mix_shares, mix_cash, _ = initial_order(capital, p[P_INIT_SHARE], first, p)
    last = close[close.shape[0] - 1]
    bh_final = bh_shares * last + bh_cash + bh_shares * div_per_share * (1.0 - tax)
    mix_final = mix_shares * last + mix_cash + mix_shares * div_per_share * (1.0 - tax)
    return bh_final / capital - 1.0, mix_final / capital - 1.0


@njit(cache=True, error_model="numpy", inline="always")
def _metric_vector(close, p, final_value, returns, n_ret, max_dd, max_dd_days, sum_value, n_in_band, stats, divs):
    """The metric vector (``METRIC_NAMES`` order) from the streaming tallies of one run."""
    out = np.full(N_METRICS, NAN)
    n = close.shape[0]
    capital = p[P_CAPITAL]
    k = p[P_PERIODS]
    total_return = final_value / capital - 1.0
    out[M_TOTAL_RETURN] = total_return
    out[M_CAGR] = (1.0 + total_return) ** (k / n_ret) - 1.0
    risk_metrics(returns[:n_ret], out, p)
    out[M_MAX_DRAWDOWN] = max_dd
    out[M_MAX_DRAWDOWN_DAYS] = max_dd_days
    out[M_CALMAR] = out[M_CAGR] / abs(max_dd) if max_dd < 0.0 else NAN
    out[M_N_TRADES] = stats.n_buys + stats.n_sells
    out[M_N_BUYS] = stats.n_buys
    out[M_N_SELLS] = stats.n_sells
    out[M_N_REBALANCES] = stats.n_rebalances
    out[M_TOTAL_COMMISSION] = stats.total_commission
    years = n_ret / k
    out[M_TURNOVER] = stats.traded_notional / (sum_value / n) / years
    out[M_DIVIDENDS_GROSS] = divs.gross
    out[M_DIVIDENDS_NET] = divs.net
    out[M_WITHHOLDING_TAX] = divs.withholding
    out[M_TIME_IN_BAND_SHARE] = n_in_band / n
    out[M_N_SKIPPED_MIN] = stats.n_skipped_min
    out[M_N_TRIMMED] = stats.n_trimmed
    out[M_N_BLOCKED] = stats.n_blocked
    out[M_WIN_RATE] = stats.n_wins / stats.n_sells if stats.n_sells > 0 else NAN
    out[M_PROFIT_FACTOR] = stats.gains / stats.losses if stats.n_losses > 0 else NAN
    bh_return, mix_return = _benchmark_returns(close, divs.per_share, p)
    out[M_BUY_HOLD_RETURN] = bh_return
    out[M_STATIC_MIX_RETURN] = mix_return
    out[M_EXCESS_VS_BUY_HOLD] = total_return - bh_return
    out[M_EXCESS_VS_STATIC_MIX] = total_return - mix_return
    return out


# --- run_one's steps --------------------------------------------------------------------------------------------------


@njit(cache=True, error_model="numpy", inline="always")
def _drop_dividends_before_start(div_ex_day, first_day, div_rec, record_divs):
    """§5.0 (5): dividends dated on or before the first bar are never booked. Returns the first one to book."""
    nd = 0
    while nd < div_ex_day.shape[0] and div_ex_day[nd] <= first_day:
        if record_divs:
            div_rec[nd, D_BAR] = NO_BAR
            div_rec[nd, D_PAID_BAR] = NO_BAR
        nd += 1
    return nd


@njit(cache=True, error_model="numpy", inline="always")
def _book_dividends_on_ex_date(
    i, d, nd, shares, receivable, anchor, n_pending, next_pay_day, divs, div_ex_day, div_amount, div_pay_day,
    pending_net, pending_pay, pending_open, div_rec, record_divs, p,
):
    """§5.1 on bar ``i`` (date ``d``), called once ``div_ex_day[nd] ≤ d``: book every dividend whose ex-date has come,
    in ex-date order, with the shares held before the bar's trade; each one cuts the anchor and waits in the
    receivable for its pay date.

    Returns ``(nd, receivable, anchor, n_pending, next_pay_day, divs, bar_gross, bar_net, bar_withholding)``.
    """
    tax = p[P_TAX]
    gross_total, net_total, wh_total, per_share = divs
    bar_gross = 0.0
    bar_net = 0.0
    bar_wh = 0.0
    while nd < div_ex_day.shape[0] and div_ex_day[nd] <= d:
        amount = div_amount[nd]
        gross, wh, net, receivable, anchor = book_ex_dividend(amount, shares, receivable, anchor, tax)
        per_share += amount
        pay = dividend_pay_day(div_ex_day[nd], div_pay_day[nd], int(p[P_PAY_LAG]))
        pending_net[nd] = net
        pending_pay[nd] = pay
        pending_open[nd] = True
        n_pending += 1
        next_pay_day = min(next_pay_day, pay)
        bar_gross += gross
        bar_net += net
        bar_wh += wh
        gross_total += gross
        net_total += net
        wh_total += wh
        if record_divs:
            div_rec[nd, D_BAR] = i
            div_rec[nd, D_SHARES] = shares
            div_rec[nd, D_GROSS] = gross
            div_rec[nd, D_WITHHOLDING] = wh
            div_rec[nd, D_NET] = net
            div_rec[nd, D_PAY_DAY] = pay
            div_rec[nd, D_PAID_BAR] = NO_BAR
        nd += 1
    divs = DividendTotals(gross_total, net_total, wh_total, per_share)
    return nd, receivable, anchor, n_pending, next_pay_day, divs, bar_gross, bar_net, bar_wh


@njit(cache=True, error_model="numpy", inline="always")
def _pay_dividends_due(i, d, nd, cash, receivable, n_pending, pending_net, pending_pay, pending_open, div_rec,
                       record_divs):
    """§5.1 pay dates on bar ``i`` (date ``d``), called once ``next_pay_day ≤ d``: every booked receivable due by ``d``
    moves to cash; ``R`` is exactly 0 once nothing is outstanding.

    Returns ``(cash, receivable, n_pending, next_pay_day, bar_cash)``.
    """
    bar_cash = 0.0
    next_pay_day = NO_PAY_DAY
    for k in range(nd):
        if pending_open[k]:
            if pending_pay[k] <= d:
                cash, receivable = pay_dividend(pending_net[k], cash, receivable)
                bar_cash += pending_net[k]
                pending_open[k] = False
                n_pending -= 1
                if record_divs:
                    div_rec[k, D_PAID_BAR] = i
            else:
                next_pay_day = min(next_pay_day, pending_pay[k])
    receivable = settle_receivable(receivable, n_pending)
    return cash, receivable, n_pending, next_pay_day, bar_cash


@njit(cache=True, error_model="numpy", inline="always")
def _settle_decision(dec, shares, cash, stats):
    """§5.9–§5.10 for an evaluated order: fill it (shares, cash, cost basis, realised P&L) or count the skip.

    Returns ``(action, notional, shares, cash, stats)``.
    """
    n_trimmed = stats.n_trimmed
    if dec.flags & FLAG_TRIMMED:
        n_trimmed += 1
    action = order_action(dec.kind, dec.reason, dec.side)
    if action == ACTION_SKIP:
        n_skipped_min = stats.n_skipped_min
        n_blocked = stats.n_blocked
        if dec.reason == REASON_BELOW_MIN:
            n_skipped_min += 1
        else:
            n_blocked += 1
        stats = TradeStats(
            stats.n_buys, stats.n_sells, stats.n_rebalances, n_skipped_min, n_trimmed, n_blocked, stats.n_wins,
            stats.n_losses, stats.traded_notional, stats.total_commission, stats.cost_basis, stats.gains,
            stats.losses,
        )
        return action, 0.0, shares, cash, stats
    q = dec.qty
    px = dec.exec_price
    fee = dec.fee
    n_buys, n_sells, n_wins, n_losses = stats.n_buys, stats.n_sells, stats.n_wins, stats.n_losses
    cost_basis, gains, losses = stats.cost_basis, stats.gains, stats.losses
    notional = abs(q) * px
    shares_before = shares
    shares, cash = execute_order(q, px, fee, shares, cash)
    if action == ACTION_BUY:
        cost_basis += notional + fee
        n_buys += 1
    else:
        pnl, cost_basis = _sell_pnl(-q, notional, fee, shares_before, cost_basis)
        if shares == 0.0:
            cost_basis = 0.0
        if pnl > 0.0:
            n_wins += 1
            gains += pnl
        elif pnl < 0.0:
            n_losses += 1
            losses -= pnl
        n_sells += 1
    n_rebalances = stats.n_rebalances
    if dec.kind == KIND_REBALANCE:
        n_rebalances += 1
    stats = TradeStats(
        n_buys, n_sells, n_rebalances, stats.n_skipped_min, n_trimmed, stats.n_blocked, n_wins, n_losses,
        stats.traded_notional + notional, stats.total_commission + fee, cost_basis, gains, losses,
    )
    return action, notional, shares, cash, stats


@njit(cache=True, error_model="numpy", inline="always")
def _record_bar(rec, i, dec, action, status, notional, shares, cash, receivable, value, share, pre_share, anchor_eval,
                anchor, orders_today, bar_gross, bar_net, bar_wh, bar_cash, up, down, sigma):
    """§5.11: one bar's row of the record, after its trade."""
    rec[i, R_SHARES] = shares
    rec[i, R_CASH] = cash
    rec[i, R_RECEIVABLE] = receivable
    rec[i, R_VALUE] = value
    rec[i, R_STOCK_SHARE] = share
    rec[i, R_ANCHOR_EVAL] = anchor_eval
    rec[i, R_ANCHOR_AFTER] = anchor
    rec[i, R_ACTION] = action
    rec[i, R_KIND] = dec.kind
    rec[i, R_TRIGGER] = dec.trigger
    rec[i, R_RAW_QTY] = dec.raw_qty
    rec[i, R_QTY] = dec.qty
    rec[i, R_EXEC_PRICE] = dec.exec_price
    rec[i, R_NOTIONAL] = notional
    rec[i, R_FEE] = dec.fee
    rec[i, R_REASON] = dec.reason
    rec[i, R_FLAGS] = dec.flags
    rec[i, R_STATUS] = status
    rec[i, R_DIV_GROSS] = bar_gross
    rec[i, R_DIV_NET] = bar_net
    rec[i, R_DIV_WITHHOLDING] = bar_wh
    rec[i, R_DIV_CASH] = bar_cash
    rec[i, R_BOUND] = dec.bound
    rec[i, R_PRE_STOCK_SHARE] = pre_share
    rec[i, R_SIDE] = dec.side
    rec[i, R_ORDERS_TODAY] = orders_today
    rec[i, R_TRIGGER_UP] = up
    rec[i, R_TRIGGER_DOWN] = down
    rec[i, R_VOLATILITY] = sigma


@njit(cache=True, error_model="numpy", inline="always")
def _track_drawdown(value, d, dd):
    """§7: the :class:`Drawdown` after ``value``, the last value of date ``d``."""
    peak, peak_day, in_drawdown, max_dd, max_dd_days = dd
    if value >= peak:
        if in_drawdown:
            max_dd_days = max(max_dd_days, float(d - peak_day))
            in_drawdown = False
        peak = value
        peak_day = d
    else:
        in_drawdown = True
        max_dd = min(max_dd, (value - peak) / peak)
    return Drawdown(peak, peak_day, in_drawdown, max_dd, max_dd_days)


@njit(cache=True, error_model="numpy", inline="always")
def _close_day(returns, n_ret, own_value, prev_daily, value, d, dd):
    """§7 at the last bar of date ``d``: the day's return (``own_value`` is ``value`` less what was moved in that day),
    then ``value`` as the new daily value and in the drawdown. Returns ``(n_ret, prev_daily, dd)``."""
    returns[n_ret] = own_value / prev_daily - 1.0
    return n_ret + 1, value, _track_drawdown(value, d, dd)


@njit(cache=True, error_model="numpy", inline="always")
def _longest_drawdown_days(dd, last_day):
    """§7 ``max_drawdown_days``: a drawdown not recovered by the end lasts to the last date."""
    if dd.in_drawdown:
        return max(dd.max_dd_days, float(last_day - dd.peak_day))
    return dd.max_dd_days


@njit(cache=True, error_model="numpy", inline="always")
def _apply_transfer(transfer, shares, cash, stats):
    """A portfolio transfer into this cell before its bar is evaluated (docs/strategy.md §12.3): cash and shares
    added (negative: taken out). Shares taken out leave with their part of the average cost basis, so the realised
    P&L of later sells is unchanged by the transfer."""
    shares_before = shares
    shares += transfer[T_SHARES]
    cash += transfer[T_CASH]
    cost_basis = stats.cost_basis
    if shares_before > 0.0 and shares < shares_before:
        cost_basis *= shares / shares_before
    stats = TradeStats(
        stats.n_buys, stats.n_sells, stats.n_rebalances, stats.n_skipped_min, stats.n_trimmed, stats.n_blocked,
        stats.n_wins, stats.n_losses, stats.traded_notional, stats.total_commission + transfer[T_FEE], cost_basis,
        stats.gains, stats.losses,
    )
    return shares, cash, stats


@njit(cache=True, error_model="numpy")
def quiet_bar_ends(day, in_session):
    """Where the run of *quiet candidates* that starts at each bar ends: the stretches ``run_cell`` may skip.

    A bar is a candidate when it is neither the first nor the last bar of its date: no order count restarts there
    (docs/strategy.md §5.3), no dividend is booked or paid (§5.1: a date's first bar does both) and no daily value
    is taken (§7). A run is a stretch of candidates with the same session flag (§5.2). ``ends[j]`` is the bar after
    bar ``j``'s run (exclusive), or ``j`` itself when bar ``j`` is no candidate. It depends on the data alone, so a
    sweep computes it once (``run_many``).
    """
    n = day.shape[0]
    ends = np.arange(n)
    for j in range(n - 2, 0, -1):
        if day[j] == day[j - 1] and day[j + 1] == day[j]:
            ends[j] = ends[j + 1] if in_session[j + 1] == in_session[j] else j + 1
    return ends


@njit(cache=True, error_model="numpy", inline="always")
def _share_price(share, k, shares):
    """The price at which the exact share ``S·P/(S·P + K)`` equals ``share`` (in (0, 1))."""
    return share * k / (shares * (1.0 - share))


@njit(cache=True, error_model="numpy")
def band_prices(shares, cash, receivable, p):
    """Where the state ``S, C, R`` is certain to be inside the band or outside it, for ``valuation``'s share and the
    band's edges as ``in_band`` computes them (``L = guardrail_min − 1e-9``, ``U = guardrail_max + 1e-9``):
    ``(inside_above, inside_below, over_above, under_below)``. A close strictly between the first two is in the
    band (``in_band``; ``band_side`` finds no side), one above ``over_above`` is over it (``band_side`` sells), one
    below ``under_below`` under it (``band_side`` buys). Nothing is certain (``(inf, -inf, inf, -inf)``) unless
    ``S > 0``, ``C, R ≥ 0`` and all are finite.

    The exact share ``r = S·P/(S·P + K)`` (``K = C + R``) grows with ``P``, and the computed one is within 5u
    relative of it (u = 2⁻⁵³; every term is non-negative), so a margin of 1e-13 relative on ``r`` past an edge is
    enough; the prices are moved inward by 1e-12 relative against their own rounding. A share is never above 1 nor
    below 0, so an edge beyond those does not bound the price.
    """
    if not (shares > 0.0 and cash >= 0.0 and receivable >= 0.0 and math.isfinite(shares)
            and math.isfinite(cash + receivable)):
        return math.inf, -math.inf, math.inf, -math.inf
    k = cash + receivable
    upper = p[P_GMAX] + BAND_TOLERANCE
    lower = p[P_GMIN] - BAND_TOLERANCE
    inside_above, inside_below, over_above, under_below = 0.0, math.inf, math.inf, -math.inf
    if upper * (1.0 + 1e-13) < 1.0:
        inside_below = _share_price(upper * (1.0 - 1e-13), k, shares) * (1.0 - 1e-12)
        over_above = _share_price(upper * (1.0 + 1e-13), k, shares) * (1.0 + 1e-12)
    elif upper < 1.0:
        inside_below = _share_price(upper * (1.0 - 1e-13), k, shares) * (1.0 - 1e-12)
    if lower > 0.0:
        if lower * (1.0 + 1e-13) >= 1.0:
            return math.inf, -math.inf, math.inf, -math.inf
        inside_above = _share_price(lower * (1.0 + 1e-13), k, shares) * (1.0 + 1e-12)
        under_below = _share_price(lower * (1.0 - 1e-13), k, shares) * (1.0 - 1e-12)
    return inside_above, inside_below, over_above, under_below


@njit(cache=True, error_model="numpy")
def below_minimum_bound(g, side, shares, cash, receivable, p):
    """Where an order aimed at the guardrail ``g`` (``quantity_to_bound``, side ``side``) is certain to be refused as
    below the minimum (docs/strategy.md §5.7–§5.9), for the state ``S, C, R``: ``(price, notional)``.

    Claim: at a close ``P`` with ``valuation``'s share beyond ``g`` by more than 1e-9 on the side the order moves it
    from (above ``g`` for a sell, below for a buy) and ``P`` below ``price`` (sell) or above it (buy), the bound
    quantity keeps the order's side, no hard limit of §5.8 changes it, and its computed notional ``|q|·Px`` is below
    ``notional`` (≤ ``min_notional``). The rebalance order of §5.6 is that quantity, and so is a trigger order that
    §5.7 trims to ``g`` when its own notional is above ``notional``: both end as REASON_BELOW_MIN. With no such price
    the result is ``(-inf, 0)`` for a sell and ``(inf, 0)`` for a buy: always so unless the path reduces to the bound
    quantity and the minimum, i.e. no minimum commission, no ``max_trade_share``, fractional shares, commission and
    slippage at most 50 %, a minimum order above 0, ``S > 0``, ``C, R ≥ 0`` and ``g`` in [1e-6, 1 − 1e-6].

    Proof sketch (u = 2⁻⁵³, ``K = C + R``, ``a = 1 ∓ s`` the execution-price factor, ``D = 1 − g + g·a·(1 ∓ c)``): a
    margin of 1e-9 on the share is far beyond the few u of rounding in ``valuation``, so ``g·V − S·P`` has the sign of
    the exact one and the quantity the order's side. That numerator is within 7u·V of its exact value, the
    denominator (a sum of non-negative terms) within 15u/D relative, so the computed notional is at most
    ``(|(1−g)·S·P − g·K| + 1e-14·V)·a/D·(1 + 1e-11)``: linear in ``P`` and below ``notional`` on the returned side of
    ``price``. A sell stays under ``S`` (its quantity is at most ``(1−g)·S/D`` plus rounding) and its commission
    under its proceeds (``c ≤ 1``, ``C ≥ 0``); a buy's ``notional`` is at most ``C/(1+c)`` so the cash cap does not
    act. Both results are moved inward by 1e-12 relative against their own rounding.
    """
    c = p[P_COMMISSION]
    s = p[P_SLIPPAGE_BPS] * 1e-4
    mn = p[P_MIN_NOTIONAL]
    if not (p[P_COMMISSION_MIN] == 0.0 and math.isnan(p[P_MAX_TRADE]) and p[P_FRACTIONAL] != 0.0 and 0.0 <= c <= 0.5
            and 0.0 <= s <= 0.5 and mn > 0.0 and shares > 0.0 and cash >= 0.0 and receivable >= 0.0
            and math.isfinite(shares) and math.isfinite(cash + receivable) and 1e-6 <= g <= 1.0 - 1e-6):
        return (-math.inf if side < 0 else math.inf), 0.0
    k = cash + receivable
    if side < 0:  # sell down to g: the notional grows with P
        a = 1.0 - s
        d = (1.0 - g) + g * a * (1.0 - c)
        n1 = mn * d / (a * (1.0 + 1e-11)) + g * k
        n2 = 1e-14 * k
        return (n1 - n2 - 1e-12 * (n1 + n2)) / (shares * (1.0 - g + 1e-14)) * (1.0 - 1e-12), mn
    a = 1.0 + s  # buy up to g: the notional shrinks as P grows
    d = (1.0 - g) + g * a * (1.0 + c)
    t = min(mn, cash / ((1.0 + c) * (1.0 + 1e-11)))
    n1 = g * k * (1.0 + 1e-14)
    n2 = t * d / (a * (1.0 + 1e-11))
    return (n1 - n2 + 1e-12 * (n1 + n2)) / (shares * (1.0 - g - 1e-14)) * (1.0 + 1e-12), t


class SkipBounds(NamedTuple):
    """What ``run_cell``'s shortcut knows of the state ``shares, cash, receivable`` without sizing an order: the
    ``band_prices`` and ``below_minimum_bound`` of the four orders aimed at a guardrail (the rebalance sell to
    ``guardrail_max`` and buy to ``guardrail_min`` of §5.6, the trigger buy trimmed to ``guardrail_max`` and sell
    trimmed to ``guardrail_min`` of §5.7; ``*_notional`` are the certified notional bounds). Kept from stretch to
    stretch: the state changes only at trades and dividends."""

    shares: float
    cash: float
    receivable: float
    inside_above: float
    inside_below: float
    over_above: float
    under_below: float
    rebalance_sell_below: float
    rebalance_buy_above: float
    trimmed_buy_above: float
    trimmed_buy_notional: float
    trimmed_sell_below: float
    trimmed_sell_notional: float


NO_SKIP_BOUNDS = (NAN, NAN, NAN, math.inf, -math.inf, math.inf, -math.inf, -math.inf, math.inf, math.inf, 0.0,
                  -math.inf, 0.0)  # of no state: nothing certain


@njit(cache=True, error_model="numpy")
def _skip_bounds(shares, cash, receivable, p):
    """The :class:`SkipBounds` of the state ``S, C, R``."""
    gmin, gmax = p[P_GMIN], p[P_GMAX]
    inside_above, inside_below, over_above, under_below = band_prices(shares, cash, receivable, p)
    rs, _ = below_minimum_bound(gmax, SIDE_SELL, shares, cash, receivable, p)
    rb, _ = below_minimum_bound(gmin, SIDE_BUY, shares, cash, receivable, p)
    tb, tb_t = below_minimum_bound(gmax, SIDE_BUY, shares, cash, receivable, p)
    ts, ts_t = below_minimum_bound(gmin, SIDE_SELL, shares, cash, receivable, p)
    return SkipBounds(shares, cash, receivable, inside_above, inside_below, over_above, under_below, rs, rb, tb, tb_t,
                      ts, ts_t)


@njit(cache=True, error_model="numpy", inline="always")
def _above(level, bound):
    """The higher of a trigger level and a price bound, as a lower limit: a NaN level never fires, so the bound."""
    return level if level > bound else bound


@njit(cache=True, error_model="numpy", inline="always")
def _below(level, bound):
    """The lower of a trigger level and a price bound, as an upper limit: a NaN level never fires, so the bound."""
    return level if level < bound else bound


@njit(cache=True, error_model="numpy", inline="always")
def _stretch_ends(day, in_session, quiet_ends, skips):
    """``run_cell``'s stretches: ``quiet_ends`` (``quiet_bar_ends``, computed here when not given) when it ``skips``,
    else every bar its own (``ends[i] = i``)."""
    if not skips:
        return np.arange(day.shape[0])
    if quiet_ends is None:
        return quiet_bar_ends(day, in_session)
    return quiet_ends


@njit(cache=True, error_model="numpy")
def _decided_reason(price, shares, cash, receivable, anchor, up, down, p):
    """``decide_order``'s ``(reason, flags)``: for the shortcut's rare bars, compiled once rather than inlined."""
    dec = decide_order(price, shares, cash, receivable, anchor, up, down, p)
    return dec.reason, dec.flags


@njit(cache=True, error_model="numpy")
def _rebalance_reason(side, price, shares, cash, value, p):
    """``decide_order``'s rebalance branch (§5.6, then §5.8–§5.9) for a bar whose triggers did not fire, as
    ``(reason, flags)``."""
    bound, px, raw, q, reason = rebalance_order(side, price, shares, value, p)
    dec = _limit_and_price_order(KIND_REBALANCE, SIDE_NONE, side, raw, q, px, reason, 0, bound, price, shares, cash,
                                 value, p)
    return dec.reason, dec.flags


@njit(cache=True, error_model="numpy", inline="always")
def _trimmed_below_minimum(side, price, share, shares, cash, value, anchor, bounds, p):
    """Whether the trigger order of ``side`` is certain to be trimmed (§5.7) and then refused as below the minimum
    (§5.9), without computing the trimmed quantity. The order is sized (§5.5, side rule) and tested against the
    guardrails by the rule functions; it is certain when the guardrail crossed is the one ``bounds`` holds a
    ``below_minimum_bound`` for (``guardrail_max`` for a buy, ``guardrail_min`` for a sell), the share is beyond it
    by 1e-9 on the order's side, the close is past the bound, and the order's own notional is at least the certified
    notional (1e-12 relative above it), so that the trimmed quantity is the smaller and the trim applies."""
    px = execution_price(price, side, p)
    q, reason = side_rule(raw_order_size(side, price, anchor, shares, cash, value, p), side, shares, cash)
    if reason != REASON_NONE:
        return False
    bound = guardrail_crossed(q, side, price, px, shares, value, p)
    if side > 0:
        return (bound == p[P_GMAX] and share < p[P_GMAX] - BAND_TOLERANCE and price > bounds.trimmed_buy_above
                and abs(q) * px >= bounds.trimmed_buy_notional * (1.0 + 1e-12))
    return (bound == p[P_GMIN] and share > p[P_GMIN] + BAND_TOLERANCE and price < bounds.trimmed_sell_below
            and abs(q) * px >= bounds.trimmed_sell_notional * (1.0 + 1e-12))


@njit(cache=True, error_model="numpy", inline="always")
def _certain_prices(bounds, sell_level, buy_level, evaluated, auto):
    """The closes at which a bar of a stretch is decided by its price alone (``bounds`` of the state, the trigger
    levels, whether the stretch is evaluated and rebalances): ``(hold_above, hold_below, sells_above, sells_below,
    buys_above, buys_below)``. Strictly between the first two a bar holds inside the band; between the next two (the
    last two) it is over (under) the band with no trigger, and its rebalance is refused as below the minimum."""
    hold_above, hold_below = bounds.inside_above, bounds.inside_below
    sells_above, sells_below, buys_above, buys_below = math.inf, -math.inf, math.inf, -math.inf
    if evaluated:  # strictly between the trigger levels too
        hold_above, hold_below = _above(buy_level, hold_above), _below(sell_level, hold_below)
        if auto:
            sells_above = _above(buy_level, bounds.over_above)
            sells_below = _below(sell_level, bounds.rebalance_sell_below)
            buys_above = _above(buy_level, bounds.rebalance_buy_above)
            buys_below = _below(sell_level, bounds.under_below)
    return hold_above, hold_below, sells_above, sells_below, buys_above, buys_below


@njit(cache=True, error_model="numpy", inline="always")
def _skip_quiet_bars(j, stop, close, in_session, orders_today, shares, cash, receivable, anchor, sell_level,
                     buy_level, up, down, p, sum_value, n_in_band, stats, bounds):
    """The shortcut of docs/strategy.md §10.13 over a whole stretch: from bar ``j`` to at most ``stop`` (exclusive,
    ``quiet_bar_ends``), pass every bar that leaves the state as it is, adding only what such a bar adds to the
    metrics: its value to the mean value (turnover, §7), its stock share to ``time_in_band_share``, and a refused
    order to the skip counts.

    Inside a run the state ``S, C, R, A``, the order count ``orders_today`` and the session flag ``in_session``, so
    the bar status, are those of the bar before. A bar is a hold when that status is not STATUS_EVALUATED, or when
    neither trigger level is reached (§5.4) and, with auto-rebalance, the share is inside the band (§5.6). Where
    ``bounds`` (the state's :class:`SkipBounds`) make the outcome certain, the close alone decides it: a hold in the
    band, or a rebalance refused as below the minimum. Other bars are decided by the rule functions (with the
    certain refusal of ``_trimmed_below_minimum``), and an order that would execute ends the stretch. Every test is
    the per-bar path's own or proven equal to it, so the result is bit for bit that of the per-bar path. Returns
    ``(j, sum_value, n_in_band, stats, bounds)``, ``j`` being the first bar not passed (or ``stop``).
    """
    evaluated = bar_status(in_session, orders_today, p[P_AFTER_HOURS] != 0.0, p[P_MAX_ORDERS]) == STATUS_EVALUATED
    auto = p[P_AUTO] != 0.0
    gmin = p[P_GMIN]
    gmax = p[P_GMAX]
    n_skipped_min, n_trimmed, n_blocked = stats.n_skipped_min, stats.n_trimmed, stats.n_blocked
    if not (bounds.shares == shares and bounds.cash == cash and bounds.receivable == receivable):
        bounds = _skip_bounds(shares, cash, receivable, p)
    hold_above, hold_below, sells_above, sells_below, buys_above, buys_below = _certain_prices(
        bounds, sell_level, buy_level, evaluated, auto)
    while j < stop:
        price = close[j]
        if price > hold_above and price < hold_below:
            sum_value += account_value(shares, cash, receivable, price)
            n_in_band += 1
            j += 1
            continue
        if (price > sells_above and price < sells_below) or (price > buys_above and price < buys_below):
            sum_value += account_value(shares, cash, receivable, price)
            n_skipped_min += 1
            j += 1
            continue
        value, share = valuation(shares, cash, receivable, price)
        reason = REASON_NONE
        flags = 0
        ordered = False
        if evaluated:
            if price >= sell_level or price <= buy_level:
                ordered = True
                side = SIDE_SELL if price >= sell_level else SIDE_BUY
                if _trimmed_below_minimum(side, price, share, shares, cash, value, anchor, bounds, p):
                    reason, flags = REASON_BELOW_MIN, FLAG_TRIMMED
                else:
                    reason, flags = _decided_reason(price, shares, cash, receivable, anchor, up, down, p)
            elif auto and value > 0.0:
                side = band_side(share, p)  # decide_order's rebalance branch (its trigger test is the one above)
                if side != SIDE_NONE:
                    ordered = True
                    if price < bounds.rebalance_sell_below if side < 0 else price > bounds.rebalance_buy_above:
                        reason = REASON_BELOW_MIN
                    else:
                        reason, flags = _rebalance_reason(side, price, shares, cash, value, p)
        if ordered:
            if reason == REASON_NONE:
                break  # it trades: the per-bar path takes it
            if flags & FLAG_TRIMMED:
                n_trimmed += 1
            if reason == REASON_BELOW_MIN:
                n_skipped_min += 1
            else:
                n_blocked += 1
        sum_value += value
        if in_band(share, gmin, gmax):
            n_in_band += 1
        j += 1
    stats = TradeStats(
        stats.n_buys, stats.n_sells, stats.n_rebalances, n_skipped_min, n_trimmed, n_blocked, stats.n_wins,
        stats.n_losses, stats.traded_notional, stats.total_commission, stats.cost_basis, stats.gains, stats.losses,
    )
    return j, sum_value, n_in_band, stats, bounds


@njit(cache=True, error_model="numpy")
def run_one(close, day, in_session, div_ex_day, div_amount, div_pay_day, p, sigma, n_days, rec, div_rec,
            quiet_ends=None):
    """Simulate one configuration over the whole path and return its metric vector (``METRIC_NAMES`` order).

    ``sigma`` is ``volatility_series(close, vol_window_bars, periods_per_year)`` in vol_scaled mode (one value per
    bar) and is not read in fixed mode (pass an empty array). ``rec`` (bars × N_RECORD) and ``div_rec``
    (dividends × N_DIV_RECORD) are filled when they have rows; pass empty arrays to skip recording (the fast path).
    ``quiet_ends`` is ``quiet_bar_ends(day, in_session)`` when the caller has it (computed here otherwise).
    """
    return run_cell(close, day, in_session, div_ex_day, div_amount, div_pay_day, p, sigma, n_days, rec, div_rec,
                    NO_TRANSFERS, quiet_ends)


@njit(cache=True, error_model="numpy")
def run_cell(close, day, in_session, div_ex_day, div_amount, div_pay_day, p, sigma, n_days, rec, div_rec, transfers,
             quiet_ends=None):
    """``run_one`` for a cell of a portfolio (docs/strategy.md §12): ``transfers`` (bars × N_TRANSFER, or no rows)
    holds the cash and shares the portfolio moves into the cell at each bar, applied after the dividends and
    before the evaluation. The daily returns are time-weighted: a day's return leaves out the value transferred
    (``T_VALUE``), so the cell's metrics measure its own trading, not the money moved in or out.
    Unrecorded runs with fixed triggers and no transfers pass the quiet stretches of ``quiet_ends`` in one go.
    """
    n = close.shape[0]
    has_transfers = transfers.shape[0] > 0
    day_transfer = 0.0
    m = div_ex_day.shape[0]
    record = rec.shape[0] > 0
    record_divs = div_rec.shape[0] > 0
    auto = p[P_AUTO] != 0.0
    evaluates_after_hours = p[P_AFTER_HOURS] != 0.0
    max_orders = p[P_MAX_ORDERS]
    gmin = p[P_GMIN]
    gmax = p[P_GMAX]
    vol_scaled = p[P_THRESHOLD_MODE] == THRESHOLD_VOL_SCALED
    if vol_scaled and sigma.shape[0] != n:
        raise ValueError("vol_scaled thresholds need one window volatility per bar")
    ends = _stretch_ends(day, in_session, quiet_ends, not (record or has_transfers or vol_scaled))
    bounds = SkipBounds(*NO_SKIP_BOUNDS)

    # First bar: initial order, anchor at the close, no evaluation (§5.0).
    price = close[0]
    shares, cash, first = first_bar_order(price, p)
    receivable = 0.0
    anchor = price
    up, down = p[P_TRIGGER_UP], p[P_TRIGGER_DOWN]
    bar_sigma = NAN
    sell_level, buy_level = trigger_levels(anchor, up, down)
    stats = TradeStats(0, 0, 0, 0, 0, 0, 0, 0, 0.0, first.fee, shares * price + first.fee, 0.0, 0.0)
    divs = DividendTotals(0.0, 0.0, 0.0, 0.0)
    nd = _drop_dividends_before_start(div_ex_day, day[0], div_rec, record_divs)
    pending_net, pending_pay, pending_open = np.zeros(m), np.zeros(m, dtype=np.int64), np.zeros(m, dtype=np.bool_)
    n_pending = 0
    next_pay_day = NO_PAY_DAY
    sum_value = 0.0
    n_in_band = 0

    # Daily series (§7): the starting capital, then the last value of each calendar date.
    returns = np.empty(n_days)
    n_ret = 0
    prev_daily = p[P_CAPITAL]
    dd = Drawdown(prev_daily, day[0], False, 0.0, 0.0)

    cur_day = day[0]
    orders_today = 0
    i = 0
    while i < n:
        if ends[i] > i:  # §10.13 over a stretch: the bars that leave the state as it is, in one go
            i, sum_value, n_in_band, stats, bounds = _skip_quiet_bars(
                i, ends[i], close, in_session[i], orders_today, shares, cash, receivable, anchor, sell_level,
                buy_level, up, down, p, sum_value, n_in_band, stats, bounds)
        price = close[i]
        d = day[i]
        bar_gross = bar_net = bar_wh = bar_cash = 0.0
        anchor_eval = anchor
        pre_share = NAN
        notional = 0.0
        if i == 0:
            dec = first
            status = STATUS_FIRST_BAR
            action = order_action(dec.kind, dec.reason, dec.side)
            if dec.kind == KIND_INITIAL:
                notional = shares * price
            value, share = valuation(shares, cash, receivable, price)
        else:
            dec = hold_decision(price)
            action = ACTION_HOLD
            orders_today = orders_counted_today(d, cur_day, orders_today)
            cur_day = d
            # 1. Dividends: ex-dates first (receivable, anchor cut), then pay dates.
            # (The tests stay here: the helpers run only on bars that have a dividend to book or pay.)
            if nd < m and div_ex_day[nd] <= d:
                nd, receivable, anchor, n_pending, next_pay_day, divs, bar_gross, bar_net, bar_wh = (
                    _book_dividends_on_ex_date(
                        i, d, nd, shares, receivable, anchor, n_pending, next_pay_day, divs, div_ex_day, div_amount,
                        div_pay_day, pending_net, pending_pay, pending_open, div_rec, record_divs, p,
                    )
                )
            if n_pending > 0 and next_pay_day <= d:
                cash, receivable, n_pending, next_pay_day, bar_cash = _pay_dividends_due(
                    i, d, nd, cash, receivable, n_pending, pending_net, pending_pay, pending_open, div_rec, record_divs
                )
            if has_transfers:
                shares, cash, stats = _apply_transfer(transfers[i], shares, cash, stats)
                day_transfer += transfers[i, T_VALUE]
            if vol_scaled:  # §5.4a: this bar's triggers, from the closes before it
                bar_sigma = sigma[i]
                up, down = triggers_in_force(bar_sigma, p)
                sell_level, buy_level = trigger_levels(anchor, up, down)
            elif anchor != anchor_eval:  # a dividend cut the anchor
                sell_level, buy_level = trigger_levels(anchor, up, down)
            anchor_eval = anchor
            value, share = valuation(shares, cash, receivable, price)
            pre_share = share
            # 2.–3. Session and daily cap: mark to market only.
            status = bar_status(in_session[i], orders_today, evaluates_after_hours, max_orders)
            if status == STATUS_EVALUATED and (
                price >= sell_level or price <= buy_level or (auto and value > 0.0 and band_side(share, p) != SIDE_NONE)
            ):
                # Only bars that can trade pay for the full evaluation; the rest are holds by steps 4 and 6.
                dec = decide_order(price, shares, cash, receivable, anchor, up, down, p)
                if dec.kind != KIND_NONE:
                    action, notional, shares, cash, stats = _settle_decision(dec, shares, cash, stats)
                    if action != ACTION_SKIP:
                        anchor = dec.exec_price
                        sell_level, buy_level = trigger_levels(anchor, up, down)
                        value, share = valuation(shares, cash, receivable, price)
                        orders_today += 1

        sum_value += value
        if in_band(share, gmin, gmax):
            n_in_band += 1
        if record:
            _record_bar(rec, i, dec, action, status, notional, shares, cash, receivable, value, share, pre_share,
                        anchor_eval, anchor, orders_today, bar_gross, bar_net, bar_wh, bar_cash, up, down, bar_sigma)
        if i == n - 1 or day[i + 1] != d:  # close of a calendar date: the daily series and its drawdown (§7)
            n_ret, prev_daily, dd = _close_day(returns, n_ret, value - day_transfer, prev_daily, value, d, dd)
            day_transfer = 0.0
        i += 1
    final_value = account_value(shares, cash, receivable, close[n - 1])
    max_dd_days = _longest_drawdown_days(dd, day[n - 1])
    return _metric_vector(
        close, p, final_value, returns, n_ret, dd.max_dd, max_dd_days, sum_value, n_in_band, stats, divs
    )


@njit(cache=True, parallel=True, error_model="numpy")
def run_many(close, day, in_session, div_ex_day, div_amount, div_pay_day, params, sigma, sigma_row, n_days):
    """Metric matrix (configurations × N_METRICS) for every row of ``params``, configurations in parallel.

    Row ``j`` reads the volatility series ``sigma[sigma_row[j]]`` (§5.4a), or none when ``sigma_row[j] < 0`` (fixed
    thresholds): one series serves every configuration with the same window.
    """
    k = params.shape[0]
    out = np.empty((k, N_METRICS))
    no_rec = np.empty((0, N_RECORD))
    no_div = np.empty((0, N_DIV_RECORD))
    no_sigma = np.empty(0)
    ends = quiet_bar_ends(day, in_session)  # the data's quiet stretches, once for every configuration
    for j in prange(k):
        bar_sigma = sigma[sigma_row[j]] if sigma_row[j] >= 0 else no_sigma
        out[j, :] = run_one(
            close, day, in_session, div_ex_day, div_amount, div_pay_day, params[j], bar_sigma, n_days, no_rec, no_div,
            ends,
        )
    return out
