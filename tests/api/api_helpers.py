"""Helpers of the HTTP API tests."""

from __future__ import annotations

import time
import warnings
from typing import Any

with warnings.catch_warnings():  # starlette's notice that it would prefer httpx2 is not this suite's concern
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

__all__ = ["PROBLEM", "SMALL_GRID", "TestClient", "assert_problem", "create_study", "wait_finished"]

PROBLEM = "application/problem+json"
SMALL_GRID = {"trigger_up": "0.02:0.04:0.01", "trigger_down": [0.02, 0.03]}  # 3 x 2 = 6 combinations


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """``response`` is an RFC 9457 problem with ``status`` and no traceback text; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "status", "detail"} <= set(body)
    assert "Traceback" not in response.text and 'File "' not in response.text
    return body


def create_study(client: TestClient, **overrides: Any) -> dict[str, Any]:
    """Create the small GOOG grid study (or a variant) and return the response body."""
    body = {"dataset": "GOOG", "start": "2010-01-01", "end": "2012-12-31", "search_space": SMALL_GRID,
            "constraints": ["max_drawdown>=-0.5"], **overrides}
    response = client.post("/v1/optimization/configs", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def wait_finished(client: TestClient, study_id: int, timeout: float = 60.0) -> dict[str, Any]:
    """Poll the progress endpoint until the study is finished."""
    deadline = time.monotonic() + timeout
    while True:
        progress = client.get(f"/v1/optimization/configs/{study_id}/progress").json()
        if progress["finished"]:
            return progress
        if time.monotonic() > deadline:
            raise AssertionError(f"study {study_id} did not finish: {progress}")
        time.sleep(0.1)
