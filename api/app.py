"""The FastAPI application: settings from the environment, the store, authentication, limits and the routes.

``create_app(settings)`` builds one application; :mod:`api.__main__` serves it with uvicorn. The store is the
app's (``VBL_DATABASE_URL``), opened on the first request that needs it, so an unreachable database is a 503
problem on that request instead of a server that will not start.
"""

from __future__ import annotations

import hmac
import os
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from starlette.middleware.cors import CORSMiddleware

from api import problems
from api.body_limit import LIMIT_VAR, BodyLimit
from usecases.store import ENV_VAR, Store, default_database_url

TOKEN_VAR = "VBL_API_TOKEN"
MAX_UPLOAD_VAR = LIMIT_VAR
CORS_VAR = "VBL_API_CORS_ORIGINS"
DEFAULT_MAX_UPLOAD_MB = 50.0
API_VERSION = "1"
PROBE_PATHS = frozenset({"/health", "/ready"})


@dataclass(frozen=True)
class Settings:
    """How the API runs. ``token``: when set, every request needs ``Authorization: Bearer <token>``."""

    database_url: str = ""
    token: str | None = None
    max_upload_bytes: int = int(DEFAULT_MAX_UPLOAD_MB * 1024 * 1024)
    cors_origins: tuple[str, ...] = ()
    worker_log: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """``VBL_DATABASE_URL``, ``VBL_API_TOKEN``, ``VBL_API_MAX_UPLOAD_MB``, ``VBL_API_CORS_ORIGINS``."""
        env = os.environ if environ is None else environ
        raw_mb = env.get(MAX_UPLOAD_VAR, "").strip()
        try:
            mb = float(raw_mb) if raw_mb else DEFAULT_MAX_UPLOAD_MB
        except ValueError:
            raise ValueError(f"{MAX_UPLOAD_VAR} must be a number of megabytes, got {raw_mb!r}") from None
        if not mb > 0:
            raise ValueError(f"{MAX_UPLOAD_VAR} must be greater than 0, got {raw_mb!r}")
        origins = tuple(o.strip() for o in env.get(CORS_VAR, "").split(",") if o.strip())
        url = env.get(ENV_VAR, "").strip() or default_database_url()
        return cls(database_url=url, token=env.get(TOKEN_VAR, "").strip() or None,
                   max_upload_bytes=int(mb * 1024 * 1024), cors_origins=origins)


@dataclass
class AppState:
    """What the routes share: the settings, the store (opened lazily) and the worker processes started here."""

    settings: Settings
    _store: Store | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def store(self) -> Store:
        """The store, opened (and migrated) once; a failure raises the store's ``StoreError`` (a 503)."""
        with self._lock:
            if self._store is None:
                self._store = Store(self.settings.database_url, actor="api")
            return self._store

    def adopt(self, proc: subprocess.Popen[bytes]) -> None:
        """Keep a started worker and reap it when it ends (no zombie processes)."""
        self.workers.append(proc)
        threading.Thread(target=proc.wait, name=f"reap-{proc.pid}", daemon=True).start()


def state_of(request: Request) -> AppState:
    """The :class:`AppState` of the request's application."""
    return request.app.state.vbl  # type: ignore[no-any-return]


def get_store(request: Request) -> Store:
    """FastAPI dependency: the application's store."""
    return state_of(request).store()


StoreDep = Annotated[Store, Depends(get_store)]
"""A route's ``store`` parameter: the application's store."""


def _auth_failed(request: Request, token: str) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    return scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode())


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API application (settings from the environment by default)."""
    from api import (
        routes_alerts,
        routes_backtests,
        routes_datasets,
        routes_delivery,
        routes_health,
        routes_optimization,
        routes_portfolios,
        routes_position_flows,
        routes_positions,
        routes_runs,
        routes_studies,
    )

    settings = settings or Settings.from_env()
    app = FastAPI(
        title="Volatility Balancing Lab API",
        version=API_VERSION,
        description="Backtests, optimisation studies, datasets, stored runs and reports, and held positions. "
        "Errors are RFC 9457 problem details (application/problem+json).",
    )
    app.state.vbl = AppState(settings)
    problems.install(app)

    # Added first, so it runs inside the token check: an unauthenticated request is a 401 whatever its size.
    app.add_middleware(BodyLimit, max_bytes=settings.max_upload_bytes)

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Any:
        probe = request.url.path in PROBE_PATHS  # load balancers and supervisors probe without a token
        if request.method != "OPTIONS" and not probe and settings.token and _auth_failed(request, settings.token):
            return problems.problem_response(
                401, "send the API token as 'Authorization: Bearer <token>'", kind="not-authenticated",
                headers={"WWW-Authenticate": "Bearer"}, instance=request.url.path)
        return await call_next(request)

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        )

    for module in (routes_optimization, routes_backtests, routes_datasets, routes_runs, routes_studies,
                   routes_positions, routes_position_flows, routes_delivery, routes_alerts, routes_health,
                   routes_portfolios):
        app.include_router(module.router)
    return app
