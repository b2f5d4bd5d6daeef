"""``python -m cli alerts``: the watch list of held positions, for a terminal or cron (docs/strategy.md §11).

::

    python -m cli alerts                          # prices: the newest stored close of each ticker
    python -m cli alerts --yahoo                  # the latest Yahoo close (cached loader), stored data offline
    python -m cli alerts --price GOOG=141.2@2026-12-07T15:30 --near-pct 2 --stale-hours 24

Exit code 1 when an action is due on any position (``… alerts || mail -s "rebalance" me``), 0 otherwise, 2 for
bad arguments. Every change of a position's state is recorded in the audit log.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any, TextIO

from cli.main import EXIT_OK, CliError

EXIT_ACTION_DUE = 1


def _typed_price(text: str) -> tuple[str, float, datetime | None]:
    ticker, sep, rest = text.partition("=")
    price_text, _, at_text = rest.partition("@")
    try:
        price = float(price_text)
        at = datetime.fromisoformat(at_text) if at_text else None
    except ValueError:
        price = float("nan")
        at = None
    if not sep or not ticker.strip() or not price > 0:
        raise argparse.ArgumentTypeError(f"expected TICKER=PRICE or TICKER=PRICE@YYYY-MM-DDTHH:MM, got {text!r}")
    return ticker.strip().upper(), price, at


def alerts(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from cli.runs import open_store
    from core.alerts import ACTION_DUE, AlertSettings, alerts_frame
    from usecases.alerts import Quote, local_now, record_changes, watch

    try:
        settings = AlertSettings(near_fraction=args.near_pct / 100, stale_after_hours=args.stale_hours)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    now = args.now
    typed = {t: Quote(p, at or now or local_now("America/New_York"), "typed") for t, p, at in args.prices}
    with open_store() as store:
        watched = watch(store, settings=settings, typed=typed, yahoo=args.yahoo, now=now)
        record_changes(store, watched.alerts)
    found, missing = watched.alerts, watched.unpriced
    if not found and not missing:
        print("no active positions", file=stdout)
        return EXIT_OK
    for _, row in alerts_frame(found).iterrows():
        print(f"{row['state']:<13} #{row['position']:<4} {row['message']}", file=stdout)
    for position in missing:
        print(f"{'No price':<13} #{position.id:<4} {position.ticker}: no price (type one with --price "
              f"{position.ticker}=PRICE or store its data)", file=stdout)
    return EXIT_ACTION_DUE if any(a.state == ACTION_DUE for a in found) else EXIT_OK


def register(subparsers: Any) -> None:
    """Add ``alerts``."""
    p = subparsers.add_parser("alerts", help="the watch list of held positions; exit 1 when an action is due")
    p.add_argument("--price", dest="prices", action="append", type=_typed_price, default=[], metavar="TICKER=PRICE",
                   help="a price to judge a ticker at, optionally @TIME (exchange time); repeat for several")
    p.add_argument("--yahoo", action="store_true", help="fetch the latest close from Yahoo (cached; offline: stored)")
    p.add_argument("--near-pct", type=float, default=1.0, metavar="PCT",
                   help="within PCT %% of a trigger is 'near' (default 1)")
    p.add_argument("--stale-hours", type=float, default=96.0, metavar="H",
                   help="a price older than H hours is stale (default 96)")
    p.add_argument("--now", type=datetime.fromisoformat, default=None, metavar="TIME",
                   help="judge at this exchange time instead of now (YYYY-MM-DDTHH:MM)")
    p.set_defaults(handler=alerts)
