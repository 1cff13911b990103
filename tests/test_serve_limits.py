"""A real `seqgql serve`, seen from raw sockets: a request whose headers do not arrive in
time is answered 408 and its connection closed (HEADER_TIMEOUT_SECONDS) while others are
served, one whose headers grow past 1 MiB is answered 431; clients that go away
mid-request or mid-websocket, and ordinary client mistakes, leave no traceback in the
server's log."""

from __future__ import annotations

import contextlib
import json
import select
import socket
import struct
import time
from pathlib import Path

import httpx
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from tests.helpers.processes import Served, serving

HEADER_TIMEOUT = 1.0
GRAPHQL_TRANSPORT_WS = Subprotocol("graphql-transport-ws")
SLOW_HEADERS = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 10_000


def open_socket(served: Served) -> socket.socket:
    return socket.create_connection(("127.0.0.1", served.port), timeout=5)


def closed_by_server(sock: socket.socket, received: bytearray) -> bool:
    """Whether the server has closed ``sock`` (what it sent before is added to ``received``)."""
    while select.select([sock], [], [], 0)[0]:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return True
        if not chunk:
            return True
        received += chunk
    return False


def receive_until_closed(sock: socket.socket) -> bytes:
    received = bytearray()
    while not closed_by_server(sock, received):
        if not select.select([sock], [], [], 5)[0]:
            raise TimeoutError("the server kept the connection open")
    return bytes(received)


def test_headers_that_do_not_arrive_in_time_or_grow_too_large_are_refused_and_closed(
    tmp_path: Path,
) -> None:
    with serving(tmp_path, HEADER_TIMEOUT_SECONDS=f"{HEADER_TIMEOUT:g}") as served:
        # the deadline runs from the opening for a first request, from the first byte of
        # a later one on a kept-alive connection
        kept_alive = open_socket(served)  # one request answered, then the next one trickles
        kept_alive.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first_answer = b""
        while not first_answer.endswith(b'{"status":"ok"}'):
            first_answer += kept_alive.recv(65536)
        assert first_answer.startswith(b"HTTP/1.1 200"), first_answer
        time.sleep(0.5)  # idle between requests (within uvicorn's keep-alive timeout)
        start = time.monotonic()
        sockets = {
            "silent": open_socket(served),  # connects and sends nothing
            "trickling": open_socket(served),  # a header byte every 50 ms, never the end
            "kept alive": kept_alive,
        }
        received = {name: bytearray() for name in sockets}
        lived: dict[str, float] = {}
        others: list[tuple[int, float]] = []
        sent = 0
        while len(lived) < len(sockets) and time.monotonic() - start < HEADER_TIMEOUT + 6:
            for name, sock in sockets.items():
                if name in lived:
                    continue
                if name != "silent" and sent < len(SLOW_HEADERS):
                    with contextlib.suppress(OSError):  # closed: seen below
                        sock.send(SLOW_HEADERS[sent : sent + 1])
                if closed_by_server(sock, received[name]):
                    lived[name] = time.monotonic() - start
            sent += 1
            if len(others) < 3 and time.monotonic() - start > 0.3 * (len(others) + 1):
                asked = time.monotonic()
                status = httpx.get(f"{served.base}/healthz", timeout=5).status_code
                others.append((status, time.monotonic() - asked))
            time.sleep(0.05)
        for sock in sockets.values():
            sock.close()

        # and a header block may not grow past 1 MiB however fast it comes
        with open_socket(served) as huge:
            with contextlib.suppress(OSError):  # closed before it had everything
                huge.sendall(SLOW_HEADERS + b"a" * 2_000_000)
            too_large = receive_until_closed(huge)

    assert sorted(lived) == sorted(sockets), f"still open after {HEADER_TIMEOUT + 6:g} s"
    for name, seconds in lived.items():
        assert HEADER_TIMEOUT * 0.8 < seconds < HEADER_TIMEOUT + 3, (name, seconds)
    for name in ("trickling", "kept alive"):
        head, _, body = bytes(received[name]).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408"), (name, bytes(received[name]))
        assert json.loads(body)["errors"][0]["extensions"]["code"] == "REQUEST_TIMEOUT"
    assert too_large.startswith(b"HTTP/1.1 431"), too_large[:200]
    assert b'"code":"HEADERS_TOO_LARGE"' in too_large
    # meanwhile everyone else was answered at once
    assert [status for status, _ in others] == [200, 200, 200]
    assert max(seconds for _, seconds in others) < 2.0, others


PAGE = "{ sequences(first: 5) { totalCount edges { node { id name } } } }"
CHANGES = (
    "subscription($seq: ID!, $since: String) { enrollmentStatusChanged(sequenceId: $seq, "
    "since: $since) { number } }"
)
CREATE_SEQUENCE = (
    'mutation { createSequence(input: {name: "S", steps: [{channel: EMAIL, waitMinutes: 0, '
    'subject: "Hi", body: "Hello"}]}) { sequence { id } } }'
)
COUNTS = "subscription($seq: ID!) { sequenceStatusCounts(sequenceId: $seq) { total } }"
# shared feeds, operations that run alone, and one refused (a bad cursor)
OPERATIONS: list[tuple[str, dict[str, str]]] = [
    (CHANGES, {}), (COUNTS, {}), (PAGE, {}), (PAGE, {}), (CHANGES, {"since": "garbage"}),
]  # fmt: skip
USER_ERRORS = {
    "{ sequences(first: -1) { totalCount } }": "BAD_USER_INPUT",
    '{ sequences(first: 5, after: "garbage") { totalCount } }': "BAD_USER_INPUT",
    '{ enrollments(sequenceId: "U2VxdWVuY2U6OTk5OQ==") { totalCount } }': "NOT_FOUND",
    '{ enrollments(sequenceId: "nonsense") { totalCount } }': "INVALID_ID",
}


def request(token: str, document: str) -> bytes:
    body = json.dumps({"query": document}).encode()
    return (
        f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def drop(sock: socket.socket, *, reset: bool) -> None:
    """Close without a word: with ``reset``, an RST instead of a FIN."""
    if reset:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def acknowledged(ws: ClientConnection, served: Served) -> None:
    ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": served.token}}))
    assert json.loads(ws.recv(5))["type"] == "connection_ack"


def test_clients_that_go_away_and_client_mistakes_log_no_traceback(tmp_path: Path) -> None:
    with serving(tmp_path) as served:
        headers = {"authorization": f"Bearer {served.token}"}
        with httpx.Client(base_url=served.base, headers=headers, timeout=10) as http:
            created = http.post("/graphql", json={"query": CREATE_SEQUENCE})
            seq = created.json()["data"]["createSequence"]["sequence"]["id"]
            for document, code in USER_ERRORS.items():
                answer = http.post("/graphql", json={"query": document}).json()
                assert answer["errors"][0]["extensions"]["code"] == code, answer

        whole = request(served.token, PAGE)
        url = f"ws://127.0.0.1:{served.port}/graphql"
        for reset in (False, True):
            for _ in range(5):
                partway = open_socket(served)  # the headers and half the body, then gone
                partway.sendall(whole[: len(whole) - 20])
                time.sleep(0.02)
                drop(partway, reset=reset)
                impatient = open_socket(served)  # the whole request, gone before the answer
                impatient.sendall(whole)
                drop(impatient, reset=reset)

            for _ in range(3):
                with connect(url, subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
                    acknowledged(ws, served)
                    for op, (document, variables) in enumerate(OPERATIONS):
                        payload = {"query": document, "variables": {"seq": seq, **variables}}
                        message = {"id": str(op), "type": "subscribe", "payload": payload}
                        ws.send(json.dumps(message))
                    time.sleep(0.1)
                    drop(ws.socket, reset=reset)
        with httpx.Client(base_url=served.base, timeout=10) as http:
            assert http.get("/healthz").status_code == 200  # it served through all that
            time.sleep(0.5)  # what the server does about the last ones is done

    log = "\n".join(served.stderr)
    assert "Traceback" not in log, log
    assert not [line for line in served.stderr if line.startswith("ERROR")], log
