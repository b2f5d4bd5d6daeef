"""``/v1/alerts``: the watch list of held positions (docs/strategy.md §11), at stored closes (GET) or at prices
given in the body (POST), with the same states, distances and audit entries as the app and ``cli alerts``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from api.app import StoreDep
from api.problems import Problem
from core.alerts import ACTION_DUE, AlertSettings, PositionAlert
from core.json_values import plain
from usecases.alerts import Quote, local_now, record_changes, watch
from usecases.store import Store

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])


class TypedPrice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    price: float = Field(gt=0)
    at: datetime | None = Field(None, description="exchange-local time of the price (default: now)")


class AlertsBody(BaseModel):
    """Prices by ticker (or position id), and the thresholds."""

    model_config = ConfigDict(extra="forbid")

    prices: dict[str, TypedPrice] = Field(default_factory=dict)
    near_pct: float = Field(1.0, description="within this percentage of a trigger is 'near'")
    stale_hours: float = Field(96.0, description="a price older than this is stale")
    yahoo: bool = Field(False, description="fetch the latest close from Yahoo (cached loader) where not given")
    now: datetime | None = None


def alert_json(alert: PositionAlert) -> dict[str, Any]:
    """An alert with its distances (fractions) and message."""
    return {**{k: plain(v) for k, v in alert.__dict__.items()}, "label": alert.label, "message": alert.message}


def _answer(store: Store, body: AlertsBody) -> dict[str, Any]:
    try:
        settings = AlertSettings(near_fraction=body.near_pct / 100, stale_after_hours=body.stale_hours)
    except ValueError as exc:
        raise Problem(422, str(exc), kind="validation-error",
                      errors=[{"field": "near_pct" if "near" in str(exc) else "stale_hours", "message": str(exc)}]
                      ) from None
    typed: dict[object, Quote] = {}
    for key, given in body.prices.items():
        at = given.at or body.now or local_now("America/New_York")
        typed[int(key) if key.isdigit() else key.upper()] = Quote(given.price, at, "typed")
    watched = watch(store, settings=settings, typed=typed, yahoo=body.yahoo, now=body.now)
    record_changes(store, watched.alerts)
    return {"items": [alert_json(a) for a in watched.alerts],
            "unpriced": [p.ticker for p in watched.unpriced],
            "action_due": any(a.state == ACTION_DUE for a in watched.alerts)}


@router.get("")
def alerts_at_stored_prices(store: StoreDep, near_pct: float = Query(1.0), stale_hours: float = Query(96.0),
                            now: datetime | None = None, yahoo: bool = False) -> dict[str, Any]:
    """Every active position's alert at the newest stored close of its ticker (or Yahoo's with ``yahoo``)."""
    return _answer(store, AlertsBody(near_pct=near_pct, stale_hours=stale_hours, now=now, yahoo=yahoo))


@router.post("")
def alerts_at_given_prices(body: AlertsBody, store: StoreDep) -> dict[str, Any]:
    """Every active position's alert, at the prices given (by ticker or position id) where given."""
    return _answer(store, body)
