"""The webhooks' HTTP client: HTTP/1.1 POSTs over asyncio streams, on kept-alive
connections, a pool of them per origin; answers read by httptools' parser (llhttp, the
parser of Node.js and of uvicorn), a request written here (its every byte is ours).

Each new connection goes to an address checked at that moment (``addresses``), so a name
that changes its answer after the endpoint was saved (DNS rebinding) still cannot reach a
private address; TLS is verified against the URL's host name. A connection is used by one
POST at a time and kept for the next only after a complete answer that does not close it
(``Connection: close``, HTTP/1.0, a body ended by closing). At most ``read_at_most``
bytes of an answer are read (the start of its body kept): a longer one closes the
connection. Redirects are answers like any other: never followed. Deadlines are the
caller's (a cancelled exchange closes its connection)."""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from collections import deque
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import httptools

from seqgql.domain.webhook_urls import BadUrl, destination
from seqgql.webhooks.addresses import RefusedAddress, Unresolvable, allowed_addresses

_CHUNK = 64 * 1024
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
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
    __slots__ = ("idle_since", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
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
        self._swept = time.monotonic()
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
        connection.idle_since = now = time.monotonic()
        idle.append(connection)
        if now - self._swept > self.keepalive_expiry:
            self._sweep(now)

    def _sweep(self, now: float) -> None:
        """Close the connections kept too long or closed by their server (of endpoints
        no longer posted to, too)."""
        self._swept = now
        for origin, idle in list(self._idle.items()):
            kept = [c for c in idle if c.reusable(now, self.keepalive_expiry)]
            for connection in idle:
                if connection not in kept:
                    connection.close()
            if kept:
                self._idle[origin] = deque(kept)
            else:
                del self._idle[origin]

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
        lines = [
            b"POST %s HTTP/1.1\r\nhost: %s\r\ncontent-length: %d"
            % (target.path, target.host_header, len(body))
        ]
        for name, value in headers:
            if b"\n" in value or b"\r" in value or not _TOKEN.fullmatch(name):
                raise ConnectError(f"a header that cannot be sent: {name!r}")
            lines.append(name + b": " + value)
        try:
            connection.writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
            await connection.writer.drain()
        except OSError as exc:
            raise NetworkError(f"sending: {exc or type(exc).__name__}") from exc
        answer = _Answer(self.keep)
        parser = httptools.HttpResponseParser(answer)
        answer.parser = parser
        received = 0
        while not answer.complete:
            try:
                data = await connection.reader.read(_CHUNK)
            except OSError as exc:
                raise NetworkError(f"reading: {exc or type(exc).__name__}") from exc
            if not data:  # the server closed the connection
                if answer.status and not answer.framed:  # a body that ends there
                    break
                raise RemoteProtocolError("the server closed the connection without a whole answer")
            received += len(data)
            if not answer.status and received > self.read_at_most:
                raise RemoteProtocolError(f"an answer's head over {self.read_at_most:,} bytes")
            try:
                parser.feed_data(data)
            except httptools.HttpParserUpgrade:
                raise RemoteProtocolError("the server switched protocols") from None
            except httptools.HttpParserError as exc:
                if not answer.complete:  # (bytes after a whole answer: it is kept)
                    raise RemoteProtocolError(f"not an HTTP/1.1 answer ({exc})") from None
                answer.extra = True
            if received > self.read_at_most:  # read no further: this connection ends
                return Response(answer.status, bytes(answer.start)), False
        reusable = answer.complete and answer.keep_alive and not answer.extra
        return Response(answer.status, bytes(answer.start)), reusable


class _Answer:
    """What the parser found in an answer (its callbacks)."""

    __slots__ = ("complete", "extra", "framed", "keep", "keep_alive", "parser", "start", "status")

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.parser: httptools.HttpResponseParser | None = None
        self.status = 0
        self.framed = False  # a Content-Length or chunks: not ended by closing
        self.start = bytearray()
        self.complete = False
        self.keep_alive = False  # the connection may carry another request
        self.extra = False  # bytes followed the answer: the connection is not reused

    def on_message_begin(self) -> None:
        if self.complete:
            self.extra = True

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() in (b"content-length", b"transfer-encoding"):
            self.framed = True

    def on_headers_complete(self) -> None:
        assert self.parser is not None
        self.status = self.parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        if len(self.start) < self.keep:
            self.start += body[: self.keep - len(self.start)]

    def on_message_complete(self) -> None:
        if 100 <= self.status < 200:  # informational: the real answer follows
            self.status, self.framed = 0, False
        elif not self.complete:
            assert self.parser is not None
            self.complete = True  # (asked now: the parser forgets once the answer is over)
            self.keep_alive = self.parser.should_keep_alive()
