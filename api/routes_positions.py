"""``/v1/positions``: positions held for real — open, list, show, pause/close, the advice at a price, and fills
recorded idempotently. Cash flows and dividends are in :mod:`api.routes_position_flows`.

Everything goes through the position ledger use case (:func:`usecases.ledger.ledger`) and the advisor
(:func:`core.advisor.evaluate`, the simulator's own decision). A fill's ``Idempotency-Key`` header is the ledger's
idempotency key: the same key with the same request returns the first response and records nothing; the same key
with a different request is a 409 problem.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Header, Query, Response

from api.app import StoreDep
from api.problems import ConfigProblem, Problem
from api.responses_positions import EvaluateOut, FillResultOut, PositionList, PositionOut
from api.schemas import EvaluateRequest, FillRequest, PositionCreate, PositionStatusRequest, to_config
from core.errors import ConfigError
from core.json_values import plain
from usecases.alerts import advise
from usecases.ledger import ledger
from usecases.store import POSITION_STATUSES, FillResult, PositionRecord

router = APIRouter(prefix="/v1/positions", tags=["positions"])

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200,
                                              description="retry-safe key: a repeat returns the first response")]
"""The ``Idempotency-Key`` header of the requests that record something."""


def position_json(position: PositionRecord) -> dict[str, Any]:
    """A held position: what it is, how it trades and what it holds."""
    return {"id": position.id, "ticker": position.ticker, "name": position.name, "status": position.status,
            "timezone": position.timezone, "config": position.config.to_dict(), "state": plain(position.state),
            "updated_at": plain(position.updated_at)}


def local_time(text: str | None, field: str = "at") -> pd.Timestamp | None:
    """``text`` as a timestamp (``None`` stays ``None``); a 422 problem naming ``field`` if it is not one."""
    if not text:
        return None
    try:
        return pd.Timestamp(text)
    except ValueError:
        raise Problem(422, f"{field}: {text!r} is not a date and time (e.g. 2024-01-03 11:00)",
                      kind="validation-error", errors=[{"field": field, "location": ["body", field],
                                                        "message": "not a date and time"}]) from None


@router.post("", status_code=201, response_model=PositionOut)
def create_position(body: PositionCreate, response: Response, store: StoreDep) -> dict[str, Any]:
    """Open a position: with what is held (``shares``, ``cash``, ``anchor``) or, given only ``price``, funded with
    ``config.initial_capital`` and bought like the backtest's first bar."""
    try:
        config = to_config(body.config)
    except ConfigError as exc:
        raise ConfigProblem(exc, ["config"]) from None
    at = local_time(body.at)
    try:
        position = ledger(store).create(body.ticker, config, name=body.name, shares=body.shares, cash=body.cash,
                                        anchor=body.anchor, price=body.price, at=at, timezone=body.timezone)
    except ConfigError as exc:  # an opening state the engine refuses (e.g. a guardrail it cannot meet)
        raise ConfigProblem(exc, ["config"]) from None
    except ValueError as exc:  # the ledger's own checks: neither holdings nor a price, a blank ticker
        raise Problem(422, str(exc), kind="invalid-position", title="Invalid position") from None
    response.headers["Location"] = f"/v1/positions/{position.id}"
    return position_json(position)


@router.get("", response_model=PositionList)
def list_positions(
    store: StoreDep,
    status: Literal[POSITION_STATUSES] | None = Query(None, description="only positions with this status"),  # type: ignore[valid-type]
) -> dict[str, Any]:
    """Every held position (or those with ``status``), by ticker then id."""
    return {"items": [position_json(p) for p in ledger(store).list(status=status)]}


@router.get("/{position_id}", response_model=PositionOut)
def get_position(position_id: int, store: StoreDep) -> dict[str, Any]:
    """The position and its current state (404 if there is none)."""
    return position_json(ledger(store).get(position_id))


@router.post("/{position_id}/status", response_model=PositionOut)
def set_position_status(position_id: int, body: PositionStatusRequest, store: StoreDep) -> dict[str, Any]:
    """Pause, close or re-activate the position; a closed one accepts no fills, cash flows or dividends."""
    return position_json(ledger(store).set_status(position_id, body.status))


@router.post("/{position_id}/evaluate", response_model=EvaluateOut)
def evaluate_position(position_id: int, body: EvaluateRequest, store: StoreDep) -> dict[str, Any]:
    """What the strategy does now at ``price``: action, raw and trimmed quantity, commission, projected stock share,
    the next trigger prices and the prices at which the guardrails bind. Changes nothing."""
    position = ledger(store).get(position_id)
    at = local_time(body.at)
    decision = advise(store, position, body.price, at)
    return {"position_id": position_id, "decision": plain(decision), "state": plain(position.state)}


def fill_json(result: FillResult) -> dict[str, Any]:
    """The recorded fill and the position's state right after it."""
    return {"fill": plain(result.fill), "state": plain(result.state)}


@router.post("/{position_id}/fills", status_code=201, response_model=FillResultOut)
def record_fill(
    position_id: int,
    body: FillRequest,
    response: Response,
    store: StoreDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Record an execution; the position moves with the simulator's own update (the anchor becomes the price)."""
    at = local_time(body.at)
    try:
        result = ledger(store).record_fill(position_id, body.side.upper(), body.qty, body.price, body.commission,
                                           at=at, order_id=body.order_id, idempotency_key=idempotency_key)
    except ValueError as exc:  # the ledger's own checks (side, quantity, key length)
        raise Problem(422, str(exc), kind="invalid-fill") from None
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/v1/positions/{position_id}/fills/{result.fill.id}"
    return fill_json(result)
