"""Volatility-scaled triggers (docs/strategy.md §5.4a): the rule, the engine, sweeps, the optimiser and the advisor.

Expected numbers are derived here from the formulas of §5.4a (a path of alternating ±r log returns has a known
sample standard deviation), not copied from the engine's output.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from engine_helpers import NO_COSTS, daily, random_config, random_path

from core import METRIC_NAMES, ConfigError, StrategyConfig, kernel_interpreted, simulate, simulate_many
from core import kernel as K
from core.advisor import evaluate, window_volatility
from core.config_registry import CONFIG_FIELDS, config_field
from core.engine import params_matrix, params_row, prepare, run_params, volatility_for
from core.optimize.executors import LocalExecutor, _run_chunk
from core.optimize.space import ParamRange, SearchSpace, validate_params
from core.position_state import PositionState

SQRT_252 = math.sqrt(252.0)
R = 0.01  # the alternating log return of the hand-built paths
W = 4  # the volatility window of the hand-built paths
# std of (+r, −r, +r, −r) with ddof = 1: mean 0, Σd² = 4r², so √(4r²/3) = r·√(4/3); annualised by √252.
SIGMA_ALTERNATING = R * math.sqrt(4.0 / 3.0) * SQRT_252  # 0.183303
VOL = dict(threshold_mode="vol_scaled", vol_window_bars=W, vol_reference=0.30, trigger_up=0.05, trigger_down=0.05,
           **NO_COSTS)
SCALED = 0.05 * SIGMA_ALTERNATING / 0.30  # 3.055 % in force once the window is full


def alternating(n: int, start: float = 100.0) -> list[float]:
    """``start, start·e^r, start, start·e^r, …``: log returns +r, −r, +r, … exactly (to float precision)."""
    return [start * math.exp(R) if i % 2 else start for i in range(n)]


def vol_config(**changes) -> StrategyConfig:
    return StrategyConfig(**{**VOL, **changes})


@pytest.fixture(params=["compiled", "interpreted"])
def kernel(request):
    return K if request.param == "compiled" else kernel_interpreted.load()


# --- the rule -------------------------------------------------------------------------------------------------------


def test_window_volatility_of_alternating_returns(kernel):
    close = np.array(alternating(12))
    log_ret = kernel.log_returns(close)
    assert math.isnan(log_ret[0])
    # Even window: r·√(w/(w−1)); odd window of 5 starting with +r: mean r/5, Σd² = 3·(4r/5)² + 2·(6r/5)² = 4.8 r².
    assert kernel.window_volatility(log_ret, 5, 4, 252.0) == pytest.approx(SIGMA_ALTERNATING, rel=1e-12)
    assert kernel.window_volatility(log_ret, 7, 6, 252.0) == pytest.approx(R * math.sqrt(6 / 5) * SQRT_252, rel=1e-12)
    assert kernel.window_volatility(log_ret, 6, 5, 1.0) == pytest.approx(R * math.sqrt(4.8 / 4), rel=1e-12)


def test_warm_up_has_no_volatility_and_the_current_return_is_never_used(kernel):
    close = np.array(alternating(8))
    series = kernel.volatility_series(close, W, 252.0)
    # Bar t reads the returns of bars t−w … t−1: bars 0 … w have fewer than w of them.
    assert np.isnan(series[: W + 1]).all()
    assert series[W + 1] == pytest.approx(SIGMA_ALTERNATING, rel=1e-12)
    # A jump at bar 6 is not in bar 6's window, only in bar 7's.
    jumped = close.copy()
    jumped[6:] *= 1.2
    moved = kernel.volatility_series(jumped, W, 252.0)
    assert moved[6] == series[6]
    assert moved[7] > 2 * series[7]


def test_constant_prices_have_exactly_zero_volatility(kernel):
    series = kernel.volatility_series(np.full(10, 50.0), 3, 252.0)
    assert (series[4:] == 0.0).all()


def test_triggers_in_force_scale_and_clamp(kernel):
    p = params_row(vol_config(trigger_up=0.04, trigger_down=0.06, trigger_min=0.01, trigger_max=0.10))
    assert kernel.triggers_in_force(math.nan, p) == (0.04, 0.06)  # warm-up: fixed
    up, down = kernel.triggers_in_force(0.15, p)  # half the reference
    assert (up, down) == (pytest.approx(0.02, rel=1e-15), pytest.approx(0.03, rel=1e-15))
    assert kernel.triggers_in_force(0.30, p) == (pytest.approx(0.04, rel=1e-15), pytest.approx(0.06, rel=1e-15))
    assert kernel.triggers_in_force(0.03, p) == (0.01, 0.01)  # 0.4 % and 0.6 %: raised to the floor
    assert kernel.triggers_in_force(1.20, p) == (0.10, 0.10)  # 16 % and 24 %: cut to the cap
    fixed = params_row(StrategyConfig(trigger_up=0.04, trigger_down=0.06))
    assert kernel.triggers_in_force(1.20, fixed) == (0.04, 0.06)


# --- the engine -----------------------------------------------------------------------------------------------------


def test_trigger_in_force_and_the_bar_that_trades():
    # Bars 0-5 swing ±1 % around the anchor 100; bar 6 is 3.1 % above it. The window is full from bar 5 on with
    # σ = 18.33 %, so the trigger in force is 5 %·18.33/30 = 3.055 %: bar 6 sells. Fixed 5 % triggers never trade.
    closes = [*alternating(6), 103.1]
    tl = simulate(daily(closes), vol_config()).timeline
    assert list(tl["trigger_up_in_force"].iloc[: W + 1]) == [0.05] * (W + 1)
    assert tl["window_volatility"].iloc[: W + 1].isna().all()
    assert tl["window_volatility"].iloc[5] == pytest.approx(SIGMA_ALTERNATING, rel=1e-12)
    assert tl["trigger_up_in_force"].iloc[5] == pytest.approx(SCALED, rel=1e-12)
    # Bar 6's window (bars 2-5: −r, +r, −r, +r) has the same σ, whatever bar 6's own close is.
    assert tl["trigger_up_in_force"].iloc[6] == pytest.approx(SCALED, rel=1e-12)
    assert tl["sell_trigger_price"].iloc[6] == pytest.approx(100.0 * (1 + SCALED), rel=1e-12)
    assert list(tl["action"]) == ["BUY"] + ["HOLD"] * 5 + ["SELL"]
    assert tl["kind"].iloc[6] == "trigger"
    assert "(trigger 3.06 %, vol-scaled: σ 4-bar 18.33 % / reference 30.00 % × 5.00 %)" in tl["reason"].iloc[6]
    fixed = simulate(daily(closes), vol_config(threshold_mode="fixed")).timeline
    assert list(fixed["action"]) == ["BUY"] + ["HOLD"] * 6
    assert fixed["window_volatility"].isna().all() and (fixed["trigger_up_in_force"] == 0.05).all()


def test_a_binding_floor():
    # 5 %·18.33/30 = 3.055 % scaled; a 4 % floor lifts it above bar 6's 3.1 % move: hold.
    closes = [*alternating(6), 103.1]
    tl = simulate(daily(closes), vol_config(trigger_min=0.04)).timeline
    assert tl["trigger_up_in_force"].iloc[6] == 0.04 and tl["trigger_down_in_force"].iloc[6] == 0.04
    assert tl["window_volatility"].iloc[6] == pytest.approx(SIGMA_ALTERNATING, rel=1e-12)
    assert tl["action"].iloc[6] == "HOLD"


def test_a_binding_cap():
    # 2 %·18.33/10 = 3.666 % scaled would hold at +3.1 %; a 3 % cap brings it below the move: sell.
    closes = [*alternating(6), 103.1]
    cfg = vol_config(trigger_up=0.02, trigger_down=0.02, vol_reference=0.10, trigger_max=0.03)
    tl = simulate(daily(closes), cfg).timeline
    assert tl["trigger_up_in_force"].iloc[6] == 0.03 and tl["trigger_down_in_force"].iloc[6] == 0.03
    assert list(tl["action"]) == ["BUY"] + ["HOLD"] * 5 + ["SELL"]
    why = "vol-scaled: σ 4-bar 18.33 % / reference 10.00 % × 2.00 % = 3.67 %, cut to the 3.00 % cap"
    assert f"(trigger 3.00 %, {why})" in tl["reason"].iloc[6]
    uncapped = simulate(daily(closes), cfg.replace(trigger_max=0.5)).timeline
    assert uncapped["trigger_up_in_force"].iloc[6] == pytest.approx(0.02 * SIGMA_ALTERNATING / 0.10, rel=1e-12)
    assert uncapped["action"].iloc[6] == "HOLD"


def test_flat_prices_give_the_floor():
    closes = [100.0] * 6 + [100.6]
    tl = simulate(daily(closes), vol_config(trigger_min=0.005)).timeline
    assert tl["window_volatility"].iloc[6] == 0.0 and tl["trigger_up_in_force"].iloc[6] == 0.005
    assert tl["action"].iloc[6] == "SELL"  # +0.6 % ≥ the 0.5 % floor


def test_warm_up_bars_behave_exactly_as_fixed():
    # Big moves inside the warm-up: the vol_scaled run trades exactly like the fixed one until its window is full.
    closes = [100, 96, 101, 104, 99, 95, 102, 98, 103, 97, 101, 99]
    cfg = vol_config(vol_window_bars=6, trigger_up=0.03, trigger_down=0.03, trigger_min=0.001, trigger_max=0.4)
    scaled = simulate(daily(closes), cfg).timeline
    fixed = simulate(daily(closes), cfg.replace(threshold_mode="fixed")).timeline
    warm = slice(0, cfg.vol_window_bars + 1)
    numeric = [c for c in fixed.columns if c not in ("reason", "window_volatility")]
    pd.testing.assert_frame_equal(scaled.iloc[warm][numeric], fixed.iloc[warm][numeric])
    assert (scaled.iloc[warm]["action"] != "HOLD").sum() >= 3  # the warm-up did trade
    traded = scaled.iloc[warm][scaled.iloc[warm]["kind"] == "trigger"]
    assert traded["reason"].str.contains("fixed during the 6-bar volatility warm-up").all()
    assert not scaled["window_volatility"].iloc[cfg.vol_window_bars + 1 :].isna().any()


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_no_look_ahead_prices_after_bar_k_change_nothing_up_to_k(seed):
    rng = np.random.default_rng(seed)
    prices, dividends = random_path(rng, intraday_bars=seed % 2 == 0)
    cfg = random_config(rng).replace(
        threshold_mode="vol_scaled", vol_window_bars=int(rng.integers(2, 15)), vol_reference=0.2,
        trigger_up=0.03, trigger_down=0.03, trigger_min=0.002, trigger_max=0.3,
    )
    base = simulate(prices, cfg, dividends).timeline
    n = len(prices)
    for k in (cfg.vol_window_bars + 1, n // 2, n - 2):
        shocked = prices.copy()
        shocked.iloc[k + 1 :, 0] *= np.exp(rng.normal(0, 0.2, n - k - 1))
        tl = simulate(shocked, cfg, dividends).timeline
        pd.testing.assert_frame_equal(tl.iloc[: k + 1], base.iloc[: k + 1])  # every column, reasons included
        # Bar k + 1's window ends at bar k: the first volatility the change can reach is bar k + 2's.
        assert tl["window_volatility"].iloc[k + 1] == base["window_volatility"].iloc[k + 1]
        if k + 2 < n:
            assert tl["window_volatility"].iloc[k + 2] != base["window_volatility"].iloc[k + 2]
    assert (base["kind"] == "trigger").any()


def test_events_carry_the_trigger_in_force():
    closes = [*alternating(6), 103.1]
    crossed = [e for e in simulate(daily(closes), vol_config()).events if e.type == "threshold_crossed"]
    assert len(crossed) == 1
    assert crossed[0].inputs["trigger_in_force"] == pytest.approx(SCALED, rel=1e-12)
    assert crossed[0].inputs["window_volatility"] == pytest.approx(SIGMA_ALTERNATING, rel=1e-12)


# --- sweeps and the optimiser ----------------------------------------------------------------------------------------


def _assert_metrics_equal(fast: pd.DataFrame, configs, prices, dividends) -> None:
    for i, cfg in enumerate(configs):
        slow = simulate(prices, cfg, dividends).metrics
        for m in METRIC_NAMES:
            a, b = slow[m], float(fast[m].iloc[i])
            assert (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (i, m, a, b)


@pytest.mark.parametrize("intraday", [False, True])
def test_simulate_many_equals_simulate_for_vol_scaled_configs(intraday):
    rng = np.random.default_rng(21 + intraday)
    prices, dividends = random_path(rng, intraday_bars=intraday)
    configs = []
    for i in range(8):
        cfg = random_config(rng)
        if i % 4:  # fixed rows mixed in; windows repeat, so rows share σ series
            cfg = cfg.replace(threshold_mode="vol_scaled", vol_window_bars=(3, 10, 3)[i % 3],
                              vol_reference=float(rng.uniform(0.05, 0.5)), trigger_min=0.001, trigger_max=0.3,
                              periods_per_year=int(rng.choice([252, 365])))
        configs.append(cfg)
    fast = simulate_many(prices, configs, dividends)
    assert list(fast["threshold_mode"]) == [c.threshold_mode for c in configs]
    _assert_metrics_equal(fast, configs, prices, dividends)


def test_a_grid_over_vol_reference_and_threshold_mode_runs_in_the_optimiser_and_equals_simulate():
    prices, dividends = random_path(np.random.default_rng(8), intraday_bars=False)
    space = SearchSpace.parse(
        {"threshold_mode": "fixed,vol_scaled", "vol_reference": "0.1:0.4:0.1", "vol_window_bars": [5, 20]},
        StrategyConfig(trigger_up=0.04, trigger_down=0.04),
    )
    assert space.size == 2 * 4 * 2
    choices = space.choices(np.arange(space.size))
    params = space.params_for(choices)
    valid, messages = validate_params(params)
    assert valid.all(), messages
    configs = [space.config_for(v) for v in space.values_for(choices)]
    bars = prepare(prices, dividends)
    fast = run_params(bars, params)
    np.testing.assert_array_equal(fast, run_params(bars, params_matrix(configs)))
    executor = LocalExecutor(chunk=5)  # chunks split the windows across kernel calls
    executor.start(bars)
    np.testing.assert_array_equal(executor.evaluate(params), fast)
    np.testing.assert_array_equal(_run_chunk(bars, params, 1), fast)  # the Dask task's serial path
    _assert_metrics_equal(pd.DataFrame(fast, columns=list(METRIC_NAMES)), configs, prices, dividends)
    # The vol_reference only matters when scaling is on; with it on, it changes the result.
    by_mode = {mode: fast[[c.threshold_mode == mode for c in configs]] for mode in ("fixed", "vol_scaled")}
    assert (by_mode["fixed"] == by_mode["fixed"][0]).all()
    assert len({tuple(row) for row in by_mode["vol_scaled"].tolist()}) > 1


def test_search_space_validation_gives_the_dataclass_messages():
    base = StrategyConfig(trigger_up=0.04, trigger_down=0.04)
    space = SearchSpace.parse({"threshold_mode": "fixed,vol_scaled", "trigger_max": "0.02,0.03,0.5",
                               "trigger_min": "0.01,0.04"}, base)
    choices = space.choices(np.arange(space.size))
    valid, messages = validate_params(space.params_for(choices))
    for ok, message, values in zip(valid, messages, space.values_for(choices), strict=True):
        try:
            space.config_for(values)
        except ConfigError as exc:
            assert not ok and message == str(exc), values
        else:
            assert ok and message is None, values
    assert not valid.all() and valid.any()


def test_categorical_ranges_accept_every_choice_field():
    r = ParamRange.parse("threshold_mode", "fixed,vol_scaled")
    assert list(r.column()) == [K.THRESHOLD_FIXED, K.THRESHOLD_VOL_SCALED]
    with pytest.raises(ConfigError, match="choose from fixed, vol_scaled"):
        ParamRange.parse("threshold_mode", "fixed,adaptive")


# --- the advisor -----------------------------------------------------------------------------------------------------


def test_the_advisor_reports_the_trigger_in_force_and_why():
    closes = alternating(6)
    state = PositionState(shares=50, cash=5000, anchor=100)
    d = evaluate(state, 103.1, vol_config(), "2024-01-10", history=closes)
    assert d.window_volatility == pytest.approx(SIGMA_ALTERNATING, rel=1e-12)
    assert d.trigger_up == pytest.approx(SCALED, rel=1e-12) and d.trigger_down == d.trigger_up
    assert d.sell_trigger_price == pytest.approx(100 * (1 + SCALED), rel=1e-12)
    assert d.action == "SELL"
    assert d.trigger_note.startswith("trigger up 3.06 % (vol-scaled: σ 4-bar 18.33 % / reference 30.00 % × 5.00 %)")
    assert "vol-scaled: σ 4-bar" in d.reason
    # A frame with a close column works the same.
    frame = evaluate(state, 103.1, vol_config(), "2024-01-10", history=daily(closes))
    assert frame.trigger_up == d.trigger_up


@pytest.mark.parametrize(("history", "given"), [(None, "no price history given"), ([100.0, 101.0], "2 given")])
def test_the_advisor_falls_back_to_fixed_without_enough_history(history, given):
    d = evaluate(PositionState(shares=50, cash=5000, anchor=100), 96.0, vol_config(), "2024-01-10", history=history)
    assert (d.trigger_up, d.trigger_down) == (0.05, 0.05) and math.isnan(d.window_volatility)
    assert d.action == "HOLD"  # −4 % does not reach the fixed 5 %
    assert d.trigger_note == (f"trigger up 5.00 % (fixed: 5 closes before this price are needed, {given}); "
                              f"trigger down 5.00 % (fixed: 5 closes before this price are needed, {given})")
    assert window_volatility(history, vol_config()) == (pytest.approx(math.nan, nan_ok=True),
                                                        f"fixed: 5 closes before this price are needed, {given}")


def test_the_advisor_in_fixed_mode_ignores_history():
    d = evaluate(PositionState(shares=50, cash=5000, anchor=100), 96.0, StrategyConfig(), "2024-01-10",
                 history=alternating(30))
    assert (d.trigger_up, d.trigger_down) == (0.03, 0.03) and math.isnan(d.window_volatility)
    assert d.trigger_note == "trigger up 3.00 % (fixed); trigger down 3.00 % (fixed)"


def test_the_advisor_refuses_a_bad_history():
    with pytest.raises(ValueError, match=r"close 2 is -1\.0"):
        evaluate(PositionState(shares=50, cash=5000, anchor=100), 96.0, vol_config(), "2024-01-10",
                 history=[100.0, -1.0, 100.0, 100.0, 100.0])


def test_the_advisor_agrees_with_the_backtest_at_every_bar():
    rng = np.random.default_rng(4)
    prices, _ = random_path(rng, intraday_bars=False)
    cfg = vol_config(vol_window_bars=10, vol_reference=0.25, trigger_up=0.03, trigger_down=0.03,
                     trigger_min=0.005, trigger_max=0.2, max_orders_per_day=5)
    tl = simulate(prices, cfg).timeline
    closes = prices["close"].to_numpy()
    for t in range(1, len(tl)):
        before = tl.iloc[t - 1]
        state = PositionState(shares=before["shares"], cash=before["cash"], anchor=before["anchor_after"])
        d = evaluate(state, float(closes[t]), cfg, tl.index[t], history=closes[:t])
        row = tl.iloc[t]
        # Bit for bit: the same kernel functions on the same closes.
        assert (d.trigger_up, d.trigger_down) == (row["trigger_up_in_force"], row["trigger_down_in_force"])
        assert (math.isnan(d.window_volatility) and math.isnan(row["window_volatility"])) or (
            d.window_volatility == row["window_volatility"])
        assert d.action == row["action"] and d.qty == row["qty"], t
    assert (tl["action"].isin(["BUY", "SELL"]).iloc[11:]).any()


# --- every listing derived from the registry --------------------------------------------------------------------------

NEW_FIELDS = ("threshold_mode", "vol_window_bars", "vol_reference", "trigger_min", "trigger_max")


def test_the_new_fields_are_registered_with_units_ranges_and_validation():
    fields = {f.name: f for f in CONFIG_FIELDS}
    assert [f.name for f in CONFIG_FIELDS][-len(NEW_FIELDS) :] == list(NEW_FIELDS)
    assert fields["threshold_mode"].choices == ("fixed", "vol_scaled") and fields["threshold_mode"].default == "fixed"
    assert (fields["vol_window_bars"].kind, fields["vol_window_bars"].bounds.text()) == ("int", "[2, inf)")
    assert (fields["vol_reference"].unit, fields["vol_reference"].bounds.text()) == ("fraction", "(0, inf)")
    assert fields["trigger_min"].bounds.text() == fields["trigger_max"].bounds.text() == "(0, 1)"
    with pytest.raises(ConfigError, match=r"^trigger_min \(0.2\) must not be greater than trigger_max \(0.1\)$"):
        StrategyConfig(trigger_min=0.2, trigger_max=0.1)
    with pytest.raises(ConfigError, match=r"^trigger_down \(0.6\) must lie between trigger_min \(0.005\) and "
                                          r"trigger_max \(0.5\) when threshold_mode is vol_scaled"):
        StrategyConfig(threshold_mode="vol_scaled", trigger_down=0.6)
    StrategyConfig(trigger_down=0.6)  # fixed mode: the clamps never apply, so they need not bracket
    with pytest.raises(ConfigError, match="threshold_mode must be one of fixed, vol_scaled, got 'auto'"):
        StrategyConfig(threshold_mode="auto")
    old = {k: v for k, v in StrategyConfig().to_dict().items() if k not in NEW_FIELDS}
    assert StrategyConfig.from_dict(old) == StrategyConfig()  # a stored configuration from before reads as fixed


def test_form_cli_api_and_definitions_offer_the_new_fields():
    from api.schemas import ConfigModel
    from app.config_form import SPECS, config_from_inputs, inputs_from_config
    from cli.main import parse_settings
    from core.report.definitions import config_definitions

    assert SPECS["threshold_mode"].widget == "choice" and SPECS["threshold_mode"].choices == ("fixed", "vol_scaled")
    assert SPECS["vol_reference"].widget == "pct" and SPECS["vol_window_bars"].widget == "int"
    cfg = vol_config(vol_reference=0.25, trigger_min=0.01)
    inputs = inputs_from_config(cfg)
    assert inputs["vol_reference"] == 25.0 and inputs["trigger_min"] == 1.0
    assert config_from_inputs(inputs) == cfg
    assert parse_settings(["threshold_mode=vol_scaled", "vol_window_bars=30", "vol_reference=0.2"]) == {
        "threshold_mode": "vol_scaled", "vol_window_bars": 30, "vol_reference": 0.2}
    schema = ConfigModel.model_json_schema()["properties"]
    assert schema["threshold_mode"]["enum"] == ["fixed", "vol_scaled"]
    assert schema["vol_window_bars"]["valid_range"] == "[2, inf)"
    from_api = StrategyConfig.from_dict(ConfigModel(threshold_mode="vol_scaled").model_dump())
    assert from_api.threshold_mode == "vol_scaled"
    table = config_definitions().set_index("Field")
    assert set(NEW_FIELDS) <= set(table.index)
    assert table.loc["threshold_mode", "Valid values"] == "fixed, vol_scaled"
    assert config_field("vol_reference").label in set(table["Label"])


def test_the_api_runs_a_vol_scaled_backtest(tmp_path):
    from fastapi.testclient import TestClient

    from api.app import Settings, create_app

    cfg = {"threshold_mode": "vol_scaled", "vol_window_bars": 10, "vol_reference": 0.4, "trigger_up": 0.04}
    with TestClient(create_app(Settings.from_env())) as client:
        response = client.post("/v1/backtests", json={"dataset": "GOOG", "config": cfg, "include_timeline": True})
        assert response.status_code == 200, response.text
        body = response.json()
        params = client.get("/v1/optimization/parameter-types").json()["parameters"]
        bad = client.post("/v1/backtests", json={"dataset": "GOOG", "config": {**cfg, "trigger_min": 0.05}})
    from core.data import load_sample

    expected = simulate(load_sample("GOOG").prices, StrategyConfig(**cfg))
    assert body["metrics"]["sharpe"] == expected.metrics["sharpe"]
    assert body["config"]["threshold_mode"] == "vol_scaled"
    assert [r["trigger_up_in_force"] for r in body["timeline"]][-5:] == expected.timeline[
        "trigger_up_in_force"].iloc[-5:].tolist()
    by_name = {p["name"]: p for p in params}
    assert by_name["threshold_mode"]["choices"] == ["fixed", "vol_scaled"]
    assert set(NEW_FIELDS) <= set(by_name)
    assert bad.status_code == 422 and "trigger_up (0.04) must lie between trigger_min (0.05)" in bad.text


def test_exports_list_the_new_fields_and_columns():
    from core.data import load_sample
    from core.report.context import DatasetMeta, RunReport
    from core.report.run_tables import config_rows

    goog = load_sample("GOOG")
    result = simulate(goog.prices.iloc[:200], vol_config(trigger_up=0.03, trigger_down=0.03))
    report = RunReport(result, DatasetMeta.from_market_data(goog))
    rows = {r.name: r for r in config_rows(report)}
    assert (rows["threshold_mode"].value, rows["threshold_mode"].text) == ("vol_scaled", "vol scaled")
    assert rows["vol_window_bars"].text == "4"
    assert rows["vol_reference"].text == "30 %"
    many = simulate_many(goog.prices.iloc[:200], [result.config])
    assert set(NEW_FIELDS) <= set(many.columns)
    assert json.loads(json.dumps(result.config.to_dict()))["threshold_mode"] == "vol_scaled"


def test_volatility_inputs_share_one_series_per_window():
    close = np.array(alternating(30))
    configs = [vol_config(vol_window_bars=w) for w in (4, 6, 4)] + [StrategyConfig()]
    from core.engine import volatility_inputs

    sigma, rows = volatility_inputs(close, params_matrix(configs))
    assert sigma.shape == (2, 30) and list(rows) == [0, 1, 0, -1]
    np.testing.assert_array_equal(sigma[0], K.volatility_series(close, 4, 252.0))
    assert volatility_for(close, params_row(StrategyConfig())).shape == (0,)
    with pytest.raises(ValueError, match="one window volatility per bar"):
        K.run_one(close, np.arange(30), np.ones(30, dtype=np.bool_), np.empty(0, dtype=np.int64), np.empty(0),
                  np.empty(0, dtype=np.int64), params_row(vol_config()), np.empty(0), 30,
                  np.empty((0, K.N_RECORD)), np.empty((0, K.N_DIV_RECORD)))
