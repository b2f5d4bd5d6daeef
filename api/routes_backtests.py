"""``POST /v1/backtests``: one configuration on a stored or bundled dataset, optionally saved as a run."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from api.app import StoreDep
from api.datasets import resolve, stored_id
from api.problems import ConfigProblem
from api.responses import BacktestOut
from api.schemas import BacktestRequest, to_config
from core import simulate
from core.errors import ConfigError
from core.json_values import plain, records
from core.metric_table import metrics_table

router = APIRouter(prefix="/v1", tags=["backtests"])


@router.post("/backtests", response_model=BacktestOut, response_model_exclude_unset=True)
def run_backtest(body: BacktestRequest, response: Response, store: StoreDep) -> dict[str, Any]:
    """Simulate (``core.simulate``) and return the metrics, the benchmarks' metrics, the trades and, on request,
    the timeline. With ``save`` the simulated bars are stored as a dataset and the backtest as a run (201)."""
    try:
        config = to_config(body.config)
    except ConfigError as exc:
        raise ConfigProblem(exc, ["config"]) from None
    resolved = resolve(store, body.dataset, body.start, body.end)
    data = resolved.data
    dividends = data.dividends if data.dividends is not None and len(data.dividends) else None
    result = simulate(data.prices, config, dividends)
    table = metrics_table(result, data.timezone)
    out: dict[str, Any] = {
        "dataset": {"id": resolved.dataset_id, "name": data.name, "symbol": data.symbol, "sha256": data.sha256(),
                    "start": plain(data.prices.index[0]), "end": plain(data.prices.index[-1]),
                    "bars": len(data.prices), "price_basis": data.price_basis},
        "config": config.to_dict(),
        "engine_version": result.engine_version,
        "metrics": plain(result.metrics),
        "benchmarks": {c: plain(table[c].dropna()) for c in table.columns if c != "strategy"},
        "n_trades": len(result.trades),
    }
    if body.include_trades:
        out["trades"] = records(result.trades, index=False)
    if body.include_timeline:
        out["timeline"] = records(result.timeline, index=True)
    if body.save:
        dataset_id = stored_id(store, resolved)
        name = body.name or f"{data.symbol}: API backtest"
        out["run_id"] = store.save_run(dataset_id, result, name=name, tags=body.tags, notes=body.notes)
        out["dataset"]["id"] = dataset_id
        response.status_code = 201
        response.headers["Location"] = f"/v1/runs/{out['run_id']}"
    return out
