"""The strategy configuration (docs/strategy.md §3): a frozen, validated dataclass, round-tripped through a dict."""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np

from core.errors import ConfigError

Sizing = Literal["proportional", "fixed_fraction", "original"]
SIZINGS: tuple[str, ...] = ("proportional", "fixed_fraction", "original")


@dataclass(frozen=True)
class StrategyConfig:
    """Every parameter of one volatility-balancing strategy. All rates are fractions (0.03 means 3 %).

    Construction validates every field and raises :class:`ConfigError` naming the field, its value and the valid
    range. ``to_dict`` / ``from_dict`` round-trip exactly (stored runs, presets and optimisation trials use them).
    """

    initial_capital: float = 10_000.0
    initial_stock_pct: float = 0.5
    trigger_up: float = 0.03
    trigger_down: float = 0.03
    sizing: Sizing = "proportional"
    rebalance_ratio: float = 1.6667
    trade_fraction: float = 0.25
    guardrail_min: float = 0.25
    guardrail_max: float = 0.75
    auto_rebalance: bool = True
    max_trade_pct: float | None = None
    commission_rate: float = 0.0001
    commission_min: float = 0.0
    slippage_bps: float = 0.0
    min_notional: float = 100.0
    max_orders_per_day: int = 5
    fractional_shares: bool = True
    allow_after_hours: bool = False
    withholding_tax_rate: float = 0.25
    dividend_pay_lag_days: int = 14
    risk_free_rate: float = 0.0
    periods_per_year: int = 252

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            kind = _KINDS[f.name]
            object.__setattr__(self, f.name, _coerce(f.name, value, kind))
        for name, (lo, lo_incl, hi, hi_incl) in _RANGES.items():
            value = getattr(self, name)
            if value is None:
                continue
            if not math.isfinite(value):
                raise ConfigError(f"{name} must be a finite number, got {value!r}")
            if (lo is not None and (value < lo or (value == lo and not lo_incl))) or (
                hi is not None and (value > hi or (value == hi and not hi_incl))
            ):
                raise ConfigError(f"{name} must be in {_range_text(lo, lo_incl, hi, hi_incl)}, got {value!r}")
        if self.sizing not in SIZINGS:
            raise ConfigError(f"sizing must be one of {', '.join(SIZINGS)}, got {self.sizing!r}")
        if self.guardrail_max <= self.guardrail_min:
            raise ConfigError(
                f"guardrail_max ({self.guardrail_max!r}) must be greater than guardrail_min ({self.guardrail_min!r})"
            )

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-serialisable dict of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StrategyConfig:
        """Build from a dict such as ``to_dict`` returns; missing keys take defaults, unknown keys raise."""
        if not isinstance(data, dict):
            raise ConfigError(f"a configuration must be a dict, got {type(data).__name__}")
        unknown = sorted(set(data) - set(_KINDS))
        if unknown:
            raise ConfigError(f"unknown configuration key(s): {', '.join(unknown)}")
        return cls(**data)

    def replace(self, **changes: Any) -> StrategyConfig:
        """A copy with some fields changed (validated like a new configuration)."""
        unknown = sorted(set(changes) - set(_KINDS))
        if unknown:
            raise ConfigError(f"unknown configuration key(s): {', '.join(unknown)}")
        return dataclasses.replace(self, **changes)


# field -> "float" | "int" | "bool" | "str" | "optfloat"
_KINDS: dict[str, str] = {
    "initial_capital": "float",
    "initial_stock_pct": "float",
    "trigger_up": "float",
    "trigger_down": "float",
    "sizing": "str",
    "rebalance_ratio": "float",
    "trade_fraction": "float",
    "guardrail_min": "float",
    "guardrail_max": "float",
    "auto_rebalance": "bool",
    "max_trade_pct": "optfloat",
    "commission_rate": "float",
    "commission_min": "float",
    "slippage_bps": "float",
    "min_notional": "float",
    "max_orders_per_day": "int",
    "fractional_shares": "bool",
    "allow_after_hours": "bool",
    "withholding_tax_rate": "float",
    "dividend_pay_lag_days": "int",
    "risk_free_rate": "float",
    "periods_per_year": "int",
}

# field -> (low, low inclusive, high, high inclusive); None means unbounded
_RANGES: dict[str, tuple[float | None, bool, float | None, bool]] = {
    "initial_capital": (0.0, False, None, False),
    "initial_stock_pct": (0.0, True, 1.0, True),
    "trigger_up": (0.0, False, None, False),
    "trigger_down": (0.0, False, 1.0, False),
    "rebalance_ratio": (0.0, False, None, False),
    "trade_fraction": (0.0, True, 1.0, True),
    "guardrail_min": (0.0, True, 1.0, True),
    "guardrail_max": (0.0, True, 1.0, True),
    "max_trade_pct": (0.0, False, None, False),
    "commission_rate": (0.0, True, None, False),
    "commission_min": (0.0, True, None, False),
    "slippage_bps": (0.0, True, None, False),
    "min_notional": (0.0, True, None, False),
    "max_orders_per_day": (1, True, None, False),
    "withholding_tax_rate": (0.0, True, 1.0, True),
    "dividend_pay_lag_days": (0, True, None, False),
    "risk_free_rate": (-1.0, False, None, False),
    "periods_per_year": (1, True, None, False),
}

# The kinds of each field, for search-space editors and the CLI's ``--set``.
FIELD_KINDS: dict[str, str] = dict(_KINDS)


def _range_text(lo: float | None, lo_incl: bool, hi: float | None, hi_incl: bool) -> str:
    left = "(-inf" if lo is None else ("[" if lo_incl else "(") + f"{lo:g}"
    right = "inf)" if hi is None else f"{hi:g}" + ("]" if hi_incl else ")")
    return f"{left}, {right}"


def _coerce(name: str, value: Any, kind: str) -> Any:
    # bool is an int subclass: refuse it for numeric fields and refuse numbers for bool fields, so a JSON
    # round-trip can never silently turn `true` into 1.0.
    if kind == "bool":
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        raise ConfigError(f"{name} must be true or false, got {value!r}")
    if kind == "str":
        if isinstance(value, str):
            return value
        raise ConfigError(f"{name} must be a string, got {value!r}")
    if kind == "optfloat" and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    if kind == "int":
        if not isinstance(value, numbers.Integral):
            if not float(value).is_integer():
                raise ConfigError(f"{name} must be a whole number, got {value!r}")
            value = int(value)
        return int(value)
    return float(value)
