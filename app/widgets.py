"""Small UI building blocks shared by the pages: KPI cards and readable error boxes.

Which cards a backtest shows, and how their numbers read, is decided by the pure :func:`backtest_kpis`; the
``render_*`` functions only draw. Numbers are formatted like the command line's table (:mod:`cli.main`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from core.metric_registry import METRICS, SHOWN_KPI_CARD
from core.metric_table import format_metric, metric_info


@dataclass(frozen=True)
class Kpi:
    """One card: a label, the formatted value and the tooltip explaining it."""

    label: str
    value: str
    help: str


# The cards of a backtest (name, label, what it means), in the metric registry's order.
BACKTEST_KPIS: tuple[tuple[str, str, str], ...] = tuple(
    (m.name, m.short_label, m.definition) for m in METRICS if SHOWN_KPI_CARD in m.shown_in
)


def backtest_kpis(metrics: Mapping[str, float]) -> list[Kpi]:
    """The KPI cards of one backtest from its ``result.metrics`` (NaN shows as "n/a")."""
    return [
        Kpi(label=label, value=format_metric(name, metrics.get(name)), help=text) for name, label, text in BACKTEST_KPIS
    ]


def render_kpis(kpis: Sequence[Kpi], per_row: int = 5) -> None:
    """Draw the cards in rows of ``per_row`` bordered ``st.metric`` boxes."""
    for start in range(0, len(kpis), per_row):
        row = kpis[start : start + per_row]
        for column, kpi in zip(st.columns(per_row), row, strict=False):
            column.metric(kpi.label, kpi.value, help=kpi.help, border=True)


def metric_label(name: str) -> str:
    """The human label of a metric, as in the command line's table."""
    return metric_info(name).label


def render_problem(what: str, error: Exception, todo: str = "") -> None:
    """Show an expected failure (``DataError``, ``ConfigError``, ``StoreError``) as what went wrong and what to do.

    No traceback. ``todo`` may be empty when the error's own message already says what to do (store errors do).
    """
    text = f"**{what}.** {error}"
    st.error(f"{text}\n\n{todo}" if todo else text, icon=":material/error:")


# --- charts and exports ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartAudit:
    """What a chart image download writes to the audit log besides its format, chart key and title: the entity it
    belongs to (a chart of its own by default, or e.g. a run) and any further details."""

    entity: str = "chart"
    entity_id: Any = None
    details: Mapping[str, Any] = field(default_factory=dict)


def show_chart(
    fig: Any, key: str, *, file_stem: str | None = None, audit: ChartAudit | None = None, **options: Any
) -> Any:
    """Draw a Plotly figure full width in its own theme (:mod:`core.theme`, not Streamlit's, so the page shows what
    the PNG, SVG and PDF show) with the project's toolbar, followed by :func:`image_downloads`.

    ``file_stem`` names the downloaded files (default ``key``); ``options`` go to ``st.plotly_chart`` (e.g.
    ``on_select``).
    """
    from core.report.images import PLOTLY_TOOLBAR_CONFIG

    toolbar = PLOTLY_TOOLBAR_CONFIG["toImageButtonOptions"]
    config = {**PLOTLY_TOOLBAR_CONFIG, "toImageButtonOptions": {**toolbar, "filename": file_stem or key}}
    options.setdefault("theme", None)
    event = st.plotly_chart(fig, key=key, config=config, **options)
    image_downloads(fig, key, file_stem=file_stem, audit=audit)
    return event


def image_downloads(fig: Any, key: str, *, file_stem: str | None = None, audit: ChartAudit | None = None) -> None:
    """The app's one chart-image widget: a PNG and an SVG button for ``fig``, rendered server side by
    :func:`core.report.images.figure_image` (the theme's size and scale) only when clicked.

    Rendering waits for the headless browser, so it happens in the download itself (lazy data), never while the
    page draws; each download is written to the audit log (``audit`` says as what).
    """
    from app.store_access import get_store
    from core.report.images import IMAGE_FORMATS, IMAGE_MIME
    from usecases.store import StoreError

    try:
        store = get_store()
    except StoreError:  # the page shows the store problem elsewhere; images still download
        store = None
    title = getattr(getattr(getattr(fig, "layout", None), "title", None), "text", None) or key
    for column, fmt in zip(st.columns(len(IMAGE_FORMATS)), IMAGE_FORMATS, strict=True):
        column.download_button(
            fmt.upper(),
            data=_lazy_image(fig, fmt, store, key, title, audit),
            file_name=f"{file_stem or key}.{fmt}",
            mime=IMAGE_MIME[fmt],
            key=f"{key}_download_{fmt}",
            icon=":material/image:",
            on_click="ignore",
            help=f"Download this chart as {fmt.upper()} (rendered on the server)",
        )


def _lazy_image(fig: Any, fmt: str, store: Any, key: str, title: str, audit: ChartAudit | None = None) -> Any:
    audit = audit or ChartAudit()

    def build() -> bytes:
        from core.report.images import figure_image

        data = figure_image(fig, fmt)  # type: ignore[arg-type]
        record_export(store, audit.entity, audit.entity_id,
                      {"format": fmt, "chart": key, "title": title, **audit.details})
        return data

    return build


def record_export(store: Any, entity: str, entity_id: Any, details: Mapping[str, Any]) -> None:
    """Write an ``export`` line to the audit log; a store failure never breaks the download itself.

    Called from download callbacks, which may run outside the page script (lazy ``st.download_button`` data), so it
    must not draw anything and must not raise.
    """
    if store is None:
        return
    try:
        store.record_audit("export", entity, entity_id, dict(details))
    except Exception:  # the user already has the file; a missing audit line is not worth a crash
        return


_FLASH = "vbl_flash_message"


def flash(message: str, *, rerun: bool = True) -> None:
    """Show ``message`` as a success box at the top of the page's next run, and rerun now (``rerun=False`` inside
    widget callbacks, where Streamlit reruns by itself).

    ``st.rerun()`` discards what this run drew, so a confirmation has to travel through the session state.
    """
    st.session_state[_FLASH] = message
    if rerun:
        st.rerun()


def show_flash(where: Any = None) -> None:
    """Show the message of :func:`flash`, once, in ``where`` (a container or placeholder; default: the page)."""
    message = st.session_state.pop(_FLASH, None)
    if message:
        (where or st).success(message, icon=":material/check_circle:")


CSV_HEADER_CHOICES: dict[str, str] = {
    "labels": "Labels with units (for people)",
    "names": "Engine names (for scripts)",
}


def csv_headers_choice(key: str) -> str:
    """How a CSV download heads its columns (``core.report.bundle.run_csv``): labels for people, names for
    scripts. The values are the same either way."""
    return st.radio("CSV headers", list(CSV_HEADER_CHOICES), format_func=CSV_HEADER_CHOICES.get, key=key,
                    horizontal=True, help="Labels read 'Stock share after (fraction)'; names read "
                                          "'stock_share_after'. The numbers are identical and unformatted.")

