"""``/v1/positions``: the advice for a held position at a price, and fills recorded idempotently.

Both go through the position ledger use case (:func:`usecases.ledger.ledger`) and the advisor
(:func:`core.advisor.evaluate`, the simulator's own decision). A fill's ``Idempotency-Key`` header is the ledger's
idempotency key: the same key with the same request returns the first response and records nothing; the same key
with a different request is a 409 problem.
"""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Header, Response

from api.app import StoreDep
from api.problems import Problem
from api.schemas import EvaluateRequest, FillRequest
from core.advisor import evaluate
from core.json_values import plain
from usecases.ledger import ledger
from usecases.store import FillResult, PositionRecord

router = APIRouter(prefix="/v1/positions", tags=["positions"])


def position_json(position: PositionRecord) -> dict[str, Any]:
    """A held position: what it is, how it trades and what it holds."""
    return {"id": position.id, "ticker": position.ticker, "name": position.name, "status": position.status,
            "timezone": position.timezone, "config": position.config.to_dict(), "state": plain(position.state),
            "updated_at": plain(position.updated_at)}


@router.get("/{position_id}")
def get_position(position_id: int, store: StoreDep) -> dict[str, Any]:
    """The position and its current state (404 if there is none)."""
    return position_json(ledger(store).get(position_id))


@router.post("/{position_id}/evaluate")
def evaluate_position(position_id: int, body: EvaluateRequest, store: StoreDep) -> dict[str, Any]:
    """What the strategy does now at ``price``: action, raw and trimmed quantity, commission, projected stock share,
    the next trigger prices and the prices at which the guardrails bind. Changes nothing."""
    position = ledger(store).get(position_id)
    try:
        at = pd.Timestamp(body.at) if body.at else None
    except ValueError:
        raise Problem(422, f"at: {body.at!r} is not a date and time (e.g. 2024-01-03 11:00)",
                      kind="validation-error", errors=[{"field": "at", "location": ["body", "at"],
                                                        "message": "not a date and time"}]) from None
    decision = evaluate(position.state, body.price, position.config, at, timezone=position.timezone)
    return {"position_id": position_id, "decision": plain(decision), "state": plain(position.state)}


def fill_json(result: FillResult) -> dict[str, Any]:
    """The recorded fill and the position's state right after it."""
    return {"fill": plain(result.fill), "state": plain(result.state)}


@router.post("/{position_id}/fills", status_code=201)
def record_fill(
    position_id: int,
    body: FillRequest,
    response: Response,
    store: StoreDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200,
                                                  description="retry-safe key: a repeat returns the first response")]
    = None,
) -> dict[str, Any]:
    """Record an execution; the position moves with the simulator's own update (the anchor becomes the price)."""
    at = None
    if body.at:
        try:
            at = pd.Timestamp(body.at)
        except ValueError:
            raise Problem(422, f"at: {body.at!r} is not a date and time", kind="validation-error",
                          errors=[{"field": "at", "location": ["body", "at"], "message": "not a date and time"}]
                          ) from None
    try:
        result = ledger(store).record_fill(position_id, body.side.upper(), body.qty, body.price, body.commission,
                                           at=at, order_id=body.order_id, idempotency_key=idempotency_key)
    except ValueError as exc:  # the ledger's own checks (side, quantity, key length)
        raise Problem(422, str(exc), kind="invalid-fill") from None
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/v1/positions/{position_id}/fills/{result.fill.id}"
    return fill_json(result)
