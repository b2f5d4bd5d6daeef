"""The Backtest page: pick a dataset, edit every setting (or load a preset), and read the run.

One function, :func:`backtest_page`, registered with ``st.navigation`` in ``streamlit_app.py`` under
:data:`URL_PATH`. The backtest itself is ``app.state.active_result()`` (cached per dataset, period and settings),
so the analysis pages show the same run. The page only wires widgets to the core, the report exports and the store.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable

import pandas as pd
import streamlit as st

from app.config_form import config_form, settings_summary
from app.dataset_picker import dataset_picker, period_picker
from app.state import (
    active_data,
    active_dataset,
    active_period,
    active_result,
    load_dataset,
    set_active_config,
)
from app.store_access import open_store_or_report, parse_tags, store_errors
from app.table_columns import result_columns
from app.widgets import (
    ChartAudit,
    backtest_kpis,
    csv_headers_choice,
    flash,
    metric_label,
    record_export,
    render_kpis,
    render_problem,
    show_chart,
    show_flash,
)
from core import ConfigError, DataError, SimulationResult, StrategyConfig
from core.data import MarketData
from core.figures import (
    Overlays,
    drawdown_figure,
    equity_figure,
    event_timeline_figure,
    price_anchor_figure,
    stock_share_figure,
)
from core.metric_table import COLUMN_TITLES, RETURN_AND_RISK, format_metric, metrics_table
from core.report.bundle import CSV_TABLES
from core.report.context import DatasetMeta, RunReport
from core.report.exports import run_export
from usecases.store import NameShortened, Store, StoreError

_SAVED = "backtest_saved_runs"  # result token -> run id saved in this session (exports then name the run)

# The page's charts (key -> title); each is drawn with PNG and SVG downloads beneath it (app.widgets.show_chart).
CHARTS: dict[str, str] = {
    "price_anchor": "Price, anchor and triggers",
    "equity": "Account value",
    "drawdown": "Drawdown",
    "stock_share": "Stock share",
    "events": "Event timeline",
}
TRADES_ONLY, ALL_EVALUATIONS = "Trades only", "All evaluations"


def comparison_frame(result: SimulationResult, timezone: str) -> pd.DataFrame:
    """Return and risk figures of the strategy, buy-and-hold and the static mix as display strings."""
    table = metrics_table(result, timezone).loc[list(RETURN_AND_RISK)]
    return pd.DataFrame(
        {
            COLUMN_TITLES[column]: [
                format_metric(name, value) if math.isfinite(value) or column == "strategy" else ""
                for name, value in table[column].items()
            ]
            for column in table.columns
        },
        index=pd.Index([metric_label(name) for name in table.index], name="Metric"),
    )


def events_frame(
    result: SimulationResult, scope: str = ALL_EVALUATIONS, types: list[str] | None = None
) -> pd.DataFrame:
    """The engine's events as a table (``timestamp, type, message``), optionally trades only or some types only.

    "Trades only" keeps the ``order_filled`` events; ``types`` (event type values) narrows further, empty = all.
    """
    frame = pd.DataFrame(
        {
            "timestamp": [e.timestamp for e in result.events],
            "type": [str(e.type.value) for e in result.events],
            "message": [e.message for e in result.events],
        }
    )
    if scope == TRADES_ONLY:
        frame = frame[frame["type"] == "order_filled"]
    if types:
        frame = frame[frame["type"].isin(types)]
    return frame.reset_index(drop=True)


def result_token(config: StrategyConfig) -> str:
    """Identifies the run on screen (dataset, period, settings): prepared images and saved ids belong to one run."""
    return json.dumps(
        [active_dataset().token, str(active_period()), config.to_dict()], sort_keys=True, default=str
    )


def _trade_columns(trades: pd.DataFrame) -> dict[str, object]:
    stamps = pd.DatetimeIndex(trades["timestamp"]) if len(trades) else pd.DatetimeIndex([])
    return result_columns("trades", trades.columns, daily=bool((stamps == stamps.normalize()).all()))


def backtest_page() -> None:
    """Dataset, presets, settings form, then KPI cards, charts, events, tables, save and export."""
    st.title("Backtest")
    st.caption(
        "The volatility-balancing strategy: sell part of the stock when the price rises past the trigger above the "
        "anchor (the price of the last trade), buy when it falls past the one below, and keep the stock share "
        "inside the guardrails. Buy & hold puts all capital in the stock on day one; the static mix keeps the "
        "starting split and never trades. Results follow every change of the settings."
    )

    dataset_picker("backtest_dataset")
    try:
        period_picker(load_dataset(active_dataset()), "backtest_period")
        data = active_data()
    except (DataError, StoreError) as exc:
        render_problem(
            "The dataset could not be loaded",
            exc,
            "Restore the project's data/ folder (a fresh checkout has it), or choose another dataset.",
        )
        return
    if len(data.prices) < 2:
        st.error(
            "**The period holds fewer than 2 bars.** A backtest needs at least two: choose a longer period.",
            icon=":material/error:",
        )
        return
    st.caption(
        f"{data.name}: {len(data.prices):,} bars, {data.prices.index[0]:%Y-%m-%d} – "
        f"{data.prices.index[-1]:%Y-%m-%d}, {len(data.dividends):,} dividends, price basis {data.price_basis}."
    )

    store = open_store_or_report("Runs cannot be saved and presets cannot be used: the run store is not available")
    save_preset_clicked = presets_section(store) if store is not None else None

    st.subheader("Settings")
    config = config_form()
    if config is None:
        return  # the form shows why; the results would not match what the form says
    if save_preset_clicked is not None:
        save_preset_clicked(config)

    try:
        result = active_result()
    except (DataError, ConfigError) as exc:
        render_problem("The backtest could not run", exc, "Choose another dataset or period, or change the settings.")
        return

    st.caption(settings_summary(config))
    render_kpis(backtest_kpis(result.metrics))
    token = result_token(config)
    results_section(data, result, config, chart_export=_chart_export(data, _report(data, result, token)))
    if store is not None:
        save_run_form(store, data, result, token)
    export_section(store, data, _report(data, result, token))  # after the form: a run saved just now names it


def presets_section(store: Store) -> Callable[[StrategyConfig], None] | None:
    """Load, reset, save and delete presets. Drawn before the form, so loading can fill the form's widgets.

    Returns the "save" action when its button was clicked: saving needs the settings the form reads, which exist
    only after the form is drawn, so the page calls it then (the message still appears in this section).
    """
    with st.expander("Presets: load, save, reset to defaults", expanded=False):
        try:
            presets = {p.name: p for p in store.list_presets()}
        except StoreError as exc:
            render_problem("The presets could not be read", exc)
            return None
        message = st.empty()
        show_flash(message)
        names = list(presets)
        choice = st.selectbox(
            "Preset",
            names,
            format_func=lambda n: f"{n} (default)" if presets[n].is_default else n,
            key="preset_choice",
        )
        load_col, reset_col, delete_col = st.columns(3)
        if load_col.button("Load preset", key="preset_load", icon=":material/file_open:") and choice:
            set_active_config(presets[choice].config)
            message.success(f"Loaded the preset {choice!r}.", icon=":material/check_circle:")
        if reset_col.button("Reset to defaults", key="preset_reset", icon=":material/restart_alt:"):
            set_active_config(StrategyConfig())
            message.success("Every setting is back to its default.", icon=":material/check_circle:")
        is_default = bool(choice) and presets[choice].is_default
        if delete_col.button(
            "Delete preset",
            key="preset_delete",
            icon=":material/delete:",
            disabled=is_default,
            help="Default presets cannot be deleted." if is_default else None,
        ):
            try:
                store.delete_preset(str(choice))
            except (StoreError, ValueError) as exc:
                render_problem(f"The preset {choice!r} could not be deleted", exc)
            else:
                flash(f"Deleted the preset {choice!r}.")

        name = st.text_input("Save the current settings as", max_chars=200, key="preset_name",
                             placeholder="e.g. GOOG tight triggers")
        overwrite = st.checkbox("Overwrite a preset of that name", key="preset_overwrite")
        if not st.button("Save preset", key="preset_save", icon=":material/save:"):
            return None

    def save(config: StrategyConfig) -> None:
        try:
            saved = store.save_preset(name, config, overwrite=overwrite)  # the store audits create/update
        except (StoreError, ValueError) as exc:
            message.error(f"**The preset could not be saved.** {exc}", icon=":material/error:")
            return
        flash(f"Saved the current settings as the preset {saved.name!r}.")  # rerun lists the new preset

    return save


def _chart_export(data: MarketData, report: RunReport) -> Callable[[str], dict[str, object]]:
    """``show_chart``'s file name and audit entry for one of :data:`CHARTS`: the run's stem, audited as the run."""

    def options(chart: str) -> dict[str, object]:
        details = {"chart": chart, "dataset": data.name, "page": "backtest"}
        return {"file_stem": f"{_stem(data, report)}_{chart}", "audit": ChartAudit("run", report.run_id, details)}

    return options


def results_section(
    data: MarketData,
    result: SimulationResult,
    config: StrategyConfig,
    chart_export: Callable[[str], dict[str, object]] | None = None,
) -> dict[str, object]:
    """Charts, event timeline and tables of the run; returns the figures drawn.

    Every chart is drawn by :func:`show_chart`, so its PNG and SVG downloads sit beneath it; ``chart_export`` gives
    their file name and audit entry per chart key (default: the widget's own).
    """
    figures: dict[str, object] = {}

    def show(chart: str) -> None:
        show_chart(figures[chart], f"backtest_{chart}", **(chart_export(chart) if chart_export else {}))

    st.subheader("Price, anchor and triggers")
    st.caption(
        "The anchor (blue step line) is the price of the last trade; the shaded band between the buy and sell "
        "triggers is where nothing trades. Hover a trade marker to read why it was placed."
    )
    figures["price_anchor"] = price_anchor_figure(result.timeline, result.trades)
    show("price_anchor")

    st.subheader("Account value")
    log_scale = st.toggle(
        "Logarithmic scale",
        value=False,
        key="backtest_log_scale",
        help="Equal percentage moves look equally large; helps with long histories.",
    )
    overlays = _overlay_controls()
    figures["equity"] = equity_figure(result.equity, result.benchmarks, log_scale=log_scale, overlays=overlays,
                                      trades=result.trades)
    show("equity")
    st.subheader("Drawdown")
    figures["drawdown"] = drawdown_figure(result.equity, result.benchmarks)
    show("drawdown")
    st.subheader("Stock share")
    figures["stock_share"] = stock_share_figure(result.timeline["stock_share"], config.guardrail_min,
                                                config.guardrail_max)
    show("stock_share")

    st.subheader("Strategy vs benchmarks")
    st.dataframe(comparison_frame(result, data.timezone), width="content")

    st.subheader("Event timeline")
    every_type = sorted(events_frame(result)["type"].unique())
    scope_col, types_col = st.columns([1, 2])
    scope = scope_col.radio("Show", [TRADES_ONLY, ALL_EVALUATIONS], key="events_scope", horizontal=True)
    types = types_col.multiselect(
        "Event types",
        every_type,
        format_func=lambda t: t.replace("_", " "),
        key="events_types",
        placeholder="All types",
        help="Leave empty for every type.",
    )
    events = events_frame(result, scope, types)
    st.caption(f"{len(events):,} events. Hover a marker for the engine's explanation.")
    figures["events"] = event_timeline_figure(events)
    show("events")
    st.dataframe(
        events,
        hide_index=True,
        height=300,
        column_config={
            "timestamp": st.column_config.DatetimeColumn("Time"),
            "type": st.column_config.TextColumn("Event"),
            "message": st.column_config.TextColumn("What happened", width="large"),
        },
        key="backtest_events_table",
    )

    trades = result.trades
    st.subheader(f"Trades ({len(trades):,})")
    st.caption("Every executed order, the initial purchase first, with the reason it was placed.")
    st.dataframe(trades, hide_index=True, height=420, column_config=_trade_columns(trades), key="backtest_trades")

    st.subheader(f"Dividends ({len(result.dividends):,})")
    if len(result.dividends):
        st.dataframe(result.dividends, hide_index=True, key="backtest_dividends")
    else:
        st.caption("No dividend was processed in this run (the dataset has none, or they are in the prices).")
    return figures


def save_run_form(store: Store, data: MarketData, result: SimulationResult, token: str) -> None:
    """The "Save run" form: stores the dataset (once per content hash) and the run, and confirms with the run id."""
    st.subheader("Save run")
    st.caption("Keeps the dataset, settings, metrics and trades, so that the run can be re-run on the Runs page.")
    with st.form("backtest_save_run", clear_on_submit=False):
        name = st.text_input("Name", value=f"{data.symbol} backtest", max_chars=200, key="save_run_name")
        tags_text = st.text_input(
            "Tags", placeholder="baseline, defaults", help="Separated by commas.", key="save_run_tags"
        )
        notes = st.text_area("Notes", key="save_run_notes")
        submitted = st.form_submit_button("Save run", icon=":material/save:")
    if submitted:
        with store_errors("The run could not be saved"), warnings.catch_warnings(record=True) as shortened:
            warnings.simplefilter("always", NameShortened)
            dataset_id = store.save_dataset(data)
            run_id = store.save_run(dataset_id, result, name=name, tags=parse_tags(tags_text), notes=notes)
            for note in shortened:
                if issubclass(note.category, NameShortened):
                    st.warning(str(note.message), icon=":material/warning:")
            st.session_state.setdefault(_SAVED, {})[token] = (run_id, name, notes)
            st.success(
                f"Saved as run {run_id} (dataset {dataset_id}). Find it on the Runs page.",
                icon=":material/check_circle:",
            )


def _report(data: MarketData, result: SimulationResult, token: str) -> RunReport:
    run_id, name, notes = st.session_state.get(_SAVED, {}).get(token, (None, "", ""))
    return RunReport(result, DatasetMeta.from_market_data(data), run_id=run_id, name=name, notes=notes)


def _stem(data: MarketData, report: RunReport) -> str:
    """The exports' file name stem: the symbol and the saved run's id (or "backtest" when not saved)."""
    return f"{data.symbol.strip('^')}_{'run' + str(report.run_id) if report.run_id is not None else 'backtest'}"


def _lazy_export(store: Store | None, report: RunReport, fmt: str, **options: str) -> Callable[[], bytes]:
    """The bytes of one export, computed only when its download button is clicked (and audited then)."""

    def build() -> bytes:
        export = run_export(report, fmt, **options)
        record_export(
            store,
            "run",
            report.run_id,
            {"format": fmt, "file": export.filename, "dataset": report.dataset.name, "page": "backtest", **options},
        )
        return export.data

    return build


def export_section(store: Store | None, data: MarketData, report: RunReport) -> None:
    """Downloads: the run as Excel, PDF, CSV or JSON (each chart's PNG and SVG are beneath the chart itself).

    The files are built only when asked for (lazy download data), so drawing the page never waits for the
    workbook or the PDF. Every download is written to the audit log.
    """
    st.subheader("Export")
    st.caption("Every chart above has PNG and SVG downloads beneath it, rendered on the server in the same look.")
    stem = _stem(data, report)
    table_column, headers_column = st.columns([1, 2])
    csv_table = table_column.selectbox("CSV table", CSV_TABLES, format_func=lambda t: t.replace("_", " "),
                                       key="export_csv_table")
    with headers_column:
        csv_headers = csv_headers_choice("export_csv_headers")
    columns = st.columns(4)
    for column, (fmt, label, options) in zip(
        columns,
        (
            ("xlsx", "Excel", {}),
            ("pdf", "PDF report", {}),
            ("csv", "CSV", {"table": csv_table, "headers": csv_headers}),
            ("json", "JSON bundle", {}),
        ),
        strict=True,
    ):
        suffix = f"_{options['table']}" if "table" in options else ""
        column.download_button(
            label,
            data=_lazy_export(store, report, fmt, **options),
            file_name=f"{stem}{suffix}.{fmt}",
            mime=None,
            key=f"export_{fmt}",
            icon=":material/download:",
            on_click="ignore",
        )


def _overlay_controls() -> Overlays:
    """The equity chart's statistical overlays (core.figures.Overlays), toggled beside the chart."""
    cols = st.columns(4)
    ma = cols[0].multiselect("Moving averages (bars)", [20, 50, 100, 200], default=[], key="backtest_ma")
    trend = cols[1].toggle("Trend line", value=False, key="backtest_trend",
                           help="Least-squares log-linear trend; the legend gives its growth per year.")
    band = cols[2].toggle("± 2σ band (60 bars)", value=False, key="backtest_band",
                          help="The 60-bar moving average ± two rolling standard deviations of the value.")
    annotate = cols[3].toggle("Mark extremes", value=False, key="backtest_annotate",
                              help="Shade the largest drawdown and label the best and worst trades.")
    return Overlays(moving_averages=tuple(ma), trend=trend, band_window=60 if band else None, annotate=annotate)
