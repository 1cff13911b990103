"""Real websocket clients (the ``websockets`` library) against the app under a real
uvicorn server in the test's event loop: graphql-transport-ws by hand, and a client that
can stop reading (its socket buffers little)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.helpers.waiting import eventually

CHANGES = """
subscription($seq: ID!, $since: String) {
  enrollmentStatusChanged(sequenceId: $seq, since: $since) {
    cursor number fromStatus toStatus reason occurredAt
    enrollment { id status reason currentStep enrolledAt nextRunAt updatedAt finishedAt resumeAt }
  }
}"""


def listening_socket() -> socket.socket:
    """127.0.0.1 on a free port, with a small send buffer that the connections accepted on
    it inherit (left alone, Linux grows it to megabytes: a client that reads nothing
    would then take a long time to hold the server's writes up)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16_384)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


@contextlib.asynccontextmanager
async def serving(app: Starlette, **options: Any) -> AsyncIterator[int]:
    """The app under uvicorn on 127.0.0.1, in this event loop, with the websockets
    protocol `seqgql serve` runs (``seqgql.serving``); yields the port. ``options``: more
    of uvicorn's settings (``ws_ping_interval``…, or another ``ws`` protocol)."""
    from seqgql.serving import HTTP_PROTOCOL, WS_PROTOCOL

    sock = listening_socket()
    port = int(sock.getsockname()[1])
    options = {"ws": WS_PROTOCOL, "http": HTTP_PROTOCOL, **options}
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="on", log_level="warning",
        timeout_graceful_shutdown=5, **options,
    )  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await eventually(lambda: server.started or task.done(), seconds=10.0)
        assert server.started, task
        yield port
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)
        sock.close()


async def open_client(
    port: int, token: str, *, slow: bool = False, deflate: bool = False
) -> ClientConnection:
    """An acknowledged graphql-transport-ws connection. A slow one reads nothing it is
    not asked for: at most one frame is queued, and its socket buffers little. ``deflate``:
    it negotiates permessage-deflate."""
    options: dict[str, Any] = {}
    if slow:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connecting
        sock.connect(("127.0.0.1", port))  # the kernel completes the handshake
        sock.setblocking(False)
        options = {"sock": sock, "max_queue": 1}
    ws = await connect(
        f"ws://127.0.0.1:{port}/graphql", subprotocols=[Subprotocol("graphql-transport-ws")],
        compression="deflate" if deflate else None, ping_interval=None, close_timeout=2,
        **options,
    )  # fmt: skip
    await ws.send(
        json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
    )
    assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
    return ws


async def subscribe(ws: ClientConnection, op_id: str, variables: dict[str, Any]) -> None:
    await ws.send(json.dumps({"id": op_id, "type": "subscribe",
                              "payload": {"query": CHANGES, "variables": variables}}))  # fmt: skip


def change_of(raw: str | bytes, op_id: str) -> dict[str, Any]:
    message = json.loads(raw)
    assert message["type"] == "next" and message["id"] == op_id, message
    assert "errors" not in message["payload"], message
    data: dict[str, Any] = message["payload"]["data"]["enrollmentStatusChanged"]
    return data


async def read_changes(ws: ClientConnection, op_id: str, count: int) -> list[dict[str, Any]]:
    return [change_of(await ws.recv(), op_id) for _ in range(count)]


async def read_until_closed(ws: ClientConnection, op_id: str) -> list[dict[str, Any]]:
    """Everything that reaches the client before the server closes the connection."""
    received = []
    with contextlib.suppress(ConnectionClosed):
        while True:
            received.append(change_of(await asyncio.wait_for(ws.recv(), 10), op_id))
    return received


def consecutive(changes: list[dict[str, Any]]) -> list[int]:
    numbers = [c["number"] for c in changes]
    if numbers:
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), numbers
    return numbers
