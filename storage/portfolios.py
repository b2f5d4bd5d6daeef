"""Stored portfolio backtests (docs/strategy.md §12): rules, cells, metrics and trades; a re-run recomputes the rest.

The store keeps what a re-run needs — the portfolio's rules and, per cell, its name, weight, configuration and the
stored dataset it ran on — plus the metrics and trades to compare a re-run with. It never runs the engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.config import StrategyConfig
from storage import codec
from storage._base import StoreBase, aware, require, utcnow
from storage.models import datasets, portfolio_trades, portfolios
from storage.runs import order_clause
from storage.values import FrozenMap, stored_name

PORTFOLIO_SORT_KEYS: tuple[str, ...] = ("id", "created_at", "name", "total_return", "sharpe")


@dataclass(frozen=True)
class StoredCell:
    """One cell of a stored portfolio: its name, weight, configuration and the stored dataset it runs on."""

    name: str
    dataset_id: int
    weight: float
    config: StrategyConfig

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "dataset_id": self.dataset_id, "weight": self.weight,
                "config": self.config.to_dict()}


@dataclass(frozen=True)
class PortfolioRecord:
    """A stored portfolio backtest (trades via ``Store.get_portfolio_trades``; the rest via a re-run)."""

    id: int
    name: str
    notes: str
    rules: FrozenMap
    cells: tuple[StoredCell, ...]
    engine_version: str
    created_at: datetime
    metrics: FrozenMap


def _record(row: Any) -> PortfolioRecord:
    return PortfolioRecord(
        id=row.id,
        name=row.name,
        notes=row.notes,
        rules=FrozenMap(codec.loads(row.rules)),
        cells=tuple(
            StoredCell(c["name"], int(c["dataset_id"]), float(c["weight"]), StrategyConfig.from_dict(c["config"]))
            for c in codec.loads(row.cells)
        ),
        engine_version=row.engine_version,
        created_at=aware(row.created_at),
        metrics=FrozenMap(codec.loads(row.metrics)),
    )


class PortfoliosMixin(StoreBase):
    """Save, list, read and delete portfolio backtests."""

    def save_portfolio(
        self,
        *,
        rules: Mapping[str, Any],
        cells: Sequence[StoredCell],
        metrics: Mapping[str, float],
        trades: pd.DataFrame,
        engine_version: str,
        name: str = "",
        notes: str = "",
    ) -> int:
        """Store a portfolio backtest and return its id; every cell's dataset must exist (``NotFound``)."""
        metrics = dict(metrics)
        row = {
            "name": stored_name(name or "", "portfolio"),
            "notes": notes or "",
            "rules": codec.dumps(dict(rules)),
            "cells": codec.dumps([c.to_dict() for c in cells]),
            "engine_version": str(engine_version),
            "metrics": codec.dumps(metrics),
            "total_return": codec.finite_or_none(metrics.get("total_return")),
            "sharpe": codec.finite_or_none(metrics.get("sharpe")),
        }
        blob = codec.encode_frame(trades)

        def insert(conn: Connection) -> int:
            for c in cells:
                require(conn.execute(sa.select(datasets.c.id).where(datasets.c.id == c.dataset_id)).first(),
                        "dataset", c.dataset_id)
            pid = conn.execute(sa.insert(portfolios).values(**row, created_at=utcnow())).inserted_primary_key[0]
            conn.execute(sa.insert(portfolio_trades).values(portfolio_id=pid, n_rows=len(trades), data=blob))
            self._audit(conn, "create", "portfolio", pid, {"name": row["name"], "cells": [c.name for c in cells]})
            return int(pid)

        return self._write(insert)

    def get_portfolio(self, portfolio_id: int) -> PortfolioRecord:
        """The stored portfolio; :class:`~storage.errors.NotFound` if there is none with that id."""
        row = self._read(
            lambda conn: conn.execute(sa.select(portfolios).where(portfolios.c.id == portfolio_id)).first()
        )
        return _record(require(row, "portfolio", portfolio_id))

    def get_portfolio_trades(self, portfolio_id: int) -> pd.DataFrame:
        """The portfolio's trades (every cell's, with the cell), exactly as saved."""
        row = self._read(lambda conn: conn.execute(
            sa.select(portfolio_trades.c.data).where(portfolio_trades.c.portfolio_id == portfolio_id)).first())
        return codec.decode_frame(require(row, "portfolio", portfolio_id).data)

    def list_portfolios(self, sort: str = "-created_at", limit: int | None = 100, offset: int = 0,
                        name_contains: str | None = None) -> list[PortfolioRecord]:
        """Stored portfolios, sorted (one of ``PORTFOLIO_SORT_KEYS``, ``-`` for descending) and paged."""
        query = sa.select(portfolios).order_by(*order_clause(portfolios, sort, PORTFOLIO_SORT_KEYS))
        if name_contains:
            query = query.where(sa.func.lower(portfolios.c.name).contains(name_contains.lower(), autoescape=True))
        if limit is not None:
            query = query.limit(limit)
        if offset:
            query = query.offset(offset)
        return [_record(r) for r in self._read(lambda conn: conn.execute(query).all())]

    def delete_portfolio(self, portfolio_id: int) -> None:
        """Delete a portfolio and its trades; ``NotFound`` if it does not exist."""

        def delete(conn: Connection) -> None:
            row = require(conn.execute(sa.select(portfolios.c.name).where(portfolios.c.id == portfolio_id)).first(),
                          "portfolio", portfolio_id)
            conn.execute(sa.delete(portfolio_trades).where(portfolio_trades.c.portfolio_id == portfolio_id))
            conn.execute(sa.delete(portfolios).where(portfolios.c.id == portfolio_id))
            self._audit(conn, "delete", "portfolio", portfolio_id, {"name": row.name})

        self._write(delete)
