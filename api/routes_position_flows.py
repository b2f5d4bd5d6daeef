"""``/v1/positions/{id}/cash-flows`` and ``…/dividends``: deposits and withdrawals (idempotent by key), dividends
booked on their ex-date and paid on their pay date — through the position ledger, as the app's Positions page.

A change the position cannot take (a withdrawal beyond the cash held, a second dividend for one ex-date, any
change to a closed position) is a 422 problem saying why; an unknown position or dividend is a 404.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from api.app import StoreDep
from api.problems import Problem
from api.responses_positions import CashFlowList, DividendList, DividendResultOut, PositionOut
from api.routes_positions import IdempotencyKey, position_json
from api.schemas import CashFlowRequest, DividendRequest
from core.json_values import plain
from usecases.ledger import ledger
from usecases.store import ConflictError, NotFound, PositionsAPI

router = APIRouter(prefix="/v1/positions", tags=["positions"])

# The ledger raises ConflictError both for a change the position refuses and for an idempotency key reused with a
# different request; only the second conflicts with an earlier request (409), so it is told apart by its message.
_KEY_REUSED = "the idempotency key"


def refused(exc: ConflictError | ValueError, title: str) -> Problem:
    """The problem for a ledger refusal: 409 for a reused idempotency key, otherwise 422 naming why."""
    if isinstance(exc, ConflictError) and str(exc).startswith(_KEY_REUSED):
        return Problem(409, str(exc), kind="idempotency-key-reused", title="Idempotency key reused")
    return Problem(422, str(exc), kind="operation-refused", title=title)


@router.get("/{position_id}/cash-flows", response_model=CashFlowList)
def list_cash_flows(position_id: int, store: StoreDep) -> dict[str, Any]:
    """The position's deposits (amount > 0) and withdrawals (amount < 0), oldest first."""
    book = ledger(store)
    book.get(position_id)  # 404 for an unknown position rather than an empty list
    return {"items": [plain(c) for c in book.list_cash_flows(position_id)]}


@router.post("/{position_id}/cash-flows", status_code=201, response_model=PositionOut)
def record_cash_flow(
    position_id: int,
    body: CashFlowRequest,
    response: Response,
    store: StoreDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Deposit or withdraw cash and return the position after it. With an ``Idempotency-Key`` a repeat records
    nothing (header ``Idempotent-Replayed: true``); the same key with a different body is a 409 problem."""
    book = ledger(store)
    before = len(book.list_cash_flows(position_id)) if idempotency_key else 0
    move = book.deposit if body.type == "deposit" else book.withdraw
    try:
        position = move(position_id, body.amount, body.note, idempotency_key=idempotency_key)
    except (ConflictError, ValueError) as exc:  # NotFound is neither: it stays a 404
        raise refused(exc, f"{body.type.capitalize()} refused") from None
    # The ledger returns the position either way; a repeat is the one that added no cash flow. (Another request
    # adding one meanwhile hides a repeat from this header, never the reverse: the cash flow is recorded once.)
    if idempotency_key and len(book.list_cash_flows(position_id)) == before:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/v1/positions/{position_id}/cash-flows"
    return position_json(position)


@router.get("/{position_id}/dividends", response_model=DividendList)
def list_dividends(position_id: int, store: StoreDep) -> dict[str, Any]:
    """The position's dividends by ex-date, booked or paid."""
    book = ledger(store)
    book.get(position_id)
    return {"items": [plain(d) for d in book.list_dividends(position_id)]}


def _dividend_result(book: PositionsAPI, dividend: Any) -> dict[str, Any]:
    return {"dividend": plain(dividend), "state": plain(book.get(dividend.position_id).state)}


@router.post("/{position_id}/dividends", status_code=201, response_model=DividendResultOut)
def book_dividend(position_id: int, body: DividendRequest, response: Response, store: StoreDep) -> dict[str, Any]:
    """Book an ex-dividend as the simulator does: the receivable grows by the net amount (after withholding) and
    the anchor falls by the dividend; the cash arrives when it is paid (``…/dividends/{id}/pay``)."""
    book = ledger(store)
    try:
        dividend = book.book_dividend(position_id, body.ex_date, body.amount, body.pay_date)
    except (ConflictError, ValueError) as exc:  # NotFound is neither: it stays a 404
        raise refused(exc, "Dividend refused") from None
    response.headers["Location"] = f"/v1/positions/{position_id}/dividends"
    return _dividend_result(book, dividend)


@router.post("/{position_id}/dividends/{dividend_id}/pay", response_model=DividendResultOut)
def pay_dividend(position_id: int, dividend_id: int, store: StoreDep) -> dict[str, Any]:
    """The dividend was paid: its net amount moves from the receivable to cash."""
    book = ledger(store)
    if book.get_dividend(dividend_id).position_id != position_id:
        raise NotFound(f"position {position_id} has no dividend {dividend_id}")
    try:
        dividend = book.pay_dividend(dividend_id)
    except ConflictError as exc:
        raise refused(exc, "Payment refused") from None
    return _dividend_result(book, dividend)
