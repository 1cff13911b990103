"""The Contacts-tab actions end to end through GraphQL: add contacts to a sequence,
pause, resume, mark finished, remove."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from seqgql.clock import FrozenClock
from seqgql.domain.kinds import StepChannel
from seqgql.domain.sequence import StepSpec
from seqgql.persistence.database import Database
from seqgql.persistence.tables import (
    enrollments,
)
from tests.helpers.bulk import (
    by_reason,
    create_contacts,
    enroll_input,
    enrollment_of,
    event_count,
    ids_of,
    moment,
    node,
    set_columns,
    states,
)
from tests.helpers.clocks import START
from tests.helpers.factories import gid, gids, make_contacts, make_enrolled, make_sequence
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.workspace import Workspace

# ---------------------------------------------------------------- add contacts


async def test_add_contacts_starts_them_active_at_step_one(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq = await make_sequence(db, clock, workspace.actor)
    people = await make_contacts(db, clock, workspace.actor, 3)
    payload = await mutate(gql, "addContactsToSequence", enroll_input(seq, people))
    assert payload["userErrors"] == []
    assert payload["changedCount"] == 3
    assert payload["skipped"] == []
    assert payload["dryRun"] is False
    assert payload["bulkOperationId"] is not None
    for contact_id in people:
        got = await node(gql, await enrollment_of(db, seq, contact_id))
        assert (got["status"], got["reason"], got["currentStep"]) == ("ACTIVE", None, 1)
        assert got["enrolledBy"]["email"].startswith("admin@")
        assert moment(got["enrolledAt"]) == START
        assert moment(got["nextRunAt"]) == START  # step 1 waits 0 minutes
        assert got["contact"]["id"] == gid("Contact", contact_id)


async def test_add_opted_out_contact_is_omitted_opted_out(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq = await make_sequence(db, clock, workspace.actor)
    out, ok = await create_contacts(
        gql,
        [
            {"firstName": "Olga", "email": "olga@example.com", "optedOut": True},
            {"firstName": "Otto", "email": "otto@example.com"},
        ],
    )
    payload = await mutate(gql, "addContactsToSequence", enroll_input(seq, [out, ok]))
    assert payload["changedCount"] == 2 and payload["userErrors"] == []
    omitted = await node(gql, await enrollment_of(db, seq, out))
    assert (omitted["status"], omitted["reason"]) == ("OMITTED", "OPTED_OUT")
    assert omitted["currentStep"] is None and omitted["nextRunAt"] is None
    active = await node(gql, await enrollment_of(db, seq, ok))
    assert (active["status"], active["reason"]) == ("ACTIVE", None)


async def test_landline_is_omitted_only_when_step_one_is_sms(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    sms_first = await make_sequence(
        db, clock, workspace.actor, name="Texts",
        steps=[StepSpec(StepChannel.SMS, 0, "Hi"), StepSpec(StepChannel.EMAIL, 60, "Mail", "S")],
    )  # fmt: skip
    email_first = await make_sequence(db, clock, workspace.actor, name="Mails")
    landline, mobile = await create_contacts(
        gql,
        [
            {"firstName": "Lin", "phone": "+14155550101", "phoneType": "LANDLINE"},
            {"firstName": "Mo", "phone": "+14155550102", "phoneType": "MOBILE"},
        ],
    )
    for seq in (sms_first, email_first):
        payload = await mutate(gql, "addContactsToSequence", enroll_input(seq, [landline, mobile]))
        assert payload["changedCount"] == 2
    got = await node(gql, await enrollment_of(db, sms_first, landline))
    assert (got["status"], got["reason"], got["currentStep"]) == ("OMITTED", "LANDLINE", None)
    got = await node(gql, await enrollment_of(db, sms_first, mobile))
    assert (got["status"], got["currentStep"]) == ("ACTIVE", 1)
    got = await node(gql, await enrollment_of(db, email_first, landline))
    assert (got["status"], got["currentStep"]) == ("ACTIVE", 1)


async def test_re_enroll_removed_or_finished_resumes_at_first_unsent_step(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq, (removed, finished, fresh) = await make_enrolled(db, clock, workspace.actor, 3)
    await set_columns(db, [removed], last_sent_step=1)
    await set_columns(db, [finished], last_sent_step=2)
    await mutate(gql, "removeEnrollments", {"selection": ids_of([removed])})
    await mutate(gql, "finishEnrollments", {"selection": ids_of([finished]), "reason": "OTHER"})
    clock.advance(timedelta(days=2))
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(enrollments.c.contact_id).where(enrollments.c.id.in_([removed, finished]))
        )
        contact_ids = sorted(r.contact_id for r in rows)
    payload = await mutate(gql, "addContactsToSequence", enroll_input(seq, contact_ids))
    assert payload["userErrors"] == []
    assert payload["changedCount"] == 2
    assert payload["skipped"] == []
    again_removed = await node(gql, removed)
    assert (again_removed["status"], again_removed["reason"]) == ("ACTIVE", None)
    assert again_removed["currentStep"] == 2
    again_finished = await node(gql, finished)
    assert (again_finished["status"], again_finished["currentStep"]) == ("ACTIVE", 3)
    assert again_finished["finishedAt"] is None
    assert moment(again_finished["enrolledAt"]) == clock.now()
    # the same enrollment rows were reused: still one per contact
    assert (await node(gql, fresh))["currentStep"] == 1


async def test_re_enroll_when_every_step_was_sent_says_clone(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq, ids = await make_enrolled(db, clock, workspace.actor, 3)
    await set_columns(db, ids[:2], last_sent_step=3)  # the sequence has 3 steps
    await mutate(gql, "finishEnrollments", {"selection": ids_of(ids[:2]), "reason": "OTHER"})
    await mutate(gql, "removeEnrollments", {"selection": ids_of(ids[2:])})
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(enrollments.c.id, enrollments.c.contact_id).where(enrollments.c.id.in_(ids))
        )
        contact_of = {r.id: r.contact_id for r in rows}
    before = await event_count(db, workspace.actor.workspace_id)
    payload = await mutate(
        gql, "addContactsToSequence", enroll_input(seq, [contact_of[i] for i in ids])
    )
    assert payload["changedCount"] == 1  # only the removed one had steps left
    group = by_reason(payload)["ALL_STEPS_SENT"]
    assert group["count"] == 2
    assert sorted(group["ids"]) == sorted(gids("Contact", [contact_of[i] for i in ids[:2]]))
    assert "clone" in group["message"].lower()
    assert await event_count(db, workspace.actor.workspace_id) == before + 1
    for pk in ids[:2]:
        got = await node(gql, pk)
        assert (got["status"], got["reason"]) == ("FINISHED", "OTHER")


async def test_adding_an_enrolled_contact_is_skipped_already_enrolled(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq, ids = await make_enrolled(db, clock, workspace.actor, 2)
    await mutate(gql, "pauseEnrollments", {"selection": ids_of(ids[1:])})
    newcomer = await make_contacts(db, clock, workspace.actor, 1, prefix="New")
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(enrollments.c.contact_id).where(enrollments.c.id.in_(ids))
        )
        enrolled = sorted(r.contact_id for r in rows)
    before = await event_count(db, workspace.actor.workspace_id)
    payload = await mutate(gql, "addContactsToSequence", enroll_input(seq, enrolled + newcomer))
    assert payload["changedCount"] == 1
    group = by_reason(payload)["ALREADY_ENROLLED"]
    assert group["count"] == 2
    assert sorted(group["ids"]) == sorted(gids("Contact", enrolled))
    assert await event_count(db, workspace.actor.workspace_id) == before + 1
    assert await states(db, ids) == {ids[0]: ("ACTIVE", None), ids[1]: ("PAUSED", "MANUAL")}


# ---------------------------------------------------------------- pause / resume


async def test_pause_without_resume_at(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    _, ids = await make_enrolled(db, clock, workspace.actor, 3)
    payload = await mutate(gql, "pauseEnrollments", {"selection": ids_of(ids[:2])})
    assert payload["changedCount"] == 2 and payload["skipped"] == []
    for pk in ids[:2]:
        got = await node(gql, pk)
        assert (got["status"], got["reason"]) == ("PAUSED", "MANUAL")
        assert got["resumeAt"] is None and got["nextRunAt"] is None
    assert (await node(gql, ids[2]))["status"] == "ACTIVE"


async def test_pause_with_resume_at_and_skips_what_cannot_pause(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    _, ids = await make_enrolled(db, clock, workspace.actor, 4)
    await set_columns(db, [ids[1]], status="NOT_SENT", reason="MISSING_EMAIL")
    await mutate(gql, "finishEnrollments", {"selection": ids_of([ids[2]]), "reason": "OTHER"})
    await mutate(gql, "pauseEnrollments", {"selection": ids_of([ids[3]])})
    resume_at = START + timedelta(days=7)
    payload = await mutate(
        gql,
        "pauseEnrollments",
        {"selection": ids_of(ids), "resumeAt": resume_at.isoformat()},
    )
    assert payload["changedCount"] == 2  # the ACTIVE and the NOT_SENT one
    skipped = by_reason(payload)
    assert set(skipped) == {"INVALID_TRANSITION", "ALREADY_IN_STATUS"}
    assert skipped["INVALID_TRANSITION"]["ids"] == gids("Enrollment", [ids[2]])
    assert skipped["ALREADY_IN_STATUS"]["ids"] == gids("Enrollment", [ids[3]])
    for pk in ids[:2]:
        got = await node(gql, pk)
        assert (got["status"], got["reason"]) == ("PAUSED", "MANUAL")
        assert moment(got["resumeAt"]) == resume_at
    assert (await node(gql, ids[2]))["status"] == "FINISHED"
    assert (await node(gql, ids[3]))["resumeAt"] is None  # the skipped one kept its pause


async def test_resume_now_makes_paused_active(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    _, ids = await make_enrolled(db, clock, workspace.actor, 3)
    await mutate(
        gql,
        "pauseEnrollments",
        {"selection": ids_of(ids[:2]), "resumeAt": (START + timedelta(days=3)).isoformat()},
    )
    clock.advance(timedelta(hours=5))
    payload = await mutate(gql, "resumeEnrollments", {"selection": ids_of(ids)})
    assert payload["changedCount"] == 2
    assert by_reason(payload)["ALREADY_IN_STATUS"]["ids"] == gids("Enrollment", [ids[2]])
    for pk in ids[:2]:
        got = await node(gql, pk)
        assert (got["status"], got["reason"], got["resumeAt"]) == ("ACTIVE", None, None)
        assert moment(got["nextRunAt"]) == clock.now()
        assert got["currentStep"] == 1


async def test_resume_at_a_date_keeps_them_paused_until_then(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    _, ids = await make_enrolled(db, clock, workspace.actor, 3)
    first = START + timedelta(days=2)
    await mutate(
        gql, "pauseEnrollments", {"selection": ids_of(ids[:2]), "resumeAt": first.isoformat()}
    )
    before = await event_count(db, workspace.actor.workspace_id)
    later = START + timedelta(days=10, hours=3)
    payload = await mutate(
        gql, "resumeEnrollments", {"selection": ids_of(ids), "resumeAt": later.isoformat()}
    )
    assert payload["changedCount"] == 2
    assert by_reason(payload)["ALREADY_IN_STATUS"]["count"] == 1
    for pk in ids[:2]:
        got = await node(gql, pk)
        assert (got["status"], got["reason"]) == ("PAUSED", "MANUAL")
        assert moment(got["resumeAt"]) == later  # replaced
    active = await node(gql, ids[2])
    assert (active["status"], active["resumeAt"]) == ("ACTIVE", None)
    assert await event_count(db, workspace.actor.workspace_id) == before  # no status change
