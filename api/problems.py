"""Errors as RFC 9457 problem details (``application/problem+json``).

Every failure the API reports is a JSON object with ``type``, ``title``, ``status``, ``detail`` and, where a field
is at fault, an ``errors`` list naming the field (``field``, ``location``, ``message``, ``range`` when the
configuration registry gives one). The engine's own errors carry the field in their message (``ConfigError``:
"trigger_up must be in (0, inf), got -0.1"); :func:`field_errors` turns that into an ``errors`` entry with the
registry's valid range. Unexpected exceptions become a 500 problem that says nothing about the internals.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.config_registry import FIELDS_BY_NAME
from core.errors import ConfigError, DataError
from core.optimize.objective import ObjectiveError
from core.optimize.space import SearchSpaceError
from usecases.store import ConflictError, FillRejected, NotFound, StoreError
from usecases.studies import StudyBusyError

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "/problems/"
log = logging.getLogger("api")

_TITLES: dict[int, str] = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Upload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    500: "Internal error",
    503: "Store unavailable",
}


class Problem(Exception):
    """An error the API reports as a problem document; raise it from a route."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        title: str | None = None,
        errors: Sequence[dict[str, Any]] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind or _slug(title or _TITLES.get(status, "error"))
        self.title = title or _TITLES.get(status, "Error")
        self.errors = list(errors)
        self.headers = headers or {}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "error"


def problem_response(
    status: int,
    detail: str,
    *,
    kind: str | None = None,
    title: str | None = None,
    errors: Iterable[dict[str, Any]] = (),
    headers: dict[str, str] | None = None,
    instance: str | None = None,
) -> JSONResponse:
    """The ``application/problem+json`` response."""
    title = title or _TITLES.get(status, "Error")
    body: dict[str, Any] = {
        "type": TYPE_BASE + (kind or _slug(title)),
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    errors = list(errors)
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


# --- field errors -----------------------------------------------------------------------------------------------

_LEADING_NAME = re.compile(r"^\s*(?:unknown parameter\s+)?['\"]?([A-Za-z_][A-Za-z0-9_]*)")


def field_entry(name: str, message: str, location: Sequence[str | int] = ()) -> dict[str, Any]:
    """One ``errors`` entry for a configuration field, with its valid range from the registry."""
    entry: dict[str, Any] = {"field": name, "location": [*location, name] if location else [name],
                             "message": message}
    field = FIELDS_BY_NAME.get(name)
    if field is not None:
        if field.numeric:
            entry["range"] = field.bounds.text()
        if field.choices:
            entry["choices"] = list(field.choices)
        entry["kind"] = field.kind
    return entry


def field_errors(message: str, location: Sequence[str | int] = ()) -> list[dict[str, Any]]:
    """``errors`` for a core message naming a configuration field first ("trigger_up must be in ..."), else a
    single entry located at ``location``."""
    match = _LEADING_NAME.match(message)
    if match and match.group(1) in FIELDS_BY_NAME:
        return [field_entry(match.group(1), message, location)]
    entry: dict[str, Any] = {"message": message}
    if location:
        entry["field"] = ".".join(str(p) for p in location)
        entry["location"] = list(location)
    return [entry]


class ConfigProblem(Problem):
    """A ``ConfigError`` (or ``SearchSpaceError``) raised where a known part of the request was being read."""

    def __init__(self, exc: ConfigError, location: Sequence[str | int] = ()) -> None:
        kind = "invalid-search-space" if isinstance(exc, SearchSpaceError) else "invalid-configuration"
        title = "Invalid search space" if isinstance(exc, SearchSpaceError) else "Invalid configuration"
        if isinstance(exc, ObjectiveError):
            kind, title = ("unknown-metric", "Unknown metric") if "unknown metric" in str(exc) else (
                "invalid-objective", "Invalid objective")
        errors = field_errors(str(exc), location)
        if isinstance(exc, ObjectiveError) and "unknown metric" in str(exc):
            from core.engine import METRIC_NAMES

            for e in errors:
                e["valid"] = list(METRIC_NAMES)
        super().__init__(422, str(exc), kind=kind, title=title, errors=errors)


def unknown_metric(name: str, location: str) -> Problem:
    """A 422 problem for a metric name that is not in ``core.engine.METRIC_NAMES``."""
    from core.engine import METRIC_NAMES

    return Problem(422, f"unknown metric {name!r}", kind="unknown-metric", title="Unknown metric",
                   errors=[{"field": location, "location": ["query", location], "message": f"unknown metric {name!r}",
                            "valid": list(METRIC_NAMES)}])


# --- handlers ---------------------------------------------------------------------------------------------------


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = [p for p in err.get("loc", ()) if p not in ("body",)]
        name = str(loc[-1]) if loc else ""
        entry = field_entry(name, str(err.get("msg", "invalid value")), [str(p) for p in loc[:-1]])
        entry["location"] = [str(p) for p in err.get("loc", ())]
        entry["field"] = ".".join(str(p) for p in loc) if loc else "body"
        out.append(entry)
    return out


def install(app: FastAPI) -> None:
    """Register the problem handlers on ``app``."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc.status, exc.detail, kind=exc.kind, title=exc.title, errors=exc.errors,
                                headers=exc.headers or None, instance=request.url.path)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = _validation_errors(exc)
        fields = ", ".join(e["field"] for e in errors[:5])
        return problem_response(422, f"the request is not valid: {fields}", kind="validation-error",
                                title="Invalid request", errors=errors, instance=request.url.path)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "error")
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such endpoint: {request.method} {request.url.path}"
        return problem_response(exc.status_code, detail, headers=getattr(exc, "headers", None),
                                instance=request.url.path)

    async def on_config(request: Request, exc: Exception) -> JSONResponse:
        problem = exc if isinstance(exc, ConfigProblem) else ConfigProblem(exc)  # type: ignore[arg-type]
        return await on_problem(request, problem)

    async def on_data(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(422, str(exc), kind="invalid-data", title="Invalid market data",
                                instance=request.url.path)

    async def on_not_found(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(404, str(exc), instance=request.url.path)

    async def on_rejected(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(422, str(exc), kind="fill-rejected", title="Fill rejected",
                                instance=request.url.path)

    async def on_conflict(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(409, str(exc), instance=request.url.path)

    async def on_store(request: Request, exc: Exception) -> JSONResponse:
        # The store's messages say what to do and mask any password; they name no code.
        return problem_response(503, str(exc), kind="store-unavailable", instance=request.url.path,
                                headers={"Retry-After": "5"})

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem_response(500, "the server could not complete the request; the error was logged",
                                instance=request.url.path)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(ConfigError, on_config)
    app.add_exception_handler(DataError, on_data)
    app.add_exception_handler(NotFound, on_not_found)
    app.add_exception_handler(FillRejected, on_rejected)
    app.add_exception_handler(ConflictError, on_conflict)
    app.add_exception_handler(StudyBusyError, on_conflict)
    app.add_exception_handler(StoreError, on_store)
    app.add_exception_handler(Exception, on_unexpected)
