"""A portfolio's own rules (docs/strategy.md §12): one registry of fields, a validated dataclass, and the cells.

The fields follow the configuration registry's shape (:class:`core.config_registry.ConfigField`), so the app's
form, the API schema, the exports and the definitions page read their label, unit, range and help from one place.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from core.config import StrategyConfig
from core.config_registry import MAX_INITIAL_CAPITAL, UNIT_INTERVAL, Bounds, ConfigField
from core.errors import ConfigError

REALLOCATIONS: tuple[str, ...] = ("none", "monthly", "quarterly", "yearly", "band")
"""When the portfolio moves value between cells (docs/strategy.md §12.3): never, at the first common bar of each
calendar month/quarter/year, or when a cell's weight has left its target by more than ``reallocation_band``."""

Reallocation = Literal["none", "monthly", "quarterly", "yearly", "band"]

GROUP_PORTFOLIO = "Portfolio rules"
WEIGHT_TOLERANCE = 1e-9  # weights that must add up to one may miss by float rounding only

PORTFOLIO_FIELDS: tuple[ConfigField, ...] = (
    ConfigField("initial_capital", "float", 100_000.0, "money", "Portfolio capital",
                "Value of the whole portfolio at the start; each cell starts with its weight of it (> 0, at most "
                "1e12).", GROUP_PORTFOLIO, Bounds(0.0, False, MAX_INITIAL_CAPITAL, True), step=10_000.0),
    ConfigField("cash_pool", "bool", False, "flag", "Cash pool",
                "Keep the weight the cells do not take (100 % minus their weights) in a portfolio cash pool. A cell "
                "whose buy its own cash cannot pay draws the shortfall from the pool, up to its cap, and repays it "
                "from its next sale.", GROUP_PORTFOLIO),
    ConfigField("pool_cap", "float", 0.1, "fraction", "Pool cap per cell (%)",
                "The most one cell may owe the pool at a time, as a share of the portfolio capital (0 to 100 %).",
                GROUP_PORTFOLIO, UNIT_INTERVAL, step=1.0),
    ConfigField("reallocation", "choice", "none", "choice", "Re-allocation",
                "Move value between the cells (and the pool) back to their weights: never, at the first common bar "
                "of each month, quarter or year, or when a cell's weight leaves its target by more than the band.",
                GROUP_PORTFOLIO, choices=REALLOCATIONS),
    ConfigField("reallocation_band", "float", 0.05, "fraction", "Re-allocation band (%)",
                "Band re-allocation only: how far (in percentage points of the portfolio) a cell's weight may drift "
                "from its target before the portfolio re-allocates; above 0 % and below 100 %.", GROUP_PORTFOLIO,
                Bounds(0.0, False, 1.0, False), step=1.0),
)
PORTFOLIO_FIELDS_BY_NAME: dict[str, ConfigField] = {f.name: f for f in PORTFOLIO_FIELDS}


@dataclass(frozen=True)
class PortfolioRules:
    """The portfolio-level rules of docs/strategy.md §12; fields and ranges are :data:`PORTFOLIO_FIELDS`."""

    initial_capital: float = 100_000.0
    cash_pool: bool = False
    pool_cap: float = 0.1
    reallocation: Reallocation = "none"
    reallocation_band: float = 0.05

    def __post_init__(self) -> None:
        for f in PORTFOLIO_FIELDS:
            value = getattr(self, f.name)
            if f.kind == "bool":
                if not isinstance(value, bool):
                    raise ConfigError(f"{f.name} must be true or false, got {value!r}")
            elif f.kind == "choice":
                if value not in f.choices:
                    raise ConfigError(f"{f.name} must be one of {', '.join(f.choices)}, got {value!r}")
            else:
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ConfigError(f"{f.name} must be a number, got {value!r}")
                if not math.isfinite(value) or not f.bounds.contains(value):
                    raise ConfigError(f"{f.name} must be in {f.bounds.text()}, got {value!r}")
                object.__setattr__(self, f.name, float(value))

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-serialisable dict of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PortfolioRules:
        """Build from a dict such as ``to_dict`` returns; missing keys take defaults, unknown keys raise."""
        unknown = sorted(set(data) - set(PORTFOLIO_FIELDS_BY_NAME))
        if unknown:
            raise ConfigError(f"unknown portfolio rule(s): {', '.join(unknown)}")
        return cls(**data)


@dataclass(frozen=True, eq=False)
class PortfolioCell:
    """One stock and its share of the cash, trading on its own configuration (docs/strategy.md §12.1).

    ``weight`` is the cell's share of the portfolio capital at the start; the configuration's own
    ``initial_capital`` is replaced by ``weight × portfolio capital``.
    """

    name: str
    prices: pd.DataFrame
    config: StrategyConfig = field(default_factory=StrategyConfig)
    weight: float = 1.0
    dividends: pd.DataFrame | None = None


def check_cells(cells: list[PortfolioCell], rules: PortfolioRules) -> float:
    """Validate the cells against the rules (§12.1); return the pool's weight (0 without a pool)."""
    if not cells:
        raise ConfigError("a portfolio needs at least one cell")
    names = [c.name for c in cells]
    if any(not str(n).strip() for n in names):
        raise ConfigError("every cell needs a name")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(f"cell names must be unique; repeated: {', '.join(repeated)}")
    for c in cells:
        if isinstance(c.weight, bool) or not isinstance(c.weight, (int, float)) or not math.isfinite(c.weight):
            raise ConfigError(f"cell {c.name!r}: weight must be a number, got {c.weight!r}")
        if not 0.0 < c.weight <= 1.0:
            raise ConfigError(f"cell {c.name!r}: weight must be in (0, 1] (a share of the capital), got {c.weight!r}")
    periods = {c.config.periods_per_year for c in cells}
    if len(periods) > 1:
        raise ConfigError(
            f"every cell must use the same periods_per_year (the portfolio's metrics are annualised once); got "
            f"{', '.join(str(p) for p in sorted(periods))}"
        )
    total = math.fsum(c.weight for c in cells)
    if rules.cash_pool:
        if total > 1.0 + WEIGHT_TOLERANCE:
            raise ConfigError(
                f"the cells' weights add up to {total * 100:.2f} %; with a cash pool they may add up to at most 100 % "
                "(the pool holds the rest)"
            )
        return max(0.0, 1.0 - total)
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        raise ConfigError(
            f"the cells' weights add up to {total * 100:.2f} %; without a cash pool they must add up to 100 % "
            f"(scale them, or turn on the cash pool to keep {max(0.0, 1.0 - total) * 100:.2f} % in it)"
        )
    return 0.0
