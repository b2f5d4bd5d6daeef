"""The app's pages as data: key, title, icon and URL path, and how one page sends the user to another.

``streamlit_app.py`` builds the menu from :data:`PAGES` and the view functions; a view that links to another page
names it by key (:func:`switch_to`, :func:`page_link`) and so never imports another view. Streamlit identifies a
page by a hash of its URL path, so the page objects registered by the router on every run are the ones used here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import streamlit as st
from streamlit.errors import StreamlitAPIException


@dataclass(frozen=True)
class PageEntry:
    """One page of the menu. A URL path contains a hyphen or differs from every module name, by habit."""

    key: str
    title: str
    icon: str
    url_path: str


PAGES: tuple[PageEntry, ...] = (
    PageEntry("home", "Home", ":material/home:", "start"),
    PageEntry("data", "Data", ":material/database:", "market-data"),
    PageEntry("backtest", "Backtest", ":material/query_stats:", "run-backtest"),
    PageEntry("runs", "Runs", ":material/history:", "saved-runs"),
    PageEntry("portfolio", "Portfolio", ":material/pie_chart:", "portfolio-cells"),
    PageEntry("optimise", "Optimise", ":material/tune:", "optimisation-lab"),
    PageEntry("positions", "Positions", ":material/account_balance:", "my-positions"),
    PageEntry("robustness", "Robustness", ":material/verified:", "robustness-checks"),
    PageEntry("trade_analysis", "Trade analysis", ":material/receipt_long:", "trades"),
    PageEntry("risk", "Risk", ":material/warning:", "risk-report"),
    PageEntry("regimes", "Regimes", ":material/partly_cloudy_day:", "market-regimes"),
    PageEntry("compare", "Compare", ":material/compare_arrows:", "compare-runs"),
    PageEntry("reports", "Reports", ":material/download:", "download-reports"),
    PageEntry("schedules", "Schedules", ":material/schedule_send:", "report-schedules"),
    PageEntry("audit", "Audit log", ":material/fact_check:", "audit-log"),
    PageEntry("definitions", "Definitions", ":material/menu_book:", "metric-definitions"),
)
ENTRIES: dict[str, PageEntry] = {entry.key: entry for entry in PAGES}
DEFAULT_PAGE = "home"

# The page objects of the last menu built in this process (equal for every session: a page is its URL path's hash).
_registered: dict[str, st.Page] = {}


def url_path(key: str) -> str:
    """The URL path of the page ``key``."""
    return ENTRIES[key].url_path


def build_pages(views: Mapping[str, Callable[[], None]],
                wrap: Callable[[Callable[[], None]], Callable[[], None]] = lambda view: view) -> list[st.Page]:
    """The menu's page objects, in :data:`PAGES` order, each view wrapped by ``wrap``; remembered for links."""
    missing = set(ENTRIES) ^ set(views)
    if missing:
        raise ValueError(f"every page needs exactly one view; mismatched: {', '.join(sorted(missing))}")
    pages = [
        st.Page(wrap(views[e.key]), title=e.title, icon=e.icon, url_path=e.url_path, default=e.key == DEFAULT_PAGE)
        for e in PAGES
    ]
    _registered.update({e.key: page for e, page in zip(PAGES, pages, strict=True)})
    return pages


def switch_to(key: str) -> None:
    """Open the page ``key`` (as a click in the menu does)."""
    st.switch_page(_registered[key])


def page_link(key: str, label: str, fallback: str, icon: str | None = None) -> None:
    """A link to the page ``key``, or ``fallback`` as text where the menu is not built (a view run on its own)."""
    page = _registered.get(key)
    if page is None:
        st.caption(fallback)
        return
    try:
        st.page_link(page, label=label, icon=icon)
    except StreamlitAPIException:  # registered by another router than this session's
        st.caption(fallback)
