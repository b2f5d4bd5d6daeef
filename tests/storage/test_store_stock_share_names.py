"""Stock shares named as shares (migration 0007_stock_share_columns): a run's and a portfolio's trade tables and a
proposed order stored under the earlier names ``asset_pct_after`` and ``projected_asset_pct`` read back under the new
ones, with every number unchanged, and the stored run re-runs bit for bit. Downgrading restores the earlier names."""

from __future__ import annotations

import importlib

import pandas as pd
import sqlalchemy as sa
from alembic import command
from engine_helpers import NO_COSTS

from core import StrategyConfig, simulate
from core.advisor import evaluate
from core.data.samples import load_sample
from storage import Store, codec
from storage.database import get_engine, run_transaction
from storage.migrate import alembic_config, upgrade
from usecases.ledger import ledger
from usecases.portfolios import PortfolioSpec, run_portfolio, save_portfolio
from usecases.runs import verify_run

MIGRATION = importlib.import_module("storage.migrations.versions.0007_stock_share_columns")


def _stored(db_url: str, sql: str) -> object:
    """The one value ``sql`` selects."""
    return run_transaction(get_engine(db_url), lambda c: c.execute(sa.text(sql)).scalar_one(), write=False)


def _columns(blob: bytes) -> list[str]:
    return list(codec.decode_frame(blob).columns)


def test_trade_tables_and_orders_stored_under_the_earlier_names_are_renamed(db_url: str) -> None:
    md = load_sample("GOOG")
    with Store(db_url) as store:
        dataset = store.save_dataset(md, name="GOOG")
        run_id = store.save_run(dataset, simulate(md.prices, StrategyConfig(), md.dividends), name="old names")
        run_trades = store.get_run_trades(run_id)
        spec = PortfolioSpec.from_dict({"cells": [{"name": "GOOG", "dataset_id": dataset, "weight": 1.0}]})
        portfolio_id = save_portfolio(store, spec, run_portfolio(store, spec))
        portfolio_trades = store.get_portfolio_trades(portfolio_id)
        position = ledger(store).create("goog", StrategyConfig(**NO_COSTS), shares=50.0, cash=5000.0, anchor=100.0)
        decision = evaluate(position.state, 90.0, position.config, "2024-01-03")
        order_id = ledger(store).propose_order(position.id, decision).id
    assert "stock_share_after" in run_trades.columns and "stock_share_after" in portfolio_trades.columns

    run_transaction(get_engine(db_url), lambda c: command.downgrade(alembic_config(c), "0006_share_names"),
                    write=True)
    # As an older version stored them: the earlier column names, the same buffers.
    blob, pblob = _stored(db_url, "SELECT data FROM run_trades"), _stored(db_url, "SELECT data FROM portfolio_trades")
    assert "asset_pct_after" in _columns(blob) and "stock_share_after" not in _columns(blob)
    assert "asset_pct_after" in _columns(pblob)
    assert _stored(db_url, "SELECT projected_asset_pct FROM position_orders") == decision.projected_stock_share

    assert upgrade(get_engine(db_url)) is True
    with Store(db_url) as store:
        pd.testing.assert_frame_equal(store.get_run_trades(run_id), run_trades)
        pd.testing.assert_frame_equal(store.get_portfolio_trades(portfolio_id), portfolio_trades)
        assert ledger(store).get_order(order_id).projected_stock_share == decision.projected_stock_share
        check = verify_run(store, run_id)
    assert check.identical, check.differences


def test_a_frame_without_the_earlier_names_is_left_alone() -> None:
    frame = pd.DataFrame({"qty": [1.0], "stock_share_after": [0.5]})
    assert MIGRATION.rename_frame_columns(codec.encode_frame(frame), MIGRATION.RENAMES) is None
    old = codec.encode_frame(frame.rename(columns={"stock_share_after": "asset_pct_after"}))
    renamed = codec.decode_frame(MIGRATION.rename_frame_columns(old, MIGRATION.RENAMES))
    pd.testing.assert_frame_equal(renamed, frame)
