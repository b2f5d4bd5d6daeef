"""Response models of the held positions: the position and its state, advice, fills, cash flows and dividends."""

from __future__ import annotations

from pydantic import Field

from api.responses import ConfigJson, Out, RecordOut


class PositionStateOut(RecordOut):
    """What a position holds now."""

    shares: float
    cash: float
    anchor: float = Field(description="the last trade's price; the triggers are measured from it")
    receivable: float = Field(description="dividends gone ex but not yet paid, net of withholding")
    orders_today: int = Field(description="orders executed on day (the daily cap counts them)")
    day: str | None = Field(description="exchange-local date of the last order")


class PositionOut(Out):
    """A held position: what it is, how it trades and what it holds."""

    id: int
    ticker: str
    name: str
    status: str = Field(description="active, paused or closed")
    timezone: str
    config: ConfigJson
    state: PositionStateOut
    updated_at: str | None


class PositionList(Out):
    """``GET /v1/positions``."""

    items: list[PositionOut]


class DecisionOut(RecordOut):
    """The advice at one price (``core.advisor.evaluate``: the simulator's own decision)."""

    timestamp: str | None
    session_date: str | None = Field(description="exchange-local date the daily order cap counts against")
    price: float | None
    action: str = Field(description="HOLD, BUY, SELL or SKIP")
    kind: str = Field(description="trigger, rebalance or empty (hold)")
    side: str = Field(description="BUY, SELL or empty")
    status: str = Field(description="evaluated, after_hours or daily_cap")
    raw_qty: float | None = Field(description="signed, before trims and limits")
    qty: float | None = Field(description="signed, after trims and limits")
    exec_price: float | None
    notional: float | None
    commission: float | None
    skip_reason: str
    trimmed: bool
    stock_share: float | None = Field(description="stock share now")
    projected_stock_share: float | None = Field(description="stock share after the order")
    sell_trigger_price: float | None
    buy_trigger_price: float | None
    upper_guardrail_price: float | None = Field(description="price at which the stock share reaches guardrail_max")
    lower_guardrail_price: float | None = Field(description="price at which it falls to guardrail_min")
    reason: str


class EvaluateOut(Out):
    """``POST /v1/positions/{id}/evaluate``: changes nothing."""

    position_id: int
    decision: DecisionOut
    state: PositionStateOut


class FillOut(RecordOut):
    """An execution as it happened (``qty`` unsigned; ``filled_at`` exchange-local)."""

    id: int
    position_id: int
    order_id: int | None
    side: str
    qty: float
    price: float
    commission: float
    filled_at: str | None
    created_at: str | None


class FillResultOut(Out):
    """``POST /v1/positions/{id}/fills``: the fill and the position right after it."""

    fill: FillOut
    state: PositionStateOut


class CashFlowOut(RecordOut):
    """A deposit (``amount`` > 0) or a withdrawal (``amount`` < 0)."""

    id: int
    position_id: int
    amount: float
    note: str
    created_at: str | None


class CashFlowList(Out):
    """``GET /v1/positions/{id}/cash-flows``, oldest first."""

    items: list[CashFlowOut]


class DividendOut(RecordOut):
    """A dividend booked on its ex-date (receivable += net, anchor -= amount) and paid on its pay date."""

    id: int
    position_id: int
    ex_date: str
    pay_date: str
    amount_per_share: float
    shares: float = Field(description="shares held on the ex-date")
    gross: float
    net: float = Field(description="gross less withholding tax")
    anchor_before: float
    anchor_after: float
    status: str = Field(description="booked or paid")
    paid_at: str | None
    created_at: str | None


class DividendResultOut(Out):
    """A booked or paid dividend and the position's state after it."""

    dividend: DividendOut
    state: PositionStateOut


class DividendList(Out):
    """``GET /v1/positions/{id}/dividends``, by ex-date."""

    items: list[DividendOut]
