"""Every stored run re-runs from the database alone to the same metrics and trades, bit for bit; the recomputed
timeline is identical to the one the original simulation produced (which is why the timeline is not stored)."""

from __future__ import annotations

import struct

import numpy as np
import pandas as pd

from core import ENGINE_VERSION, StrategyConfig, simulate
from core.data import load_sample
from storage import Store
from usecases.runs import rerun, verify_run

CONFIGS = [
    StrategyConfig(),
    StrategyConfig(trigger_up=0.05, trigger_down=0.04, sizing="fixed_fraction", trade_fraction=0.3),
    StrategyConfig(sizing="original", commission_rate=0.001, commission_min=1.0, slippage_bps=5.0,
                   fractional_shares=False, initial_stock_share=0.7),
]


def _synthetic_with_dividends() -> tuple[pd.DataFrame, pd.DataFrame]:
    idx = pd.date_range("2016-01-04", periods=1000, freq="B", name="timestamp")
    close = 50 * np.exp(np.cumsum(np.random.default_rng(3).normal(0.0002, 0.015, len(idx))))
    prices = pd.DataFrame({"close": close}, index=idx)
    prices.attrs["timezone"] = "America/New_York"
    ex = idx[60::63]
    dividends = pd.DataFrame({"ex_date": ex, "amount": np.full(len(ex), 0.35), "pay_date": ex + pd.Timedelta(days=14)})
    return prices, dividends.reset_index(drop=True)


def _bits(value: object) -> object:
    if isinstance(value, float):
        return struct.pack("<d", value)
    return value


def test_every_stored_run_reproduces_exactly(store: Store) -> None:
    originals = {}
    datasets = [store.save_dataset(load_sample(name)) for name in ("GOOG", "MSFT")]
    prices, dividends = _synthetic_with_dividends()
    datasets.append(store.save_dataset(prices, dividends, name="synthetic with dividends", symbol="SYN",
                                       price_basis="split_adjusted"))
    for dataset_id in datasets:
        frames = store.load_dataset(dataset_id)
        for config in CONFIGS:
            result = simulate(frames.prices, config, dividends=frames.dividends)
            run_id = store.save_run(dataset_id, result, name=f"{dataset_id}-{config.sizing}")
            originals[run_id] = result
    assert any(r.metrics.get("dividends_gross", 0) > 0 for r in originals.values())

    runs = store.list_runs(limit=None)
    assert {r.id for r in runs} == set(originals)
    for run in runs:
        assert run.engine_version == ENGINE_VERSION
        original = originals[run.id]
        again = rerun(store, run.id)
        assert {k: _bits(v) for k, v in again.metrics.items()} == {k: _bits(v) for k, v in run.metrics.items()}
        assert {k: _bits(v) for k, v in original.metrics.items()} == {k: _bits(v) for k, v in run.metrics.items()}
        pd.testing.assert_frame_equal(again.trades, store.get_run_trades(run.id), check_exact=True)
        pd.testing.assert_frame_equal(again.timeline, original.timeline, check_exact=True)
        pd.testing.assert_series_equal(again.equity, original.equity, check_exact=True)
        check = verify_run(store, run.id)
        assert check.identical, check.differences
    assert len(store.list_audit(action="run", limit=None)) == 2 * len(runs)


def test_a_run_of_other_bars_than_its_dataset_is_refused_and_nothing_is_stored(store: Store) -> None:
    prices, dividends = _synthetic_with_dividends()
    whole = store.save_dataset(prices, dividends, name="synthetic", symbol="SYN")
    period = prices.iloc[250:750]
    result = simulate(period, StrategyConfig(), dividends)
    try:
        store.save_run(whole, result, name="a period of it")
    except ValueError as exc:
        message = str(exc)
    else:
        raise AssertionError("a run of 500 of the dataset's 1,000 bars was stored")
    days = pd.bdate_range("2016-01-04", periods=1000).strftime("%Y-%m-%d")  # the synthetic data's calendar
    assert f"500 bars ({days[250]} to {days[749]})" in message and f"holds 1,000 ({days[0]} to {days[-1]})" in message
    assert "save the simulated period as a dataset of its own" in message
    assert store.count_runs() == 0 and not store.list_audit(entity="run")
    # the period stored as its own dataset: accepted, and its re-run is the run
    own = store.save_dataset(period, dividends, name="synthetic, a period", symbol="SYN")
    run_id = store.save_run(own, result, name="a period of it")
    assert verify_run(store, run_id).identical
