"""Shared subscriptions (graphql-transport-ws, through the ASGI app).

Subscribers with the same workspace, document, variables and operation name share one
feed in ``app.state.feeds``; what they see must not change: the same messages, in the
same order, the same errors. Changes are made through the app's own database handle, so
its broadcast wakes the subscribers at once (no waiting for the poll).
"""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack
from typing import Any

import pytest
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect
from starlette.applications import Starlette

from seqgql.clock import FrozenClock
from seqgql.domain.selection import Selection
from seqgql.domain.status import FinishReason
from seqgql.events.log import EventCursor
from seqgql.graphql.feeds import FeedHub
from seqgql.persistence.database import Database
from seqgql.services import enrollments
from seqgql.services.actor import Actor
from tests.helpers.factories import ALL_STATUSES, gid, make_enrolled
from tests.helpers.subscriptions import CHANGES, COUNTS, MESSAGE_SECONDS, ack, connect, subscribe
from tests.helpers.waiting import eventually
from tests.helpers.workspace import Workspace, make_workspace

VALIDATION_ERROR = """
subscription($seq: ID!) {
  enrollmentStatusChanged(sequenceId: $seq) { cursor notAField }
}"""
SYNTAX_ERROR = "subscription($seq: ID!) { enrollmentStatusChanged(sequenceId: $seq) { cursor "


# --------------------------------------------------------------------------- helpers


def hub(app: Starlette) -> FeedHub:
    feeds: FeedHub = app.state.feeds
    return feeds


async def live(
    app: Starlette, readers: set[asyncio.Task[Any]], *, feeds: int, subscribers: int
) -> None:
    """Wait until the hub holds this many feeds and subscribers, every change feed live."""

    def ready() -> bool:
        found = hub(app)
        return (
            len(found.feeds) == feeds
            and found.subscriber_count == subscribers
            and all(f.task in readers for f in found.feeds.values() if not f.latest_only)
        )

    await eventually(ready)


async def receive_text(ws: AsyncWebSocketSession) -> str:
    """The next message as sent (pings skipped)."""
    while True:
        text = await asyncio.wait_for(ws.receive_text(), MESSAGE_SECONDS)
        if json.loads(text)["type"] != "ping":
            return text


async def receive(ws: AsyncWebSocketSession) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await receive_text(ws))
    return message


async def change(ws: AsyncWebSocketSession, op_id: str) -> dict[str, Any]:
    """The next message, which must be this operation's next change."""
    message = await receive(ws)
    assert message["type"] == "next" and message["id"] == op_id, message
    assert "errors" not in message["payload"], message
    data: dict[str, Any] = message["payload"]["data"]["enrollmentStatusChanged"]
    return data


async def nothing_more(ws: AsyncWebSocketSession) -> None:
    """Nothing is waiting for this connection: a ping's pong is the next message."""
    await ws.send_json({"type": "ping"})
    assert await receive(ws) == {"type": "pong"}


async def close_code(ws: AsyncWebSocketSession) -> int:
    """The code the server closes the connection with; fails on a message instead."""
    try:
        message = await receive(ws)
    except WebSocketDisconnect as closed:
        return closed.code
    pytest.fail(f"expected the connection to be closed, got {message}")


def counts_of(message: dict[str, Any]) -> dict[str, int]:
    assert message["type"] == "next" and "errors" not in message["payload"], message
    data = message["payload"]["data"]["sequenceStatusCounts"]
    counts = {c["status"]: c["count"] for c in data["counts"]}
    assert data["total"] == sum(counts.values())
    return counts


def exactly(**counts: int) -> dict[str, int]:
    return {status: counts.get(status, 0) for status in ALL_STATUSES}


class Connections(AsyncExitStack):
    """Several acknowledged websocket connections, closed together."""

    def __init__(self, app: Starlette) -> None:
        super().__init__()
        self.app = app

    async def open(self, token: str) -> AsyncWebSocketSession:
        ws = await self.enter_async_context(connect(self.app, token))
        await ack(ws)
        return ws


class Writer:
    """Changes the workspace's enrollments through the app's own database handle: its
    commits wake the subscribers through the broadcast."""

    def __init__(self, app: Starlette, clock: FrozenClock, actor: Actor) -> None:
        self.db: Database = app.state.db
        self.clock = clock
        self.actor = actor

    async def pause(self, *ids: int) -> None:
        await enrollments.pause(self.db, self.clock, self.actor, Selection(ids=ids))

    async def resume(self, *ids: int) -> None:
        await enrollments.resume(self.db, self.clock, self.actor, Selection(ids=ids))

    async def finish(self, *ids: int, reason: FinishReason) -> None:
        await enrollments.finish(self.db, self.clock, self.actor, Selection(ids=ids), reason=reason)

    async def remove(self, *ids: int) -> None:
        await enrollments.remove(self.db, self.clock, self.actor, Selection(ids=ids))


@pytest.fixture
def writer(app: Starlette, clock: FrozenClock, workspace: Workspace) -> Writer:
    return Writer(app, clock, workspace.actor)


# --------------------------------------------------------------------------- sharing


async def test_same_document_and_variables_share_one_feed_and_everyone_gets_the_same_bytes(
    app: Starlette, workspace: Workspace, log_readers, db, clock, writer: Writer
) -> None:
    async with Connections(app) as connections:
        seq, ids = await make_enrolled(db, clock, workspace.actor, 4)
        variables = {"seq": gid("Sequence", seq)}
        first = await connections.open(workspace.token)
        second = await connections.open(workspace.token)
        await subscribe(first, "1", CHANGES, variables)
        await subscribe(second, "1", CHANGES, variables)
        await live(app, log_readers, feeds=1, subscribers=2)

        # other variables: a feed of its own
        finished_only = await connections.open(workspace.token)
        await subscribe(finished_only, "f", CHANGES, {**variables, "statuses": ["FINISHED"]})
        await live(app, log_readers, feeds=2, subscribers=3)

        await writer.pause(ids[0])
        await writer.finish(ids[1], reason=FinishReason.REPLIED)
        paused = [await receive_text(first), await receive_text(first)]
        # the same operation id on both connections: the very same text for both
        assert [await receive_text(second), await receive_text(second)] == paused
        pause, finish = (json.loads(text)["payload"]["data"]["enrollmentStatusChanged"]
                         for text in paused)  # fmt: skip
        assert (pause["toStatus"], pause["fromStatus"], pause["reason"]) == ("PAUSED", "ACTIVE",
                                                                             "MANUAL")  # fmt: skip
        assert pause["enrollment"] == {"id": gid("Enrollment", ids[0]), "status": "PAUSED"}
        assert pause["actor"]["email"].startswith("admin@")
        assert (finish["toStatus"], finish["number"]) == ("FINISHED", pause["number"] + 1)
        assert finish["cursor"] == EventCursor(seq, finish["number"]).encode()
        # the FINISHED-only subscriber got the finish and nothing else
        assert await change(finished_only, "f") == finish
        await nothing_more(finished_only)

        # one subscriber leaves; the other carries on alone
        await second.send_json({"id": "1", "type": "complete"})
        await eventually(lambda: hub(app).subscriber_count == 2)
        assert len(hub(app).feeds) == 2
        await writer.remove(ids[2])
        removed = await change(first, "1")
        assert (removed["toStatus"], removed["number"]) == ("REMOVED", finish["number"] + 1)
        await nothing_more(second)
        await nothing_more(finished_only)

        # the FINISHED subscriber completes, the other one disconnects: nothing is left
        await finished_only.send_json({"id": "f", "type": "complete"})
        await eventually(lambda: len(hub(app).feeds) == 1)
        await first.close()
        await eventually(lambda: not hub(app).feeds)
        assert hub(app).subscriber_count == 0 and hub(app).pending() == []


async def test_two_subscriptions_on_one_connection_share_a_feed_and_each_gets_its_own_id(
    app: Starlette, workspace: Workspace, log_readers, db, clock, writer: Writer
) -> None:
    async with Connections(app) as connections:
        seq, ids = await make_enrolled(db, clock, workspace.actor, 2)
        ws = await connections.open(workspace.token)
        variables = {"seq": gid("Sequence", seq)}
        await subscribe(ws, "a", CHANGES, variables)
        await subscribe(ws, "b", CHANGES, variables)
        await live(app, log_readers, feeds=1, subscribers=2)
        await writer.pause(*ids)
        messages = [await receive(ws) for _ in range(4)]
        by_id: dict[str, list[int]] = {"a": [], "b": []}
        for message in messages:
            assert message["type"] == "next", message
            by_id[message["id"]].append(
                message["payload"]["data"]["enrollmentStatusChanged"]["number"]
            )
        assert by_id["a"] == by_id["b"] == [by_id["a"][0], by_id["a"][0] + 1]
        await nothing_more(ws)
        await ws.send_json({"id": "a", "type": "complete"})
        await ws.send_json({"id": "b", "type": "complete"})
        await eventually(lambda: not hub(app).feeds)


async def test_a_newcomer_to_a_counts_feed_gets_the_current_counts_at_once(
    app: Starlette, workspace: Workspace, db, clock, writer: Writer
) -> None:
    async with Connections(app) as connections:
        seq, ids = await make_enrolled(db, clock, workspace.actor, 5)
        variables = {"seq": gid("Sequence", seq)}
        first = await connections.open(workspace.token)
        await subscribe(first, "c", COUNTS, variables)
        assert counts_of(await receive(first)) == exactly(ACTIVE=5)
        await writer.pause(*ids[:2])
        latest = await receive_text(first)
        assert counts_of(json.loads(latest)) == exactly(ACTIVE=3, PAUSED=2)

        second = await connections.open(workspace.token)
        await subscribe(second, "c", COUNTS, variables)
        assert await receive_text(second) == latest  # the feed's latest message, as it was sent
        assert len(hub(app).feeds) == 1 and hub(app).subscriber_count == 2

        await writer.finish(ids[2], reason=FinishReason.REPLIED)
        expected = exactly(ACTIVE=2, PAUSED=2, FINISHED=1)
        after = await receive_text(first)
        assert counts_of(json.loads(after)) == expected
        assert await receive_text(second) == after
        await nothing_more(first)
        await nothing_more(second)

        await first.send_json({"id": "c", "type": "complete"})
        await second.close()
        await eventually(lambda: not hub(app).feeds)


# --------------------------------------------------------------------------- since


async def test_since_replays_then_joins_the_shared_subscription(
    app: Starlette, workspace: Workspace, log_readers, db, clock, writer: Writer
) -> None:
    async with Connections(app) as connections:
        seq, ids = await make_enrolled(db, clock, workspace.actor, 3)
        ws = await connections.open(workspace.token)
        variables = {"seq": gid("Sequence", seq)}
        # a shared subscriber first: the replaying one catches up, then shares its feed
        await subscribe(ws, "live", CHANGES, variables)
        await live(app, log_readers, feeds=1, subscribers=1)
        await writer.pause(ids[0])
        await writer.pause(ids[1])
        one, two = await change(ws, "live"), await change(ws, "live")
        assert two["number"] == one["number"] + 1

        # on the same connection: replay everything after the first pause, then live
        await subscribe(ws, "since", CHANGES, {**variables, "since": one["cursor"]})
        replayed = await change(ws, "since")
        assert replayed == two
        await eventually(lambda: hub(app).subscriber_count == 2)  # it joined the feed
        assert len(hub(app).feeds) == 1

        await writer.remove(ids[2])
        received = {m["id"]: m for m in [await receive(ws), await receive(ws)]}
        assert set(received) == {"live", "since"}
        assert received["live"]["payload"] == received["since"]["payload"]
        removed = received["live"]["payload"]["data"]["enrollmentStatusChanged"]
        assert (removed["toStatus"], removed["number"]) == ("REMOVED", two["number"] + 1)
        await nothing_more(ws)

        await ws.send_json({"id": "live", "type": "complete"})
        await eventually(lambda: hub(app).subscriber_count == 1)
        # the one that came with `since` is still there, and still live
        await writer.resume(ids[0])
        resumed = await change(ws, "since")
        assert (resumed["toStatus"], resumed["number"]) == ("ACTIVE", removed["number"] + 1)
        assert len(hub(app).feeds) == 1


async def test_subscribers_resuming_with_since_during_changes_miss_nothing_and_share(
    app: Starlette, workspace: Workspace, log_readers, db, clock, writer: Writer
) -> None:
    """After a reconnect every client comes back with `since` while changes go on: each
    gets every change after its cursor once, in order, and they all share one feed."""
    async with Connections(app) as connections:
        seq, ids = await make_enrolled(db, clock, workspace.actor, 12)
        variables = {"seq": gid("Sequence", seq)}
        watcher = await connections.open(workspace.token)
        await subscribe(watcher, "w", CHANGES, variables)
        await live(app, log_readers, feeds=1, subscribers=1)
        for pk in ids[:4]:
            await writer.pause(pk)
        seen = [await change(watcher, "w") for _ in range(4)]
        start = seen[1]  # resume after the second change

        resumers = [await connections.open(workspace.token) for _ in range(3)]
        for i, ws in enumerate(resumers):
            await subscribe(ws, f"r{i}", CHANGES, {**variables, "since": start["cursor"]})
        for pk in ids[4:10]:  # changes while they catch up
            await writer.pause(pk)
        last = start["number"] + 2 + 6
        for i, ws in enumerate(resumers):
            numbers = []
            while not numbers or numbers[-1] < last:
                numbers.append((await change(ws, f"r{i}"))["number"])
            assert numbers == list(range(start["number"] + 1, last + 1)), i
            await nothing_more(ws)
        await eventually(lambda: hub(app).subscriber_count == 4)
        assert len(hub(app).feeds) == 1


async def test_a_since_given_as_a_variable_default_replays_for_every_subscriber(
    app: Starlette, workspace: Workspace, log_readers, db, clock, writer: Writer
) -> None:
    async with Connections(app) as connections:
        seq, ids = await make_enrolled(db, clock, workspace.actor, 3)
        variables = {"seq": gid("Sequence", seq)}
        watcher = await connections.open(workspace.token)
        await subscribe(watcher, "w", CHANGES, variables)
        await live(app, log_readers, feeds=1, subscribers=1)
        await writer.pause(ids[0])
        await writer.pause(ids[1])
        one, two = await change(watcher, "w"), await change(watcher, "w")
        await watcher.send_json({"id": "w", "type": "complete"})
        await eventually(lambda: not hub(app).feeds)

        # `since` is in the document, as the default of its variable: no variable sent
        document = CHANGES.replace("$since: String", f'$since: String = "{one["cursor"]}"')
        first = await connections.open(workspace.token)
        await subscribe(first, "1", document, variables)
        assert await change(first, "1") == two  # replayed
        second = await connections.open(workspace.token)
        await subscribe(second, "1", document, variables)
        await nothing_more(second)  # its subscription is under way
        await writer.remove(ids[2])
        removed = await change(first, "1")
        assert removed["number"] == two["number"] + 1
        # the second subscriber asked for the same replay, and gets it, then the live change
        got = await change(second, "1")
        assert got == two, f"not replayed: the first change it got is #{got['number']}"
        assert await change(second, "1") == removed
        assert not hub(app).feeds  # replaying subscriptions run alone


async def test_a_since_subscription_alone_catches_up_then_starts_the_shared_feed(
    app: Starlette, workspace: Workspace, db, clock
) -> None:
    async with Connections(app) as connections:
        seq, ids = await make_enrolled(db, clock, workspace.actor, 2)
        await enrollments.pause(db, clock, workspace.actor, Selection(ids=tuple(ids)))
        ws = await connections.open(workspace.token)
        first = EventCursor(seq, 1).encode()
        await subscribe(ws, "1", CHANGES, {"seq": gid("Sequence", seq), "since": first})
        numbers = [(await change(ws, "1"))["number"] for _ in range(3)]
        assert numbers[0] == 2 and numbers == list(range(2, 5))
        assert len(hub(app).feeds) == 1 and hub(app).subscriber_count == 1


# --------------------------------------------------------------------------- errors


async def alone(ws: AsyncWebSocketSession, op_id: str, sequence_id: str) -> list[dict[str, Any]]:
    """What a subscription to this sequence that runs alone (it has `since`) receives,
    up to its end: the answer before shared subscriptions existed."""
    await subscribe(ws, op_id, CHANGES, {"seq": sequence_id, "since": "anything"})
    return await until_the_end(ws, op_id)


async def until_the_end(ws: AsyncWebSocketSession, op_id: str) -> list[dict[str, Any]]:
    messages = []
    while True:
        message = await receive(ws)
        assert message.get("id") == op_id, message
        messages.append(message)
        if message["type"] in ("complete", "error"):
            return messages


def without_id(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in m.items() if k != "id"} for m in messages]


@pytest.mark.parametrize(
    ("which", "code"), [("foreign", "NOT_FOUND"), ("unknown", "NOT_FOUND"), ("bad", "INVALID_ID")]
)
async def test_an_unusable_sequence_id_is_the_same_error_for_everyone_sharing_it(
    app: Starlette, workspace: Workspace, db, clock,
    which: str, code: str,
) -> None:  # fmt: skip
    async with Connections(app) as connections:
        other = await make_workspace(db, clock)
        foreign, _ = await make_enrolled(db, clock, other.actor, 1)
        sequence_id = {"foreign": gid("Sequence", foreign), "unknown": gid("Sequence", 10**9),
                       "bad": "bad"}[which]  # fmt: skip
        reference = await connections.open(workspace.token)
        before = without_id(await alone(reference, "r", sequence_id))
        errors = (
            before[0]["payload"] if before[0]["type"] == "error" else before[0]["payload"]["errors"]
        )
        assert [e["extensions"]["code"] for e in errors] == [code], before

        first = await connections.open(workspace.token)
        second = await connections.open(workspace.token)
        await subscribe(first, "1", CHANGES, {"seq": sequence_id})
        await subscribe(second, "1", CHANGES, {"seq": sequence_id})
        assert without_id(await until_the_end(first, "1")) == before
        assert without_id(await until_the_end(second, "1")) == before
        await eventually(lambda: not hub(app).feeds)
        # the connections are still usable: a working subscription on the same one
        own, _ = await make_enrolled(db, clock, workspace.actor, 1)
        await subscribe(first, "2", COUNTS, {"seq": gid("Sequence", own)})
        assert counts_of(await receive(first)) == exactly(ACTIVE=1)


async def test_a_validation_error_is_an_error_message_for_each_subscriber(
    app: Starlette, workspace: Workspace, db, clock
) -> None:
    async with Connections(app) as connections:
        seq, _ = await make_enrolled(db, clock, workspace.actor, 1)
        variables = {"seq": gid("Sequence", seq)}
        first = await connections.open(workspace.token)
        second = await connections.open(workspace.token)
        await subscribe(first, "1", VALIDATION_ERROR, variables)
        await subscribe(second, "2", VALIDATION_ERROR, variables)
        for ws, op_id in ((first, "1"), (second, "2")):
            message = await receive(ws)
            assert message["type"] == "error" and message["id"] == op_id, message
            assert len(message["payload"]) == 1
            assert "notAField" in message["payload"][0]["message"]
            await nothing_more(ws)  # the connection stays open
        await eventually(lambda: not hub(app).feeds)
        # the id is free again: the same id can subscribe to something valid
        await subscribe(first, "1", COUNTS, variables)
        assert counts_of(await receive(first)) == exactly(ACTIVE=1)


async def test_a_syntax_error_closes_the_connection_with_4400(
    app: Starlette, workspace: Workspace, db, clock
) -> None:
    async with Connections(app) as connections:
        seq, _ = await make_enrolled(db, clock, workspace.actor, 1)
        for _ in range(2):
            ws = await connections.open(workspace.token)
            await subscribe(ws, "1", SYNTAX_ERROR, {"seq": gid("Sequence", seq)})
            assert await close_code(ws) == 4400
        assert not hub(app).feeds


# --------------------------------------------------------------------------- workspaces


async def test_workspaces_never_share_a_feed(
    app: Starlette, workspace: Workspace, log_readers, db, clock, writer: Writer
) -> None:
    async with Connections(app) as connections:
        seq, ids = await make_enrolled(db, clock, workspace.actor, 3)
        other = await make_workspace(db, clock)
        variables = {"seq": gid("Sequence", seq)}
        mine = await connections.open(workspace.token)
        theirs = await connections.open(other.token)
        await subscribe(mine, "changes", CHANGES, variables)
        await subscribe(mine, "counts", COUNTS, variables)
        assert counts_of(await receive(mine)) == exactly(ACTIVE=3)
        await live(app, log_readers, feeds=2, subscribers=2)

        # the other workspace, the very same documents and variables: refused, not joined
        for op_id, document in (("changes", CHANGES), ("counts", COUNTS)):
            await subscribe(theirs, op_id, document, variables)
            assert await until_the_end(theirs, op_id) == [
                {"id": op_id, "type": "next", "payload": {"data": None, "errors": [
                    {"message": "no such sequence",
                     "extensions": {"code": "NOT_FOUND", "argument": "sequenceId"}}]}},
                {"id": op_id, "type": "complete"},
            ]  # fmt: skip
        await eventually(lambda: hub(app).subscriber_count == 2)
        assert {key[0] for key in hub(app).feeds} == {workspace.actor.workspace_id}

        await writer.pause(ids[0])
        received = {m["id"]: m for m in [await receive(mine), await receive(mine)]}
        assert received["changes"]["payload"]["data"]["enrollmentStatusChanged"]["enrollment"] == {
            "id": gid("Enrollment", ids[0]),
            "status": "PAUSED",
        }
        assert counts_of(received["counts"]) == exactly(ACTIVE=2, PAUSED=1)
        await nothing_more(theirs)
