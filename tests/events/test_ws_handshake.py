"""The websocket handshake `seqgql serve` answers from the headers uvicorn parsed
(``compat.ws_handshake``) against uvicorn's own way (the request written out and parsed
again by websockets): on ordinary, odd and hostile upgrade requests, both give the app the
same scope and the client the same bytes (the 101 or the refusal, then what follows), and
only an ordinary request takes the short way."""

from __future__ import annotations

import asyncio
import base64
import re
from typing import Any

import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from uvicorn.server import ServerState
from websockets.frames import Frame, Opcode
from websockets.utils import accept_key

from seqgql.compat.ws_handshake import read_upgrade, request_bytes
from seqgql.compat.ws_transport import LeanWebSocketProtocol

DATE = re.compile(rb"\r\nDate: [^\r]*")
KEY = base64.b64encode(b"0123456789abcdef")
ORDINARY: list[tuple[bytes, bytes]] = [
    (b"host", b"127.0.0.1:8000"),
    (b"upgrade", b"websocket"),
    (b"connection", b"Upgrade"),
    (b"sec-websocket-key", KEY),
    (b"sec-websocket-version", b"13"),
    (b"sec-websocket-protocol", b"graphql-transport-ws"),
]


class Transport:
    """What the protocol writes, and whether it closed."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closed = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name)

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    abort = close

    def pause_reading(self) -> None: ...
    def resume_reading(self) -> None: ...
    def get_write_buffer_size(self) -> int:
        return 0


def echo_app(scopes: list[dict[str, Any]]) -> Any:
    """Accepts with the client's first subprotocol and a header of its own, answers the
    first message with its text reversed, then closes. Asked for the subprotocol "deny",
    it refuses the handshake (403); for "teapot", it starts an HTTP response of its own
    (418), tries to accept anyway (uvicorn refuses that: an error, noted), then ends it."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        scopes.append({k: v for k, v in scope.items() if k != "state"})
        if "deny" in scope["subprotocols"]:
            await send({"type": "websocket.close"})
            return
        if "teapot" in scope["subprotocols"]:
            await send({"type": "websocket.http.response.start", "status": 418,
                        "headers": [(b"x-why", b"tea")]})  # fmt: skip
            try:
                await send({"type": "websocket.accept"})
            except RuntimeError as exc:
                scopes.append({"accept after the response's start": str(exc)})
            await send({"type": "websocket.http.response.body", "body": b"short and stout"})
            return
        chosen = scope["subprotocols"][0] if scope["subprotocols"] else None
        await send({"type": "websocket.accept", "subprotocol": chosen,
                    "headers": [(b"X-Request-Id", b"abc123")]})  # fmt: skip
        message = await receive()
        if message["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": message["text"][::-1]})
            await send({"type": "websocket.close", "code": 1000})

    return app


async def handshake(
    headers: list[tuple[bytes, bytes]],
    *,
    parsed: bool,
    method: str = "GET",
    url: bytes = b"/graphql",
) -> tuple[bytes, list[dict[str, Any]], bool]:
    """What the client receives (the answer, then the echo of one message) and the scope
    the app saw, the request handed over as parsed or as uvicorn writes it."""
    scopes: list[dict[str, Any]] = []
    config = uvicorn.Config(echo_app(scopes), lifespan="off", log_level="warning")
    config.load()
    protocol = LeanWebSocketProtocol(config=config, server_state=ServerState(), app_state={})
    transport = Transport()
    protocol.connection_made(transport)  # type: ignore[arg-type]
    if parsed:
        protocol.upgrade(method, url, headers)
    else:
        protocol.data_received(request_bytes(method, url, headers))
    short = protocol._accept_key is not None
    for _ in range(20):
        await asyncio.sleep(0)
    if not transport.closed:
        protocol.data_received(Frame(Opcode.TEXT, b"hello").serialize(mask=True))
        for _ in range(20):
            await asyncio.sleep(0)
    protocol.connection_lost(None)
    for _ in range(5):
        await asyncio.sleep(0)
    return b"".join(transport.written), scopes, short


async def both(headers: list[tuple[bytes, bytes]], **request: Any) -> tuple[bytes, bool]:
    stock, stock_scopes, _ = await handshake(headers, parsed=False, **request)
    answer, scopes, short = await handshake(headers, parsed=True, **request)
    # a refusal carries the time (websockets' Date), which may turn between the two
    assert DATE.sub(b"", answer) == DATE.sub(b"", stock)
    assert scopes == stock_scopes
    return answer, short


async def test_an_ordinary_upgrade_takes_the_short_way_with_the_same_answer() -> None:
    answer, short = await both(ORDINARY)
    assert short
    expected = accept_key(KEY.decode()).encode()
    assert answer.startswith(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + expected + b"\r\nx-request-id: abc123\r\n"
        b"Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
    )
    assert answer.endswith(b"\x81\x05olleh\x88\x02\x03\xe8")  # the echo, then the close


@pytest.mark.parametrize("asked", [b"deny", b"teapot"])
async def test_a_refusal_by_the_app_is_the_same_both_ways(asked: bytes) -> None:
    headers = [*ORDINARY[:-1], (b"sec-websocket-protocol", asked)]
    answer, short = await both(headers)
    assert short
    status = b"403" if asked == b"deny" else b"418"
    assert answer.startswith(b"HTTP/1.1 " + status), answer
    assert b"101" not in answer


def replaced(name: bytes, value: bytes | None) -> list[tuple[bytes, bytes]]:
    kept = [(n, v) for n, v in ORDINARY if n != name]
    return kept if value is None else [*kept, (name, value)]


ODD: dict[str, list[tuple[bytes, bytes]]] = {
    "no key": replaced(b"sec-websocket-key", None),
    "short key": replaced(b"sec-websocket-key", base64.b64encode(b"short")),
    "key not base64": replaced(b"sec-websocket-key", b"!!!!notbase64!!!!!!!!!=="),
    "two keys": [*ORDINARY, (b"sec-websocket-key", KEY)],
    "version 8": replaced(b"sec-websocket-version", b"8"),
    "two versions": [*ORDINARY, (b"sec-websocket-version", b"13")],
    "no version": replaced(b"sec-websocket-version", None),
    "two origins": [*ORDINARY, (b"origin", b"https://a.example"), (b"origin", b"https://b")],
    "upgrade twice": [*ORDINARY, (b"upgrade", b"websocket")],
    "upgrade to h2c": replaced(b"upgrade", b"h2c"),
    "upgrade with a version": replaced(b"upgrade", b"websocket/13"),
    "connection keep-alive only": replaced(b"connection", b"keep-alive"),
    "connection with an empty item": replaced(b"connection", b"keep-alive, , Upgrade"),
    "connection not tokens": replaced(b"connection", b"Upgrade; q=1"),
    "subprotocol not a token": replaced(b"sec-websocket-protocol", b"graphql transport"),
    "a body": [*ORDINARY, (b"content-length", b"5")],
    "chunked": [*ORDINARY, (b"transfer-encoding", b"chunked")],
    "a header name not a token": [*ORDINARY, (b"x(y)", b"1")],
    "a control byte in a value": [*ORDINARY, (b"x-y", b"a\x01b")],
    "a NUL in a value": [*ORDINARY, (b"x-y", b"a\x00b")],
    # the names (and the values) are checked joined by line feeds: one inside either is
    # not taken for a separator
    "a line feed in a value": [*ORDINARY, (b"x-y", b"a\nb")],
    "a line feed in a name": [*ORDINARY, (b"x\ny", b"1")],
    "a space in a name": [*ORDINARY, (b"x y", b"1")],
    "an empty name": [*ORDINARY, (b"", b"1")],
    "a huge value": [*ORDINARY, (b"x-y", b"a" * 9000)],
    "too many headers": [*ORDINARY, *[(b"x-%d" % i, b"1") for i in range(130)]],
}


@pytest.mark.parametrize("case", list(ODD))
async def test_an_unusual_upgrade_goes_the_stock_way(case: str) -> None:
    headers = ODD[case]
    assert read_upgrade("GET", b"/graphql", headers, compression=False) is None
    _, short = await both(headers)
    assert not short


async def test_only_a_get_of_an_ascii_path_takes_the_short_way() -> None:
    for request in ({"method": "POST"}, {"url": b"/graph\xc3\xa9"}, {"url": b"/" + b"a" * 5000}):
        _, short = await both(ORDINARY, **request)
        assert not short, request
    answer, short = await both(ORDINARY, url=b"/graphql%20x?a=1&b=%41")
    assert short and answer.startswith(b"HTTP/1.1 101")


def test_with_compression_on_an_offer_of_extensions_goes_the_stock_way() -> None:
    offered = [*ORDINARY, (b"sec-websocket-extensions", b"permessage-deflate")]
    assert read_upgrade("GET", b"/graphql", offered, compression=True) is None
    assert read_upgrade("GET", b"/graphql", offered, compression=False) is not None
    assert read_upgrade("GET", b"/graphql", ORDINARY, compression=True) is not None


# values chosen to sit on the rules' edges: case, spaces, tabs, commas, empties, bytes
VALUES = st.sampled_from([
    b"websocket", b"WebSocket", b" websocket ", b"websocket, h2c", b"Upgrade", b"upgrade",
    b"keep-alive, Upgrade", b"Upgrade,", b",Upgrade", b"\tUpgrade\t", b"13", b" 13", b"8",
    b"", b"graphql-transport-ws", b"a, b", b"a,,b", b"\xe9t\xe9", b"x\x7fy",
    KEY, KEY + b" ", base64.b64encode(b"x" * 15), b"0",
])  # fmt: skip
NAMES = st.sampled_from([
    b"upgrade", b"connection", b"sec-websocket-key", b"sec-websocket-version",
    b"sec-websocket-protocol", b"origin", b"content-length", b"host", b"x-other",
    b"sec-websocket-extensions",
])  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    dropped=st.sets(st.integers(0, len(ORDINARY) - 1), max_size=2),
    extra=st.lists(st.tuples(NAMES, VALUES), max_size=4),
)
def test_any_mix_of_headers_gets_the_same_answer_both_ways(
    dropped: set[int], extra: list[tuple[bytes, bytes]]
) -> None:
    headers = [h for i, h in enumerate(ORDINARY) if i not in dropped] + extra
    asyncio.run(both(headers))
