"""``simulate_portfolio`` (docs/strategy.md §12): several cells, each trading on its own rules, plus the portfolio's
rules — initial weights, an optional cash pool, optional re-allocation — on the aligned calendar of all cells.

Every cell runs the one kernel (:func:`core.kernel.run_cell`). The portfolio only decides *transfers*: cash (and,
for a re-allocation, shares sold) moved into or out of a cell before one of its bars is evaluated. A transfer
changes a cell only from its bar on, so the portfolio walks forward in time: it runs the cells, finds the earliest
bar at which one of its rules acts, writes that transfer, re-runs the cells it touched, and repeats (§12.4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core import kernel as K
from core.bars import BarArrays
from core.engine import (
    RecordedArrays,
    SimulationResult,
    SummaryInputs,
    benchmark_values,
    inside_guardrails,
    params_row,
    prepare,
    record_arrays,
    record_run,
    summary_metrics,
)
from core.errors import DataError
from core.metrics import daily_equity, realised_pnl
from core.portfolio.rules import PortfolioCell, PortfolioRules, check_cells

POOL = "pool"
"""The name of the cash pool in the allocation and transfer frames."""

TRANSFER_DRAW = "draw"
TRANSFER_REPAY = "repay"
TRANSFER_REALLOCATE = "reallocate"
KIND_REALLOCATE = "reallocate"  # the trades' kind of a re-allocation sale
DRAW_ITERATIONS = 60  # the draw's fixed point converges geometrically (the guardrail's slope is below one)
DRAW_TOLERANCE = 1e-12
MAX_PORTFOLIO_STEPS = 200_000  # transfers decided per run; a bound against a rule that never settles

_PERIOD_CODES = {"monthly": "M", "quarterly": "Q", "yearly": "Y"}


@dataclass(eq=False)
class PortfolioResult:
    """Everything one portfolio backtest produced (docs/strategy.md §12.6), shaped like ``SimulationResult``.

    ``timeline`` is on the aligned calendar (portfolio value, stock value, cash including the pool, pool,
    receivable, exposure); ``trades``, ``events`` and ``dividends`` carry a ``cell`` column; ``benchmarks`` holds
    ``equal_weight_buy_and_hold`` and ``initial_mix`` (the first bar's holdings, never traded); ``cells`` are the
    cells' own results (their equity includes the money moved in; their metrics are time-weighted);
    ``cell_values`` and ``allocation`` give each cell's (and the pool's) value and share of the portfolio per bar;
    ``transfers`` every draw, repayment and re-allocation; ``contributions`` each cell's profit and its share of
    the portfolio's; ``correlation`` the correlation of the cells' daily (time-weighted) returns.
    """

    rules: PortfolioRules
    weights: dict[str, float]
    trades: pd.DataFrame
    timeline: pd.DataFrame
    events: pd.DataFrame
    dividends: pd.DataFrame
    equity: pd.Series
    benchmarks: pd.DataFrame
    metrics: dict[str, float]
    daily_equity: pd.Series = field(repr=False)
    cells: dict[str, SimulationResult] = field(repr=False, default_factory=dict)
    cell_values: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    allocation: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    transfers: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    contributions: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    correlation: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)


@dataclass
class _Cell:
    """One cell while the portfolio runs: its data, configuration, transfers and latest recording."""

    name: str
    prices: pd.DataFrame
    bars: BarArrays
    config: object
    capital: float
    calendar_pos: np.ndarray  # the aligned-calendar position of each of the cell's bars
    carry: np.ndarray  # per calendar position, the cell's last bar at or before it (-1 before its first)
    params: np.ndarray  # the kernel's parameter row of the cell's configuration
    transfers: np.ndarray
    arrays: RecordedArrays | None = None  # the kernel's recording of the latest re-run
    rec: np.ndarray = field(default_factory=lambda: np.empty((0, K.N_RECORD)))
    drawn: float = 0.0  # what the cell owes the pool
    next_draw_bar: int = 1
    next_repay_bar: int = 1
    sales: list[dict] = field(default_factory=list)

    def rerun(self) -> None:
        self.arrays = record_arrays(self.config, self.bars, self.transfers)
        self.rec = self.arrays.rec

    def before_evaluation(self, i: int) -> tuple[float, float, float, float]:
        """(shares, cash, receivable, value) at bar ``i`` after its dividends and transfers, before it trades."""
        rec = self.rec
        shares = rec[i - 1, K.R_SHARES] + self.transfers[i, K.T_SHARES]
        cash = rec[i - 1, K.R_CASH] + rec[i, K.R_DIV_CASH] + self.transfers[i, K.T_CASH]
        receivable = rec[i, K.R_RECEIVABLE]
        return shares, cash, receivable, shares * self.bars.close[i] + cash + receivable

    def add_transfer(self, i: int, cash: float, shares: float = 0.0, value: float | None = None, fee: float = 0.0):
        self.transfers[i, K.T_CASH] += cash
        self.transfers[i, K.T_SHARES] += shares
        self.transfers[i, K.T_VALUE] += cash if value is None else value
        self.transfers[i, K.T_FEE] += fee


@dataclass(frozen=True)
class _Step:
    """The earliest portfolio rule to act: at calendar position ``t``, of ``kind``, for cell ``cell`` (its bar
    ``bar``); re-allocations come first at a bar, then repayments, then draws (§12.4)."""

    t: int
    order: int
    cell: int
    bar: int
    kind: str
    amount: float = 0.0


def simulate_portfolio(cells: list[PortfolioCell], rules: PortfolioRules | None = None) -> PortfolioResult:
    """Backtest a portfolio of cells (docs/strategy.md §12).

    Each cell's prices are cut to the dates all cells share (latest first bar to earliest last bar); the portfolio
    is valued on the union of their timestamps, a cell without a bar at a timestamp carrying its last price.
    Raises ``ConfigError`` for bad rules, weights or configurations, ``DataError`` for bad or non-overlapping data.
    """
    rules = rules or PortfolioRules()
    pool_weight = check_cells(list(cells), rules)
    calendar, state = _prepare_cells(list(cells), rules)
    pool = _Pool(rules.initial_capital * pool_weight, len(calendar))
    for c in state:
        c.rerun()
    common = _common_positions(state, len(calendar))
    targets = np.array([cell.weight for cell in cells])
    for _ in range(MAX_PORTFOLIO_STEPS):
        step = _next_step(state, common, calendar, pool, targets, pool_weight, rules)
        if step is None:
            break
        touched = _apply_step(step, state, pool, targets, pool_weight, rules, calendar)
        for k in touched:
            state[k].rerun()
        pool.cursor = step.t
    else:  # pragma: no cover - a bound, not a path
        raise RuntimeError("the portfolio's rules did not settle; please report this configuration")
    return _result(list(cells), rules, calendar, state, pool, pool_weight)


class _Pool:
    """The cash pool: its value after each calendar position's transfers, and the transfers made."""

    def __init__(self, start: float, n: int) -> None:
        self.start = start
        self.deltas = np.zeros(n)
        self.cursor = 0  # the calendar position of the last rule applied: later rules act at or after it
        self.last_reallocation = -1
        self.log: list[dict] = []

    def value_at(self, t: int) -> float:
        return self.start + float(self.deltas[: t + 1].sum())

    def series(self) -> np.ndarray:
        return self.start + np.cumsum(self.deltas)

    def move(self, t: int, amount: float) -> None:
        self.deltas[t] += amount


def _prepare_cells(cells: list[PortfolioCell], rules: PortfolioRules) -> tuple[pd.DatetimeIndex, list[_Cell]]:
    tz_aware = {c.prices.index.tz is not None for c in cells if isinstance(c.prices.index, pd.DatetimeIndex)}
    if len(tz_aware) > 1:
        raise DataError("the cells' timestamps must all carry a time zone or all be local; they are mixed")
    for c in cells:
        prepare(c.prices, c.dividends)  # the data's own checks, with the cell's name in the message
    start = max(c.prices.index[0] for c in cells)
    end = min(c.prices.index[-1] for c in cells)
    if start > end:
        raise DataError("the cells' price histories do not overlap: there is no date every cell has data for")
    cut = []
    for c in cells:
        prices = c.prices.loc[(c.prices.index >= start) & (c.prices.index <= end)]
        if len(prices) < 2:
            raise DataError(f"cell {c.name!r} has fewer than two bars in the dates all cells share")
        cut.append(prices)
    calendar = cut[0].index
    for prices in cut[1:]:
        calendar = calendar.union(prices.index)
    state = []
    for c, prices in zip(cells, cut, strict=True):
        capital = c.weight * rules.initial_capital
        config = c.config.replace(initial_capital=capital)
        positions = calendar.get_indexer(prices.index)
        state.append(
            _Cell(
                name=c.name,
                prices=prices,
                bars=prepare(prices, c.dividends),
                config=config,
                capital=capital,
                calendar_pos=positions,
                carry=np.searchsorted(positions, np.arange(len(calendar)), side="right") - 1,
                params=params_row(config),
                transfers=np.zeros((len(prices), K.N_TRANSFER)),
            )
        )
    return calendar, state


def _common_positions(state: list[_Cell], n: int) -> np.ndarray:
    """Calendar positions at which every cell has a bar that is not its first (re-allocations happen only there)."""
    count = np.zeros(n, dtype=np.int64)
    for c in state:
        count[c.calendar_pos[1:]] += 1
    return np.flatnonzero(count == len(state))


def _carried(state: list[_Cell], n: int, column: int) -> np.ndarray:
    """Each cell's recorded ``column`` on the calendar (cells × positions), carried forward over missing bars;
    before a cell's first bar its value is its capital (cash) and its other columns are 0."""
    out = np.zeros((len(state), n))
    for k, c in enumerate(state):
        idx = c.carry
        values = c.rec[np.maximum(idx, 0), column]
        before = c.capital if column in (K.R_VALUE, K.R_CASH) else 0.0
        out[k] = np.where(idx >= 0, values, before)
    return out


def _next_step(state, common, calendar, pool, targets, pool_weight, rules) -> _Step | None:
    candidates: list[_Step] = []
    t0 = pool.cursor
    if rules.reallocation != "none":
        step = _next_reallocation(state, common, calendar, pool, targets, rules, t0)
        if step is not None:
            candidates.append(step)
    if rules.cash_pool:
        for k, c in enumerate(state):
            candidates.extend(_next_pool_steps(k, c, pool, rules, t0))
    return min(candidates, key=lambda s: (s.t, s.order, s.cell), default=None)


def _next_reallocation(state, common, calendar, pool, targets, rules, t0) -> _Step | None:
    pending = common[common >= max(t0, 1)]
    if pending.size == 0:
        return None
    done = pool.last_reallocation
    pending = pending[pending > done]
    if pending.size == 0:
        return None
    if rules.reallocation in _PERIOD_CODES:
        # The first common bar of each new period; common[0] opens the first period and is never a re-allocation.
        periods = calendar[common].to_period(_PERIOD_CODES[rules.reallocation])
        new_period = np.zeros(common.size, dtype=bool)
        new_period[1:] = periods[1:] != periods[:-1]
        due = common[new_period]
        due = due[(due >= max(t0, 1)) & (due > done)]
        return _Step(int(due[0]), 0, -1, -1, TRANSFER_REALLOCATE) if due.size else None
    # Band: the weights at the close of the calendar position before each pending common bar.
    values = _carried(state, len(calendar), K.R_VALUE)
    pool_values = pool.series()
    total = values.sum(axis=0) + pool_values
    weights = values / total
    drift = np.abs(weights - targets[:, None]).max(axis=0)
    out = pending[drift[pending - 1] > rules.reallocation_band + 1e-12]
    return _Step(int(out[0]), 0, -1, -1, TRANSFER_REALLOCATE) if out.size else None


def _next_pool_steps(k: int, c: _Cell, pool: _Pool, rules: PortfolioRules, t0: int) -> list[_Step]:
    steps = []
    rec = c.rec
    bars = np.arange(rec.shape[0])
    at_or_after = c.calendar_pos >= t0
    if c.drawn > 0.0:
        sold = np.zeros(rec.shape[0], dtype=bool)
        sold[1:] = rec[:-1, K.R_ACTION] == K.ACTION_SELL
        ok = np.flatnonzero(sold & at_or_after & (bars >= c.next_repay_bar))
        if ok.size:
            steps.append(_Step(int(c.calendar_pos[ok[0]]), 1, k, int(ok[0]), TRANSFER_REPAY))
    cap = rules.pool_cap * rules.initial_capital
    pool_value = pool.value_at(t0)
    if c.drawn < cap and pool_value > 0.0:
        # Every evaluated buy (filled, trimmed or refused) asks the pool: would it be larger with the credit?
        buys = np.isin(rec[:, K.R_KIND], (K.KIND_TRIGGER, K.KIND_REBALANCE)) & (rec[:, K.R_SIDE] > 0)
        for i in np.flatnonzero(buys & at_or_after & (bars >= c.next_draw_bar)):
            amount = _draw_amount(c, int(i), pool_value, rules)
            if amount > 0.0:
                steps.append(_Step(int(c.calendar_pos[i]), 2, k, int(i), TRANSFER_DRAW, amount))
                break
    return steps


def _apply_step(step, state, pool, targets, pool_weight, rules, calendar) -> list[int]:
    if step.kind == TRANSFER_REALLOCATE:
        pool.last_reallocation = step.t
        return _reallocate(step.t, state, pool, targets, pool_weight, rules, calendar)
    c = state[step.cell]
    i = step.bar
    _, cash, _, _ = c.before_evaluation(i)
    if step.kind == TRANSFER_REPAY:
        c.next_repay_bar = i + 1
        amount = min(c.drawn, max(cash, 0.0))
        if amount <= 0.0:
            return []
        c.add_transfer(i, -amount)
        c.drawn -= amount
        pool.move(step.t, amount)
        _log(pool, calendar, step.t, c.name, TRANSFER_REPAY, -amount)
        _log(pool, calendar, step.t, POOL, TRANSFER_REPAY, amount)
        return [step.cell]
    c.next_draw_bar = i + 1
    amount = step.amount
    c.add_transfer(i, amount)
    c.drawn += amount
    pool.move(step.t, -amount)
    _log(pool, calendar, step.t, c.name, TRANSFER_DRAW, amount)
    _log(pool, calendar, step.t, POOL, TRANSFER_DRAW, -amount)
    return [step.cell]


def _draw_amount(c: _Cell, i: int, pool_value: float, rules: PortfolioRules) -> float:
    """§12.2: what cell ``c`` draws before bar ``i``: the part of its buy its own cash cannot pay, the buy being
    decided by the cell's own rule with the drawn cash counted as the cell's (so its guardrails see it).

    The draw ``d`` solves ``d = cost(cash + d) − cash`` (``cost`` = the rule's order notional plus commission),
    found by iterating down from the headroom ``min(pool, cap − owed)``; 0 when the cell's cash suffices.
    """
    headroom = min(pool_value, rules.pool_cap * rules.initial_capital - c.drawn)
    if headroom <= 0.0:
        return 0.0
    shares, cash, receivable, _ = c.before_evaluation(i)
    rec = c.rec[i]
    p = c.params
    draw = headroom
    for _ in range(DRAW_ITERATIONS):
        dec = K.decide_order(
            c.bars.close[i], shares, cash + draw, receivable, rec[K.R_ANCHOR_EVAL], rec[K.R_TRIGGER_UP],
            rec[K.R_TRIGGER_DOWN], p,
        )
        cost = dec.qty * dec.exec_price + dec.fee if dec.reason == K.REASON_NONE and dec.qty > 0.0 else 0.0
        nxt = min(headroom, max(0.0, cost - cash))
        if abs(nxt - draw) <= DRAW_TOLERANCE * max(1.0, draw):
            draw = nxt
            break
        draw = nxt
    return draw if draw > DRAW_TOLERANCE * max(1.0, cash) else 0.0


def _reallocate(t, state, pool, targets, pool_weight, rules, calendar) -> list[int]:
    """§12.3: bring every cell (and the pool) back to its weight of the portfolio's value before the bar trades.

    A cell above its target gives cash first, then sells shares at the execution price (its commission and
    slippage apply; no minimum order, no daily cap, the anchor stays); the value raised is shared among the cells
    (and the pool) below their targets in proportion to their shortfall, as cash.
    """
    bars = [int(c.carry[t]) for c in state]  # t is a common bar: every cell has a bar exactly there
    before = [c.before_evaluation(i) for c, i in zip(state, bars, strict=True)]
    pool_value = pool.value_at(t)
    total = sum(b[3] for b in before) + pool_value
    excess = [b[3] - w * total for b, w in zip(before, targets, strict=True)]
    pool_excess = pool_value - pool_weight * total
    raised_total = 0.0
    for k, (c, i, b, e) in enumerate(zip(state, bars, before, excess, strict=True)):
        if e <= 0.0:
            continue
        raised = _raise_value(c, i, b, e, calendar[t])
        raised_total += raised
        if raised:
            _log(pool, calendar, t, state[k].name, TRANSFER_REALLOCATE, -raised)
    if rules.cash_pool and pool_excess > 0.0:
        raised_total += pool_excess
        pool.move(t, -pool_excess)
        _log(pool, calendar, t, POOL, TRANSFER_REALLOCATE, -pool_excess)
    shortfalls = [max(0.0, -e) for e in excess]
    pool_shortfall = max(0.0, -pool_excess) if rules.cash_pool else 0.0
    short_total = sum(shortfalls) + pool_shortfall
    if short_total > 0.0 and raised_total > 0.0:
        for c, i, s in zip(state, bars, shortfalls, strict=True):
            if s > 0.0:
                amount = raised_total * s / short_total
                c.add_transfer(i, amount)
                _log(pool, calendar, t, c.name, TRANSFER_REALLOCATE, amount)
        if pool_shortfall > 0.0:
            amount = raised_total * pool_shortfall / short_total
            pool.move(t, amount)
            _log(pool, calendar, t, POOL, TRANSFER_REALLOCATE, amount)
    for c in state:
        c.drawn = 0.0  # the pool is back at its weight: what the cells owed it is settled
    return list(range(len(state)))


def _raise_value(c: _Cell, i: int, before: tuple[float, float, float, float], need: float, ts) -> float:
    """Take ``need`` of value out of cell ``c`` at bar ``i``: its cash first, then a sale of shares whose proceeds
    net of commission cover the rest (fewer when whole shares round down). Returns the value taken out."""
    shares, cash, _, _ = before
    from_cash = min(need, max(cash, 0.0))
    rest = need - from_cash
    p = c.params
    q = fee = 0.0
    px = K.execution_price(c.bars.close[i], K.SIDE_SELL, p)
    if rest > 0.0 and shares > 0.0 and px > 0.0:
        rate, fmin = p[K.P_COMMISSION], p[K.P_COMMISSION_MIN]
        notional = rest / (1.0 - rate) if rate < 1.0 else math.inf
        if rate * notional < fmin:
            notional = rest + fmin
        q = min(notional / px, shares)
        if p[K.P_FRACTIONAL] == 0.0:
            q = float(math.floor(q + 1e-9))
        fee = K.fee_for(q * px, p) if q > 0.0 else 0.0
        if q <= 0.0 or q * px - fee <= 0.0:
            q = fee = 0.0
    raised = from_cash + (q * px - fee)
    if raised <= 0.0:
        return 0.0
    c.add_transfer(i, -from_cash, -q, -raised, fee)  # the sale's proceeds leave with the cash taken
    if q > 0.0:
        c.sales.append(
            {"timestamp": ts, "kind": KIND_REALLOCATE, "side": "SELL", "qty": q, "price": px, "notional": q * px,
             "commission": fee}
        )
    return raised


def _log(pool: _Pool, calendar, t: int, name: str, kind: str, amount: float) -> None:
    pool.log.append({"timestamp": calendar[t], "cell": name, "kind": kind, "amount": amount})


# --- outputs ----------------------------------------------------------------------------------------------------


def _result(cells, rules, calendar, state, pool, pool_weight) -> PortfolioResult:
    results: dict[str, SimulationResult] = {}
    for c in state:
        moved = c.transfers if np.any(c.transfers) else K.NO_TRANSFERS
        # The last re-run recorded exactly these transfers (zero rows record as none), so it is not run again.
        results[c.name] = record_run(c.prices, c.config, c.bars, moved, arrays=c.arrays)
    n = len(calendar)
    values = _carried(state, n, K.R_VALUE)
    stock = _carried(state, n, K.R_SHARES) * _carried_close(state, n)
    cash = _carried(state, n, K.R_CASH)
    receivable = _carried(state, n, K.R_RECEIVABLE)
    pool_series = pool.series()
    total = values.sum(axis=0) + pool_series
    equity = pd.Series(total, index=calendar, name="equity")
    timeline = pd.DataFrame(
        {
            "value": total,
            "stock_value": stock.sum(axis=0),
            "cash": cash.sum(axis=0) + pool_series,
            "pool": pool_series,
            "receivable": receivable.sum(axis=0),
            "exposure": stock.sum(axis=0) / total,
        },
        index=calendar,
    )
    timeline.index.name = "timestamp"
    names = [c.name for c in state]
    cell_values = pd.DataFrame(values.T, index=calendar, columns=names)
    cell_values[POOL] = pool_series
    allocation = cell_values.div(total, axis=0)
    trades = _portfolio_trades(state, results)
    benchmarks = _portfolio_benchmarks(state, results, calendar, pool_series[0], rules)
    tz = cells[0].prices.attrs.get("timezone") or "America/New_York"
    daily = daily_equity(equity, rules.initial_capital, tz)
    first = cells[0].config
    in_band = _all_in_band(state, n)
    realised = pd.concat(
        [realised_pnl(trades[trades["cell"] == c.name]) for c in state], ignore_index=True
    ) if len(trades) else pd.Series(dtype=float)
    cell_bars = pd.concat([r.timeline for r in results.values()], ignore_index=True)
    dividends = pd.concat(
        [r.dividends.assign(cell=name) for name, r in results.items()], ignore_index=True
    )
    metrics = summary_metrics(
        SummaryInputs(
            daily=daily,
            initial_capital=rules.initial_capital,
            risk_free_rate=first.risk_free_rate,
            periods_per_year=first.periods_per_year,
            bars=cell_bars,
            trades=trades,
            realised=realised,
            dividends=dividends,
            mean_value=float(timeline["value"].mean()),
            in_band_share=float(in_band.mean()),
            buy_hold_final=float(benchmarks["equal_weight_buy_and_hold"].iloc[-1]),
            static_mix_final=float(benchmarks["initial_mix"].iloc[-1]),
        )
    )
    transfers = pd.DataFrame(pool.log, columns=["timestamp", "cell", "kind", "amount"])
    moved_in = {c.name: float(c.transfers[:, K.T_VALUE].sum()) for c in state}
    profit = {c.name: float(values[k, -1] - c.capital - moved_in[c.name]) for k, c in enumerate(state)}
    total_profit = float(total[-1] - rules.initial_capital)
    contributions = pd.DataFrame(
        {
            "cell": names,
            "weight": [c.weight for c in cells],
            "start_value": [c.capital for c in state],
            "moved_in": [moved_in[n_] for n_ in names],
            "end_value": values[:, -1],
            "profit": [profit[n_] for n_ in names],
            "share_of_profit": [profit[n_] / total_profit if total_profit else math.nan for n_ in names],
        }
    )
    daily_returns = pd.DataFrame({name: r.daily_equity.groupby(level=0).last() for name, r in results.items()})
    correlation = daily_returns.pct_change().iloc[1:].corr()
    return PortfolioResult(
        rules=rules,
        weights={c.name: c.weight for c in cells} | ({POOL: pool_weight} if rules.cash_pool else {}),
        trades=trades,
        timeline=timeline,
        events=_portfolio_events(results, pool.log),
        dividends=dividends,
        equity=equity,
        benchmarks=benchmarks,
        metrics=metrics,
        daily_equity=daily,
        cells=results,
        cell_values=cell_values,
        allocation=allocation,
        transfers=transfers,
        contributions=contributions,
        correlation=correlation,
    )


def _carried_close(state: list[_Cell], n: int) -> np.ndarray:
    out = np.zeros((len(state), n))
    for k, c in enumerate(state):
        idx = c.carry
        out[k] = np.where(idx >= 0, c.bars.close[np.maximum(idx, 0)], 0.0)
    return out


def _all_in_band(state: list[_Cell], n: int) -> np.ndarray:
    """Whether every cell's stock share is inside its guardrails at each calendar position (carried)."""
    ok = np.ones(n, dtype=bool)
    share = _carried(state, n, K.R_STOCK_SHARE)
    for k, c in enumerate(state):
        ok &= inside_guardrails(share[k], c.config)
    return ok


def _portfolio_trades(state: list[_Cell], results: dict[str, SimulationResult]) -> pd.DataFrame:
    frames = []
    for c in state:
        own = results[c.name].trades.assign(cell=c.name)
        if c.sales:
            extra = pd.DataFrame(c.sales).assign(cell=c.name)
            own = pd.concat([own, extra], ignore_index=True)
        frames.append(own)
    trades = pd.concat(frames, ignore_index=True)
    trades = trades.sort_values("timestamp", kind="stable").reset_index(drop=True)
    return trades[["cell", *[col for col in trades.columns if col != "cell"]]]


def _portfolio_benchmarks(state, results, calendar, pool_start, rules) -> pd.DataFrame:
    """Equal-weight buy-and-hold (capital split evenly, all in stock at the first bar) and the initial mix (each
    cell's first-bar holdings, never traded, plus the pool's starting cash), on the aligned calendar (§12.6)."""
    n = len(calendar)
    equal = np.zeros(n)
    mix = np.full(n, pool_start)
    share = rules.initial_capital / len(state)
    for c in state:
        # Which bar booked each dividend depends on the dates only: the cell's own recording serves.
        p = params_row(c.config.replace(initial_capital=share))
        bh = benchmark_values(c.bars, c.arrays.div_rec, p, c.prices.index)["buy_and_hold"].to_numpy()
        own = results[c.name].benchmarks["static_mix"].to_numpy()
        idx = c.carry
        equal += np.where(idx >= 0, bh[np.maximum(idx, 0)], share)
        mix += np.where(idx >= 0, own[np.maximum(idx, 0)], c.capital)
    return pd.DataFrame({"equal_weight_buy_and_hold": equal, "initial_mix": mix}, index=calendar)


def _portfolio_events(results: dict[str, SimulationResult], log: list[dict]) -> pd.DataFrame:
    frames = [r.events_frame().assign(cell=name) for name, r in results.items()]
    if log:
        moves = pd.DataFrame(log)
        frames.append(
            pd.DataFrame(
                {
                    "timestamp": moves["timestamp"],
                    "bar": -1,
                    "type": "portfolio_" + moves["kind"],
                    "message": [
                        f"{kind}: {amount:+,.2f} {'into' if amount >= 0 else 'out of'} {cell}"
                        for kind, amount, cell in zip(moves["kind"], moves["amount"], moves["cell"], strict=True)
                    ],
                    "inputs": [{} for _ in range(len(moves))],
                    "outputs": [{"amount": a} for a in moves["amount"]],
                    "cell": moves["cell"],
                }
            )
        )
    events = pd.concat(frames, ignore_index=True)
    return events.sort_values("timestamp", kind="stable").reset_index(drop=True)
