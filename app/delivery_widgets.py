"""Shared pieces of delivery for the Reports and Schedules pages: the destinations box, "Send now" and the
delivery history table. Everything goes through :mod:`usecases.delivery`."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from usecases.delivery import DestinationError, ReportSubject, send_now
from usecases.store import DELIVERY_FAILED, DELIVERY_RETRYING, DELIVERY_SENT, DeliveryRecord, Store

DESTINATIONS_HELP = ("One per line: mailto:name@example.com, or a storage URL such as s3://bucket/folder/ or "
                     "file:///srv/reports/ (a URL ending in / is a folder). Credentials never go here: SMTP settings "
                     "come from VBL_SMTP_*, storage credentials from the environment (AWS_* for S3).")
STATUS_ICONS: dict[str, str] = {DELIVERY_SENT: "✅ sent", DELIVERY_RETRYING: "🔁 retrying",
                                DELIVERY_FAILED: "❌ failed", "sending": "⏳ sending"}


def destination_lines(text: str) -> list[str]:
    """The non-empty lines of the destinations box, trimmed."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def deliveries_frame(records: Sequence[DeliveryRecord]) -> pd.DataFrame:
    """The delivery history as a table."""
    return pd.DataFrame({
        "id": [r.id for r in records],
        "created": [r.created_at for r in records],
        "slot": [r.slot for r in records],
        "destination": [r.destination for r in records],
        "status": [STATUS_ICONS.get(r.status, r.status) for r in records],
        "attempts": [r.attempts for r in records],
        "file": [r.filename or "" for r in records],
        "bytes": [r.size_bytes for r in records],
        "error": [r.error or "" for r in records],
    })


def render_deliveries(records: Sequence[DeliveryRecord], *, key: str) -> None:
    """The records as a table, or a note when there are none."""
    if not records:
        st.caption("No deliveries yet.")
        return
    st.dataframe(deliveries_frame(records), hide_index=True, width="stretch", key=key,
                 column_config={"created": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
                                "slot": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                                "bytes": st.column_config.NumberColumn(format="%d")})


def send_now_form(store: Store, subject: ReportSubject, *, key: str) -> None:
    """A destinations box and a "Send now" button for ``subject``; shows each destination's outcome."""
    with st.form(key, border=False):
        text = st.text_area("Send to", key=f"{key}_to", height=80, help=DESTINATIONS_HELP,
                            placeholder="mailto:team@example.com\ns3://team-reports/weekly/")
        pressed = st.form_submit_button("Send now", icon=":material/send:")
    if not pressed:
        return
    try:
        with st.spinner(f"Sending {subject.label}…"):
            records = send_now(store, subject, destination_lines(text))
    except DestinationError as exc:
        st.error(f"**Nothing was sent.** {exc}", icon=":material/error:")
        return
    for record in records:
        if record.status == DELIVERY_SENT:
            st.success(f"Sent to {record.destination} ({record.size_bytes:,} bytes).", icon=":material/check:")
        elif record.status == DELIVERY_RETRYING:
            st.warning(f"**Not sent yet to {record.destination}.** {record.error} The scheduler process retries it.",
                       icon=":material/schedule:")
        else:
            st.error(f"**Not sent to {record.destination}.** {record.error}", icon=":material/error:")
