"""What both websocket protocols' handlers (``ws``, ``legacy_ws``) run on: the socket
adapter whose receive loop keeps nothing between messages, the 1013 (try again later)
close of a ``connection_init`` the database could not answer, and what sending on a
connection that is gone raises."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator, Awaitable
from json import JSONDecodeError

from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.async_base_view import AsyncWebSocketAdapter
from strawberry.http.exceptions import (
    NonJsonMessageReceived,
    NonTextMessageReceived,
    WebSocketDisconnected,
)

from seqgql.persistence.database import first_line, is_unavailable

log = logging.getLogger("seqgql.graphql")
# The close code for a connection_init the database could not answer (RFC 6455's "try
# again later"): reconnect after a moment.
TRY_AGAIN_LATER = 1013
# What sending on a connection that is gone raises (uvicorn's ClientDisconnected is an
# OSError; after the server closed it, Starlette raises a RuntimeError).
SEND_FAILURES = (WebSocketDisconnected, WebSocketDisconnect, OSError, RuntimeError)


async def retry_later_if_unavailable(
    websocket: AsyncWebSocketAdapter, init: Awaitable[None]
) -> None:
    """Run a handler's ``connection_init`` handling; when the database cannot be reached
    to check the token, close the connection with ``TRY_AGAIN_LATER`` instead of failing."""
    try:
        await init
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        log.warning(
            "a websocket was told to retry: the database is unavailable: %s", first_line(exc)
        )
        with contextlib.suppress(*SEND_FAILURES):
            await websocket.close(TRY_AGAIN_LATER, "the database cannot be reached; reconnect")


class SocketAdapter(ASGIWebSocketAdapter):
    """Strawberry's websocket adapter, whose receive loop does not hold the last
    message's text while it waits for the next (~0.3 KiB for as long as a connection
    idles)."""

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object]:
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                try:
                    yield self.view.decode_json(await self.ws.receive_text())
                except JSONDecodeError as exc:
                    if not ignore_parsing_errors:
                        raise NonJsonMessageReceived from exc
        except KeyError as exc:  # a bytes message
            raise NonTextMessageReceived from exc
        except WebSocketDisconnect:
            pass
