"""The repository API on both backends (SQLite file and a real PostgreSQL server)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from core.config import StrategyConfig
from storage import DEFAULT_PRESETS, ConflictError, FrozenMap, NotFound, RunFilter, Store, TrialInput


def make_prices(n: int = 300, seed: int = 0, tz: str | None = None) -> pd.DataFrame:
    idx = pd.date_range("2020-01-02", periods=n, freq="B", name="timestamp", tz=tz)
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    frame = pd.DataFrame({"open": close * 0.999, "high": close * 1.01, "low": close * 0.99, "close": close,
                          "volume": rng.integers(1000, 5000, n).astype(float)}, index=idx)
    return frame


def make_dividends() -> pd.DataFrame:
    return pd.DataFrame({
        "ex_date": pd.to_datetime(["2020-03-02", "2020-06-01"]),
        "amount": [0.5, 0.51],
        "pay_date": pd.to_datetime(["2020-03-16", pd.NaT]),
    })


def fake_result(metrics: dict[str, float], n_trades: int = 3) -> SimpleNamespace:
    trades = pd.DataFrame({
        "timestamp": pd.date_range("2020-01-02", periods=n_trades, freq="D"),
        "kind": pd.array(["initial"] + ["rebalance"] * (n_trades - 1), dtype="str"),
        "qty": np.linspace(1.5, 3.0, n_trades),
    })
    return SimpleNamespace(config=StrategyConfig(), metrics=metrics, trades=trades, engine_version="test-1")


@pytest.fixture
def dataset_id(store: Store) -> int:
    return store.save_dataset(make_prices(), make_dividends(), name="Synthetic", symbol="SYN", source="csv")


def test_dataset_roundtrip_is_exact_and_idempotent(store: Store) -> None:
    prices = make_prices(tz="America/New_York")
    prices.attrs["timezone"] = "America/New_York"
    dividends = make_dividends()
    first = store.save_dataset(prices, dividends, name="SYN daily", symbol="SYN", source="csv", interval="1d",
                               price_basis="split_adjusted")
    assert store.save_dataset(prices, dividends, name="SYN daily", symbol="SYN") == first
    other = store.save_dataset(prices, dividends, name="renamed", symbol="SYN")
    assert other != first
    info = store.get_dataset(first)
    assert (info.name, info.symbol, info.source, info.n_rows, info.n_dividends) == ("SYN daily", "SYN", "csv", 300, 2)
    assert info.first_timestamp == prices.index[0].tz_convert("UTC").to_pydatetime()
    assert len(info.sha256) == 64
    assert store.find_dataset(info.sha256, "SYN daily") == info
    loaded = store.load_dataset(first)
    pd.testing.assert_frame_equal(loaded.prices, prices, check_exact=True, check_freq=True)
    pd.testing.assert_frame_equal(loaded.dividends, dividends, check_exact=True)
    assert loaded.prices.attrs["timezone"] == "America/New_York"
    assert loaded == store.load_dataset(first)
    assert [d.id for d in store.list_datasets()] == [other, first]


def test_market_data_roundtrip(store: Store) -> None:
    from core.data import load_sample

    md = load_sample("GOOG")
    dataset_id = store.save_dataset(md)
    info = store.get_dataset(dataset_id)
    assert info.sha256 == md.sha256()
    assert (info.source, info.symbol, info.price_basis) == (md.source, md.symbol, md.price_basis)
    back = store.load_market_data(dataset_id)
    assert back.sha256() == md.sha256()
    pd.testing.assert_frame_equal(back.prices, md.prices, check_exact=True)
    pd.testing.assert_frame_equal(back.dividends, md.dividends, check_exact=True)


def test_dataset_in_use_cannot_be_deleted(store: Store, dataset_id: int) -> None:
    run_id = store.save_run(dataset_id, fake_result({"sharpe": 1.0}))
    with pytest.raises(ConflictError, match="delete those first"):
        store.delete_dataset(dataset_id)
    store.delete_run(run_id)
    store.delete_dataset(dataset_id)
    with pytest.raises(NotFound):
        store.get_dataset(dataset_id)


def test_run_roundtrip(store: Store, dataset_id: int) -> None:
    metrics = {"total_return": 0.1234567890123, "sharpe": math.nan, "profit_factor": math.inf, "n_trades": 3.0,
               "cagr": -0.0, "max_drawdown": -0.25}
    result = fake_result(metrics)
    config = StrategyConfig(trigger_up=0.041, max_trade_share=0.3)
    run_id = store.save_run(dataset_id, result, config=config, name="first", tags=["a", "b", "a"], notes="n")
    run = store.get_run(run_id)
    assert run.config == config
    assert run.tags == ("a", "b")
    assert run.engine_version == "test-1"
    assert run.n_trades == 3
    assert run.metrics == FrozenMap(metrics)  # NaN equals NaN, bits preserved
    assert math.copysign(1, run.metrics["cagr"]) == -1
    assert run.metrics["total_return"] == 0.1234567890123
    assert run == store.get_run(run_id) and hash(run) == hash(store.get_run(run_id))
    assert len({run, store.get_run(run_id)}) == 1
    pd.testing.assert_frame_equal(store.get_run_trades(run_id), result.trades, check_exact=True)
    assert run.created_at.tzinfo is not None and abs(run.created_at - datetime.now(UTC)) < timedelta(minutes=5)


def test_list_runs_filter_sort_limit(store: Store, dataset_id: int) -> None:
    other = store.save_dataset(make_prices(seed=5), name="Other", symbol="OTH")
    sharpes = [0.5, math.nan, 2.0, -1.0, 1.5]
    ids = [
        store.save_run(dataset_id, fake_result({"sharpe": s, "total_return": i / 10}), name=f"Run {i}",
                       tags=["grid"] if i % 2 else ["manual"])
        for i, s in enumerate(sharpes)
    ]
    other_run = store.save_run(other, fake_result({"sharpe": 9.0}), name="elsewhere")
    by_sharpe = store.list_runs({"dataset_id": dataset_id}, sort="-sharpe", limit=None)
    assert [r.id for r in by_sharpe] == [ids[2], ids[4], ids[0], ids[3], ids[1]]  # NaN last
    ascending = store.list_runs(RunFilter(dataset_id=dataset_id), sort="sharpe", limit=None)
    assert [r.id for r in ascending] == [ids[3], ids[0], ids[4], ids[2], ids[1]]  # NaN last here too
    assert [r.id for r in store.list_runs(sort="-sharpe", limit=2)] == [other_run, ids[2]]
    assert [r.id for r in store.list_runs(sort="-sharpe", limit=2, offset=1)] == [ids[2], ids[4]]
    assert {r.id for r in store.list_runs({"tag": "grid"}, limit=None)} == {ids[1], ids[3]}
    assert [r.id for r in store.list_runs({"name_contains": "run 3"})] == [ids[3]]
    assert {r.id for r in store.list_runs({"min_sharpe": 1.0})} == {ids[2], ids[4], other_run}
    assert store.count_runs({"dataset_id": dataset_id}) == 5
    assert store.list_runs(sort="-created_at", limit=1)[0].id == other_run
    future = datetime.now(UTC) + timedelta(days=1)
    assert store.list_runs({"created_after": future}) == []
    assert len(store.list_runs({"created_before": future}, limit=None)) == 6
    with pytest.raises(ValueError, match="cannot sort by"):
        store.list_runs(sort="bogus")


def test_update_and_delete_run(store: Store, dataset_id: int) -> None:
    run_id = store.save_run(dataset_id, fake_result({"sharpe": 1.0}), name="old")
    updated = store.update_run(run_id, name="new", tags=["x"], notes="hello")
    assert (updated.name, updated.tags, updated.notes) == ("new", ("x",), "hello")
    store.delete_run(run_id)
    with pytest.raises(NotFound, match="no run with id"):
        store.get_run(run_id)
    with pytest.raises(NotFound):
        store.get_run_trades(run_id)
    with pytest.raises(NotFound):
        store.delete_run(run_id)
    actions = [(e.action, e.entity, e.entity_id) for e in store.list_audit(entity="run")]
    assert actions == [("delete", "run", str(run_id)), ("update", "run", str(run_id)), ("create", "run", str(run_id))]
    assert store.list_audit(entity="run")[0].actor == "tester"


def test_study_lifecycle(store: Store, dataset_id: int) -> None:
    base = StrategyConfig(trigger_down=0.02)
    study_id = store.create_study(
        dataset_id, search_space={"trigger_up": {"low": 0.01, "high": 0.1, "step": 0.01}}, method="grid",
        objective={"metric": "sharpe", "direction": "max"}, constraints=[{"metric": "max_drawdown", "min": -0.5}],
        seed=42, name="Sweep", base_config=base, n_planned=10,
    )
    study = store.get_study(study_id)
    assert (study.status, study.seed, study.n_planned, study.base_config, study.n_trials) == ("draft", 42, 10, base, 0)
    assert study.search_space["trigger_up"]["high"] == 0.1
    assert hash(study) == hash(store.get_study(study_id))
    assert store.set_study_status(study_id, "running").started_at is not None
    assert store.set_study_status(study_id, "paused").status == "paused"
    resumed = store.set_study_status(study_id, "running")
    assert resumed.started_at == study.started_at or resumed.started_at is not None
    done = store.set_study_status(study_id, "completed")
    assert done.finished_at is not None
    with pytest.raises(ConflictError, match="cannot become running"):
        store.set_study_status(study_id, "running")
    with pytest.raises(ValueError):
        store.set_study_status(study_id, "exploded")
    assert [s.id for s in store.list_studies(dataset_id=dataset_id, status="completed")] == [study_id]
    # The audit log records every run: the start and the resume each left a "run" line.
    runs = store.list_audit(entity="study", entity_id=study_id, action="run", limit=None)
    assert [e.details["from"] for e in runs] == ["paused", "draft"]
    store.delete_study(study_id)
    with pytest.raises(NotFound):
        store.get_study(study_id)


def test_trials_save_idempotent_and_unique(store: Store, dataset_id: int) -> None:
    study_id = store.create_study(dataset_id, search_space={}, method="random", objective="sharpe")
    rows = [
        TrialInput(index=i, params={"trigger_up": 0.01 * (i + 1)},
                   metrics={"sharpe": [1.0, math.nan, 3.0, -2.0][i], "n_trades": i}, duration_s=0.01 * i)
        for i in range(4)
    ]
    assert store.save_trials(study_id, rows) == 4
    assert store.save_trials(study_id, rows) == 0  # already there: skipped
    failed = {"index": 4, "params": {"trigger_up": 0.5}, "status": "failed", "error": "boom"}
    assert store.save_trials(study_id, [rows[0], failed]) == 1
    with pytest.raises(ConflictError, match="already stored"):
        store.save_trials(study_id, [rows[1], {"index": 99, "params": {}}], on_conflict="error")
    assert store.count_trials(study_id) == 5  # the failed batch wrote nothing, not even index 99
    changed = TrialInput(index=0, params={"trigger_up": 0.01}, metrics={"sharpe": 10.0})
    assert store.save_trials(study_id, [changed], on_conflict="update") == 1
    assert store.trial_indices(study_id) == {0, 1, 2, 3, 4}
    assert store.count_trials(study_id, status="failed") == 1
    assert store.get_study(study_id).counts == {"completed": 4, "failed": 1}
    listed = list(store.iter_trials(study_id, batch_size=2))
    assert [t.index for t in listed] == [0, 1, 2, 3, 4]
    assert listed[0].metrics == {"sharpe": 10.0}
    assert listed[1].metrics == FrozenMap({"sharpe": math.nan, "n_trades": 1})
    assert listed[4].error == "boom" and listed[4].status == "failed"
    assert listed == list(store.iter_trials(study_id))
    frame = store.list_trials(study_id, sort="-sharpe")
    assert list(frame["index"]) == [0, 2, 3, 1, 4]  # NaN and missing last
    assert list(store.list_trials(study_id, sort="sharpe", limit=2)["index"]) == [3, 2]
    assert list(store.list_trials(study_id, sort="-param.trigger_up")["index"])[:1] == [4]
    assert "param.trigger_up" in frame.columns
    fast = store.list_trials(study_id, sort="-sharpe", full=False)
    assert list(fast["index"]) == [0, 2, 3, 1, 4]
    assert list(fast.columns) == ["index", "status", "duration_s", "total_return", "cagr", "sharpe", "max_drawdown",
                                  "n_trades"]
    assert fast["sharpe"].iloc[0] == 10.0 and math.isnan(fast["sharpe"].iloc[3])
    with pytest.raises(ValueError, match="repeats"):
        store.save_trials(study_id, [rows[0], rows[0]])
    with pytest.raises(NotFound):
        store.save_trials(10_000, rows)


def test_presets(store: Store) -> None:
    names = [p.name for p in store.list_presets()]
    assert names == list(DEFAULT_PRESETS)
    default = store.get_preset("Default")
    assert default.is_default and default.config == StrategyConfig()
    with pytest.raises(ConflictError, match="cannot be deleted"):
        store.delete_preset("Default")
    with pytest.raises(ConflictError, match="cannot be renamed"):
        store.rename_preset("Default", "Mine")
    with pytest.raises(ConflictError, match="default preset"):
        store.save_preset("Default", StrategyConfig(trigger_up=0.5), overwrite=True)
    mine = store.save_preset("  My   preset ", StrategyConfig(trigger_up=0.07))
    assert mine.name == "My preset" and not mine.is_default
    with pytest.raises(ConflictError, match="already exists"):
        store.save_preset("My preset", StrategyConfig())
    assert store.save_preset("My preset", StrategyConfig(trigger_up=0.08), overwrite=True).config.trigger_up == 0.08
    assert store.rename_preset("My preset", "Renamed").name == "Renamed"
    with pytest.raises(NotFound):
        store.get_preset("My preset")
    store.delete_preset("Renamed")
    assert [p.name for p in store.list_presets()] == list(DEFAULT_PRESETS)
    assert Store(store.url).list_presets() == store.list_presets()  # seeding again changes nothing


def test_audit_log(store: Store) -> None:
    entry_id = store.record_audit("export", "run", 7, {"format": "xlsx"})
    entry = store.list_audit(limit=1)[0]
    assert (entry.id, entry.action, entity_id := entry.entity_id, entry.details) == (
        entry_id, "export", "7", FrozenMap(format="xlsx"))
    assert entity_id == "7"
    assert store.list_audit(action="export") == [entry]
    with pytest.raises(ValueError, match="audit action"):
        store.record_audit("hack", "run")


def test_value_objects_hash_and_equality() -> None:
    a = FrozenMap({"x": math.nan, "y": [1, {"z": 2.0}]})
    b = FrozenMap({"y": (1, {"z": 2.0}), "x": float("nan")})
    assert a == b and hash(a) == hash(b)
    assert a != FrozenMap({"x": 1.0, "y": [1, {"z": 2.0}]})
    assert a.to_dict()["y"] == [1, {"z": 2.0}]
    t1 = TrialInput(index=1, params={"a": 1.0}, metrics={"m": math.nan})
    t2 = TrialInput(index=1, params={"a": 1.0}, metrics={"m": math.nan})
    assert t1 == t2 and hash(t1) == hash(t2) and len({t1, t2}) == 1
    with pytest.raises(TypeError):
        a["x"] = 1  # type: ignore[index]


def test_a_nul_in_a_filter_is_refused_on_every_backend(store: Store) -> None:
    from storage.values import RunFilter

    for field in ("name_contains", "tag", "engine_version"):
        with pytest.raises(ValueError, match="NUL character"):
            store.list_runs({field: "ab\x00c"})
        with pytest.raises(ValueError, match="NUL character"):
            store.count_runs(RunFilter(**{field: "\x00"}))
    assert store.list_runs({"name_contains": "abc"}) == []  # an ordinary filter still works


def test_a_sqlite_file_deleted_or_replaced_under_the_store_stops_it(tmp_path) -> None:
    import shutil

    from storage import StoreUnavailable
    from storage.database import dispose_engine

    path = tmp_path / "gone.sqlite3"
    url = f"sqlite:///{path}"
    store = Store(url, actor="tester")
    try:
        store.record_audit("export", "run", 1, {})
        copy = tmp_path / "copy.sqlite3"
        shutil.copy(path, copy)
        path.unlink()
        with pytest.raises(StoreUnavailable, match="was deleted while it was in use"):
            store.record_audit("export", "run", 2, {})
        assert not path.exists()  # nothing silently re-created an empty database
        copy.rename(path)  # a different file (another inode) at the same place
        with pytest.raises(StoreUnavailable, match="was replaced by another file"):
            store.list_audit(limit=None)
    finally:
        dispose_engine(url)
    # Opened again, the restored file is used normally.
    again = Store(url, actor="tester")
    try:
        assert len(again.list_audit(action="export", limit=None)) == 1
    finally:
        dispose_engine(url)
