"""The watch list of held positions (docs/strategy.md §11), shared by the Home and Positions pages: a fragment that
refreshes itself every minute, records state changes in the audit log, and says how old each price is."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import streamlit as st

from core.alerts import ACTION_DUE, NEAR_TRIGGER, STALE_PRICE, AlertSettings, alerts_frame
from usecases.alerts import Quote, record_changes, watch
from usecases.store import Store, StoreError

REFRESH = "60s"
NEAR_KEY = "watch_near_pct"
STALE_KEY = "watch_stale_hours"
YAHOO_KEY = "watch_yahoo"
STATE_ICONS: dict[str, str] = {"Action due": "🔴 Action due", "Stale price": "🟠 Stale price",
                               "Near trigger": "🟡 Near trigger", "OK": "🟢 OK"}


def watch_settings_inputs() -> None:
    """The thresholds (kept for the session, so Home and Positions agree)."""
    left, mid, right = st.columns(3)
    left.number_input("Near trigger within (%)", min_value=0.0, max_value=50.0, value=1.0, step=0.25, key=NEAR_KEY)
    mid.number_input("Price is stale after (hours)", min_value=1.0, max_value=8784.0, value=96.0, step=1.0,
                     key=STALE_KEY)
    right.checkbox("Latest close from Yahoo", key=YAHOO_KEY,
                   help="Otherwise the newest stored close of each ticker, or the price typed on the Positions page.")


def _settings() -> AlertSettings:
    return AlertSettings(near_fraction=float(st.session_state.get(NEAR_KEY, 1.0)) / 100,
                         stale_after_hours=float(st.session_state.get(STALE_KEY, 96.0)))


@st.fragment(run_every=REFRESH)
def watch_list_fragment(store: Store, typed: Mapping[object, Quote] | None = None, *, key: str) -> None:
    """The watch list, re-evaluated every minute (only this fragment reruns)."""
    try:
        watched = watch(store, settings=_settings(), typed=typed, yahoo=bool(st.session_state.get(YAHOO_KEY, False)))
        record_changes(store, watched.alerts)
        alerts, missing = watched.alerts, watched.unpriced
    except StoreError as exc:
        st.error(f"**The watch list is not available.** {exc}", icon=":material/error:")
        return
    if not alerts and not missing:
        st.caption("No active positions to watch.")
        return
    counts = {state: sum(a.state == state for a in alerts) for state in (ACTION_DUE, STALE_PRICE, NEAR_TRIGGER)}
    if counts[ACTION_DUE]:
        st.error(f"**{counts[ACTION_DUE]} position(s) need an order now.**", icon=":material/priority_high:")
    frame = alerts_frame(alerts)
    frame["state"] = frame["state"].map(STATE_ICONS)
    if len(frame):
        st.dataframe(frame, hide_index=True, width="stretch", key=key, column_config={
            "price at": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            **{c: st.column_config.NumberColumn(format="percent") for c in
               ("to sell trigger", "to buy trigger", "to upper guardrail", "to lower guardrail")}})
    for position in missing:
        st.caption(f"#{position.id} {position.ticker}: no price yet — evaluate it on the Positions page or store "
                   "its data on the Data page.")
    st.caption(f"Refreshed {datetime.now():%H:%M:%S}; re-evaluated every minute. A state change is recorded in "
               "the audit log.")
