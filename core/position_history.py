"""Export of a position's history (timeline, orders, fills, dividends, cash flows, anchor changes) to Excel and CSV.

Pure (no Streamlit, no database): the functions take the records the store returns (any dataclasses with the
fields below) and return tables or file bytes.

Spreadsheet safety: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be
read as a formula by Excel or LibreOffice ("CSV/formula injection": a ticker, name, note or reason typed by a user
could run ``=HYPERLINK(…)`` or worse when the file is opened). Such text gets ONE LEADING SPACE in both the workbook
and the CSV (:func:`neutralise`), which keeps it readable and makes every spreadsheet take it as plain text; in the
workbook the cell is also typed as text. Numbers stay numbers (a negative amount is a number, not text), and every
cell holds a value, never a formula.
"""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import pandas as pd

from core.report.safe_cells import FORMULA_PREFIXES, safe_frame

# The same dangerous prefixes as every other export; this history marks them with a space rather than an apostrophe.
SAFE_PREFIX = " "  # prepended to text that a spreadsheet would take for a formula

# Sheet name -> attribute of the history holding that table's records, in workbook order.
SHEETS: dict[str, str] = {
    "Timeline": "events",
    "Orders": "orders",
    "Fills": "fills",
    "Dividends": "dividends",
    "Cash flows": "cash_flows",
    "Anchor changes": "anchor_changes",
}


def neutralise(value: Any) -> Any:
    """``value`` with a leading space when it is text a spreadsheet would read as a formula; anything else as is."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return SAFE_PREFIX + value
    return value


def _cell(value: Any) -> Any:
    """A plain, spreadsheet-friendly value: naive datetimes (UTC if aware), JSON text for mappings and lists."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = pd.Timestamp(value).tz_convert("UTC").tz_localize(None).to_pydatetime()
        return value
    if isinstance(value, pd.Timestamp):
        return _cell(value.to_pydatetime())
    if isinstance(value, Mapping):
        return json.dumps(dict(value), default=_json_default, sort_keys=True)
    if isinstance(value, (list, tuple)):
        return json.dumps(list(value), default=_json_default)
    return value


def _json_default(value: Any) -> Any:
    # Nested read-only mappings (the store's FrozenMap) are written as plain objects; anything else as text.
    return dict(value) if isinstance(value, Mapping) else str(value)


def records_frame(records: Any) -> pd.DataFrame:
    """One row per record (a sequence of dataclasses), one column per field, values made spreadsheet-friendly."""
    rows = [{k: _cell(v) for k, v in dataclasses.asdict(r).items()} for r in records]
    return pd.DataFrame(rows)


def position_summary(position: Any) -> pd.DataFrame:
    """The position as ``field | value`` rows (identity, status, holdings, then the configuration)."""
    state = position.state
    rows: list[tuple[str, Any]] = [
        ("id", position.id),
        ("ticker", position.ticker),
        ("name", position.name),
        ("status", position.status),
        ("timezone", position.timezone),
        ("shares", state.shares),
        ("cash", state.cash),
        ("receivable", state.receivable),
        ("anchor", state.anchor),
        ("orders_today", state.orders_today),
        ("day", state.day),
        ("created_at", _cell(position.created_at)),
        ("updated_at", _cell(position.updated_at)),
    ]
    rows += [(f"config.{k}", v) for k, v in position.config.to_dict().items()]
    return pd.DataFrame(rows, columns=["field", "value"])


def history_frames(history: Any) -> dict[str, pd.DataFrame]:
    """Every table of a position's history: ``Position`` (summary) then :data:`SHEETS`, oldest rows first."""
    frames = {"Position": position_summary(history.position)}
    for sheet, attr in SHEETS.items():
        frames[sheet] = records_frame(getattr(history, attr))
    return frames


def history_csv(history: Any) -> bytes:
    """The position's timeline as UTF-8 CSV (one row per event, with the holdings right after it)."""
    # the one CSV guard of every export (it also covers pandas' string dtype), with this history's mark
    frame = safe_frame(records_frame(history.events), mark=SAFE_PREFIX)
    return frame.to_csv(index=False).encode("utf-8")


def history_excel(history: Any) -> bytes:
    """The whole history as an ``.xlsx`` workbook: one sheet per table, values only, formula-like text defused."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, frame in history_frames(history).items():
        sheet = workbook.create_sheet(title)
        columns = [str(c) for c in frame.columns]
        sheet.append([neutralise(c) for c in columns])
        for row in frame.itertuples(index=False):
            sheet.append([_excel_value(v) for v in row])
        for cell_row in sheet.iter_rows():
            for cell in cell_row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text, never a formula, whatever it looks like
        for i, column in enumerate(columns, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = min(60, max(10, len(column) + 2))
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _excel_value(value: Any) -> Any:
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, (datetime, date, int, float, bool)):
        return value
    if isinstance(value, str):
        return neutralise(value)
    if hasattr(value, "item"):  # numpy scalars
        return _excel_value(value.item())
    return neutralise(str(value))


__all__ = [
    "FORMULA_PREFIXES",
    "SAFE_PREFIX",
    "SHEETS",
    "history_csv",
    "history_excel",
    "history_frames",
    "neutralise",
    "position_summary",
    "records_frame",
]
