"""Resuming keeps the remaining wait (or sends now), at a chosen step if asked, and
retries FAILED and BOUNCED enrollments when the contact can now receive the step
(issue 12, points 1 and 2)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from seqgql.clock import FrozenClock
from seqgql.domain.kinds import StepChannel
from seqgql.domain.selection import Selection
from seqgql.domain.sequence import StepSpec
from seqgql.persistence.database import Database
from seqgql.services.enrollments import pause
from tests.helpers.bulk import by_reason, event_count, moment, node, snapshot
from tests.helpers.factories import gid, gids, make_enrolled, make_sequence
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.workspace import Workspace

RESUMED = "changedCount dryRun skipped { reason count ids } userErrors { field code message }"
HOUR = 60
STEPS = [
    StepSpec(StepChannel.EMAIL, HOUR, "Hi {{first_name}}", "Hello"),
    StepSpec(StepChannel.SMS, 24 * HOUR, "Quick text"),
    StepSpec(StepChannel.EMAIL, 48 * HOUR, "Last note", "Closing"),
]


async def enrolled(
    db: Database, clock: FrozenClock, workspace: Workspace, count: int = 1, **contact: Any
) -> list[int]:
    seq = await make_sequence(db, clock, workspace.actor, steps=STEPS)
    _, ids = await make_enrolled(db, clock, workspace.actor, count, sequence_id=seq, **contact)
    return ids


async def resume(gql: GraphQLClient, ids: list[int], **extra: Any) -> dict[str, Any]:
    input = {"selection": {"ids": gids("Enrollment", ids)}, **extra}
    return await mutate(gql, "resumeEnrollments", input, RESUMED)


def due(got: dict[str, Any]) -> datetime | None:
    return moment(got["nextRunAt"])


async def test_resuming_keeps_the_wait_that_was_left(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    (pk,) = await enrolled(db, clock, workspace)
    start = clock.now()
    assert due(await node(gql, pk)) == start + timedelta(hours=1)
    clock.advance(timedelta(minutes=10))
    await pause(db, clock, workspace.actor, Selection(ids=(pk,)))
    assert due(await node(gql, pk)) is None  # nothing is scheduled while paused
    clock.advance(timedelta(hours=3))
    payload = await resume(gql, [pk])
    assert payload["changedCount"] == 1 and payload["userErrors"] == []
    got = await node(gql, pk)
    assert (got["status"], got["currentStep"]) == ("ACTIVE", 1)
    # 50 minutes were left when paused: due 50 minutes after the resume
    assert due(got) == clock.now() + timedelta(minutes=50)


async def test_send_now_makes_the_step_due_at_once(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    (pk,) = await enrolled(db, clock, workspace)
    await pause(db, clock, workspace.actor, Selection(ids=(pk,)))
    clock.advance(timedelta(minutes=5))
    assert (await resume(gql, [pk], mode="SEND_NOW"))["changedCount"] == 1
    assert due(await node(gql, pk)) == clock.now()


async def test_a_step_overdue_when_paused_is_due_now_never_in_the_past(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    (pk,) = await enrolled(db, clock, workspace)
    clock.advance(timedelta(hours=2))  # due an hour ago; the engine did not run
    await pause(db, clock, workspace.actor, Selection(ids=(pk,)))
    clock.advance(timedelta(minutes=30))
    await resume(gql, [pk])
    assert due(await node(gql, pk)) == clock.now()


async def test_at_step_moves_the_resumed_enrollment(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    first, second = await enrolled(db, clock, workspace, 2)
    await pause(db, clock, workspace.actor, Selection(ids=(first, second)))
    payload = await resume(gql, [first, second], atStep=3, mode="SEND_NOW")
    assert payload["changedCount"] == 2
    for pk in (first, second):
        got = await node(gql, pk)
        assert (got["status"], got["currentStep"], due(got)) == ("ACTIVE", 3, clock.now())


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"atStep": 0}, "OUT_OF_RANGE"),
        ({"atStep": 4}, "OUT_OF_RANGE"),
        ({"atStep": -(2**31)}, "OUT_OF_RANGE"),
        ({"atStep": 2, "resumeAt": "2099-01-01T00:00:00Z"}, "INVALID"),
    ],
)
async def test_a_bad_step_is_refused_and_changes_nothing(
    gql: GraphQLClient,
    db: Database,
    clock: FrozenClock,
    workspace: Workspace,
    extra: dict[str, Any],
    code: str,
) -> None:
    (pk,) = await enrolled(db, clock, workspace)
    await pause(db, clock, workspace.actor, Selection(ids=(pk,)))
    before = await snapshot(db, workspace.actor.workspace_id)
    payload = await resume(gql, [pk], **extra)
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["input", "atStep"], code)]
    assert await snapshot(db, workspace.actor.workspace_id) == before


REPORT = "mutation($input: RecordDeliveryEventInput!) { recordDeliveryEvent(input: $input) { statusChanged } }"  # noqa: E501
UPDATE = (
    "mutation($input: UpdateContactInput!) { updateContact(input: $input) { userErrors { code } } }"
)


async def report(gql: GraphQLClient, pk: int, kind: str) -> None:
    data = await gql.execute(
        REPORT, {"input": {"enrollmentId": gid("Enrollment", pk), "kind": kind}}
    )
    assert data["recordDeliveryEvent"]["statusChanged"] is True


async def test_failed_and_bounced_are_retried_at_the_step_that_failed(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    failed, bounced = await enrolled(db, clock, workspace, 2)
    await report(gql, failed, "FAILED")
    await report(gql, bounced, "BOUNCED")
    events_before = await event_count(db, workspace.actor.workspace_id)
    clock.advance(timedelta(hours=5))
    dry = await resume(gql, [failed, bounced], dryRun=True)
    assert (dry["changedCount"], dry["dryRun"], dry["skipped"]) == (2, True, [])
    payload = await resume(gql, [failed, bounced])
    assert (payload["changedCount"], payload["skipped"]) == (2, [])
    for pk in (failed, bounced):
        got = await node(gql, pk)
        # the step that failed, due at once
        assert (got["status"], got["reason"], got["currentStep"]) == ("ACTIVE", None, 1)
        assert due(got) == clock.now()
    assert await event_count(db, workspace.actor.workspace_id) == events_before + 2


async def test_a_retry_the_contact_cannot_receive_is_skipped_with_why(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    no_email, opted_out, fine = await enrolled(db, clock, workspace, 3)
    for pk in (no_email, opted_out, fine):
        await report(gql, pk, "BOUNCED")
    contact = {pk: (await node(gql, pk))["contact"]["id"] for pk in (no_email, opted_out)}
    await gql.execute(UPDATE, {"input": {"contactId": contact[no_email], "email": None}})
    await gql.execute(UPDATE, {"input": {"contactId": contact[opted_out], "optedOut": True}})
    payload = await resume(gql, [no_email, opted_out, fine])
    assert payload["changedCount"] == 1
    skipped = by_reason(payload)
    assert skipped["MISSING_EMAIL"] == {
        "reason": "MISSING_EMAIL",
        "count": 1,
        "ids": [gid("Enrollment", no_email)],
    }
    assert skipped["CONTACT_OPTED_OUT"]["ids"] == [gid("Enrollment", opted_out)]
    assert (await node(gql, no_email))["status"] == "BOUNCED"
    assert (await node(gql, fine))["status"] == "ACTIVE"
    # the address fixed: the retry goes through
    await gql.execute(
        UPDATE, {"input": {"contactId": contact[no_email], "email": "fixed@example.com"}}
    )
    assert (await resume(gql, [no_email]))["changedCount"] == 1
    assert (await node(gql, no_email))["status"] == "ACTIVE"


async def test_a_retry_at_an_sms_step_needs_a_mobile_phone(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    (pk,) = await enrolled(db, clock, workspace, phone_type="LANDLINE")
    await report(gql, pk, "FAILED")
    payload = await resume(gql, [pk], atStep=2)  # step 2 is an SMS
    assert list(by_reason(payload)) == ["LANDLINE"] and payload["changedCount"] == 0
    assert (await resume(gql, [pk], atStep=3))["changedCount"] == 1  # an email step


async def test_a_retry_is_not_scheduled(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    failed, paused = await enrolled(db, clock, workspace, 2)
    await report(gql, failed, "FAILED")
    await pause(db, clock, workspace.actor, Selection(ids=(paused,)))
    payload = await resume(gql, [failed, paused], resumeAt="2099-01-01T00:00:00Z")
    assert payload["changedCount"] == 1
    assert by_reason(payload)["INVALID_TRANSITION"]["ids"] == [gid("Enrollment", failed)]
    assert (await node(gql, failed))["status"] == "FAILED"
    assert (await node(gql, paused))["resumeAt"] is not None
