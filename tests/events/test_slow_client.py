"""A client that stops reading, against a real uvicorn server and real websocket clients.

The server runs in this process (so the test can look at its feed hub) on 127.0.0.1.
Two clients share one subscription: a fast one that reads everything, and a slow one
that subscribes and then reads nothing: its `websockets` client stops reading the socket
once it holds a frame, and its socket's receive buffer is small, so the server's writes
to it stop (the server's socket buffers are kept small too). One bulk pause of hundreds
of enrollments then makes hundreds of changes. The slow subscriber falls behind and is
dropped (closed with 4413) without holding anything up; it resubscribes with its last
cursor and misses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from seqgql.app import create_app
from seqgql.domain.selection import Selection
from seqgql.events.log import EventCursor
from seqgql.graphql import feeds, mailbox
from seqgql.graphql.feeds import FeedHub
from seqgql.services.enrollments import pause
from seqgql.settings import Settings
from tests.helpers.factories import gid, make_enrolled
from tests.helpers.waiting import eventually
from tests.helpers.workspace import Workspace

CHANGES = """
subscription($seq: ID!, $since: String) {
  enrollmentStatusChanged(sequenceId: $seq, since: $since) {
    cursor number fromStatus toStatus reason occurredAt
    enrollment { id status reason currentStep enrolledAt nextRunAt updatedAt finishedAt resumeAt }
  }
}"""
ENROLLED = 600  # one bulk pause, this many changes (about 250 fill the buffers)
MAX_PENDING = 50


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
async def serving(app: Starlette) -> AsyncIterator[int]:
    """The app under uvicorn on 127.0.0.1, in this event loop; yields the port."""
    sock = listening_socket()
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="on", log_level="warning",
        timeout_graceful_shutdown=5,
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


async def open_client(port: int, token: str, *, slow: bool = False) -> ClientConnection:
    """An acknowledged graphql-transport-ws connection. A slow one reads nothing it is
    not asked for: at most one frame is queued, and its socket buffers little."""
    options: dict[str, Any] = {}
    if slow:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connecting
        sock.connect(("127.0.0.1", port))  # the kernel completes the handshake
        sock.setblocking(False)
        options = {"sock": sock, "max_queue": 1}
    ws = await connect(
        f"ws://127.0.0.1:{port}/graphql", subprotocols=[Subprotocol("graphql-transport-ws")],
        compression=None, ping_interval=None, close_timeout=2, **options,
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


async def test_a_client_that_stops_reading_is_dropped_and_resumes_from_its_cursor(
    database_url: str, workspace: Workspace, log_readers, monkeypatch: pytest.MonkeyPatch,
    db, clock, transport,
) -> None:  # fmt: skip
    monkeypatch.setattr(mailbox, "MAX_PENDING", MAX_PENDING)
    seq, enrolled = await make_enrolled(db, clock, workspace.actor, ENROLLED)
    app = create_app(
        Settings(database_url=database_url, broadcast_url="memory://", auto_migrate=False,
                 allowed_origins=[], run_engine=False),
        clock=clock, transport=transport,
    )  # fmt: skip
    hub: FeedHub = app.state.feeds
    variables = {"seq": gid("Sequence", seq)}
    async with serving(app) as port:
        fast = await open_client(port, workspace.token)
        slow = await open_client(port, workspace.token, slow=True)
        try:
            await subscribe(fast, "fast", variables)
            await subscribe(slow, "slow", variables)
            await eventually(
                lambda: (
                    hub.subscriber_count == 2
                    and all(feed.task in log_readers for feed in hub.feeds.values())
                ),
                seconds=10.0,
            )
            assert len(hub.feeds) == 1

            peak = 0
            sampling = True

            async def sample() -> None:
                nonlocal peak
                while sampling:
                    peak = max([peak, *hub.pending()])
                    await asyncio.sleep(0.002)

            sampler = asyncio.create_task(sample())
            reader = asyncio.create_task(read_changes(fast, "fast", ENROLLED))
            result = await pause(app.state.db, clock, workspace.actor, Selection(sequence_id=seq))
            assert result.changed_count == ENROLLED
            everything = await asyncio.wait_for(reader, 60)
            sampling = False
            await sampler

            # the fast client: every change once, in order, while the slow one read nothing
            numbers = consecutive(everything)
            assert {c["enrollment"]["id"] for c in everything} == {
                gid("Enrollment", pk) for pk in enrolled
            }
            assert {(c["fromStatus"], c["toStatus"]) for c in everything} == {("ACTIVE", "PAUSED")}
            # nobody was ever more than MAX_PENDING behind; the slow one is gone from the hub
            assert 0 < peak <= MAX_PENDING
            assert hub.subscriber_count == 1, "the slow subscriber was not dropped"
            assert hub.pending() == [0]
            assert len(hub.feeds) == 1

            # the slow client reads again: what was on its way, then the close (4413)
            got = await read_until_closed(slow, "slow")
            assert slow.close_code == feeds.FELL_BEHIND, (slow.close_code, slow.close_reason)
            assert "since" in (slow.close_reason or "")
            assert len(got) < ENROLLED
            if got:
                assert consecutive(got)[0] == numbers[0]
                assert got == everything[: len(got)]
        finally:
            await fast.close()
            await slow.close()

        # it resubscribes with its last cursor: the rest is replayed, nothing twice
        again = await open_client(port, workspace.token)
        try:
            since = got[-1]["cursor"] if got else EventCursor(seq, numbers[0] - 1).encode()
            await subscribe(again, "again", {**variables, "since": since})
            rest = await asyncio.wait_for(read_changes(again, "again", ENROLLED - len(got)), 60)
            assert got + rest == everything
        finally:
            await again.close()
        await eventually(lambda: not hub.feeds, seconds=10.0)
