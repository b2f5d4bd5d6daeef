"""The Dask executor on an in-process LocalCluster gives exactly the local executor's results."""

from __future__ import annotations

import numpy as np
import pytest
from optimize_helpers import make_prices, trial_tuples

from core.config import StrategyConfig
from core.engine import prepare
from core.optimize import DaskExecutor, LocalExecutor, Objective, SearchSpace
from usecases.studies import create_study, run_study

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    # tcp on 127.0.0.1 (not inproc): the data and the tasks really cross a socket, as on a real cluster.
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
                                       host="127.0.0.1", scheduler_port=0,
                                       dashboard_address=None)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_dask_equals_local(client, store, dataset_id) -> None:
    space = SearchSpace.parse({"trigger_up": "0.01:0.06:0.01", "sizing": "proportional,original,fixed_fraction",
                               "guardrail_min": "0.2,0.8"}, StrategyConfig())
    prices, dividends = make_prices()
    bars = prepare(prices, dividends)
    params = space.params_for(space.choices(np.arange(space.size)))
    local, remote = LocalExecutor(), DaskExecutor(client, chunk=7)
    for ex in (local, remote):
        ex.start(bars)
    try:
        assert np.array_equal(local.evaluate(params), remote.evaluate(params), equal_nan=True)
    finally:
        remote.close()
        local.close()

    ids = [create_study(store, dataset_id, space, Objective("sharpe"), method="grid") for _ in range(2)]
    run_study(store, ids[0], executor=LocalExecutor())
    run_study(store, ids[1], executor=DaskExecutor(client, chunk=5), batch_size=11)
    assert trial_tuples(store, ids[0]) == trial_tuples(store, ids[1])
    assert store.get_study(ids[1]).status == "completed"


def test_cli_with_a_scheduler_address(client, db_url) -> None:
    import io

    from cli.main import main

    out, err = io.StringIO(), io.StringIO()
    address = client.scheduler.address
    assert address.startswith("tcp://127.0.0.1:")
    code = main(["optimize", "--data", "GOOG", "--start", "2012-01-01", "--database", db_url, "--param",
                 "trigger_up=0.02:0.05:0.01", "--executor", "dask", "--scheduler", address, "--top", "2"],
                stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    assert "4 trials run" in out.getvalue() and "top 2" in out.getvalue()
