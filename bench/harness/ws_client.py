"""A minimal graphql-transport-ws client: one websocket, one subscription.

websockets' sans-I/O protocol on a plain asyncio transport (uvloop's too), no
compression, so that a message costs the client as little CPU as possible. Once the
handshake is done without an extension, the server's frames are read here rather than by
websockets' parser (a server's frames are unmasked: a header, a length, the payload), and
the messages decoded by orjson: 1.5 µs a message instead of 7 (the clients share the
machine's two cores with the server, so what they spend shows in every latency). A
message is timestamped (measure.now, CLOCK_MONOTONIC) when its bytes are read from the
socket.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, cast

import orjson
from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from bench.harness.measure import now

# opcodes as plain ints (an enum member's .value is a descriptor call per frame)
TEXT_OR_CONT = (Opcode.TEXT.value, Opcode.CONT.value)
PING, PONG, CLOSE = Opcode.PING.value, Opcode.PONG.value, Opcode.CLOSE.value
FIN_TEXT = 0x80 | Opcode.TEXT.value


class Subscription(asyncio.Protocol):
    """Connects, sends connection_init with the token, subscribes (id "1") once
    acknowledged, answers pings. A subclass gets each result's data in on_data(), is told
    of the acknowledgement in on_ack() and of the end in on_end(), and counts the
    problems it is told of in error(). ``ready`` is for the subclass to resolve; it fails
    if the connection fails or ends first."""

    offer_deflate = False  # set for the whole client process (``subscribers``)
    read_directly = True  # frames read here once open (else by websockets' parser)

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
        self.direct = False  # frames read here (after a handshake without extensions)
        self.pending = b""  # the start of a frame not whole yet (direct reading)
        self.close_code: int | None = None  # the server's close frame (direct reading)
        self.close_reason = ""
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
        if self.direct:
            # the usual read: one whole unfragmented text frame of < 64 KiB (a change)
            if not self.pending and data[0] == FIN_TEXT and not self.fragments:
                size = data[1]
                if size < 126:
                    if len(data) == size + 2:
                        self.on_message(data[2:], received)
                        return
                elif size == 126 and len(data) == 4 + ((data[2] << 8) | data[3]):
                    self.on_message(data[4:], received)
                    return
            self.receive_frames(data, received)
            return
        self.ws.receive_data(data)
        for event in self.ws.events_received():
            if isinstance(event, Response):
                if self.ws.handshake_exc is not None:
                    self.fail(f"handshake: {self.ws.handshake_exc}")
                else:
                    payload = {"authorization": f"Bearer {self.token}"}
                    self.send({"type": "connection_init", "payload": payload})
                    # the server sends nothing before connection_init: the parser is at
                    # a frame's start, so the frames can be read here from now on
                    self.direct = (
                        self.read_directly and not self.ws.extensions and not self.ws.reader.buffer
                    )
            elif isinstance(event, Frame) and event.opcode in (Opcode.TEXT, Opcode.CONT):
                self.fragments.append(bytes(event.data))
                if event.fin:
                    message = b"".join(self.fragments)
                    self.fragments.clear()
                    self.on_message(message, received)
        self.flush()

    def receive_frames(self, data: bytes, received: float) -> None:
        """The server's frames in ``data`` (after what was left of the last call)."""
        if self.pending:
            data, self.pending = self.pending + data, b""
        pos, end = 0, len(data)
        while end - pos >= 2:
            head, size = data[pos], data[pos + 1] & 0x7F
            start = pos + 2
            if size >= 126:
                start += 2 if size == 126 else 8
                if end < start:
                    break
                size = int.from_bytes(data[pos + 2 : start], "big")
            if end < start + size:
                break
            pos = start + size
            self.on_frame(head, data[start:pos], received)
        if pos < end:
            self.pending = data[pos:]

    def on_frame(self, head: int, payload: bytes, received: float) -> None:
        opcode = head & 0x0F
        if opcode in TEXT_OR_CONT:
            if head & 0x80 and not self.fragments:
                self.on_message(payload, received)
            else:
                self.fragments.append(payload)
                if head & 0x80:
                    message = b"".join(self.fragments)
                    self.fragments.clear()
                    self.on_message(message, received)
        elif opcode == PING:
            self.ws.send_pong(payload)
            self.flush()
        elif opcode == CLOSE:
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self.close_reason = payload[2:].decode(errors="replace")
            with contextlib.suppress(Exception):
                self.ws.send_close(self.close_code if self.close_code != 1005 else 1000)
                self.flush()
            if self.transport is not None:
                self.transport.close()
        elif opcode != PONG:
            self.fail(f"client: unexpected frame opcode {opcode}")

    def eof_received(self) -> bool | None:
        if self.direct:  # the transport closes; connection_lost says why
            return None
        self.ws.receive_eof()
        self.flush()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closing:
            code = self.close_code if self.direct else self.ws.close_code
            said = self.close_reason if self.direct else self.ws.close_reason
            reason = f"code {code} {said!r}" if code else str(exc or "eof")
            self.end(f"connection closed by the server ({reason})")
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("connection lost before it was ready"))
        if not self.lost.done():
            self.lost.set_result(None)

    # ------------------------------------------------------------------ protocol side
    def send(self, message: dict[str, Any]) -> None:
        self.ws.send_text(orjson.dumps(message))
        self.flush()

    def fail(self, reason: str) -> None:
        self.error(reason)
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(reason))
        if self.transport is not None:
            self.transport.abort()

    def on_message(self, raw: bytes, received: float) -> None:
        message = orjson.loads(raw)
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
