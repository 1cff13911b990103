"""Enrollment.nextSend: when the next step goes out and what it waits for, as the engine
recorded it when it scheduled or deferred the step (its wait, the sending window, the
daily limit, a retry backoff, a broken transport), and from state (a pause, a sequence
turned off) (issue 12, point 6)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from seqgql.clock import FrozenClock
from seqgql.domain.kinds import Weekday, WhileActiveElsewhere
from seqgql.domain.rules import Ruleset
from seqgql.domain.selection import Selection
from seqgql.domain.sequence import SendingWindow
from seqgql.outbound.transport import ConfigurationError, TransientFailure
from seqgql.persistence.tables import events
from seqgql.services.enrollments import add_contacts, pause
from seqgql.services.sequences import set_sequence_active
from tests.helpers.bulk import enrollment_of, moment
from tests.helpers.engine import (
    DAY,
    EMAILS,
    Delivery,
    GatedTransport,
    ScriptedTransport,
    run_at_once,
)  # fmt: skip
from tests.helpers.factories import gid, make_contacts
from tests.helpers.graphql_client import GraphQLClient

pytestmark = pytest.mark.isolated_clock

NEXT = """query($id: ID!) { node(id: $id) { ... on Enrollment {
  status nextRunAt nextSend { at step channel waitingFor } } } }"""


async def next_send(gql: GraphQLClient, pk: int) -> dict[str, Any] | None:
    data = await gql.execute(NEXT, {"id": gid("Enrollment", pk)})
    return data["node"]["nextSend"]  # type: ignore[no-any-return]


def shown(send: dict[str, Any] | None) -> tuple[Any, ...] | None:
    if send is None:
        return None
    return moment(send["at"]), send["step"], send["channel"], send["waitingFor"]


async def test_a_sent_step_and_the_next_one_waiting(
    delivery: Delivery, gql: GraphQLClient, clock: FrozenClock
) -> None:
    _, (pk,) = await delivery.enrolled(1)
    assert shown(await next_send(gql, pk)) == (clock.now(), 1, "EMAIL", "WAIT")
    await delivery.engine(ScriptedTransport()).run_until_idle()
    # step 1 sent: step 2 after its wait
    assert shown(await next_send(gql, pk)) == (
        clock.now() + timedelta(minutes=7 * DAY), 2, "EMAIL", "WAIT",
    )  # fmt: skip


async def test_outside_the_sending_window(delivery: Delivery, gql: GraphQLClient) -> None:
    window = SendingWindow(days=(Weekday.MONDAY,), start="09:00", end="17:00", time_zone="UTC")
    monday = delivery.clock.now()  # an isolated clock starts on a Monday, 09:00 UTC
    saturday = monday + timedelta(days=5, hours=1)
    delivery.clock.set(saturday)
    _, (pk,) = await delivery.enrolled(1, window=window)
    await delivery.engine(ScriptedTransport()).run_until_idle()
    assert shown(await next_send(gql, pk)) == (
        monday + timedelta(days=7), 1, "EMAIL", "SENDING_WINDOW",
    )  # fmt: skip


async def test_over_the_daily_limit(
    delivery: Delivery, gql: GraphQLClient, clock: FrozenClock
) -> None:
    _, ids = await delivery.enrolled(2, daily_limit_per_sender=1)
    transport = ScriptedTransport()
    await delivery.engine(transport).run_until_idle()
    (held,) = [pk for pk in ids if pk not in transport.accepted_for(ids)]
    midnight = datetime.combine(clock.now().date() + timedelta(days=1), datetime.min.time(), UTC)
    assert shown(await next_send(gql, held)) == (midnight, 1, "EMAIL", "DAILY_LIMIT")


async def test_a_retry_and_a_broken_transport(delivery: Delivery, gql: GraphQLClient) -> None:
    _, (flaky, broken) = await delivery.enrolled(2)
    transport = ScriptedTransport()
    transport.always[flaky] = TransientFailure("busy", code=451)
    transport.always[broken] = ConfigurationError("authentication refused", code=535)
    await delivery.engine(transport).run_until_idle()
    retried = await next_send(gql, flaky)
    assert retried is not None and retried["waitingFor"] == "RETRY_BACKOFF"
    waiting = await next_send(gql, broken)
    assert waiting is not None and waiting["waitingFor"] == "TRANSPORT_UNAVAILABLE"
    # and once the transport works, the step goes and waits for the next one
    engine = delivery.engine(ScriptedTransport())
    delivery.clock.advance(timedelta(hours=2))
    await engine.run_until_idle()
    after = await next_send(gql, broken)
    assert after is not None and (after["step"], after["waitingFor"]) == (2, "WAIT")


async def test_paused_and_turned_off(
    delivery: Delivery, gql: GraphQLClient, clock: FrozenClock
) -> None:
    seq, (paused, other) = await delivery.enrolled(2, steps=EMAILS)
    await delivery.engine(ScriptedTransport()).run_until_idle()  # step 1 sent to both
    back = clock.now() + timedelta(days=3)
    await pause(delivery.db, clock, delivery.actor, Selection(ids=(paused,)), resume_at=back)
    # step 2 had 7 days left: it goes 7 days after the auto-resume
    assert shown(await next_send(gql, paused)) == (
        back + timedelta(minutes=7 * DAY), 2, "EMAIL", "PAUSED",
    )  # fmt: skip
    await set_sequence_active(delivery.db, clock, delivery.actor, seq, active=False)
    off = await next_send(gql, other)
    assert off is not None and off["waitingFor"] == "SEQUENCE_INACTIVE"


async def test_nothing_to_send(delivery: Delivery, gql: GraphQLClient) -> None:
    _, (pk,) = await delivery.enrolled(1)
    data = await gql.execute(
        "mutation($input: FinishEnrollmentsInput!) { finishEnrollments(input: $input) {"
        " changedCount } }",
        {"input": {"selection": {"ids": [gid("Enrollment", pk)]}, "reason": "OTHER"}},
    )
    assert data["finishEnrollments"]["changedCount"] == 1
    assert await next_send(gql, pk) is None


async def test_a_contact_cap_holds_a_step_until_tomorrow(
    delivery: Delivery, gql: GraphQLClient, clock: FrozenClock
) -> None:
    free = await delivery.sequence()  # no cap: sends first (lower enrollment id)
    capped = await delivery.sequence(rules=Ruleset(max_messages_per_contact_per_day=1))
    (contact,) = await make_contacts(delivery.db, clock, delivery.actor, 1)
    for seq in (free, capped):
        assert not (await add_contacts(delivery.db, clock, delivery.actor, seq, [contact])).errors
    first, held = await delivery_ids(delivery, [free, capped], contact)
    transport = ScriptedTransport()
    engine = delivery.engine(transport)
    await engine.run_until_idle()
    assert transport.accepted_for([first, held]) == [first]
    tomorrow = datetime.combine(clock.now().date() + timedelta(days=1), datetime.min.time(), UTC)
    assert shown(await next_send(gql, held)) == (tomorrow, 1, "EMAIL", "CONTACT_DAILY_CAP")
    clock.set(tomorrow)
    await engine.run_until_idle()
    assert transport.accepted_for([first, held]) == [first, held]


async def delivery_ids(delivery: Delivery, sequences: list[int], contact: int) -> list[int]:
    return [await enrollment_of(delivery.db, seq, contact) for seq in sequences]


@pytest.mark.parametrize(("choice", "expected"), [
    ("SKIP", ("NOT_SENT", "BLOCKED_BY_RULE")), ("PAUSE", ("PAUSED", "ACTIVE_IN_OTHER_SEQUENCE")),
])  # fmt: skip
async def test_a_contact_active_elsewhere_is_kept_from_a_step_by_the_rule(
    delivery: Delivery, clock: FrozenClock, choice: str, expected: tuple[str, str]
) -> None:
    other = await delivery.sequence()
    guarded = await delivery.sequence(
        rules=Ruleset(while_active_elsewhere=WhileActiveElsewhere(choice))
    )
    busy, free = await make_contacts(delivery.db, clock, delivery.actor, 2)
    assert not (await add_contacts(delivery.db, clock, delivery.actor, other, [busy])).errors
    added = await add_contacts(delivery.db, clock, delivery.actor, guarded, [busy, free])
    assert not added.errors
    kept, sent = await delivery_ids(delivery, [guarded], busy) + await delivery_ids(
        delivery, [guarded], free
    )
    transport = ScriptedTransport()
    await delivery.engine(transport).run_until_idle()
    assert transport.accepted_for([kept, sent]) == [sent]  # the free contact's step went
    states = await delivery.states([kept])
    assert (states[kept].status, states[kept].reason) == expected
    async with delivery.db.read() as conn:
        rules = await conn.execute(
            sa.select(events.c.rule).where(
                events.c.enrollment_id == kept, events.c.to_status == expected[0]
            )
        )
        assert [r.rule for r in rules] == ["whileActiveElsewhere"]


@pytest.mark.postgres_only
async def test_workers_sending_at_once_never_exceed_a_contact_cap(
    delivery: Delivery, database_url: str, clock: FrozenClock
) -> None:
    capped = [
        await delivery.sequence(rules=Ruleset(max_messages_per_contact_per_day=2)) for _ in range(8)
    ]
    (contact,) = await make_contacts(delivery.db, clock, delivery.actor, 1)
    for seq in capped:
        assert not (await add_contacts(delivery.db, clock, delivery.actor, seq, [contact])).errors
    ids = await delivery_ids(delivery, capped, contact)
    transports = [ScriptedTransport(pause=True) for _ in range(4)]
    await run_at_once(database_url, clock, transports, connect_first=True, batch_size=1)
    sent = [pk for t in transports for pk in t.accepted_for(ids)]
    assert len(sent) == 2 and len(await delivery.sent_steps(ids)) == 2
    waiting = [s.waiting_for for pk, s in (await delivery.states(ids)).items() if pk not in sent]
    assert waiting == ["CONTACT_DAILY_CAP"] * 6


async def test_a_message_in_flight_counts_against_a_contact_cap(
    delivery: Delivery, clock: FrozenClock
) -> None:
    first, second = [
        await delivery.sequence(rules=Ruleset(max_messages_per_contact_per_day=1)) for _ in range(2)
    ]
    (contact,) = await make_contacts(delivery.db, clock, delivery.actor, 1)
    assert not (await add_contacts(delivery.db, clock, delivery.actor, first, [contact])).errors
    out = await delivery_ids(delivery, [first], contact)
    gated = GatedTransport(signal_after=1)
    running = asyncio.create_task(delivery.engine(gated).run_until_idle())
    await asyncio.wait_for(gated.all_in_flight.wait(), 10)  # taken, not yet recorded as SENT
    assert not (await add_contacts(delivery.db, clock, delivery.actor, second, [contact])).errors
    held = await delivery_ids(delivery, [second], contact)
    other = ScriptedTransport()
    await delivery.engine(other).run_until_idle()
    assert other.accepted_for(held) == []
    assert (await delivery.states(held))[held[0]].waiting_for == "CONTACT_DAILY_CAP"
    gated.gate.set()
    await running
    assert [m.enrollment_id for m in gated.accepted] == out


async def test_a_pause_of_the_rule_ends_once_the_contact_is_in_no_other_sequence(
    delivery: Delivery, clock: FrozenClock, gql: GraphQLClient
) -> None:
    other = await delivery.sequence()
    guarded = await delivery.sequence(
        rules=Ruleset(while_active_elsewhere=WhileActiveElsewhere.PAUSE)
    )
    (contact,) = await make_contacts(delivery.db, clock, delivery.actor, 1)
    for seq in (other, guarded):
        assert not (await add_contacts(delivery.db, clock, delivery.actor, seq, [contact])).errors
    busy, kept = await delivery_ids(delivery, [other, guarded], contact)
    transport = ScriptedTransport()
    engine = delivery.engine(transport)
    await engine.run_until_idle()
    assert transport.accepted_for([busy, kept]) == [busy]
    assert (await delivery.states([kept]))[kept].reason == "ACTIVE_IN_OTHER_SEQUENCE"
    clock.advance(timedelta(hours=1))
    await engine.run_until_idle()  # still busy in the other sequence: still paused
    assert (await delivery.states([kept]))[kept].status == "PAUSED"
    finished = await gql.execute(
        """mutation($id: ID!) { finishEnrollments(input: {selection: {ids: [$id]},
        reason: MEETING_BOOKED}) { changedCount } }""",
        {"id": gid("Enrollment", busy)},
    )
    assert finished["finishEnrollments"]["changedCount"] == 1
    await engine.run_until_idle()
    assert transport.accepted_for([busy, kept]) == [busy, kept]  # resumed, its step sent
    assert (await delivery.states([kept]))[kept].status == "ACTIVE"
    async with delivery.db.read() as conn:
        changes = await conn.execute(
            sa.select(events.c.from_status, events.c.to_status, events.c.rule)
            .where(events.c.enrollment_id == kept, events.c.from_status.is_not(None))
            .order_by(events.c.id)
        )
        assert [tuple(map(str, r)) for r in changes] == [
            ("ACTIVE", "PAUSED", "whileActiveElsewhere"),
            ("PAUSED", "ACTIVE", "whileActiveElsewhere"),
        ]


async def test_two_sequences_pausing_for_each_other_never_both_wait(
    delivery: Delivery, clock: FrozenClock
) -> None:
    rules = Ruleset(while_active_elsewhere=WhileActiveElsewhere.PAUSE)
    first, second = [await delivery.sequence(rules=rules) for _ in range(2)]
    (contact,) = await make_contacts(delivery.db, clock, delivery.actor, 1)
    for seq in (first, second):
        assert not (await add_contacts(delivery.db, clock, delivery.actor, seq, [contact])).errors
    ids = await delivery_ids(delivery, [first, second], contact)
    transport = ScriptedTransport()
    await delivery.engine(transport).run_until_idle()
    states = await delivery.states(ids)
    # the first due pauses for the other; the other, no longer facing a busy contact, sends
    assert sorted(s.status for s in states.values()) == ["ACTIVE", "PAUSED"]
    assert len(transport.accepted_for(ids)) == 1
