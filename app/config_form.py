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
from core.config_registry import CONFIG_FIELDS, GROUPS, ConfigField

Widget = Literal["pct", "number", "int", "bool", "choice", "optpct"]


@dataclass(frozen=True)
class FieldSpec:
    """How one configuration field is edited (derived from its registry entry): label, widget, help, number format."""

    name: str
    label: str
    widget: Widget
    help: str
    group: str
    step: float = 1.0
    fmt: str = "%.2f"
    choices: tuple[str, ...] = ()  # a choice field's options, in the registry's order


def _widget(field: ConfigField) -> Widget:
    # Fractions are edited in percent; everything else in its own unit.
    if field.kind == "optfloat":
        return "optpct"
    if field.kind == "float":
        return "pct" if field.unit == "fraction" else "number"
    return {"int": "int", "bool": "bool", "choice": "choice"}[field.kind]


FIELDS: tuple[FieldSpec, ...] = tuple(
    FieldSpec(f.name, f.label, _widget(f), f.help, f.group, f.step, f.fmt, f.choices) for f in CONFIG_FIELDS
)
SPECS: dict[str, FieldSpec] = {spec.name: spec for spec in FIELDS}

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
    """The form's input values for ``config``: percentages for fractions; ``max_trade_share`` as (enabled, percent)."""
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
    return draw_field(spec, _key(spec.name), _key(spec.name, "_on"))


def draw_field(spec: FieldSpec, key: str, on_key: str) -> Any:
    """One field's widget under ``key`` (an optional percentage's on/off toggle under ``on_key``); returns its input
    value as :func:`config_from_inputs` reads it. Shared by the configuration form and the Portfolio page's cells."""
    if spec.widget == "pct":
        return st.number_input(spec.label, step=spec.step, format=spec.fmt, help=spec.help, key=key)
    if spec.widget == "number":
        return st.number_input(spec.label, step=spec.step, format=spec.fmt, help=spec.help, key=key)
    if spec.widget == "int":
        return st.number_input(spec.label, step=1, help=spec.help, key=key)
    if spec.widget == "bool":
        return st.toggle(spec.label, help=spec.help, key=key)
    if spec.widget == "choice":
        return st.selectbox(spec.label, spec.choices, format_func=lambda s: s.replace("_", " "), help=spec.help,
                            key=key)
    enabled = st.toggle("Cap order size", help=spec.help, key=on_key)
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
        f"Settings: {c.initial_capital:,.0f} starting capital, {c.initial_stock_share:.0%} of it in stock; "
        f"sell {c.trigger_up:.1%} above / buy {c.trigger_down:.1%} below the anchor with {c.sizing.replace('_', ' ')} "
        f"sizing (r = {c.rebalance_ratio:g}); guardrails {c.guardrail_min:.0%} to {c.guardrail_max:.0%}; commission "
        f"{c.commission_rate:.2%}; minimum order {c.min_notional:,.0f}; dividend withholding tax "
        f"{c.withholding_tax_rate:.0%}.{_scaling_summary(c)}"
    )


def _scaling_summary(c: StrategyConfig) -> str:
    """The volatility scaling of the triggers (docs/strategy.md §5.4a) in one clause; nothing in fixed mode."""
    if c.threshold_mode != "vol_scaled":
        return ""
    return (
        f" Triggers scaled by the {c.vol_window_bars}-bar volatility over {c.vol_reference:.0%} a year, kept within "
        f"{c.trigger_min:.1%} to {c.trigger_max:.1%}."
    )
