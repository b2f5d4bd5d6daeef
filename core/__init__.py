"""Volatility Balancing Lab core: configuration, simulation, metrics, data and reports. No UI imports here.

The public contract (docs/strategy.md): ``StrategyConfig``, ``simulate``, ``simulate_many``, ``SimulationResult``,
``core.errors.DataError`` and ``core.errors.ConfigError``; ``simulate_portfolio`` with ``PortfolioCell`` and
``PortfolioRules`` (docs/strategy.md §12).
"""

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
