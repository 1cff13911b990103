"""Sequence.stepCounts and endedBeforeFirstStep over HTTP, and the sequenceStepCounts
subscription over a websocket: where each enrollment is counted as it is paused, finished
(by a user: STOPPED; by a reply reported: RESPONDED), bounced and removed; zeros for a
sequence without enrollments; another workspace's sequence not found; a list of sequences
in a bounded number of statements; pushed counts on subscribe, after a bulk change, and
coalesced. The engine's sends are in tests/engine/test_step_counts_live.py."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from sqlalchemy import event
from starlette.applications import Starlette

from seqgql.clock import FrozenClock
from seqgql.domain.selection import Selection
from seqgql.graphql import subscriptions
from seqgql.persistence.database import Database
from seqgql.services.enrollments import pause
from tests.helpers.bulk import ids_of, set_columns
from tests.helpers.factories import gid, make_enrolled, make_sequence
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.subscriptions import MESSAGE_SECONDS, ack, connect, next_data, subscribe
from tests.helpers.workspace import Workspace, make_workspace

STEP = """position channel reached active awaitingReply paused notSent
  finished { responded noResponse stopped total } bounced failed optedOut omitted removed ended"""
ENDED = "finished { responded noResponse stopped total } bounced failed optedOut omitted " \
    "removed total"  # fmt: skip
SEQUENCE = f"""query($id: ID!) {{ sequence(id: $id) {{
  statusCounts {{ status count }}
  stepCounts {{ {STEP} }}
  endedBeforeFirstStep {{ {ENDED} }} }} }}"""
STEP_COUNTS = f"""subscription($seq: ID!) {{ sequenceStepCounts(sequenceId: $seq) {{
  id sequenceId steps {{ {STEP} }} endedBeforeFirstStep {{ total }}
  sequence {{ id stepCounts {{ position active paused }} }} }} }}"""
REPORT = """mutation($input: RecordDeliveryEventInput!) {
  recordDeliveryEvent(input: $input) { statusChanged userErrors { code } } }"""
ZERO_OUTCOMES = {"responded": 0, "noResponse": 0, "stopped": 0, "total": 0}


def zero_step(position: int, channel: str) -> dict[str, Any]:
    return {
        "position": position, "channel": channel, "reached": 0, "active": 0,
        "awaitingReply": 0, "paused": 0, "notSent": 0, "finished": ZERO_OUTCOMES,
        "bounced": 0, "failed": 0, "optedOut": 0, "omitted": 0, "removed": 0, "ended": 0,
    }  # fmt: skip


async def read(gql: GraphQLClient, seq: int) -> dict[str, Any]:
    data = await gql.execute(SEQUENCE, {"id": gid("Sequence", seq)})
    return data["sequence"]  # type: ignore[no-any-return]


async def report(gql: GraphQLClient, pk: int, kind: str) -> None:
    answer = await gql.execute(
        REPORT, {"input": {"enrollmentId": gid("Enrollment", pk), "kind": kind}}
    )
    assert answer["recordDeliveryEvent"] == {"statusChanged": True, "userErrors": []}


async def test_each_enrollment_is_counted_at_its_step(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    seq, ids = await make_enrolled(db, clock, workspace.actor, 10)  # EMAIL, EMAIL, SMS
    # what the engine would have sent: step 1 to 0-1, steps 1-2 to 2, all three to 3
    await set_columns(db, ids[0:2], current_step=2, last_sent_step=1)
    await set_columns(db, [ids[2]], current_step=3, last_sent_step=2)
    await set_columns(db, [ids[3]], current_step=None, last_sent_step=3)
    await set_columns(db, [ids[8]], status="NOT_SENT", reason="MISSING_EMAIL")
    await report(gql, ids[0], "REPLIED")  # RESPONDED after step 1
    await report(gql, ids[4], "BOUNCED")  # nothing sent: before the first step
    for pks in ([ids[1]], [ids[6]]):
        paused = await mutate(gql, "pauseEnrollments", {"selection": ids_of(pks)})
        assert paused["changedCount"] == 1
    finish = {"selection": ids_of([ids[2], ids[7]]), "reason": "MEETING_BOOKED"}
    assert (await mutate(gql, "finishEnrollments", finish))["changedCount"] == 2  # STOPPED
    assert (await mutate(gql, "removeEnrollments", {"selection": ids_of([ids[5]])}))[
        "changedCount"
    ] == 1

    sequence = await read(gql, seq)
    one, two, three = sequence["stepCounts"]
    assert one == {
        **zero_step(1, "EMAIL"), "reached": 4, "active": 1, "paused": 1, "notSent": 1,
        "finished": {**ZERO_OUTCOMES, "responded": 1, "total": 1}, "ended": 1,
    }  # fmt: skip
    assert two == {
        **zero_step(2, "EMAIL"), "reached": 2, "paused": 1,
        "finished": {**ZERO_OUTCOMES, "stopped": 1, "total": 1}, "ended": 1,
    }  # fmt: skip
    assert three == {**zero_step(3, "SMS"), "reached": 1, "awaitingReply": 1}
    assert sequence["endedBeforeFirstStep"] == {
        "finished": {**ZERO_OUTCOMES, "stopped": 1, "total": 1},
        "bounced": 1, "failed": 0, "optedOut": 0, "omitted": 0, "removed": 1, "total": 3,
    }  # fmt: skip
    # every enrollment counted once, as many as the status counts hold
    placed = sum(
        s["active"] + s["awaitingReply"] + s["paused"] + s["notSent"] + s["ended"]
        for s in sequence["stepCounts"]
    )
    total = sum(c["count"] for c in sequence["statusCounts"])
    assert placed + sequence["endedBeforeFirstStep"]["total"] == total == 10


async def test_a_sequence_without_enrollments_lists_every_step_with_zeros(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    seq = await make_sequence(db, clock, workspace.actor)
    sequence = await read(gql, seq)
    assert sequence["stepCounts"] == [
        zero_step(1, "EMAIL"), zero_step(2, "EMAIL"), zero_step(3, "SMS"),
    ]  # fmt: skip
    assert sequence["endedBeforeFirstStep"]["total"] == 0


async def test_another_workspaces_sequence_is_not_found(
    app: Starlette, gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    other = await make_workspace(db, clock)
    foreign, _ = await make_enrolled(db, clock, other.actor, 2)
    assert (await gql.execute(SEQUENCE, {"id": gid("Sequence", foreign)}))["sequence"] is None
    async with connect(app, workspace.token) as ws:
        await ack(ws)
        await subscribe(ws, "s", STEP_COUNTS, {"seq": gid("Sequence", foreign)})
        message = await asyncio.wait_for(ws.receive_json(), MESSAGE_SECONDS)
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "NOT_FOUND", message


LIST = f"""{{ sequences(first: 50) {{ edges {{ node {{ name
  stepCounts {{ {STEP} }} endedBeforeFirstStep {{ total }} }} }} }} }}"""


async def test_a_list_of_sequences_with_step_counts_costs_a_few_statements(
    app: Starlette, gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        text = statement.strip().upper()
        if text.startswith(("PRAGMA", "BEGIN", "COMMIT", "ROLLBACK", "SELECT 1")):
            return
        if "API_TOKENS" in text:  # authentication, not the query
            return
        statements.append(text)

    engine = app.state.db.engine.sync_engine
    costs: dict[int, list[str]] = {}
    for size in (2, 8):
        while await _listed(gql) < size:
            await make_enrolled(db, clock, workspace.actor, 2)
        event.listen(engine, "before_cursor_execute", count)
        try:
            statements.clear()
            data = await gql.execute(LIST)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        nodes = [e["node"] for e in data["sequences"]["edges"]]
        assert len(nodes) == size
        assert all(n["stepCounts"][0]["active"] == 2 for n in nodes)
        costs[size] = list(statements)
    assert len(costs[8]) == len(costs[2]) <= 5, costs[8]
    grouped = [s for s in costs[8] if "LAST_SENT_STEP" in s and "GROUP BY" in s]
    assert len(grouped) == 1, costs[8]  # the eight sequences' counts in one statement


async def _listed(gql: GraphQLClient) -> int:
    data = await gql.execute("{ sequences(first: 50) { totalCount } }")
    return int(data["sequences"]["totalCount"])


async def test_pushed_on_subscribe_and_after_a_bulk_pause(
    app: Starlette, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    seq, ids = await make_enrolled(db, clock, workspace.actor, 5)
    async with connect(app, workspace.token) as ws:
        await ack(ws)
        await subscribe(ws, "s", STEP_COUNTS, {"seq": gid("Sequence", seq)})
        first = (await next_data(ws))["sequenceStepCounts"]
        assert first["id"] == first["sequenceId"] == gid("Sequence", seq)
        assert [(s["position"], s["active"]) for s in first["steps"]] == [(1, 5), (2, 0), (3, 0)]
        assert first["sequence"]["id"] == gid("Sequence", seq)
        assert first["sequence"]["stepCounts"][0] == {"position": 1, "active": 5, "paused": 0}
        await pause(db, clock, workspace.actor, Selection(ids=tuple(ids[:3])))
        changed = (await next_data(ws))["sequenceStepCounts"]
        assert (changed["steps"][0]["active"], changed["steps"][0]["paused"]) == (2, 3)
        # the Sequence a client cache holds takes the pushed counts
        assert changed["sequence"]["stepCounts"][0] == {"position": 1, "active": 2, "paused": 3}


async def test_many_changes_in_a_row_are_a_few_messages_ending_with_the_exact_counts(
    app: Starlette, db: Database, clock: FrozenClock, workspace: Workspace,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Twelve commits a tenth of a second apart, each waking the subscriber: at most one
    message per interval (one a second here), not one per change; the last one exact."""
    interval = 1.0
    monkeypatch.setattr(subscriptions, "COUNTS_INTERVAL_SECONDS", interval)
    changes = 12
    seq, ids = await make_enrolled(db, clock, workspace.actor, changes)
    async with connect(app, workspace.token) as ws:
        await ack(ws)
        await subscribe(ws, "s", STEP_COUNTS, {"seq": gid("Sequence", seq)})
        assert (await next_data(ws))["sequenceStepCounts"]["steps"][0]["active"] == changes
        started = time.monotonic()
        for pk in ids:  # through the app's database: each commit wakes its subscribers
            await pause(app.state.db, clock, workspace.actor, Selection(ids=(pk,)))
            await asyncio.sleep(0.1)  # time enough for the subscriber to read each
        elapsed = time.monotonic() - started
        received = []
        while not received or received[-1]["steps"][0]["paused"] != changes:
            received.append((await next_data(ws))["sequenceStepCounts"])
    paused = [r["steps"][0]["paused"] for r in received]
    assert len(received) <= min(elapsed / interval + 2, changes / 2), (elapsed, paused)
    assert received[-1]["steps"][0]["active"] == 0
