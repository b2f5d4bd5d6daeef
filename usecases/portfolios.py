"""Portfolios of position cells (docs/strategy.md §12) over the store: run one from stored datasets, save it,
re-run a stored one (on its own data, or on the newest stored data of each cell's symbol) and check a re-run
reproduces it exactly. The CLI, the API, the scheduler and the app's Portfolio page all come through here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core import ENGINE_VERSION, StrategyConfig
from core.errors import ConfigError
from core.portfolio import PortfolioCell, PortfolioResult, PortfolioRules, simulate_portfolio
from storage import PortfolioRecord, Store, StoredCell, StoreReadOnly
from usecases.alerts import newest_dataset
from usecases.runs import metric_differences, same_frame


@dataclass(frozen=True)
class PortfolioSpec:
    """What a portfolio backtest is made of: its rules and its cells, each on a stored dataset."""

    rules: PortfolioRules
    cells: tuple[StoredCell, ...]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PortfolioSpec:
        """From ``{"rules": {...}, "cells": [{"name", "dataset_id", "weight", "config": {...}}, ...]}`` (the API's
        and the CLI's JSON); missing rules and configuration fields take their defaults."""
        if not isinstance(data, dict):
            raise ConfigError("a portfolio must be an object with 'rules' and 'cells'")
        unknown = sorted(set(data) - {"rules", "cells"})
        if unknown:
            raise ConfigError(f"unknown portfolio key(s): {', '.join(unknown)}; use 'rules' and 'cells'")
        raw_cells = data.get("cells")
        if not isinstance(raw_cells, list) or not raw_cells:
            raise ConfigError("'cells' must be a non-empty list of {name, dataset_id, weight, config}")
        cells = []
        for n, c in enumerate(raw_cells, start=1):
            if not isinstance(c, dict):
                raise ConfigError(f"cell {n} must be an object with name, dataset_id, weight and config")
            extra = sorted(set(c) - {"name", "dataset_id", "weight", "config"})
            if extra:
                raise ConfigError(f"cell {n}: unknown key(s) {', '.join(extra)}")
            if not isinstance(c.get("dataset_id"), int) or isinstance(c.get("dataset_id"), bool):
                raise ConfigError(f"cell {n}: dataset_id must be the id of a stored dataset (a whole number)")
            cells.append(StoredCell(str(c.get("name") or f"cell {n}"), c["dataset_id"], c.get("weight", 0.0),
                                    StrategyConfig.from_dict(dict(c.get("config") or {}))))
        return cls(PortfolioRules.from_dict(dict(data.get("rules") or {})), tuple(cells))

    def to_dict(self) -> dict[str, Any]:
        return {"rules": self.rules.to_dict(), "cells": [c.to_dict() for c in self.cells]}


def spec_of(record: PortfolioRecord) -> PortfolioSpec:
    """The spec a stored portfolio ran on."""
    return PortfolioSpec(PortfolioRules.from_dict(dict(record.rules)), record.cells)


def run_portfolio(store: Store, spec: PortfolioSpec) -> PortfolioResult:
    """Backtest ``spec`` on its stored datasets (``NotFound`` for a missing one)."""
    cells = []
    for c in spec.cells:
        frames = store.load_dataset(c.dataset_id)
        cells.append(PortfolioCell(c.name, frames.prices, c.config, c.weight, frames.dividends))
    return simulate_portfolio(cells, spec.rules)


def save_portfolio(store: Store, spec: PortfolioSpec, result: PortfolioResult, *, name: str = "",
                   notes: str = "") -> int:
    """Store a portfolio backtest (its spec, metrics and trades) and return its id."""
    return store.save_portfolio(rules=spec.rules.to_dict(), cells=spec.cells, metrics=result.metrics,
                                trades=result.trades, engine_version=ENGINE_VERSION, name=name, notes=notes)


def rerun_portfolio(store: Store, portfolio_id: int, *, latest_data: bool = False) -> PortfolioResult:
    """Re-run a stored portfolio: on the datasets it ran on, or (``latest_data``) on the newest stored dataset of
    each cell's symbol and interval — what a scheduled report sends."""
    spec = spec_of(store.get_portfolio(portfolio_id))
    if latest_data:
        spec = on_newest_data(store, spec)
    result = run_portfolio(store, spec)
    with contextlib.suppress(StoreReadOnly):
        store.record_audit("run", "portfolio", portfolio_id, {"action": "rerun", "latest_data": latest_data})
    return result


def on_newest_data(store: Store, spec: PortfolioSpec) -> PortfolioSpec:
    """``spec`` with each cell on the newest stored dataset of its symbol and interval (its own when none is
    newer)."""
    return PortfolioSpec(spec.rules, tuple(_cell_on_newest_data(store, c) for c in spec.cells))


def _cell_on_newest_data(store: Store, cell: StoredCell) -> StoredCell:
    info = store.get_dataset(cell.dataset_id)
    newest = newest_dataset(store, info.symbol, interval=info.interval) if info.symbol else None
    if newest is None:
        return cell
    return StoredCell(cell.name, newest.id, cell.weight, cell.config)


@dataclass(frozen=True)
class PortfolioRerunCheck:
    """Outcome of :func:`verify_portfolio`: ``identical`` when metrics and trades match bit for bit."""

    portfolio_id: int
    identical: bool
    differences: tuple[str, ...]


def verify_portfolio(store: Store, portfolio_id: int) -> PortfolioRerunCheck:
    """Re-run a stored portfolio and report whether its metrics and trades equal the stored ones exactly."""
    record = store.get_portfolio(portfolio_id)
    stored_trades = store.get_portfolio_trades(portfolio_id)
    result = rerun_portfolio(store, portfolio_id)
    differences = metric_differences(record.metrics, result.metrics)
    # the stored trades are read back with a fresh index; the rows and their order are what must match
    if not same_frame(stored_trades.reset_index(drop=True), result.trades.reset_index(drop=True)):
        differences.append("trades differ")
    return PortfolioRerunCheck(portfolio_id, not differences, tuple(differences))


def list_portfolios(store: Store, **options: Any) -> list[PortfolioRecord]:
    """The stored portfolios (``Store.list_portfolios`` options)."""
    return store.list_portfolios(**options)


def cells_from_datasets(store: Store, dataset_ids: Sequence[int], config: StrategyConfig,
                        weights: Sequence[float] | None = None) -> tuple[StoredCell, ...]:
    """Cells named after their datasets' symbols, equal weights unless given: the CLI's and the page's default."""
    if weights is not None and len(weights) != len(dataset_ids):
        raise ConfigError(f"{len(weights)} weight(s) for {len(dataset_ids)} dataset(s); give one per dataset")
    share = 1.0 / len(dataset_ids) if dataset_ids else 0.0
    cells = []
    for n, dataset_id in enumerate(dataset_ids):
        info = store.get_dataset(dataset_id)
        name = info.symbol or info.name or f"dataset {dataset_id}"
        if any(c.name == name for c in cells):
            name = f"{name} #{dataset_id}"
        cells.append(StoredCell(name, dataset_id, float(weights[n]) if weights is not None else share, config))
    return tuple(cells)


def sample_datasets(store: Store, names: Sequence[str]) -> list[int]:
    """The store's datasets of bundled histories (``core.data.samples``), saved first where missing: saving the
    same bars under the same name again returns the existing id, so this is idempotent."""
    from core.data.samples import load_sample

    return [store.save_dataset(load_sample(name)) for name in names]
