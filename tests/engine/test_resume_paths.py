"""Enrollments coming back to life, through the API and the engine: a step not sent for a
missing address, fixed with updateContact, then resumed now or at a date; an out-of-office
reply with and without a return date; a contact opted out after enrolling; and status
changes the engine leaves for later while a bulk action holds the sequence's lock (without
holding up the other sequences' steps)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from typing import Any, NamedTuple

import pytest
import sqlalchemy as sa

from seqgql.clock import FrozenClock
from seqgql.domain.kinds import StepChannel
from seqgql.domain.selection import Selection
from seqgql.domain.sequence import StepSpec
from seqgql.engine.worker import Engine
from seqgql.persistence.database import Database
from seqgql.persistence.tables import sequences
from seqgql.services.enrollments import pause
from tests.helpers.bulk import create_contacts, enroll_input, enrollment_of, ids_of, moment, node
from tests.helpers.engine import (
    DAY,
    TEXTS,
    Delivery,
    ScriptedTransport,
)
from tests.helpers.factories import gid
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.workspace import Workspace

UPDATE = "contact { id firstName email phone optedOut } userErrors { field code message }"
DELIVERY = "enrollment { id status reason resumeAt } statusChanged userErrors { field code }"
# Two emails a day apart: an absence of a few days covers the second one's due time.
DAILY = [
    StepSpec(StepChannel.EMAIL, 0, "Hi {{first_name}}", "Hello {{first_name}}"),
    StepSpec(StepChannel.EMAIL, DAY, "Following up, {{first_name}}"),
]
# The engine must not wait for a lock; should it, this turns the hang into a failure.
HANG_GUARD_SECONDS = 30


# The engine serves every workspace: a clock of its own keeps other tests' rows from being due.
pytestmark = pytest.mark.isolated_clock


async def enrolled_through_api(
    gql: GraphQLClient, db: Database, seq: int, contact: dict[str, Any]
) -> tuple[int, int]:
    """A contact created and enrolled through the API: (contact id, enrollment id)."""
    (contact_id,) = await create_contacts(gql, [contact])
    added = await mutate(gql, "addContactsToSequence", enroll_input(seq, [contact_id]))
    assert added["userErrors"] == [] and added["changedCount"] == 1
    return contact_id, await enrollment_of(db, seq, contact_id)


class FirstRun(NamedTuple):
    seq: int
    contact: int
    pk: int
    transport: ScriptedTransport
    engine: Engine


async def first_run(
    delivery: Delivery, gql: GraphQLClient, contact: dict[str, Any],
    steps: list[StepSpec] | None = None,
) -> FirstRun:  # fmt: skip
    """A sequence (``steps``) with one contact enrolled through the API, and an engine on a
    scripted transport that has run once."""
    seq = await delivery.sequence(steps)
    contact_id, pk = await enrolled_through_api(gql, delivery.db, seq, contact)
    transport = ScriptedTransport()
    engine = delivery.engine(transport)
    await engine.run_until_idle()
    return FirstRun(seq, contact_id, pk, transport, engine)


def shown(got: dict[str, Any]) -> tuple[Any, ...]:
    return got["status"], got["reason"], got["currentStep"]


async def update_contact(gql: GraphQLClient, contact_id: int, **fields: Any) -> dict[str, Any]:
    payload = await mutate(
        gql, "updateContact", {"contactId": gid("Contact", contact_id), **fields}, UPDATE
    )
    assert payload["userErrors"] == []
    return payload["contact"]  # type: ignore[no-any-return]


async def test_a_step_not_sent_goes_out_once_the_contact_is_fixed_and_resumed(
    delivery: Delivery, gql: GraphQLClient, clock: FrozenClock
) -> None:
    seq, contact, pk, transport, engine = await first_run(
        delivery, gql, {"firstName": "Nora", "phone": "+14155550123"}
    )
    got = await node(gql, pk)
    assert shown(got) == ("NOT_SENT", "MISSING_EMAIL", 1) and got["nextRunAt"] is None

    # resumed without a fix, the step still cannot go: not sent again, for the same reason
    resumed = await mutate(gql, "resumeEnrollments", {"selection": ids_of([pk])})
    assert (resumed["changedCount"], resumed["skipped"]) == (1, [])
    await engine.run_until_idle()
    assert shown(await node(gql, pk)) == ("NOT_SENT", "MISSING_EMAIL", 1)
    assert transport.calls == {}

    fixed = await update_contact(gql, contact, email="nora@example.com")
    assert fixed["email"] == "nora@example.com"
    resumed = await mutate(gql, "resumeEnrollments", {"selection": ids_of([pk])})
    assert (resumed["changedCount"], resumed["userErrors"]) == (1, [])
    got = await node(gql, pk)
    assert shown(got) == ("ACTIVE", None, 1) and moment(got["nextRunAt"]) == clock.now()

    await engine.run_until_idle()
    assert [(m.enrollment_id, m.to, m.subject, m.body) for m in transport.accepted] == [
        (pk, "nora@example.com", "Hello Nora", "Hi Nora")
    ]
    assert shown(await node(gql, pk)) == ("ACTIVE", None, 2)
    assert await delivery.sent_steps([pk]) == [(pk, 1)]
    assert await delivery.status_changes(seq) == [
        (pk, "ACTIVE", None, "NOT_SENT", "MISSING_EMAIL"),
        (pk, "NOT_SENT", "MISSING_EMAIL", "ACTIVE", None),
        (pk, "ACTIVE", None, "NOT_SENT", "MISSING_EMAIL"),
        (pk, "NOT_SENT", "MISSING_EMAIL", "ACTIVE", None),
    ]


async def test_resuming_a_step_not_sent_at_a_date_pauses_it_until_then(
    delivery: Delivery, gql: GraphQLClient, clock: FrozenClock
) -> None:
    seq, contact, pk, transport, engine = await first_run(
        delivery, gql, {"firstName": "Pia"}, TEXTS
    )
    assert shown(await node(gql, pk)) == ("NOT_SENT", "MISSING_PHONE", 1)

    assert (await update_contact(gql, contact, phone="(415) 555-0199"))["phone"] == "+14155550199"
    back = clock.now() + timedelta(days=2)
    resumed = await mutate(
        gql, "resumeEnrollments", {"selection": ids_of([pk]), "resumeAt": back.isoformat()}
    )
    assert (resumed["changedCount"], resumed["userErrors"]) == (1, [])
    got = await node(gql, pk)
    assert shown(got) == ("PAUSED", "MANUAL", 1)
    assert moment(got["resumeAt"]) == back and got["nextRunAt"] is None

    clock.set(back - timedelta(minutes=1))
    await engine.run_until_idle()
    assert shown(await node(gql, pk)) == ("PAUSED", "MANUAL", 1)
    assert transport.calls == {}

    clock.set(back)
    await engine.run_until_idle()
    got = await node(gql, pk)
    assert shown(got) == ("ACTIVE", None, 2) and got["resumeAt"] is None
    assert [(m.to, m.body) for m in transport.accepted] == [("+14155550199", "Quick text")]
    assert await delivery.status_changes(seq) == [
        (pk, "ACTIVE", None, "NOT_SENT", "MISSING_PHONE"),
        (pk, "NOT_SENT", "MISSING_PHONE", "PAUSED", "MANUAL"),
        (pk, "PAUSED", "MANUAL", "ACTIVE", None),
    ]


async def test_out_of_office_with_a_return_date_resumes_and_sends_the_step_then(
    delivery: Delivery, gql: GraphQLClient, clock: FrozenClock
) -> None:
    seq, _, pk, transport, engine = await first_run(
        delivery, gql, {"firstName": "Otto", "email": "otto@example.com"}, DAILY
    )  # step 1 sent; step 2 due in a day
    wait_left = moment((await node(gql, pk))["nextRunAt"]) - clock.now()
    assert timedelta(hours=23) < wait_left <= timedelta(days=1)
    returns = (clock.now() + timedelta(days=3)).date()
    payload = await mutate(
        gql, "recordDeliveryEvent",
        {"enrollmentId": gid("Enrollment", pk), "kind": "OUT_OF_OFFICE",
         "returnDate": returns.isoformat()},
        DELIVERY,
    )  # fmt: skip
    assert payload["userErrors"] == [] and payload["statusChanged"] is True
    back = datetime.combine(returns, time(0), UTC)  # the contact has no time zone: UTC
    assert (payload["enrollment"]["status"], payload["enrollment"]["reason"]) == (
        "PAUSED", "OUT_OF_OFFICE",
    )  # fmt: skip
    assert moment(payload["enrollment"]["resumeAt"]) == back

    clock.set(back - timedelta(hours=1))  # step 2 is long due, but the contact is away
    await engine.run_until_idle()
    assert shown(await node(gql, pk)) == ("PAUSED", "OUT_OF_OFFICE", 2)
    assert [m.body for m in transport.accepted] == ["Hi Otto"]

    # back: ACTIVE again, step 2 due when it would have been, shifted by the absence
    resumed = back + timedelta(hours=2)
    clock.set(resumed)
    await engine.run_until_idle()
    got = await node(gql, pk)
    assert shown(got) == ("ACTIVE", None, 2)
    assert moment(got["nextRunAt"]) == resumed + wait_left
    assert [m.body for m in transport.accepted] == ["Hi Otto"]

    clock.set(resumed + wait_left)
    await engine.run_until_idle()
    got = await node(gql, pk)
    assert shown(got) == ("ACTIVE", None, None)  # step 2, the last, went out
    assert [m.body for m in transport.accepted] == ["Hi Otto", "Following up, Otto"]
    kinds = [(a["node"]["kind"], a["node"]["step"]) for a in got["activities"]["edges"]]
    assert kinds == [("SENT", 1), ("OUT_OF_OFFICE", 1), ("SENT", 2)]
    assert await delivery.status_changes(seq) == [
        (pk, "ACTIVE", None, "PAUSED", "OUT_OF_OFFICE"),
        (pk, "PAUSED", "OUT_OF_OFFICE", "ACTIVE", None),
    ]


async def test_out_of_office_without_a_return_date_stays_paused(
    delivery: Delivery, gql: GraphQLClient, clock: FrozenClock
) -> None:
    _, _, pk, transport, engine = await first_run(
        delivery, gql, {"firstName": "Ivo", "email": "ivo@example.com"}, DAILY
    )
    payload = await mutate(
        gql, "recordDeliveryEvent",
        {"enrollmentId": gid("Enrollment", pk), "kind": "OUT_OF_OFFICE"}, DELIVERY,
    )  # fmt: skip
    assert payload["enrollment"]["resumeAt"] is None
    clock.advance(timedelta(days=30))
    await engine.run_until_idle()
    got = await node(gql, pk)
    assert shown(got) == ("PAUSED", "OUT_OF_OFFICE", 2) and got["resumeAt"] is None
    assert [m.body for m in transport.accepted] == ["Hi Ivo"]


async def test_a_contact_opted_out_after_enrolling_is_not_messaged(
    delivery: Delivery, gql: GraphQLClient, db: Database
) -> None:
    seq = await delivery.sequence()
    quitter, quit_pk = await enrolled_through_api(
        gql, db, seq, {"firstName": "Quinn", "email": "quinn@example.com"}
    )
    _, stay_pk = await enrolled_through_api(
        gql, db, seq, {"firstName": "Sam", "email": "sam@example.com"}
    )
    assert (await update_contact(gql, quitter, optedOut=True))["optedOut"] is True
    transport = ScriptedTransport()
    await delivery.engine(transport).run_until_idle()

    assert shown(await node(gql, quit_pk)) == ("OPTED_OUT", None, 1)
    assert transport.accepted_for([quit_pk, stay_pk]) == [stay_pk]
    assert await delivery.sent_steps([quit_pk, stay_pk]) == [(stay_pk, 1)]
    assert await delivery.status_changes(seq) == [(quit_pk, "ACTIVE", None, "OPTED_OUT", None)]


@pytest.mark.postgres_only
async def test_status_changes_wait_while_a_bulk_action_holds_the_sequence(
    delivery: Delivery, database_url: str, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    """The engine does not wait for the sequence's lock: it sends what needs no status
    change, leaves the rest due, and changes them in a later batch; the sends are recorded
    (their activities are events of the sequence) once the lock is free."""
    one_step = [StepSpec(StepChannel.EMAIL, 0, "Only step", "Hi")]
    seq = await delivery.sequence(one_step, reply_window_minutes=60)
    done = await delivery.enroll(seq, 3, prefix="Done")
    paused = await delivery.enroll(seq, 1, prefix="Paused")
    await pause(
        db, clock, workspace.actor, Selection(ids=tuple(paused)),
        resume_at=clock.now() + timedelta(minutes=30),
    )  # fmt: skip
    transport = ScriptedTransport()
    engine = delivery.engine(transport)
    await engine.run_until_idle()  # the last (only) step to `done`
    clock.advance(timedelta(minutes=60))  # reply window over; the pause is over
    fresh = await delivery.enroll(seq, 2, prefix="Fresh")
    changes_before = await delivery.status_changes(seq)

    bulk_action = Database(database_url)
    try:
        async with bulk_action.write() as conn:
            await conn.execute(
                sa.select(sequences.c.id).where(sequences.c.id == seq).with_for_update()
            )
            batch = asyncio.create_task(engine.run_once())
            for _ in range(HANG_GUARD_SECONDS * 100):
                if sorted(transport.accepted_for(fresh)) == fresh:
                    break
                await asyncio.sleep(0.01)
            assert sorted(transport.accepted_for(fresh)) == fresh  # sending needs no lock
            got = await delivery.states(done + paused + fresh)
            assert {got[pk].status for pk in done} == {"ACTIVE"}
            assert got[paused[0]].status == "PAUSED"
            assert {got[pk].last_sent_step for pk in fresh} == {0}  # recorded once it is free
            assert await delivery.status_changes(seq) == changes_before
    finally:
        await bulk_action.dispose()
    stats = await asyncio.wait_for(batch, HANG_GUARD_SECONDS)
    assert stats.deferred == len(done)
    got = await delivery.states(fresh)
    assert {got[pk].last_sent_step for pk in fresh} == {1}

    await engine.run_until_idle()
    got = await delivery.states(done + paused)
    assert {(got[pk].status, got[pk].reason) for pk in done} == {
        ("FINISHED", "COMPLETED_NO_RESPONSE")
    }
    assert (got[paused[0]].status, got[paused[0]].last_sent_step) == ("ACTIVE", 1)
    assert transport.accepted_for(paused) == paused
    assert (await delivery.status_changes(seq))[len(changes_before) :] == [
        (paused[0], "PAUSED", "MANUAL", "ACTIVE", None),
        *((pk, "ACTIVE", None, "FINISHED", "COMPLETED_NO_RESPONSE") for pk in done),
    ]


@pytest.mark.postgres_only
async def test_a_locked_sequence_does_not_hold_up_the_steps_of_other_sequences(
    delivery: Delivery, database_url: str, clock: FrozenClock
) -> None:
    """Rows left for later must not fill every batch: with a batch's worth of them in a
    locked sequence, the due steps of another sequence still go out."""
    one_step = [StepSpec(StepChannel.EMAIL, 0, "Only step", "Hi")]
    locked_seq = await delivery.sequence(one_step, reply_window_minutes=60)
    done = await delivery.enroll(locked_seq, 3, prefix="Done")
    transport = ScriptedTransport()
    engine = delivery.engine(transport, batch_size=len(done))
    await engine.run_until_idle()
    clock.advance(timedelta(minutes=60))  # `done` now need a status change (finished)
    other_seq = await delivery.sequence()
    waiting = await delivery.enroll(other_seq, 2, prefix="Other")

    bulk_action = Database(database_url)
    try:
        async with bulk_action.write() as conn:
            await conn.execute(
                sa.select(sequences.c.id).where(sequences.c.id == locked_seq).with_for_update()
            )
            for _ in range(3):  # a worker's next few batches while the bulk action runs
                await asyncio.wait_for(engine.run_once(), HANG_GUARD_SECONDS)
            assert sorted(transport.accepted_for(waiting)) == waiting
    finally:
        await bulk_action.dispose()


async def test_a_bounce_reported_after_a_step_went_is_retried_at_that_step(
    delivery: Delivery, gql: GraphQLClient, clock: FrozenClock
) -> None:
    seq, _, pk, transport, engine = await first_run(
        delivery, gql, {"firstName": "Bea", "email": "bea@example.com"}, DAILY
    )  # step 1 sent; step 2 due in a day
    payload = await mutate(
        gql, "recordDeliveryEvent", {"enrollmentId": gid("Enrollment", pk), "kind": "BOUNCED"},
        DELIVERY,
    )  # fmt: skip
    assert payload["enrollment"]["status"] == "BOUNCED"
    clock.advance(timedelta(hours=3))
    retried = await mutate(
        gql, "resumeEnrollments", {"selection": {"ids": [gid("Enrollment", pk)]}},
        "changedCount skipped { reason }",
    )  # fmt: skip
    assert retried == {"changedCount": 1, "skipped": []}
    got = await node(gql, pk)
    # the step that bounced (1), due at once, not the one after it
    assert shown(got) == ("ACTIVE", None, 1) and moment(got["nextRunAt"]) == clock.now()
    await engine.run_until_idle()
    assert [m.body for m in transport.accepted] == ["Hi Bea", "Hi Bea"]
    assert (await delivery.status_changes(seq))[-1] == (pk, "BOUNCED", None, "ACTIVE", None)
