"""The configuration registry: every field of a strategy configuration, once (docs/strategy.md §3).

One :class:`ConfigField` per field holds its name, kind, default, valid range, unit, label, help text, form group and
input step. Everything else is derived from :data:`CONFIG_FIELDS`:

* ``core.config.StrategyConfig`` — its dataclass fields, defaults and validation;
* the kernel's parameter vector (``core.engine.params_row``) — a field's slot is its position here
  (:data:`KERNEL_SLOTS`), from which the kernel's ``P_*`` constants and its sizing and threshold codes are read;
* the search space (``core.optimize.space``: kinds, columns, the vectorised validation);
* the app's configuration form, the definitions page, the exports' configuration rows and the CLI's ``--set``.

Adding a field is one entry here plus the rule that reads it (in the kernel, through its ``P_*`` slot).
No imports of ours: the registry is the bottom of the engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

FieldKind = Literal["float", "int", "bool", "choice", "optfloat"]
"""``optfloat`` is a number or ``None`` (not set); ``choice`` is one of :attr:`ConfigField.choices`."""

Unit = Literal["money", "fraction", "ratio", "bps", "count", "days", "flag", "choice", "per_year"]
"""What a value measures. A ``fraction`` is stored as a fraction (0.03) and shown as a percentage (3 %)."""

SIZINGS: tuple[str, ...] = ("proportional", "fixed_fraction", "original")
"""The sizing formulas of docs/strategy.md §5.5, in the order of their kernel codes."""

THRESHOLD_MODES: tuple[str, ...] = ("fixed", "vol_scaled")
"""How the triggers in force at a bar are set (docs/strategy.md §5.4a), in the order of their kernel codes."""

# The form's tabs, in display order.
GROUP_CAPITAL = "Capital & triggers"
GROUP_SIZING = "Sizing & guardrails"
GROUP_COSTS = "Costs & limits"
GROUP_DIVIDENDS = "Dividends & metrics"
GROUPS: tuple[str, ...] = (GROUP_CAPITAL, GROUP_SIZING, GROUP_COSTS, GROUP_DIVIDENDS)


@dataclass(frozen=True)
class Bounds:
    """A valid range: ``low``/``high`` (``None`` = unbounded), each end open or closed."""

    low: float | None = None
    low_inclusive: bool = False
    high: float | None = None
    high_inclusive: bool = False

    def contains(self, value: float) -> bool:
        """Whether a finite ``value`` lies in the range."""
        if self.low is not None and (value < self.low or (value == self.low and not self.low_inclusive)):
            return False
        return not (self.high is not None and (value > self.high or (value == self.high and not self.high_inclusive)))

    def text(self) -> str:
        """Interval notation, as the error messages print it: ``(0, 1]``, ``[0, inf)``."""
        left = "(-inf" if self.low is None else ("[" if self.low_inclusive else "(") + f"{self.low:g}"
        right = "inf)" if self.high is None else f"{self.high:g}" + ("]" if self.high_inclusive else ")")
        return f"{left}, {right}"


MAX_INITIAL_CAPITAL = 1e12
UNBOUNDED = Bounds()
POSITIVE = Bounds(0.0, False)
NON_NEGATIVE = Bounds(0.0, True)
UNIT_INTERVAL = Bounds(0.0, True, 1.0, True)
OPEN_UNIT_INTERVAL = Bounds(0.0, False, 1.0, False)
MIN_VOL_WINDOW_BARS = 2  # a sample standard deviation (ddof = 1) needs two returns


@dataclass(frozen=True)
class ConfigField:
    """One configuration field: what it is, what it may hold, and how people see and edit it."""

    name: str
    kind: FieldKind
    default: Any
    unit: Unit
    label: str
    help: str
    group: str
    bounds: Bounds = UNBOUNDED
    choices: tuple[str, ...] = ()
    step: float = 1.0  # the form's input step, in the unit shown (percent for fractions)
    fmt: str = "%.2f"  # the form's number format

    @property
    def annotation(self) -> str:
        """The dataclass annotation of the field."""
        return {"float": "float", "int": "int", "bool": "bool", "choice": "str", "optfloat": "float | None"}[self.kind]

    @property
    def numeric(self) -> bool:
        """A number the range checks apply to (``int``, ``float``, ``optfloat``)."""
        return self.kind in ("float", "int", "optfloat")

    def to_kernel(self, value: Any) -> float:
        """The value in the kernel's float64 parameter vector: booleans as 1/0, a choice as its index, ``None`` as
        NaN."""
        if self.kind == "bool":
            return 1.0 if value else 0.0
        if self.kind == "choice":
            return float(self.choices.index(value))
        if value is None:
            return math.nan
        return float(value)

    def from_kernel(self, value: float) -> Any:
        """The inverse of :meth:`to_kernel`."""
        if self.kind == "bool":
            return bool(value)
        if self.kind == "choice":
            return self.choices[int(value)]
        if self.kind == "int":
            return int(value)
        if self.kind == "optfloat" and math.isnan(value):
            return None
        return float(value)


CONFIG_FIELDS: tuple[ConfigField, ...] = (
    # Capped so every metric stays finite: at 1e308 the first sums overflow and every metric is NaN.
    ConfigField("initial_capital", "float", 10_000.0, "money", "Initial capital",
                "Account value at the start (> 0, at most 1e12).", GROUP_CAPITAL,
                Bounds(0.0, False, MAX_INITIAL_CAPITAL, True), step=1000.0),
    ConfigField("initial_stock_share", "float", 0.5, "fraction", "Initial stock share (%)",
                "Share of the capital bought at the first bar's close (0 to 100 %).", GROUP_CAPITAL, UNIT_INTERVAL,
                step=5.0),
    ConfigField("trigger_up", "float", 0.03, "fraction", "Sell trigger (%)",
                "Sell when the price rises this far above the anchor (the price of the last trade); > 0 %.",
                GROUP_CAPITAL, POSITIVE, step=0.5),
    ConfigField("trigger_down", "float", 0.03, "fraction", "Buy trigger (%)",
                "Buy when the price falls this far below the anchor; above 0 % and below 100 %.", GROUP_CAPITAL,
                Bounds(0.0, False, 1.0, False), step=0.5),
    ConfigField("sizing", "choice", "proportional", "choice", "Sizing",
                "How big a triggered order is: proportional to the move, the original formula, or a fixed fraction "
                "of the cash (buys) or shares (sells).", GROUP_SIZING, choices=SIZINGS),
    ConfigField("rebalance_ratio", "float", 1.6667, "ratio", "Rebalance ratio r",
                "The r of the sizing formulas (> 0); larger means bigger orders.", GROUP_SIZING, POSITIVE, step=0.1,
                fmt="%.4f"),
    ConfigField("trade_fraction", "float", 0.25, "fraction", "Trade fraction (%)",
                "Fixed-fraction sizing only: the share of the cash (buy) or of the shares (sell) traded; 0 to 100 %.",
                GROUP_SIZING, UNIT_INTERVAL, step=5.0),
    ConfigField("guardrail_min", "float", 0.25, "fraction", "Guardrail min (%)",
                "The stock share never goes below this (0 to 100 %); sells are trimmed to it.", GROUP_SIZING,
                UNIT_INTERVAL, step=5.0),
    ConfigField("guardrail_max", "float", 0.75, "fraction", "Guardrail max (%)",
                "The stock share never goes above this (0 to 100 %, above the minimum); buys are trimmed to it.",
                GROUP_SIZING, UNIT_INTERVAL, step=5.0),
    ConfigField("auto_rebalance", "bool", True, "flag", "Auto-rebalance",
                "Trade back to the nearest guardrail when the stock share drifts outside without a trigger.",
                GROUP_SIZING),
    ConfigField("max_trade_share", "optfloat", None, "fraction", "Max order size (% of account)",
                "Optional cap on one order's notional as a share of the account value (> 0 %).", GROUP_COSTS,
                POSITIVE, step=5.0),
    ConfigField("commission_rate", "float", 0.0001, "fraction", "Commission (%)",
                "Commission as a share of the order's notional (≥ 0 %); 0.01 % is one basis point.", GROUP_COSTS,
                NON_NEGATIVE, step=0.005, fmt="%.4f"),
    ConfigField("commission_min", "float", 0.0, "money", "Minimum commission",
                "Minimum commission per order, in currency (≥ 0).", GROUP_COSTS, NON_NEGATIVE),
    ConfigField("slippage_bps", "float", 0.0, "bps", "Slippage (bps)",
                "Buys fill this many basis points above the close, sells below it (≥ 0).", GROUP_COSTS, NON_NEGATIVE),
    ConfigField("min_notional", "float", 100.0, "money", "Minimum order",
                "Orders smaller than this notional (currency) are skipped (≥ 0).", GROUP_COSTS, NON_NEGATIVE,
                step=50.0),
    ConfigField("max_orders_per_day", "int", 5, "count", "Max orders per day",
                "Orders executed per exchange-local calendar day (≥ 1).", GROUP_COSTS, Bounds(1, True)),
    ConfigField("fractional_shares", "bool", True, "flag", "Fractional shares",
                "If off, every order is rounded toward zero to whole shares.", GROUP_COSTS),
    ConfigField("allow_after_hours", "bool", False, "flag", "Trade after hours",
                "Intraday data only: also evaluate bars outside 09:30-16:00 Monday to Friday.", GROUP_COSTS),
    ConfigField("withholding_tax_rate", "float", 0.25, "fraction", "Dividend withholding tax (%)",
                "Tax withheld from every dividend (0 to 100 %).", GROUP_DIVIDENDS, UNIT_INTERVAL, step=5.0),
    ConfigField("dividend_pay_lag_days", "int", 14, "days", "Dividend pay lag (days)",
                "Pay date = ex-date + this many calendar days when the data gives none (≥ 0).", GROUP_DIVIDENDS,
                Bounds(0, True)),
    ConfigField("risk_free_rate", "float", 0.0, "fraction", "Risk-free rate (% a year)",
                "Annual risk-free rate for Sharpe and Sortino (above -100 %).", GROUP_DIVIDENDS, Bounds(-1.0, False),
                step=0.25),
    ConfigField("periods_per_year", "int", 252, "per_year", "Periods per year",
                "Annualisation of daily figures (≥ 1); 252 trading days.", GROUP_DIVIDENDS, Bounds(1, True)),
    # Volatility-scaled triggers (docs/strategy.md §5.4a). Last in the registry so the older kernel slots keep their
    # places; the form shows them after the triggers, in the same tab.
    ConfigField("threshold_mode", "choice", "fixed", "choice", "Trigger mode",
                "fixed: the sell and buy triggers above apply at every bar. vol_scaled: at each bar both are "
                "multiplied by the stock's recent volatility over the reference volatility, within the floor and "
                "cap.", GROUP_CAPITAL, choices=THRESHOLD_MODES),
    ConfigField("vol_window_bars", "int", 20, "count", "Volatility window (bars)",
                "vol_scaled only: volatility is the standard deviation of this many bar-to-bar log returns, all "
                "before the bar (≥ 2); until that many exist the triggers stay fixed.", GROUP_CAPITAL,
                Bounds(MIN_VOL_WINDOW_BARS, True)),
    ConfigField("vol_reference", "float", 0.30, "fraction", "Reference volatility (% a year)",
                "vol_scaled only: the annualised volatility at which the triggers equal the sell and buy triggers "
                "above (> 0 %).", GROUP_CAPITAL, POSITIVE, step=1.0),
    ConfigField("trigger_min", "float", 0.005, "fraction", "Trigger floor (%)",
                "vol_scaled only: a scaled trigger is never below this (above 0 % and below 100 %, at most the "
                "sell and buy triggers).", GROUP_CAPITAL, OPEN_UNIT_INTERVAL, step=0.1, fmt="%.3f"),
    ConfigField("trigger_max", "float", 0.50, "fraction", "Trigger cap (%)",
                "vol_scaled only: a scaled trigger is never above this (above 0 % and below 100 %, at least the "
                "sell and buy triggers).", GROUP_CAPITAL, OPEN_UNIT_INTERVAL, step=1.0),
)  # fmt: skip

FIELDS_BY_NAME: dict[str, ConfigField] = {f.name: f for f in CONFIG_FIELDS}
RENAMED_FIELDS: dict[str, str] = {"initial_stock_pct": "initial_stock_share", "max_trade_pct": "max_trade_share"}
"""Earlier names of fields (they hold fractions, and a name ending in ``_pct`` promises a percentage): still read from
stored configurations, run bundles, the CLI's ``--set`` and API bodies; the store's own rows were renamed by the
migration 0006_share_names."""
FIELD_NAMES: tuple[str, ...] = tuple(FIELDS_BY_NAME)
KERNEL_SLOTS: dict[str, int] = {f.name: slot for slot, f in enumerate(CONFIG_FIELDS)}
"""Field -> column of the kernel's parameter vector."""


def config_field(name: str) -> ConfigField:
    """The registry entry of ``name`` (``KeyError`` for an unknown field)."""
    return FIELDS_BY_NAME[name]
