"""A request id for every HTTP request and websocket: the client's ``X-Request-ID`` when it
is a sensible one, else a new one. It is on the answer's headers and on every log line
written while the request runs (``logs``), with one access line per request."""

from __future__ import annotations

import contextvars
import logging
import os
import re
import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "x-request-id"
_HEADER_NAME = HEADER.encode()  # as ASGI gives it
_SENSIBLE = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")
current: contextvars.ContextVar[str] = contextvars.ContextVar("seqgql_request_id", default="-")
access = logging.getLogger("seqgql.access")


def request_id_of(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == _HEADER_NAME:
            given: str = value.decode("latin-1")
            if _SENSIBLE.fullmatch(given):
                return given
            break
    return os.urandom(16).hex()  # uuid4().hex's form, without building a UUID


class RequestIds:
    """ASGI middleware: sets the request id, puts it on the answer, logs the request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        token = current.set(request_id)
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] in ("http.response.start", "websocket.accept"):
                headers = MutableHeaders(scope=message)
                headers[HEADER] = request_id
                status = message.get("status", 101)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if scope["type"] == "http":
                access.info(
                    "%s %s %s %.1fms",
                    scope.get("method", "-"),
                    scope.get("path", "-"),
                    status,
                    (time.perf_counter() - started) * 1000,
                )
            current.reset(token)
