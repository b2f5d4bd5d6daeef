"""The Audit log page: every run, study, preset change and export the store recorded; filter and download.

One function, :func:`audit_page`, registered in ``streamlit_app.py`` under :data:`URL_PATH`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date

import pandas as pd
import streamlit as st

from app.store_access import open_store_or_report, render_store_error
from app.widgets import record_export
from core.report.safe_cells import safe_frame
from usecases.store import AuditEntry, StoreError

MAX_ROWS = 5000  # newest entries read from the store; the filters below work on these
ANY = "(any)"


def audit_frame(entries: Sequence[AuditEntry]) -> pd.DataFrame:
    """The entries as a table; ``details`` as compact JSON so it reads, filters and exports as text."""
    return pd.DataFrame(
        {
            "id": [e.id for e in entries],
            "at": [e.at for e in entries],
            "actor": [e.actor for e in entries],
            "action": [e.action for e in entries],
            "entity": [e.entity for e in entries],
            "entity_id": [e.entity_id or "" for e in entries],
            "details": [json.dumps(e.details.to_dict(), sort_keys=True, default=str) for e in entries],
        }
    )


def audit_csv(frame: pd.DataFrame) -> bytes:
    """The shown entries as UTF-8 CSV; text that a spreadsheet would run as a formula (a run named ``=HYPERLINK(…)``
    in the details, an actor typed by a user) is neutralised by the exports' one guard."""
    return safe_frame(frame).to_csv(index=False).encode("utf-8")


def filter_audit(
    frame: pd.DataFrame,
    *,
    action: str | None = None,
    entity: str | None = None,
    text: str = "",
    since: date | None = None,
) -> pd.DataFrame:
    """Rows of one action and entity type, containing ``text`` (case-insensitive) anywhere, from ``since`` on."""
    keep = pd.Series(True, index=frame.index)
    if action:
        keep &= frame["action"] == action
    if entity:
        keep &= frame["entity"] == entity
    if text.strip():
        needle = text.strip().lower()
        haystack = frame[["actor", "action", "entity", "entity_id", "details"]].astype(str).agg(" ".join, axis=1)
        keep &= haystack.str.lower().str.contains(needle, regex=False)
    if since is not None and len(frame):
        stamps = pd.DatetimeIndex(pd.to_datetime(frame["at"], utc=True))
        keep &= stamps >= pd.Timestamp(since, tz="UTC")
    return frame[keep].reset_index(drop=True)


def audit_page() -> None:
    """Filters, the table and the downloads."""
    st.title("Audit log")
    st.caption(
        "What was done, by whom and when: runs saved and re-run, studies, preset changes, datasets and exports. "
        "Newest first; times in UTC."
    )
    store = open_store_or_report("The audit log cannot be shown: the run store is not available")
    if store is None:
        return
    try:
        frame = audit_frame(store.list_audit(limit=MAX_ROWS))
    except StoreError as exc:
        render_store_error("The audit log could not be read", exc)
        return
    if frame.empty:
        st.info("Nothing recorded yet: saving a run, a preset or an export adds a line here.")
        return

    action_col, entity_col = st.columns(2)
    action = action_col.selectbox("Action", [ANY, *sorted(frame["action"].unique())], key="audit_action")
    entity = entity_col.selectbox("Entity", [ANY, *sorted(frame["entity"].unique())], key="audit_entity")
    text_col, since_col = st.columns(2)
    text = text_col.text_input("Contains", key="audit_search", placeholder="a run id, a preset name, xlsx…")
    since = since_col.date_input("From", value=None, key="audit_since", help="Leave empty for all dates.")
    shown = filter_audit(
        frame,
        action=None if action == ANY else action,
        entity=None if entity == ANY else entity,
        text=text,
        since=since if isinstance(since, date) else None,
    )
    st.caption(f"{len(shown):,} of {len(frame):,} entries" + (" (the newest only)" if len(frame) >= MAX_ROWS else ""))
    st.dataframe(
        shown,
        hide_index=True,
        key="audit_table",
        column_config={
            "at": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "entity_id": st.column_config.TextColumn("Id"),
            "details": st.column_config.TextColumn("Details", width="large"),
        },
    )

    csv_col, json_col = st.columns(2)
    details = {"rows": len(shown), "action": action, "entity": entity, "contains": text, "page": "audit"}
    csv_col.download_button(
        "Download CSV",
        audit_csv(shown),
        file_name="audit_log.csv",
        mime="text/csv",
        key="audit_csv",
        icon=":material/download:",
        on_click=record_export,
        args=(store, "audit_log", None, {**details, "format": "csv"}),
    )
    json_col.download_button(
        "Download JSON",
        shown.to_json(orient="records", date_format="iso", indent=1).encode("utf-8"),
        file_name="audit_log.json",
        mime="application/json",
        key="audit_json",
        icon=":material/download:",
        on_click=record_export,
        args=(store, "audit_log", None, {**details, "format": "json"}),
    )
