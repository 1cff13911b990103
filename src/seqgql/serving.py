"""How `seqgql serve` runs uvicorn: its HTTP protocol plus a deadline for each request's
header block.

uvicorn closes a kept-alive connection that stays idle between requests
(``timeout_keep_alive``), but has no limit on the time a request's headers take to arrive:
a client that sends a header byte now and then (or connects and sends nothing) held its
connection, and what the parser buffered, for as long as it liked. Here the headers of
each request must be complete within ``header_timeout`` seconds, counted from the
connection's opening for its first request and from the first byte of each later one;
past it the server answers 408 ``REQUEST_TIMEOUT`` (when no answer is being written) and
closes the connection. Header blocks are also limited in size: httptools gathers a header
value in memory however long it grows (a client sent 500 MB of one in seconds), so past
``MAX_HEADER_BYTES`` the server answers 431 ``HEADERS_TOO_LARGE`` and closes. The body has
its own limits, in the /graphql gate (``gateway``).

This is the one module that touches uvicorn's HTTP internals (its websockets ones are in
``compat.ws_transport``, whose protocol it runs). It subclasses
``uvicorn.protocols.http.httptools_impl.HttpToolsProtocol`` (what uvicorn's "auto" picks,
httptools being part of ``uvicorn[standard]``) and relies on its parser callbacks
``on_message_begin`` and ``on_headers_complete``, its ``loop``, ``transport`` and
``cycle`` attributes, and ``connection_made``, ``data_received`` and ``connection_lost``.
Checked on uvicorn 0.54.0 with httptools 0.9.0; ``tests/test_serve_limits.py`` runs it in a real
`seqgql serve`, so an upgrade that changes them fails there.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import uvicorn
from sqlalchemy.engine import make_url
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from seqgql.compat.ws_transport import LEAN_WS
from seqgql.process import tune_gc
from seqgql.settings import Settings

# What a request's header block may take, counting every byte received while it is
# incomplete (so up to one read of the next request's bytes too when requests are
# pipelined: far above any real header block, far below what hurts).
MAX_HEADER_BYTES = 1_048_576
# uvicorn's websockets protocol with lighter parts (``compat.ws_transport``), by name so
# that the worker processes import it too
WS_PROTOCOL = "auto" if LEAN_WS == "auto" else "seqgql.compat.ws_transport:LeanWebSocketProtocol"
# this module's HTTP protocol, by name (the worker processes, the tests' servers)
HTTP_PROTOCOL = f"{__name__}:HeaderDeadlineProtocol"


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with a deadline on each request's header block."""

    header_timeout: float = 10.0
    _deadline: asyncio.TimerHandle | None = None  # set while a header block is awaited
    _header_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:  # a later request on a kept-alive connection
            self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._deadline is None:
            return
        self._header_bytes += len(data)
        if self._header_bytes > MAX_HEADER_BYTES:
            self._refuse(431, f"the request headers are over {MAX_HEADER_BYTES:,} bytes")

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_websocket_upgrade(self) -> None:
        """uvicorn's (the websocket protocol takes the connection over); then the parser
        dropped. It and this protocol refer to each other (its callbacks are this
        protocol's bound methods), so this protocol, done with once upgraded, would wait
        for the cyclic collector: ~20 objects a websocket (its parser, flow control and
        event with its deque), collected in bulk during a fan-out, or frozen for good
        with the heap when the collector had not come by yet (bench/fanout.py). The lean
        websocket protocol is handed the request as parsed rather than written out for
        websockets to parse again (``LeanWebSocketProtocol.upgrade``)."""
        if LEAN_WS == "auto" or self.ws_protocol_class is not LEAN_WS:
            super().handle_websocket_upgrade()
        else:  # uvicorn's, the request handed over as parsed (``compat.ws_handshake``)
            self.connections.discard(self)
            lean: Any = self.ws_protocol_class
            protocol = lean(
                config=self.config, server_state=self.server_state, app_state=self.app_state
            )
            protocol.connection_made(self.transport)
            protocol.upgrade(self.scope["method"], self.url, self.scope["headers"])
            self.transport.set_protocol(protocol)
        self.parser = None  # type: ignore[assignment]

    def _arm(self) -> None:
        self._header_bytes = 0
        self._deadline = self.loop.call_later(self.header_timeout, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        message = f"the request headers did not arrive within {self.header_timeout:g} s"
        self._refuse(408, message)

    def _refuse(self, status: int, message: str) -> None:
        """Answer ``status`` (unless an answer is being written) and close."""
        self._disarm()
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(_response(status, message))
        self.transport.close()


_REFUSALS = {
    408: ("Request Timeout", "REQUEST_TIMEOUT"),
    431: ("Request Header Fields Too Large", "HEADERS_TOO_LARGE"),
}


def _response(status: int, message: str) -> bytes:
    """A whole HTTP response, its body written as ``over_http.error_response`` writes one."""
    phrase, code = _REFUSALS[status]
    body = orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
    head = (
        f"HTTP/1.1 {status} {phrase}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


def workers_refusal(settings: Settings, workers: int, *, demo: bool) -> str | None:
    """Why ``serve --workers N`` (N > 1) cannot run with these settings, or None.

    Each process keeps its own subscribers, so the processes must hear each other's
    changes: a ``memory://`` broadcast reaches only the process that made the change.
    SQLite is refused too: it is the embedded, one-process mode (its engine runs inside
    `serve`, and its writes take turns, first come first served, only within a process;
    across processes SQLite's busy timeout decides, unfairly); several processes are the
    PostgreSQL deployment's."""
    if settings.broadcast_url.startswith("memory://"):
        return (
            f"--workers {workers} needs BROADCAST_URL=redis://… or postgres://…: with "
            "memory:// each process hears only its own changes, and a subscriber on one "
            "process would miss a change made through another"
        )
    if make_url(settings.database_url).get_backend_name() == "sqlite":
        return (
            f"--workers {workers} needs PostgreSQL (DATABASE_URL=postgresql://…): SQLite is "
            "the one-process embedded mode; run one process on it"
        )
    if demo:
        return "--demo runs one process: leave out --workers"
    return None


def worker_app() -> Any:
    """The app of one process of ``serve --workers N`` (uvicorn calls it in each one):
    settings from the environment, as the parent read them, and the app's own lifespan
    (its engine, pool, webhook dispatcher and broadcast listener) per process."""
    from seqgql.app import create_app

    settings = Settings()
    HeaderDeadlineProtocol.header_timeout = settings.header_timeout_seconds
    tune_gc()
    return create_app(settings)


def run_workers(
    workers: int, *, host: str, port: int, header_timeout: float, **options: Any
) -> None:
    """``uvicorn.run`` with ``workers`` processes sharing the port (uvicorn's supervisor
    starts them, and starts one again when one dies), each serving ``worker_app``."""
    uvicorn.run(
        f"{__name__}:worker_app", factory=True, workers=workers, host=host, port=port,
        http=HTTP_PROTOCOL, ws=WS_PROTOCOL, **options,
    )  # fmt: skip


def run(app: Any, *, host: str, port: int, header_timeout: float, **options: Any) -> None:
    """``uvicorn.run(app, ...)`` with the header deadline (``options`` go to uvicorn)."""
    protocol = type(
        "HeaderDeadlineProtocol", (HeaderDeadlineProtocol,), {"header_timeout": header_timeout}
    )
    uvicorn.run(app, host=host, port=port, http=protocol, ws=WS_PROTOCOL, **options)
