"""The Positions page: "what do I do now?" for positions held for real.

A list of positions (value, stock share, distance to each trigger, status badge) and a card for the selected one:
the advice at a typed price or a dataset's latest close (decided by :func:`core.advisor.evaluate`, the simulator's
own rules), proposing it as an order, recording the fill as it really happened, deposits and withdrawals, dividends,
setting the anchor by hand (audited), the event timeline, and the history as Excel or CSV.

One function, :func:`positions_page`, registered with ``st.navigation`` in ``streamlit_app.py``. Everything is
stored through ``ledger(store)`` (:mod:`usecases.ledger`), so a restart of the app loses nothing; the page keeps
only the last evaluated price in the session.
"""

from __future__ import annotations

import contextlib
import math
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from app.data import load_sample_data, samples
from app.store_access import open_store_or_report
from app.watch_list import watch_list_fragment, watch_settings_inputs
from app.widgets import flash, render_problem, show_flash
from core import kernel as K
from core.advisor import Decision
from core.position_history import history_csv, history_excel
from usecases.alerts import Quote, advise
from usecases.ledger import ledger, local_now
from usecases.store import POSITION_STATUSES, PositionRecord, Store, StoreError

_EVAL = "pos_evaluated"  # {position id: (price, price time as ISO text, source label)}
STATUS_COLORS: dict[str, str] = {"active": "green", "paused": "orange", "closed": "gray"}
ACTION_COLORS: dict[str, str] = {"BUY": "blue", "SELL": "violet", "HOLD": "gray", "SKIP": "orange"}


@dataclass(frozen=True)
class PriceQuote:
    """A price to evaluate at, where it came from and when it was taken (exchange-local, naive)."""

    price: float
    at: datetime
    source: str


# -- pure helpers (tested without Streamlit) --------------------------------------------------------------------


def position_metrics(position: PositionRecord, price: float, decision: Decision | None = None) -> dict[str, float]:
    """Value, stock share and the distance from ``price`` to each trigger (positive: the price must rise).

    The trigger prices are the advisor's (``decision``: the triggers in force, volatility-scaled where configured)
    or, without one, the kernel's rule on the configuration's own triggers.
    """
    state, cfg = position.state, position.config
    value = state.value(price)
    if decision is not None:
        sell, buy = decision.sell_trigger_price, decision.buy_trigger_price
    else:
        sell, buy = K.trigger_prices(state.anchor, cfg.trigger_up, cfg.trigger_down)
    return {
        "value": value,
        "stock_share": state.shares * price / value if value > 0 else math.nan,
        "sell_trigger": sell,
        "buy_trigger": buy,
        "to_sell": sell / price - 1,
        "to_buy": buy / price - 1,
    }


def positions_frame(records: Sequence[PositionRecord], prices: Mapping[int, PriceQuote]) -> pd.DataFrame:
    """The list of positions: one row each, measured at its quote (or at its anchor when none is known)."""
    rows: list[dict[str, Any]] = []
    for p in records:
        quote = prices.get(p.id)
        price = quote.price if quote is not None else p.state.anchor
        m = position_metrics(p, price)
        rows.append(
            {
                "id": p.id,
                "ticker": p.ticker,
                "name": p.name,
                "status": status_badge(p.status),
                "price": price,
                "price_source": quote.source if quote is not None else "anchor",
                "value": m["value"],
                "stock_share": m["stock_share"],
                "to_sell": m["to_sell"],
                "to_buy": m["to_buy"],
                "receivable": p.state.receivable,
            }
        )
    columns = ["id", "ticker", "name", "status", "price", "price_source", "value", "stock_share", "to_sell",
               "to_buy", "receivable"]
    return pd.DataFrame(rows, columns=columns)


def status_badge(status: str) -> str:
    """A position's status as a short badge text for tables (``"● active"``)."""
    return {"active": "🟢 active", "paused": "🟠 paused", "closed": "⚪ closed"}.get(status, status)


def events_frame(events: Sequence[Any]) -> pd.DataFrame:
    """The timeline table: when (UTC), what, and the holdings right after."""
    rows = [
        {
            "at": pd.Timestamp(e.at).tz_convert(None),
            "event": e.kind.replace("_", " "),
            "message": e.message,
            "shares": e.shares,
            "cash": e.cash,
            "receivable": e.receivable,
            "anchor": e.anchor,
            "by": e.actor,
        }
        for e in events
    ]
    return pd.DataFrame(rows, columns=["at", "event", "message", "shares", "cash", "receivable", "anchor", "by"])


def parse_time(text: str, timezone: str) -> datetime:
    """A typed price time (``"2024-01-03 11:00"``; empty: now at the exchange) as naive exchange-local time."""
    text = text.strip()
    if not text:
        return local_now(timezone)
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError):
        raise ValueError(f"{text!r} is not a time; type e.g. 2024-01-03 11:00 (exchange time) or leave it empty") \
            from None
    if stamp is pd.NaT:
        raise ValueError("type a time such as 2024-01-03 11:00, or leave it empty for now")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(timezone).tz_localize(None)
    return stamp.to_pydatetime()


def _money(value: float) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"${value:,.2f}"


def _pct(value: float) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.1%}"


# -- Streamlit --------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _problems(what: str) -> Iterator[None]:
    # Refusals are expected (an overdrawing fill, a used idempotency key, a bad number): show them, never a traceback.
    try:
        yield
    except (StoreError, ValueError) as exc:
        render_problem(what, exc)


def _quotes() -> dict[int, PriceQuote]:
    return st.session_state.setdefault(_EVAL, {})


def positions_page() -> None:
    """List the positions; advise on, trade and maintain the selected one."""
    st.title("Positions")
    st.caption(
        "Positions you hold for real. The advice comes from the very rules the backtest simulates; record what your "
        "broker actually executed, and the position, its orders, fills, dividends and timeline are kept in the store."
    )
    show_flash()

    store = open_store_or_report()
    if store is None:
        return
    records: list[PositionRecord] = []
    with _problems("The positions could not be listed"):
        records = ledger(store).list()
    new_position_section(store, expanded=not records)
    if not records:
        st.info("No positions yet: open one above.", icon=":material/info:")
        return

    st.dataframe(positions_frame(records, _quotes()), hide_index=True, column_config=_list_columns(),
                 key="pos_table")
    with st.expander("Watch list", expanded=True, icon=":material/notifications:"):
        watch_settings_inputs()
        typed = {pid: Quote(q.price, q.at, q.source) for pid, q in _quotes().items()}
        watch_list_fragment(store, typed, key="pos_watch")
    by_id = {p.id: p for p in records}
    pid = st.selectbox("Position", list(by_id), format_func=lambda i: f"#{i} {by_id[i].ticker} — {by_id[i].name}",
                       key="pos_selected")
    if pid is not None:
        position_card(store, by_id[pid])


def _list_columns() -> dict[str, Any]:
    cc = st.column_config
    return {
        "id": cc.NumberColumn("#", format="%d"),
        "ticker": cc.TextColumn("Ticker"),
        "name": cc.TextColumn("Name"),
        "status": cc.TextColumn("Status"),
        "price": cc.NumberColumn("Price", format="dollar"),
        "price_source": cc.TextColumn("Price from", help="Last evaluated price, or the anchor when none"),
        "value": cc.NumberColumn("Value", format="dollar"),
        "stock_share": cc.NumberColumn("Stock share", format="percent"),
        "to_sell": cc.NumberColumn("To sell trigger", format="percent", help="Rise needed to reach the sell trigger"),
        "to_buy": cc.NumberColumn("To buy trigger", format="percent", help="Move needed to reach the buy trigger"),
        "receivable": cc.NumberColumn("Dividend receivable", format="dollar"),
    }


def new_position_section(store: Store, *, expanded: bool) -> None:
    """Open a position with existing holdings, or funded and bought like the backtest's first bar."""
    with st.expander("Open a position", icon=":material/add:", expanded=expanded):
        presets = []
        with _problems("The presets could not be loaded"):
            presets = store.list_presets()
        if not presets:
            return
        mode = st.radio("Start from", ["Existing holdings", "Initial capital at a price"], horizontal=True,
                        key="pos_new_mode")
        with st.form("pos_new_form"):
            left, right = st.columns(2)
            ticker = left.text_input("Ticker", max_chars=40, key="pos_new_ticker")
            name = right.text_input("Name", max_chars=200, key="pos_new_name")
            preset = st.selectbox("Configuration (preset)", [p.name for p in presets], key="pos_new_preset")
            a, b, c = st.columns(3)
            if mode == "Existing holdings":
                shares = a.number_input("Shares", min_value=0.0, value=0.0, step=1.0, key="pos_new_shares")
                cash = b.number_input("Cash", min_value=0.0, value=0.0, step=100.0, key="pos_new_cash")
                anchor = c.number_input("Anchor", min_value=0.0, value=0.0, step=1.0, key="pos_new_anchor",
                                        help="The price of the last trade (triggers are measured from it)")
                price = None
            else:
                shares = cash = anchor = None
                price = a.number_input("Buy price", min_value=0.0, value=0.0, step=1.0, key="pos_new_price")
            submitted = st.form_submit_button("Open position", type="primary")
        if submitted:
            config = next(p.config for p in presets if p.name == preset)
            with _problems("The position could not be opened"):
                if mode == "Existing holdings":
                    record = ledger(store).create(ticker, config, name=name, shares=shares, cash=cash,
                                                    anchor=anchor)
                else:
                    record = ledger(store).create(ticker, config, name=name, price=price)
                st.session_state["pos_selected"] = record.id
                flash(f"Position #{record.id} {record.ticker} opened.")


def position_card(store: Store, position: PositionRecord) -> None:
    """The selected position: the advice, actions, timeline and export."""
    pid, state = position.id, position.state
    st.header(f"{position.ticker} — {position.name}")
    st.badge(position.status, color=STATUS_COLORS.get(position.status, "gray"))
    with _problems("The position's details could not be loaded"):
        dividends = ledger(store).list_dividends(pid)
        open_orders = ledger(store).list_orders(pid, open_only=True)
        for d in dividends:
            if d.status == "booked":
                st.badge(d.badge, icon=":material/payments:", color="green")
        if open_orders:
            st.badge(f"{len(open_orders)} open order(s)", icon=":material/pending_actions:", color="orange")

        quote = price_section(store, position)
        price = quote.price if quote is not None else state.anchor
        decision = advise(store, position, quote.price, quote.at) if quote is not None else None
        m = position_metrics(position, price, decision)
        cols = st.columns(4)
        cols[0].metric("Current price", _money(price), help=quote.source if quote else "no price yet: the anchor")
        cols[1].metric("Anchor", _money(state.anchor))
        cols[2].metric("Value", _money(m["value"]))
        cols[3].metric("Stock share", _pct(m["stock_share"]))
        cols = st.columns(4)
        cols[0].metric("Shares", f"{state.shares:,.4f}")
        cols[1].metric("Cash", _money(state.cash))
        cols[2].metric("Dividend receivable", _money(state.receivable))
        cols[3].metric("Orders today", f"{state.orders_today}", help=f"on {state.day}" if state.day else None)

        if decision is not None:
            advice_section(store, position, decision)
        orders_section(store, position, open_orders)
        fill_section(store, position, decision, open_orders)
        cash_section(store, position)
        dividend_section(store, position)
        anchor_section(store, position)
        status_section(store, position)
        timeline_section(store, position)


def price_section(store: Store, position: PositionRecord) -> PriceQuote | None:
    """Evaluate now: at a typed price or a dataset's latest close. Returns the quote in use (kept in the session)."""
    pid = position.id
    st.subheader("Evaluate now")
    source = st.radio("Price", ["Typed price", "Latest close of a dataset"], horizontal=True,
                      key=f"pos_price_source_{pid}")
    if source == "Typed price":
        left, right = st.columns(2)
        typed = left.number_input("Price", min_value=0.0, value=float(position.state.anchor), step=0.01,
                                  key=f"pos_price_{pid}")
        when = right.text_input("Price time (exchange time; empty = now)", key=f"pos_price_time_{pid}",
                                placeholder="2024-01-03 11:00")
    else:
        options = _dataset_options(store, position)
        choice = st.selectbox("Dataset", list(options), key=f"pos_price_dataset_{pid}")
    if st.button("Evaluate", type="primary", icon=":material/calculate:", key=f"pos_evaluate_{pid}"):
        with _problems("The price could not be used"):
            if source == "Typed price":
                quote = PriceQuote(float(typed), parse_time(when, position.timezone), "typed")
            else:
                quote = _latest_close(store, options[choice], choice)
            if not (quote.price > 0 and math.isfinite(quote.price)):
                raise ValueError("the price must be a positive number")
            _quotes()[pid] = quote
    return _quotes().get(pid)


def _dataset_options(store: Store, position: PositionRecord) -> dict[str, tuple[str, Any]]:
    """Bundled samples and stored datasets, those of the position's ticker first."""
    options: dict[str, tuple[str, Any]] = {}
    for info in samples().values():
        options[f"{info.name} (bundled {info.key})"] = ("sample", info.key)
    with contextlib.suppress(StoreError):
        for info in store.list_datasets():
            options[f"{info.name} (stored #{info.id})"] = ("stored", info.id)
    ticker = position.ticker.upper()
    return dict(sorted(options.items(), key=lambda kv: ticker not in kv[0].upper()))


def _latest_close(store: Store, option: tuple[str, Any], label: str) -> PriceQuote:
    kind, key = option
    prices = load_sample_data(key).prices if kind == "sample" else store.load_dataset(key).prices
    if prices.empty:
        raise ValueError(f"the dataset {label} has no bars")
    ts = pd.Timestamp(prices.index[-1])
    return PriceQuote(float(prices["close"].iloc[-1]), ts.to_pydatetime(), f"latest close {ts:%Y-%m-%d} of {label}")


def advice_section(store: Store, position: PositionRecord, d: Decision) -> None:
    """The decision: action, quantities before and after trims, projected share, triggers and guardrail prices."""
    st.badge(f"Next action: {d.action}" + (f" ({d.skip_reason})" if d.skip_reason else ""),
             color=ACTION_COLORS.get(d.action, "gray"))
    if d.trimmed:
        st.badge("Trimmed by a limit", icon=":material/content_cut:", color="orange")
    cols = st.columns(4)
    cols[0].metric("Next action", d.action, help=d.status)
    cols[1].metric("Proposed quantity", f"{abs(d.raw_qty):,.4f}", help="Before trims and limits")
    cols[2].metric("Trimmed quantity", f"{abs(d.qty):,.4f}", help="After trims, hard limits and the minimum order")
    cols[3].metric("Projected stock share", _pct(d.projected_stock_share))
    cols = st.columns(4)
    cols[0].metric("Notional", _money(d.notional), help=f"commission {_money(d.commission)}")
    cols[1].metric("Buy trigger", _money(d.buy_trigger_price))
    cols[2].metric("Sell trigger", _money(d.sell_trigger_price))
    cols[3].metric("Guardrails bind at", f"{_money(d.lower_guardrail_price)} / {_money(d.upper_guardrail_price)}",
                   help="Prices at which the stock share reaches the lower / upper guardrail without a trade")
    st.caption(d.reason)
    if d.action in ("BUY", "SELL") and st.button("Propose this order", icon=":material/add_task:",
                                                 key=f"pos_propose_{position.id}"):
        with _problems("The order could not be proposed"):
            order = ledger(store).propose_order(position.id, d)
            flash(f"Order #{order.id} proposed: {order.side} {order.qty:,.4f} at {_money(order.price)}.")


def orders_section(store: Store, position: PositionRecord, open_orders: Sequence[Any]) -> None:
    """Open orders: mark them submitted, cancelled or rejected."""
    if not open_orders:
        return
    st.subheader("Open orders")
    frame = pd.DataFrame([{"order": o.id, "status": o.status, "side": o.side, "qty": o.qty, "price": o.price,
                           "commission": o.commission, "proposed at": o.decided_at} for o in open_orders])
    st.dataframe(frame, hide_index=True, key=f"pos_orders_{position.id}")
    by_id = {o.id: o for o in open_orders}
    left, a, b, c = st.columns([2, 1, 1, 1], vertical_alignment="bottom")
    oid = left.selectbox("Order", list(by_id), format_func=lambda i: f"#{i} {by_id[i].side} {by_id[i].qty:,.4f}",
                         key=f"pos_order_pick_{position.id}")
    for column, label, action in ((a, "Submitted", "submit"), (b, "Cancel", "cancel"), (c, "Rejected", "reject")):
        if column.button(label, key=f"pos_order_{action}_{position.id}") and oid is not None:
            with _problems(f"Order #{oid} could not be changed"):
                getattr(ledger(store), f"{action}_order")(oid)
                flash(f"Order #{oid}: {action} recorded.")


def fill_section(store: Store, position: PositionRecord, decision: Decision | None, open_orders: Sequence[Any]) -> None:
    """Record a fill as executed (prefilled from the advice). A key per form makes a double submit harmless."""
    pid = position.id
    key_name = f"pos_fill_key_{pid}"
    idem = st.session_state.setdefault(key_name, uuid.uuid4().hex)
    with st.expander("Record a fill", icon=":material/receipt_long:"):
        advised = decision is not None and decision.action in ("BUY", "SELL")
        # The widget keys carry the advice and the position's version, so the prefilled values follow the advice
        # (a keyed widget otherwise keeps its first value).
        version = f"{pid}_{position.updated_at:%Y%m%d%H%M%S%f}_" + (
            f"{decision.side}{decision.qty:.10g}@{decision.exec_price:.10g}" if advised else "none"
        )
        with st.form(f"pos_fill_form_{pid}"):
            orders = {None: "no order", **{o.id: f"#{o.id} {o.side} {o.qty:,.4f}" for o in open_orders}}
            order_id = st.selectbox("Order", list(orders), format_func=lambda i: orders[i], key=f"pos_fill_order_{pid}")
            a, b, c, e = st.columns(4)
            side = a.selectbox("Side", ["BUY", "SELL"], index=0 if not advised or decision.side == "BUY" else 1,
                               key=f"pos_fill_side_{version}")
            qty = b.number_input("Quantity", min_value=0.0, value=abs(decision.qty) if advised else 0.0,
                                 step=1.0, format="%.4f", key=f"pos_fill_qty_{version}")
            price = c.number_input("Price", min_value=0.0, value=decision.exec_price if advised else
                                   float(position.state.anchor), step=0.01, key=f"pos_fill_price_{version}")
            fee = e.number_input("Commission", min_value=0.0, value=decision.commission if advised else 0.0,
                                 step=0.01, key=f"pos_fill_fee_{version}")
            when = st.text_input("Fill time (exchange time; empty = now)", key=f"pos_fill_time_{pid}",
                                 placeholder="2024-01-03 11:00")
            submitted = st.form_submit_button("Record fill", type="primary")
        if submitted:
            if order_id is not None:
                order = next(o for o in open_orders if o.id == order_id)
                side = order.side
            with _problems("The fill was refused"):
                result = ledger(store).record_fill(pid, side, qty, price, fee, at=parse_time(when, position.timezone),
                                                     order_id=order_id, idempotency_key=idem)
                st.session_state[key_name] = uuid.uuid4().hex  # the next fill is a new request
                note = " (it had already been recorded)" if result.replayed else ""
                flash(f"Fill #{result.fill.id} recorded{note}: {side} {qty:,.4f} at {_money(price)}.")


def cash_section(store: Store, position: PositionRecord) -> None:
    """Deposit or withdraw cash."""
    pid = position.id
    with st.expander("Deposit or withdraw", icon=":material/account_balance_wallet:"):
        with st.form(f"pos_cash_form_{pid}"):
            a, b = st.columns(2)
            direction = a.selectbox("Direction", ["Deposit", "Withdraw"], key=f"pos_cash_dir_{pid}")
            amount = b.number_input("Amount", min_value=0.0, value=0.0, step=100.0, key=f"pos_cash_amount_{pid}")
            note = st.text_input("Note", key=f"pos_cash_note_{pid}")
            submitted = st.form_submit_button("Book")
        if submitted:
            with _problems("The cash movement was refused"):
                if direction == "Deposit":
                    ledger(store).deposit(pid, amount, note)
                else:
                    ledger(store).withdraw(pid, amount, note)
                flash(f"{direction} of {_money(amount)} booked.")


def dividend_section(store: Store, position: PositionRecord) -> None:
    """Book an ex-dividend (receivable and anchor adjustment) and pay the ones that are due."""
    pid = position.id
    with st.expander("Dividends", icon=":material/payments:"):
        with st.form(f"pos_div_form_{pid}"):
            a, b, c = st.columns(3)
            ex_date = a.date_input("Ex-date", key=f"pos_div_ex_{pid}")
            amount = b.number_input("Per share", min_value=0.0, value=0.0, step=0.01, key=f"pos_div_amount_{pid}")
            pay = c.text_input("Pay date (empty: ex-date + lag)", key=f"pos_div_pay_{pid}", placeholder="2024-03-18")
            submitted = st.form_submit_button("Book ex-dividend")
        if submitted:
            with _problems("The dividend could not be booked"):
                div = ledger(store).book_dividend(pid, ex_date, amount, pay.strip() or None)
                flash(div.badge)
        if st.button("Pay the dividends due today", key=f"pos_div_pay_due_{pid}"):
            with _problems("The dividends could not be paid"):
                paid = ledger(store).pay_due_dividends(pid)
                flash(f"{len(paid)} dividend(s) paid." if paid else "No dividend is due yet.")


def anchor_section(store: Store, position: PositionRecord) -> None:
    """Set the anchor by hand, with a reason (kept in the timeline and the audit log)."""
    pid = position.id
    with st.expander("Set the anchor by hand", icon=":material/anchor:"):
        with st.form(f"pos_anchor_form_{pid}"):
            anchor = st.number_input("New anchor", min_value=0.0, value=float(position.state.anchor), step=0.01,
                                     key=f"pos_anchor_value_{pid}")
            reason = st.text_input("Reason (required, audited)", key=f"pos_anchor_reason_{pid}")
            submitted = st.form_submit_button("Set anchor")
        if submitted:
            with _problems("The anchor was not changed"):
                ledger(store).set_anchor(pid, anchor, reason)
                flash(f"Anchor set to {_money(anchor)}.")


def status_section(store: Store, position: PositionRecord) -> None:
    """Pause, close or re-activate the position."""
    pid = position.id
    with st.expander("Status", icon=":material/toggle_on:"):
        status = st.selectbox("Status", POSITION_STATUSES, index=POSITION_STATUSES.index(position.status),
                              key=f"pos_status_{pid}")
        if status != position.status and st.button("Change status", key=f"pos_status_apply_{pid}"):
            with _problems("The status could not be changed"):
                ledger(store).set_status(pid, status)
                flash(f"Position is now {status}.")


def timeline_section(store: Store, position: PositionRecord) -> None:
    """The event timeline and the history as Excel and CSV."""
    pid = position.id
    st.subheader("Timeline")
    history = ledger(store).history(pid)
    st.dataframe(events_frame(history.events), hide_index=True, key=f"pos_timeline_{pid}",
                 column_config={"at": st.column_config.DatetimeColumn("At (UTC)", format="YYYY-MM-DD HH:mm:ss")})
    stem = f"position-{pid}-{position.ticker}"
    left, right = st.columns(2)
    left.download_button("History as Excel", history_excel(history), file_name=f"{stem}.xlsx",
                         mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                         icon=":material/download:", key=f"pos_export_xlsx_{pid}", on_click="ignore")
    right.download_button("Timeline as CSV", history_csv(history), file_name=f"{stem}.csv", mime="text/csv",
                          icon=":material/download:", key=f"pos_export_csv_{pid}", on_click="ignore")
