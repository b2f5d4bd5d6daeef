"""Fixtures of the report tests: a temporary SQLite store holding one dataset (with a hostile name and two
dividends), two runs and a small study whose trials come from ``simulate_many``."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pandas as pd
import pytest
from report_helpers import GRID, HOSTILE_NAME, Seeded

from core import StrategyConfig, simulate, simulate_many
from core.data import MarketData, load_sample
from storage import Store, TrialInput
from storage.database import dispose_engine


def _data() -> MarketData:
    goog = load_sample("GOOG")
    dividends = pd.DataFrame(
        {
            "ex_date": pd.to_datetime(["2008-03-03", "2011-06-01"]),
            "amount": [0.5, 0.75],
            "pay_date": pd.to_datetime(["2008-03-20", pd.NaT]),
        }
    )
    return dataclasses.replace(goog, dividends=dividends, name=HOSTILE_NAME)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    url = "sqlite:///" + str(tmp_path_factory.mktemp("report-store") / "vbl.sqlite3")
    data = _data()
    with Store(url) as store:
        dataset_id = store.save_dataset(data)
        config = StrategyConfig(commission_rate=0.0005)
        run_id = store.save_run(dataset_id, simulate(data.prices, config, data.dividends),
                                name="+cmd|' /C calc'!A0", notes="@SUM(1+1)")  # fmt: skip
        run_id_2 = store.save_run(dataset_id, simulate(data.prices, StrategyConfig(sizing="original"), data.dividends),
                                  name="original sizing")  # fmt: skip
        grid = [(u, d) for u in GRID["trigger_up"] for d in GRID["trigger_down"]]
        configs = [StrategyConfig(trigger_up=u, trigger_down=d) for u, d in grid]
        frame = simulate_many(data.prices, configs, data.dividends)
        metric_names = [c for c in frame.columns if c not in StrategyConfig.__dataclass_fields__]
        study_id = store.create_study(dataset_id, search_space={k: list(v) for k, v in GRID.items()}, method="grid",
                                      objective="sharpe", name="triggers")  # fmt: skip
        store.save_trials(study_id, [
            TrialInput(index=i, params={"trigger_up": c.trigger_up, "trigger_down": c.trigger_down},
                       metrics={m: float(frame.iloc[i][m]) for m in metric_names}, duration_s=0.01)
            for i, c in enumerate(configs)
        ])  # fmt: skip
    yield Seeded(url, data, dataset_id, run_id, run_id_2, study_id)
    dispose_engine(url)


@pytest.fixture()
def store(seeded: Seeded) -> Iterator[Store]:
    with Store(seeded.url) as s:
        yield s
