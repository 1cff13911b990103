"""The webhooks' HTTP client: HTTP/1.1 POSTs (h11, over asyncio streams) on kept-alive
connections, a pool of them per origin.

Each new connection goes to an address checked at that moment (``addresses``), so a name
that changes its answer after the endpoint was saved (DNS rebinding) still cannot reach a
private address; TLS is verified against the URL's host name. A connection is used by one
POST at a time and kept for the next only after a complete answer that does not close
it; an answer's body is read up to ``read_at_most`` bytes (its start kept), a longer one
closes the connection. Redirects are answers like any other: never followed. Deadlines
are the caller's (the whole exchange is cancelled: its connection is closed)."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import h11

from seqgql.domain.webhook_urls import BadUrl, destination
from seqgql.webhooks.addresses import RefusedAddress, Unresolvable, allowed_addresses

_CHUNK = 64 * 1024
# what a request target may hold as it is (anything else, non-ASCII included, is %-encoded)
_SAFE = "!$%&'()*+,/:;=?@~"


class HTTPError(Exception):
    """A POST that got no complete answer."""


class ConnectError(HTTPError):
    """No connection: refused, unreachable, a refused address, a TLS failure."""


class RemoteProtocolError(HTTPError):
    """The server broke HTTP/1.1 (or closed the connection mid-answer)."""


class NetworkError(HTTPError):
    """The connection failed while sending or reading."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where a POST goes: its origin (scheme, host, port), Host header and request
    target (path and query)."""

    scheme: str
    host: str
    port: int
    host_header: bytes
    path: bytes
    problem: str | None = None  # why nothing can be posted there (each POST says it)

    @classmethod
    def parse(cls, url: str) -> Target:
        """The target of ``url``; one with a ``problem`` if it is not a URL webhooks are
        posted to (validated when saved: this is for rows changed by other means)."""
        try:
            where = destination(url, allow_http=True)
            host = where.host if where.host.isascii() else where.host.encode("idna").decode()
        except (BadUrl, UnicodeError) as exc:
            return cls("", "", 0, b"", b"", f"not a URL webhooks are posted to: {exc}")
        parts = urlsplit(url)
        path = quote(parts.path or "/", safe=_SAFE) + (
            f"?{quote(parts.query, safe=_SAFE)}" if parts.query else ""
        )
        bracketed = f"[{host}]" if ":" in host else host
        default = 443 if where.scheme == "https" else 80
        header = bracketed if where.port == default else f"{bracketed}:{where.port}"
        return cls(where.scheme, host, where.port, header.encode(), path.encode())

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    start: bytes  # the first ``keep`` bytes of the body


class _Connection:
    __slots__ = ("h11", "idle_since", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.h11 = h11.Connection(h11.CLIENT)
        self.idle_since = 0.0

    def reusable(self, now: float, expiry: float) -> bool:
        return (
            now - self.idle_since < expiry
            and not self.reader.at_eof()
            and not self.writer.is_closing()
        )

    def close(self) -> None:
        self.writer.close()


class Client:
    """POSTs over kept-alive connections, at most ``max_idle`` of them kept per origin
    between POSTs (as many as its POSTs at once: one each)."""

    def __init__(
        self,
        *,
        allow_private: bool,
        max_idle: int = 64,
        keepalive_expiry: float = 30.0,
        keep: int = 1024,
        read_at_most: int = 64 * 1024,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.allow_private = allow_private
        self.max_idle = max_idle
        self.keepalive_expiry = keepalive_expiry
        self.keep = keep
        self.read_at_most = read_at_most
        self._ssl = ssl_context
        self._idle: dict[tuple[str, str, int], deque[_Connection]] = {}
        self._closed = False

    def _tls(self) -> ssl.SSLContext:
        if self._ssl is None:  # made once, when a first https endpoint is reached
            self._ssl = ssl.create_default_context()
        return self._ssl

    async def post(
        self, target: Target, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> Response:
        """POST ``body`` with ``headers`` (Host and Content-Length are added)."""
        if target.problem is not None:
            raise ConnectError(target.problem)
        connection = self._take(target)
        if connection is None:
            connection = await self._connect(target)
        done = False
        try:
            answer, reusable = await self._exchange(connection, target, headers, body)
            done = reusable
            return answer
        finally:
            if done and not self._closed:
                self._give_back(target, connection)
            else:
                connection.close()

    async def aclose(self) -> None:
        self._closed = True
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()

    # ------------------------------------------------------------------ connections

    def _take(self, target: Target) -> _Connection | None:
        idle = self._idle.get(target.origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()  # the most recently used: the least likely closed
            if connection.reusable(now, self.keepalive_expiry):
                return connection
            connection.close()
        return None

    def _give_back(self, target: Target, connection: _Connection) -> None:
        idle = self._idle.setdefault(target.origin, deque())
        if len(idle) >= self.max_idle:
            connection.close()
            return
        connection.idle_since = time.monotonic()
        idle.append(connection)

    async def _connect(self, target: Target) -> _Connection:
        try:
            addresses = await allowed_addresses(
                target.host, target.port, allow_private=self.allow_private
            )
        except (RefusedAddress, Unresolvable) as exc:
            raise ConnectError(str(exc)) from exc
        tls = self._tls() if target.scheme == "https" else None
        failure: Exception | None = None
        for address in addresses:  # the checked addresses, in the resolver's order
            try:
                reader, writer = await asyncio.open_connection(
                    str(address),
                    target.port,
                    ssl=tls,
                    server_hostname=target.host if tls is not None else None,
                    limit=_CHUNK,
                )
            except (OSError, ssl.SSLError) as exc:
                failure = exc
                continue
            return _Connection(reader, writer)
        raise ConnectError(str(failure) or type(failure).__name__) from failure

    # ------------------------------------------------------------------ one exchange

    async def _exchange(
        self,
        connection: _Connection,
        target: Target,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
    ) -> tuple[Response, bool]:
        """The answer, and whether the connection may be used again."""
        conn = connection.h11
        head = [
            (b"host", target.host_header),
            (b"content-length", str(len(body)).encode()),
            *headers,
        ]
        try:
            data = conn.send(h11.Request(method=b"POST", target=target.path, headers=head))
            data += conn.send(h11.Data(data=body)) + conn.send(h11.EndOfMessage())
        except h11.LocalProtocolError as exc:
            raise ConnectError(f"a request that cannot be sent: {exc}") from None
        try:
            connection.writer.write(data)
            await connection.writer.drain()
        except OSError as exc:
            raise NetworkError(f"sending: {exc or type(exc).__name__}") from exc
        status = 0
        start = bytearray()
        read = 0
        while True:
            event = await self._next_event(connection)
            if isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                if len(start) < self.keep:
                    start += event.data[: self.keep - len(start)]
                read += len(event.data)
                if read > self.read_at_most:  # read no further: this connection ends
                    return Response(status, bytes(start)), False
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise RemoteProtocolError("the server closed the connection without answering")
            elif not isinstance(event, h11.InformationalResponse):  # h11.PAUSED: a switch
                raise RemoteProtocolError("the server switched protocols")
            # an informational (1xx) answer: the real one follows
        reusable = conn.our_state is h11.DONE and conn.their_state is h11.DONE
        if reusable:
            conn.start_next_cycle()
        return Response(status, bytes(start)), reusable

    async def _next_event(self, connection: _Connection) -> object:
        conn = connection.h11
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                raise RemoteProtocolError(str(exc)) from None
            if event is not h11.NEED_DATA:
                return event
            try:
                data = await connection.reader.read(_CHUNK)
            except OSError as exc:
                raise NetworkError(f"reading: {exc or type(exc).__name__}") from exc
            try:
                conn.receive_data(data)
            except h11.RemoteProtocolError as exc:
                raise RemoteProtocolError(str(exc)) from None
