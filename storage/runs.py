"""Backtest runs: configuration, metrics and trades; the timeline is recomputed on demand by :meth:`rerun`."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.config import StrategyConfig
from storage import codec
from storage._base import StoreBase, aware, naive_utc, require, utcnow
from storage.datasets import bar_bounds
from storage.models import INDEXED_METRICS, run_trades, runs
from storage.values import FrozenMap, RunFilter, RunRecord, stored_name

RUN_SORT_KEYS: tuple[str, ...] = ("id", "created_at", "name", *INDEXED_METRICS)


def indexed_metric_values(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """The values of the indexed metric columns (NaN or missing -> NULL; ``n_trades`` as an integer)."""
    values: dict[str, Any] = {m: codec.finite_or_none(metrics.get(m)) for m in INDEXED_METRICS}
    n = values["n_trades"]
    values["n_trades"] = int(n) if n is not None and math.isfinite(n) else None
    return values


def order_clause(table: sa.Table, sort: str, allowed: Iterable[str], *, scan: bool = False) -> list[Any]:
    """ORDER BY for ``"key"`` (ascending) or ``"-key"`` (descending); NULL (NaN) metrics always sort last.

    ``scan`` (SQLite) writes the key as ``+column`` so the planner reads the rows in storage order and sorts them,
    instead of walking the key's index and looking every row up: much faster when most of the rows are wanted.
    """
    key = sort.lstrip("-+")
    allowed = tuple(allowed)
    if key not in allowed:
        raise ValueError(f"cannot sort by {sort!r}; use one of {', '.join(allowed)} (prefix '-' for descending)")
    column = table.c[key]
    expr: Any = sa.literal_column(f"+{table.name}.{key}", type_=column.type) if scan else column
    primary = expr.desc() if sort.startswith("-") else expr.asc()
    return [primary.nulls_last(), *(c.asc() for c in table.primary_key.columns if c is not column)]


def _record(row: Any) -> RunRecord:
    metrics = codec.loads(row.metrics)
    return RunRecord(
        id=row.id,
        dataset_id=row.dataset_id,
        name=row.name,
        tags=tuple(codec.loads(row.tags)),
        notes=row.notes,
        config=StrategyConfig.from_dict(codec.loads(row.config)),
        engine_version=row.engine_version,
        created_at=aware(row.created_at),
        metrics=FrozenMap(metrics),
        n_trades=row.n_trades,
    )


def _clean_tags(tags: Iterable[str]) -> list[str]:
    if isinstance(tags, str):
        tags = [tags]
    out: list[str] = []
    for tag in tags:
        tag = str(tag).strip()
        if tag and tag not in out:
            out.append(tag)
    return out


def _where(flt: RunFilter) -> list[Any]:
    clauses: list[Any] = []
    if flt.dataset_id is not None:
        clauses.append(runs.c.dataset_id == flt.dataset_id)
    if flt.name_contains:
        clauses.append(sa.func.lower(runs.c.name).contains(flt.name_contains.lower(), autoescape=True))
    if flt.tag:
        clauses.append(runs.c.tags.contains(codec.dumps(flt.tag.strip()), autoescape=True))
    if flt.engine_version:
        clauses.append(runs.c.engine_version == flt.engine_version)
    if flt.created_after is not None:
        clauses.append(runs.c.created_at >= naive_utc(flt.created_after))
    if flt.created_before is not None:
        clauses.append(runs.c.created_at < naive_utc(flt.created_before))
    if flt.min_sharpe is not None:
        clauses.append(runs.c.sharpe >= flt.min_sharpe)
    return clauses


class RunsMixin(StoreBase):
    """Save, list, edit, delete and re-run backtest runs."""

    def save_run(
        self,
        dataset_id: int,
        result: Any,
        *,
        config: StrategyConfig | None = None,
        name: str = "",
        tags: Iterable[str] = (),
        notes: str = "",
        engine_version: str | None = None,
    ) -> int:
        """Store a backtest result (a ``core.SimulationResult``: its config, metrics and trades) and return its id.

        ``config`` and ``engine_version`` default to the result's own. The timeline is not stored: :meth:`rerun`
        recomputes it from the stored dataset and configuration.

        Raises:
            NotFound: there is no dataset ``dataset_id``.
            ValueError: the result's timeline has other bars than the dataset (a period cut from it): the re-run
                would cover the whole dataset and differ; store the period as a dataset of its own first.
        """
        _check_bars(self.get_dataset(dataset_id), result)
        config = config if config is not None else result.config
        if not isinstance(config, StrategyConfig):
            config = StrategyConfig.from_dict(dict(config))
        if engine_version is None:
            engine_version = getattr(result, "engine_version", None)
        if engine_version is None:
            from core import ENGINE_VERSION

            engine_version = ENGINE_VERSION
        metrics = dict(result.metrics)
        trades = result.trades if result.trades is not None else pd.DataFrame()
        row = {
            "dataset_id": dataset_id,
            "name": stored_name(name or "", "run"),
            "tags": codec.dumps(_clean_tags(tags)),
            "notes": notes or "",
            "config": codec.dumps(config.to_dict()),
            "engine_version": str(engine_version),
            "metrics": codec.dumps(metrics),
            **indexed_metric_values(metrics),
        }
        blob = codec.encode_frame(trades)

        def insert(conn: Connection) -> int:
            run_id = conn.execute(sa.insert(runs).values(**row, created_at=utcnow())).inserted_primary_key[0]
            conn.execute(sa.insert(run_trades).values(run_id=run_id, n_rows=len(trades), data=blob))
            self._audit(conn, "create", "run", run_id, {"dataset_id": dataset_id, "name": row["name"]})
            return int(run_id)

        return self._write(insert)

    def get_run(self, run_id: int) -> RunRecord:
        """The stored run; :class:`~storage.errors.NotFound` if there is none with that id."""
        row = self._read(lambda conn: conn.execute(sa.select(runs).where(runs.c.id == run_id)).first())
        return _record(require(row, "run", run_id))

    def get_run_trades(self, run_id: int) -> pd.DataFrame:
        """The run's trades, exactly as saved."""
        row = self._read(
            lambda conn: conn.execute(sa.select(run_trades.c.data).where(run_trades.c.run_id == run_id)).first()
        )
        return codec.decode_frame(require(row, "run", run_id).data)

    def list_runs(
        self,
        filter: RunFilter | Mapping[str, Any] | None = None,
        sort: str = "-created_at",
        limit: int | None = 100,
        offset: int = 0,
    ) -> list[RunRecord]:
        """Runs matching ``filter`` (a :class:`RunFilter` or a dict of its fields), sorted and paged.

        ``sort`` is one of ``RUN_SORT_KEYS``, prefixed with ``-`` for descending; NaN metrics sort last.
        ``limit=None`` returns every match.
        """
        flt = filter if isinstance(filter, RunFilter) else RunFilter(**dict(filter or {}))
        query = sa.select(runs).where(*_where(flt)).order_by(*order_clause(runs, sort, RUN_SORT_KEYS))
        if limit is not None:
            query = query.limit(limit)
        if offset:
            query = query.offset(offset)
        rows = self._read(lambda conn: conn.execute(query).all())
        return [_record(r) for r in rows]

    def count_runs(self, filter: RunFilter | Mapping[str, Any] | None = None) -> int:
        """How many runs match ``filter``."""
        flt = filter if isinstance(filter, RunFilter) else RunFilter(**dict(filter or {}))
        query = sa.select(sa.func.count()).select_from(runs).where(*_where(flt))
        return int(self._read(lambda conn: conn.execute(query).scalar_one()))

    def update_run(
        self,
        run_id: int,
        *,
        name: str | None = None,
        tags: Iterable[str] | None = None,
        notes: str | None = None,
    ) -> RunRecord:
        """Change a run's name, tags or notes (results are immutable) and return the updated record."""
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = stored_name(name, "run")
        if tags is not None:
            changes["tags"] = codec.dumps(_clean_tags(tags))
        if notes is not None:
            changes["notes"] = notes

        def update(conn: Connection) -> None:
            require(conn.execute(sa.select(runs.c.id).where(runs.c.id == run_id)).first(), "run", run_id)
            if changes:
                conn.execute(sa.update(runs).where(runs.c.id == run_id).values(**changes))
                self._audit(conn, "update", "run", run_id, {k: codec.loads(v) if k == "tags" else v
                                                             for k, v in changes.items()})

        self._write(update)
        return self.get_run(run_id)

    def delete_run(self, run_id: int) -> None:
        """Delete a run and its trades; :class:`~storage.errors.NotFound` if it does not exist."""

        def delete(conn: Connection) -> None:
            row = require(conn.execute(sa.select(runs.c.name).where(runs.c.id == run_id)).first(), "run", run_id)
            conn.execute(sa.delete(run_trades).where(run_trades.c.run_id == run_id))
            conn.execute(sa.delete(runs).where(runs.c.id == run_id))
            self._audit(conn, "delete", "run", run_id, {"name": row.name})

        self._write(delete)


def _check_bars(dataset: Any, result: Any) -> None:
    """Refuse a result simulated on other bars than ``dataset`` holds (see ``save_run``)."""
    timeline = getattr(result, "timeline", None)
    if timeline is None or dataset.first_timestamp is None:
        return  # a result without a timeline (an imported record), or a dataset without dates
    first, last = bar_bounds(timeline)
    held = (dataset.n_rows, naive_utc(dataset.first_timestamp), naive_utc(dataset.last_timestamp))
    if (len(timeline), first, last) == held:
        return

    def day(value: Any) -> str:
        return "-" if value is None else f"{value:%Y-%m-%d}"

    raise ValueError(
        f"the run covers {len(timeline):,} bars ({day(first)} to {day(last)}) but dataset {dataset.id} holds "
        f"{dataset.n_rows:,} ({day(held[1])} to {day(held[2])}): a stored run is re-run on its whole dataset, so "
        "save the simulated period as a dataset of its own first"
    )
