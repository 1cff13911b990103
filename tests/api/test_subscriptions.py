"""Subscriptions over a websocket (graphql-transport-ws) through the ASGI app."""

from __future__ import annotations

import asyncio
import operator
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from httpx_ws import WebSocketDisconnect, aconnect_ws
from starlette.applications import Starlette

from seqgql.app import MAX_SUBSCRIPTIONS_PER_CONNECTION
from seqgql.domain.selection import Selection
from seqgql.domain.status import FinishReason
from seqgql.events.log import EventCursor
from seqgql.graphql import subscriptions
from seqgql.services.enrollments import finish, pause, remove
from tests.helpers.factories import gid, make_enrolled
from tests.helpers.graphql_client import GraphQLClient
from tests.helpers.subscriptions import (
    CHANGES,
    COUNTS,
    MESSAGE_SECONDS,
    ack,
    connect,
    in_process_client,
    next_data,
    slowly_polling_app,
    subscribe,
)
from tests.helpers.waiting import eventually
from tests.helpers.workspace import Workspace


async def test_changes_replay_then_live(app: Starlette, workspace: Workspace, db, clock) -> None:
    seq, ids = await make_enrolled(db, clock, workspace.actor, 3)
    async with connect(app, workspace.token) as ws:
        await ack(ws)
        # from the beginning of the log: the three enrollments
        # no since: live only; pause two and see exactly those two changes
        variables = {"seq": gid("Sequence", seq)}
        await subscribe(ws, "1", CHANGES, variables)
        await pause(db, clock, workspace.actor, Selection(ids=tuple(ids[:2])))
        first = (await next_data(ws))["enrollmentStatusChanged"]
        second = (await next_data(ws))["enrollmentStatusChanged"]
        assert [first["toStatus"], second["toStatus"]] == ["PAUSED", "PAUSED"]
        assert first["fromStatus"] == "ACTIVE" and first["reason"] == "MANUAL"
        assert first["actor"]["email"].startswith("admin@")
        assert second["number"] == first["number"] + 1
        cursor = first["cursor"]
        await ws.send_json({"id": "1", "type": "complete"})

    # reconnect with the first cursor: the second change is replayed, then live ones
    async with connect(app, workspace.token) as ws:
        await ack(ws)
        variables = {"seq": gid("Sequence", seq), "since": cursor}
        await subscribe(ws, "2", CHANGES, variables)
        replayed = (await next_data(ws))["enrollmentStatusChanged"]
        assert replayed["number"] == second["number"]
        await remove(db, clock, workspace.actor, Selection(ids=(ids[2],)))
        live = (await next_data(ws))["enrollmentStatusChanged"]
        assert live["toStatus"] == "REMOVED" and live["number"] == second["number"] + 1


async def test_counts_sent_on_subscribe_and_on_change(
    app: Starlette, workspace: Workspace, db, clock
) -> None:
    seq, ids = await make_enrolled(db, clock, workspace.actor, 4)
    async with connect(app, workspace.token) as ws:
        await ack(ws)
        await subscribe(ws, "c", COUNTS, {"seq": gid("Sequence", seq)})
        initial = (await next_data(ws))["sequenceStatusCounts"]
        assert initial["total"] == 4
        assert {c["status"]: c["count"] for c in initial["counts"]}["ACTIVE"] == 4
        await pause(db, clock, workspace.actor, Selection(ids=tuple(ids[:3])))
        changed = (await next_data(ws))["sequenceStatusCounts"]
        counts = {c["status"]: c["count"] for c in changed["counts"]}
        assert counts["PAUSED"] == 3 and counts["ACTIVE"] == 1


async def test_connection_without_token_is_rejected(app: Starlette) -> None:
    async with connect(app, None) as ws:
        with pytest.raises(WebSocketDisconnect) as closed:
            await asyncio.wait_for(ws.receive_json(), MESSAGE_SECONDS)
    assert closed.value.code == 4403


@pytest.mark.parametrize(
    ("hostile", "reason"),
    [
        (b"\x00\xff binary", "WebSocket message type must be text"),
        ("not json {", "WebSocket message must be valid JSON"),
        ("", "WebSocket message must be valid JSON"),
        ('{"type": "ping", "payload": NaN}', "WebSocket message must be valid JSON"),
    ],
)
async def test_a_message_that_is_not_json_text_closes_the_connection_with_4400(
    app: Starlette, workspace: Workspace, hostile: bytes | str, reason: str
) -> None:
    """After a working exchange (the receive loop is ``ws_socket.SocketAdapter``'s), a binary or
    unparsable message ends the connection with the protocol's 4400 and why."""
    async with connect(app, workspace.token) as ws:
        await ack(ws)
        await ws.send_json({"type": "ping"})
        assert (await asyncio.wait_for(ws.receive_json(), MESSAGE_SECONDS))["type"] == "pong"
        if isinstance(hostile, bytes):
            await ws.send_bytes(hostile)
        else:
            await ws.send_text(hostile)
        with pytest.raises(WebSocketDisconnect) as closed:
            await asyncio.wait_for(ws.receive_json(), MESSAGE_SECONDS)
    assert (closed.value.code, closed.value.reason) == (4400, reason)


async def test_a_connection_without_connection_init_in_time_is_closed_with_4408(
    app: Starlette, workspace: Workspace
) -> None:
    """connection_init's deadline (a timer per connection, ``ws``): a client that sends
    none in time is closed with the protocol's 4408; one that did stays open past it."""
    app.graphql_websockets.connection_init_wait_timeout = timedelta(seconds=0.5)  # type: ignore[attr-defined]
    async with connect(app, workspace.token) as prompt:
        await ack(prompt)
        async with (
            in_process_client(app) as client,
            aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"]) as silent,
        ):
            with pytest.raises(WebSocketDisconnect) as closed:
                await asyncio.wait_for(silent.receive_json(), MESSAGE_SECONDS)
        assert closed.value.code == 4408
        assert closed.value.reason == "Connection initialisation timeout"
        await prompt.send_json({"type": "ping"})
        assert (await asyncio.wait_for(prompt.receive_json(), MESSAGE_SECONDS))["type"] == "pong"


async def test_event_cursor_read_with_a_page_then_since_misses_nothing(
    app: Starlette, gql: GraphQLClient, workspace: Workspace, db, clock
) -> None:
    seq, ids = await make_enrolled(db, clock, workspace.actor, 3)
    read = await gql.execute(
        "query($id: ID!) { sequence(id: $id) { eventCursor } "
        "enrollments(sequenceId: $id) { totalCount } }",
        {"id": gid("Sequence", seq)},
    )
    cursor = read["sequence"]["eventCursor"]
    # a change between the read and the subscription
    await finish(db, clock, workspace.actor, Selection(ids=(ids[0],)), reason=FinishReason.REPLIED)
    async with connect(app, workspace.token) as ws:
        await ack(ws)
        variables = {"seq": gid("Sequence", seq), "since": cursor}
        await subscribe(ws, "1", CHANGES, variables)
        change = (await next_data(ws))["enrollmentStatusChanged"]
        assert change["toStatus"] == "FINISHED"
        assert change["enrollment"]["id"] == gid("Enrollment", ids[0])


async def test_a_cursor_of_another_sequence_is_refused(
    app: Starlette, workspace: Workspace, db, clock
) -> None:
    seq_a, _ = await make_enrolled(db, clock, workspace.actor, 1)
    seq_b, _ = await make_enrolled(db, clock, workspace.actor, 1)
    async with connect(app, workspace.token) as ws:
        await ack(ws)
        foreign = EventCursor(seq_b, 1).encode()
        variables = {"seq": gid("Sequence", seq_a), "since": foreign}
        await subscribe(ws, "1", CHANGES, variables)
        message = await asyncio.wait_for(ws.receive_json(), MESSAGE_SECONDS)
        assert message["type"] in ("error", "next")
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert "since" in str(errors)


async def test_the_legacy_graphql_ws_protocol_works_too(
    app: Starlette, workspace: Workspace, db, clock
) -> None:
    seq, ids = await make_enrolled(db, clock, workspace.actor, 1)
    async with (
        in_process_client(app) as client,
        aconnect_ws("/graphql", client, subprotocols=["graphql-ws"]) as ws,
    ):
        await ws.send_json(
            {"type": "connection_init", "payload": {"authorization": f"Bearer {workspace.token}"}}
        )
        assert (await asyncio.wait_for(ws.receive_json(), MESSAGE_SECONDS))[
            "type"
        ] == "connection_ack"
        await ws.send_json({"id": "1", "type": "start", "payload": {
            "query": CHANGES, "variables": {"seq": gid("Sequence", seq)}}})  # fmt: skip
        await asyncio.sleep(0.2)
        await remove(db, clock, workspace.actor, Selection(ids=(ids[0],)))
        while True:
            message = await asyncio.wait_for(ws.receive_json(), MESSAGE_SECONDS)
            if message["type"] != "ka":
                break
        assert message["type"] == "data"
        assert message["payload"]["data"]["enrollmentStatusChanged"]["toStatus"] == "REMOVED"


async def test_subscriptions_per_connection_are_limited(
    app: Starlette, workspace: Workspace, db, clock
) -> None:
    seq, _ = await make_enrolled(db, clock, workspace.actor, 1)
    variables = {"seq": gid("Sequence", seq)}
    async with connect(app, workspace.token) as ws:
        await ack(ws)
        for i in range(MAX_SUBSCRIPTIONS_PER_CONNECTION + 1):
            await subscribe(ws, str(i), CHANGES, variables)
        message = await asyncio.wait_for(ws.receive_json(), MESSAGE_SECONDS)
    assert message["type"] == "error"
    assert message["id"] == str(MAX_SUBSCRIPTIONS_PER_CONNECTION)
    assert "limit" in message["payload"][0]["message"].lower()


def commit_during_a_read(
    monkeypatch: pytest.MonkeyPatch, reader: str, change: Callable[[], Awaitable[Any]],
    when: Callable[[Any], bool] = operator.not_,
) -> asyncio.Event:  # fmt: skip
    """Have the subscriptions' ``reader`` (a function reading the log) commit ``change`` once
    its read has run, the next time what it found passes ``when`` (by default: nothing)
    after the returned event is set: a commit after the read's snapshot and before the
    reader waits again."""
    armed = asyncio.Event()
    original = getattr(subscriptions, reader)

    async def reading(*args: Any, **kwargs: Any) -> Any:
        found = await original(*args, **kwargs)
        if armed.is_set() and when(found):
            armed.clear()
            await change()
        return found

    monkeypatch.setattr(subscriptions, reader, reading)
    return armed


async def test_a_change_committed_while_a_subscriber_reads_the_log_wakes_it(
    database_url: str, workspace: Workspace, db, clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wake-up of a change committed after a subscriber's read of the log began (its
    snapshot misses the change) and before it waits again is not lost: the subscriber
    reads again at once, not at its next poll. The read is a short one (it found fewer
    changes than a batch): the subscriber waits after it without reading again."""
    seq, ids = await make_enrolled(db, clock, workspace.actor, 2)
    app = slowly_polling_app(database_url, clock)

    def pause_one(pk: int) -> Awaitable[Any]:
        # through the app's own database: its commits wake the app's subscribers
        return pause(app.state.db, clock, workspace.actor, Selection(ids=(pk,)))

    during_a_read = commit_during_a_read(
        monkeypatch, "events_after", lambda: pause_one(ids[1]), when=lambda found: len(found) > 0
    )
    async with app.router.lifespan_context(app), connect(app, workspace.token) as ws:
        await ack(ws)
        await subscribe(ws, "1", CHANGES, {"seq": gid("Sequence", seq)})
        await asyncio.sleep(0.3)  # subscribed, waiting
        during_a_read.set()
        await pause_one(ids[0])  # its read commits ids[1]
        first = (await next_data(ws))["enrollmentStatusChanged"]
        await eventually(lambda: not during_a_read.is_set())
        second = (await next_data(ws, seconds=3))["enrollmentStatusChanged"]
        assert second["number"] == first["number"] + 1


async def test_one_change_is_one_read_of_the_log(
    database_url: str, workspace: Workspace, db, clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A subscriber woken by a change reads the log once: a read that found fewer changes
    than a batch took all that was committed before it, so it waits for the next wake-up
    instead of reading again to find nothing (a statement a change saved, at every shared
    feed); a change committed meanwhile is still seen (the test above)."""
    seq, ids = await make_enrolled(db, clock, workspace.actor, 2)
    app = slowly_polling_app(database_url, clock)
    reads: list[int] = []
    original = subscriptions.events_after

    async def counted(*args: Any, **kwargs: Any) -> Any:
        found = await original(*args, **kwargs)
        reads.append(len(found))
        return found

    monkeypatch.setattr(subscriptions, "events_after", counted)
    async with app.router.lifespan_context(app), connect(app, workspace.token) as ws:
        await ack(ws)
        await subscribe(ws, "1", CHANGES, {"seq": gid("Sequence", seq)})
        await eventually(lambda: reads == [0])  # subscribed: one read, nothing yet
        for pk in ids:
            await pause(app.state.db, clock, workspace.actor, Selection(ids=(pk,)))
            change = (await next_data(ws))["enrollmentStatusChanged"]
            assert change["enrollment"]["id"] == gid("Enrollment", pk)
        await asyncio.sleep(0.3)
        assert reads == [0, 1, 1]


async def test_a_change_committed_while_a_counts_subscriber_reads_wakes_it(
    database_url: str, workspace: Workspace, db, clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same for the counts: a wake-up that finds nothing new, and a change committed
    during that look, which then is not left until the next poll."""
    seq, ids = await make_enrolled(db, clock, workspace.actor, 2)
    app = slowly_polling_app(database_url, clock)
    latest = await subscriptions.last_numbers(db, workspace.actor.workspace_id, [seq])

    async def pause_one() -> None:
        await pause(app.state.db, clock, workspace.actor, Selection(ids=(ids[0],)))

    during_a_read = commit_during_a_read(
        monkeypatch, "last_numbers", pause_one, when=lambda found: found == latest
    )
    async with app.router.lifespan_context(app), connect(app, workspace.token) as ws:
        await ack(ws)
        await subscribe(ws, "c", COUNTS, {"seq": gid("Sequence", seq)})
        initial = (await next_data(ws))["sequenceStatusCounts"]
        assert {c["status"]: c["count"] for c in initial["counts"]}["PAUSED"] == 0
        during_a_read.set()
        app.state.bus.notify({seq})  # a wake-up with nothing new: it looks, and meanwhile…
        await eventually(lambda: not during_a_read.is_set())
        changed = (await next_data(ws, seconds=3))["sequenceStatusCounts"]
        assert {c["status"]: c["count"] for c in changed["counts"]}["PAUSED"] == 1
