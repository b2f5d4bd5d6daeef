"""The result columns registry: every column of ``SimulationResult.trades`` and ``.timeline``, once.

The configuration fields have :mod:`core.config_registry` and the metrics :mod:`core.metric_registry`; the columns
of the two result tables (docs/strategy.md §5.11, §6) have this table. A column's label and display kind are read
from here by the app's tables, the run workbook's Trades sheet (number formats), the PDF's trade list and the CSV
export's labelled headers, so a column reads the same everywhere.

Display kinds are the workbook's (:data:`core.report.excel_style.FORMATS`): ``pct`` is a fraction shown as a
percentage, ``price`` and ``qty`` have four decimals, ``money`` two, ``text`` and ``wide`` are text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnKind = Literal["date", "datetime", "money", "price", "qty", "pct", "ratio", "count", "text", "wide"]


@dataclass(frozen=True)
class ResultColumn:
    """One column of a result table: its engine name, how people read it, and what it holds."""

    name: str
    label: str
    kind: ColumnKind
    help: str = ""


TRADE_COLUMNS: tuple[ResultColumn, ...] = (
    ResultColumn("timestamp", "Time", "datetime", "When the order executed (the bar's close)."),
    ResultColumn("kind", "Kind", "text", "initial, trigger or rebalance."),
    ResultColumn("side", "Side", "text", "BUY or SELL."),
    ResultColumn("qty", "Shares", "qty", "Shares traded (positive)."),
    ResultColumn("price", "Price", "price", "Execution price, slippage included."),
    ResultColumn("notional", "Notional", "money", "Shares × execution price."),
    ResultColumn("commission", "Commission", "money", "Commission paid, the minimum included."),
    ResultColumn("anchor_before", "Anchor before", "price", "The anchor the triggers were tested against."),
    ResultColumn("anchor_after", "Anchor after", "price", "The anchor after the trade (its execution price)."),
    ResultColumn("shares_after", "Shares after", "qty", "Shares held after the trade."),
    ResultColumn("cash_after", "Cash after", "money", "Cash after the trade."),
    ResultColumn("stock_share_after", "Stock share after", "pct", "Stock value / account value after the trade."),
    ResultColumn("reason", "Why", "wide", "The decision in words."),
)  # fmt: skip

TIMELINE_COLUMNS: tuple[ResultColumn, ...] = (
    ResultColumn("price", "Close", "price", "The bar's closing price."),
    ResultColumn("anchor", "Anchor tested", "price", "The anchor the triggers were tested against (dividend-cut)."),
    ResultColumn("anchor_after", "Anchor after", "price", "The anchor left after the bar."),
    ResultColumn("sell_trigger_price", "Sell trigger price", "price", "Anchor × (1 + sell trigger in force)."),
    ResultColumn("buy_trigger_price", "Buy trigger price", "price", "Anchor × (1 − buy trigger in force)."),
    ResultColumn("shares", "Shares", "qty", "Shares held after the bar."),
    ResultColumn("cash", "Cash", "money", "Cash after the bar."),
    ResultColumn("receivable", "Dividend receivable", "money", "Net dividends booked and not yet paid."),
    ResultColumn("value", "Account value", "money", "Shares × close + cash + receivable."),
    ResultColumn("stock_share", "Stock share", "pct", "Stock value / account value after the bar's trade."),
    ResultColumn("pre_trade_stock_share", "Stock share before trade", "pct", "The stock share the bar was decided on."),
    ResultColumn("action", "Action", "text", "HOLD, BUY, SELL or SKIP."),
    ResultColumn("kind", "Order kind", "text", "initial, trigger or rebalance."),
    ResultColumn("side", "Side", "text", "BUY or SELL of the order decided."),
    ResultColumn("trigger", "Trigger fired", "text", "SELL or BUY when a trigger fired."),
    ResultColumn("raw_qty", "Raw order", "qty", "The sizing formula's signed quantity, before trims and limits."),
    ResultColumn("qty", "Order", "qty", "The final signed quantity (the refused size on a SKIP)."),
    ResultColumn("exec_price", "Execution price", "price", "Close adjusted for slippage."),
    ResultColumn("notional", "Notional", "money", "Shares × execution price."),
    ResultColumn("commission", "Commission", "money", "Commission paid on the bar."),
    ResultColumn("skip_reason", "Skip reason", "text", "Why an order was refused."),
    ResultColumn("trimmed", "Trimmed", "text", "Whether the order was shrunk to the guardrail."),
    ResultColumn("limit_flags", "Limit flags", "count", "Bit set of the limits that applied (docs/strategy.md §5.8)."),
    ResultColumn("status", "Bar status", "text", "first_bar, evaluated, after_hours or daily_cap."),
    ResultColumn("guardrail_bound", "Guardrail aimed at", "pct", "The bound a trimmed or rebalance order aimed at."),
    ResultColumn("dividend_gross", "Dividend gross", "money", "Gross dividends booked on the bar."),
    ResultColumn("dividend_net", "Dividend net", "money", "Net dividends booked on the bar."),
    ResultColumn("dividend_withholding", "Dividend withheld", "money", "Tax withheld on the bar's dividends."),
    ResultColumn("dividend_cash", "Dividend cash", "money", "Dividends paid into cash on the bar."),
    ResultColumn("orders_today", "Orders today", "count", "Orders executed so far on the bar's date."),
    ResultColumn("trigger_up_in_force", "Sell trigger in force", "pct", "The sell trigger applied (§5.4a)."),
    ResultColumn("trigger_down_in_force", "Buy trigger in force", "pct", "The buy trigger applied (§5.4a)."),
    ResultColumn("window_volatility", "Window volatility", "pct", "Annualised volatility of the window (§5.4a)."),
    ResultColumn("reason", "Why", "wide", "The decision in words."),
)  # fmt: skip

TRADE_COLUMNS_BY_NAME: dict[str, ResultColumn] = {c.name: c for c in TRADE_COLUMNS}
TIMELINE_COLUMNS_BY_NAME: dict[str, ResultColumn] = {c.name: c for c in TIMELINE_COLUMNS}
TABLES: dict[str, dict[str, ResultColumn]] = {"trades": TRADE_COLUMNS_BY_NAME, "timeline": TIMELINE_COLUMNS_BY_NAME}


def result_column(table: str, name: str) -> ResultColumn:
    """The registry entry of column ``name`` of ``table`` (``trades`` or ``timeline``); a column the registry does
    not know (one added by a caller) reads under its own name as text."""
    return TABLES[table].get(name) or ResultColumn(name, name, "text")


def column_kinds(table: str) -> dict[str, ColumnKind]:
    """Column -> display kind of ``table``: the workbook's number formats."""
    return {name: c.kind for name, c in TABLES[table].items()}


def column_labels(table: str) -> dict[str, str]:
    """Column -> label of ``table``: headers for people."""
    return {name: c.label for name, c in TABLES[table].items()}
