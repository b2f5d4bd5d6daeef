"""``/health`` (liveness: the process answers) and ``/ready`` (readiness: the database is reachable and its schema
at the newest migration), for load balancers and the process supervisor; neither needs the API token."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from api.problems import Problem
from usecases.operations import FAIL, health_checks
from usecases.store import StoreError

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/ready")
def ready(request: Request) -> dict[str, Any]:
    """The API can serve: the database answers and is migrated (503 problem otherwise)."""
    state = request.app.state.vbl
    try:
        state.store()  # opened (and migrated) on first use, as any request would
    except StoreError as exc:
        raise Problem(503, f"database: {exc}", kind="not-ready", title="Not ready",
                      headers={"Retry-After": "5"}) from None
    checks = health_checks(state.settings.database_url, workers=False)
    failed = [c for c in checks if c.status == FAIL]
    if failed:
        raise Problem(503, "; ".join(f"{c.name}: {c.detail}" for c in failed), kind="not-ready",
                      title="Not ready", headers={"Retry-After": "5"})
    return {"status": "ready", "checks": {c.name: c.detail for c in checks}}
