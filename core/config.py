"""The strategy configuration (docs/strategy.md §3): a frozen, validated dataclass, round-tripped through a dict."""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from core.config_registry import CONFIG_FIELDS, FIELDS_BY_NAME, RENAMED_FIELDS, SIZINGS, THRESHOLD_MODES
from core.errors import ConfigError

__all__ = ["FIELD_KINDS", "SIZINGS", "THRESHOLD_MODES", "Sizing", "StrategyConfig", "ThresholdMode"]

Sizing = Literal["proportional", "fixed_fraction", "original"]
ThresholdMode = Literal["fixed", "vol_scaled"]


# Validation runs for every configuration a sweep builds: the fields each check needs, selected once.
_NUMERIC_FIELDS = tuple(f for f in CONFIG_FIELDS if f.numeric)
_CHOICE_FIELDS = tuple(f for f in CONFIG_FIELDS if f.kind == "choice")


def _declare_fields(cls: type) -> type:
    # The dataclass's fields come from the registry, so a field is declared once (core.config_registry).
    cls.__annotations__ = {f.name: f.annotation for f in CONFIG_FIELDS}
    for f in CONFIG_FIELDS:
        setattr(cls, f.name, f.default)
    return dataclass(frozen=True)(cls)


@_declare_fields
class StrategyConfig:
    """Every parameter of one volatility-balancing strategy. All rates are fractions (0.03 means 3 %).

    The fields, their defaults, types, units and ranges are :data:`core.config_registry.CONFIG_FIELDS`, in that
    order, and nowhere else: the dataclass is declared from it (``dataclasses.fields(StrategyConfig)`` lists them;
    ``python -m cli config fields`` prints them with their units and ranges; docs/strategy.md §3 defines them).

    Construction validates every field and raises :class:`ConfigError` naming the field, its value and the valid
    range. ``to_dict`` / ``from_dict`` round-trip exactly (stored runs, presets and optimisation trials use them).
    """

    def __post_init__(self) -> None:
        for f in CONFIG_FIELDS:
            object.__setattr__(self, f.name, _coerce(f.name, getattr(self, f.name), f.kind))
        for f in _NUMERIC_FIELDS:
            value = getattr(self, f.name)
            if value is None:
                continue
            if not math.isfinite(value):
                raise ConfigError(f"{f.name} must be a finite number, got {value!r}")
            if not f.bounds.contains(value):
                raise ConfigError(f"{f.name} must be in {f.bounds.text()}, got {value!r}")
        for f in _CHOICE_FIELDS:
            if getattr(self, f.name) not in f.choices:
                raise ConfigError(f"{f.name} must be one of {', '.join(f.choices)}, got {getattr(self, f.name)!r}")
        if self.guardrail_max <= self.guardrail_min:
            raise ConfigError(
                f"guardrail_max ({self.guardrail_max!r}) must be greater than guardrail_min ({self.guardrail_min!r})"
            )
        self._check_trigger_clamps()

    def _check_trigger_clamps(self) -> None:
        # docs/strategy.md §5.4a. The clamps are checked in every mode, so a configuration stays valid when only its
        # mode is switched; whether they bracket the triggers matters only when scaling is on (a fixed trigger
        # outside them is never clamped).
        if self.trigger_min > self.trigger_max:
            raise ConfigError(
                f"trigger_min ({self.trigger_min!r}) must not be greater than trigger_max ({self.trigger_max!r})"
            )
        if self.threshold_mode != "vol_scaled":
            return
        for name in ("trigger_up", "trigger_down"):
            value = getattr(self, name)
            if not self.trigger_min <= value <= self.trigger_max:
                raise ConfigError(vol_bracket_message(name, value, self.trigger_min, self.trigger_max))

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-serialisable dict of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StrategyConfig:
        """Build from a dict such as ``to_dict`` returns; missing keys take defaults, unknown keys raise."""
        if not isinstance(data, dict):
            raise ConfigError(f"a configuration must be a dict, got {type(data).__name__}")
        data = current_names(data)
        unknown = sorted(set(data) - set(FIELDS_BY_NAME))
        if unknown:
            raise ConfigError(f"unknown configuration key(s): {', '.join(unknown)}")
        return cls(**data)

    def replace(self, **changes: Any) -> StrategyConfig:
        """A copy with some fields changed (validated like a new configuration)."""
        changes = current_names(changes)
        unknown = sorted(set(changes) - set(FIELDS_BY_NAME))
        if unknown:
            raise ConfigError(f"unknown configuration key(s): {', '.join(unknown)}")
        return dataclasses.replace(self, **changes)


def current_names(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with each earlier field name (:data:`RENAMED_FIELDS`) replaced by the current one; both at once is an
    error."""
    if not any(old in data for old in RENAMED_FIELDS):
        return data
    out = dict(data)
    for old, new in RENAMED_FIELDS.items():
        if old in out:
            if new in out:
                raise ConfigError(f"{old} is the earlier name of {new}; give only {new}")
            out[new] = out.pop(old)
    return out


def vol_bracket_message(name: str, value: float, trigger_min: float, trigger_max: float) -> str:
    """The error for a vol_scaled trigger outside its clamps (shared with the search space's vectorised check)."""
    return (
        f"{name} ({value!r}) must lie between trigger_min ({trigger_min!r}) and trigger_max ({trigger_max!r}) when "
        "threshold_mode is vol_scaled, so that the trigger in force equals it at the reference volatility"
    )


# The kind of each field, for search-space editors and the CLI's ``--set``.
FIELD_KINDS: dict[str, str] = {f.name: f.kind for f in CONFIG_FIELDS}


def _coerce(name: str, value: Any, kind: str) -> Any:
    # bool is an int subclass: refuse it for numeric fields and refuse numbers for bool fields, so a JSON
    # round-trip can never silently turn `true` into 1.0.
    if kind == "bool":
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        raise ConfigError(f"{name} must be true or false, got {value!r}")
    if kind == "choice":
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
