"""Send a message now, and what a mail/SMS provider reports back (recordDeliveryEvent)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from seqgql.clock import FrozenClock
from seqgql.graphql.relay import from_global_id
from seqgql.outbound.transport import RecordingTransport
from seqgql.persistence.database import Database
from seqgql.persistence.tables import activities, enrollments
from tests.helpers.bulk import (
    create_contacts,
    enroll_input,
    enrollment_of,
    event_count,
    ids_of,
    moment,
    node,
    snapshot,
    states,
)
from tests.helpers.clocks import START
from tests.helpers.factories import gid, gids, make_enrolled, make_sequence
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.workspace import Workspace

SEND = """sentCount dryRun skipped { reason count ids } userErrors { field code message }"""
DELIVERY = """enrollment { id status reason resumeAt finishedAt } statusChanged skippedReason
  userErrors { field code message }"""


async def sent_activities(db: Database, ids: list[int]) -> dict[int, list[str | None]]:
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(activities.c.enrollment_id, activities.c.detail)
            .where(activities.c.enrollment_id.in_(ids), activities.c.kind == "SENT")
            .order_by(activities.c.id)
        )
        found: dict[int, list[str | None]] = {}
        for r in rows:
            found.setdefault(r.enrollment_id, []).append(r.detail)
        return found


async def test_send_message_reaches_each_contact_individually(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock,
    transport: RecordingTransport,
) -> None:  # fmt: skip
    _, ids = await make_enrolled(db, clock, workspace.actor, 4)
    payload = await mutate(
        gql, "sendMessage", {"selection": ids_of(ids[:3]), "body": "Are you free Tuesday?"}, SEND
    )
    assert payload["userErrors"] == [] and payload["skipped"] == []
    assert payload["sentCount"] == 3
    assert sorted(m.enrollment_id for m in transport.sent) == ids[:3]
    assert all(m.body == "Are you free Tuesday?" for m in transport.sent)
    assert all(m.to == "+14155550100" and m.channel == "SMS" for m in transport.sent)
    assert len({m.contact_id for m in transport.sent}) == 3
    assert await sent_activities(db, ids) == {pk: ["Are you free Tuesday?"] for pk in ids[:3]}
    shown = await node(gql, ids[0])
    assert [a["node"]["kind"] for a in shown["activities"]["edges"]] == ["SENT"]
    assert shown["status"] == "ACTIVE"  # a one-off message changes no status


async def test_send_message_to_ten_is_fine_eleven_is_too_many(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock,
    transport: RecordingTransport,
) -> None:  # fmt: skip
    seq, ids = await make_enrolled(db, clock, workspace.actor, 11)
    before = await snapshot(db, workspace.actor.workspace_id)
    for selection in (ids_of(ids), {"sequenceId": gid("Sequence", seq)}):
        payload = await mutate(gql, "sendMessage", {"selection": selection, "body": "Hi"}, SEND)
        assert payload["sentCount"] == 0
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
            (["input", "selection"], "TOO_MANY")
        ]
    assert transport.sent == []
    assert await snapshot(db, workspace.actor.workspace_id) == before

    payload = await mutate(gql, "sendMessage", {"selection": ids_of(ids[:10]), "body": "Hi"}, SEND)
    assert payload["userErrors"] == []
    assert payload["sentCount"] == 10
    assert len(transport.sent) == 10


async def test_send_message_skips_opted_out_contacts(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock,
    transport: RecordingTransport,
) -> None:  # fmt: skip
    seq, ids = await make_enrolled(db, clock, workspace.actor, 2)
    (already_out,) = await create_contacts(
        gql, [{"firstName": "Quit", "phone": "+14155550109", "optedOut": True}]
    )
    await mutate(gql, "addContactsToSequence", enroll_input(seq, [already_out]))
    omitted = await enrollment_of(db, seq, already_out)
    await mutate(
        gql, "recordDeliveryEvent",
        {"enrollmentId": gid("Enrollment", ids[1]), "kind": "OPTED_OUT"}, DELIVERY,
    )  # fmt: skip
    payload = await mutate(
        gql, "sendMessage", {"selection": ids_of([*ids, omitted]), "body": "Last chance"}, SEND
    )
    assert payload["sentCount"] == 1
    assert [(g["reason"], g["count"], sorted(g["ids"])) for g in payload["skipped"]] == [
        ("CONTACT_OPTED_OUT", 2, sorted(gids("Enrollment", [ids[1], omitted])))
    ]
    assert [m.enrollment_id for m in transport.sent] == [ids[0]]
    assert await sent_activities(db, [*ids, omitted]) == {ids[0]: ["Last chance"]}


async def test_send_message_sends_once_to_a_contact_selected_twice(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock,
    transport: RecordingTransport,
) -> None:  # fmt: skip
    """The same person enrolled in two sequences and selected in both gets one text."""
    _, (a,) = await make_enrolled(db, clock, workspace.actor, 1)
    second = await make_sequence(db, clock, workspace.actor, name="Second")
    async with db.read() as conn:
        contact = (
            await conn.execute(sa.select(enrollments.c.contact_id).where(enrollments.c.id == a))
        ).scalar_one()
    await mutate(gql, "addContactsToSequence", enroll_input(second, [contact]))
    b = await enrollment_of(db, second, contact)
    payload = await mutate(gql, "sendMessage", {"selection": ids_of([a, b]), "body": "Hi"}, SEND)
    assert payload["userErrors"] == []
    assert [m.contact_id for m in transport.sent] == [contact]
    assert payload["sentCount"] == 1


# ---------------------------------------------------------------- delivery events

CHANGES: dict[str, tuple[str, str | None]] = {
    "REPLIED": ("FINISHED", "REPLIED"),
    "BOUNCED": ("BOUNCED", None),
    "FAILED": ("FAILED", None),
    "OUT_OF_OFFICE": ("PAUSED", "OUT_OF_OFFICE"),
    "OPTED_OUT": ("OPTED_OUT", None),
}


async def record(gql: GraphQLClient, pk: int, kind: str, **extra: Any) -> dict[str, Any]:
    return await mutate(
        gql, "recordDeliveryEvent",
        {"enrollmentId": gid("Enrollment", pk), "kind": kind, **extra}, DELIVERY,
    )  # fmt: skip


@pytest.mark.parametrize("kind", list(CHANGES))
async def test_delivery_event_changes_status(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock, kind: str
) -> None:
    _, ids = await make_enrolled(db, clock, workspace.actor, 2)
    await mutate(gql, "sendMessage", {"selection": ids_of(ids), "body": "Hello"}, SEND)
    clock.advance(timedelta(hours=1))
    before = await event_count(db, workspace.actor.workspace_id)
    payload = await record(gql, ids[0], kind, detail="from the provider")
    assert payload["userErrors"] == []
    assert payload["statusChanged"] is True and payload["skippedReason"] is None
    status, reason = CHANGES[kind]
    assert (payload["enrollment"]["status"], payload["enrollment"]["reason"]) == (status, reason)
    assert payload["enrollment"]["resumeAt"] is None  # OUT_OF_OFFICE without a date
    got = await node(gql, ids[0])
    assert got["nextRunAt"] is None
    assert [a["node"]["kind"] for a in got["activities"]["edges"]] == ["SENT", kind]
    assert got["activities"]["edges"][1]["node"]["detail"] == "from the provider"
    assert got["contact"]["optedOut"] is (kind == "OPTED_OUT")
    if status == "FINISHED":
        assert moment(got["finishedAt"]) == clock.now()
    assert await event_count(db, workspace.actor.workspace_id) == before + 1
    assert await states(db, ids[1:]) == {ids[1]: ("ACTIVE", None)}


async def test_out_of_office_with_return_date_resumes_then(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq = await make_sequence(db, clock, workspace.actor)
    utc, new_york = await create_contacts(
        gql,
        [
            {"firstName": "Uma", "email": "uma@example.com"},
            {"firstName": "Ned", "email": "ned@example.com", "timeZone": "America/New_York"},
        ],
    )
    await mutate(gql, "addContactsToSequence", enroll_input(seq, [utc, new_york]))
    for contact, expected in (
        (utc, datetime(2026, 12, 1, 0, 0, tzinfo=UTC)),
        (new_york, datetime(2026, 12, 1, 5, 0, tzinfo=UTC)),  # midnight in New York
    ):
        pk = await enrollment_of(db, seq, contact)
        payload = await record(gql, pk, "OUT_OF_OFFICE", returnDate="2026-12-01")
        assert payload["userErrors"] == [] and payload["statusChanged"] is True
        got = await node(gql, pk)
        assert (got["status"], got["reason"]) == ("PAUSED", "OUT_OF_OFFICE")
        assert moment(got["resumeAt"]) == expected


async def test_opt_out_is_global_for_the_contact(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    _, (pk,) = await make_enrolled(db, clock, workspace.actor, 1)
    payload = await record(gql, pk, "OPTED_OUT")
    assert payload["enrollment"]["status"] == "OPTED_OUT"
    got = await node(gql, pk)
    assert got["contact"]["optedOut"] is True
    other = await make_sequence(db, clock, workspace.actor, name="Later")
    contact = from_global_id(got["contact"]["id"], "Contact")
    await mutate(gql, "addContactsToSequence", enroll_input(other, [contact]))
    later = await node(gql, await enrollment_of(db, other, contact))
    assert (later["status"], later["reason"]) == ("OMITTED", "OPTED_OUT")


@pytest.mark.parametrize("kind", ["DELIVERED", "OPENED", "CLICKED"])
async def test_delivery_event_that_only_adds_activity(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock, kind: str
) -> None:
    _, (pk,) = await make_enrolled(db, clock, workspace.actor, 1)
    before = await event_count(db, workspace.actor.workspace_id)
    occurred = START - timedelta(minutes=3)
    payload = await record(gql, pk, kind, occurredAt=occurred.isoformat())
    assert payload["userErrors"] == []
    assert payload["statusChanged"] is False and payload["skippedReason"] is None
    got = await node(gql, pk)
    assert (got["status"], got["reason"], got["currentStep"]) == ("ACTIVE", None, 1)
    assert [a["node"]["kind"] for a in got["activities"]["edges"]] == [kind]
    assert await event_count(db, workspace.actor.workspace_id) == before


async def test_delivery_event_that_does_not_apply_is_reported(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    _, ids = await make_enrolled(db, clock, workspace.actor, 2)
    await mutate(
        gql, "finishEnrollments", {"selection": ids_of(ids[:1]), "reason": "MEETING_BOOKED"}
    )
    await mutate(gql, "removeEnrollments", {"selection": ids_of(ids[1:])})
    before = await event_count(db, workspace.actor.workspace_id)
    replied = await record(gql, ids[0], "REPLIED")
    assert replied["statusChanged"] is False
    assert replied["skippedReason"] == "ALREADY_IN_STATUS"
    assert replied["enrollment"]["reason"] == "MEETING_BOOKED"
    bounced = await record(gql, ids[1], "BOUNCED")
    assert bounced["statusChanged"] is False
    assert bounced["skippedReason"] == "INVALID_TRANSITION"
    assert bounced["enrollment"]["status"] == "REMOVED"
    assert await event_count(db, workspace.actor.workspace_id) == before
    # the report itself is kept as activity
    kinds = [a["node"]["kind"] for a in (await node(gql, ids[1]))["activities"]["edges"]]
    assert kinds == ["BOUNCED"]


async def test_reply_while_paused_finishes(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    _, (pk,) = await make_enrolled(db, clock, workspace.actor, 1)
    await mutate(
        gql, "pauseEnrollments",
        {"selection": ids_of([pk]), "resumeAt": (START + timedelta(days=1)).isoformat()},
    )  # fmt: skip
    payload = await record(gql, pk, "REPLIED")
    assert payload["statusChanged"] is True
    got = payload["enrollment"]
    assert (got["status"], got["reason"], got["resumeAt"]) == ("FINISHED", "REPLIED", None)
