"""Recognising what a CSV column holds from its header, whatever the vendor called it.

Headers are compared after lower-casing and dropping everything but letters and digits, so ``"Adj Close"``,
``"adj_close"``, ``"<CLOSE>"`` and ``"Close/Last"`` all reduce to simple keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

_NON_ALNUM = re.compile(r"[^0-9a-z]+")

PRICE_ALIASES: Mapping[str, frozenset[str]] = {
    "datetime": frozenset({"datetime", "timestamp", "dateandtime", "gmttime", "localtime", "utctime"}),
    "date": frozenset({"date", "day", "tradedate", "tradingdate", "tradingday", "sessiondate", "bardate"}),
    "time": frozenset({"time", "bartime", "timeofday"}),
    "open": frozenset({"open", "openprice", "opening", "openingprice"}),
    "high": frozenset({"high", "highprice"}),
    "low": frozenset({"low", "lowprice"}),
    # "price" and "last" are the close in Investing.com and Nasdaq exports; two of these at once is ambiguous.
    "close": frozenset({"close", "closeprice", "closelast", "last", "lastprice", "price", "closing", "closingprice"}),
    "adj_close": frozenset(
        {"adjclose", "adjustedclose", "adjcloseprice", "adjclosingprice", "adjustedcloseprice", "adjustedclosing"}
    ),
    "volume": frozenset({"volume", "vol", "totalvolume"}),
    "symbol": frozenset({"symbol", "ticker"}),
}

DIVIDEND_ALIASES: Mapping[str, frozenset[str]] = {
    "ex_date": frozenset({"exdate", "exdividenddate", "exdivdate", "exeffdate", "exdividend"}),
    "date": frozenset({"date", "datetime", "timestamp"}),  # Yahoo's dividend export: Date,Dividends
    "amount": frozenset(
        {"amount", "dividend", "dividends", "cashamount", "dividendamount", "grossamount", "dividendpershare", "value"}
    ),
    "pay_date": frozenset({"paydate", "paymentdate", "payabledate", "payable"}),
}


def normalise_name(name: object) -> str:
    """Reduce a header to its comparison key: ``"Adj. Close"`` → ``"adjclose"``."""
    return _NON_ALNUM.sub("", str(name).lower())


def assign_roles(header: Sequence[str], aliases: Mapping[str, frozenset[str]]) -> dict[str, list[int]]:
    """Map each role to the positions of the columns whose header is one of its aliases.

    A role with two or more positions is ambiguous; the caller decides whether that is an error.
    """
    roles: dict[str, list[int]] = {}
    for pos, name in enumerate(header):
        key = normalise_name(name)
        for role, names in aliases.items():
            if key in names:
                roles.setdefault(role, []).append(pos)
    return roles


def is_unnamed(name: str) -> bool:
    """True for an empty header or the ``Unnamed: 0`` / ``index`` that pandas writes for an index column."""
    key = normalise_name(name)
    return key == "" or key.startswith("unnamed") or key == "index"
