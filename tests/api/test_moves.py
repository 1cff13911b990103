"""Moving enrollments: to another step (events with the step before and after), to
another sequence in one atomic call (REMOVED with reason MOVED, linked to the new
enrollment), and enrolling at a chosen step or with a rule for contacts active in
another sequence (issue 12, points 3 and 4)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from seqgql.clock import FrozenClock
from seqgql.domain.kinds import StepChannel
from seqgql.domain.selection import Selection
from seqgql.domain.sequence import StepSpec
from seqgql.domain.status import FinishReason
from seqgql.graphql.relay import parse_global_id
from seqgql.persistence.database import Database
from seqgql.services.enrollments import add_contacts, finish, pause, remove
from seqgql.services.sequences import archive_sequence
from tests.helpers.bulk import by_reason, enrollment_of, moment, node, snapshot
from tests.helpers.factories import gid, gids, make_contacts, make_enrolled, make_sequence
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.workspace import Workspace

HOUR = 60
STEPS = [
    StepSpec(StepChannel.EMAIL, HOUR, "Hi", "Hello"),
    StepSpec(StepChannel.EMAIL, 24 * HOUR, "Following up"),
    StepSpec(StepChannel.EMAIL, 48 * HOUR, "Last note", "Closing"),
]
PAYLOAD = """changedCount dryRun
  skipped { reason count ids sequence { id name } }
  userErrors { field code message }
  changedEnrollments(first: 100) { id status reason currentStep sequence { id }
    movedTo { id status currentStep sequence { id } } }
  bulkOperation { action events(first: 100) { totalCount edges { node {
    fromStatus toStatus reason fromStep toStep enrollment { id } } } } }"""


async def sequence(db: Database, clock: FrozenClock, workspace: Workspace, name: str) -> int:
    return await make_sequence(db, clock, workspace.actor, name=name, steps=STEPS)


async def test_moving_to_a_step_changes_the_step_only(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    seq = await sequence(db, clock, workspace, "Steps")
    _, (active, paused, done, there) = await make_enrolled(
        db, clock, workspace.actor, 4, sequence_id=seq
    )
    await pause(db, clock, workspace.actor, Selection(ids=(paused,)))
    await finish(db, clock, workspace.actor, Selection(ids=(done,)), FinishReason.OTHER)
    moved_before = await mutate(
        gql, "moveEnrollmentsToStep", {"selection": {"ids": gids("Enrollment", [there])},
                                       "step": 3}, PAYLOAD,
    )  # fmt: skip
    assert moved_before["changedCount"] == 1
    due_before = moment((await node(gql, active))["nextRunAt"])

    selected = gids("Enrollment", [active, paused, done, there])
    payload = await mutate(
        gql, "moveEnrollmentsToStep", {"selection": {"ids": selected}, "step": 3}, PAYLOAD
    )
    assert payload["changedCount"] == 2 and payload["userErrors"] == []
    skipped = by_reason(payload)
    assert skipped["INVALID_TRANSITION"]["ids"] == [gid("Enrollment", done)]
    assert skipped["ALREADY_AT_STEP"]["ids"] == [gid("Enrollment", there)]
    changed = {e["id"]: e for e in payload["changedEnrollments"]}
    assert changed[gid("Enrollment", active)]["currentStep"] == 3
    assert (changed[gid("Enrollment", paused)]["status"], changed[gid("Enrollment", paused)][
        "reason"]) == ("PAUSED", "MANUAL")  # fmt: skip
    got = await node(gql, active)
    assert (got["status"], got["currentStep"]) == ("ACTIVE", 3)
    assert moment(got["nextRunAt"]) == due_before  # the running wait leads to step 3
    events = [e["node"] for e in payload["bulkOperation"]["events"]["edges"]]
    assert {(e["fromStatus"], e["toStatus"], e["fromStep"], e["toStep"]) for e in events} == {
        ("ACTIVE", "ACTIVE", 1, 3),
        ("PAUSED", "PAUSED", 1, 3),
    }
    assert payload["bulkOperation"]["action"] == "MOVE_STEP"


@pytest.mark.parametrize("step", [0, 4, -1, 2**31 - 1])
async def test_a_step_the_sequence_does_not_have_is_refused(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace, step: int
) -> None:
    seq = await sequence(db, clock, workspace, "Steps")
    _, ids = await make_enrolled(db, clock, workspace.actor, 2, sequence_id=seq)
    before = await snapshot(db, workspace.actor.workspace_id)
    payload = await mutate(
        gql, "moveEnrollmentsToStep", {"selection": {"ids": gids("Enrollment", ids)},
                                       "step": step}, PAYLOAD,
    )  # fmt: skip
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "step"], "OUT_OF_RANGE")
    ]
    assert await snapshot(db, workspace.actor.workspace_id) == before


async def contact_of(gql: GraphQLClient, pk: int) -> str:
    return str((await node(gql, pk))["contact"]["id"])


async def test_moving_to_another_sequence_is_one_atomic_operation(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    source = await sequence(db, clock, workspace, "Wrong")
    target = await sequence(db, clock, workspace, "Right")
    _, (plain, doubled, gone, returning) = await make_enrolled(
        db, clock, workspace.actor, 4, sequence_id=source
    )
    await remove(db, clock, workspace.actor, Selection(ids=(gone,)))
    contacts = {pk: parse_global_id(await contact_of(gql, pk))[1] for pk in (doubled, returning)}
    # one contact is in the target already; another was there once and was removed
    actor = workspace.actor
    added = await add_contacts(db, clock, actor, target, list(contacts.values()))
    assert not added.errors
    earlier = await enrollment_of(db, target, contacts[returning])
    await remove(db, clock, actor, Selection(ids=(earlier,)))

    selected = gids("Enrollment", [plain, doubled, gone, returning])
    input: dict[str, Any] = {
        "selection": {"ids": selected}, "targetSequenceId": gid("Sequence", target),
        "startAtStep": 2,
    }  # fmt: skip
    before = await snapshot(db, actor.workspace_id)
    dry = await mutate(gql, "moveEnrollments", {**input, "dryRun": True}, PAYLOAD)
    assert (dry["changedCount"], dry["dryRun"]) == (2, True)
    assert await snapshot(db, actor.workspace_id) == before

    payload = await mutate(gql, "moveEnrollments", input, PAYLOAD)
    assert payload["changedCount"] == 2 and payload["userErrors"] == []
    skipped = by_reason(payload)
    assert skipped["ALREADY_ENROLLED"]["ids"] == [gid("Enrollment", doubled)]
    assert skipped["ALREADY_IN_STATUS"]["ids"] == [gid("Enrollment", gone)]
    for pk in (plain, returning):
        got = await node(gql, pk)
        assert (got["status"], got["reason"]) == ("REMOVED", "MOVED")
    moved = {e["id"]: e for e in payload["changedEnrollments"]}
    new = moved[gid("Enrollment", plain)]["movedTo"]
    assert (new["status"], new["currentStep"], new["sequence"]["id"]) == (
        "ACTIVE", 2, gid("Sequence", target),
    )  # fmt: skip
    again = moved[gid("Enrollment", returning)]["movedTo"]
    assert again["id"] == gid("Enrollment", earlier)  # re-enrolled: the same enrollment
    assert (again["status"], again["currentStep"]) == ("ACTIVE", 2)
    assert (await node(gql, doubled))["status"] == "ACTIVE"  # left where it was
    operation = payload["bulkOperation"]
    assert operation["action"] == "MOVE"
    # one operation: the two removals and the two enrollments in the target
    events = [e["node"] for e in operation["events"]["edges"]]
    assert sorted((e["fromStatus"] or "-", e["toStatus"]) for e in events) == [
        ("-", "ACTIVE"), ("ACTIVE", "REMOVED"), ("ACTIVE", "REMOVED"), ("REMOVED", "ACTIVE"),
    ]  # fmt: skip


@pytest.mark.parametrize("problem", ["same", "archived", "step", "missing"])
async def test_a_bad_target_refuses_the_whole_move(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace, problem: str
) -> None:
    source = await sequence(db, clock, workspace, "Wrong")
    target = await sequence(db, clock, workspace, "Right")
    _, ids = await make_enrolled(db, clock, workspace.actor, 2, sequence_id=source)
    input: dict[str, Any] = {"selection": {"ids": gids("Enrollment", ids)},
                             "targetSequenceId": gid("Sequence", target)}  # fmt: skip
    expected = (["input", "targetSequenceId"], "INVALID")
    if problem == "same":
        input["targetSequenceId"] = gid("Sequence", source)
    elif problem == "archived":
        await archive_sequence(db, clock, workspace.actor, target)
        expected = (["input", "targetSequenceId"], "ARCHIVED")
    elif problem == "step":
        input["startAtStep"] = 9
        expected = (["input", "startAtStep"], "OUT_OF_RANGE")
    else:
        input["targetSequenceId"] = gid("Sequence", 2**62)
        expected = (["input", "targetSequenceId"], "NOT_FOUND")
    before = await snapshot(db, workspace.actor.workspace_id)
    payload = await mutate(gql, "moveEnrollments", input, PAYLOAD)
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [expected]
    assert await snapshot(db, workspace.actor.workspace_id) == before


ENROLL = "changedCount skipped { reason count ids sequence { id name } } userErrors { field code }"


async def test_enrolling_at_a_step(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    seq = await sequence(db, clock, workspace, "Steps")
    (contact,) = await make_contacts(db, clock, workspace.actor, 1)
    payload = await mutate(
        gql, "addContactsToSequence",
        {"sequenceId": gid("Sequence", seq), "contactIds": [gid("Contact", contact)],
         "startAtStep": 2}, ENROLL,
    )  # fmt: skip
    assert payload["changedCount"] == 1
    data = await gql.execute(
        "query($s: ID!) { enrollments(sequenceId: $s) {"
        " edges { node { currentStep nextRunAt } } } }",
        {"s": gid("Sequence", seq)},
    )
    (edge,) = data["enrollments"]["edges"]
    assert edge["node"]["currentStep"] == 2
    assert moment(edge["node"]["nextRunAt"]) == clock.now() + timedelta(hours=24)  # its wait


@pytest.mark.parametrize("choice", ["ENROLL", "SKIP", "MOVE"])
async def test_contacts_active_in_another_sequence(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace, choice: str
) -> None:
    elsewhere = await sequence(db, clock, workspace, "Elsewhere")
    here = await sequence(db, clock, workspace, "Here")
    _, (busy,) = await make_enrolled(db, clock, workspace.actor, 1, sequence_id=elsewhere)
    (free,) = await make_contacts(db, clock, workspace.actor, 1, prefix="Free")
    busy_contact = await contact_of(gql, busy)
    payload = await mutate(
        gql, "addContactsToSequence",
        {"sequenceId": gid("Sequence", here), "contactIds": [busy_contact, gid("Contact", free)],
         "ifActiveElsewhere": choice}, ENROLL,
    )  # fmt: skip
    assert payload["userErrors"] == []
    if choice == "SKIP":
        assert payload["changedCount"] == 1
        assert payload["skipped"] == [{
            "reason": "ACTIVE_IN_OTHER_SEQUENCE", "count": 1, "ids": [busy_contact],
            "sequence": {"id": gid("Sequence", elsewhere), "name": "Elsewhere"},
        }]  # fmt: skip
        assert (await node(gql, busy))["status"] == "ACTIVE"
    else:
        assert payload["changedCount"] == 2 and payload["skipped"] == []
        got = await node(gql, busy)
        if choice == "MOVE":
            assert (got["status"], got["reason"]) == ("REMOVED", "MOVED")
        else:
            assert got["status"] == "ACTIVE"
