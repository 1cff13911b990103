"""How a finished enrollment ended (TextUs's three finished states): a reply detected is
RESPONDED, a user's finish is STOPPED whatever its reason, the reply window passing is
NO_RESPONSE (tests/engine/test_worker.py); shown on the enrollment and filtered on."""

from __future__ import annotations

from typing import Any

import pytest

from seqgql.clock import FrozenClock
from seqgql.domain.status import EnrollmentStatus, Outcome, StatusReason, outcome_of
from seqgql.persistence.database import Database
from tests.helpers.factories import gid, gids, make_enrolled
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.workspace import Workspace

REPORT = "mutation($input: RecordDeliveryEventInput!) { recordDeliveryEvent(input: $input) { statusChanged } }"  # noqa: E501
LIST = """query($seq: ID!, $filter: EnrollmentFilter) {
  enrollments(sequenceId: $seq, filter: $filter, first: 100) {
    totalCount edges { node { id status reason outcome } } } }"""


@pytest.mark.parametrize(
    ("status", "reason", "by_user", "expected"),
    [
        (EnrollmentStatus.FINISHED, StatusReason.REPLIED, False, Outcome.RESPONDED),
        (EnrollmentStatus.FINISHED, StatusReason.REPLIED, True, Outcome.STOPPED),
        (EnrollmentStatus.FINISHED, StatusReason.MEETING_BOOKED, True, Outcome.STOPPED),
        (EnrollmentStatus.FINISHED, StatusReason.COMPLETED_NO_RESPONSE, False, Outcome.NO_RESPONSE),
        (EnrollmentStatus.PAUSED, StatusReason.MANUAL, True, None),
        (EnrollmentStatus.REMOVED, None, True, None),
    ],
)
def test_the_domain_derives_the_outcome(
    status: EnrollmentStatus, reason: StatusReason | None, by_user: bool, expected: Outcome | None
) -> None:
    assert outcome_of(status, reason, by_user=by_user) is expected


async def listed(gql: GraphQLClient, seq: int, **flt: Any) -> dict[str, Any]:
    data = await gql.execute(LIST, {"seq": gid("Sequence", seq), "filter": flt or None})
    return {e["node"]["id"]: e["node"] for e in data["enrollments"]["edges"]}


async def test_a_manual_replied_finish_is_stopped_and_a_detected_reply_responded(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    seq, (manual, detected, active) = await make_enrolled(db, clock, workspace.actor, 3)
    finished = await mutate(
        gql,
        "finishEnrollments",
        {"selection": {"ids": gids("Enrollment", [manual])}, "reason": "REPLIED"},
        "changedCount",
    )
    assert finished["changedCount"] == 1
    report = {"enrollmentId": gid("Enrollment", detected), "kind": "REPLIED"}
    assert (await gql.execute(REPORT, {"input": report}))["recordDeliveryEvent"]["statusChanged"]

    rows = await listed(gql, seq)
    # the same status and reason, told apart by the outcome
    for pk in (manual, detected):
        assert (rows[gid("Enrollment", pk)]["status"], rows[gid("Enrollment", pk)]["reason"]) == (
            "FINISHED",
            "REPLIED",
        )
    assert rows[gid("Enrollment", manual)]["outcome"] == "STOPPED"
    assert rows[gid("Enrollment", detected)]["outcome"] == "RESPONDED"
    assert rows[gid("Enrollment", active)]["outcome"] is None

    assert list(await listed(gql, seq, outcomes=["STOPPED"])) == [gid("Enrollment", manual)]
    assert list(await listed(gql, seq, outcomes=["RESPONDED", "NO_RESPONSE"])) == [
        gid("Enrollment", detected)
    ]


async def test_re_enrolling_clears_the_outcome(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    seq, (pk,) = await make_enrolled(db, clock, workspace.actor, 1)
    await mutate(
        gql,
        "finishEnrollments",
        {"selection": {"ids": gids("Enrollment", [pk])}, "reason": "OTHER"},
        "changedCount",
    )
    contact = (await listed(gql, seq))[gid("Enrollment", pk)]
    assert contact["outcome"] == "STOPPED"
    node = await gql.execute(
        "query($id: ID!) { node(id: $id) { ... on Enrollment { contact { id } } } }",
        {"id": gid("Enrollment", pk)},
    )
    again = await mutate(
        gql,
        "addContactsToSequence",
        {"sequenceId": gid("Sequence", seq), "contactIds": [node["node"]["contact"]["id"]]},
        "changedCount",
    )
    assert again["changedCount"] == 1
    row = (await listed(gql, seq))[gid("Enrollment", pk)]
    assert (row["status"], row["outcome"]) == ("ACTIVE", None)


async def test_an_unknown_outcome_is_refused(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    seq, _ = await make_enrolled(db, clock, workspace.actor, 1)
    errors = await gql.errors(
        LIST, {"seq": gid("Sequence", seq), "filter": {"outcomes": ["MAYBE"]}}
    )
    assert errors[0]["extensions"]["code"] in ("BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED")
