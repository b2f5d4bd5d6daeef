"""Portfolios of position cells (docs/strategy.md §12): ``simulate_portfolio`` and its rules."""

from core.portfolio.engine import POOL, PortfolioResult, simulate_portfolio
from core.portfolio.rules import PORTFOLIO_FIELDS, REALLOCATIONS, PortfolioCell, PortfolioRules

__all__ = [
    "POOL",
    "PORTFOLIO_FIELDS",
    "REALLOCATIONS",
    "PortfolioCell",
    "PortfolioResult",
    "PortfolioRules",
    "simulate_portfolio",
]
