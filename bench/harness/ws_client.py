"""A minimal graphql-transport-ws client: one websocket, one subscription.

websockets' sans-I/O protocol on a plain asyncio transport (uvloop's too), no
compression, so that a message costs the client as little CPU as possible. A message is
timestamped (measure.now, CLOCK_MONOTONIC) when its bytes are read from the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any, cast

from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from bench.harness.measure import now


class Subscription(asyncio.Protocol):
    """Connects, sends connection_init with the token, subscribes (id "1") once
    acknowledged, answers pings. A subclass gets each result's data in on_data(), is told
    of the acknowledgement in on_ack() and of the end in on_end(), and counts the
    problems it is told of in error(). ``ready`` is for the subclass to resolve; it fails
    if the connection fails or ends first."""

    offer_deflate = False  # set for the whole client process (``subscribers``)

    def __init__(
        self, host: str, port: int, token: str, query: str, variables: dict[str, Any]
    ) -> None:
        self.token, self.query, self.variables = token, query, variables
        self.ws = ClientProtocol(
            parse_uri(f"ws://{host}:{port}/graphql"),
            subprotocols=[Subprotocol("graphql-transport-ws")],
            max_size=2**24,
            # as browsers do: permessage-deflate offered (``--deflate``)
            extensions=[ClientPerMessageDeflateFactory()] if self.offer_deflate else None,
        )
        self.transport: asyncio.Transport | None = None
        loop = asyncio.get_running_loop()
        self.ready: asyncio.Future[None] = loop.create_future()
        self.lost: asyncio.Future[None] = loop.create_future()
        self.fragments: list[bytes] = []
        self.closing = False  # we are closing it
        self.ended = False  # the server ended the subscription or the connection

    # ------------------------------------------------------------------ for subclasses
    def on_data(self, data: dict[str, Any], received: float) -> None:
        """A result without errors."""

    def on_ack(self) -> None:
        """The server acknowledged the connection; the subscription has been sent."""

    def on_end(self) -> None:
        """The server ended the subscription or the connection (error() was told why)."""

    def error(self, reason: str) -> None:
        """Something went wrong: a failure, an error result, an unexpected message."""

    # ------------------------------------------------------------------ transport side
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses
        self.ws.send_request(self.ws.connect())
        self.flush()

    def flush(self) -> None:
        assert self.transport is not None
        for data in self.ws.data_to_send():
            if data:
                self.transport.write(data)
            elif self.transport.can_write_eof():
                self.transport.write_eof()

    def data_received(self, data: bytes) -> None:
        try:
            self.receive(data, now())
        except Exception as exc:  # a bug or a bad message: say so, do not hang
            self.fail(f"client: {type(exc).__name__}: {exc}"[:300])

    def receive(self, data: bytes, received: float) -> None:
        self.ws.receive_data(data)
        for event in self.ws.events_received():
            if isinstance(event, Response):
                if self.ws.handshake_exc is not None:
                    self.fail(f"handshake: {self.ws.handshake_exc}")
                else:
                    payload = {"authorization": f"Bearer {self.token}"}
                    self.send({"type": "connection_init", "payload": payload})
            elif isinstance(event, Frame) and event.opcode in (Opcode.TEXT, Opcode.CONT):
                self.fragments.append(bytes(event.data))
                if event.fin:
                    message = b"".join(self.fragments)
                    self.fragments.clear()
                    self.on_message(message, received)
        self.flush()

    def eof_received(self) -> bool | None:
        self.ws.receive_eof()
        self.flush()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closing:
            code = self.ws.close_code
            reason = f"code {code} {self.ws.close_reason!r}" if code else str(exc or "eof")
            self.end(f"connection closed by the server ({reason})")
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("connection lost before it was ready"))
        if not self.lost.done():
            self.lost.set_result(None)

    # ------------------------------------------------------------------ protocol side
    def send(self, message: dict[str, Any]) -> None:
        self.ws.send_text(json.dumps(message).encode())
        self.flush()

    def fail(self, reason: str) -> None:
        self.error(reason)
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(reason))
        if self.transport is not None:
            self.transport.abort()

    def on_message(self, raw: bytes, received: float) -> None:
        message = json.loads(raw)
        kind = message.get("type")
        if kind == "next":
            payload = message.get("payload") or {}
            if payload.get("errors"):
                self.error(f"subscription error: {payload['errors']}"[:500])
                return
            self.on_data(payload["data"], received)
        elif kind == "connection_ack":
            payload = {"query": self.query, "variables": self.variables}
            self.send({"id": "1", "type": "subscribe", "payload": payload})
            self.on_ack()
        elif kind == "ping":
            self.send({"type": "pong"})
        elif kind == "error":
            self.end(f"subscription error: {message.get('payload')}"[:500])
        elif kind == "complete":
            self.end("the server completed the subscription")
        elif kind != "pong":
            self.error(f"unexpected message: {raw[:200]!r}")

    def end(self, reason: str) -> None:
        """The subscription is over before we closed it."""
        if self.closing or self.ended:
            return
        self.ended = True
        self.error(reason)
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(reason))
        self.on_end()

    async def close(self) -> None:
        self.closing = True
        if self.transport is None or self.transport.is_closing():
            return
        with contextlib.suppress(Exception):
            self.send({"id": "1", "type": "complete"})
            self.ws.send_close(1000)
            self.flush()
