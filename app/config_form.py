"""The strategy configuration form: every ``StrategyConfig`` field, percentages where people think in percent.

The core takes fractions (0.03 means 3 %); the form shows and accepts percentages and converts in
:func:`config_from_inputs` / :func:`inputs_from_config`, which are pure so the conversion is tested without a
browser. The form edits the one active configuration (:func:`app.state.active_config`): its widgets keep their values
in ``st.session_state`` under ``cfg_{field}`` keys, filled from the active configuration whenever they are missing,
and :func:`app.state.set_active_config` from anywhere else (a preset, the demo, a study's trial) drops them, so the
form always shows what will run and nothing is synchronised by hand.

Validation is the core's own: the inputs have no bounds of their own, so whatever is out of range reaches
``StrategyConfig`` and its :class:`ConfigError` message (which names the field, the value and the valid range) is
shown next to the form. The form never invents a second set of rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import streamlit as st

from app.state import CONFIG_WIDGET_PREFIX, active_config, set_active_config
from core import ConfigError, StrategyConfig
from core.config import FIELD_KINDS, SIZINGS

Widget = Literal["pct", "number", "int", "bool", "choice", "optpct"]


@dataclass(frozen=True)
class FieldSpec:
    """How one configuration field is edited: label, widget, help text (from docs/strategy.md §3) and number format."""

    name: str
    label: str
    widget: Widget
    help: str
    group: str
    step: float = 1.0
    fmt: str = "%.2f"


GROUPS: tuple[str, ...] = ("Capital & triggers", "Sizing & guardrails", "Costs & limits", "Dividends & metrics")

FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("initial_capital", "Initial capital", "number", "Account value at the start (> 0).", GROUPS[0], 1000.0,
              "%.2f"),
    FieldSpec("initial_stock_pct", "Initial stock share (%)", "pct",
              "Share of the capital bought at the first bar's close (0 to 100 %).", GROUPS[0], 5.0),
    FieldSpec("trigger_up", "Sell trigger (%)", "pct",
              "Sell when the price rises this far above the anchor (the price of the last trade); > 0 %.", GROUPS[0],
              0.5),
    FieldSpec("trigger_down", "Buy trigger (%)", "pct",
              "Buy when the price falls this far below the anchor; above 0 % and below 100 %.", GROUPS[0], 0.5),
    FieldSpec("sizing", "Sizing", "choice",
              "How big a triggered order is: proportional to the move, the original formula, or a fixed fraction "
              "of the cash (buys) or shares (sells).", GROUPS[1]),
    FieldSpec("rebalance_ratio", "Rebalance ratio r", "number",
              "The r of the sizing formulas (> 0); larger means bigger orders.", GROUPS[1], 0.1, "%.4f"),
    FieldSpec("trade_fraction", "Trade fraction (%)", "pct",
              "Fixed-fraction sizing only: the share of the cash (buy) or of the shares (sell) traded; 0 to 100 %.",
              GROUPS[1], 5.0),
    FieldSpec("guardrail_min", "Guardrail min (%)", "pct",
              "The stock share never goes below this (0 to 100 %); sells are trimmed to it.", GROUPS[1], 5.0),
    FieldSpec("guardrail_max", "Guardrail max (%)", "pct",
              "The stock share never goes above this (0 to 100 %, above the minimum); buys are trimmed to it.",
              GROUPS[1], 5.0),
    FieldSpec("auto_rebalance", "Auto-rebalance", "bool",
              "Trade back to the nearest guardrail when the stock share drifts outside without a trigger.",
              GROUPS[1]),
    FieldSpec("max_trade_pct", "Max order size (% of account)", "optpct",
              "Optional cap on one order's notional as a share of the account value (> 0 %).", GROUPS[2], 5.0),
    FieldSpec("commission_rate", "Commission (%)", "pct",
              "Commission as a share of the order's notional (≥ 0 %); 0.01 % is one basis point.", GROUPS[2], 0.005,
              "%.4f"),
    FieldSpec("commission_min", "Minimum commission", "number",
              "Minimum commission per order, in currency (≥ 0).", GROUPS[2], 1.0),
    FieldSpec("slippage_bps", "Slippage (bps)", "number",
              "Buys fill this many basis points above the close, sells below it (≥ 0).", GROUPS[2], 1.0),
    FieldSpec("min_notional", "Minimum order", "number",
              "Orders smaller than this notional (currency) are skipped (≥ 0).", GROUPS[2], 50.0),
    FieldSpec("max_orders_per_day", "Max orders per day", "int",
              "Orders executed per exchange-local calendar day (≥ 1).", GROUPS[2]),
    FieldSpec("fractional_shares", "Fractional shares", "bool",
              "If off, every order is rounded toward zero to whole shares.", GROUPS[2]),
    FieldSpec("allow_after_hours", "Trade after hours", "bool",
              "Intraday data only: also evaluate bars outside 09:30-16:00 Monday to Friday.", GROUPS[2]),
    FieldSpec("withholding_tax_rate", "Dividend withholding tax (%)", "pct",
              "Tax withheld from every dividend (0 to 100 %).", GROUPS[3], 5.0),
    FieldSpec("dividend_pay_lag_days", "Dividend pay lag (days)", "int",
              "Pay date = ex-date + this many calendar days when the data gives none (≥ 0).", GROUPS[3]),
    FieldSpec("risk_free_rate", "Risk-free rate (% a year)", "pct",
              "Annual risk-free rate for Sharpe and Sortino (above -100 %).", GROUPS[3], 0.25),
    FieldSpec("periods_per_year", "Periods per year", "int",
              "Annualisation of daily figures (≥ 1); 252 trading days.", GROUPS[3]),
)
SPECS: dict[str, FieldSpec] = {spec.name: spec for spec in FIELDS}
assert set(SPECS) == set(FIELD_KINDS), "the form must cover every StrategyConfig field"

# Percent values are rounded so 0.03 shows as 3.0 and not 3.0000000000000004.
_PCT_DIGITS = 10
_FRACTION_DIGITS = 14


def to_percent(fraction: float) -> float:
    """0.03 → 3.0."""
    return round(float(fraction) * 100.0, _PCT_DIGITS)


def to_fraction(percent: float) -> float:
    """3.0 → 0.03."""
    return round(float(percent) / 100.0, _FRACTION_DIGITS)


def inputs_from_config(config: StrategyConfig) -> dict[str, Any]:
    """The form's input values for ``config``: percentages for fractions; ``max_trade_pct`` as (enabled, percent)."""
    values: dict[str, Any] = {}
    for spec in FIELDS:
        value = getattr(config, spec.name)
        if spec.widget == "pct":
            values[spec.name] = to_percent(value)
        elif spec.widget == "optpct":
            values[spec.name] = (value is not None, to_percent(value if value is not None else 0.10))
        elif spec.widget == "number":
            values[spec.name] = float(value)
        elif spec.widget == "int":
            values[spec.name] = int(value)
        else:
            values[spec.name] = value
    return values


def config_from_inputs(values: Mapping[str, Any]) -> StrategyConfig:
    """Build the configuration from the form's input values (the inverse of :func:`inputs_from_config`).

    Raises:
        ConfigError: the core's own message when a value is out of range (e.g. guardrail max below min).
    """
    fields: dict[str, Any] = {}
    for spec in FIELDS:
        value = values[spec.name]
        if spec.widget == "pct":
            fields[spec.name] = to_fraction(value)
        elif spec.widget == "optpct":
            enabled, percent = value
            fields[spec.name] = to_fraction(percent) if enabled else None
        else:
            fields[spec.name] = value
    return StrategyConfig.from_dict(fields)


def _key(name: str, part: str = "") -> str:
    return f"{CONFIG_WIDGET_PREFIX}{name}{part}"


def _load_into_form(config: StrategyConfig) -> None:
    for name, value in inputs_from_config(config).items():
        if SPECS[name].widget == "optpct":
            st.session_state[_key(name, "_on")], st.session_state[_key(name)] = value
        else:
            st.session_state[_key(name)] = value


def _ensure_state(config: StrategyConfig) -> None:
    # Widget state is dropped when the user visits another page or the active configuration is set elsewhere;
    # refill it from the active configuration then.
    if any(_key(spec.name) not in st.session_state for spec in FIELDS):
        _load_into_form(config)


def _draw(spec: FieldSpec) -> Any:
    key = _key(spec.name)
    if spec.widget == "pct":
        return st.number_input(spec.label, step=spec.step, format=spec.fmt, help=spec.help, key=key)
    if spec.widget == "number":
        return st.number_input(spec.label, step=spec.step, format=spec.fmt, help=spec.help, key=key)
    if spec.widget == "int":
        return st.number_input(spec.label, step=1, help=spec.help, key=key)
    if spec.widget == "bool":
        return st.toggle(spec.label, help=spec.help, key=key)
    if spec.widget == "choice":
        return st.selectbox(spec.label, SIZINGS, format_func=lambda s: s.replace("_", " "), help=spec.help, key=key)
    enabled = st.toggle("Cap order size", help=spec.help, key=_key(spec.name, "_on"))
    percent = st.number_input(spec.label, step=spec.step, format=spec.fmt, help=spec.help, key=key,
                              disabled=not enabled)
    return (enabled, percent)


def config_form() -> StrategyConfig | None:
    """Draw every field of the active configuration (in tabs by topic); return it, or ``None`` after showing why not.

    A valid configuration becomes the active one. An invalid combination shows the core's :class:`ConfigError`
    message in an ``st.error`` right under the form (and the active configuration stays as it was).
    """
    _ensure_state(active_config())
    values: dict[str, Any] = {}
    with st.container(border=True):
        for group, tab in zip(GROUPS, st.tabs(list(GROUPS)), strict=True):
            with tab:
                specs = [s for s in FIELDS if s.group == group]
                columns = st.columns(2)
                for i, spec in enumerate(specs):
                    with columns[i % 2]:
                        values[spec.name] = _draw(spec)
    try:
        config = config_from_inputs(values)
    except ConfigError as exc:
        st.error(config_error_text(exc), icon=":material/error:")
        return None
    set_active_config(config, from_form=True)
    return config


def config_error_text(error: ConfigError) -> str:
    """The core's message plus the form labels of the fields it names (the core speaks in field names and
    fractions; the form in labels and percent)."""
    text = str(error)
    named = [spec.label for spec in FIELDS if spec.name in text]
    where = f" Check: {', '.join(named)}." if named else ""
    return (
        f"**These settings are not valid.** {text}.{where}\n\nPercent fields take percent (3 means 3 %); the "
        "message above gives the value as the core sees it (a fraction, 0.03)."
    )


def settings_summary(config: StrategyConfig) -> str:
    """The settings of a run in one sentence, in the percentages people read (the core itself takes fractions)."""
    c = config
    return (
        f"Settings: {c.initial_capital:,.0f} starting capital, {c.initial_stock_pct:.0%} of it in stock; "
        f"sell {c.trigger_up:.1%} above / buy {c.trigger_down:.1%} below the anchor with {c.sizing.replace('_', ' ')} "
        f"sizing (r = {c.rebalance_ratio:g}); guardrails {c.guardrail_min:.0%} to {c.guardrail_max:.0%}; commission "
        f"{c.commission_rate:.2%}; minimum order {c.min_notional:,.0f}; dividend withholding tax "
        f"{c.withholding_tax_rate:.0%}."
    )
