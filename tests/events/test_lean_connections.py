"""The websocket connection `seqgql serve` runs (``compat.ws_transport``'s lean protocol
and task-less shared subscriptions), against a real uvicorn server: a client whose frames
arrive in pieces after the handshake is still understood (the handshake's parser is
replaced once open); a subscriber that completes its operation and subscribes again with
the same id gets every later change once; one that ends the connection with a closing
handshake leaves its feed.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.client import ClientProtocol
from websockets.exceptions import InvalidStatus
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.server import ServerProtocol
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from seqgql.compat.ws_transport import LeanFrames
from seqgql.domain.selection import Selection
from seqgql.graphql import ws as ws_handlers
from seqgql.graphql.feeds import FeedHub
from seqgql.persistence.tables import api_tokens
from seqgql.services.auth import hash_token, issue_token
from seqgql.services.enrollments import pause
from tests.helpers.direct_frames import app_for, live_on_one_feed
from tests.helpers.factories import gid, make_enrolled
from tests.helpers.raw_websockets import (
    CHANGES,
    consecutive,
    open_client,
    read_changes,
    serving,
    subscribe,
)
from tests.helpers.waiting import eventually
from tests.helpers.workspace import Workspace

ENROLLED = 3


class PiecemealClient:
    """graphql-transport-ws over a plain socket, every frame it sends written a few
    bytes at a time (a slow network), and what it receives parsed by websockets."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.ws = ClientProtocol(
            parse_uri("ws://127.0.0.1/graphql"),
            subprotocols=[Subprotocol("graphql-transport-ws")],
        )
        self.messages: list[dict[str, Any]] = []

    @classmethod
    async def connect(cls, port: int) -> PiecemealClient:
        client = cls(*await asyncio.open_connection("127.0.0.1", port))
        client.ws.send_request(client.ws.connect())
        await client.flush(piece=None)
        while not any(isinstance(e, Response) for e in await client.events()):
            pass
        return client

    async def flush(self, piece: int | None = 3) -> None:
        for data in self.ws.data_to_send():
            step = piece or len(data) or 1
            for start in range(0, len(data), step):
                self.writer.write(data[start : start + step])
                await self.writer.drain()
                await asyncio.sleep(0.002)  # its own TCP segment, as like as not

    async def events(self) -> list[Any]:
        data = await asyncio.wait_for(self.reader.read(65_536), 20)
        if data:
            self.ws.receive_data(data)
        else:
            self.ws.receive_eof()
        return list(self.ws.events_received())

    async def send(self, message: dict[str, Any]) -> None:
        self.ws.send_text(json.dumps(message).encode())
        await self.flush()

    async def receive(self) -> dict[str, Any]:
        while not self.messages:
            for event in await self.events():
                if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                    self.messages.append(json.loads(event.data))
        return self.messages.pop(0)


async def test_frames_that_arrive_in_pieces_after_the_handshake_are_understood(
    database_url: str, workspace: Workspace, log_readers, db, clock, transport,
) -> None:  # fmt: skip
    seq, _ = await make_enrolled(db, clock, workspace.actor, ENROLLED)
    app = app_for(database_url, clock, transport)
    hub: FeedHub = app.state.feeds
    async with serving(app) as port:
        client = await PiecemealClient.connect(port)
        auth = {"authorization": f"Bearer {workspace.token}"}
        await client.send({"type": "connection_init", "payload": auth})
        assert (await client.receive())["type"] == "connection_ack"
        await client.send({"type": "ping"})
        assert (await client.receive())["type"] == "pong"
        payload = {"query": CHANGES, "variables": {"seq": gid("Sequence", seq)}}
        await client.send({"id": "1", "type": "subscribe", "payload": payload})
        await live_on_one_feed(hub, log_readers, 1)
        [feed] = hub.feeds.values()
        [mailbox] = feed.mailboxes
        # every attribute of uvicorn's protocol is in a slot: a uvicorn that sets one more
        # fails here (add it to LeanWebSocketProtocol.__slots__)
        assert vars(mailbox.frames._protocol) == {}  # type: ignore[union-attr]

        await pause(app.state.db, clock, workspace.actor, Selection(sequence_id=seq))
        received = [await client.receive() for _ in range(ENROLLED)]
        assert all(m["type"] == "next" and m["id"] == "1" for m in received), received
        changes = [m["payload"]["data"]["enrollmentStatusChanged"] for m in received]
        assert len(consecutive(changes)) == ENROLLED

        client.ws.send_close(1000)  # the closing handshake, in pieces too
        await client.flush()
        while not client.ws.close_rcvd:
            await client.events()
        assert client.ws.close_rcvd.code == 1000
        client.writer.close()
        await eventually(lambda: hub.subscriber_count == 0, seconds=10.0)


async def test_an_id_completed_then_subscribed_again_gets_every_later_change_once(
    database_url: str, workspace: Workspace, log_readers, db, clock, transport,
) -> None:  # fmt: skip
    seq, _ = await make_enrolled(db, clock, workspace.actor, 2 * ENROLLED)
    app = app_for(database_url, clock, transport)
    hub: FeedHub = app.state.feeds
    variables = {"seq": gid("Sequence", seq)}
    async with serving(app) as port:
        ws = await open_client(port, workspace.token)
        try:
            await subscribe(ws, "a", variables)
            await live_on_one_feed(hub, log_readers, 1)
            await ws.send(json.dumps({"id": "a", "type": "complete"}))
            await eventually(lambda: hub.subscriber_count == 0, seconds=10.0)
            await subscribe(ws, "a", variables)
            await live_on_one_feed(hub, log_readers, 1)

            await pause(app.state.db, clock, workspace.actor, Selection(sequence_id=seq))
            changes = await asyncio.wait_for(read_changes(ws, "a", 2 * ENROLLED), 30)
            assert len(consecutive(changes)) == 2 * ENROLLED  # once each, in order
        finally:
            await ws.close()
        await eventually(lambda: hub.subscriber_count == 0, seconds=10.0)


async def test_a_graphql_websocket_past_the_stack_keeps_its_request_id(
    database_url: str, workspace: Workspace, db, clock, transport,
) -> None:  # fmt: skip
    """Websockets to /graphql skip Starlette's stack (``seqgql.websocket_lane``): the
    handshake's answer still carries the request id (the client's when sensible, else a
    new one), and a websocket to any other path is still refused by the router."""
    app = app_for(database_url, clock, transport)
    protocols = [Subprotocol("graphql-transport-ws")]
    async with serving(app) as port:
        url = f"ws://127.0.0.1:{port}/graphql"
        async with connect(
            url, subprotocols=protocols, additional_headers={"x-request-id": "ws-check-1"}
        ) as mine:
            assert mine.response.headers["x-request-id"] == "ws-check-1"
            auth = {"authorization": f"Bearer {workspace.token}"}
            await mine.send(json.dumps({"type": "connection_init", "payload": auth}))
            assert json.loads(await asyncio.wait_for(mine.recv(), 10))["type"] == "connection_ack"
        async with connect(
            url, subprotocols=protocols, additional_headers={"x-request-id": "a b" * 100}
        ) as made:
            assert re.fullmatch(r"[0-9a-f]{32}", made.response.headers["x-request-id"])
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"ws://127.0.0.1:{port}/elsewhere", subprotocols=protocols):
                pass
        assert refused.value.response.status_code == 403


async def test_keepalive_pings_reach_idle_clients_and_one_that_never_answers_is_closed(
    database_url: str, workspace: Workspace, db, clock, transport,
) -> None:  # fmt: skip
    """The lean protocol's pings come from one schedule per event loop (``ws_idle.Pings``), not
    a timer per connection: an idle client still gets one about every interval (and
    its pongs keep it open), and one that never answers is closed with 1011 once the
    pong's deadline passes."""
    app = app_for(database_url, clock, transport)
    async with serving(app, ws_ping_interval=1.0, ws_ping_timeout=1.0) as port:
        answering = await PiecemealClient.connect(port)
        silent = await PiecemealClient.connect(port)
        pings = 0
        loop = asyncio.get_running_loop()
        started = loop.time()
        while loop.time() - started < 5.0:
            events = await answering.events()
            pings += sum(isinstance(e, Frame) and e.opcode is Opcode.PING for e in events)
            await answering.flush(piece=None)  # the pongs websockets queued
        assert pings >= 3, pings
        assert answering.ws.close_rcvd is None  # still open

        while silent.ws.close_rcvd is None:  # reads, never sends its pongs
            await silent.events()
        assert silent.ws.close_rcvd.code == 1011
        for client in (answering, silent):
            client.writer.close()


async def test_a_whole_pong_is_read_without_websockets_parser_and_only_the_right_one(
    database_url: str, workspace: Workspace, db, clock, transport,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """A pong that arrives whole, answering the ping in flight, is taken as uvicorn takes
    it (the next ping follows) without websockets' parser seeing it (which renews its
    per-frame objects on every connection at every ping: long young collections at
    10,000); one in pieces goes through the parser and keeps the connection open too; a
    whole pong of another payload is ignored, as uvicorn ignores it: closed with 1011."""
    parsed: list[bytes] = []
    receive_data = ServerProtocol.receive_data

    def spied(self: ServerProtocol, data: bytes) -> None:
        parsed.append(bytes(data))
        receive_data(self, data)

    monkeypatch.setattr(ServerProtocol, "receive_data", spied)
    app = app_for(database_url, clock, transport)
    async with serving(app, ws_ping_interval=1.0, ws_ping_timeout=1.0) as port:
        clients = {
            "whole": await PiecemealClient.connect(port),
            "pieces": await PiecemealClient.connect(port),
            "stale": await PiecemealClient.connect(port),
        }
        pings = dict.fromkeys(clients, 0)
        loop = asyncio.get_running_loop()
        started = loop.time()
        while loop.time() - started < 6.5:
            for name, client in clients.items():
                if client.ws.close_rcvd is not None:
                    continue
                try:
                    events = await asyncio.wait_for(client.events(), 0.3)
                except TimeoutError:
                    continue
                got = sum(isinstance(e, Frame) and e.opcode is Opcode.PING for e in events)
                pings[name] += got
                if name == "stale" and got:
                    client.ws.data_to_send()  # not the pong websockets queued, but…
                    client.ws.send_pong(b"nope")  # …one of another payload, whole
                await client.flush(piece=3 if name == "pieces" else None)
        while clients["stale"].ws.close_rcvd is None:
            await clients["stale"].events()
        assert clients["stale"].ws.close_rcvd.code == 1011
        assert pings["whole"] >= 2 and pings["pieces"] >= 2, pings  # answered, pinged again
        for name in ("whole", "pieces"):
            assert clients[name].ws.close_rcvd is None, name  # still open
        # what websockets' parser read: pongs in pieces, the stale pongs; no whole pong
        pongs = [d for d in parsed if len(d) == 10 and d[0] == 0x8A]
        assert pongs and all(
            bytes(b ^ m for b, m in zip(d[6:], d[2:6], strict=True)) == b"nope" for d in pongs
        ), pongs
        assert any(len(d) == 3 and d[0] == 0x8A for d in parsed)  # a pong's first piece
        for client in clients.values():
            client.writer.close()


async def test_the_direct_writer_of_a_connection_the_server_closed_writes_nothing(
    database_url: str, workspace: Workspace, log_readers, db, clock, transport,
) -> None:  # fmt: skip
    """Its token revoked, a subscriber is closed with 4403. Its direct writer
    (``LeanFrames``, told by the protocol) refuses to write from the close on, even while
    the client has not answered it (uvicorn then waits up to 10 s for the answer); the
    feed's other subscriber still gets the next change."""
    seq, _ = await make_enrolled(db, clock, workspace.actor, ENROLLED)
    issued = await issue_token(db, clock, email="closer@example.com", workspace=workspace.name)
    app = app_for(database_url, clock, transport)
    hub: FeedHub = app.state.feeds
    variables = {"seq": gid("Sequence", seq)}
    async with serving(app) as port:
        watcher = await open_client(port, workspace.token)
        closing = await PiecemealClient.connect(port)
        try:
            auth = {"authorization": f"Bearer {issued.token}"}
            await closing.send({"type": "connection_init", "payload": auth})
            assert (await closing.receive())["type"] == "connection_ack"
            payload = {"query": CHANGES, "variables": variables}
            await closing.send({"id": "1", "type": "subscribe", "payload": payload})
            await live_on_one_feed(hub, log_readers, 1)
            [feed] = hub.feeds.values()
            [mailbox] = feed.mailboxes
            writer = mailbox.frames
            assert writer is not None and writer.write(b"")  # open: an empty write is fine
            await subscribe(watcher, "w", variables)
            await live_on_one_feed(hub, log_readers, 2)

            async with db.write() as conn:
                await conn.execute(
                    api_tokens.delete().where(api_tokens.c.token_hash == hash_token(issued.token))
                )
            while closing.ws.close_rcvd is None:  # read, but never answer the close
                await closing.events()
            assert closing.ws.close_rcvd.code == 4403
            assert not writer.write(b"\x81\x00")  # nothing after the close frame

            await pause(app.state.db, clock, workspace.actor, Selection(sequence_id=seq))
            assert len(consecutive(await read_changes(watcher, "w", ENROLLED))) == ENROLLED
        finally:
            await watcher.close()
            closing.writer.close()


async def raw_acknowledgement(port: int, token: str) -> bytes:
    """The bytes a server answers ``connection_init`` with, read off a plain socket."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            b"GET /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 101 "), head
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        writer.write(Frame(Opcode.TEXT, json.dumps(init).encode()).serialize(mask=True))
        start = await asyncio.wait_for(reader.readexactly(2), 10)
        return start + await asyncio.wait_for(reader.readexactly(start[1] & 0x7F), 10)
    finally:
        writer.close()


async def test_the_acknowledgement_written_directly_is_the_one_asgi_sends(
    database_url: str, workspace: Workspace, clock, transport, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The lean protocol's ``connection_ack`` is a frame made once, written straight to the
    connection; without a direct writer it goes through ASGI: the same bytes."""
    app = app_for(database_url, clock, transport)
    written: list[bytes] = []
    write = LeanFrames.write

    def spied(frames: LeanFrames, frame: bytes) -> bool:
        written.append(frame)
        return write(frames, frame)

    monkeypatch.setattr(LeanFrames, "write", spied)
    async with serving(app) as port:
        direct = await raw_acknowledgement(port, workspace.token)
        assert written == [direct]  # not through ASGI
        written.clear()
        monkeypatch.setattr(ws_handlers, "frames_of", lambda scope: None)
        through_asgi = await raw_acknowledgement(port, workspace.token)
        assert written == []
    assert direct == through_asgi
    assert json.loads(direct[2:]) == {"type": "connection_ack", "payload": None}
