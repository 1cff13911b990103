"""The websocket handshake of an ordinary upgrade request, answered from the headers
uvicorn's HTTP parser already read.

Stock uvicorn writes the upgrade request it parsed (httptools) back into bytes for its
websockets protocol, which parses them again (websockets' ``Request.parse``), checks them
(``ServerProtocol.accept``: Connection, Upgrade, key, version, origin, extensions,
subprotocols) into a ``Response`` of ``Headers``, then formats the path for a log line
that is off, and serializes the response: ~100 µs of a subscription's ~300 µs of opening
CPU (bench/ws_open_cpu.py), paid 10,000 times when a dashboard's viewers reconnect.

``read_upgrade`` takes an upgrade the stock path would accept, exactly, and nothing else:
anything unusual in it (a header websockets would refuse or parse differently, a second
key, an origin twice, a body, a path not ASCII, extensions while compression is on)
gives ``None``, and the stock path answers it, refusals included. ``accept_response``
writes the same bytes the stock path writes for the same accept message.
``tests/events/test_ws_handshake.py`` holds the two side by side on ordinary and hostile
requests (answers, scopes, the frames that follow). Checked on uvicorn 0.54.0 with
websockets 17.4; the rules copied are websockets' (``server.ServerProtocol.process_request``,
``http11.parse_headers``, ``headers.parse_connection``/``parse_upgrade``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from urllib.parse import unquote

from websockets.exceptions import InvalidHeaderValue

# RFC 6455 section 1.3
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# websockets.http11's header name and value grammar (``_token_re``, ``_value_re``); a
# request's names (and values) are checked at once, joined by line feeds, which neither
# grammar allows: the join holds one fewer than there are headers, or one of them has one
_TOKEN_RE = rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]+"
_VALUE_RE = rb"[\x09\x20-\x7e\x80-\xff]*"
_TOKEN, _VALUE = re.compile(_TOKEN_RE), re.compile(_VALUE_RE)
_NAMES = re.compile(_TOKEN_RE + rb"(?:\n" + _TOKEN_RE + rb")*")
_VALUES = re.compile(_VALUE_RE + rb"(?:\n" + _VALUE_RE + rb")*")
# a comma-separated list of tokens, spaces and tabs around each
_LISTED = rb"[ \t]*" + _TOKEN_RE + rb"[ \t]*"
_TOKEN_LIST = re.compile(_LISTED + rb"(?:," + _LISTED + rb")*")
# well inside websockets' limits (128 headers, 8 KiB a line): past them, the stock path
_MOST_HEADERS = 100
_LONGEST_LINE = 4096
# the headers whose count or value decides the handshake
_KEY, _VERSION, _ORIGIN = b"sec-websocket-key", b"sec-websocket-version", b"origin"
_CONNECTION, _UPGRADE, _PROTOCOL = b"connection", b"upgrade", b"sec-websocket-protocol"
_EXTENSIONS, _LENGTH, _CODING = b"sec-websocket-extensions", b"content-length", b"transfer-encoding"
_DECIDING = frozenset(
    (_KEY, _VERSION, _ORIGIN, _CONNECTION, _UPGRADE, _PROTOCOL, _EXTENSIONS, _LENGTH, _CODING)
)


@dataclass(slots=True)
class Upgrade:
    """What an ordinary upgrade request gives the websocket's scope and its answer."""

    accept: bytes  # the Sec-WebSocket-Accept value
    path: str  # the scope's path, without the root path
    raw_path: bytes
    query_string: bytes
    headers: list[tuple[bytes, bytes]]  # as the stock path puts them in the scope
    subprotocols: list[str]


def _tokens(value: bytes) -> list[bytes] | None:
    """A comma-separated list of tokens (``Connection``, ``Upgrade`` without versions,
    ``Sec-WebSocket-Protocol``); None when it is anything else."""
    if _TOKEN.fullmatch(value):
        return [value]
    if not _TOKEN_LIST.fullmatch(value):
        return None
    return [piece.strip(b" \t") for piece in value.split(b",")]


def read_upgrade(
    method: str, url: bytes, headers: list[tuple[bytes, bytes]], *, compression: bool
) -> Upgrade | None:
    """The handshake of ``method url`` with ``headers`` (httptools': names lower-cased)
    when the stock path would accept it and answer it as ``accept_response`` does; None
    for anything else (see the module)."""
    if method != "GET" or not url.isascii() or len(url) > _LONGEST_LINE:
        return None
    if len(headers) > _MOST_HEADERS:
        return None
    kept = [(name, raw.strip(b" \t")) for name, raw in headers]
    separators = len(kept) - 1  # a line feed of one's own would be one more
    names = b"\n".join([name for name, _ in kept])
    if names.count(b"\n") != separators or not _NAMES.fullmatch(names):
        return None
    values = [value for _, value in kept]
    joined = b"\n".join(values)
    if joined.count(b"\n") != separators or not _VALUES.fullmatch(joined):
        return None
    if sum(map(len, values)) + sum(len(name) for name, _ in kept) > _LONGEST_LINE and any(
        len(name) + len(value) > _LONGEST_LINE for name, value in kept
    ):
        return None
    keys: list[bytes] = []
    versions: list[bytes] = []
    upgrades: list[bytes] = []
    subprotocols: list[str] = []
    origins = 0
    connection_upgrade = False
    for name, value in kept:
        if name not in _DECIDING:
            continue
        if name == _KEY:
            keys.append(value)
        elif name == _VERSION:
            versions.append(value)
        elif name == _ORIGIN:
            origins += 1
        elif name in (_CONNECTION, _UPGRADE, _PROTOCOL):
            tokens = _tokens(value)
            if tokens is None:
                return None
            if name == _CONNECTION:
                connection_upgrade |= any(t.lower() == b"upgrade" for t in tokens)
            elif name == _UPGRADE:
                upgrades.extend(tokens)
            else:
                subprotocols.extend(t.decode("ascii") for t in tokens)
        elif name == _CODING or (name == _LENGTH and value != b"0"):
            return None  # a body: websockets refuses it
        elif name == _EXTENSIONS and compression:  # negotiated by websockets
            return None
    if not connection_upgrade or len(upgrades) != 1 or upgrades[0].lower() != b"websocket":
        return None
    if len(keys) != 1 or versions != [b"13"] or origins > 1:
        return None
    try:
        if len(base64.b64decode(keys[0], validate=True)) != 16:
            return None
    except binascii.Error:
        return None
    accept = base64.b64encode(hashlib.sha1(keys[0] + _GUID).digest())
    raw_path, _, query = url.decode("ascii").partition("?")
    return Upgrade(
        accept=accept,
        path=unquote(raw_path),
        raw_path=raw_path.encode("ascii"),
        query_string=query.encode("ascii"),
        headers=kept,
        subprotocols=subprotocols,
    )


def accept_response(
    accept: bytes, headers: list[tuple[bytes, bytes]], subprotocol: str | None
) -> bytes:
    """The 101 answer: websockets' four lines (its Date dropped, as uvicorn drops it), then
    ``headers`` (the server's default ones and the accept message's; names lower-cased,
    as uvicorn writes them) and the chosen subprotocol. A value websockets would refuse
    raises its ``InvalidHeaderValue``, as the stock path does."""
    lines = [
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept + b"\r\n"
    ]
    named = [(n.decode("latin-1").lower().encode("latin-1"), v) for n, v in headers]
    if subprotocol:
        try:
            named.append((b"Sec-WebSocket-Protocol", subprotocol.encode("latin-1")))
        except UnicodeEncodeError:
            raise InvalidHeaderValue("Sec-WebSocket-Protocol", subprotocol) from None
    for name, value in named:
        if not _VALUE.fullmatch(value):
            raise InvalidHeaderValue(name.decode("latin-1"), value.decode("latin-1"))
        lines.append(name + b": " + value + b"\r\n")
    lines.append(b"\r\n")
    return b"".join(lines)


def request_bytes(method: str, url: bytes, headers: list[tuple[bytes, bytes]]) -> bytes:
    """The request as uvicorn writes it for its websockets protocol (the stock path)."""
    output = [method.encode(), b" ", url, b" HTTP/1.1\r\n"]
    for name, value in headers:
        output += [name, b": ", value, b"\r\n"]
    output.append(b"\r\n")
    return b"".join(output)
