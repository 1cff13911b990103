"""Mark finished (each reason) and remove, through GraphQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from seqgql.clock import FrozenClock
from seqgql.domain.selection import Selection
from seqgql.domain.status import FinishReason
from seqgql.persistence.database import Database
from seqgql.services.enrollments import finish, pause, remove
from tests.helpers.bulk import by_reason, ids_of, moment, node, set_columns, states
from tests.helpers.factories import gid, gids, make_enrolled
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.workspace import Workspace

# ---------------------------------------------------------------- finish / remove


@pytest.mark.parametrize("reason", [r.value for r in FinishReason])
async def test_finish_with_each_reason(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock, reason: str
) -> None:
    _, ids = await make_enrolled(db, clock, workspace.actor, 2)
    clock.advance(timedelta(minutes=30))
    payload = await mutate(
        gql, "finishEnrollments", {"selection": ids_of(ids[:1]), "reason": reason}
    )
    assert payload["changedCount"] == 1 and payload["userErrors"] == []
    got = await node(gql, ids[0])
    assert (got["status"], got["reason"]) == ("FINISHED", reason)
    assert moment(got["finishedAt"]) == clock.now()
    assert got["nextRunAt"] is None
    assert (await node(gql, ids[1]))["status"] == "ACTIVE"


async def test_finish_applies_to_any_status_but_removed_and_finished(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    _, ids = await make_enrolled(db, clock, workspace.actor, 7)
    _active, paused, not_sent, bounced, omitted, removed, finished = ids
    await pause(db, clock, workspace.actor, Selection(ids=(paused,)))
    await set_columns(db, [not_sent], status="NOT_SENT", reason="MISSING_PHONE")
    await set_columns(db, [bounced], status="BOUNCED", reason=None)
    await set_columns(db, [omitted], status="OMITTED", reason="LANDLINE")
    await remove(db, clock, workspace.actor, Selection(ids=(removed,)))
    await finish(
        db, clock, workspace.actor, Selection(ids=(finished,)), reason=FinishReason.REPLIED
    )
    payload = await mutate(
        gql, "finishEnrollments", {"selection": ids_of(ids), "reason": "CHANGED_JOBS"}
    )
    assert payload["changedCount"] == 5
    skipped = by_reason(payload)
    assert skipped["INVALID_TRANSITION"]["ids"] == gids("Enrollment", [removed])
    assert skipped["ALREADY_IN_STATUS"]["ids"] == gids("Enrollment", [finished])
    assert await states(db, ids) == {
        **dict.fromkeys(ids[:5], ("FINISHED", "CHANGED_JOBS")),
        removed: ("REMOVED", None),
        finished: ("FINISHED", "REPLIED"),
    }


async def test_remove_hides_the_enrollment_and_keeps_its_history(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq, ids = await make_enrolled(db, clock, workspace.actor, 4)
    await mutate(
        gql, "recordDeliveryEvent", {"enrollmentId": gid("Enrollment", ids[0]), "kind": "OPENED"},
        "userErrors { code }",
    )  # fmt: skip
    await mutate(gql, "pauseEnrollments", {"selection": ids_of([ids[1]])})
    await mutate(gql, "finishEnrollments", {"selection": ids_of([ids[2]]), "reason": "OTHER"})
    payload = await mutate(gql, "removeEnrollments", {"selection": ids_of(ids[:3])})
    assert payload["changedCount"] == 3 and payload["skipped"] == []
    assert set((await states(db, ids)).values()) == {("REMOVED", None), ("ACTIVE", None)}
    again = await mutate(gql, "removeEnrollments", {"selection": ids_of(ids[:1])})
    assert again["changedCount"] == 0
    assert by_reason(again)["ALREADY_IN_STATUS"]["count"] == 1

    listing = """query($seq: ID!, $filter: EnrollmentFilter) {
      enrollments(sequenceId: $seq, filter: $filter) { totalCount edges { node { id } } } }"""
    shown = await gql.execute(listing, {"seq": gid("Sequence", seq)})
    assert [e["node"]["id"] for e in shown["enrollments"]["edges"]] == [gid("Enrollment", ids[3])]
    everything = await gql.execute(
        listing, {"seq": gid("Sequence", seq), "filter": {"includeRemoved": True}}
    )
    assert everything["enrollments"]["totalCount"] == 4
    kept = await node(gql, ids[0])
    assert [a["node"]["kind"] for a in kept["activities"]["edges"]] == ["OPENED"]
    assert kept["nextRunAt"] is None
