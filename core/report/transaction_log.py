"""The Transaction Log: one row per evaluated bar, in the column layout analysts know from the old system.

Built from ``SimulationResult.timeline`` (and its events) without recomputing anything the engine decided, so the
log's numbers are the run's numbers.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from core.engine import SimulationResult

COLUMNS: tuple[str, ...] = (
    "Date", "Time", "Market_Status", "Current_Price", "Price_Change_Pct", "Shares_Held", "Cash_Balance",
    "Dividend_Receivable", "Portfolio_Value", "Asset_Percentage", "Anchor_Price", "Distance_From_Anchor_Pct",
    "Trigger_Type", "Raw_Order_Qty", "Trimmed_Order_Qty", "Order_Side", "Order_Price", "Order_Status", "Commission",
    "Notional_Value", "Pre_Trade_Asset_Pct", "Post_Trade_Asset_Pct", "Guardrail_Breach", "Auto_Rebalance",
    "Decision_Logic", "Rejection_Reason", "Event_Type",
)  # fmt: skip

# How each column is shown in a workbook (see excel_style.FORMATS).
COLUMN_KINDS: dict[str, str] = {
    "Date": "date", "Time": "time", "Current_Price": "price", "Price_Change_Pct": "pct", "Shares_Held": "qty",
    "Cash_Balance": "money", "Dividend_Receivable": "money", "Portfolio_Value": "money", "Asset_Percentage": "pct",
    "Anchor_Price": "price", "Distance_From_Anchor_Pct": "pct", "Raw_Order_Qty": "qty", "Trimmed_Order_Qty": "qty",
    "Order_Price": "price", "Commission": "money", "Notional_Value": "money", "Pre_Trade_Asset_Pct": "pct",
    "Post_Trade_Asset_Pct": "pct", "Decision_Logic": "wide", "Event_Type": "wide",
}  # fmt: skip

_TOLERANCE = 1e-9  # the engine's guardrail tolerance (docs/strategy.md §5)


def _trigger_type(timeline: pd.DataFrame) -> np.ndarray:
    kind = timeline["kind"].to_numpy(dtype=object)
    trigger = timeline["trigger"].to_numpy(dtype=object)
    out = np.full(len(timeline), "NONE", dtype=object)
    out[trigger == "SELL"] = "SELL_TRIGGER"
    out[trigger == "BUY"] = "BUY_TRIGGER"
    out[kind == "rebalance"] = "GUARDRAIL_REBALANCE"
    out[kind == "initial"] = "INITIAL"
    return out


def _event_types(result: SimulationResult) -> list[str]:
    by_bar: dict[int, list[str]] = defaultdict(list)
    for event in result.events:
        by_bar[event.bar].append(str(event.type))
    return [", ".join(by_bar.get(i, ())) for i in range(len(result.timeline))]


def transaction_log(result: SimulationResult) -> pd.DataFrame:
    """The Transaction Log frame (columns ``COLUMNS``, one row per bar of ``result.timeline``, same order).

    Quantities are signed like the engine's (buys positive, sells negative); order columns are empty (NaN) on
    bars without an order; percentages are fractions (the workbook formats them).
    """
    tl = result.timeline
    cfg = result.config
    index = pd.DatetimeIndex(tl.index)
    action = tl["action"].astype(str).to_numpy()
    has_order = action != "HOLD"
    filled = (action == "BUY") | (action == "SELL")
    status = tl["status"].to_numpy(dtype=object)
    pre = tl["pre_trade_stock_share"].to_numpy(dtype=float)
    price = tl["price"].to_numpy(dtype=float)
    anchor = tl["anchor"].to_numpy(dtype=float)
    change = np.full(len(tl), np.nan)
    change[1:] = price[1:] / price[:-1] - 1.0
    order_status = np.where(filled, "FILLED", np.where(action == "SKIP", "SKIPPED", ""))
    market = np.where(status == "after_hours", "CLOSED", "OPEN")
    breach = (pre < cfg.guardrail_min - _TOLERANCE) | (pre > cfg.guardrail_max + _TOLERANCE)
    return pd.DataFrame(
        {
            "Date": index.normalize().tz_localize(None) if index.tz is not None else index.normalize(),
            "Time": [t.time() for t in index],
            "Market_Status": market,
            "Current_Price": price,
            "Price_Change_Pct": change,
            "Shares_Held": tl["shares"].to_numpy(dtype=float),
            "Cash_Balance": tl["cash"].to_numpy(dtype=float),
            "Dividend_Receivable": tl["receivable"].to_numpy(dtype=float),
            "Portfolio_Value": tl["value"].to_numpy(dtype=float),
            "Asset_Percentage": tl["stock_share"].to_numpy(dtype=float),
            "Anchor_Price": anchor,
            "Distance_From_Anchor_Pct": price / anchor - 1.0,
            "Trigger_Type": _trigger_type(tl),
            "Raw_Order_Qty": np.where(has_order, tl["raw_qty"].to_numpy(dtype=float), np.nan),
            "Trimmed_Order_Qty": np.where(has_order, tl["qty"].to_numpy(dtype=float), np.nan),
            "Order_Side": tl["side"].to_numpy(dtype=object),
            "Order_Price": np.where(has_order, tl["exec_price"].to_numpy(dtype=float), np.nan),
            "Order_Status": order_status,
            "Commission": np.where(filled, tl["commission"].to_numpy(dtype=float), np.nan),
            "Notional_Value": np.where(filled, tl["notional"].to_numpy(dtype=float), np.nan),
            "Pre_Trade_Asset_Pct": pre,
            "Post_Trade_Asset_Pct": tl["stock_share"].to_numpy(dtype=float),
            "Guardrail_Breach": breach,
            "Auto_Rebalance": tl["kind"].to_numpy(dtype=object) == "rebalance",
            "Decision_Logic": tl["reason"].to_numpy(dtype=object),
            "Rejection_Reason": tl["skip_reason"].to_numpy(dtype=object),
            "Event_Type": _event_types(result),
        },
        index=tl.index,
    )
