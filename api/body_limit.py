"""The request body cap: a pure ASGI middleware that counts the body's bytes as they arrive.

A declared ``Content-Length`` above the limit is refused before the application runs. A body without one (chunked
transfer encoding) is counted message by message while the route reads it: the message that crosses the limit
raises :class:`BodyTooLarge` instead of being handed on, so nothing beyond the limit is ever buffered. The
exception is an ``HTTPException`` (413) on purpose: FastAPI re-raises HTTP exceptions met while parsing a body
(anything else becomes a 400), and the problem handlers then answer it like every other error. Should a route
read the body itself outside that path, the middleware answers the 413 itself.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import problems

LIMIT_VAR = "VBL_API_MAX_UPLOAD_MB"


class BodyTooLarge(HTTPException):
    """The request body exceeded the limit (status 413, the detail naming the limit)."""

    def __init__(self, limit: int, declared: int | None = None) -> None:
        size = f"has {declared:,} bytes, more than" if declared is not None else "exceeds"
        super().__init__(413, f"the request body {size} the limit of {limit:,} bytes ({LIMIT_VAR})")


def declared_length(scope: Scope) -> int | None:
    """The request's ``Content-Length`` (``None`` when absent or not a number)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


class BodyLimit:
    """Refuse HTTP request bodies above ``max_bytes`` with a 413 problem, declared or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send, BodyTooLarge(self.max_bytes, declared))
            return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge as exc:
            if started:  # too late for a status; let the server drop the connection
                raise
            await self._refuse(scope, receive, send, exc)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, exc: BodyTooLarge) -> None:
        # The rest of the body is left unread. No "Connection: close": uvicorn would close at once and a client
        # still sending would see a reset instead of this answer; it discards what follows and then closes an
        # idle connection after its keep-alive timeout.
        response = problems.problem_response(413, str(exc.detail), instance=scope.get("path"))
        await response(scope, receive, send)
