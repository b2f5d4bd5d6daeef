"""Search spaces: which fields of :class:`~core.config.StrategyConfig` vary, over which values.

A :class:`ParamRange` is one field's list of values, generated **by index** (``min + i·step`` in decimal
arithmetic, so ``1.0:2.0:0.1`` gives exactly the 11 clean values 1.0, 1.1, ..., 2.0). A :class:`SearchSpace` is the
cartesian product of its ranges over a base configuration; a point of it is a *grid index* (mixed radix, the last
range varying fastest, like ``itertools.product``). Points are turned into kernel parameter rows in bulk
(:meth:`SearchSpace.params_for`) and checked against the configuration's rules in bulk (:func:`validate_params`),
with exactly the outcome of building a ``StrategyConfig`` — without paying ~20 µs per object.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np

from core import kernel as K
from core.config import FIELD_KINDS, StrategyConfig, vol_bracket_message
from core.config_registry import CONFIG_FIELDS, KERNEL_SLOTS, config_field
from core.engine import params_row
from core.errors import ConfigError

KINDS: tuple[str, ...] = ("float", "int", "bool", "categorical")

# field -> kernel parameter column (the registry's order; core.engine checks it against the kernel's P_* slots)
PARAM_COLUMNS: dict[str, int] = KERNEL_SLOTS

# A single range may not produce more values than this (a typo such as step 1e-9 would otherwise eat the memory).
MAX_VALUES_PER_RANGE = 1_000_000


class SearchSpaceError(ConfigError):
    """An unusable search space: empty, a bad step, an unknown parameter, a wrong kind of value, too large."""


def _decimal(name: str, what: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, np.integer, np.floating)):
        raise SearchSpaceError(f"{name}: {what} must be a number, got {value!r}")
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise SearchSpaceError(f"{name}: {what} must be a number, got {value!r}") from None
    if not d.is_finite():
        raise SearchSpaceError(f"{name}: {what} must be finite, got {value!r}")
    return d


@dataclass(frozen=True)
class ParamRange:
    """The values one field takes in a search, in index order.

    ``kind`` is ``"float"``, ``"int"``, ``"bool"`` or ``"categorical"``; ``values`` are plain Python values
    (``None`` allowed for ``max_trade_share``); ``spec`` is the definition it was built from (for storage).
    Build with :meth:`stepped`, :meth:`of_values`, :meth:`boolean`, :meth:`categorical` or :meth:`parse`.
    """

    name: str
    kind: str
    values: tuple[Any, ...]
    spec: Mapping[str, Any]

    def __len__(self) -> int:
        return len(self.values)

    @staticmethod
    def _field(name: str) -> str:
        key = str(name).strip().lower().replace("-", "_")
        if key not in FIELD_KINDS:
            close = difflib.get_close_matches(key, FIELD_KINDS, n=3, cutoff=0.6)
            hint = f"did you mean {' or '.join(close)}?" if close else f"parameters: {', '.join(FIELD_KINDS)}"
            raise SearchSpaceError(f"unknown parameter {name!r}; {hint}")
        return key

    @classmethod
    def stepped(cls, name: str, start: Any, stop: Any, step: Any) -> ParamRange:
        """``start, start+step, ...`` up to ``stop`` inclusive (a value past ``stop`` by < 1e-9·step counts)."""
        name = cls._field(name)
        field_kind = FIELD_KINDS[name]
        if field_kind not in ("float", "int", "optfloat"):
            raise SearchSpaceError(f"{name} is a {_kind_word(field_kind)} parameter; give its values as a list, "
                                   "not min:max:step")
        lo, hi, st = (_decimal(name, w, v) for w, v in (("min", start), ("max", stop), ("step", step)))
        if st <= 0:
            raise SearchSpaceError(f"{name}: step must be greater than 0, got {step!r}")
        if hi < lo:
            raise SearchSpaceError(f"{name}: the range {start}..{stop} is empty (max is below min)")
        if field_kind == "int" and not (lo == lo.to_integral_value() and st == st.to_integral_value()):
            raise SearchSpaceError(f"{name} takes whole numbers: min and step must be integers, got {start}:{stop}:"
                                   f"{step}")
        if hi > lo and st > hi - lo:
            raise SearchSpaceError(
                f"{name}: step {step} is larger than the range {start}..{stop}, which would give one value; use a "
                "smaller step or a single value"
            )
        count = int((hi - lo) / st + Decimal("1e-9")) + 1
        if count > MAX_VALUES_PER_RANGE:
            raise SearchSpaceError(f"{name}: {start}:{stop}:{step} gives {count:,} values, more than "
                                   f"{MAX_VALUES_PER_RANGE:,}; use a larger step")
        if field_kind == "int":
            values: tuple[Any, ...] = tuple(int(lo + i * st) for i in range(count))
            kind = "int"
        else:
            # Decimal arithmetic then one rounding to float: 1.0 + 3·0.1 is exactly the float nearest 1.3.
            values = tuple(float(lo + i * st) for i in range(count))
            kind = "float"
        spec = {"min": _plain(start), "max": _plain(stop), "step": _plain(step)}
        return cls(name, kind, values, spec)

    @classmethod
    def of_values(cls, name: str, values: Iterable[Any]) -> ParamRange:
        """An explicit list of values (numbers for numeric fields, ``None`` too for ``max_trade_share``; booleans or
        category names otherwise). Duplicates are refused; order is kept."""
        name = cls._field(name)
        field_kind = FIELD_KINDS[name]
        vals = list(values)
        if not vals:
            raise SearchSpaceError(f"{name}: the list of values is empty")
        if field_kind == "bool":
            return cls.boolean(name, vals)
        if field_kind == "choice":
            return cls.categorical(name, vals)
        out: list[Any] = []
        for v in vals:
            if v is None or (isinstance(v, str) and v.strip().lower() in ("none", "null")):
                if field_kind != "optfloat":
                    raise SearchSpaceError(f"{name}: none is not a value of this parameter")
                out.append(None)
                continue
            d = _decimal(name, "every value", v)
            if field_kind == "int":
                if d != d.to_integral_value():
                    raise SearchSpaceError(f"{name} takes whole numbers, got {v!r}")
                out.append(int(d))
            else:
                out.append(float(d))
        _no_duplicates(name, out)
        return cls(name, "int" if field_kind == "int" else "float", tuple(out), {"values": [_plain(v) for v in vals]})

    @classmethod
    def boolean(cls, name: str, values: Sequence[Any] = (False, True)) -> ParamRange:
        """A true/false field; by default both values."""
        name = cls._field(name)
        if FIELD_KINDS[name] != "bool":
            raise SearchSpaceError(f"{name} is not a true/false parameter")
        out = [_as_bool(name, v) for v in values]
        _no_duplicates(name, out)
        return cls(name, "bool", tuple(out), {"values": out})

    @classmethod
    def categorical(cls, name: str, values: Sequence[Any]) -> ParamRange:
        """A categorical field (``sizing``, ``threshold_mode``) over at least two of its categories."""
        name = cls._field(name)
        if FIELD_KINDS[name] != "choice":
            raise SearchSpaceError(f"{name} is not a categorical parameter")
        out = [str(v).strip() for v in values]
        choices = config_field(name).choices
        bad = [v for v in out if v not in choices]
        if bad:
            raise SearchSpaceError(f"{name}: unknown value(s) {', '.join(bad)}; choose from {', '.join(choices)}")
        if len(out) < 2:
            raise SearchSpaceError(f"{name}: a categorical range needs at least two values, got {out}")
        _no_duplicates(name, out)
        return cls(name, "categorical", tuple(out), {"values": out})

    @classmethod
    def parse(cls, name: str, spec: Any) -> ParamRange:
        """A range from its stored or typed form.

        ``spec`` is ``{"min", "max", "step"}``, ``{"values": [...]}``, a list, or text: ``"0.01:0.08:0.005"``
        (min:max:step), ``"proportional,original"`` or ``"0.02,0.03,0.05"`` (a list), ``"bool"`` (both booleans),
        or one value.
        """
        if isinstance(spec, Mapping):
            if "values" in spec:
                return cls.of_values(name, spec["values"])
            missing = [k for k in ("min", "max", "step") if k not in spec]
            if missing:
                raise SearchSpaceError(f"{name}: a range needs min, max and step (missing {', '.join(missing)})")
            return cls.stepped(name, spec["min"], spec["max"], spec["step"])
        if isinstance(spec, (list, tuple)):
            return cls.of_values(name, spec)
        text = str(spec).strip()
        if not text:
            raise SearchSpaceError(f"{name}: no values given")
        if "%" in text:
            raise SearchSpaceError(f"{name}={text}: a percent sign is not accepted; values are fractions (0.04 "
                                   "means 4 %)")
        if text.lower() in ("bool", "both"):
            return cls.boolean(name)
        if ":" in text:
            parts = [p.strip() for p in text.split(":")]
            if len(parts) != 3:
                raise SearchSpaceError(f"{name}={text}: a range is min:max:step")
            return cls.stepped(name, *parts)
        return cls.of_values(name, [p.strip() for p in text.split(",")])

    def column(self) -> np.ndarray:
        """The values as kernel parameter numbers (categories as codes, booleans as 0/1, ``None`` as NaN)."""
        field = config_field(self.name)
        return np.array([field.to_kernel(v) for v in self.values], dtype=np.float64)


def _kind_word(field_kind: str) -> str:
    return {"bool": "true/false", "choice": "categorical"}.get(field_kind, "numeric")


def _plain(value: Any) -> Any:
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return value


def _as_bool(name: str, value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise SearchSpaceError(f"{name} takes true or false, got {value!r}")


def _no_duplicates(name: str, values: list[Any]) -> None:
    seen: set[Any] = set()
    for v in values:
        if v in seen:
            raise SearchSpaceError(f"{name}: the value {v!r} is listed twice")
        seen.add(v)


class SearchSpace:
    """The cartesian product of some ranges over a base configuration.

    ``size`` is the number of combinations (a Python int, it may be astronomically large for random or Bayesian
    search). Grid index ``g`` decodes to one choice per range (:meth:`choices`), the last range varying fastest.
    """

    def __init__(self, ranges: Sequence[ParamRange], base: StrategyConfig | None = None) -> None:
        if not ranges:
            raise SearchSpaceError("the search space is empty: give at least one parameter to vary")
        names = [r.name for r in ranges]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise SearchSpaceError(f"parameter(s) given twice: {', '.join(dup)}")
        for r in ranges:
            if len(r) == 0:
                raise SearchSpaceError(f"{r.name}: no values")
        self.ranges: tuple[ParamRange, ...] = tuple(ranges)
        self.base: StrategyConfig = base or StrategyConfig()
        self.names: tuple[str, ...] = tuple(names)
        self.shape: tuple[int, ...] = tuple(len(r) for r in ranges)
        self.size: int = math.prod(self.shape)
        self._columns = [r.column() for r in ranges]
        self._base_row = params_row(self.base)

    @classmethod
    def parse(cls, specs: Mapping[str, Any], base: StrategyConfig | None = None) -> SearchSpace:
        """A space from ``{field: spec}`` as accepted by :meth:`ParamRange.parse` (also ``to_dict``'s output)."""
        return cls([ParamRange.parse(name, spec) for name, spec in specs.items()], base)

    def to_dict(self) -> dict[str, Any]:
        """``{field: spec}``: JSON-ready, and :meth:`parse` rebuilds exactly this space."""
        return {r.name: dict(r.spec) for r in self.ranges}

    def __repr__(self) -> str:
        return f"SearchSpace({', '.join(f'{r.name}[{len(r)}]' for r in self.ranges)}; {self.size:,} combinations)"

    def choices(self, grid_index: np.ndarray) -> np.ndarray:
        """``(n, n_ranges)`` int64 value indices of grid indices (last range fastest)."""
        if self.size >= 2**62:  # beyond int64: Python integers (random search of an astronomically large space)
            rows = []
            for big in np.asarray(grid_index, dtype=object).tolist():
                row = []
                for n in reversed(self.shape):
                    big, digit = divmod(int(big), n)
                    row.append(digit)
                rows.append(row[::-1])
            return np.array(rows, dtype=np.int64).reshape(len(rows), len(self.ranges))
        g = np.asarray(grid_index, dtype=np.int64).copy()
        out = np.empty((g.shape[0], len(self.ranges)), dtype=np.int64)
        for j in range(len(self.ranges) - 1, -1, -1):
            g, out[:, j] = np.divmod(g, self.shape[j])
        return out

    def params_for(self, choices: np.ndarray) -> np.ndarray:
        """Kernel parameter matrix ``(n, N_PARAMS)``: the base configuration's row with the searched columns set."""
        choices = np.asarray(choices, dtype=np.int64)
        out = np.repeat(self._base_row[None, :], choices.shape[0], axis=0)
        for j, r in enumerate(self.ranges):
            out[:, PARAM_COLUMNS[r.name]] = self._columns[j][choices[:, j]]
        return out

    def values_for(self, choices: np.ndarray) -> list[dict[str, Any]]:
        """The searched fields' plain values of each row of ``choices`` (what a trial stores as its params)."""
        cols = [[r.values[i] for i in np.asarray(choices)[:, j].tolist()] for j, r in enumerate(self.ranges)]
        return [dict(zip(self.names, row, strict=True)) for row in zip(*cols, strict=True)]

    def config_for(self, values: Mapping[str, Any]) -> StrategyConfig:
        """The full configuration of one trial's params (raises ``ConfigError`` if it breaks a rule)."""
        return self.base.replace(**dict(values))


def validate_params(params: np.ndarray) -> tuple[np.ndarray, list[str | None]]:
    """Check every row of a kernel parameter matrix against ``StrategyConfig``'s rules, vectorised.

    Returns ``(valid, messages)``: a boolean mask and, per row, ``None`` or the exact message ``StrategyConfig``
    would raise for that row (the first rule broken, in the same order of checks).
    """
    n = params.shape[0]
    failed = np.zeros(n, dtype=bool)
    messages: list[str | None] = [None] * n
    for field in CONFIG_FIELDS:
        if not field.numeric:
            continue
        name, bounds = field.name, field.bounds
        col = params[:, PARAM_COLUMNS[name]]
        is_int = field.kind == "int"
        present = ~np.isnan(col) if field.kind == "optfloat" else np.ones(n, dtype=bool)
        with np.errstate(invalid="ignore"):
            bad = present & ~np.isfinite(col)
            if bounds.low is not None:
                bad |= present & ((col < bounds.low) if bounds.low_inclusive else (col <= bounds.low))
            if bounds.high is not None:
                bad |= present & ((col > bounds.high) if bounds.high_inclusive else (col >= bounds.high))
        new = bad & ~failed
        for i in np.flatnonzero(new).tolist():
            v = col[i]
            value: Any = int(v) if is_int and math.isfinite(v) else float(v)
            if not math.isfinite(v):
                messages[i] = f"{name} must be a finite number, got {value!r}"
            else:
                messages[i] = f"{name} must be in {bounds.text()}, got {value!r}"
        failed |= new
    gmin, gmax = params[:, K.P_GMIN], params[:, K.P_GMAX]
    new = (gmax <= gmin) & ~failed
    for i in np.flatnonzero(new).tolist():
        messages[i] = f"guardrail_max ({float(gmax[i])!r}) must be greater than guardrail_min ({float(gmin[i])!r})"
    failed |= new
    failed = _validate_trigger_clamps(params, failed, messages)
    return ~failed, messages


def _validate_trigger_clamps(params: np.ndarray, failed: np.ndarray, messages: list[str | None]) -> np.ndarray:
    """``StrategyConfig``'s clamp rules (docs/strategy.md §5.4a), in its order: ``trigger_min ≤ trigger_max``, then
    for vol_scaled rows each trigger within the clamps. Fills ``messages`` and returns the updated ``failed``."""
    tmin, tmax = params[:, K.P_TRIGGER_MIN], params[:, K.P_TRIGGER_MAX]
    new = (tmin > tmax) & ~failed
    for i in np.flatnonzero(new).tolist():
        messages[i] = (f"trigger_min ({float(tmin[i])!r}) must not be greater than trigger_max "
                       f"({float(tmax[i])!r})")
    failed = failed | new
    scaled = params[:, K.P_THRESHOLD_MODE] == K.THRESHOLD_VOL_SCALED
    for name, slot in (("trigger_up", K.P_TRIGGER_UP), ("trigger_down", K.P_TRIGGER_DOWN)):
        col = params[:, slot]
        new = scaled & ~((tmin <= col) & (col <= tmax)) & ~failed
        for i in np.flatnonzero(new).tolist():
            messages[i] = vol_bracket_message(name, float(col[i]), float(tmin[i]), float(tmax[i]))
        failed = failed | new
    return failed
