"""The Optimise page: define a search space, run a study in a worker process, watch it, and read its results.

* **Search space** — add the parameters to vary, each with inputs of its kind (min/max/step for numbers, a choice
  of values for switches and sizing); the number of combinations and of planned trials updates as you type.
* **Method, objective, constraints, executor** — grid, random or Bayesian search; the metric to optimise;
  ``metric>=value`` constraints; this machine or a Dask cluster.
* **Progress** — the study runs in ``python -m usecases.studies.worker`` (never in the page's script), so the page
  stays responsive: a fragment polls the store every second for done/total, rate and ETA, with pause and cancel.
* **Results** — every trial in a sortable table; a heatmap (x, y, metric, aggregation) whose cells show every
  metric on hover and open their configuration in Backtest on click; the 3-D surface; parallel coordinates;
  sensitivity lines; the robust pick beside the best cell, each with "Apply to Backtest"; Excel/PDF/CSV exports.

One function, :func:`optimise_page`, registered with ``st.navigation`` in ``streamlit_app.py`` under
:data:`URL_PATH`. The page only wires widgets to :mod:`core.optimize`, :mod:`core.analysis`,
:mod:`core.figures_optimize`, the report exports and the store.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from app.dataset_picker import dataset_picker
from app.navigation import switch_to
from app.state import DatasetRef, active_config, active_data, set_active_config, set_active_dataset
from app.store_access import get_store, open_store_or_report, store_errors, store_url
from app.table_columns import metric_columns, setting_column
from app.widgets import csv_headers_choice, flash, metric_label, record_export, render_problem, show_chart, show_flash
from core import ConfigError, DataError, StrategyConfig
from core.analysis import parallel_coordinates, robustness, sensitivity_from_trials, surface
from core.config import FIELD_KINDS
from core.config_registry import FIELDS_BY_NAME, config_field
from core.engine import METRIC_NAMES
from core.figures_optimize import (
    HEATMAP_CURVE,
    heatmap_view,
    parallel_coordinates_figure,
    searched_params,
    sensitivity_figure,
    study_heatmap_figure,
    study_trials,
    surface_figure,
    trial_config,
)
from core.optimize import METHODS, Objective, ObjectiveError, ParamRange, SearchSpace, SearchSpaceError, planned_trials
from core.optimize.objective import direction
from usecases.store import NameShortened, Store, StoreError, StudyRecord
from usecases.studies import (
    StudyBusyError,
    cancel_study,
    create_study,
    invalid_summary,
    pause_study,
    resume_study,
    start_worker,
    study_progress,
)

POLL_S = 1.0  # how often the progress fragment reads the store while a study runs
LIVE = ("draft", "running")
AGGREGATIONS: tuple[str, ...] = ("best", "max", "mean", "median", "min", "worst")
DEFAULT_PARAMS: tuple[str, ...] = ("trigger_up", "trigger_down")
DEFAULT_TRIALS = 200
PARCOORDS_TOP = 500  # more lines than this turn a parallel-coordinates chart into a solid band
_PARAMS = "optimise_params"  # the searched fields, in the order they were added
_STUDY = "optimise_study"  # the study shown (the select box's key)
_STARTED = "optimise_started"  # study id -> worker process started in this session (polled, so it is reaped)


# --- search-space editor ------------------------------------------------------------------------------------------


def _nice(value: float) -> float:
    """Three significant digits, so default ranges read 0.015 rather than 0.0150000001."""
    return float(f"{value:.3g}") if value else 0.0


def default_range(name: str, base: StrategyConfig) -> dict[str, Any]:
    """Sensible starting inputs for one field: ±50 % around the base value in five steps, or every choice."""
    kind = FIELD_KINDS[name]
    value = getattr(base, name)
    if kind == "bool":
        return {"values": [False, True]}
    if kind == "choice":
        return {"values": [value, next(s for s in config_field(name).choices if s != value)]}
    if kind == "int":
        value = int(value)
        return {"min": max(0, value - 2), "max": value + 2, "step": 1}
    if value is None:  # max_trade_share "no cap": try a few caps
        return {"min": 0.1, "max": 0.3, "step": 0.1}
    if value == 0:
        return {"min": 0.0, "max": 0.01, "step": 0.005}
    lo, hi = _nice(value * 0.5), _nice(value * 1.5)
    if name in ("initial_stock_share", "trade_fraction", "guardrail_min", "guardrail_max", "trigger_down"):
        hi = min(hi, 1.0 if name != "trigger_down" else 0.5)
    return {"min": lo, "max": hi, "step": _nice((hi - lo) / 4)}


def _key(name: str, part: str) -> str:
    return f"opt_{name}_{part}"


def _range_inputs(name: str, base: StrategyConfig) -> ParamRange:
    """The inputs of one field, by kind; returns its range (raises ``SearchSpaceError`` for unusable inputs)."""
    kind = FIELD_KINDS[name]
    start = default_range(name, base)
    if kind in ("bool", "choice"):
        options: list[Any] = [False, True] if kind == "bool" else list(config_field(name).choices)
        chosen = st.multiselect(f"{name} values", options, default=start["values"], key=_key(name, "values"),
                                format_func=lambda v: str(v).replace("_", " "))
        if not chosen:
            raise SearchSpaceError(f"{name}: choose at least one value")
        return ParamRange.boolean(name, chosen) if kind == "bool" else ParamRange.of_values(name, chosen)
    low, high, step = st.columns(3)
    if kind == "int":
        lo = low.number_input("min", value=int(start["min"]), step=1, key=_key(name, "min"))
        hi = high.number_input("max", value=int(start["max"]), step=1, key=_key(name, "max"))
        st_ = step.number_input("step", value=int(start["step"]), min_value=1, step=1, key=_key(name, "step"))
    else:
        fmt = "%.2f" if abs(start["max"]) >= 100 else "%.5f"
        lo = low.number_input("min", value=float(start["min"]), format=fmt, key=_key(name, "min"))
        hi = high.number_input("max", value=float(start["max"]), format=fmt, key=_key(name, "max"))
        st_ = step.number_input("step", value=float(start["step"]), min_value=0.0, format=fmt,
                                key=_key(name, "step"))
    if lo == hi:
        return ParamRange.of_values(name, [lo])
    return ParamRange.stepped(name, lo, hi, st_)


def search_space_editor(base: StrategyConfig) -> SearchSpace | None:
    """Add / remove parameters and edit their ranges; the space, or ``None`` after saying what is wrong."""
    names: list[str] = st.session_state.setdefault(_PARAMS, list(DEFAULT_PARAMS))
    add_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
    candidates = [n for n in FIELD_KINDS if n not in names]
    new = add_col.selectbox("Add a parameter", candidates, key="optimise_add_param",
                            help="Any setting of the strategy; the others stay at the Backtest page's values.")
    if button_col.button("Add", key="optimise_add", icon=":material/add:", disabled=not candidates) and new:
        names.append(new)
        st.rerun()
    ranges: list[ParamRange] = []
    problems: list[str] = []
    for name in list(names):
        with st.container(border=True):
            title, remove = st.columns([5, 1], vertical_alignment="center")
            title.markdown(f"**{name}** · {FIELD_KINDS[name].replace('optfloat', 'float or none')} · now "
                           f"`{getattr(base, name)}`")
            if remove.button("Remove", key=_key(name, "remove"), icon=":material/close:"):
                names.remove(name)
                st.rerun()
            try:
                r = _range_inputs(name, base)
            except SearchSpaceError as exc:
                st.error(str(exc), icon=":material/error:")
                problems.append(name)
                continue
            ranges.append(r)
            st.caption(f"{len(r):,} values: {', '.join(str(v) for v in r.values[:8])}"
                       + (" …" if len(r) > 8 else ""))
    if problems:
        return None
    try:
        return SearchSpace(ranges, base)
    except SearchSpaceError as exc:
        st.error(str(exc), icon=":material/error:")
        return None


def objective_inputs() -> tuple[Objective | None, str, int | None, int]:
    """Method, trials, seed, objective and constraints; the objective is ``None`` after an error was shown."""
    method_col, trials_col, seed_col = st.columns(3)
    method = method_col.selectbox("Method", METHODS, key="optimise_method",
                                  help="grid: every combination; random: a sample; bayes: TPE, learning as it goes.")
    n_trials = None
    if method != "grid":
        n_trials = int(trials_col.number_input("Trials", min_value=1, value=DEFAULT_TRIALS, step=10,
                                               key="optimise_n_trials"))
    seed = int(seed_col.number_input("Seed", min_value=0, value=0, step=1, key="optimise_seed"))
    metric_col, constraint_col = st.columns(2)
    metric = metric_col.selectbox(
        "Objective", METRIC_NAMES, index=METRIC_NAMES.index("sharpe"), key="optimise_objective",
        format_func=lambda m: f"{metric_label(m)} ({'min' if direction(m) < 0 else 'max'})",
    )
    text = constraint_col.text_area("Constraints", key="optimise_constraints", height=80,
                                    placeholder="max_drawdown>=-0.3\nn_trades<=400",
                                    help="One per line: metric>=value or metric<=value, values as fractions.")
    try:
        objective = Objective(metric, constraints=tuple(line for line in text.splitlines() if line.strip()))
    except ObjectiveError as exc:
        st.error(str(exc), icon=":material/error:")
        objective = None
    return objective, method, n_trials, seed


def executor_inputs() -> tuple[str, str | None]:
    """Where the trials run: this machine (default) or a Dask scheduler."""
    kind_col, address_col = st.columns([1, 2])
    kind = kind_col.radio("Executor", ("local", "dask"), horizontal=True, key="optimise_executor",
                          format_func={"local": "This machine", "dask": "Dask cluster"}.get)
    address = None
    if kind == "dask":
        address = address_col.text_input("Scheduler address", placeholder="tcp://10.0.0.5:8786",
                                          key="optimise_scheduler").strip() or None
    return kind, address


def start_study(space: SearchSpace, objective: Objective, method: str, n_trials: int | None, seed: int,
                executor: str, scheduler: str | None) -> None:
    """Store the dataset and the study, and launch the worker process (the page returns at once)."""
    store = get_store()
    data = active_data()
    first, last = data.prices.index[0], data.prices.index[-1]
    with warnings.catch_warnings(record=True) as shortened:
        warnings.simplefilter("always", NameShortened)
        dataset_id = store.save_dataset(data, name=f"{data.name} {first:%Y-%m-%d}..{last:%Y-%m-%d}")
        study_id = create_study(store, dataset_id, space, objective, method=method, n_trials=n_trials, seed=seed)
    for note in shortened:
        if issubclass(note.category, NameShortened):
            st.warning(str(note.message), icon=":material/warning:")
    proc = start_worker(store_url(), study_id, executor=executor, scheduler=scheduler)
    st.session_state.setdefault(_STARTED, {})[study_id] = proc
    st.session_state[_STUDY] = study_id
    flash(f"Study {study_id} started in a worker process.", rerun=False)


def new_study_section(store: Store | None) -> None:
    """The search-space editor, method, objective, executor and the start button with the live count."""
    st.subheader("New study")
    base = active_config()
    st.caption("Parameters not listed keep the Backtest page's settings. Rates are fractions: 0.03 means 3 %.")
    space = search_space_editor(base)
    objective, method, n_trials, seed = objective_inputs()
    executor, scheduler = executor_inputs()
    planned = None
    if space is not None:
        try:
            planned = planned_trials(space, method, n_trials)
        except (SearchSpaceError, ValueError) as exc:
            st.error(str(exc), icon=":material/error:")
        else:
            st.info(f"**{space.size:,} combinations**, {planned:,} trials planned "
                    f"({' × '.join(f'{r.name} {len(r)}' for r in space.ranges)}).", icon=":material/grid_on:")
    ready = store is not None and space is not None and objective is not None and planned is not None
    ready = ready and (executor == "local" or bool(scheduler))
    if st.button("Start study", key="optimise_start", type="primary", icon=":material/play_arrow:",
                 disabled=not ready):
        try:
            start_study(space, objective, method, n_trials, seed, executor, scheduler)  # type: ignore[arg-type]
        except (StoreError, DataError, ConfigError) as exc:
            render_problem("The study could not be started", exc)


# --- progress -----------------------------------------------------------------------------------------------------


def _eta_text(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "ETA: measuring…"
    minutes, secs = divmod(round(seconds), 60)
    return f"ETA {minutes} min {secs:02d} s" if minutes else f"ETA {secs} s"


def _reap() -> None:
    # The worker is a child of this server: poll finished ones so they do not linger as zombies.
    for proc in st.session_state.get(_STARTED, {}).values():
        proc.poll()


@st.fragment(run_every=POLL_S)
def live_progress(store: Store, study_id: int) -> None:
    """Progress bar, rate and ETA, with pause and cancel; reruns the whole page once the study stops."""
    _reap()
    progress = study_progress(store, study_id)
    if progress.status not in LIVE:
        st.rerun(scope="app")  # finished, paused, cancelled or failed: draw the results
    rate = f"{progress.rate:,.0f} trials/s" if progress.rate else "starting…"
    st.progress(progress.fraction, text=f"Study {study_id} {progress.status}: {progress.done:,} of "
                f"{progress.total:,} trials ({progress.fraction:.0%}) · {rate} · {_eta_text(progress.eta_s)}")
    pause_col, cancel_col, _ = st.columns([1, 1, 4])
    # The study may have finished meanwhile: the store refuses the change and the box says so.
    if pause_col.button("Pause", key="optimise_pause", icon=":material/pause:"):
        with store_errors("The study could not be paused"):
            pause_study(store, study_id)
            st.rerun(scope="app")
    if cancel_col.button("Cancel", key="optimise_cancel", icon=":material/stop:"):
        with store_errors("The study could not be cancelled"):
            cancel_study(store, study_id)
            st.rerun(scope="app")


def study_status(store: Store, record: StudyRecord) -> None:
    """A finished, paused, cancelled or failed study: its counts, why it failed, resume, invalid combinations."""
    counts = dict(record.counts)
    total = record.n_planned or record.n_trials
    text = (f"Study {record.id} **{record.status}**: {record.n_trials:,} of {total:,} trials stored, "
            f"{counts.get('completed', 0):,} run, {counts.get('pruned', 0):,} invalid combinations skipped.")
    (st.error if record.status == "failed" else st.success if record.status == "completed" else st.info)(text)
    if record.error:
        st.caption(f"Error: {record.error}")
    if record.status in ("paused", "interrupted", "failed", "draft") and st.button("Resume", key="optimise_resume",
                                                                     icon=":material/play_arrow:"):
        try:
            proc = resume_study(store, record.id, store_url())
        except (StudyBusyError, StoreError) as exc:
            st.warning(str(exc))
        else:
            st.session_state.setdefault(_STARTED, {})[record.id] = proc
            st.rerun()
    if counts.get("pruned"):
        with st.expander("Invalid combinations by reason"):
            st.dataframe(invalid_summary(store, record.id), key="optimise_invalid")


# --- results ------------------------------------------------------------------------------------------------------


@st.cache_data(show_spinner="Loading the trials…", max_entries=8)
def _trials(url: str, study_id: int, version: str) -> pd.DataFrame:
    # ``version`` (the study's last write) makes a resumed study's new trials show up; the URL keeps stores apart.
    return study_trials(get_store().list_trials(study_id, status="completed"))


def _with_score(trials: pd.DataFrame, objective: Objective) -> tuple[pd.DataFrame, str]:
    """The trials and the column to rank by: the objective's metric, or a ``score`` column for a weighted score."""
    if objective.metric is not None:
        return trials, objective.metric
    score = objective.score(trials)
    return trials.assign(score=np.where(np.isfinite(score), score, np.nan)), "score"


def apply_to_backtest(base: StrategyConfig, row: pd.Series, params: list[str], dataset_id: int) -> None:
    """Make the configuration of ``row`` (and the study's dataset) active and open the Backtest page."""
    try:
        config = trial_config(base, row, params)
    except ConfigError as exc:
        render_problem("This configuration cannot be opened", exc)
        return
    set_active_config(config)
    set_active_dataset(DatasetRef("stored", dataset_id))
    switch_to("backtest")


def trials_table(trials: pd.DataFrame, params: list[str], metric: str) -> None:
    """Every completed trial with every metric, best first; click a header to sort."""
    metrics = [m for m in (metric, *METRIC_NAMES) if m in trials.columns]
    columns = ["index", *params, *dict.fromkeys(metrics)]
    shown = trials[columns].sort_values(metric, ascending=direction(metric) < 0, na_position="last", kind="stable")
    st.dataframe(
        shown, hide_index=True, height=420, key="optimise_trials",
        column_config={"index": st.column_config.NumberColumn("Trial", format="%d"),
                       **{p: setting_column(p) for p in params if p in FIELDS_BY_NAME}, **metric_columns(metrics)},
    )


def heatmap_section(trials: pd.DataFrame, varied: list[str], metric: str, base: StrategyConfig,
                    record: StudyRecord) -> tuple[str, str, str, str] | None:
    """Axis, metric and aggregation pickers, the clickable heatmap and the 3-D surface; returns the choice."""
    if len(varied) < 2:
        st.info("A heatmap needs two parameters that vary; this study varies "
                f"{', '.join(varied) or 'none'}. See the sensitivity lines.")
        return None
    metrics = [m for m in dict.fromkeys((metric, *METRIC_NAMES)) if m in trials.columns]
    x_col, y_col, m_col, a_col = st.columns(4)
    x = x_col.selectbox("x", varied, index=0, key="optimise_hm_x")
    y_options = [p for p in varied if p != x]
    y = y_col.selectbox("y", y_options, index=0, key="optimise_hm_y")
    shown = m_col.selectbox("Metric", metrics, key="optimise_hm_metric",
                            format_func=lambda m: m if m == "score" else metric_label(m))
    agg = a_col.selectbox("Aggregation", AGGREGATIONS, key="optimise_hm_agg",
                          help="How trials sharing a cell (differing in the other parameters) are reduced.")
    view = heatmap_view(trials, x, y, shown, agg, varied)
    st.caption("Hover a cell for every metric of its trial; click it to open that configuration in Backtest.")
    event = show_chart(study_heatmap_figure(view), key="optimise_heatmap", on_select="rerun",
                            selection_mode="points")
    points = [p for p in (event.selection.points if event else []) if p.get("curve_number") == HEATMAP_CURVE]
    if points:
        apply_to_backtest(base, view.cells.iloc[int(points[0]["point_index"])], varied, record.dataset_id)
    with st.expander("3-D surface", expanded=False):
        show_chart(surface_figure(surface(trials, x, y, shown, agg), agg), key="optimise_surface")
    return x, y, shown, agg


def _pick_card(title: str, row: pd.Series, params: list[str], metric: str, key: str, base: StrategyConfig,
               record: StudyRecord, note: str) -> None:
    with st.container(border=True):
        st.markdown(f"**{title}**")
        st.caption(note)
        st.dataframe(pd.DataFrame({"value": [str(row[p]) for p in params]}, index=params), key=f"{key}_params")
        label = metric if metric == "score" else metric_label(metric)
        cols = st.columns(3)
        cols[0].metric(label, f"{row['value']:.4g}")
        cols[1].metric("Neighbourhood mean", f"{row['neighbourhood_mean']:.4g}")
        cols[2].metric("Plateau", "n/a" if pd.isna(row["plateau"]) else f"{row['plateau']:.0%}")
        if st.button("Apply to Backtest", key=key, icon=":material/open_in_new:"):
            apply_to_backtest(base, row, params, record.dataset_id)


def picks_section(trials: pd.DataFrame, varied: list[str], metric: str, objective: Objective, base: StrategyConfig,
                  record: StudyRecord) -> pd.Series | None:
    """The single best cell beside the robust pick (best neighbourhood mean), among constraint-satisfying trials."""
    feasible = trials[objective.violations(trials) == 0] if objective.constraints else trials
    if feasible.empty:
        st.warning("No trial satisfies the constraints.")
        return None
    # A grid keeps its own levels; random and Bayesian draws are binned so that cells have neighbours.
    levels = max(feasible[p].nunique() for p in varied) if record.method == "grid" else 25
    try:
        result = robustness(feasible, metric, params=varied, max_levels=max(1, levels))
    except ValueError as exc:
        st.info(f"No robust pick: {exc}")
        return None
    best_col, robust_col = st.columns(2)
    with best_col:
        _pick_card("Best cell", result.best, varied, metric, "optimise_apply_best", base, record,
                   "The highest value found; it may be a lone spike.")
    with robust_col:
        _pick_card("Robust pick", result.robust, varied, metric, "optimise_apply_robust", base, record,
                   f"The best mean over its neighbours (±{result.radius} grid step): nearby settings do well too.")
    return result.best


def sensitivity_section(trials: pd.DataFrame, varied: list[str], metric: str, best: pd.Series | None) -> None:
    """How the metric moves when each parameter steps away from the best cell, the others held."""
    if best is None:
        return
    try:
        result = sensitivity_from_trials(trials, best, metric, params=varied)
    except (ValueError, KeyError) as exc:
        st.info(f"No sensitivity lines: {exc}")
        return
    if result.table.empty:
        st.info("No neighbouring trials around the best cell.")
        return
    show_chart(sensitivity_figure(result), key="optimise_sensitivity")


def _lazy_study_export(store: Store, study_id: int, fmt: str, heatmap: tuple[str, str] | None,
                       headers: str = "names") -> Callable[[], bytes]:
    """The bytes of one study export, built only when its button is clicked (and audited then)."""

    def build() -> bytes:
        from core.report.exports import study_export
        from usecases.reports import study_report_from_store

        export = study_export(study_report_from_store(store, study_id), fmt, heatmap=heatmap, headers=headers)
        record_export(store, "study", study_id, {"format": fmt, "file": export.filename, "page": "optimise",
                                                 "headers": headers})
        return export.data

    return build


def export_section(store: Store, record: StudyRecord, heatmap: tuple[str, str] | None) -> None:
    """The study as Excel, PDF report or CSV of trials."""
    stem = f"study{record.id}"
    headers = csv_headers_choice("optimise_csv_headers")
    columns = st.columns(3)
    for column, (fmt, label, name) in zip(
        columns,
        (("xlsx", "Excel", f"{stem}.xlsx"), ("pdf", "PDF report", f"{stem}_report.pdf"),
         ("csv", "CSV (trials)", f"{stem}_trials.csv")),
        strict=True,
    ):
        column.download_button(label, data=_lazy_study_export(store, record.id, fmt, heatmap, headers), file_name=name,
                               key=f"optimise_export_{fmt}", icon=":material/download:", on_click="ignore")


def results_section(store: Store, record: StudyRecord) -> None:
    """Every view of a study's completed trials."""
    trials = _trials(store_url(), record.id, f"{record.updated_at}:{record.n_trials}")
    if trials.empty:
        st.info("No completed trial yet.")
        return
    objective = Objective.from_dict(dict(record.objective))
    base = record.base_config or StrategyConfig()
    trials, metric = _with_score(trials, objective)
    varied = searched_params(trials, list(record.search_space))
    if not varied:
        st.info("Every trial has the same parameters; there is nothing to compare.")
        return
    st.subheader("Best cell and robust pick")
    best = picks_section(trials, varied, metric, objective, base, record)
    heat_tab, table_tab, parallel_tab, sens_tab = st.tabs(
        ["Heatmap", "All trials", "Parallel coordinates", "Sensitivity"]
    )
    with heat_tab:
        choice = heatmap_section(trials, varied, metric, base, record)
    with table_tab:
        trials_table(trials, varied, metric)
    with parallel_tab:
        top = min(len(trials), PARCOORDS_TOP)
        st.caption(f"The best {top:,} trials by {metric}; drag along an axis to filter.")
        show_chart(parallel_coordinates_figure(parallel_coordinates(trials, metric, varied, top=top)),
                        key="optimise_parallel")
    with sens_tab:
        st.caption("The metric at each grid step away from the best cell along one parameter, the others held.")
        sensitivity_section(trials, varied, metric, best)
    st.subheader("Export")
    export_section(store, record, (choice[0], choice[1]) if choice else None)


# --- the page -----------------------------------------------------------------------------------------------------


def _study_label(record: StudyRecord) -> str:
    when = record.created_at.strftime("%Y-%m-%d %H:%M") if isinstance(record.created_at, datetime) else ""
    # No status or count here: a select box keeps showing the label it had when its options change under the same
    # value, so anything that moves while the study runs is shown below it instead.
    return f"#{record.id} {record.name} ({when}, {record.method}, {record.n_planned or 0:,} trials planned)"


def optimise_page() -> None:
    """New study on top, then the chosen study's progress or results."""
    st.title("Optimise")
    st.caption(
        "Search the strategy's parameters on the active dataset. Studies run in a separate worker process and are "
        "kept in the run store, so you can leave the page, come back, pause, resume or cancel."
    )
    dataset_picker("optimise_dataset")
    store = open_store_or_report("Studies need the run store, which is not available")
    with st.expander("New study", expanded=True):
        new_study_section(store)
    show_flash()
    if store is None:
        return
    with store_errors("The studies could not be read"):
        studies = {r.id: r for r in sorted(store.list_studies(), key=lambda r: r.id, reverse=True)}
        if not studies:
            st.info("No study yet: define a search space above and start one.")
            return
        if st.session_state.get(_STUDY) not in studies:
            st.session_state[_STUDY] = next(iter(studies))
        st.subheader("Study")
        study_id = st.selectbox("Study", list(studies), format_func=lambda i: _study_label(studies[i]), key=_STUDY)
        record = store.get_study(study_id)
        started_here = study_id in st.session_state.get(_STARTED, {})
        if record.status == "running" or (record.status == "draft" and started_here):
            live_progress(store, study_id)
            return
        study_status(store, record)
        results_section(store, record)
