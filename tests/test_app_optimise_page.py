"""The Optimise page through Streamlit's AppTest on a throw-away SQLite store, and the figure builders behind it.

The studies run in real worker processes (``python -m usecases.studies.worker``), as in the app; the grids are tiny so
that a study finishes in a few seconds, and the tests poll the page the way its fragment polls the store.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

from core import StrategyConfig
from core.engine import METRIC_NAMES
from core.figures_optimize import (
    HEATMAP_CURVE,
    heatmap_view,
    parallel_coordinates_figure,
    sensitivity_figure,
    study_heatmap_figure,
    study_trials,
    surface_figure,
    trial_config,
)
from storage import Store

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
URL_PATH = "optimisation-lab"


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_page(at: AppTest, url_path: str = URL_PATH) -> AppTest:
    """Switch pages. AppTest.switch_page only knows file pages; ours are functions behind a url_path."""
    pages = at._registered_pages  # filled by st.navigation on the first run
    at._page_hash = next(h for h, info in pages.items() if info.get("url_pathname") == url_path)
    return ok(at.run())


def run_app() -> AppTest:
    # Generous timeout: the first simulate in a fresh process may have to load or compile the Numba kernel.
    at = ok(AppTest.from_file(APP, default_timeout=120).run())
    return open_page(at)


def count_text(at: AppTest) -> str:
    return next(i.value for i in at.info if "combinations" in i.value)


def start_small_study(at: AppTest) -> AppTest:
    """3 × 2 = 6 trials: trigger_up 0.02, 0.03, 0.04 and trigger_down 0.02, 0.04."""
    at.number_input(key="opt_trigger_up_min").set_value(0.02)
    at.number_input(key="opt_trigger_up_max").set_value(0.04)
    at.number_input(key="opt_trigger_up_step").set_value(0.01)
    at.number_input(key="opt_trigger_down_min").set_value(0.02)
    at.number_input(key="opt_trigger_down_max").set_value(0.04)
    ok(at.number_input(key="opt_trigger_down_step").set_value(0.02).run())
    assert count_text(at).startswith("**6 combinations**")
    return ok(at.button(key="optimise_start").click().run())


def wait_until_finished(at: AppTest, timeout_s: float = 60.0) -> AppTest:
    """Rerun the page, as its fragment would, until the study is no longer drawn as live."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ok(at.run())
        if not at.get("progress"):
            return at
        time.sleep(0.3)
    raise AssertionError("the study did not finish in time")


def test_page_runs_and_the_combination_count_follows_the_inputs():
    at = run_app()
    assert not at.error
    assert at.title[0].value == "Optimise"
    assert count_text(at).startswith("**25 combinations**, 25 trials planned")  # the default 5 × 5 triggers

    ok(at.number_input(key="opt_trigger_up_step").set_value(0.015).run())
    assert count_text(at).startswith("**15 combinations**")

    at.selectbox(key="optimise_add_param").set_value("sizing")
    ok(at.button(key="optimise_add").click().run())
    sizings = at.multiselect(key="opt_sizing_values").value
    assert len(sizings) == 2 and sizings[0] == "proportional"  # the current setting and one alternative
    assert count_text(at).startswith("**30 combinations**")

    ok(at.selectbox(key="optimise_method").set_value("random").run())
    ok(at.number_input(key="optimise_n_trials").set_value(7).run())
    assert "7 trials planned" in count_text(at)

    ok(at.button(key="opt_sizing_remove").click().run())
    assert "opt_sizing_values" not in [w.key for w in at.multiselect]


def test_invalid_inputs_are_explained_and_block_the_start():
    at = run_app()
    ok(at.number_input(key="opt_trigger_up_max").set_value(0.001).run())
    assert any("empty" in e.value for e in at.error)
    assert at.button(key="optimise_start").disabled

    ok(at.number_input(key="opt_trigger_up_max").set_value(0.045).run())
    ok(at.text_area(key="optimise_constraints").set_value("max_drawdwn>=-0.3").run())
    assert any("did you mean max_drawdown" in e.value for e in at.error)
    assert at.button(key="optimise_start").disabled


def test_a_small_study_runs_in_the_worker_and_its_results_react_to_the_selectors():
    at = start_small_study(run_app())
    at = wait_until_finished(at)
    assert not at.error
    assert any("**completed**: 6 of 6 trials" in s.value for s in at.success)

    trials = next(d.value for d in at.dataframe if "sharpe" in d.value.columns)  # the all-trials table
    assert len(trials) == 6
    assert {"trigger_up", "trigger_down", *METRIC_NAMES} <= set(trials.columns)
    # Best first by the objective (Sharpe), and the best-cell card shows the same number.
    assert trials["sharpe"].is_monotonic_decreasing
    assert at.metric[0].label == "Sharpe ratio"
    assert at.metric[0].value == f"{trials['sharpe'].iloc[0]:.4g}"

    charts_before = [c.proto.spec for c in at.get("plotly_chart")]
    assert len(charts_before) == 4  # heatmap, surface, parallel coordinates, sensitivity
    ok(at.selectbox(key="optimise_hm_metric").set_value("max_drawdown").run())
    charts_after = [c.proto.spec for c in at.get("plotly_chart")]
    assert charts_after[0] != charts_before[0]
    assert "Max drawdown" in charts_after[0]

    # "Apply to Backtest" on the robust pick opens Backtest with those settings and the study's dataset.
    ok(at.button(key="optimise_apply_robust").click().run())
    assert at.title[0].value == "Backtest"
    config = StrategyConfig.from_dict(at.session_state["vbl_active_config"])
    assert config.trigger_up in (0.02, 0.03, 0.04)
    assert config.trigger_down in (0.02, 0.04)
    assert at.session_state["vbl_active_dataset"].kind == "stored"


def test_a_running_study_shows_progress_and_can_be_cancelled():
    at = run_app()
    # 191 × 96 = 18,336 trials: long enough to be caught running.
    at.number_input(key="opt_trigger_up_min").set_value(0.01)
    at.number_input(key="opt_trigger_up_max").set_value(0.2)
    at.number_input(key="opt_trigger_up_step").set_value(0.001)
    at.number_input(key="opt_trigger_down_min").set_value(0.01)
    at.number_input(key="opt_trigger_down_max").set_value(0.2)
    ok(at.number_input(key="opt_trigger_down_step").set_value(0.002).run())
    assert count_text(at).startswith("**18,336 combinations**")
    ok(at.button(key="optimise_start").click().run())
    progress = at.get("progress")
    assert progress and "Study 1" in progress[0].proto.text

    ok(at.button(key="optimise_cancel").click().run())
    at = wait_until_finished(at, 30)
    store = Store()
    assert store.get_study(1).status == "cancelled"
    assert any("**cancelled**" in i.value for i in at.info)


def test_study_exports_are_built_on_demand_and_audited():
    from app.views.optimise import _lazy_study_export

    at = wait_until_finished(start_small_study(run_app()))
    labels = [b.label for b in at.get("download_button")]
    assert "PNG" in labels and "SVG" in labels  # the charts' server-side image downloads
    assert [label for label in labels if label not in ("PNG", "SVG")] == ["Excel", "PDF report", "CSV (trials)"]
    store = Store()
    data = _lazy_study_export(store, 1, "xlsx", ("trigger_up", "trigger_down"))()
    assert data[:2] == b"PK"  # a zip container: an xlsx workbook
    csv = _lazy_study_export(store, 1, "csv", None)().decode()
    assert csv.count("\n") >= 7
    audits = store.list_audit(entity="study", action="export")
    assert [a.details["format"] for a in audits] == ["csv", "xlsx"]


# --- the pure figure builders ---------------------------------------------------------------------------------------


def _trials(n_up: int = 4, n_down: int = 3, sizings: tuple[str, ...] = ("proportional", "original")) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = []
    grid = itertools.product(np.linspace(0.01, 0.04, n_up).round(4), np.linspace(0.01, 0.03, n_down).round(4), sizings)
    for i, (up, down, sizing) in enumerate(grid):
        metrics = {m: float(rng.normal()) for m in METRIC_NAMES}
        rows.append({"index": i, "status": "completed", "param.trigger_up": up, "param.trigger_down": down,
                     "param.sizing": sizing, **metrics})
    rows.append({"index": len(rows), "status": "pruned", "param.trigger_up": 9.0, "param.trigger_down": 9.0,
                 "param.sizing": "original", **dict.fromkeys(METRIC_NAMES, np.nan)})
    return pd.DataFrame(rows)


def test_study_trials_drops_unfinished_trials_and_names_params_like_the_config():
    trials = study_trials(_trials())
    assert len(trials) == 24
    assert {"trigger_up", "trigger_down", "sizing"} <= set(trials.columns)
    assert not any(c.startswith("param.") for c in trials.columns)


@pytest.mark.parametrize("agg", ["best", "max", "min", "mean", "worst"])
def test_heatmap_cells_carry_the_trial_that_stands_for_them(agg):
    trials = study_trials(_trials())
    view = heatmap_view(trials, "trigger_up", "trigger_down", "sharpe", agg, ["trigger_up", "trigger_down", "sizing"])
    assert view.grid.shape == (3, 4)
    assert len(view.cells) == 12
    for _, cell in view.cells.iterrows():
        same = trials[(trials["trigger_up"] == cell["trigger_up"]) & (trials["trigger_down"] == cell["trigger_down"])]
        assert cell["value"] == pytest.approx(getattr(same["sharpe"], agg if agg != "best" else "max")()
                                              if agg != "worst" else same["sharpe"].min())
        rep = same["sharpe"].max() if agg in ("best", "max", "mean") else same["sharpe"].min()
        assert cell["sharpe"] == pytest.approx(rep)
    fig = study_heatmap_figure(view)
    assert isinstance(fig.data[0], go.Heatmap)
    clicks = fig.data[HEATMAP_CURVE]
    assert len(clicks.x) == 12
    assert clicks.customdata.shape == (12, 1 + 1 + len(METRIC_NAMES))  # trial, sizing, every metric
    assert "Max drawdown" in clicks.hovertemplate and "sizing" in clicks.hovertemplate


def test_a_minimised_metric_is_green_when_low():
    trials = study_trials(_trials())
    view = heatmap_view(trials, "trigger_up", "trigger_down", "volatility", "best", ["trigger_up", "trigger_down"])
    assert study_heatmap_figure(view).data[0].reversescale is True
    rows = trials.groupby(["trigger_down", "trigger_up"])["volatility"].min().to_numpy()
    assert np.allclose(np.sort(view.cells["value"]), np.sort(rows))


def test_trial_config_turns_table_values_into_settings():
    row = pd.Series({"trigger_up": np.float64(0.05), "max_trade_share": np.nan, "max_orders_per_day": np.int64(3)})
    config = trial_config(StrategyConfig(), row, ["trigger_up", "max_trade_share", "max_orders_per_day"])
    assert config.trigger_up == 0.05 and config.max_trade_share is None and config.max_orders_per_day == 3
    assert isinstance(config.max_orders_per_day, int)


def test_surface_parallel_and_sensitivity_figures():
    from core.analysis import parallel_coordinates, sensitivity_from_trials, surface

    trials = study_trials(_trials())
    fig = surface_figure(surface(trials, "trigger_up", "sizing", "sharpe"), "max")
    assert isinstance(fig.data[0], go.Surface)
    assert list(fig.layout.scene.yaxis.ticktext) == ["original", "proportional"]

    pc = parallel_coordinates_figure(parallel_coordinates(trials, "sharpe", top=10))
    dims = pc.data[0].dimensions
    assert [d.label for d in dims][-1] == "Sharpe ratio" and len(dims[0].values) == 10

    best = trials.loc[trials["sharpe"].idxmax()]
    sens = sensitivity_figure(sensitivity_from_trials(trials, best, "sharpe"))
    assert {t.name for t in sens.data} == {"trigger_up", "trigger_down", "sizing"}
    assert all(0 in t.x for t in sens.data)
