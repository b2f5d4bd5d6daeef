"""The Data page: bundled datasets, CSV upload (with a column mapping when detection is unsure), Yahoo download,
and a look at the active dataset (candles with volume, dividends, the quality report).

One function, :func:`data_page`, registered in ``streamlit_app.py`` under :data:`URL_PATH`. Uploads and downloads
are saved to the run store and become the active dataset, so they work offline later and every page uses them.
"""

from __future__ import annotations

import csv
import functools
import io
import warnings
import zoneinfo
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

import pandas as pd
import streamlit as st

import core.data
from app.data import samples
from app.dataset_picker import dataset_picker
from app.state import DatasetRef, active_dataset, load_dataset, set_active_dataset
from app.store_access import open_store_or_report
from app.widgets import flash, render_problem, show_chart, show_flash
from core import DataError
from core.data import MarketData, QualityReport, load_csv, quality_report
from core.data.columns import PRICE_ALIASES, assign_roles, normalise_name
from core.data.csv_table import RawTable, read_table, read_text, table_of_text
from core.figures import candlestick_figure
from usecases.store import NameShortened, Store, StoreError

YAHOO_INTERVALS: tuple[str, ...] = ("1d", "1wk", "1mo", "1h", "30m", "15m", "5m")
DEFAULT_TIMEZONE = "America/New_York"
# Offered first in the time-zone list (the exchange zones people use most); every other IANA zone follows.
COMMON_TIMEZONES: tuple[str, ...] = (
    DEFAULT_TIMEZONE, "UTC", "America/Chicago", "America/Toronto", "Europe/London", "Europe/Frankfurt",
    "Europe/Zurich", "Asia/Tokyo", "Asia/Hong_Kong", "Australia/Sydney",
)
# The roles a user can map by hand, with the header the loader recognises for each (docs/strategy.md §2 columns).
MAPPED_ROLES: dict[str, str] = {
    "date": "Date",
    "time": "Time",
    "open": "Open",
    "high": "High",
    "low": "Low",
    "close": "Close",
    "volume": "Volume",
}
REQUIRED_ROLES = ("date", "close")
_PENDING = "data_pending_upload"  # the parsed upload waiting for "Save and use"
_LAST_UPLOAD = "data_last_upload"
_SAVE_WARNINGS = "data_save_warnings"  # shown after the rerun that follows a save, like the flash message
_ALL_ALIASES = frozenset().union(*PRICE_ALIASES.values())


# --- column mapping (pure) -------------------------------------------------------------------------------------


PREVIEW_ROWS = 8


def _looks_like_header(fields: Sequence[str]) -> bool:
    return any(normalise_name(f) in _ALL_ALIASES for f in fields)


def raw_table(content: bytes, max_rows: int | None = None) -> RawTable:
    """The upload split into header and rows, without any interpretation (only the first ``max_rows`` when given).
    Raises DataError for unreadable files."""
    if max_rows is None:
        return read_table(content, _looks_like_header)
    text, source = read_text(content)
    return table_of_text(text, source, _looks_like_header, max_rows=max_rows)


def guess_mapping(header: list[str]) -> dict[str, int | None]:
    """Column position per role as the loader's detection sees it; ``None`` when absent or ambiguous (>1 match)."""
    roles = assign_roles(header, PRICE_ALIASES)
    guess: dict[str, int | None] = {}
    for role in MAPPED_ROLES:
        positions = roles.get(role, [])
        if role == "date" and not positions:
            positions = roles.get("datetime", [])
        if role == "close" and not positions:
            positions = roles.get("adj_close", [])
        guess[role] = positions[0] if len(positions) == 1 else None
    return guess


def remap_csv(table: RawTable, mapping: Mapping[str, int | None]) -> bytes:
    """A CSV of the chosen columns under the headers the loader recognises (same delimiter, so numbers keep their
    decimal separator). Raises DataError when a required column is not chosen."""
    missing = [MAPPED_ROLES[r] for r in REQUIRED_ROLES if mapping.get(r) is None]
    if missing:
        raise DataError(f"choose the column that holds the {' and the '.join(m.lower() for m in missing)}")
    chosen = [(MAPPED_ROLES[role], pos) for role, pos in mapping.items() if pos is not None]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=table.delimiter, lineterminator="\n")
    writer.writerow([name for name, _ in chosen])
    for row in table.rows:
        writer.writerow([row[pos] for _, pos in chosen])
    return out.getvalue().encode("utf-8")


# --- cached views ------------------------------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=64)
def _content_hash(token: str, _data: MarketData) -> str:
    # Samples and stored datasets never change under one token, so the hash (~0.1 s for 8 000 bars) is computed once.
    return _data.sha256()


@st.cache_data(show_spinner="Checking the data quality…", max_entries=16)
def _quality(sha256: str, _data: MarketData) -> QualityReport:
    # Keyed by the content hash: the same bars (a sample and its stored copy) share one report.
    return quality_report(_data)


@functools.cache
def timezone_choices() -> tuple[str, ...]:
    """The common exchange zones, then every other IANA zone this machine knows, alphabetically."""
    others = sorted(zoneinfo.available_timezones() - set(COMMON_TIMEZONES))
    return (*COMMON_TIMEZONES, *others)


def samples_frame() -> pd.DataFrame:
    """The bundled datasets: what, when, how many bars, price basis, dividends, licence."""
    return pd.DataFrame(
        [
            {
                "key": i.key,
                "name": i.name,
                "period": i.period,
                "bars": i.rows,
                "price basis": i.price_basis.replace("_", " "),
                "dividends": i.dividends,
                "licence": i.licence,
            }
            for i in samples().values()
        ]
    )


# --- the page --------------------------------------------------------------------------------------------------


def data_page() -> None:
    """Sources (bundled, upload, Yahoo), then the active dataset in detail."""
    st.title("Market data")
    st.caption(
        "Bundled histories work offline. Uploaded CSVs and Yahoo downloads are saved to the run store and become "
        "the dataset every page works on."
    )
    show_flash()
    for note in st.session_state.pop(_SAVE_WARNINGS, []):
        st.warning(note, icon=":material/warning:")
    store = open_store_or_report("Uploads and downloads cannot be saved: the run store is not available")

    bundled_tab, upload_tab, yahoo_tab = st.tabs(["Bundled", "Upload CSV", "Yahoo Finance"])
    with bundled_tab:
        st.dataframe(samples_frame(), hide_index=True, key="data_samples")
        st.caption("Pick one in the dataset list below.")
    with upload_tab:
        upload_section(store)
    with yahoo_tab:
        yahoo_section(store)

    st.divider()
    st.subheader("Active dataset")
    dataset_picker("data_dataset")
    dataset_view()


def _make_active(store: Store, data: MarketData, what: str) -> None:
    """Save ``data`` to the store, make it the active dataset, and say so (after the rerun that lists it)."""
    try:
        with warnings.catch_warnings(record=True) as shortened:
            warnings.simplefilter("always", NameShortened)
            dataset_id = store.save_dataset(data)
    except StoreError as exc:
        render_problem(f"The {what} could not be saved", exc)
        return
    st.session_state[_SAVE_WARNINGS] = [str(n.message) for n in shortened if issubclass(n.category, NameShortened)]
    set_active_dataset(DatasetRef("stored", dataset_id))
    st.session_state.pop(_PENDING, None)
    flash(f"Saved {data.name} as dataset {dataset_id} ({len(data.prices):,} bars); it is now the active dataset.")


def upload_section(store: Store | None) -> None:
    """File → preview → (mapping when detection is unsure) → save and use."""
    uploaded = st.file_uploader("Price CSV", type=["csv", "txt"], key="data_csv",
                                help="Yahoo, Stooq, MetaStock and broker exports are recognised by their headers.")
    dividends = st.file_uploader("Dividends CSV (optional)", type=["csv", "txt"], key="data_div_csv",
                                 help="Columns: ex-date and amount per share, optionally the pay date.")
    symbol = st.text_input(
        "Symbol (optional)", key="data_csv_symbol", help="Default: a Symbol column or the file name."
    )
    timezone = st.selectbox(
        "Time zone", timezone_choices(), key="data_csv_timezone",
        help="The exchange's zone: its calendar days and 09:30–16:00 session are the strategy's. Timestamps without "
             "an offset are read as its wall time; timestamps with one (Z, +01:00) are converted to it. Choose UTC "
             "for UTC timestamps written without a Z.",
    )
    if uploaded is None:
        st.caption("Upload a file to see a preview before anything is saved.")
        return
    content = uploaded.getvalue()
    div_content = dividends.getvalue() if dividends is not None else None

    def named(raw: bytes, name: str) -> io.BytesIO:
        buffer = io.BytesIO(raw)
        buffer.name = name  # messages and the default symbol use the file name
        return buffer

    def load(price_bytes: bytes) -> MarketData:
        divs = named(div_content, dividends.name) if div_content is not None and dividends is not None else None
        return load_csv(named(price_bytes, uploaded.name), dividends=divs, symbol=symbol or None, timezone=timezone)

    # What was recognised belongs to this file (dividends file, symbol and zone) only, never to a later upload.
    upload_key = (uploaded.name, hash(content), hash(div_content), symbol, timezone)
    if st.session_state.get(_LAST_UPLOAD) != upload_key:
        # A new file: forget the mapping chosen for the previous one, so the select boxes show this file's guess.
        for role in MAPPED_ROLES:
            st.session_state.pop(f"data_map_{role}", None)
        st.session_state[_LAST_UPLOAD] = upload_key
    detected: MarketData | None = None
    auto_error: DataError | None = None
    problem = st.empty()  # filled below only if neither detection nor a mapping produced a dataset
    try:
        detected = load(content)
    except DataError as exc:
        auto_error = exc

    try:
        table = raw_table(content, max_rows=PREVIEW_ROWS)  # the whole file is split only for a chosen mapping
    except DataError as exc:
        render_problem("The file cannot be read as a table", exc, "Upload a CSV (comma, semicolon or tab separated).")
        return
    st.caption(f"Preview of {uploaded.name}: the first rows as written in the file.")
    preview = pd.DataFrame(table.rows, columns=table.header) if table.rows else pd.DataFrame(columns=table.header)
    st.dataframe(preview, hide_index=True, key="data_csv_preview")

    with st.expander("Column mapping", expanded=detected is None):
        mapping = mapping_widgets(table)
        use_mapping = st.button("Load with this mapping", key="data_csv_apply_mapping", icon=":material/tune:")
    if use_mapping:
        try:
            st.session_state[_PENDING] = (upload_key, load(remap_csv(raw_table(content), mapping)))
        except DataError as exc:
            render_problem("The file could not be loaded with this mapping", exc, "Choose other columns.")
            st.session_state.pop(_PENDING, None)
    elif detected is not None and st.session_state.get(_PENDING, (None,))[0] != upload_key:
        st.session_state[_PENDING] = (upload_key, detected)
    key, pending = st.session_state.get(_PENDING, (None, None))
    if pending is None or key != upload_key:
        if auto_error is not None:
            todo = "Tell the lab which column holds what under Column mapping." if "column" in str(auto_error) else (
                "Fix the file and upload it again."
            )
            with problem.container():
                render_problem("The file could not be loaded as it is", auto_error, todo)
        return
    st.success(
        f"Recognised {pending.name}: {len(pending.prices):,} bars, columns {', '.join(pending.prices.columns)}, "
        f"price basis {pending.price_basis.replace('_', ' ')}, {len(pending.dividends):,} dividends.",
        icon=":material/check_circle:",
    )
    if store is not None and st.button("Save and use this dataset", key="data_csv_save", type="primary",
                                       icon=":material/save:"):
        _make_active(store, pending, "uploaded dataset")


def mapping_widgets(table: RawTable) -> dict[str, int | None]:
    """One select box per role, pre-filled with what detection found; returns role → column position."""
    guess = guess_mapping(table.header)
    positions: list[int | None] = [None, *range(len(table.header))]
    mapping: dict[str, int | None] = {}
    columns = st.columns(4)
    for i, (role, title) in enumerate(MAPPED_ROLES.items()):
        required = role in REQUIRED_ROLES
        mapping[role] = columns[i % 4].selectbox(
            f"{title}{' *' if required else ''}",
            positions,
            index=positions.index(guess[role]),
            format_func=lambda p: "(none)" if p is None else f"{p + 1}: {table.header[p] or '(unnamed)'}",
            key=f"data_map_{role}",
            help="Required." if required else "Optional.",
        )
    return mapping


def yahoo_section(store: Store | None) -> None:
    """Symbol, dates and interval → a cached download, saved and made active."""
    symbol_col, interval_col = st.columns(2)
    symbol = symbol_col.text_input("Yahoo symbol", value="AAPL", key="yahoo_symbol", help='e.g. AAPL, ^GSPC, BRK-B')
    interval = interval_col.selectbox("Interval", YAHOO_INTERVALS, key="yahoo_interval",
                                      help="Yahoo keeps intraday history for recent weeks only.")
    start_col, end_col = st.columns(2)
    today = date.today()
    # Explicit bounds: the default ones (ten years around the initial value) would refuse older histories.
    bounds = {"min_value": date(1950, 1, 1), "max_value": today + timedelta(days=1)}
    start = start_col.date_input("From", value=today - timedelta(days=5 * 365), key="yahoo_start", **bounds)
    end = end_col.date_input("To (exclusive)", value=today, key="yahoo_end", **bounds)
    st.caption("Downloads are cached on disk: the same symbol, dates and interval load again without a connection.")
    if not st.button("Download", key="yahoo_download", icon=":material/cloud_download:"):
        return
    if not symbol.strip():
        st.error("**No symbol.** Type a Yahoo Finance ticker such as AAPL first.", icon=":material/error:")
        return
    try:
        with st.spinner(f"Downloading {symbol.strip().upper()} from Yahoo Finance…"):
            # Looked up on the module at call time, so tests (and offline runs) can replace it.
            data = core.data.fetch_yahoo(symbol.strip(), start, end, interval)
    except DataError as exc:
        render_problem(
            "The download from Yahoo Finance failed",
            exc,
            "Check the symbol and the internet connection. Without a connection, use a bundled dataset, a CSV "
            "upload, or a download made earlier (the cache answers it offline).",
        )
        return
    if store is None:
        st.warning("Downloaded, but it cannot be saved while the run store is unavailable.", icon=":material/warning:")
        return
    _make_active(store, data, "download")


def dataset_view() -> None:
    """The active dataset: candles with volume, dividends, and the quality report."""
    ref = active_dataset()
    try:
        data = load_dataset(ref)
    except (DataError, StoreError) as exc:
        render_problem("The dataset could not be loaded", exc, "Pick another dataset in the list above.")
        return
    st.caption(
        f"{data.name} · {data.symbol} · {data.interval} · {len(data.prices):,} bars "
        f"{data.prices.index[0]:%Y-%m-%d} – {data.prices.index[-1]:%Y-%m-%d} · price basis "
        f"{data.price_basis.replace('_', ' ')} · source {data.source} · time zone {data.timezone}"
    )
    show_chart(candlestick_figure(data.prices), "data_candles")

    st.subheader(f"Dividends ({len(data.dividends):,})")
    if len(data.dividends):
        st.dataframe(data.dividends, hide_index=True, key="data_dividends")
    else:
        st.caption("No dividend events in this dataset.")

    st.subheader("Quality report")
    report = _quality(_content_hash(ref.token, data), data)
    summary = report.summary
    cards = (
        ("Bars", f"{summary['bars']:,}"),
        ("Gaps", f"{summary['gaps']:,}"),
        ("Duplicate days", f"{summary['duplicate_days']:,}"),
        ("Zero-volume bars", f"{summary['zero_volume_bars']:,}"),
        ("Outliers", f"{summary['outliers']:,}"),
        ("Missing sessions", f"{summary['missing_sessions']:,}"),
        ("Dividends", f"{summary['dividends']:,}"),
        ("Unsorted", "yes" if summary["unsorted"] else "no"),
    )
    for start in (0, 4):  # two rows of four, so a phone stacks them in reading order
        for col, (label, value) in zip(st.columns(4), cards[start : start + 4], strict=True):
            col.metric(label, value, border=True)
    st.caption(f"Missing sessions: {summary['missing_sessions_note']}.")
    if report.issues:
        for issue in report.issues:
            st.warning(issue, icon=":material/warning:")
    else:
        st.success("No problems found.", icon=":material/check_circle:")
    findings = report.to_frame()
    if len(findings):
        st.dataframe(findings, hide_index=True, key="data_findings")
