"""SMS steps sent by the engine through the real TwilioTransport to a local server that
speaks Twilio's Messages API: what reaches it, and what the engine makes of each answer
(accepted: SENT; refused: FAILED; a transient answer: tried again later; our
credentials refused: the step waits)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from seqgql.clock import FrozenClock
from seqgql.outbound.twilio_sms import TwilioTransport
from seqgql.persistence.database import Database
from seqgql.persistence.tables import enrollments
from seqgql.services.enrollments import add_contacts
from tests.helpers.engine import TEXTS, Delivery
from tests.helpers.factories import make_contacts
from tests.helpers.twilio import PUBLIC_BASE_URL, Answer, FakeTwilio, settings_for
from tests.helpers.workspace import Workspace

# The engine serves every workspace: a clock of its own keeps other tests' rows from being due.
pytestmark = pytest.mark.isolated_clock

PHONES = ["+14155550101", "+14155550102"]


@pytest.fixture
async def sms(twilio_url: str) -> AsyncIterator[TwilioTransport]:
    transport = TwilioTransport(settings_for(twilio_url))
    yield transport
    await transport.aclose()


async def enroll_phones(
    delivery: Delivery, db: Database, clock: FrozenClock, workspace: Workspace
) -> tuple[int, list[int]]:
    """A two-text sequence with one contact per phone of PHONES: (sequence, enrollments)."""
    seq = await delivery.sequence(TEXTS)
    for i, phone in enumerate(PHONES):
        contact_ids = await make_contacts(
            db, clock, workspace.actor, 1, prefix=f"Texter{i}", phone=phone
        )
        result = await add_contacts(db, clock, workspace.actor, seq, contact_ids)
        assert result.changed_count == 1, result
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(enrollments.c.id)
            .where(enrollments.c.sequence_id == seq)
            .order_by(enrollments.c.id)
        )
        ids = [r.id for r in rows]
    return seq, ids


async def test_an_sms_step_reaches_twilio_with_its_callback(
    delivery: Delivery, sms: TwilioTransport, fake_twilio: FakeTwilio, db: Database,
    clock: FrozenClock, workspace: Workspace,
) -> None:  # fmt: skip
    seq, ids = await enroll_phones(delivery, db, clock, workspace)

    await delivery.engine(sms).run_until_idle()

    got = sorted(
        (r.fields["To"], r.fields["Body"], r.fields["StatusCallback"]) for r in fake_twilio.accepted
    )
    assert got == [
        (phone, "Quick text", f"{PUBLIC_BASE_URL}/hooks/twilio/status?message={pk}.1.0")
        for phone, pk in zip(PHONES, ids, strict=True)
    ]
    states = await delivery.states(ids)
    assert {(s.status, s.current_step, s.last_sent_step) for s in states.values()} == {
        ("ACTIVE", 2, 1)
    }
    assert sorted(await delivery.sent_steps(ids)) == [(ids[0], 1), (ids[1], 1)]
    assert await delivery.status_changes(seq) == []


async def test_a_refused_number_fails_and_the_other_is_sent(
    delivery: Delivery, sms: TwilioTransport, fake_twilio: FakeTwilio, db: Database,
    clock: FrozenClock, workspace: Workspace,
) -> None:  # fmt: skip
    seq, ids = await enroll_phones(delivery, db, clock, workspace)
    fake_twilio.refuse[PHONES[0]] = Answer(400, 21211, "The 'To' number is not valid.")

    await delivery.engine(sms).run_until_idle()

    states = await delivery.states(ids)
    assert (states[ids[0]].status, states[ids[0]].last_sent_step) == ("FAILED", 0)
    assert (states[ids[1]].status, states[ids[1]].last_sent_step) == ("ACTIVE", 1)
    assert [r.fields["To"] for r in fake_twilio.accepted] == [PHONES[1]]
    failed = [row for row in await delivery.activity_rows(ids) if row[1] == "FAILED"]
    assert [(pk, step) for pk, _, step, _ in failed] == [(ids[0], 1)]
    assert "21211" in failed[0][3] and "not valid" in failed[0][3]
    assert await delivery.status_changes(seq) == [(ids[0], "ACTIVE", None, "FAILED", None)]


async def test_a_transient_answer_is_sent_again_later(
    delivery: Delivery, sms: TwilioTransport, fake_twilio: FakeTwilio, db: Database,
    clock: FrozenClock, workspace: Workspace,
) -> None:  # fmt: skip
    seq, ids = await enroll_phones(delivery, db, clock, workspace)
    # both quick tries of the first message (engine_for: 2 attempts) meet a 503
    fake_twilio.next_answers = [Answer(503, 20500, "Service Unavailable")] * 2

    await delivery.engine(sms, send_concurrency=1).run_until_idle()
    states = await delivery.states(ids)
    waiting = [pk for pk in ids if states[pk].last_sent_step == 0]
    assert len(waiting) == 1 and states[waiting[0]].status == "ACTIVE"
    assert states[waiting[0]].send_attempts == 1
    assert states[waiting[0]].next_run_at is not None

    clock.advance(timedelta(minutes=10))
    await delivery.engine(sms).run_until_idle()

    states = await delivery.states(ids)
    assert {(s.status, s.last_sent_step) for s in states.values()} == {("ACTIVE", 1)}
    callbacks = [r.fields["StatusCallback"] for r in fake_twilio.accepted]
    assert callbacks[-1].endswith(f"message={waiting[0]}.1.1")  # the second attempt's key
    assert len(fake_twilio.accepted) == 2
    assert await delivery.status_changes(seq) == []


async def test_wrong_credentials_leave_the_step_waiting(
    delivery: Delivery, twilio_url: str, fake_twilio: FakeTwilio, db: Database,
    clock: FrozenClock, workspace: Workspace,
) -> None:  # fmt: skip
    seq, ids = await enroll_phones(delivery, db, clock, workspace)
    sms = TwilioTransport(settings_for(twilio_url, password="revoked"))
    try:
        await delivery.engine(sms).run_until_idle()
    finally:
        await sms.aclose()

    states = await delivery.states(ids)
    assert {(s.status, s.last_sent_step, s.send_attempts) for s in states.values()} == {
        ("ACTIVE", 0, 0)
    }
    assert all(s.next_run_at is not None for s in states.values())
    assert fake_twilio.accepted == []
    assert await delivery.status_changes(seq) == []
