"""Writing a ready-made websocket text frame straight to a connection's transport.

A shared subscription sends the same message to thousands of connections. Through ASGI
each one costs a task wake-up, the middleware chain, websockets' frame building and a
write; here the feed builds the frame once and writes it to each connection's transport
itself (``Frames.write``), so a delivery is one ``transport.write``.

This is the one module that touches uvicorn's websocket internals (and, to drop an
open connection's headers, Starlette's ``WebSocket._headers``). ``attach_frames``, called
by the server-facing layer (``seqgql.websocket_lane``), finds the protocol object behind
a websocket's ``send`` (uvicorn passes its protocol's bound ``send`` method) and puts a
``Frames`` for it in the scope (``frames_of`` reads it back). It relies on
``uvicorn.protocols.websockets.websockets_sansio_impl.WebSocketsSansIOProtocol`` (what
uvicorn's "auto" picks when websockets is installed): its ``transport``, ``conn`` (a
``websockets.server.ServerProtocol``), ``writable`` (an ``asyncio.Event`` cleared while
the transport's buffer is over its high-water mark), ``close_sent``, ``disconnected``,
``handshake_complete``, and ``request`` and ``response`` (dropped once accepted: uvicorn
reads them only for the handshake).
uvicorn hands every frame the websockets protocol makes to the transport at once, so a
frame written here never lands inside another. Checked on uvicorn 0.54.0 with websockets
17.4; under any other server or protocol (a test client, wsproto) ``frames_of`` gives
None and messages take the ordinary ASGI path. ``tests/events/test_direct_frames.py``
runs it under a real uvicorn.

``LeanWebSocketProtocol`` is that protocol with lighter parts (what `seqgql serve` runs,
``serving``): its receive queue (``queue``: ``put_nowait``, ``get``, ``empty``) and its
``writable`` event (``set``, ``clear``, ``is_set``, ``wait``) replaced by objects that
allocate nothing while idle (``ws_idle``). An ordinary upgrade request is handed to it as
uvicorn's HTTP protocol parsed it (``upgrade``, called by ``serving``) and answered
without websockets parsing it again (``ws_handshake``: the same checks and bytes; it
relies on ``conn.parser``, ``conn.state``, ``handshake_initiated``, ``run_asgi``,
``on_task_complete``, ``tasks``, ``start_keepalive`` and ``default_headers``). Once open,
between two frames, it also replaces its
``conn.parser`` (websockets' ``ServerProtocol.parse`` generator, which keeps the
handshake's request in a local) by a fresh ``Protocol.parse`` frame parser, as websockets
itself swaps in ``discard()``; it relies on ``conn.reader`` and ``StreamReader.at_eof``.
Its keepalive pings are due on one schedule per event loop, a timer a second, instead of
a timer per connection (``ws_idle.Pings``; it relies on ``schedule_ping``, ``ping_timer``,
``ping_interval``, ``last_ping_rtt`` and ``send_keepalive_ping``): a ping may go up to a
second after its interval. A client's pong that arrives whole, between two frames, with
the payload of the ping in flight, is handed to uvicorn's ``handle_pong`` without
websockets' parser (``_lone_pong``; it relies on ``pending_ping_payload``).

Frames are sent uncompressed even on a connection that negotiated permessage-deflate:
RFC 7692 lets a sender leave any message uncompressed (RSV1 clear), and compressing per
connection would cost more than the rest of the delivery.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from typing import Any

from starlette.types import Scope, Send
from starlette.websockets import WebSocket as StarletteWebSocket
from websockets.frames import Frame, Opcode
from websockets.protocol import Protocol, State
from websockets.streams import StreamReader

from seqgql.compat.ws_handshake import accept_response, read_upgrade, request_bytes
from seqgql.compat.ws_idle import Flag, Inbox, pings_of

# the scope key of a websocket's ``Frames`` (``attach_frames``)
SCOPE_KEY = "seqgql.frames"

try:  # the protocol this module knows; without it nothing is written directly
    from uvicorn.protocols.utils import (
        ClientDisconnected,
        get_client_addr,
        get_path_with_query_string,
    )
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
except ImportError:  # pragma: no cover
    WebSocketsSansIOProtocol = None  # type: ignore[assignment,misc]


def _then_frames_state(method: Callable[..., None]) -> Callable[..., None]:
    """``method``, then the protocol's ``_frames_state`` (see ``LeanWebSocketProtocol``)."""

    @functools.wraps(method)
    def then(self: Any, *args: Any) -> None:
        method(self, *args)
        self._frames_state()

    return then


if WebSocketsSansIOProtocol is not None:

    class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
        """uvicorn's websockets-sansio protocol with the receive queue and the
        ``writable`` event that cost nothing while idle, and without the handshake's
        request once the connection is open (see the module's docstring)."""

        # Every attribute uvicorn's protocol sets (0.54), and this one's, in slots: its
        # instance dictionary, ~40 keys, held ~1.6 KiB a connection. (An attribute a
        # later uvicorn adds lands in the dictionary, as before.)
        __slots__ = (
            "_accept_key", "_handshake_parser", "app", "app_state", "asgi_version", "client",
            "close_sent", "close_timeout", "close_timer", "config", "conn", "connections",
            "curr_msg_data_type", "default_headers", "direct", "disconnected", "frames",
            "handshake_complete", "handshake_initiated", "initial_response", "last_ping_rtt",
            "logger", "loop", "pending_ping_payload", "ping_interval", "ping_sent_at",
            "ping_timeout", "ping_timer", "pong_timer", "queue", "read_paused", "request",
            "response", "root_path", "scheme", "scope", "server", "tasks", "transport",
            "writable",
        )  # fmt: skip

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self._handshake_parser = True  # conn.parser is the one that read the handshake
            self._accept_key: bytes | None = None  # an ordinary upgrade's, until accepted
            super().__init__(*args, **kwargs)
            self.queue = Inbox()  # type: ignore[assignment]
            self.writable = Flag()  # type: ignore[assignment]
            self.direct: LeanFrames | None = None  # set by ``attach_frames``

        def _frames_state(self) -> None:
            """Tell the direct writer whether frames may be written now: after anything
            that can change it (a frame received, a message sent, the transport's buffer
            over or under its mark, the connection lost, a keepalive timeout, shutdown)."""
            if self.direct is not None:
                self.direct.open = writable_now(self)

        def data_received(self, data: bytes) -> None:
            if len(data) == _PONG_SIZE and data[:2] == _PONG_HEAD and self._lone_pong(data):
                return
            super().data_received(data)
            if self._handshake_parser and self.handshake_complete:
                self._drop_handshake_parser()
            self._frames_state()

        def _lone_pong(self, data: bytes) -> bool:
            """``data`` is one whole masked pong of the 4 bytes the keepalive ping in flight
            carried, read between two frames: handled as uvicorn does (``handle_pong``)
            without websockets' parser, which would renew its per-frame state (a
            ``Frame``, generators, lists) on every connection at every ping. Those are
            old objects freed and young ones made, which CPython's count of young
            allocations does not see: at 10,000 connections a young collection then
            walked 40,000 to 64,000 objects (18 to 58 ms). Anything else: False."""
            expected = self.pending_ping_payload
            conn = self.conn
            if expected is None or conn.state is not State.OPEN or not self._between_frames():
                return False
            mask, masked = data[2:6], data[6:]
            payload = bytes(b ^ m for b, m in zip(masked, mask, strict=True))
            if payload != expected:
                return False  # stale, or unsolicited: websockets' and uvicorn's way
            self.handle_pong(Frame(Opcode.PONG, payload))
            return True

        def _between_frames(self) -> bool:
            """websockets' parser waits for a frame's first byte, nothing buffered."""
            conn = self.conn
            if conn.parser_exc is not None or conn.reader.buffer:
                return False
            inner = conn.parser
            while (delegate := getattr(inner, "gi_yieldfrom", None)) is not None:
                inner = delegate
            return getattr(inner, "gi_code", None) is _AT_EOF

        async def send(self, message: Any) -> None:
            try:
                key = self._accept_key
                if (
                    key is not None
                    and message["type"] == "websocket.accept"
                    and not self.handshake_complete
                    and self.initial_response is None
                ):
                    await self._accept(message, key)
                else:
                    await super().send(message)
            finally:
                self._frames_state()

        def upgrade(self, method: str, url: bytes, headers: list[tuple[bytes, bytes]]) -> None:
            """Take the upgrade request uvicorn's HTTP protocol parsed (``serving``): an
            ordinary one from its headers (``ws_handshake``, what ``handle_connect`` does
            with websockets' parse of it), anything else as uvicorn hands it over."""
            compression = bool(self.config.ws_per_message_deflate)
            found = read_upgrade(method, url, headers, compression=compression)
            if found is None:
                self.data_received(request_bytes(method, url, headers))
                return
            conn = self.conn
            frames = Protocol.parse(conn)  # what websockets' parser goes on to after a request
            next(frames)
            conn.parser = frames
            self._handshake_parser = False
            self._accept_key = found.accept
            self.handshake_initiated = True
            root = self.root_path
            self.scope = {
                "type": "websocket",
                "asgi": {"version": self.asgi_version, "spec_version": "2.4"},
                "http_version": "1.1",
                "scheme": self.scheme,
                "server": self.server,
                "client": self.client,
                "root_path": root,
                "path": root + found.path,
                "raw_path": root.encode("ascii") + found.raw_path,
                "query_string": found.query_string,
                "headers": found.headers,
                "subprotocols": found.subprotocols,
                "state": self.app_state.copy(),
                "extensions": {"websocket.http.response": {}},
            }
            self.queue.put_nowait({"type": "websocket.connect"})
            task = self.loop.create_task(self.run_asgi())
            task.add_done_callback(self.on_task_complete)
            self.tasks.add(task)

        async def _accept(self, message: Any, key: bytes) -> None:
            """uvicorn's ``send`` of a ``websocket.accept`` for an ordinary upgrade: the
            same bytes, checks and state, the response written by ``ws_handshake``."""
            await self.writable.wait()
            if self.disconnected:
                raise ClientDisconnected()
            if self.logger.isEnabledFor(logging.INFO):  # uvicorn formats it whatever the level
                path = get_path_with_query_string(self.scope)
                client = get_client_addr(self.scope)
                self.logger.info('%s - "WebSocket %s" [accepted]', client, path)
            headers = [*self.default_headers, *message.get("headers", [])]
            response = accept_response(key, headers, message.get("subprotocol"))
            self._accept_key = None
            if not self.transport.is_closing():
                self.handshake_complete = True
                self.conn.state = State.OPEN  # what websockets' send_response does for a 101
                self.conn.logger.info("connection open")
                self.transport.write(response)
                self.start_keepalive()

        # uvicorn's, then the direct writer told
        pause_writing = _then_frames_state(WebSocketsSansIOProtocol.pause_writing)
        resume_writing = _then_frames_state(WebSocketsSansIOProtocol.resume_writing)
        connection_lost = _then_frames_state(WebSocketsSansIOProtocol.connection_lost)
        keepalive_timeout = _then_frames_state(WebSocketsSansIOProtocol.keepalive_timeout)
        shutdown = _then_frames_state(WebSocketsSansIOProtocol.shutdown)

        def schedule_ping(self) -> None:
            """uvicorn's, on the loop's shared ping schedule (``ws_idle.Pings``) rather than a
            timer of its own; the pong's deadline stays a timer (one ping at a time)."""
            assert self.ping_interval is not None
            pings = pings_of(self.loop, WebSocketsSansIOProtocol.send_keepalive_ping)
            delay = max(0.0, self.ping_interval - self.last_ping_rtt)
            self.ping_timer = pings.schedule(self, delay)  # type: ignore[assignment]

        def _drop_handshake_parser(self) -> None:
            """websockets' server parser is a generator that read the handshake's request
            and keeps it (its headers, ~2 KiB) in a local while it parses frames for as
            long as the connection lasts. Between two frames (the innermost generator is
            the reader's ``at_eof`` with nothing buffered) it is replaced by a fresh
            frame parser, as websockets itself replaces it by ``discard()`` at closing."""
            conn = self.conn
            if conn.state is not State.OPEN or conn.parser_exc is not None:
                self._handshake_parser = False  # closing: websockets' own parser now
                return
            if not self._between_frames():
                return  # inside a frame: at a later read
            fresh = Protocol.parse(conn)
            next(fresh)  # to its first wait for data, as websockets starts one
            conn.parser = fresh
            self._handshake_parser = False

    LEAN_WS: type[asyncio.Protocol] | str = LeanWebSocketProtocol
else:  # pragma: no cover
    LEAN_WS = "auto"


_AT_EOF = StreamReader.at_eof.__code__
# a client's pong of a keepalive ping (4 bytes): FIN and PONG, then MASK and the length;
# a 4-byte mask, the masked payload (RFC 6455 section 5.2)
_PONG_HEAD = bytes((0x80 | Opcode.PONG.value, 0x80 | 4))
_PONG_SIZE = 2 + 4 + 4


def text_frame(payload: bytes) -> bytes:
    """One unmasked, final text frame (RFC 6455 section 5.2) holding ``payload`` (UTF-8)."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 65_536:
        return b"\x81\x7e" + n.to_bytes(2, "big") + payload
    return b"\x81\x7f" + n.to_bytes(8, "big") + payload


class Frames:
    """The way to write frames straight to one websocket connection."""

    __slots__ = ("_protocol", "_transport")

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol
        self._transport: asyncio.Transport = protocol.transport

    def write(self, frame: bytes) -> bool:
        """Write a frame now if the connection is open and its buffer below the high-water
        mark; False (nothing written) otherwise: send through ASGI then, which waits."""
        return writable_now(self._protocol) and self._written(frame)

    def _written(self, frame: bytes) -> bool:
        try:
            self._transport.write(frame)
        except (OSError, RuntimeError):  # the transport went away meanwhile
            return False
        return True

    def forget_handshake(self) -> None:
        """Drop the protocol's handshake request and response (their headers, ~4 KiB a
        connection), which uvicorn no longer reads once the connection is accepted."""
        protocol = self._protocol
        if protocol.handshake_complete and protocol.conn.state is State.OPEN:
            protocol.request = protocol.response = None

    def buffered(self) -> int:
        """Bytes written but not yet taken by the kernel."""
        return self._transport.get_write_buffer_size()


class LeanFrames(Frames):
    """``Frames`` of a ``LeanWebSocketProtocol``, which keeps ``open`` up to date
    (``_frames_state``): a delivery reads one flag and the transport's, instead of the
    protocol's five states across four objects (at 10,000 subscribers those reads were
    ~15% of a fan-out's CPU, most of it cache misses)."""

    __slots__ = ("open",)

    def __init__(self, protocol: Any) -> None:
        super().__init__(protocol)
        self.open = writable_now(protocol)

    def write(self, frame: bytes) -> bool:
        return self.open and not self._transport.is_closing() and self._written(frame)


def writable_now(protocol: Any) -> bool:
    """Whether a frame may be written to uvicorn's websocket protocol now: the
    connection open both ways, its transport open and its buffer under the mark."""
    return not (
        protocol.close_sent
        or protocol.disconnected
        or not protocol.writable.is_set()
        or protocol.transport.is_closing()
        or protocol.conn.state is not State.OPEN
    )


def frames_of(scope: Scope) -> Frames | None:
    """The direct writer ``attach_frames`` found for this websocket, if any."""
    found = scope.get(SCOPE_KEY)
    return found if isinstance(found, Frames) else None


def attach_frames(scope: Scope, send: Send) -> None:
    """Put a ``Frames`` in a websocket's scope when its ``send`` is uvicorn's
    websockets-sansio protocol's own (uvicorn passes its bound ``send`` method): called
    by the server-facing layer, before anything wraps ``send``."""
    if WebSocketsSansIOProtocol is not None:
        protocol = getattr(send, "__self__", None)
        if isinstance(protocol, LeanWebSocketProtocol):
            scope[SCOPE_KEY] = protocol.direct = LeanFrames(protocol)
        elif isinstance(protocol, WebSocketsSansIOProtocol):
            scope[SCOPE_KEY] = Frames(protocol)


def forget_headers(websocket: StarletteWebSocket) -> None:
    """Drop an accepted websocket's request headers (~0.9 KiB a connection): the scope's
    list and the ``Headers`` Starlette made of it (``_headers``), once nothing reads them
    again (the origin, the request id and the subprotocol were read at the handshake)."""
    websocket.scope["headers"] = []
    websocket.__dict__.pop("_headers", None)
