"""The Portfolio page: several stored or bundled datasets as cells (docs/strategy.md §12), a weight and a few
settings per cell, the portfolio's rules; run it, read its KPIs, equity against both benchmarks, each cell's
contribution, the correlation of the cells and the allocation over time, its trades and transfers; save it; and
re-run or download the stored portfolios.

One function, :func:`portfolio_page`, registered in ``streamlit_app.py``. The page only wires widgets: the
portfolio runs, saves and re-runs through :mod:`usecases.portfolios`, its files come from
:mod:`usecases.portfolio_reports`, and its figures from :mod:`core.figures_portfolio`.

Each cell starts from the active configuration (the Backtest page's form) with its own trigger, stock share,
guardrail and sizing inputs: the app's configuration form edits the one active configuration, so it cannot be
drawn once per cell.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from app.config_form import (
    FIELDS,
    SPECS,
    config_error_text,
    config_from_inputs,
    draw_field,
    inputs_from_config,
    settings_summary,
    to_fraction,
    to_percent,
)
from app.dataset_picker import dataset_options
from app.navigation import page_link
from app.state import active_config
from app.store_access import open_store_or_report, store_errors
from app.table_columns import metric_columns
from app.widgets import backtest_kpis, metric_label, render_kpis, render_problem, show_chart
from core import ConfigError, DataError, StrategyConfig
from core.config_registry import ConfigField
from core.figures_portfolio import CHART_TITLES, POOL_LABEL, portfolio_figures
from core.metric_table import RETURN_AND_RISK, format_metric
from core.portfolio import POOL, PORTFOLIO_FIELDS, PortfolioResult, PortfolioRules
from core.report.portfolio_exports import (
    COLUMN_TITLES,
    PORTFOLIO_FORMATS,
    PortfolioCellMeta,
    PortfolioReport,
    export_filename,
)
from usecases.portfolio_reports import cell_metas, portfolio_report
from usecases.portfolios import (
    PortfolioRerunCheck,
    PortfolioSpec,
    cells_from_datasets,
    list_portfolios,
    run_portfolio,
    sample_datasets,
    save_portfolio,
    verify_portfolio,
)
from usecases.store import PortfolioRecord, Store, StoredCell, StoreError

DEFAULT_CELLS: tuple[str, ...] = ("sample:INTC", "sample:MMM", "sample:COST")  # the three bundled stocks
# The settings each cell may change (the rest are the active configuration's), in the form's units.
CELL_FIELDS: tuple[str, ...] = ("trigger_up", "trigger_down", "initial_stock_share", "guardrail_min", "guardrail_max",
                                "sizing")  # fmt: skip
CELLS_KEY = "portfolio_cells"
_LAST = "portfolio_last_run"
_RERUN = "portfolio_rerun_outcome"
DOWNLOAD_LABELS: dict[str, str] = {"xlsx": "Excel", "pdf": "PDF report", "csv": "Trades CSV", "json": "JSON"}
MAX_LISTED = 200  # stored portfolios in the table


@dataclass(frozen=True)
class PortfolioRun:
    """The last portfolio run on this page, kept in the session so that widget changes do not re-run it."""

    token: str  # the inputs it ran on (their JSON), to tell whether the inputs changed since
    spec: PortfolioSpec
    result: PortfolioResult
    cells: tuple[PortfolioCellMeta, ...]  # each cell's dataset, as the reports name it

    @property
    def report(self) -> PortfolioReport:
        """The run as the exports and the benchmark table see it (not saved yet)."""
        return PortfolioReport(self.result, self.cells)


@dataclass(frozen=True)
class RerunOutcome:
    """A stored portfolio's verified re-run, kept in the session until another portfolio is picked."""

    portfolio_id: int
    check: PortfolioRerunCheck


# --- keys and pure conversions ------------------------------------------------------------------------------------


def cell_key(token: str, field: str) -> str:
    """The widget key of one cell's input (``token`` is the dataset's, e.g. ``sample:INTC``)."""
    return f"portfolio_cell_{token}_{field}"


def rule_key(name: str) -> str:
    """The widget key of one portfolio rule."""
    return f"portfolio_rule_{name}"


def rule_input(field: ConfigField, value: Any) -> Any:
    """A rule's value as its input shows it: fractions in percent, numbers as floats, the rest unchanged."""
    if field.kind == "float":
        return to_percent(value) if field.unit == "fraction" else float(value)
    return value


def rules_from_inputs(values: Mapping[str, Any]) -> PortfolioRules:
    """The portfolio rules from the rule inputs (the inverse of :func:`rule_input`). Raises ``ConfigError``."""
    fields: dict[str, Any] = {}
    for f in PORTFOLIO_FIELDS:
        value = values[f.name]
        fields[f.name] = to_fraction(value) if f.kind == "float" and f.unit == "fraction" else value
    return PortfolioRules.from_dict(fields)


def cell_config(base: StrategyConfig, values: Mapping[str, Any]) -> StrategyConfig:
    """``base`` with a cell's own inputs (any configuration field, as the form holds it: percentages for fractions).
    Raises ``ConfigError``."""
    return config_from_inputs({**inputs_from_config(base), **values})


def equal_weights(tokens: Sequence[str]) -> dict[str, float]:
    """Equal weights in percent, which add up to 100 % within the engine's tolerance."""
    return {t: to_percent(1.0 / len(tokens)) for t in tokens} if tokens else {}


def spec_token(tokens: Sequence[str], weights: Sequence[float], configs: Sequence[StrategyConfig],
               rules: PortfolioRules) -> str:
    """The inputs of a run as one string: equal strings, equal runs."""
    return json.dumps({"cells": [[t, w, c.to_dict()] for t, w, c in zip(tokens, weights, configs, strict=True)],
                       "rules": rules.to_dict()}, sort_keys=True)  # fmt: skip


def stored_frame(records: Sequence[PortfolioRecord]) -> pd.DataFrame:
    """The table of stored portfolios: one row each with its name, cells, time and headline metrics."""
    rows = [{
        "id": r.id, "name": r.name, "cells": ", ".join(f"{c.name} {c.weight:.0%}" for c in r.cells),
        "created": pd.Timestamp(r.created_at).tz_convert(None), "total_return": r.metrics.get("total_return"),
        "sharpe": r.metrics.get("sharpe"), "max_drawdown": r.metrics.get("max_drawdown"),
    } for r in records]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["id", "name", "cells", "created", "total_return", "sharpe", "max_drawdown"])
    for metric in ("total_return", "sharpe", "max_drawdown"):
        frame[metric] = pd.to_numeric(frame[metric], errors="coerce")
    return frame


def benchmark_frame(report: PortfolioReport) -> pd.DataFrame:
    """Every metric of the portfolio beside its two benchmarks, formatted as the reports print them."""
    table = report.metrics_table
    own = table.columns[0]  # the portfolio; the benchmarks have return and risk figures only (blank elsewhere)
    return pd.DataFrame({
        COLUMN_TITLES[c]: [format_metric(n, v) if c == own or n in RETURN_AND_RISK else "" for n, v in table[c].items()]
        for c in table.columns
    }, index=[metric_label(n) for n in table.index])  # fmt: skip


# --- the page -----------------------------------------------------------------------------------------------------


def portfolio_page() -> None:
    """Cells, rules and Run; then the results and Save; then the stored portfolios."""
    st.title("Portfolio")
    st.caption(
        "Several stocks managed together: each cell is one stock plus its share of the cash, trading on its own "
        "settings; the portfolio may keep a cash pool the cells draw from and re-allocate between them "
        "(docs/strategy.md §12). It is measured against equal-weight buy-and-hold and its untraded initial mix."
    )
    store = open_store_or_report("Portfolios need the run store, which is not available")
    if store is None:
        return
    options, labels, note = dataset_options()
    label_of = {ref.token: label for ref, label in labels.items()}
    if note:
        st.caption(note)

    st.subheader("Cells")
    base = active_config()
    st.caption(f"Every cell starts from the active configuration. {settings_summary(base)}")
    page_link("backtest", "Change the active configuration on the Backtest page", "Change the active "
              "configuration on the Backtest page.", icon=":material/tune:")  # fmt: skip
    tokens = _cell_picker([ref.token for ref in options], label_of)
    if not tokens:
        st.info("Pick at least one dataset to build a portfolio.", icon=":material/info:")
    cells = [_cell_inputs(t, label_of.get(t, t), base) for t in tokens]

    st.subheader("Portfolio rules")
    rules = _rules_form()

    weights = [w for w, _ in cells]
    configs = [c for _, c in cells if c is not None]
    ready = rules is not None and bool(tokens) and len(configs) == len(cells)  # every input valid
    clicked = st.button("Run portfolio", type="primary", icon=":material/play_arrow:", disabled=not ready,
                        key="portfolio_run")  # fmt: skip
    if clicked and rules is not None and ready:
        _run(store, tokens, weights, configs, rules)
    last: PortfolioRun | None = st.session_state.get(_LAST)
    if last is not None:
        if rules is not None and ready and last.token != spec_token(tokens, weights, configs, rules):
            st.caption("The inputs changed since this run: press Run portfolio to see their results.")
        results_section(last)
        save_form(store, last)
    stored_section(store)


def _cell_picker(tokens: list[str], label_of: Mapping[str, str]) -> list[str]:
    """The datasets chosen as cells; changing the choice resets the weights to equal."""

    def reset_weights() -> None:
        chosen = st.session_state[CELLS_KEY]
        st.session_state.update({cell_key(t, "weight"): w for t, w in equal_weights(chosen).items()})

    if CELLS_KEY not in st.session_state:
        st.session_state[CELLS_KEY] = [t for t in DEFAULT_CELLS if t in tokens]
        reset_weights()

    chosen = st.multiselect("Datasets", tokens, format_func=lambda t: label_of.get(t, t), key=CELLS_KEY,
                            on_change=reset_weights, help="One cell per dataset: bundled histories and stored datasets "
                            "(uploads and downloads from the Data page). Changing the choice resets the weights to "
                            "equal.")  # fmt: skip
    return list(chosen)


def _cell_inputs(token: str, label: str, base: StrategyConfig) -> tuple[float, StrategyConfig | None]:
    """One cell's weight (a fraction) and configuration, or ``None`` after showing why its settings are invalid."""
    defaults = inputs_from_config(base)
    with st.container(border=True):
        st.markdown(f"**{label}**")
        columns = st.columns(len(CELL_FIELDS) + 1)
        weight_key = cell_key(token, "weight")
        st.session_state.setdefault(weight_key, 100.0)
        weight = columns[0].number_input("Weight (%)", min_value=0.0, max_value=100.0, step=1.0, format="%.2f",
                                         key=weight_key, help="The cell's share of the portfolio capital at the "
                                         "start.")  # fmt: skip
        values: dict[str, Any] = {}
        for column, name in zip(columns[1:], CELL_FIELDS, strict=True):
            spec, key = SPECS[name], cell_key(token, name)
            st.session_state.setdefault(key, defaults[name])
            with column:
                if spec.widget == "choice":
                    values[name] = st.selectbox(spec.label, spec.choices, format_func=lambda s: s.replace("_", " "),
                                                help=spec.help, key=key)  # fmt: skip
                else:
                    values[name] = st.number_input(spec.label, step=spec.step, format=spec.fmt, help=spec.help,
                                                   key=key)  # fmt: skip
        with st.expander("All settings of this cell"):
            # Every other field of the registry (the capital comes from the weight), keyed per cell.
            others = [spec for spec in FIELDS if spec.name not in CELL_FIELDS and spec.name != "initial_capital"]
            for start in range(0, len(others), 4):
                for column, spec in zip(st.columns(4), others[start:start + 4], strict=False):
                    key, on_key = cell_key(token, spec.name), cell_key(token, spec.name + "_on")
                    if spec.widget == "optpct":
                        enabled, percent = defaults[spec.name]
                        st.session_state.setdefault(on_key, enabled)
                        st.session_state.setdefault(key, percent)
                    else:
                        st.session_state.setdefault(key, defaults[spec.name])
                    with column:
                        values[spec.name] = draw_field(spec, key, on_key)
        try:
            return to_fraction(weight), cell_config(base, values)
        except ConfigError as exc:
            st.error(config_error_text(exc), icon=":material/error:")
            return to_fraction(weight), None


def _rules_form() -> PortfolioRules | None:
    """Every portfolio rule (:data:`PORTFOLIO_FIELDS`), or ``None`` after showing why they are invalid."""
    defaults = PortfolioRules()
    values: dict[str, Any] = {}
    columns = st.columns(len(PORTFOLIO_FIELDS))
    for column, f in zip(columns, PORTFOLIO_FIELDS, strict=True):
        key = rule_key(f.name)
        st.session_state.setdefault(key, rule_input(f, getattr(defaults, f.name)))
        with column:
            if f.kind == "bool":
                values[f.name] = st.toggle(f.label, help=f.help, key=key)
            elif f.kind == "choice":
                values[f.name] = st.selectbox(f.label, f.choices, help=f.help, key=key)
            else:
                values[f.name] = st.number_input(f.label, step=f.step, format="%.2f", help=f.help, key=key)
    try:
        return rules_from_inputs(values)
    except ConfigError as exc:
        st.error(f"**These portfolio rules are not valid.** {exc}. Percent fields take percent (5 means 5 %).",
                 icon=":material/error:")  # fmt: skip
        return None


def _run(store: Store, tokens: Sequence[str], weights: Sequence[float], configs: Sequence[StrategyConfig],
         rules: PortfolioRules) -> None:
    """Resolve the cells' datasets in the store (bundled ones saved once), run the portfolio, keep the result."""
    try:
        with st.spinner("Running the portfolio…"):
            ids = [_dataset_id(store, t) for t in tokens]
            named = cells_from_datasets(store, ids, configs[0], weights)
            cells = tuple(StoredCell(c.name, c.dataset_id, c.weight, cfg)
                          for c, cfg in zip(named, configs, strict=True))
            spec = PortfolioSpec(rules, cells)
            result = run_portfolio(store, spec)
            metas = cell_metas(store, cells)
    except (ConfigError, DataError) as exc:
        render_problem("The portfolio could not run", exc, "Change the weights, the rules or the cells' settings.")
        return
    except StoreError as exc:
        render_problem("The cells' datasets could not be loaded", exc)
        return
    st.session_state[_LAST] = PortfolioRun(spec_token(tokens, weights, configs, rules), spec, result, metas)


def _dataset_id(store: Store, token: str) -> int:
    """The store's id of a picked dataset: a stored one's own, a bundled one saved first (once)."""
    kind, _, key = token.partition(":")
    return sample_datasets(store, [key])[0] if kind == "sample" else int(key)


def results_section(run: PortfolioRun) -> None:
    """KPIs, the four figures, the metrics beside the benchmarks, the trades (filtered by cell) and transfers."""
    result = run.result
    first, last = result.timeline.index[0], result.timeline.index[-1]
    st.subheader("Results")
    st.caption(f"{', '.join(f'{c.name} {c.weight:.2%}' for c in run.spec.cells)}; {len(result.timeline):,} bars "
               f"on the aligned calendar, {first:%Y-%m-%d} – {last:%Y-%m-%d}.")  # fmt: skip
    render_kpis(backtest_kpis(result.metrics))
    log_scale = st.toggle("Logarithmic scale", value=False, key="portfolio_log_scale",
                          help="Equal percentage moves look equally large; helps with long histories.")  # fmt: skip
    figures = portfolio_figures(result, log_scale=log_scale)
    for chart, fig in figures.items():
        show_chart(fig, f"portfolio_{chart}", file_stem=f"portfolio_{chart}")
    st.caption(f"{CHART_TITLES['allocation']}: the {POOL_LABEL.lower()} is drawn on top when the portfolio has one.")

    st.subheader("Portfolio vs benchmarks")
    st.dataframe(benchmark_frame(run.report), width="content", key="portfolio_benchmarks")

    trades = result.trades
    st.subheader(f"Trades ({len(trades):,})")
    names = [c.name for c in run.spec.cells]
    shown = st.multiselect("Cells", names, key="portfolio_trades_cells", placeholder="All cells",
                           help="Leave empty for every cell's trades.")  # fmt: skip
    rows = trades[trades["cell"].isin(shown)] if shown else trades
    st.caption(f"{len(rows):,} of {len(trades):,} orders, the initial purchases included.")
    st.dataframe(rows, hide_index=True, height=380, key="portfolio_trades")

    transfers = result.transfers
    st.subheader(f"Transfers ({len(transfers):,})")
    if len(transfers):
        st.dataframe(transfers.replace({"cell": {POOL: POOL_LABEL}}), hide_index=True, height=260,
                     key="portfolio_transfers")  # fmt: skip
    else:
        st.caption("No money moved between the cells: no cash pool was drawn on and no re-allocation took place.")


def save_form(store: Store, run: PortfolioRun) -> None:
    """The "Save portfolio" form: stores the spec, metrics and trades; the stored portfolio is listed below."""
    st.subheader("Save portfolio")
    with st.form("portfolio_save", clear_on_submit=False):
        name = st.text_input("Name", value=" / ".join(c.name for c in run.spec.cells), max_chars=200,
                             key="portfolio_save_name")  # fmt: skip
        notes = st.text_area("Notes", key="portfolio_save_notes")
        submitted = st.form_submit_button("Save portfolio", icon=":material/save:")
    if submitted:
        with store_errors("The portfolio could not be saved"):
            portfolio_id = save_portfolio(store, run.spec, run.result, name=name, notes=notes)
            st.success(f"Saved as portfolio {portfolio_id}. It is listed under Stored portfolios below.",
                       icon=":material/check_circle:")  # fmt: skip


def stored_section(store: Store) -> None:
    """The stored portfolios: a table, and for the picked one a verified re-run and its downloads."""
    st.subheader("Stored portfolios")
    with store_errors("The stored portfolios could not be listed"):
        records = list_portfolios(store, limit=MAX_LISTED)
        if not records:
            st.caption("None yet: run a portfolio above and save it, or use `python -m cli portfolio run --save`.")
            return
        st.dataframe(stored_frame(records), hide_index=True, key="portfolio_stored_table", column_config={
            "id": st.column_config.NumberColumn("Portfolio", format="%d"),
            "created": st.column_config.DatetimeColumn("Created (UTC)", format="YYYY-MM-DD HH:mm"),
            **metric_columns(("total_return", "sharpe", "max_drawdown")),
        })  # fmt: skip
        by_id = {r.id: r for r in records}
        portfolio_id = st.selectbox("Portfolio", list(by_id), format_func=lambda i: f"#{i} {by_id[i].name}",
                                    key="portfolio_stored_selected")  # fmt: skip
        if portfolio_id is None:
            return
        record = by_id[portfolio_id]
        render_kpis(backtest_kpis(record.metrics))
        if st.button("Re-run from the database", icon=":material/replay:", key="portfolio_rerun"):
            with st.spinner("Re-running the portfolio…"):
                st.session_state[_RERUN] = RerunOutcome(portfolio_id, verify_portfolio(store, portfolio_id))
        outcome: RerunOutcome | None = st.session_state.get(_RERUN)
        if outcome is not None and outcome.portfolio_id == portfolio_id:
            if outcome.check.identical:
                st.success(f"Re-run of portfolio {portfolio_id}: reproduced exactly (every metric and trade).",
                           icon=":material/verified:")  # fmt: skip
            else:
                st.warning(f"Re-run of portfolio {portfolio_id} differs: " + "; ".join(outcome.check.differences[:5]),
                           icon=":material/warning:")  # fmt: skip
        downloads(store, record)


def downloads(store: Store, record: PortfolioRecord) -> None:
    """The stored portfolio as Excel, PDF, trades CSV or JSON, each built (re-run and exported, and audited) only
    when its button is clicked."""
    for column, fmt in zip(st.columns(len(PORTFOLIO_FORMATS)), PORTFOLIO_FORMATS, strict=True):
        column.download_button(
            DOWNLOAD_LABELS[fmt], data=_lazy_report(store, record.id, fmt),
            file_name=export_filename(record.id, record.name, fmt), mime=None, key=f"portfolio_download_{fmt}",
            icon=":material/download:", on_click="ignore",
        )  # fmt: skip


def _lazy_report(store: Store, portfolio_id: int, fmt: str) -> Callable[[], bytes]:
    def build() -> bytes:
        return portfolio_report(store, portfolio_id, fmt).data

    return build
