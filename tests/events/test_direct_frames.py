"""Shared subscriptions written straight to the connections' transports
(``compat.ws_transport``), against a real uvicorn server and real websocket clients.

Several subscribers, on two connections (each with its own operation ids), share one feed;
the feed writes every message's frame to each connection itself. Every subscriber gets
every change of a bulk pause once, in order, with its own id; one connection that goes
away in the middle of the fan-out costs the others nothing. (A client that stops reading
is closed with 4413 and resumes from its cursor: ``test_slow_client``, on this same path.)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from typing import Any

from websockets.asyncio.client import ClientConnection

from seqgql.domain.selection import Selection
from seqgql.graphql.feeds import FeedHub
from seqgql.services.enrollments import pause
from tests.helpers.direct_frames import app_for, live_on_one_feed
from tests.helpers.factories import gid, make_enrolled
from tests.helpers.raw_websockets import consecutive, open_client, serving, subscribe
from tests.helpers.waiting import eventually
from tests.helpers.workspace import Workspace

ENROLLED = 120
IDS = ("a", "b", "c")  # the operation ids on each connection


async def read_by_id(ws: ClientConnection, count: int) -> dict[str, list[dict[str, Any]]]:
    """``count`` "next" messages, by operation id."""
    by_id: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for _ in range(count):
        message = json.loads(await asyncio.wait_for(ws.recv(), 20))
        assert message["type"] == "next" and "errors" not in message["payload"], message
        by_id[message["id"]].append(message["payload"]["data"]["enrollmentStatusChanged"])
    return by_id


async def test_subscribers_on_two_connections_get_every_change_once_in_order_with_their_id(
    database_url: str, workspace: Workspace, log_readers, db, clock, transport,
) -> None:  # fmt: skip
    seq, enrolled = await make_enrolled(db, clock, workspace.actor, ENROLLED)
    app = app_for(database_url, clock, transport)
    hub: FeedHub = app.state.feeds
    variables = {"seq": gid("Sequence", seq)}
    async with serving(app) as port:
        first = await open_client(port, workspace.token)
        # permessage-deflate negotiated: the frames written directly are sent uncompressed
        second = await open_client(port, workspace.token, deflate=True)
        try:
            assert second.protocol.extensions and not first.protocol.extensions
            for ws in (first, second):
                for op_id in IDS:
                    await subscribe(ws, op_id, variables)
            await live_on_one_feed(hub, log_readers, 2 * len(IDS))

            readers = [
                asyncio.create_task(read_by_id(ws, ENROLLED * len(IDS))) for ws in (first, second)
            ]
            result = await pause(app.state.db, clock, workspace.actor, Selection(sequence_id=seq))
            assert result.changed_count == ENROLLED
            received = await asyncio.wait_for(asyncio.gather(*readers), 60)
        finally:
            await first.close()
            await second.close()

    expected = {gid("Enrollment", pk) for pk in enrolled}
    everything = received[0]["a"]
    numbers = consecutive(everything)
    assert len(numbers) == ENROLLED
    assert {c["enrollment"]["id"] for c in everything} == expected
    for by_id in received:
        assert sorted(by_id) == sorted(IDS)
        for changes in by_id.values():
            assert changes == everything  # the same changes, in the same order, once each


async def test_a_connection_gone_in_the_middle_of_a_fan_out_costs_the_others_nothing(
    database_url: str, workspace: Workspace, log_readers, db, clock, transport, caplog,
) -> None:  # fmt: skip
    seq, enrolled = await make_enrolled(db, clock, workspace.actor, ENROLLED)
    app = app_for(database_url, clock, transport)
    hub: FeedHub = app.state.feeds
    variables = {"seq": gid("Sequence", seq)}
    async with serving(app) as port:
        staying = await open_client(port, workspace.token)
        leaving = await open_client(port, workspace.token)
        try:
            await subscribe(staying, "a", variables)
            await subscribe(leaving, "a", variables)
            await live_on_one_feed(hub, log_readers, 2)

            reader = asyncio.create_task(read_by_id(staying, ENROLLED))

            async def leave_after_the_first_message() -> None:
                await leaving.recv()
                leaving.transport.abort()  # gone, without a closing handshake

            leaver = asyncio.create_task(leave_after_the_first_message())
            result = await pause(app.state.db, clock, workspace.actor, Selection(sequence_id=seq))
            assert result.changed_count == ENROLLED
            received = await asyncio.wait_for(reader, 60)
            await asyncio.wait_for(leaver, 20)
            await eventually(lambda: hub.subscriber_count == 1, seconds=10.0)
        finally:
            await staying.close()
            with contextlib.suppress(Exception):
                await leaving.close()
        await eventually(lambda: not hub.feeds, seconds=10.0)

    changes = received["a"]
    assert len(consecutive(changes)) == ENROLLED
    assert {c["enrollment"]["id"] for c in changes} == {gid("Enrollment", pk) for pk in enrolled}
    # nothing the server said about it (what other tests left to the garbage collector
    # may log meanwhile, under asyncio's logger)
    assert not [
        r for r in caplog.records
        if r.levelno >= logging.ERROR and r.name.startswith(("seqgql", "uvicorn", "strawberry"))
    ]  # fmt: skip


async def test_an_operation_the_client_completes_gets_nothing_more_and_the_other_goes_on(
    database_url: str, workspace: Workspace, log_readers, db, clock, transport,
) -> None:  # fmt: skip
    seq, enrolled = await make_enrolled(db, clock, workspace.actor, ENROLLED)
    app = app_for(database_url, clock, transport)
    hub: FeedHub = app.state.feeds
    variables = {"seq": gid("Sequence", seq)}
    async with serving(app) as port:
        ws = await open_client(port, workspace.token)
        try:
            await subscribe(ws, "a", variables)
            await subscribe(ws, "b", variables)
            await live_on_one_feed(hub, log_readers, 2)
            await ws.send(json.dumps({"id": "a", "type": "complete"}))
            await eventually(lambda: hub.subscriber_count == 1, seconds=10.0)

            reader = asyncio.create_task(read_by_id(ws, ENROLLED))
            result = await pause(app.state.db, clock, workspace.actor, Selection(sequence_id=seq))
            assert result.changed_count == ENROLLED
            received = await asyncio.wait_for(reader, 60)
        finally:
            await ws.close()

    assert sorted(received) == ["b"]
    changes = received["b"]
    assert len(consecutive(changes)) == ENROLLED
    assert {c["enrollment"]["id"] for c in changes} == {gid("Enrollment", pk) for pk in enrolled}
