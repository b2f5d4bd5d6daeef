"""``/v1/portfolios`` (docs/strategy.md §12): backtest, store, list, show, re-run, delete; bad bodies are 422
problem+json naming the field."""

from __future__ import annotations

import pytest

from core.data.samples import load_sample
from usecases.portfolios import PortfolioSpec, run_portfolio


def _ids(store):
    return [store.save_dataset(load_sample(name)) for name in ("INTC", "MMM", "COST")]


def test_a_three_cell_portfolio_over_http_equals_the_use_case(client, store):
    ids = _ids(store)
    body = {"rules": {"initial_capital": 90_000.0, "cash_pool": True, "reallocation": "band"},
            "cells": [{"name": n, "dataset_id": i, "weight": 0.3, "config": {"trigger_up": 0.04}}
                      for n, i in zip(("INTC", "MMM", "COST"), ids, strict=True)],
            "save": True, "name": "three", "include_equity": True}
    r = client.post("/v1/portfolios", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    expected = run_portfolio(store, PortfolioSpec.from_dict({"rules": body["rules"], "cells": body["cells"]}))
    assert out["metrics"]["total_return"] == pytest.approx(expected.metrics["total_return"], rel=1e-15)
    assert out["weights"] == {"INTC": 0.3, "MMM": 0.3, "COST": 0.3, "pool": pytest.approx(0.1)}
    assert [c["cell"] for c in out["contributions"]] == ["INTC", "MMM", "COST"]
    assert out["equity"][-1]["equity"] == pytest.approx(expected.equity.iloc[-1], rel=1e-12)
    pid = out["id"]
    listed = client.get("/v1/portfolios").json()["items"]
    assert [p["id"] for p in listed] == [pid] and listed[0]["name"] == "three"
    detail = client.get(f"/v1/portfolios/{pid}").json()
    assert len(detail["trades"]) == len(expected.trades) and detail["trades"][0]["cell"] == "INTC"
    assert client.post(f"/v1/portfolios/{pid}/rerun").json() == {"id": pid, "identical": True, "differences": []}
    assert client.delete(f"/v1/portfolios/{pid}").status_code == 204
    gone = client.get(f"/v1/portfolios/{pid}")
    assert gone.status_code == 404 and gone.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"cells": []}, "cells"),
        ({"cells": [{"dataset_id": 1, "weight": "half"}]}, "weight"),
        ({"rules": {"reallocation": "weekly"}, "cells": [{"dataset_id": 1, "weight": 1.0}]}, "reallocation"),
        ({"rules": {"pool": True}, "cells": [{"dataset_id": 1, "weight": 1.0}]}, "pool"),
    ],
)
def test_bad_bodies_are_problems_that_name_the_field(client, body, needle):
    r = client.post("/v1/portfolios", json=body)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert needle in r.text


def test_weights_that_do_not_add_up_and_missing_datasets_say_what_to_do(client, store):
    ids = _ids(store)
    r = client.post("/v1/portfolios", json={"cells": [{"dataset_id": ids[0], "weight": 0.5},
                                                      {"dataset_id": ids[1], "weight": 0.3}]})
    assert r.status_code == 422 and "cash pool" in r.json()["detail"]
    r = client.post("/v1/portfolios", json={"cells": [{"dataset_id": 9999, "weight": 1.0}]})
    assert r.status_code == 404 and "9999" in r.json()["detail"]
