"""The strategy's rules (docs/strategy.md §5) as Numba-compiled functions: the one implementation every path uses.

``decide_order`` is one evaluation at one price; ``run_one`` walks a price path for one configuration, optionally
recording every bar, and computes the metrics of docs/strategy.md §7 in a streaming pass (no equity curve is kept);
``run_many`` runs ``run_one`` over a matrix of configurations in parallel (``prange``).

Configurations enter as rows of a float64 parameter matrix (``params_row`` builds one); codes for actions, kinds,
reasons and flags are the integer constants below. Nothing here knows about pandas: :mod:`core.engine` turns the
recorded arrays into frames and readable reasons.

The same source also runs as plain Python (``benchmarks`` loads it with the decorators replaced), which is the
speed baseline and a check that compiled and interpreted semantics agree.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

# --- configuration vector -------------------------------------------------------------------------------------
P_CAPITAL = 0
P_INIT_PCT = 1
P_TRIGGER_UP = 2
P_TRIGGER_DOWN = 3
P_SIZING = 4
P_RATIO = 5
P_TRADE_FRACTION = 6
P_GMIN = 7
P_GMAX = 8
P_AUTO = 9
P_MAX_TRADE = 10  # NaN when not set
P_COMMISSION = 11
P_COMMISSION_MIN = 12
P_SLIPPAGE_BPS = 13
P_MIN_NOTIONAL = 14
P_MAX_ORDERS = 15
P_FRACTIONAL = 16
P_AFTER_HOURS = 17
P_TAX = 18
P_PAY_LAG = 19
P_RISK_FREE = 20
P_PERIODS = 21
N_PARAMS = 22

SIZING_CODES = {"proportional": 0, "fixed_fraction": 1, "original": 2}

# --- codes -----------------------------------------------------------------------------------------------------
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
R_ASSET_PCT = 4
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
R_PRE_PCT = 23
R_SIDE = 24
R_ORDERS_TODAY = 25
N_RECORD = 26

# --- per-dividend record columns ---------------------------------------------------------------------------------
D_BAR = 0  # bar index at which the ex-date was processed, -1 if never (before/at first bar or after last bar)
D_SHARES = 1
D_GROSS = 2
D_WITHHOLDING = 3
D_NET = 4
D_PAY_DAY = 5
D_PAID_BAR = 6  # -1 while still receivable at the end
N_DIV_RECORD = 7

# --- metrics (docs/strategy.md §7), in the order of the kernel's output vector ----------------------------------------
METRIC_NAMES = (
    "total_return",
    "cagr",
    "volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "max_drawdown_days",
    "calmar",
    "var_95",
    "cvar_95",
    "n_trades",
    "n_buys",
    "n_sells",
    "n_rebalances",
    "total_commission",
    "turnover",
    "dividends_gross",
    "dividends_net",
    "withholding_tax",
    "pct_time_in_band",
    "n_skipped_min_notional",
    "n_trimmed",
    "n_blocked",
    "win_rate",
    "profit_factor",
    "buy_hold_return",
    "static_mix_return",
    "excess_return_vs_buy_hold",
    "excess_return_vs_static_mix",
)
N_METRICS = len(METRIC_NAMES)
(
    M_TOTAL_RETURN,
    M_CAGR,
    M_VOLATILITY,
    M_SHARPE,
    M_SORTINO,
    M_MAX_DRAWDOWN,
    M_MAX_DRAWDOWN_DAYS,
    M_CALMAR,
    M_VAR_95,
    M_CVAR_95,
    M_N_TRADES,
    M_N_BUYS,
    M_N_SELLS,
    M_N_REBALANCES,
    M_TOTAL_COMMISSION,
    M_TURNOVER,
    M_DIVIDENDS_GROSS,
    M_DIVIDENDS_NET,
    M_WITHHOLDING_TAX,
    M_PCT_TIME_IN_BAND,
    M_N_SKIPPED_MIN,
    M_N_TRIMMED,
    M_N_BLOCKED,
    M_WIN_RATE,
    M_PROFIT_FACTOR,
    M_BUY_HOLD_RETURN,
    M_STATIC_MIX_RETURN,
    M_EXCESS_VS_BUY_HOLD,
    M_EXCESS_VS_STATIC_MIX,
) = range(N_METRICS)

TRIGGER_TOLERANCE = 1e-9  # relative: an exact 3 % move fires despite float rounding
BAND_TOLERANCE = 1e-9  # absolute, on asset_pct

NAN = math.nan
NO_PAY_DAY = 2**62  # sentinel: no receivable pending


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
def apply_hard_limits(q, side, price, px, shares, cash, value, p):
    """Step 8 in order: no shorting, no margin, ``max_trade_pct``, whole shares. Returns ``(q, reason, flags)``."""
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
def trigger_levels(anchor, p):
    """The prices at which step 4 fires, tolerance included: ``(sell at or above, buy at or below)``."""
    return (
        anchor * (1.0 + p[P_TRIGGER_UP]) * (1.0 - TRIGGER_TOLERANCE),
        anchor * (1.0 - p[P_TRIGGER_DOWN]) * (1.0 + TRIGGER_TOLERANCE),
    )


@njit(cache=True, error_model="numpy")
def trigger_side(price, anchor, p):
    """Step 4: -1 (sell) when ``P ≥ A·(1+up)``, +1 (buy) when ``P ≤ A·(1−down)``, both within 1e-9 relative; else 0."""
    sell_level, buy_level = trigger_levels(anchor, p)
    if price >= sell_level:
        return -1
    if price <= buy_level:
        return 1
    return 0


@njit(cache=True, error_model="numpy", inline="always")
def band_side(pct, p):
    """Step 6: the side of the order that brings ``asset_pct`` back inside the guardrails (0 when inside)."""
    if pct > p[P_GMAX] + BAND_TOLERANCE:
        return -1
    if pct < p[P_GMIN] - BAND_TOLERANCE:
        return 1
    return 0


@njit(cache=True, error_model="numpy", inline="always")
def decide_order(price, shares, cash, receivable, anchor, p):
    """One evaluation at ``price`` (steps 4–9) for an account that may trade now.

    Returns ``(kind, trigger, side, raw_qty, qty, exec_price, fee, reason, flags, bound)``: ``kind`` is KIND_NONE
    (hold), KIND_TRIGGER or KIND_REBALANCE; ``trigger`` is +1/-1 when a trigger fired; ``qty`` is signed (positive
    buys) and executes only when ``reason`` is REASON_NONE; ``bound`` is the guardrail aimed at (NaN if none).
    """
    value = shares * price + cash + receivable
    gmin = p[P_GMIN]
    gmax = p[P_GMAX]
    min_notional = p[P_MIN_NOTIONAL]
    kind = KIND_NONE
    trigger = 0
    side = 0
    raw = 0.0
    q = 0.0
    reason = REASON_NONE
    flags = 0
    bound = NAN
    px = price

    trigger = trigger_side(price, anchor, p)
    if trigger != 0:
        kind = KIND_TRIGGER
        side = trigger
        px = execution_price(price, side, p)
        sizing = int(p[P_SIZING])
        if sizing == 0:
            q = (anchor / price - 1.0) * p[P_RATIO] * value / price
        elif sizing == 2:
            q = side * (anchor / price) * p[P_RATIO] * value / price
        elif side > 0:
            q = p[P_TRADE_FRACTION] * cash / price
        else:
            q = -p[P_TRADE_FRACTION] * shares
        raw = q
        if q * side <= 0.0:
            q = 0.0
            if side > 0 and cash <= 0.0:
                reason = REASON_NO_CASH
            elif side < 0 and shares <= 0.0:
                reason = REASON_NO_SHARES
            else:
                reason = REASON_ZERO_SIZE
        else:
            fee = fee_for(abs(q) * px, p)
            post_value = value + q * price - q * px - fee
            post = (shares + q) * price / post_value if post_value > 0.0 else math.inf
            if side > 0 and post > gmax:
                bound = gmax
            elif side < 0 and post < gmin:
                bound = gmin
            if not math.isnan(bound):
                qt = quantity_to_bound(bound, side, price, px, shares, value, p)
                if qt * side <= 0.0:
                    q = 0.0
                    reason = REASON_GUARDRAIL
                elif abs(qt) < abs(q):
                    q = qt
                    flags |= FLAG_TRIMMED
    elif p[P_AUTO] != 0.0 and value > 0.0:
        side = band_side(shares * price / value, p)
        if side != 0:
            bound = gmax if side < 0 else gmin
            kind = KIND_REBALANCE
            px = execution_price(price, side, p)
            q = quantity_to_bound(bound, side, price, px, shares, value, p)
            raw = q
            if q * side <= 0.0:
                q = 0.0
                reason = REASON_GUARDRAIL

    if kind == KIND_NONE:
        return kind, trigger, side, raw, q, price, 0.0, reason, flags, bound
    if reason == REASON_NONE:
        q, reason, limit_flags = apply_hard_limits(q, side, price, px, shares, cash, value, p)
        flags |= limit_flags
    fee = 0.0
    if reason == REASON_NONE:
        if abs(q) * px < min_notional:
            reason = REASON_BELOW_MIN
        else:
            fee = fee_for(abs(q) * px, p)
    return kind, trigger, side, raw, q, px, fee, reason, flags, bound


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
def initial_order(capital, pct, price, p):
    """First-bar purchase: ``(shares, cash, fee)`` spending ``pct·capital`` with the commission included."""
    budget = pct * capital
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


@njit(cache=True, error_model="numpy")
def run_one(close, day, in_session, div_ex_day, div_amount, div_pay_day, p, n_days, rec, div_rec):
    """Simulate one configuration over the whole path and return its metric vector (``METRIC_NAMES`` order).

    ``rec`` (bars × N_RECORD) and ``div_rec`` (dividends × N_DIV_RECORD) are filled when they have rows; pass
    empty arrays to skip recording (the fast path).
    """
    n = close.shape[0]
    m = div_ex_day.shape[0]
    record = rec.shape[0] > 0
    record_divs = div_rec.shape[0] > 0
    out = np.full(N_METRICS, NAN)
    capital = p[P_CAPITAL]
    tax = p[P_TAX]
    lag = int(p[P_PAY_LAG])
    max_orders = p[P_MAX_ORDERS]
    gmin = p[P_GMIN]
    gmax = p[P_GMAX]
    evaluate_after_hours = p[P_AFTER_HOURS] != 0.0
    auto = p[P_AUTO] != 0.0

    # First bar: initial order, anchor at the close, no evaluation.
    price = close[0]
    shares, cash, fee0 = initial_order(capital, p[P_INIT_PCT], price, p)
    receivable = 0.0
    anchor = price
    sell_level, buy_level = trigger_levels(anchor, p)
    value = 0.0
    pct = NAN
    total_commission = fee0
    cost_basis = shares * price + fee0
    # Benchmarks: buy-and-hold buys like the initial order with everything; static mix is the initial state.
    bh_shares, bh_cash, _ = initial_order(capital, 1.0, price, p)
    div_per_share = 0.0  # cumulative amount of processed dividends, for the benchmarks' final value

    # Dividends dated on or before the first bar are ignored.
    nd = 0
    while nd < m and div_ex_day[nd] <= day[0]:
        if record_divs:
            div_rec[nd, D_BAR] = -1.0
            div_rec[nd, D_PAID_BAR] = -1.0
        nd += 1
    pending_net = np.zeros(m)
    pending_pay = np.zeros(m, dtype=np.int64)
    pending_open = np.zeros(m, dtype=np.bool_)
    n_pending = 0
    next_pay_day = NO_PAY_DAY

    div_gross_total = 0.0
    div_net_total = 0.0
    div_wh_total = 0.0
    n_buys = 0
    n_sells = 0
    n_rebalances = 0
    n_skipped_min = 0
    n_trimmed = 0
    n_blocked = 0
    traded_notional = 0.0
    n_wins = 0
    gains = 0.0
    losses = 0.0
    n_losses = 0
    sum_value = 0.0
    in_band = 0

    # Daily series: the starting capital, then the last value of each calendar date.
    returns = np.empty(n_days)
    n_ret = 0
    prev_daily = capital
    peak = capital
    peak_day = day[0]
    in_drawdown = False
    max_dd = 0.0
    max_dd_days = 0.0

    cur_day = day[0]
    orders_today = 0
    for i in range(n):
        price = close[i]
        d = day[i]
        kind = KIND_NONE
        trigger = 0
        side = 0
        raw = 0.0
        q = 0.0
        px = price
        fee = 0.0
        reason = REASON_NONE
        flags = 0
        bound = NAN
        action = ACTION_HOLD
        status = STATUS_EVALUATED
        bar_gross = 0.0
        bar_net = 0.0
        bar_wh = 0.0
        bar_cash = 0.0
        anchor_eval = anchor
        pre_pct = NAN
        notional = 0.0
        if i == 0:
            status = STATUS_FIRST_BAR
            if shares > 0.0:
                kind = KIND_INITIAL
                action = ACTION_BUY
                side = 1
                q = shares
                raw = shares
                fee = fee0
                notional = shares * price
        else:
            if d != cur_day:
                cur_day = d
                orders_today = 0
            # 1. Dividends: ex-dates first (receivable, anchor cut), then pay dates.
            while nd < m and div_ex_day[nd] <= d:
                amount = div_amount[nd]
                gross = amount * shares
                wh = gross * tax
                net = gross - wh
                receivable += net
                anchor -= amount
                div_per_share += amount
                pay = div_pay_day[nd]
                if pay < 0:
                    pay = div_ex_day[nd] + lag
                if pay < div_ex_day[nd]:
                    pay = div_ex_day[nd]
                pending_net[nd] = net
                pending_pay[nd] = pay
                pending_open[nd] = True
                n_pending += 1
                next_pay_day = min(next_pay_day, pay)
                bar_gross += gross
                bar_net += net
                bar_wh += wh
                div_gross_total += gross
                div_net_total += net
                div_wh_total += wh
                if record_divs:
                    div_rec[nd, D_BAR] = i
                    div_rec[nd, D_SHARES] = shares
                    div_rec[nd, D_GROSS] = gross
                    div_rec[nd, D_WITHHOLDING] = wh
                    div_rec[nd, D_NET] = net
                    div_rec[nd, D_PAY_DAY] = pay
                    div_rec[nd, D_PAID_BAR] = -1.0
                nd += 1
            if n_pending > 0 and next_pay_day <= d:
                next_pay_day = NO_PAY_DAY
                for k in range(nd):
                    if pending_open[k]:
                        if pending_pay[k] <= d:
                            cash += pending_net[k]
                            receivable -= pending_net[k]
                            bar_cash += pending_net[k]
                            pending_open[k] = False
                            n_pending -= 1
                            if record_divs:
                                div_rec[k, D_PAID_BAR] = i
                        else:
                            next_pay_day = min(next_pay_day, pending_pay[k])
                if n_pending == 0:
                    receivable = 0.0  # no float residue once every receivable is paid
            if anchor != anchor_eval:  # a dividend cut the anchor
                sell_level, buy_level = trigger_levels(anchor, p)
            anchor_eval = anchor
            value = shares * price + cash + receivable
            pct = shares * price / value if value > 0.0 else NAN
            pre_pct = pct
            # 2.–3. Session and daily cap: mark to market only.
            if not in_session[i] and not evaluate_after_hours:
                status = STATUS_AFTER_HOURS
            elif orders_today >= max_orders:
                status = STATUS_DAILY_CAP
            elif price >= sell_level or price <= buy_level or (auto and value > 0.0 and band_side(pct, p) != 0):
                # Only bars that can trade pay for the full evaluation; the rest are holds by steps 4 and 6.
                kind, trigger, side, raw, q, px, fee, reason, flags, bound = decide_order(
                    price, shares, cash, receivable, anchor, p
                )
                if kind != KIND_NONE:
                    if flags & FLAG_TRIMMED:
                        n_trimmed += 1
                    if reason == REASON_NONE:
                        notional = abs(q) * px
                        shares_before = shares
                        shares, cash = execute_order(q, px, fee, shares, cash)
                        if side > 0:
                            cost_basis += notional + fee
                            n_buys += 1
                            action = ACTION_BUY
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
                            action = ACTION_SELL
                        anchor = px
                        sell_level, buy_level = trigger_levels(anchor, p)
                        value = shares * price + cash + receivable
                        pct = shares * price / value if value > 0.0 else NAN
                        orders_today += 1
                        total_commission += fee
                        traded_notional += notional
                        if kind == KIND_REBALANCE:
                            n_rebalances += 1
                    else:
                        action = ACTION_SKIP
                        if reason == REASON_BELOW_MIN:
                            n_skipped_min += 1
                        else:
                            n_blocked += 1

        if i == 0:
            value = shares * price + cash + receivable
            pct = shares * price / value if value > 0.0 else NAN
        sum_value += value
        if pct >= gmin - BAND_TOLERANCE and pct <= gmax + BAND_TOLERANCE:
            in_band += 1

        if record:
            rec[i, R_SHARES] = shares
            rec[i, R_CASH] = cash
            rec[i, R_RECEIVABLE] = receivable
            rec[i, R_VALUE] = value
            rec[i, R_ASSET_PCT] = pct
            rec[i, R_ANCHOR_EVAL] = anchor_eval
            rec[i, R_ANCHOR_AFTER] = anchor
            rec[i, R_ACTION] = action
            rec[i, R_KIND] = kind
            rec[i, R_TRIGGER] = trigger
            rec[i, R_RAW_QTY] = raw
            rec[i, R_QTY] = q
            rec[i, R_EXEC_PRICE] = px
            rec[i, R_NOTIONAL] = notional
            rec[i, R_FEE] = fee
            rec[i, R_REASON] = reason
            rec[i, R_FLAGS] = flags
            rec[i, R_STATUS] = status
            rec[i, R_DIV_GROSS] = bar_gross
            rec[i, R_DIV_NET] = bar_net
            rec[i, R_DIV_WITHHOLDING] = bar_wh
            rec[i, R_DIV_CASH] = bar_cash
            rec[i, R_BOUND] = bound
            rec[i, R_PRE_PCT] = pre_pct
            rec[i, R_SIDE] = side
            rec[i, R_ORDERS_TODAY] = orders_today

        # Close of a calendar date: extend the daily series and the drawdown bookkeeping.
        if i == n - 1 or day[i + 1] != d:
            returns[n_ret] = value / prev_daily - 1.0
            n_ret += 1
            prev_daily = value
            if value >= peak:
                if in_drawdown:
                    max_dd_days = max(max_dd_days, float(d - peak_day))
                    in_drawdown = False
                peak = value
                peak_day = d
            else:
                in_drawdown = True
                max_dd = min(max_dd, (value - peak) / peak)
    if in_drawdown:
        max_dd_days = max(max_dd_days, float(day[n - 1] - peak_day))

    k = p[P_PERIODS]
    final_value = shares * close[n - 1] + cash + receivable
    total_return = final_value / capital - 1.0
    out[M_TOTAL_RETURN] = total_return
    out[M_CAGR] = (1.0 + total_return) ** (k / n_ret) - 1.0
    risk_metrics(returns[:n_ret], out, p)
    out[M_MAX_DRAWDOWN] = max_dd
    out[M_MAX_DRAWDOWN_DAYS] = max_dd_days
    out[M_CALMAR] = out[M_CAGR] / abs(max_dd) if max_dd < 0.0 else NAN
    out[M_N_TRADES] = n_buys + n_sells
    out[M_N_BUYS] = n_buys
    out[M_N_SELLS] = n_sells
    out[M_N_REBALANCES] = n_rebalances
    out[M_TOTAL_COMMISSION] = total_commission
    years = n_ret / k
    out[M_TURNOVER] = traded_notional / (sum_value / n) / years
    out[M_DIVIDENDS_GROSS] = div_gross_total
    out[M_DIVIDENDS_NET] = div_net_total
    out[M_WITHHOLDING_TAX] = div_wh_total
    out[M_PCT_TIME_IN_BAND] = in_band / n
    out[M_N_SKIPPED_MIN] = n_skipped_min
    out[M_N_TRIMMED] = n_trimmed
    out[M_N_BLOCKED] = n_blocked
    out[M_WIN_RATE] = n_wins / n_sells if n_sells > 0 else NAN
    out[M_PROFIT_FACTOR] = gains / losses if n_losses > 0 else NAN
    p0 = close[0]
    s0, c0, _ = initial_order(capital, p[P_INIT_PCT], p0, p)
    last = close[n - 1]
    bh_final = bh_shares * last + bh_cash + bh_shares * div_per_share * (1.0 - tax)
    mix_final = s0 * last + c0 + s0 * div_per_share * (1.0 - tax)
    out[M_BUY_HOLD_RETURN] = bh_final / capital - 1.0
    out[M_STATIC_MIX_RETURN] = mix_final / capital - 1.0
    out[M_EXCESS_VS_BUY_HOLD] = total_return - out[M_BUY_HOLD_RETURN]
    out[M_EXCESS_VS_STATIC_MIX] = total_return - out[M_STATIC_MIX_RETURN]
    return out


@njit(cache=True, parallel=True, error_model="numpy")
def run_many(close, day, in_session, div_ex_day, div_amount, div_pay_day, params, n_days):
    """Metric matrix (configurations × N_METRICS) for every row of ``params``, configurations in parallel."""
    k = params.shape[0]
    out = np.empty((k, N_METRICS))
    no_rec = np.empty((0, N_RECORD))
    no_div = np.empty((0, N_DIV_RECORD))
    for j in prange(k):
        out[j, :] = run_one(
            close, day, in_session, div_ex_day, div_amount, div_pay_day, params[j], n_days, no_rec, no_div
        )
    return out
