"""The watch list of held positions: each active position's alert at its latest price, and the audit trail of
state changes (docs/strategy.md §11).

Where a price comes from, in order: a price typed for the position (or its ticker); Yahoo Finance through the cached
loader when asked for (``yahoo=True``; a failed download falls back to what follows and says so); the newest
close of a stored dataset of the same symbol. The alert says how old the price is (a daily close counts from 16:00),
so an offline watch list is honest about it.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from core.advisor import evaluate
from core.alerts import AlertSettings, PositionAlert, position_alert
from core.data import fetch_yahoo
from core.errors import DataError
from core.position_state import Decision
from storage import DatasetInfo, PositionRecord, Store, StoreReadOnly
from usecases.ledger import ledger

YAHOO_LOOKBACK_DAYS = 10
ALERT_ENTITY = "position_alert"


@dataclass(frozen=True)
class Quote:
    """A price, when it was taken (exchange-local, naive) and where it came from."""

    price: float
    at: datetime
    source: str


def _taken_at(stamp: pd.Timestamp) -> datetime:
    return (stamp.tz_localize(None) if stamp.tzinfo is not None else stamp).to_pydatetime()


def newest_dataset(store: Store, symbol: str, *, interval: str | None = None) -> DatasetInfo | None:
    """The stored dataset of ``symbol`` (any case; of ``interval`` when given) whose bars end last, the one saved
    last among equals; None when there is none."""
    same = [d for d in store.list_datasets() if d.symbol.upper() == symbol.upper() and d.last_timestamp is not None
            and (interval is None or d.interval == interval)]
    return max(same, key=lambda d: (d.last_timestamp, d.id)) if same else None


def stored_quote(store: Store, ticker: str) -> Quote | None:
    """The newest close among the stored datasets of ``ticker`` (None when there is none)."""
    info = newest_dataset(store, ticker)
    if info is None:
        return None
    prices = store.load_dataset(info.id).prices
    if prices.empty:
        return None
    return Quote(float(prices["close"].iloc[-1]), _taken_at(pd.Timestamp(prices.index[-1])),
                 f"stored dataset #{info.id} {info.name}")


def price_history(store: Store, ticker: str, before: datetime) -> pd.Series | None:
    """The closes of ``ticker``'s newest stored dataset strictly before ``before`` (exchange-local, naive), oldest
    first: what a vol_scaled position's triggers are scaled by (docs/strategy.md §5.4a). None without a dataset."""
    info = newest_dataset(store, ticker)
    if info is None:
        return None
    closes = store.load_dataset(info.id).prices["close"]
    index = pd.DatetimeIndex(closes.index)
    if index.tz is not None:
        index = index.tz_convert(info.timezone or "America/New_York").tz_localize(None)
    return closes[index < pd.Timestamp(before)]


def history_for(store: Store, position: PositionRecord, at: datetime) -> pd.Series | None:
    """The price history the advisor needs for ``position`` at ``at``: the stored closes before it in vol_scaled
    mode (so the triggers in force are the simulator's), nothing in fixed mode (where no history is read)."""
    if position.config.threshold_mode != "vol_scaled":
        return None
    return price_history(store, position.ticker, at)


def advise(store: Store, position: PositionRecord, price: float, at: datetime) -> Decision:
    """What the strategy does for a held ``position`` at ``price`` taken at ``at`` (``core.advisor.evaluate``,
    with the stored price history when its triggers are volatility-scaled)."""
    return evaluate(position.state, price, position.config, pd.Timestamp(at), timezone=position.timezone,
                    history=history_for(store, position, at))


def yahoo_quote(ticker: str, now: datetime, **fetch_options: object) -> Quote:
    """The latest daily close from Yahoo (cached loader); ``DataError`` when it cannot be had."""
    start = (pd.Timestamp(now) - pd.Timedelta(days=YAHOO_LOOKBACK_DAYS)).normalize()
    data = fetch_yahoo(ticker, start, pd.Timestamp(now).normalize() + pd.Timedelta(days=1), "1d", **fetch_options)
    if data.prices.empty:
        raise DataError(f"Yahoo has no recent price for {ticker}")
    return Quote(float(data.prices["close"].iloc[-1]), _taken_at(pd.Timestamp(data.prices.index[-1])), "Yahoo")


def local_now(timezone: str) -> datetime:
    """The current exchange-local time, naive."""
    return pd.Timestamp.now(tz=timezone).tz_localize(None).to_pydatetime()


def _typed(position: PositionRecord, typed: Mapping[object, Quote]) -> Quote | None:
    return typed.get(position.id) or typed.get(position.ticker.upper()) or typed.get(position.ticker)


@dataclass(frozen=True)
class Watch:
    """The watch list: an alert per priced active position, and the active positions no price is known for."""

    alerts: list[PositionAlert]
    unpriced: list[PositionRecord]


def watch(
    store: Store,
    *,
    settings: AlertSettings | None = None,
    typed: Mapping[object, Quote] | None = None,
    yahoo: bool = False,
    now: datetime | None = None,
    yahoo_options: Mapping[str, object] | None = None,
) -> Watch:
    """Price every active position once and judge it (docs/strategy.md §11)."""
    alerts, unpriced = [], []
    for position, quote in _priced(store, typed or {}, yahoo, now, dict(yahoo_options or {})):
        if quote is None:
            unpriced.append(position)
            continue
        at_now = now or local_now(position.timezone)
        alerts.append(position_alert(position.id, position.ticker, position.state, position.config, quote.price,
                                     quote.at, now=at_now, source=quote.source, settings=settings,
                                     timezone=position.timezone, history=history_for(store, position, quote.at)))
    return Watch(alerts, unpriced)


def watch_list(store: Store, **options: object) -> list[PositionAlert]:
    """The alerts of :func:`watch` (positions without any price are left out)."""
    return watch(store, **options).alerts  # type: ignore[arg-type]


def _priced(store: Store, typed: Mapping[object, Quote], yahoo: bool, now: datetime | None,
            yahoo_options: dict[str, object]) -> list[tuple[PositionRecord, Quote | None]]:
    out: list[tuple[PositionRecord, Quote | None]] = []
    for position in ledger(store).list(status="active"):
        quote = _typed(position, typed)
        note = ""
        if quote is None and yahoo:
            try:
                quote = yahoo_quote(position.ticker, now or local_now(position.timezone), **yahoo_options)
            except DataError as exc:
                note = f" (Yahoo unavailable: {str(exc).split(';')[0]})"
        if quote is None:
            quote = stored_quote(store, position.ticker)
            if quote is not None and note:
                quote = Quote(quote.price, quote.at, quote.source + note)
        if quote is not None and not (math.isfinite(quote.price) and quote.price > 0):
            raise ValueError(f"the price of {position.ticker} must be a positive number, got {quote.price!r}")
        out.append((position, quote))
    return out


def record_changes(store: Store, alerts: Sequence[PositionAlert]) -> list[PositionAlert]:
    """Record in the audit log each alert whose state differs from the position's last recorded one; returns them.
    On a read-only store nothing is recorded (the watch list still works)."""
    changed = []
    for alert in alerts:
        last = store.list_audit(entity=ALERT_ENTITY, entity_id=alert.position_id, limit=1)
        if last and last[0].details.get("state") == alert.state:
            continue
        with contextlib.suppress(StoreReadOnly):
            store.record_audit("alert", ALERT_ENTITY, alert.position_id, {
                "state": alert.state, "previous": last[0].details.get("state") if last else None,
                "ticker": alert.ticker, "price": alert.price, "price_at": alert.price_at.isoformat(),
                "source": alert.price_source, "message": alert.message})
            changed.append(alert)
    return changed
