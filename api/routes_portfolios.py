"""``/v1/portfolios``: portfolios of position cells (docs/strategy.md §12) — backtest (and store), list, show,
re-run with verification, delete, and their reports."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Response

from api.app import StoreDep
from api.exports import attachment
from api.problems import ConfigProblem, Problem
from api.schemas import PortfolioRequest
from core.errors import ConfigError
from core.json_values import plain, records
from usecases.portfolios import PortfolioSpec, run_portfolio, save_portfolio, verify_portfolio
from usecases.store import PORTFOLIO_SORT_KEYS, PortfolioRecord

router = APIRouter(prefix="/v1/portfolios", tags=["portfolios"])


def portfolio_json(record: PortfolioRecord) -> dict[str, Any]:
    """A stored portfolio's record."""
    return {"id": record.id, "name": record.name, "notes": record.notes, "rules": plain(record.rules),
            "cells": [c.to_dict() for c in record.cells], "engine_version": record.engine_version,
            "created_at": plain(record.created_at), "metrics": plain(record.metrics)}


def _spec(body: PortfolioRequest) -> PortfolioSpec:
    data = body.model_dump(include={"rules", "cells"}, exclude_none=True)
    for cell in data["cells"]:
        cell.setdefault("config", {})
    try:
        return PortfolioSpec.from_dict(data)
    except ConfigError as exc:
        raise ConfigProblem(exc, ["body"]) from None


@router.post("")
def create_portfolio(body: PortfolioRequest, store: StoreDep) -> dict[str, Any]:
    """Backtest the cells under the rules; the metrics, each cell's contribution and the transfers (and, with
    ``save``, the stored portfolio's id)."""
    spec = _spec(body)
    result = run_portfolio(store, spec)
    out: dict[str, Any] = {
        "metrics": plain(result.metrics),
        "weights": plain(result.weights),
        "contributions": records(result.contributions, index=False),
        "transfers": records(result.transfers, index=False),
        "n_trades": len(result.trades),
        "start": plain(result.equity.index[0]),
        "end": plain(result.equity.index[-1]),
    }
    if body.include_equity:
        daily = result.daily_equity.groupby(level=0).last()
        out["equity"] = records(daily.rename("equity").to_frame(), index=True)
        out["benchmarks"] = records(result.benchmarks, index=True)
    if body.save:
        out["id"] = save_portfolio(store, spec, result, name=body.name, notes=body.notes)
    return out


@router.get("")
def list_portfolios(
    store: StoreDep,
    limit: int = Query(50, ge=1, le=1000),
    offset: int = Query(0, ge=0),
    sort: str = Query("-created_at", description="one of " + ", ".join(PORTFOLIO_SORT_KEYS) + "; prefix - for "
                      "descending"),
) -> dict[str, Any]:
    """Stored portfolios, sorted and paged."""
    if sort.lstrip("+-") not in PORTFOLIO_SORT_KEYS:
        raise Problem(422, f"cannot sort portfolios by {sort!r}; use one of {', '.join(PORTFOLIO_SORT_KEYS)}",
                      kind="validation-error")
    rows = store.list_portfolios(sort=sort.lstrip("+"), limit=limit, offset=offset)
    return {"offset": offset, "limit": limit, "items": [portfolio_json(r) for r in rows]}


@router.get("/{portfolio_id}")
def get_portfolio(portfolio_id: int, store: StoreDep, trades: bool = True) -> dict[str, Any]:
    """A stored portfolio with its trades (every cell's, exactly as saved)."""
    out = portfolio_json(store.get_portfolio(portfolio_id))
    if trades:
        out["trades"] = records(store.get_portfolio_trades(portfolio_id), index=False)
    return out


@router.post("/{portfolio_id}/rerun")
def rerun(portfolio_id: int, store: StoreDep) -> dict[str, Any]:
    """Re-run from the stored datasets and say whether metrics and trades are reproduced exactly."""
    check = verify_portfolio(store, portfolio_id)
    return {"id": portfolio_id, "identical": check.identical, "differences": list(check.differences)}


@router.delete("/{portfolio_id}", status_code=204)
def delete_portfolio(portfolio_id: int, store: StoreDep) -> Response:
    """Delete a stored portfolio and its trades (the datasets stay)."""
    store.delete_portfolio(portfolio_id)
    return Response(status_code=204)


@router.get("/{portfolio_id}/report.{fmt}")
def report(portfolio_id: int, fmt: Literal["xlsx", "pdf", "csv", "json"], store: StoreDep) -> Response:
    """The stored portfolio re-run and exported: workbook, PDF, CSV of the trades or JSON."""
    from usecases.portfolio_reports import portfolio_report

    return attachment(portfolio_report(store, portfolio_id, fmt))
