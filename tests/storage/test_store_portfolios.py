"""Stored portfolios (docs/strategy.md §12) on SQLite and PostgreSQL: save, read, list, re-run identically,
re-run on the newest data, delete; bad specs and missing datasets are refused with what to do."""

from __future__ import annotations

import pandas as pd
import pytest

from core import ConfigError, StrategyConfig
from core.data.samples import load_sample
from storage import NotFound, StoredCell
from usecases.portfolios import (
    PortfolioSpec,
    cells_from_datasets,
    rerun_portfolio,
    run_portfolio,
    save_portfolio,
    verify_portfolio,
)


def _datasets(store):
    ids = []
    for name in ("INTC", "MMM"):
        md = load_sample(name)
        ids.append(store.save_dataset(md, name=name))
    return ids


def test_a_stored_portfolio_reruns_bit_for_bit(store):
    ids = _datasets(store)
    spec = PortfolioSpec.from_dict({
        "rules": {"initial_capital": 50_000.0, "cash_pool": True, "reallocation": "quarterly"},
        "cells": [{"name": "INTC", "dataset_id": ids[0], "weight": 0.45, "config": {"trigger_up": 0.05}},
                  {"name": "MMM", "dataset_id": ids[1], "weight": 0.45}],
    })
    result = run_portfolio(store, spec)
    pid = save_portfolio(store, spec, result, name="Two cells")
    record = store.get_portfolio(pid)
    assert record.name == "Two cells" and [c.name for c in record.cells] == ["INTC", "MMM"]
    assert record.cells[0].config.trigger_up == 0.05 and record.rules["reallocation"] == "quarterly"
    assert dict(record.metrics) == pytest.approx(result.metrics, nan_ok=True)
    pd.testing.assert_frame_equal(store.get_portfolio_trades(pid), result.trades)
    check = verify_portfolio(store, pid)
    assert check.identical, check.differences
    again = rerun_portfolio(store, pid)
    pd.testing.assert_series_equal(again.equity, result.equity)
    assert [p.id for p in store.list_portfolios()] == [pid]
    assert store.list_audit(entity="portfolio")[0].action in {"create", "run"}
    store.delete_portfolio(pid)
    with pytest.raises(NotFound):
        store.get_portfolio(pid)


def test_latest_data_uses_the_newest_dataset_of_each_symbol(store):
    ids = _datasets(store)
    cells = cells_from_datasets(store, ids, StrategyConfig())
    assert [c.weight for c in cells] == [0.5, 0.5]
    spec = PortfolioSpec(PortfolioSpec.from_dict({"cells": [c.to_dict() for c in cells]}).rules, cells)
    pid = save_portfolio(store, spec, run_portfolio(store, spec))
    md = load_sample("INTC")
    revised = md.prices.copy()
    revised.iloc[-1, :4] *= 1.1  # a revised last bar (open, high, low, close): the newest INTC dataset
    newer = store.save_dataset(revised, md.dividends, name="INTC revised", symbol=md.symbol, interval=md.interval)
    record = store.get_portfolio(pid)
    own = rerun_portfolio(store, pid)
    latest = rerun_portfolio(store, pid, latest_data=True)
    assert record.cells[0].dataset_id == ids[0] != newer
    assert latest.cells["INTC"].timeline["price"].iloc[-1] == pytest.approx(md.prices["close"].iloc[-1] * 1.1)
    assert own.cells["INTC"].timeline["price"].iloc[-1] == md.prices["close"].iloc[-1]
    assert latest.equity.iloc[-1] != own.equity.iloc[-1]
    assert len(latest.cells["INTC"].equity) == len(md.prices)  # cut to the shared dates


def test_bad_portfolio_specs_say_what_to_do(store):
    with pytest.raises(ConfigError, match="non-empty list"):
        PortfolioSpec.from_dict({"cells": []})
    with pytest.raises(ConfigError, match="dataset_id must be"):
        PortfolioSpec.from_dict({"cells": [{"name": "A", "dataset_id": "x", "weight": 1.0}]})
    with pytest.raises(ConfigError, match="unknown portfolio rule"):
        PortfolioSpec.from_dict({"rules": {"pool": True}, "cells": [{"dataset_id": 1, "weight": 1.0}]})
    spec = PortfolioSpec.from_dict({"cells": [{"name": "A", "dataset_id": 999, "weight": 1.0}]})
    with pytest.raises(NotFound):
        run_portfolio(store, spec)
    with pytest.raises(NotFound):
        store.save_portfolio(rules={}, cells=[StoredCell("A", 999, 1.0, StrategyConfig())], metrics={},
                             trades=pd.DataFrame(), engine_version="x")
