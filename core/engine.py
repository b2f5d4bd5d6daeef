"""``simulate`` and ``simulate_many`` (docs/strategy.md §6): the public entry points of the backtester.

Both run the rules in :mod:`core.kernel`. ``simulate`` records every bar and builds the trades, timeline, events,
dividends, equity, benchmarks and metrics; its metrics come from :mod:`core.metrics` (pure functions over the
recorded series). ``simulate_many`` is the fast path for sweeps: the kernel's streaming metrics, configurations in
parallel. The two are held to 1e-9 agreement by the differential tests.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numba
import numpy as np
import pandas as pd

from core import kernel as K
from core.bars import BarArrays, prepare_bars
from core.config import StrategyConfig
from core.config_registry import CONFIG_FIELDS
from core.errors import ConfigError
from core.metrics import (
    daily_equity,
    performance_metrics,
    profit_factor,
    realised_pnl,
    time_weighted_daily,
    total_return,
    win_rate,
)
from core.validation import validate_dividends, validate_prices

ENGINE_VERSION = "1.0.1"  # 1.0.1: benchmarks no longer receive a dividend dated after the last bar; R never below 0
METRIC_NAMES: tuple[str, ...] = K.METRIC_NAMES

ACTIONS = {K.ACTION_HOLD: "HOLD", K.ACTION_BUY: "BUY", K.ACTION_SELL: "SELL", K.ACTION_SKIP: "SKIP"}
KINDS = {K.KIND_NONE: "", K.KIND_INITIAL: "initial", K.KIND_TRIGGER: "trigger", K.KIND_REBALANCE: "rebalance"}
REASONS = {
    K.REASON_NONE: "",
    K.REASON_BELOW_MIN: "below minimum",
    K.REASON_GUARDRAIL: "blocked by guardrail",
    K.REASON_NO_CASH: "no cash",
    K.REASON_NO_SHARES: "no shares",
    K.REASON_ROUNDED: "rounded to zero shares",
    K.REASON_ZERO_SIZE: "sizing gave no order",
}
STATUSES = {
    K.STATUS_EVALUATED: "evaluated",
    K.STATUS_AFTER_HOURS: "after_hours",
    K.STATUS_DAILY_CAP: "daily_cap",
    K.STATUS_FIRST_BAR: "first_bar",
}


class EventType(StrEnum):
    """The kinds of :class:`Event` (docs/strategy.md §6)."""

    THRESHOLD_CROSSED = "threshold_crossed"
    ORDER_TRIMMED_GUARDRAIL = "order_trimmed_guardrail"
    ORDER_REJECTED_MIN = "order_rejected_min"
    ORDER_BLOCKED = "order_blocked"
    ORDER_FILLED = "order_filled"
    ANCHOR_UPDATED = "anchor_updated"
    AUTO_GUARDRAIL_REBALANCE = "auto_guardrail_rebalance"
    DAILY_CAP_REACHED = "daily_cap_reached"
    EX_DIV_EFFECTIVE = "ex_div_effective"
    ANCHOR_ADJUSTED_FOR_DIVIDEND = "anchor_adjusted_for_dividend"
    DIVIDEND_CASH_RECEIVED = "dividend_cash_received"


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened at one bar, with the inputs it was decided on and what came out of it."""

    timestamp: pd.Timestamp
    bar: int
    type: EventType
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any]
    message: str

    def __hash__(self) -> int:
        return hash((self.timestamp, self.bar, self.type, self.message))


@dataclass(eq=False)
class SimulationResult:
    """Everything one backtest produced (docs/strategy.md §6). Frames are indexed by bar timestamp unless stated."""

    config: StrategyConfig
    trades: pd.DataFrame
    timeline: pd.DataFrame
    events: list[Event]
    dividends: pd.DataFrame
    equity: pd.Series
    benchmarks: pd.DataFrame
    metrics: dict[str, float]
    daily_equity: pd.Series = field(repr=False)
    engine_version: str = ENGINE_VERSION

    def events_frame(self) -> pd.DataFrame:
        """The events as a frame: timestamp, bar, type, message, inputs, outputs."""
        return pd.DataFrame(
            {
                "timestamp": [e.timestamp for e in self.events],
                "bar": [e.bar for e in self.events],
                "type": [str(e.type) for e in self.events],
                "message": [e.message for e in self.events],
                "inputs": [dict(e.inputs) for e in self.events],
                "outputs": [dict(e.outputs) for e in self.events],
            }
        )


# --- configuration → kernel parameters ------------------------------------------------------------------------


_FIELD_VALUES = operator.attrgetter(*(f.name for f in CONFIG_FIELDS))
_CHOICE_SLOTS = tuple((slot, f.choices) for slot, f in enumerate(CONFIG_FIELDS) if f.kind == "choice")


def params_row(config: StrategyConfig) -> np.ndarray:
    """The kernel's float64 parameter vector for one configuration (slot = the field's place in the registry).

    The encoding is :meth:`ConfigField.to_kernel`'s, done in bulk because ``simulate_many`` pays it per
    configuration: numpy already turns booleans into 1/0 and ``None`` into NaN, so only a choice needs its index.
    """
    values = list(_FIELD_VALUES(config))
    for slot, choices in _CHOICE_SLOTS:
        values[slot] = choices.index(values[slot])
    return np.array(values, dtype=np.float64)


def params_matrix(configs: Iterable[StrategyConfig]) -> np.ndarray:
    """Stack ``params_row`` of each configuration into a C-contiguous matrix."""
    rows = [params_row(c) for c in configs]
    if not rows:
        return np.empty((0, K.N_PARAMS))
    return np.ascontiguousarray(np.vstack(rows))


def _as_config(config: StrategyConfig | Mapping[str, Any]) -> StrategyConfig:
    if isinstance(config, StrategyConfig):
        return config
    if isinstance(config, Mapping):
        return StrategyConfig.from_dict(dict(config))
    raise ConfigError(f"expected a StrategyConfig or a dict, got {type(config).__name__}")


def prepare(prices: pd.DataFrame, dividends: pd.DataFrame | None = None) -> BarArrays:
    """Validate the data (docs/strategy.md §2; unsorted input is refused) and build the kernel's arrays once.

    Reuse the result with :func:`run_params` to evaluate many configurations on the same data.
    """
    validate_prices(prices, "prices", require_sorted=True)
    if dividends is not None and len(dividends):
        validate_dividends(dividends, "dividends")
    return prepare_bars(prices, dividends)


NO_VOLATILITY = np.empty(0)
"""The ``sigma`` argument of ``core.kernel.run_one`` for fixed thresholds (never read)."""


def volatility_inputs(close: np.ndarray, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The per-bar volatility series the vol_scaled rows of ``params`` read (docs/strategy.md §5.4a).

    Returns ``(sigma, sigma_row)``: one ``core.kernel.volatility_series`` per distinct (``vol_window_bars``,
    ``periods_per_year``) pair among the vol_scaled rows, and each row's index into them (-1 for a fixed row).
    A sweep pays for each window once, not once per configuration.
    """
    sigma_row = np.full(params.shape[0], -1, dtype=np.int64)
    scaled = params[:, K.P_THRESHOLD_MODE] == K.THRESHOLD_VOL_SCALED
    if not scaled.any():
        return np.empty((0, close.shape[0])), sigma_row
    keys, inverse = np.unique(params[scaled][:, [K.P_VOL_WINDOW, K.P_PERIODS]], axis=0, return_inverse=True)
    sigma = np.empty((keys.shape[0], close.shape[0]))
    for r, (window, periods) in enumerate(keys.tolist()):
        sigma[r] = K.volatility_series(close, int(window), float(periods))
    sigma_row[scaled] = inverse.ravel()
    return sigma, sigma_row


def volatility_for(close: np.ndarray, p: np.ndarray) -> np.ndarray:
    """The ``sigma`` argument of ``core.kernel.run_one`` for one parameter row."""
    sigma, sigma_row = volatility_inputs(close, p[None, :])
    return sigma[0] if sigma_row[0] >= 0 else NO_VOLATILITY


def run_params(bars: BarArrays, params: np.ndarray, n_threads: int | None = None) -> np.ndarray:
    """Metric matrix (rows × ``METRIC_NAMES``) for a parameter matrix on prepared bars: the raw fast path."""
    params = np.ascontiguousarray(params, dtype=np.float64)
    if params.ndim != 2 or params.shape[1] != K.N_PARAMS:
        raise ConfigError(f"parameter matrix must have shape (n, {K.N_PARAMS}), got {params.shape}")
    if params.shape[0] == 0:
        return np.empty((0, K.N_METRICS))
    sigma, sigma_row = volatility_inputs(bars.close, params)
    previous = numba.get_num_threads()
    if n_threads is not None:
        numba.set_num_threads(max(1, min(int(n_threads), numba.config.NUMBA_NUM_THREADS)))
    try:
        return K.run_many(
            bars.close, bars.day, bars.in_session, bars.div_ex_day, bars.div_amount, bars.div_pay_day, params,
            sigma, sigma_row, bars.n_days,
        )
    finally:
        numba.set_num_threads(previous)


def simulate_many(
    prices: pd.DataFrame,
    configs: Sequence[StrategyConfig | Mapping[str, Any]],
    dividends: pd.DataFrame | None = None,
    *,
    n_threads: int | None = None,
) -> pd.DataFrame:
    """Run many configurations on the same data; one row per configuration with every parameter and metric.

    Metrics equal :func:`simulate`'s to 1e-9 relative. ``n_threads`` limits the Numba threads for this call.
    """
    cfgs = [_as_config(c) for c in configs]
    bars = prepare(prices, dividends)
    values = run_params(bars, params_matrix(cfgs), n_threads)
    params = pd.DataFrame([c.to_dict() for c in cfgs], columns=list(StrategyConfig.__dataclass_fields__))
    metrics = pd.DataFrame(values, columns=list(METRIC_NAMES))
    return pd.concat([params, metrics], axis=1)


# --- the recording path ---------------------------------------------------------------------------------------


def simulate(
    prices: pd.DataFrame,
    config: StrategyConfig | Mapping[str, Any] | None = None,
    dividends: pd.DataFrame | None = None,
) -> SimulationResult:
    """Backtest one configuration bar by bar (docs/strategy.md §5) and return every output of docs/strategy.md §6.

    ``prices``: strictly increasing ``DatetimeIndex`` and a ``close`` column (split-adjusted, not
    dividend-adjusted); ``dividends``: ``ex_date``, ``amount`` and optional ``pay_date``. Raises ``DataError`` for
    bad data and ``ConfigError`` for a bad configuration.
    """
    cfg = _as_config(config if config is not None else StrategyConfig())
    return record_run(prices, cfg, prepare(prices, dividends))


def record_run(
    prices: pd.DataFrame,
    cfg: StrategyConfig,
    bars: BarArrays,
    transfers: np.ndarray = K.NO_TRANSFERS,
    arrays: RecordedArrays | None = None,
) -> SimulationResult:
    """The recording path of :func:`simulate` on prepared bars; ``transfers`` (bars × ``core.kernel.N_TRANSFER``)
    are a portfolio's transfers into this cell (docs/strategy.md §12.3), none by default. ``arrays`` is the
    kernel's recording of exactly this run when the caller already has it (a portfolio's last re-run).

    With transfers the equity is the cell's value (money moved in included) and the daily series behind the
    metrics is time-weighted: each day's return leaves out the value moved in that day.
    """
    arrays = arrays if arrays is not None else record_arrays(cfg, bars, transfers)
    rec, div_rec, p = arrays.rec, arrays.div_rec, arrays.params
    index = prices.index
    timeline = _timeline(index, bars, rec, cfg)
    trades = _trades(timeline)
    dividends_out = _dividends(bars, div_rec, index)
    equity = pd.Series(rec[:, K.R_VALUE], index=index, name="equity")
    benchmarks = benchmark_values(bars, div_rec, p, index)
    tz = prices.attrs.get("timezone") or "America/New_York"
    if transfers.shape[0]:
        moved = pd.Series(transfers[:, K.T_VALUE], index=index)
        daily = time_weighted_daily(equity, moved, cfg.initial_capital, tz)
    else:
        daily = daily_equity(equity, cfg.initial_capital, tz)
    metrics = _metrics(cfg, timeline, trades, dividends_out, daily, benchmarks)
    events = _events(index, rec, div_rec, bars, cfg, timeline["reason"].to_numpy())
    return SimulationResult(
        config=cfg,
        trades=trades,
        timeline=timeline,
        events=events,
        dividends=dividends_out,
        equity=equity,
        benchmarks=benchmarks,
        metrics=metrics,
        daily_equity=daily,
    )


@dataclass(frozen=True)
class RecordedArrays:
    """The kernel's raw recording of one run: per-bar ``rec`` (``core.kernel.R_*`` columns), per-dividend
    ``div_rec`` (``D_*``) and the parameter row it ran on."""

    rec: np.ndarray
    div_rec: np.ndarray
    params: np.ndarray


def record_arrays(cfg: StrategyConfig, bars: BarArrays, transfers: np.ndarray = K.NO_TRANSFERS) -> RecordedArrays:
    """Run the kernel's recording path and return its arrays only (no frames, no reason texts): what a portfolio
    re-runs after each transfer it decides (docs/strategy.md §12.4)."""
    p = params_row(cfg)
    n = bars.close.shape[0]
    rec = np.zeros((n, K.N_RECORD))
    div_rec = np.zeros((len(bars.div_amount), K.N_DIV_RECORD))
    # "Never booked" until the kernel books a dividend: one dated after the last bar is never reached by the kernel's
    # loop, and a zero here would read as "booked on bar 0" (and give the benchmarks a dividend they never had).
    div_rec[:, K.D_BAR] = -1.0
    div_rec[:, K.D_PAID_BAR] = -1.0
    K.run_cell(
        bars.close, bars.day, bars.in_session, bars.div_ex_day, bars.div_amount, bars.div_pay_day, p,
        volatility_for(bars.close, p), bars.n_days, rec, div_rec, transfers,
    )
    return RecordedArrays(rec, div_rec, p)


def _timeline(index: pd.DatetimeIndex, bars: BarArrays, rec: np.ndarray, cfg: StrategyConfig) -> pd.DataFrame:
    action = rec[:, K.R_ACTION].astype(np.int64)
    kind = rec[:, K.R_KIND].astype(np.int64)
    reason_code = rec[:, K.R_REASON].astype(np.int64)
    flags = rec[:, K.R_FLAGS].astype(np.int64)
    anchor = rec[:, K.R_ANCHOR_EVAL]
    up, down = rec[:, K.R_TRIGGER_UP], rec[:, K.R_TRIGGER_DOWN]
    sell_at, buy_at = K.trigger_prices(anchor, up, down)  # as shown: no tolerance (docs/strategy.md §5.4)
    tl = pd.DataFrame(
        {
            "price": bars.close,
            "anchor": anchor,
            "anchor_after": rec[:, K.R_ANCHOR_AFTER],
            "sell_trigger_price": sell_at,
            "buy_trigger_price": buy_at,
            "shares": rec[:, K.R_SHARES],
            "cash": rec[:, K.R_CASH],
            "receivable": rec[:, K.R_RECEIVABLE],
            "value": rec[:, K.R_VALUE],
            "stock_share": rec[:, K.R_STOCK_SHARE],
            "pre_trade_stock_share": rec[:, K.R_PRE_STOCK_SHARE],
            "action": pd.Categorical.from_codes(action, list(ACTIONS.values())),
            "kind": np.array(list(KINDS.values()), dtype=object)[kind],
            "side": np.where(rec[:, K.R_SIDE] > 0, "BUY", np.where(rec[:, K.R_SIDE] < 0, "SELL", "")),
            "trigger": np.where(rec[:, K.R_TRIGGER] > 0, "BUY", np.where(rec[:, K.R_TRIGGER] < 0, "SELL", "")),
            "raw_qty": rec[:, K.R_RAW_QTY],
            "qty": rec[:, K.R_QTY],
            "exec_price": rec[:, K.R_EXEC_PRICE],
            "notional": rec[:, K.R_NOTIONAL],
            "commission": rec[:, K.R_FEE],
            "skip_reason": np.array(list(REASONS.values()), dtype=object)[reason_code],
            "trimmed": (flags & K.FLAG_TRIMMED) != 0,
            "limit_flags": flags,
            "status": np.array(list(STATUSES.values()), dtype=object)[rec[:, K.R_STATUS].astype(np.int64)],
            "guardrail_bound": rec[:, K.R_BOUND],
            "dividend_gross": rec[:, K.R_DIV_GROSS],
            "dividend_net": rec[:, K.R_DIV_NET],
            "dividend_withholding": rec[:, K.R_DIV_WITHHOLDING],
            "dividend_cash": rec[:, K.R_DIV_CASH],
            "orders_today": rec[:, K.R_ORDERS_TODAY].astype(np.int64),
            "trigger_up_in_force": up,
            "trigger_down_in_force": down,
            "window_volatility": rec[:, K.R_VOLATILITY],
        },
        index=index,
    )
    tl.index.name = "timestamp"
    tl["reason"] = _reasons(tl, cfg)
    return tl


def _trades(tl: pd.DataFrame) -> pd.DataFrame:
    done = tl[(tl["action"] == "BUY") | (tl["action"] == "SELL")]
    trades = pd.DataFrame(
        {
            "timestamp": done.index,
            "kind": done["kind"].to_numpy(),
            "side": done["action"].astype(str).to_numpy(),
            "qty": np.abs(done["qty"].to_numpy()),
            "price": done["exec_price"].to_numpy(),
            "notional": done["notional"].to_numpy(),
            "commission": done["commission"].to_numpy(),
            "anchor_before": done["anchor"].to_numpy(),
            "anchor_after": done["anchor_after"].to_numpy(),
            "shares_after": done["shares"].to_numpy(),
            "cash_after": done["cash"].to_numpy(),
            "stock_share_after": done["stock_share"].to_numpy(),
            "reason": done["reason"].to_numpy(),
        }
    )
    return trades


def _dividends(bars: BarArrays, div_rec: np.ndarray, index: pd.DatetimeIndex) -> pd.DataFrame:
    cols = ["ex_date", "pay_date", "amount", "shares", "gross", "withholding", "net", "paid", "paid_at"]
    if div_rec.shape[0] == 0:
        return pd.DataFrame({c: [] for c in cols})
    done = div_rec[:, K.D_BAR] >= 0
    sel = np.flatnonzero(done)
    src = bars.dividends.iloc[sel]
    pay_days = div_rec[sel, K.D_PAY_DAY].astype(np.int64)
    paid_bar = div_rec[sel, K.D_PAID_BAR].astype(np.int64)
    return pd.DataFrame(
        {
            "ex_date": src["ex_date"].to_numpy(),
            "pay_date": pd.to_datetime(pay_days, unit="D"),
            "amount": src["amount"].to_numpy(),
            "shares": div_rec[sel, K.D_SHARES],
            "gross": div_rec[sel, K.D_GROSS],
            "withholding": div_rec[sel, K.D_WITHHOLDING],
            "net": div_rec[sel, K.D_NET],
            "paid": paid_bar >= 0,
            "paid_at": [index[b] if b >= 0 else pd.NaT for b in paid_bar],
        }
    )


def benchmark_values(bars: BarArrays, div_rec: np.ndarray, p: np.ndarray, index: pd.DatetimeIndex) -> pd.DataFrame:
    """Buy-and-hold and static-mix equity; dividends count in value from the ex-date (receivable, then cash)."""
    n = bars.close.shape[0]
    per_share = np.zeros(n)
    if div_rec.shape[0]:
        done = div_rec[:, K.D_BAR] >= 0
        np.add.at(per_share, div_rec[done, K.D_BAR].astype(np.int64), bars.div_amount[done])
    cum = np.cumsum(per_share) * (1.0 - p[K.P_TAX])
    capital = p[K.P_CAPITAL]
    price0 = bars.close[0]
    bh_s, bh_c, _ = K.initial_order(capital, 1.0, price0, p)
    mix_s, mix_c, _ = K.initial_order(capital, p[K.P_INIT_SHARE], price0, p)
    return pd.DataFrame(
        {
            "buy_and_hold": bh_s * bars.close + bh_c + bh_s * cum,
            "static_mix": mix_s * bars.close + mix_c + mix_s * cum,
        },
        index=index,
    )


def _metrics(
    cfg: StrategyConfig,
    tl: pd.DataFrame,
    trades: pd.DataFrame,
    divs: pd.DataFrame,
    daily: pd.Series,
    benchmarks: pd.DataFrame,
) -> dict[str, float]:
    in_band = inside_guardrails(tl["stock_share"].to_numpy(), cfg)
    return summary_metrics(
        SummaryInputs(
            daily=daily,
            initial_capital=cfg.initial_capital,
            risk_free_rate=cfg.risk_free_rate,
            periods_per_year=cfg.periods_per_year,
            bars=tl,
            trades=trades,
            realised=realised_pnl(trades),
            dividends=divs,
            mean_value=float(tl["value"].mean()),
            in_band_share=float(in_band.mean()),
            buy_hold_final=float(benchmarks["buy_and_hold"].iloc[-1]),
            static_mix_final=float(benchmarks["static_mix"].iloc[-1]),
        )
    )


def inside_guardrails(stock_share: np.ndarray, cfg: StrategyConfig) -> np.ndarray:
    """Whether each stock share is inside ``[guardrail_min, guardrail_max]`` within the kernel's ``BAND_TOLERANCE``
    (``core.kernel.in_band``, vectorised), for the time-in-band metric."""
    return (stock_share >= cfg.guardrail_min - K.BAND_TOLERANCE) & (stock_share <= cfg.guardrail_max + K.BAND_TOLERANCE)


@dataclass(frozen=True)
class SummaryInputs:
    """What the metrics of docs/strategy.md §7 are computed from, for one account or a portfolio (§12.6).

    ``bars`` has the timeline's ``action``, ``kind``, ``skip_reason`` and ``trimmed`` columns (a portfolio passes
    every cell's bars); ``trades`` the trades (``kind``, ``side``, ``notional``, ``commission``); ``realised`` the
    realised P&L of each sell; ``mean_value`` the mean account value over the bars; ``in_band_share`` the share of
    bars inside the guardrails; ``buy_hold_final``/``static_mix_final`` the benchmarks' last values.
    """

    daily: pd.Series
    initial_capital: float
    risk_free_rate: float
    periods_per_year: int
    bars: pd.DataFrame
    trades: pd.DataFrame
    realised: pd.Series
    dividends: pd.DataFrame
    mean_value: float
    in_band_share: float
    buy_hold_final: float
    static_mix_final: float


def summary_metrics(x: SummaryInputs) -> dict[str, float]:
    """Every metric of ``METRIC_NAMES`` (docs/strategy.md §7) from :class:`SummaryInputs`."""
    m = performance_metrics(x.daily, x.initial_capital, x.risk_free_rate, x.periods_per_year)
    trades = x.trades
    traded = trades[trades["kind"] != "initial"]
    n_days = len(x.daily) - 1
    years = n_days / x.periods_per_year
    action = x.bars["action"]
    evaluated = x.bars["kind"].isin(["trigger", "rebalance"])
    skipped = action == "SKIP"
    divs = x.dividends
    bh = total_return(x.buy_hold_final, x.initial_capital)
    mix = total_return(x.static_mix_final, x.initial_capital)
    m.update(
        {
            "n_trades": float(len(traded)),
            "n_buys": float((traded["side"] == "BUY").sum()),
            "n_sells": float((traded["side"] == "SELL").sum()),
            "n_rebalances": float((traded["kind"] == "rebalance").sum()),
            "total_commission": float(trades["commission"].sum()),
            "turnover": float(traded["notional"].sum() / x.mean_value / years),
            "dividends_gross": float(divs["gross"].sum()) if len(divs) else 0.0,
            "dividends_net": float(divs["net"].sum()) if len(divs) else 0.0,
            "withholding_tax": float(divs["withholding"].sum()) if len(divs) else 0.0,
            "time_in_band_share": x.in_band_share,
            "n_skipped_min_notional": float((skipped & (x.bars["skip_reason"] == "below minimum")).sum()),
            "n_trimmed": float((evaluated & x.bars["trimmed"]).sum()),
            "n_blocked": float((skipped & (x.bars["skip_reason"] != "below minimum")).sum()),
            "win_rate": win_rate(x.realised),
            "profit_factor": profit_factor(x.realised),
            "buy_hold_return": bh,
            "static_mix_return": mix,
            "excess_return_vs_buy_hold": m["total_return"] - bh,
            "excess_return_vs_static_mix": m["total_return"] - mix,
        }
    )
    return {name: float(m[name]) for name in METRIC_NAMES}


# --- plain-language reasons and events ------------------------------------------------------------------------------


def _pct(x: float) -> str:
    return f"{x * 100:.2f} %"


def _distance_text(price: float, anchor: float) -> str:
    if not anchor > 0:
        return f"Price {price:.2f} (anchor {anchor:.2f})"
    move = price / anchor - 1.0
    where = "above" if move >= 0 else "below"
    return f"Price {price:.2f} is {_pct(abs(move))} {where} anchor {anchor:.2f}"


def warmup_text(cfg: StrategyConfig) -> str:
    """Why a vol_scaled trigger is the configuration's own at a bar with no window volatility (§5.4a)."""
    return f"fixed during the {cfg.vol_window_bars}-bar volatility warm-up"


def trigger_basis(trigger: float, base: float, sigma: float, cfg: StrategyConfig, why_fixed: str | None = None) -> str:
    """Why ``trigger`` is the trigger in force (docs/strategy.md §5.4a), from the configured ``base`` trigger and the
    window volatility ``sigma``: ``""`` in fixed mode; in vol_scaled mode e.g. ``"vol-scaled: σ 20-bar 25.20 % /
    reference 30.00 % × 3.00 %"``, naming a clamp that bound, or why it stayed fixed (``why_fixed``, by default the
    warm-up)."""
    if cfg.threshold_mode != "vol_scaled":
        return ""
    if math.isnan(sigma):
        return why_fixed or warmup_text(cfg)
    text = (f"vol-scaled: σ {cfg.vol_window_bars}-bar {_pct(sigma)} / reference {_pct(cfg.vol_reference)} × "
            f"{_pct(base)}")
    scaled = base * (sigma / cfg.vol_reference)  # the kernel's arithmetic, so a clamp is named exactly when it bound
    if scaled < trigger:
        text += f" = {_pct(scaled)}, raised to the {_pct(cfg.trigger_min)} floor"
    elif scaled > trigger:
        text += f" = {_pct(scaled)}, cut to the {_pct(cfg.trigger_max)} cap"
    return text


def _limit_text(flags: int, qty: float, cfg: StrategyConfig) -> str:
    parts = []
    if flags & K.FLAG_CAP_SHARES:
        parts.append(f"limited to the {qty:.2f} sh held")
    if flags & K.FLAG_CAP_CASH:
        parts.append("limited by the cash available")
    if flags & K.FLAG_CAP_MAX_TRADE and cfg.max_trade_share is not None:
        parts.append(f"capped at {cfg.max_trade_share * 100:.1f} % of the account")
    if flags & K.FLAG_ROUNDED:
        parts.append("rounded down to whole shares")
    return ", ".join(parts)


def _reasons(tl: pd.DataFrame, cfg: StrategyConfig, why_fixed: str | None = None) -> np.ndarray:
    out = np.empty(len(tl), dtype=object)
    # Python lists: formatting numpy scalars one by one is several times slower.
    price = tl["price"].tolist()
    anchor = tl["anchor"].tolist()
    status = tl["status"].tolist()
    kind = tl["kind"].tolist()
    action = tl["action"].astype(str).tolist()
    side = tl["side"].tolist()
    raw = tl["raw_qty"].tolist()
    qty = tl["qty"].tolist()
    px = tl["exec_price"].tolist()
    flags = tl["limit_flags"].tolist()
    skip = tl["skip_reason"].tolist()
    bound = tl["guardrail_bound"].tolist()
    pre = tl["pre_trade_stock_share"].tolist()
    sell_at = tl["sell_trigger_price"].tolist()
    buy_at = tl["buy_trigger_price"].tolist()
    gross = tl["dividend_gross"].tolist()
    cash_in = tl["dividend_cash"].tolist()
    up = _pct(cfg.trigger_up)
    down = _pct(cfg.trigger_down)
    scaled = cfg.threshold_mode == "vol_scaled"
    if scaled:
        up_now = tl["trigger_up_in_force"].tolist()
        down_now = tl["trigger_down_in_force"].tolist()
        sigma = tl["window_volatility"].tolist()
    band = f"{cfg.guardrail_min * 100:.1f}–{cfg.guardrail_max * 100:.1f} %"
    for i in range(len(tl)):
        st = status[i]
        if st == "first_bar":
            if action[i] == "BUY":
                text = (
                    f"Initial purchase of {qty[i]:.2f} sh at {price[i]:.2f} "
                    f"({cfg.initial_stock_share * 100:.1f} % of capital); anchor set to {price[i]:.2f}"
                )
            else:
                text = f"Start with cash only; anchor set to {price[i]:.2f}"
        elif st == "after_hours":
            text = "Outside regular trading hours (09:30–16:00 Mon–Fri): marked to market only"
        elif st == "daily_cap":
            text = f"Daily cap of {cfg.max_orders_per_day} orders reached: marked to market only"
        elif kind[i] == "":
            a = anchor[i]
            if a > 0:
                move = price[i] / a - 1.0
                text = (
                    f"Price {price[i]:.2f} is {abs(move) * 100:.2f} % {'above' if move >= 0 else 'below'} anchor "
                    f"{a:.2f}; no trigger (sell at {sell_at[i]:.2f}, buy at {buy_at[i]:.2f})"
                )
            else:
                text = f"{_distance_text(price[i], a)}; no trigger"
        else:
            verb = "buy" if side[i] == "BUY" else "sell"
            if kind[i] == "trigger":
                trig = up if side[i] == "SELL" else down
                if scaled:
                    sell = side[i] == "SELL"
                    now = up_now[i] if sell else down_now[i]
                    why = trigger_basis(now, cfg.trigger_up if sell else cfg.trigger_down, sigma[i], cfg, why_fixed)
                    trig = f"{_pct(now)}, {why}"
                head = f"{_distance_text(price[i], anchor[i])} (trigger {trig}): "
            else:
                head = f"Stock at {pre[i] * 100:.1f} % is outside the {band} guardrails: rebalance, "
            if skip[i] in ("blocked by guardrail",):
                g = bound[i]
                text = (
                    f"{head}{verb} blocked: stock is already {pre[i] * 100:.1f} % of the account, "
                    f"beyond the {g * 100:.1f} % guardrail"
                )
            elif skip[i] in ("no cash", "no shares", "sizing gave no order", "rounded to zero shares"):
                text = f"{head}{verb} {abs(raw[i]):.2f} sh not possible: {skip[i]}"
            else:
                text = f"{head}{verb} {abs(raw[i]):.2f} sh"
                if kind[i] == "rebalance":
                    text += f" to bring stock to {bound[i] * 100:.1f} %"
                elif flags[i] & K.FLAG_TRIMMED:
                    text += f", trimmed to {abs(qty[i]):.2f} sh to keep stock at {bound[i] * 100:.1f} %"
                limits = _limit_text(flags[i] & ~K.FLAG_TRIMMED, abs(qty[i]), cfg)
                if limits:
                    text += f", {limits} → {abs(qty[i]):.2f} sh"
                if skip[i] == "below minimum":
                    text += (
                        f"; skipped: {abs(qty[i]) * px[i]:.2f} is below the minimum order of "
                        f"{cfg.min_notional:.2f}; anchor stays {anchor[i]:.2f}"
                    )
                else:
                    text += f" at {px[i]:.2f}"
        if gross[i] > 0 or cash_in[i] > 0:
            extra = []
            if gross[i] > 0:
                extra.append(f"ex-dividend: {gross[i]:.2f} gross booked as receivable, anchor lowered")
            if cash_in[i] > 0:
                extra.append(f"dividend cash {cash_in[i]:.2f} received")
            text += " [" + "; ".join(extra) + "]"
        out[i] = text
    return out


def _events(
    index: pd.DatetimeIndex,
    rec: np.ndarray,
    div_rec: np.ndarray,
    bars: BarArrays,
    cfg: StrategyConfig,
    reasons: np.ndarray,
) -> list[Event]:
    events: list[Event] = []
    add = events.append
    # Dividends first within a bar: they happen before evaluation (step 1).
    div_by_bar: dict[int, list[int]] = {}
    paid_by_bar: dict[int, list[int]] = {}
    for j in range(div_rec.shape[0]):
        b = int(div_rec[j, K.D_BAR])
        if b >= 0:
            div_by_bar.setdefault(b, []).append(j)
        pb = int(div_rec[j, K.D_PAID_BAR])
        if b >= 0 and pb >= 0:
            paid_by_bar.setdefault(pb, []).append(j)
    notable = np.flatnonzero(
        (rec[:, K.R_KIND] != K.KIND_NONE) | (rec[:, K.R_STATUS] == K.STATUS_DAILY_CAP)
    ).tolist()
    bars_to_visit = sorted(set(notable) | set(div_by_bar) | set(paid_by_bar))
    visit = np.asarray(bars_to_visit, dtype=np.int64)
    stamps = index[visit].tolist()
    rows = rec[visit].tolist()  # plain floats: indexing numpy scalars per field is the slow part here
    prev_rows = rec[np.maximum(visit - 1, 0)].tolist()
    closes = bars.close[visit].tolist()
    div_rows = div_rec.tolist()
    amounts = bars.div_amount.tolist()
    last_cap_day = None
    for pos, i in enumerate(bars_to_visit):
        ts = stamps[pos]
        row = rows[pos]
        anchor = row[K.R_ANCHOR_EVAL] + sum(amounts[j] for j in div_by_bar.get(i, []))
        for j in div_by_bar.get(i, []):
            amount = amounts[j]
            d = div_rows[j]
            add(
                Event(
                    ts, i, EventType.EX_DIV_EFFECTIVE,
                    {"amount_per_share": amount, "shares": d[K.D_SHARES], "tax_rate": cfg.withholding_tax_rate},
                    {"gross": d[K.D_GROSS], "withholding": d[K.D_WITHHOLDING], "net": d[K.D_NET],
                     "pay_date": pd.Timestamp(int(d[K.D_PAY_DAY]), unit="D")},
                    f"Ex-dividend {amount:.4f}/sh on {d[K.D_SHARES]:.2f} sh: receivable +{d[K.D_NET]:.2f} net "
                    f"({d[K.D_WITHHOLDING]:.2f} withheld)",
                )
            )
            add(
                Event(
                    ts, i, EventType.ANCHOR_ADJUSTED_FOR_DIVIDEND,
                    {"anchor_before": anchor, "amount_per_share": amount},
                    {"anchor_after": anchor - amount},
                    f"Anchor adjusted for dividend: {anchor:.2f} → {anchor - amount:.2f}",
                )
            )
            anchor -= amount
        for j in paid_by_bar.get(i, []):
            net = div_rows[j][K.D_NET]
            add(
                Event(
                    ts, i, EventType.DIVIDEND_CASH_RECEIVED,
                    {"ex_date": bars.dividends["ex_date"].iloc[j]},
                    {"net": net, "cash_after": row[K.R_CASH]},
                    f"Dividend cash received: {net:.2f}",
                )
            )
        if row[K.R_STATUS] == K.STATUS_DAILY_CAP:
            day = bars.day[i]
            if day != last_cap_day:
                last_cap_day = day
                add(
                    Event(
                        ts, i, EventType.DAILY_CAP_REACHED,
                        {"max_orders_per_day": cfg.max_orders_per_day},
                        {"orders_today": int(row[K.R_ORDERS_TODAY])},
                        reasons[i],
                    )
                )
            continue
        kind = int(row[K.R_KIND])
        if kind == K.KIND_NONE:
            continue
        qty = row[K.R_QTY]
        side = "BUY" if row[K.R_SIDE] > 0 else "SELL"
        before = prev_rows[pos]
        inputs = {
            "price": closes[pos],
            "anchor": row[K.R_ANCHOR_EVAL],
            "shares": before[K.R_SHARES] if i > 0 else 0.0,
            "cash": before[K.R_CASH] if i > 0 else cfg.initial_capital,
            "stock_share": row[K.R_PRE_STOCK_SHARE],
        }
        if kind == K.KIND_TRIGGER:
            crossed = inputs
            if cfg.threshold_mode == "vol_scaled":  # §5.4a: the trigger it crossed and the volatility behind it
                in_force = row[K.R_TRIGGER_UP] if side == "SELL" else row[K.R_TRIGGER_DOWN]
                crossed = {**inputs, "trigger_in_force": in_force, "window_volatility": row[K.R_VOLATILITY]}
            add(Event(ts, i, EventType.THRESHOLD_CROSSED, crossed, {"side": side, "raw_qty": row[K.R_RAW_QTY]},
                      reasons[i]))
        elif kind == K.KIND_REBALANCE:
            add(Event(ts, i, EventType.AUTO_GUARDRAIL_REBALANCE, inputs,
                      {"side": side, "qty": qty, "bound": row[K.R_BOUND]}, reasons[i]))
        if int(row[K.R_FLAGS]) & K.FLAG_TRIMMED:
            add(Event(ts, i, EventType.ORDER_TRIMMED_GUARDRAIL, {"raw_qty": row[K.R_RAW_QTY], "bound": row[K.R_BOUND]},
                      {"qty": qty}, reasons[i]))
        action = int(row[K.R_ACTION])
        reason = int(row[K.R_REASON])
        if action == K.ACTION_SKIP:
            etype = EventType.ORDER_REJECTED_MIN if reason == K.REASON_BELOW_MIN else EventType.ORDER_BLOCKED
            add(Event(ts, i, etype, {**inputs, "qty": qty}, {"reason": REASONS[reason]}, reasons[i]))
        elif action in (K.ACTION_BUY, K.ACTION_SELL):
            filled = {
                "kind": KINDS[kind],
                "side": side,
                "qty": abs(qty),
                "exec_price": row[K.R_EXEC_PRICE],
                "notional": row[K.R_NOTIONAL],
                "commission": row[K.R_FEE],
                "shares_after": row[K.R_SHARES],
                "cash_after": row[K.R_CASH],
                "stock_share_after": row[K.R_STOCK_SHARE],
            }
            add(Event(ts, i, EventType.ORDER_FILLED, inputs, filled, reasons[i]))
            a0, a1 = row[K.R_ANCHOR_EVAL], row[K.R_ANCHOR_AFTER]
            add(Event(ts, i, EventType.ANCHOR_UPDATED, {"anchor_before": a0}, {"anchor_after": a1},
                      f"Anchor moved {a0:.2f} → {a1:.2f}"))
    return events

