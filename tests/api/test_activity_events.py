"""Activities live (issue 13, point 4): steps sent, deliveries, opens, replies... are
events of their sequence's log next to its status changes, pushed by the
`enrollmentActivity` subscription with the same replay guarantees."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.applications import Starlette

from seqgql.clock import FrozenClock
from seqgql.events.log import EventCursor
from seqgql.persistence.database import Database
from tests.helpers.engine import ScriptedTransport, engine_for
from tests.helpers.factories import gid, make_enrolled
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.subscriptions import CHANGES, MESSAGE_SECONDS, ack, connect, next_data, subscribe
from tests.helpers.workspace import Workspace

pytestmark = pytest.mark.isolated_clock

ACTIVITY = """
subscription($seq: ID!, $since: String, $kinds: [ActivityKind!]) {
  enrollmentActivity(sequenceId: $seq, since: $since, kinds: $kinds) {
    cursor number kind step occurredAt
    activity { id kind detail }
    enrollment { id status }
    actor { email }
  }
}"""
REPORT = "statusChanged userErrors { field code }"


async def report(gql: GraphQLClient, pk: int, kind: str, detail: str | None = None) -> None:
    payload = await mutate(
        gql, "recordDeliveryEvent",
        {"enrollmentId": gid("Enrollment", pk), "kind": kind, "detail": detail}, REPORT,
    )  # fmt: skip
    assert payload["userErrors"] == []


async def messages(ws: Any, op_id: str, n: int) -> list[dict[str, Any]]:
    got = []
    for _ in range(n):
        message = await next_data(ws)
        got.append(next(iter(message.values())))
    return got


async def test_activities_replay_then_live_next_to_status_changes(
    app: Starlette, gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq, ids = await make_enrolled(db, clock, workspace.actor, 3)
    start = EventCursor(seq, 3).encode()  # after the three enrollments' events
    await engine_for(db, clock, ScriptedTransport()).run_until_idle()  # step 1 to each
    variables = {"seq": gid("Sequence", seq), "since": start}
    async with connect(app, workspace.token) as ws:
        await ack(ws)
        await subscribe(ws, "1", ACTIVITY, variables)
        sent = await messages(ws, "1", 3)  # replayed from the log
        assert [(m["kind"], m["step"], m["enrollment"]["id"]) for m in sent] == [
            ("SENT", 1, gid("Enrollment", pk)) for pk in ids
        ]
        assert [m["number"] for m in sent] == [4, 5, 6]
        assert {m["activity"]["kind"] for m in sent} == {"SENT"}
        assert sent[0]["activity"]["detail"] and sent[0]["actor"] is None  # the engine's
        # live: a delivery, an open, then a reply that also changes the status
        await report(gql, ids[0], "DELIVERED")
        await report(gql, ids[0], "OPENED")
        await report(gql, ids[1], "REPLIED", "Thanks, let's talk")
        live = await messages(ws, "1", 3)
        assert [(m["kind"], m["enrollment"]["id"]) for m in live] == [
            ("DELIVERED", gid("Enrollment", ids[0])),
            ("OPENED", gid("Enrollment", ids[0])),
            ("REPLIED", gid("Enrollment", ids[1])),
        ]
        assert live[2]["activity"]["detail"] == "Thanks, let's talk"
        assert live[2]["actor"]["email"].startswith("admin@")
        assert live[2]["enrollment"]["status"] == "FINISHED"
        # the reply's status change took the next number: activities skip it
        assert [m["number"] for m in live] == [7, 8, 9]
        cursor = live[0]["cursor"]

    # reconnect after the delivery, only opens and replies: the rest, once each
    async with connect(app, workspace.token) as ws:
        await ack(ws)
        kinds = ["OPENED", "REPLIED"]
        await subscribe(ws, "2", ACTIVITY, {**variables, "since": cursor, "kinds": kinds})
        again = await messages(ws, "2", 2)
        assert [m["kind"] for m in again] == kinds
        await report(gql, ids[2], "CLICKED")  # not asked for
        await report(gql, ids[2], "OPENED")
        (last,) = await messages(ws, "2", 1)
        assert (last["kind"], last["enrollment"]["id"]) == ("OPENED", gid("Enrollment", ids[2]))

    # the status changes' subscription sees only status changes, numbered in the same log
    async with connect(app, workspace.token) as ws:
        await ack(ws)
        await subscribe(ws, "3", CHANGES, {"seq": gid("Sequence", seq), "since": start})
        (change,) = await messages(ws, "3", 1)
        assert (change["fromStatus"], change["toStatus"], change["reason"]) == (
            "ACTIVE", "FINISHED", "REPLIED",
        )  # fmt: skip
        assert change["number"] == 10


async def test_a_bad_cursor_or_kind_is_refused(
    app: Starlette, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq, _ = await make_enrolled(db, clock, workspace.actor, 1)
    other, _ = await make_enrolled(db, clock, workspace.actor, 1)
    cases = [
        ({"since": "not a cursor"}, "INVALID_CURSOR"),
        ({"since": EventCursor(other, 1).encode()}, "INVALID_CURSOR"),
        ({"since": EventCursor(seq, 99).encode()}, "INVALID_CURSOR"),
        ({"kinds": ["SHOUTED"]}, "BAD_USER_INPUT"),
    ]
    async with connect(app, workspace.token) as ws:
        await ack(ws)
        for n, (extra, code) in enumerate(cases):
            await subscribe(ws, str(n), ACTIVITY, {"seq": gid("Sequence", seq), **extra})
            message = await asyncio.wait_for(ws.receive_json(), MESSAGE_SECONDS)
            if message["type"] == "next":  # raised by the resolver: then "complete"
                errors = message["payload"]["errors"]
                assert (await asyncio.wait_for(ws.receive_json(), MESSAGE_SECONDS))[
                    "type"
                ] == "complete"
            else:
                assert message["type"] == "error", message
                errors = message["payload"]
            assert errors[0]["extensions"]["code"] == code, errors


async def test_activities_are_counted_per_step(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq, ids = await make_enrolled(db, clock, workspace.actor, 3)
    await engine_for(db, clock, ScriptedTransport()).run_until_idle()  # step 1 to each
    for pk, kind in [(ids[0], "OPENED"), (ids[1], "OPENED"), (ids[1], "CLICKED")]:
        await report(gql, pk, kind)
    await report(gql, ids[2], "BOUNCED")
    data = await gql.execute(
        "query($id: ID!) { node(id: $id) { ... on Sequence { stepCounts { position "
        "activities { kind count } } } } }",
        {"id": gid("Sequence", seq)},
    )
    first, *later = data["node"]["stepCounts"]
    counts = {a["kind"]: a["count"] for a in first["activities"]}
    assert {k: n for k, n in counts.items() if n} == {
        "SENT": 3, "OPENED": 2, "CLICKED": 1, "BOUNCED": 1,
    }  # fmt: skip
    assert "DEFERRED" in counts and "NOTE" not in counts  # every kind listed, zero or not
    assert later and {a["count"] for step in later for a in step["activities"]} == {0}
