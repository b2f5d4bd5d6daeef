"""Fractions named as fractions (migration 0006_share_names): a run, a preset, a study and its trials, a position
and a portfolio stored under the earlier names ``initial_stock_pct``, ``max_trade_pct`` and ``pct_time_in_band``
read back under the new ones and re-run bit for bit; the earlier names are still read from outside the store."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from alembic import command

from core import ConfigError, StrategyConfig, simulate
from core.data.samples import load_sample
from storage import Store
from storage.database import get_engine, run_transaction
from storage.migrate import alembic_config, upgrade
from usecases.runs import verify_run

OLD = {"initial_stock_share": "initial_stock_pct", "max_trade_share": "max_trade_pct",
       "time_in_band_share": "pct_time_in_band"}


def _to_old_names(text: str) -> str:
    for new, old in OLD.items():
        text = text.replace(new, old)
    return text


def test_rows_stored_under_the_earlier_names_are_renamed_and_rerun_identically(db_url: str) -> None:
    md = load_sample("GOOG")
    cfg = StrategyConfig(initial_stock_share=0.6, max_trade_share=0.2)
    with Store(db_url) as store:
        dataset = store.save_dataset(md)
        run_id = store.save_run(dataset, simulate(md.prices, cfg, md.dividends), name="old names")
    engine = get_engine(db_url)

    def back_to_0005(conn: sa.Connection) -> None:
        command.downgrade(alembic_config(conn), "0005_dividend_key")
        for table, column in (("runs", "config"), ("runs", "metrics")):
            for row in conn.execute(sa.text(f"SELECT id, {column} FROM {table}")).all():
                conn.execute(sa.text(f"UPDATE {table} SET {column} = :v WHERE id = :id"),
                             {"v": _to_old_names(row[1]), "id": row[0]})

    run_transaction(engine, back_to_0005, write=True)
    stored = run_transaction(engine, lambda c: c.execute(sa.text("SELECT config, metrics FROM runs")).one(),
                             write=False)
    assert "initial_stock_pct" in stored[0] and "pct_time_in_band" in stored[1]  # as an older version wrote them
    assert upgrade(engine) is True
    with Store(db_url) as store:
        record = store.get_run(run_id)
        assert record.config.initial_stock_share == 0.6 and record.config.max_trade_share == 0.2
        assert "time_in_band_share" in record.metrics and "pct_time_in_band" not in record.metrics
        check = verify_run(store, run_id)
    assert check.identical, check.differences


def test_earlier_names_are_read_from_outside_the_store() -> None:
    cfg = StrategyConfig.from_dict({"initial_stock_pct": 0.7, "max_trade_pct": 0.1})
    assert (cfg.initial_stock_share, cfg.max_trade_share) == (0.7, 0.1)
    assert StrategyConfig().replace(initial_stock_pct=0.3).initial_stock_share == 0.3
    with pytest.raises(ConfigError, match="earlier name of initial_stock_share"):
        StrategyConfig.from_dict({"initial_stock_pct": 0.7, "initial_stock_share": 0.6})
    assert json.dumps(StrategyConfig().to_dict()).count("_pct") == 0


def test_the_cli_and_the_api_still_take_the_earlier_names() -> None:
    from api.schemas import ConfigModel, to_config
    from cli.main import parse_settings

    assert parse_settings(["initial_stock_pct=0.4"]) == {"initial_stock_share": 0.4}
    assert to_config(ConfigModel.model_validate({"max_trade_pct": 0.25})).max_trade_share == 0.25
    assert to_config(ConfigModel.model_validate({"max_trade_share": 0.25})).max_trade_share == 0.25
