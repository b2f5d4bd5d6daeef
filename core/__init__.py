"""Volatility Balancing Lab core: configuration, simulation, metrics, data and reports. No UI imports here.

The public contract (docs/strategy.md): ``StrategyConfig``, ``simulate``, ``simulate_many``, ``SimulationResult``,
``core.errors.DataError`` and ``core.errors.ConfigError``; ``simulate_portfolio`` with ``PortfolioCell`` and
``PortfolioRules`` (docs/strategy.md §12).

The names are imported on first use (PEP 562), not with the package: the engine pulls in numba and pandas
(~0.4 s), which a process that only needs a light module of ``core`` (the chart-export browser, which the command
line starts before anything else) should not wait for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.config import StrategyConfig
    from core.engine import (
        ENGINE_VERSION,
        METRIC_NAMES,
        Event,
        EventType,
        SimulationResult,
        simulate,
        simulate_many,
    )
    from core.errors import ConfigError, DataError
    from core.portfolio import PortfolioCell, PortfolioResult, PortfolioRules, simulate_portfolio

_SOURCES: dict[str, str] = {
    "StrategyConfig": "core.config",
    **dict.fromkeys(
        ("ENGINE_VERSION", "METRIC_NAMES", "Event", "EventType", "SimulationResult", "simulate", "simulate_many"),
        "core.engine",
    ),
    **dict.fromkeys(("ConfigError", "DataError"), "core.errors"),
    **dict.fromkeys(("PortfolioCell", "PortfolioResult", "PortfolioRules", "simulate_portfolio"), "core.portfolio"),
}

__all__ = [
    "ENGINE_VERSION",
    "METRIC_NAMES",
    "ConfigError",
    "DataError",
    "Event",
    "EventType",
    "PortfolioCell",
    "PortfolioResult",
    "PortfolioRules",
    "SimulationResult",
    "StrategyConfig",
    "simulate",
    "simulate_many",
    "simulate_portfolio",
]


def __getattr__(name: str) -> Any:
    if name not in _SOURCES:
        raise AttributeError(f"module 'core' has no attribute {name!r}")
    value = getattr(importlib.import_module(_SOURCES[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_SOURCES})
