"""undoBulkOperation (issue 12, point 11): what an operation changed goes back, unless it
changed since; the undo is an operation with its events; what cannot be undone is
refused with a code naming the field."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from seqgql.clock import FrozenClock
from seqgql.domain.kinds import StepChannel
from seqgql.domain.selection import Selection
from seqgql.domain.sequence import StepSpec
from seqgql.persistence.database import Database
from seqgql.services.enrollments import pause, resume
from tests.helpers.bulk import by_reason, event_count, moment, node, snapshot
from tests.helpers.factories import gid, gids, make_enrolled, make_sequence
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.workspace import Workspace, make_workspace

HOUR = 60
STEPS = [
    StepSpec(StepChannel.EMAIL, HOUR, "Hi", "Hello"),
    StepSpec(StepChannel.EMAIL, 24 * HOUR, "Following up"),
]
DONE = "changedCount bulkOperationId userErrors { field code }"
UNDONE = """changedCount dryRun messagesSent bulkOperationId
  skipped { reason count ids }
  userErrors { field code message }
  bulkOperation { action events { totalCount edges { node { fromStatus toStatus } } } }"""


async def enrolled(db: Database, clock: FrozenClock, workspace: Workspace, n: int) -> list[int]:
    seq = await make_sequence(db, clock, workspace.actor, steps=STEPS)
    return (await make_enrolled(db, clock, workspace.actor, n, sequence_id=seq))[1]


async def act(gql: GraphQLClient, name: str, **input: Any) -> str:
    payload = await mutate(gql, name, input, DONE)
    assert payload["userErrors"] == [] and payload["bulkOperationId"], payload
    return str(payload["bulkOperationId"])


async def undo(gql: GraphQLClient, operation: str, **extra: Any) -> dict[str, Any]:
    return await mutate(gql, "undoBulkOperation", {"bulkOperationId": operation, **extra}, UNDONE)


def selection(ids: list[int]) -> dict[str, Any]:
    return {"ids": gids("Enrollment", ids)}


async def test_undoing_a_pause_puts_them_back_with_their_wait(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    ids = await enrolled(db, clock, workspace, 4)
    await pause(db, clock, workspace.actor, Selection(ids=(ids[3],)))  # paused before
    clock.advance(timedelta(minutes=10))
    paused = await act(gql, "pauseEnrollments", selection=selection(ids))
    events_before = await event_count(db, workspace.actor.workspace_id)
    clock.advance(timedelta(hours=5))

    before = await snapshot(db, workspace.actor.workspace_id)
    dry = await undo(gql, paused, dryRun=True)
    assert (dry["changedCount"], dry["dryRun"], dry["bulkOperation"]) == (3, True, None)
    assert await snapshot(db, workspace.actor.workspace_id) == before

    undone = await undo(gql, paused)
    assert (undone["changedCount"], undone["skipped"], undone["messagesSent"]) == (3, [], 0)
    operation = undone["bulkOperation"]
    assert operation["action"] == "UNDO"
    assert {(e["node"]["fromStatus"], e["node"]["toStatus"]) for e in
            operation["events"]["edges"]} == {("PAUSED", "ACTIVE")}  # fmt: skip
    assert operation["events"]["totalCount"] == 3
    assert await event_count(db, workspace.actor.workspace_id) == events_before + 3
    for pk in ids[:3]:
        got = await node(gql, pk)
        assert (got["status"], got["reason"], got["currentStep"]) == ("ACTIVE", None, 1)
        # 50 minutes were left when paused: due 50 minutes after the undo
        assert moment(got["nextRunAt"]) == clock.now() + timedelta(minutes=50)
    assert (await node(gql, ids[3]))["status"] == "PAUSED"  # the operation had skipped it


async def test_what_changed_since_is_left_alone(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    ids = await enrolled(db, clock, workspace, 3)
    paused = await act(gql, "pauseEnrollments", selection=selection(ids))
    await resume(db, clock, workspace.actor, Selection(ids=(ids[0],)))  # changed since
    undone = await undo(gql, paused)
    assert undone["changedCount"] == 2
    assert by_reason(undone)["CHANGED_SINCE"] == {
        "reason": "CHANGED_SINCE", "count": 1, "ids": [gid("Enrollment", ids[0])],
    }  # fmt: skip


async def test_undoing_a_finish_then_the_undo(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    ids = await enrolled(db, clock, workspace, 2)
    finished = await act(gql, "finishEnrollments", selection=selection(ids), reason="REPLIED")
    first = await node(gql, ids[0])
    assert (first["status"], first["outcome"]) == ("FINISHED", "STOPPED")
    undone = await undo(gql, finished)
    assert undone["changedCount"] == 2
    back = await node(gql, ids[0])
    assert (back["status"], back["reason"], back["outcome"]) == ("ACTIVE", None, None)
    # undoing the undo redoes the finish, outcome and all
    redone = await undo(gql, undone["bulkOperationId"])
    assert redone["changedCount"] == 2
    again = await node(gql, ids[0])
    assert (again["status"], again["reason"], again["outcome"]) == (
        "FINISHED", "REPLIED", "STOPPED",
    )  # fmt: skip


async def test_undoing_a_move_and_an_enrollment(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    source_ids = await enrolled(db, clock, workspace, 2)
    target = await make_sequence(db, clock, workspace.actor, name="Target", steps=STEPS)
    moved = await act(
        gql, "moveEnrollments", selection=selection(source_ids),
        targetSequenceId=gid("Sequence", target),
    )  # fmt: skip
    new = (await node(gql, source_ids[0]))["movedTo"]
    assert new is not None
    undone = await undo(gql, moved)
    assert undone["changedCount"] == 4  # two sources back, two new ones removed
    source = await node(gql, source_ids[0])
    assert (source["status"], source["reason"], source["movedTo"]) == ("ACTIVE", None, None)
    target_rows = await gql.execute(
        "query($s: ID!) { enrollments(sequenceId: $s, filter: {includeRemoved: true}) {"
        " edges { node { status reason } } } }",
        {"s": gid("Sequence", target)},
    )
    assert [e["node"] for e in target_rows["enrollments"]["edges"]] == [
        {"status": "REMOVED", "reason": None}
    ] * 2


@pytest.mark.parametrize("problem", ["old", "message", "foreign", "forged", "wrong-type"])
async def test_what_cannot_be_undone_is_refused(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace, problem: str
) -> None:
    ids = await enrolled(db, clock, workspace, 1)
    operation = await act(gql, "pauseEnrollments", selection=selection(ids))
    expected = "NOT_FOUND"
    if problem == "old":
        clock.advance(timedelta(hours=24, seconds=1))
        expected = "OUT_OF_RANGE"
    elif problem == "message":
        sent = await mutate(
            gql, "sendMessage",
            {"selection": selection(ids), "body": "Hi", "channel": "EMAIL", "subject": "S"},
            "sentCount bulkOperation { id }",
        )  # fmt: skip
        operation, expected = sent["bulkOperation"]["id"], "INVALID"
    elif problem == "foreign":
        other = await make_workspace(db, clock)
        other_ids = (await make_enrolled(db, clock, other.actor, 1))[1]
        result = await pause(db, clock, other.actor, Selection(ids=tuple(other_ids)))
        assert result.bulk_operation_id is not None
        operation = gid("BulkOperation", result.bulk_operation_id)
    elif problem == "forged":
        operation, expected = "garbage", "INVALID_ID"
    else:
        operation, expected = gid("Enrollment", ids[0]), "INVALID_ID"
    before = await snapshot(db, workspace.actor.workspace_id)
    undone = await undo(gql, operation)
    assert [(e["field"], e["code"]) for e in undone["userErrors"]] == [
        (["input", "bulkOperationId"], expected)
    ]
    assert await snapshot(db, workspace.actor.workspace_id) == before


async def test_messages_sent_since_are_counted_not_unsent(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    ids = await enrolled(db, clock, workspace, 2)
    resumed_before = await act(gql, "pauseEnrollments", selection=selection(ids))
    sent = await mutate(
        gql, "sendMessage",
        {"selection": selection(ids[:1]), "body": "Hi", "channel": "EMAIL", "subject": "S"},
        "sentCount",
    )  # fmt: skip
    assert sent["sentCount"] == 1
    undone = await undo(gql, resumed_before)
    assert (undone["changedCount"], undone["messagesSent"]) == (2, 1)
