"""Bulk operations as nodes: what a payload returns so a client cache updates without a
refetch (the operation, the changed enrollments), reading an operation back later (its
input, actor, skips, events), and counts with an identity."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette

from seqgql.clock import FrozenClock
from seqgql.domain.selection import Selection
from seqgql.domain.status import FinishReason
from seqgql.persistence.database import Database
from seqgql.services.contacts import create_group
from seqgql.services.enrollments import finish, pause
from tests.helpers.factories import gid, gids, make_enrolled
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.subscriptions import ack, connect, next_data, subscribe
from tests.helpers.workspace import Workspace, make_workspace

OPERATION = """id action changedCount createdAt options actor { email }
  skipped { reason count ids }
  events(first: 2) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { fromStatus toStatus reason enrollment { id status } actor { email } } }
  }"""

PAYLOAD = f"""changedCount dryRun bulkOperationId
  bulkOperation {{ {OPERATION} }}
  changedEnrollments {{ id status reason }}
  userErrors {{ field code message }}"""

READ = f"query($id: ID!) {{ bulkOperation(id: $id) {{ {OPERATION} }} }}"
NODE = "query($id: ID!) { node(id: $id) { id ... on BulkOperation { action changedCount } } }"


async def test_a_pause_payload_carries_its_operation_and_the_changed_enrollments(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    _, ids = await make_enrolled(db, clock, workspace.actor, 5)
    await pause(db, clock, workspace.actor, Selection(ids=(ids[4],)))
    resume_at = "2099-01-02T03:04:05+00:00"
    selection = {"ids": gids("Enrollment", [ids[4], ids[2], ids[0], ids[1]])}
    input: dict[str, Any] = {"selection": selection, "resumeAt": resume_at}
    payload = await mutate(gql, "pauseEnrollments", {**input, "idempotencyKey": "k1"}, PAYLOAD)

    assert payload["changedCount"] == 3 and payload["userErrors"] == []
    changed = payload["changedEnrollments"]
    assert [e["id"] for e in changed] == gids("Enrollment", ids[:3])  # lowest id first
    assert {(e["status"], e["reason"]) for e in changed} == {("PAUSED", "MANUAL")}
    operation = payload["bulkOperation"]
    assert operation["id"] == payload["bulkOperationId"]
    assert operation["action"] == "PAUSE"
    assert operation["changedCount"] == 3
    assert operation["actor"] == {"email": f"admin@{workspace.name}.test"}
    # the input as written, without the idempotency key and dry run
    assert operation["options"] == {"selection": {"ids": selection["ids"]}, "resumeAt": resume_at}
    assert operation["skipped"] == [
        {"reason": "ALREADY_IN_STATUS", "count": 1, "ids": [gid("Enrollment", ids[4])]}
    ]
    events = operation["events"]
    assert events["totalCount"] == 3 and events["pageInfo"]["hasNextPage"]
    assert [e["node"]["toStatus"] for e in events["edges"]] == ["PAUSED", "PAUSED"]
    assert {e["node"]["fromStatus"] for e in events["edges"]} == {"ACTIVE"}

    # the rest of its events, a page later
    rest = await gql.execute(
        "query($id: ID!, $after: String) { bulkOperation(id: $id) { events(after: $after) {"
        " edges { node { enrollment { id } } } pageInfo { hasNextPage } } } }",
        {"id": operation["id"], "after": events["pageInfo"]["endCursor"]},
    )
    seen = [e["node"]["enrollment"]["id"] for e in events["edges"]]
    seen += [e["node"]["enrollment"]["id"] for e in rest["bulkOperation"]["events"]["edges"]]
    assert sorted(seen) == sorted(gids("Enrollment", ids[:3]))

    # read back later, by `bulkOperation` and by `node`, as it was answered
    again = (await gql.execute(READ, {"id": operation["id"]}))["bulkOperation"]
    assert again == operation
    node = (await gql.execute(NODE, {"id": operation["id"]}))["node"]
    assert node == {"id": operation["id"], "action": "PAUSE", "changedCount": 3}

    # the same idempotency key answers with the same operation
    replay = await mutate(gql, "pauseEnrollments", {**input, "idempotencyKey": "k1"}, PAYLOAD)
    assert replay["bulkOperation"] == operation and replay["changedCount"] == 3


async def test_a_dry_run_or_refused_call_records_no_operation(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    _, ids = await make_enrolled(db, clock, workspace.actor, 2)
    input = {"selection": {"ids": gids("Enrollment", ids)}, "dryRun": True}
    dry = await mutate(gql, "pauseEnrollments", input, PAYLOAD)
    assert dry["changedCount"] == 2 and dry["dryRun"] is True
    assert dry["bulkOperation"] is None and dry["bulkOperationId"] is None
    assert dry["changedEnrollments"] == []
    refused = await mutate(gql, "pauseEnrollments", {"selection": {"ids": ["forged"]}}, PAYLOAD)
    assert refused["userErrors"] and refused["bulkOperation"] is None
    assert refused["changedEnrollments"] == []


@pytest.mark.parametrize(("first", "expected"), [(0, 0), (1, 1), (100, 3)])
async def test_changed_enrollments_takes_first(
    gql: GraphQLClient,
    db: Database,
    clock: FrozenClock,
    workspace: Workspace,
    first: int,
    expected: int,
) -> None:
    _, ids = await make_enrolled(db, clock, workspace.actor, 3)
    fields = f"changedEnrollments(first: {first}) {{ id }}"
    payload = await mutate(
        gql, "pauseEnrollments", {"selection": {"ids": gids("Enrollment", ids)}}, fields
    )
    assert len(payload["changedEnrollments"]) == expected


@pytest.mark.parametrize("first", [-1, 101, 2**31 - 1])
async def test_changed_enrollments_out_of_range_is_an_error_naming_first(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace, first: int
) -> None:
    _, ids = await make_enrolled(db, clock, workspace.actor, 1)
    fields = f"changedCount changedEnrollments(first: {first}) {{ id }}"
    response = await gql.post(
        f"mutation($input: PauseEnrollmentsInput!) {{ pauseEnrollments(input: $input) {{ "
        f"{fields} }} }}",
        {"input": {"selection": {"ids": gids("Enrollment", ids)}}},
    )
    body = response.json()
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "first"}


async def test_operations_of_another_workspace_are_not_found(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    other = await make_workspace(db, clock)
    _, theirs = await make_enrolled(db, clock, other.actor, 1)
    result = await pause(db, clock, other.actor, Selection(ids=tuple(theirs)))
    assert result.bulk_operation_id is not None
    their_id = gid("BulkOperation", result.bulk_operation_id)
    assert (await gql.execute(READ, {"id": their_id}))["bulkOperation"] is None
    assert (await gql.execute(NODE, {"id": their_id}))["node"] is None
    assert (await gql.execute(READ, {"id": gid("BulkOperation", 2**62)}))["bulkOperation"] is None
    # an id of another type, or no id at all
    for forged in (gid("Enrollment", theirs[0]), "garbage", ""):
        errors = await gql.errors(READ, {"id": forged})
        assert errors[0]["extensions"]["code"] == "INVALID_ID", forged


async def test_an_operation_that_changes_no_status_lists_no_events(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    _, ids = await make_enrolled(db, clock, workspace.actor, 2)
    group = (await create_group(db, clock, workspace.actor, "Hot")).group_id
    assert group is not None
    input = {"selection": {"ids": gids("Enrollment", ids)}, "groupId": gid("Group", group)}
    payload = await mutate(gql, "addEnrollmentsToGroup", input, PAYLOAD)
    assert payload["changedCount"] == 2 and payload["changedEnrollments"] == []
    operation = payload["bulkOperation"]
    assert operation["action"] == "ADD_TO_GROUP"
    assert operation["options"] == input
    assert operation["events"]["totalCount"] == 0


async def test_a_restart_payload_shows_the_new_enrollments(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    _, ids = await make_enrolled(db, clock, workspace.actor, 2)
    await finish(db, clock, workspace.actor, Selection(ids=tuple(ids)), FinishReason.REPLIED)
    fields = (
        "changedCount sequence { id } bulkOperation { action changedCount } "
        "changedEnrollments { id status sequence { id } }"
    )
    input = {"selection": {"ids": gids("Enrollment", ids)}}
    payload = await mutate(gql, "restartEnrollments", input, fields)
    assert payload["bulkOperation"] == {"action": "RESTART", "changedCount": 2}
    new = payload["changedEnrollments"]
    assert len(new) == 2 and {e["status"] for e in new} == {"ACTIVE"}
    assert {e["sequence"]["id"] for e in new} == {payload["sequence"]["id"]}


COUNTS = """
subscription($seq: ID!) {
  sequenceStatusCounts(sequenceId: $seq) {
    id sequenceId total
    sequence { id name statusCounts { status count } }
  }
}"""


async def test_pushed_counts_carry_an_identity_and_their_sequence(
    app: Starlette, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    seq, ids = await make_enrolled(db, clock, workspace.actor, 3)
    async with connect(app, workspace.token) as ws:
        await ack(ws)
        await subscribe(ws, "counts", COUNTS, {"seq": gid("Sequence", seq)})
        first = (await next_data(ws))["sequenceStatusCounts"]
        assert first["id"] == first["sequenceId"] == gid("Sequence", seq)
        assert first["sequence"]["id"] == gid("Sequence", seq)
        await pause(db, clock, workspace.actor, Selection(ids=tuple(ids[:2])))
        pushed = (await next_data(ws))["sequenceStatusCounts"]
        counts = {c["status"]: c["count"] for c in pushed["sequence"]["statusCounts"]}
        assert counts["PAUSED"] == 2 and counts["ACTIVE"] == 1
        assert pushed["id"] == first["id"]


async def test_a_send_message_payload_carries_its_operation(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    _, ids = await make_enrolled(db, clock, workspace.actor, 2)
    input = {"selection": {"ids": gids("Enrollment", ids)}, "channel": "EMAIL", "body": "Hi"}
    fields = "sentCount bulkOperation { action changedCount options } changedEnrollments { id }"
    payload = await mutate(gql, "sendMessage", {**input, "subject": "Hello"}, fields)
    assert payload["sentCount"] == 2 and payload["changedEnrollments"] == []
    operation = payload["bulkOperation"]
    assert operation["action"] == "SEND_MESSAGE" and operation["changedCount"] == 2
    assert operation["options"] == {**input, "subject": "Hello"}
