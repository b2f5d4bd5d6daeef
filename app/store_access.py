"""The run store for the pages: one :class:`storage.Store` per database URL, and store errors shown, not raised.

Pages never open database sessions; they call :func:`get_store` and the ``Store`` methods. Every run-store failure
(corrupt or read-only file, full disk, missing table, unknown run) is a :class:`storage.StoreError` whose message
says what to do; :func:`store_errors` and :func:`guard_store_errors` turn it into an ``st.error`` box so that no page
ever shows a traceback for it.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

import streamlit as st

from app.widgets import render_problem
from usecases.store import Store, StoreError, default_database_url

P = ParamSpec("P")
R = TypeVar("R")


@st.cache_resource(show_spinner="Opening the run store…", max_entries=8)
def _open_store(url: str) -> Store:
    # Cached per URL and process: opening migrates the schema and seeds presets, which is needed once, not on every
    # rerun. A StoreError raised here is not cached, so the next rerun tries again after the user fixed the file.
    return Store(url)


def store_url() -> str:
    """The database the app uses: ``$VBL_DATABASE_URL`` or the default SQLite file under ``var/``."""
    return default_database_url()


def get_store() -> Store:
    """The store of :func:`store_url`, opened (and its schema upgraded) on first use. Raises ``StoreError``."""
    return _open_store(store_url())


def render_store_error(what: str, error: StoreError) -> None:
    """Show a run-store failure as what went wrong plus the store's own advice (its message says what to do)."""
    render_problem(what, error, "")


@contextlib.contextmanager
def store_errors(what: str) -> Iterator[None]:
    """Run the block; a ``StoreError`` inside it ends the block and is shown as ``st.error`` headed by ``what``.

    Usage::

        with store_errors("The run could not be saved"):
            run_id = get_store().save_run(...)
            st.success(f"Saved as run {run_id}")
    """
    try:
        yield
    except StoreError as exc:
        render_store_error(what, exc)


def open_store_or_report(what: str = "The run store cannot be opened") -> Store | None:
    """The store, or ``None`` after showing why it cannot be opened (the caller then skips what needs it)."""
    try:
        return get_store()
    except StoreError as exc:
        render_store_error(what, exc)
        return None


def guard_store_errors(page: Callable[P, None]) -> Callable[P, None]:
    """Wrap a page function so that a ``StoreError`` escaping it becomes an ``st.error`` instead of a traceback.

    The last line of defence for every page registered in ``streamlit_app.py``; pages still catch errors where
    they can say more precisely what failed.
    """

    @functools.wraps(page)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            page(*args, **kwargs)
        except StoreError as exc:
            render_store_error("The run store failed", exc)

    return guarded


def parse_tags(text: str) -> list[str]:
    """Tags typed as ``"baseline, goog 2010"``: split on commas, trimmed, blanks and repeats dropped, order kept."""
    tags: list[str] = []
    for part in text.split(","):
        tag = part.strip()
        if tag and tag not in tags:
            tags.append(tag)
    return tags
