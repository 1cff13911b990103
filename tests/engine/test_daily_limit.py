"""A sequence's per-sender daily limit: over it, a step waits (still ACTIVE, nothing
recorded) for the next day's opening, the day being the sending window's (UTC without
one). The sender is the user who enrolled the contact."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from seqgql.clock import FrozenClock
from seqgql.domain.kinds import Role, Weekday
from seqgql.domain.sequence import SendingWindow
from seqgql.outbound.transport import PermanentFailure, TransientFailure
from seqgql.persistence.database import Database
from seqgql.persistence.tables import sequences
from seqgql.services.actor import Actor
from seqgql.services.auth import issue_token
from tests.helpers.engine import (
    Delivery,
    ScriptedTransport,
    run_at_once,
)
from tests.helpers.factories import gid
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.workspace import Workspace

TOKYO = ZoneInfo("Asia/Tokyo")
EVERY_DAY = tuple(Weekday)
WEEKDAYS = (Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY,
            Weekday.FRIDAY)  # fmt: skip
SEQUENCE = "sequence { id name dailyLimitPerSender } userErrors { field code message }"
STEP = {"channel": "EMAIL", "waitMinutes": 0, "subject": "Hi", "body": "Hello {{first_name}}"}


# The engine serves every workspace: a clock of its own keeps other tests' rows from being due.
pytestmark = pytest.mark.isolated_clock


def midnight_after(moment: datetime) -> datetime:
    return datetime.combine(moment.date() + timedelta(days=1), time(0), UTC)


def at_in_tokyo(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), TOKYO).astimezone(UTC)


async def second_user(db: Database, clock: FrozenClock, workspace: Workspace) -> Actor:
    issued = await issue_token(
        db, clock, email=f"member@{workspace.name}.test", workspace=workspace.name,
        role=Role.MEMBER,
    )  # fmt: skip
    return Actor(issued.workspace_id, issued.user_id, Role.MEMBER)


async def test_over_the_limit_a_step_waits_for_the_next_day(
    delivery: Delivery, clock: FrozenClock
) -> None:
    seq, ids = await delivery.enrolled(5, daily_limit_per_sender=2)
    transport = ScriptedTransport()
    engine = delivery.engine(transport)
    tomorrow = midnight_after(clock.now())

    await engine.run_until_idle()
    await engine.run_until_idle()  # the same day again: still nothing more
    first_day = transport.accepted_for(ids)
    assert len(first_day) == 2
    held = [pk for pk in ids if pk not in first_day]
    got = await delivery.states(ids)
    for pk in held:
        assert (got[pk].status, got[pk].reason, got[pk].current_step) == ("ACTIVE", None, 1)
        assert (got[pk].last_sent_step, got[pk].send_attempts) == (0, 0)
        assert got[pk].next_run_at == tomorrow
    assert len(await delivery.sent_steps(ids)) == 2

    clock.set(tomorrow - timedelta(seconds=1))
    await engine.run_until_idle()
    assert len(transport.accepted_for(ids)) == 2

    clock.set(tomorrow)
    await engine.run_until_idle()
    second_day = transport.accepted_for(ids)[2:]
    assert len(second_day) == 2 and set(second_day) <= set(held)
    (last,) = set(held) - set(second_day)
    assert (await delivery.states([last]))[last].next_run_at == tomorrow + timedelta(days=1)

    clock.advance(timedelta(days=1))
    await engine.run_until_idle()
    assert sorted(transport.accepted_for(ids)) == ids  # each once
    assert sorted(await delivery.sent_steps(ids)) == [(pk, 1) for pk in ids]
    assert await delivery.status_changes(seq) == []  # waiting is not a status change


async def test_each_sender_and_each_sequence_has_its_own_count(
    delivery: Delivery, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    other = await second_user(db, clock, workspace)
    seq = await delivery.sequence(daily_limit_per_sender=2)
    by_admin = await delivery.enroll(seq, 3, prefix="Admin")
    by_member = await delivery.enroll(seq, 3, prefix="Member", by=other)
    another_seq = await delivery.sequence(daily_limit_per_sender=2)
    elsewhere = await delivery.enroll(another_seq, 2, prefix="Else")
    transport = ScriptedTransport()

    await delivery.engine(transport).run_until_idle()

    assert len(transport.accepted_for(by_admin)) == 2
    assert len(transport.accepted_for(by_member)) == 2
    assert sorted(transport.accepted_for(elsewhere)) == elsewhere
    waiting = [
        pk
        for pk, s in (await delivery.states(by_admin + by_member)).items()
        if s.last_sent_step == 0
    ]
    assert len(waiting) == 2


async def one_goes_and_one_waits_for(
    delivery: Delivery, window: SendingWindow, now: datetime, opening: datetime
) -> None:
    """Two contacts due at ``now`` in a sequence sending in ``window``, one message a day:
    one goes at once, the other is held for ``opening`` and goes then."""
    delivery.clock.set(now)
    _, ids = await delivery.enrolled(2, window=window, daily_limit_per_sender=1)
    transport = ScriptedTransport()
    engine = delivery.engine(transport)

    await engine.run_until_idle()
    (first,) = transport.accepted_for(ids)
    (held,) = set(ids) - {first}
    assert (await delivery.states([held]))[held].next_run_at == opening

    delivery.clock.set(opening)
    await engine.run_until_idle()
    assert transport.accepted_for(ids) == [first, held]


async def test_the_day_is_the_windows_day_and_the_step_goes_at_its_next_opening(
    delivery: Delivery, clock: FrozenClock
) -> None:
    """22:00 in Tokyo is 13:00 UTC: the step held then goes at 08:00 in Tokyo, which is
    still the same day in UTC, and goes then because it is a new day in Tokyo."""
    window = SendingWindow(EVERY_DAY, "08:00", "23:00", "Asia/Tokyo")
    monday = clock.now().date()
    opening = at_in_tokyo(monday + timedelta(days=1), 8)
    assert opening.date() == monday  # still Monday in UTC
    await one_goes_and_one_waits_for(delivery, window, at_in_tokyo(monday, 22), opening)


async def test_held_on_a_friday_a_step_goes_at_mondays_window(
    delivery: Delivery, clock: FrozenClock
) -> None:
    window = SendingWindow(WEEKDAYS, "09:00", "17:00", "Asia/Tokyo")
    friday = clock.now().date() + timedelta(days=4)
    monday = at_in_tokyo(friday + timedelta(days=3), 9)
    await one_goes_and_one_waits_for(delivery, window, at_in_tokyo(friday, 10), monday)


async def test_a_message_that_did_not_go_out_does_not_use_up_the_allowance(
    delivery: Delivery,
) -> None:
    seq = await delivery.sequence(daily_limit_per_sender=2)
    bounced, flaky = await delivery.enroll(seq, 2, prefix="First")
    transport = ScriptedTransport()
    transport.always[bounced] = PermanentFailure("no such user", code=550)
    transport.always[flaky] = TransientFailure("try later", code=451)
    engine = delivery.engine(transport)
    await engine.run_until_idle()
    assert transport.accepted == []

    later = await delivery.enroll(seq, 3, prefix="Later")
    await engine.run_until_idle()
    assert len(transport.accepted_for(later)) == 2  # the day's two are still there
    got = await delivery.states([bounced, flaky, *later])
    assert got[bounced].status == "BOUNCED"
    assert (got[flaky].status, got[flaky].send_attempts) == ("ACTIVE", 1)
    assert sorted(s.last_sent_step for s in got.values()) == [0, 0, 0, 1, 1]


async def test_limit_set_kept_and_removed_through_the_api(
    delivery: Delivery, gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    created = await mutate(
        gql, "createSequence", {"name": "Limited", "steps": [STEP], "dailyLimitPerSender": 1},
        SEQUENCE,
    )  # fmt: skip
    assert created["userErrors"] == []
    assert created["sequence"]["dailyLimitPerSender"] == 1
    seq_gid = created["sequence"]["id"]
    renamed = await mutate(gql, "updateSequence", {"sequenceId": seq_gid, "name": "R"}, SEQUENCE)
    assert renamed["sequence"] == {"id": seq_gid, "name": "R", "dailyLimitPerSender": 1}

    async with db.read() as conn:
        seq = (
            await conn.execute(
                sa.select(sequences.c.id).where(
                    sequences.c.workspace_id == workspace.actor.workspace_id
                )
            )
        ).scalar_one()
    assert gid("Sequence", seq) == seq_gid
    ids = await delivery.enroll(seq, 3)
    transport = ScriptedTransport()
    engine = delivery.engine(transport)
    await engine.run_until_idle()
    assert len(transport.accepted_for(ids)) == 1

    removed = await mutate(
        gql, "updateSequence", {"sequenceId": seq_gid, "dailyLimitPerSender": None}, SEQUENCE
    )
    assert removed["userErrors"] == []
    assert removed["sequence"]["dailyLimitPerSender"] is None
    clock.set(midnight_after(clock.now()))  # when the two held steps are due
    await engine.run_until_idle()
    assert sorted(transport.accepted_for(ids)) == ids  # both at once: no limit any more


async def test_a_limit_must_be_a_positive_number(
    gql: GraphQLClient, db: Database, workspace: Workspace
) -> None:
    created = await mutate(
        gql, "createSequence", {"name": "Ok", "steps": [STEP], "dailyLimitPerSender": 5}, SEQUENCE
    )
    seq_gid = created["sequence"]["id"]
    for bad in (0, -3, 100_001):
        refused = await mutate(
            gql, "createSequence", {"name": "Bad", "steps": [STEP], "dailyLimitPerSender": bad},
            SEQUENCE,
        )  # fmt: skip
        assert refused["sequence"] is None
        assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
            (["input", "dailyLimitPerSender"], "OUT_OF_RANGE")
        ], bad
        update = {"sequenceId": seq_gid, "name": "Renamed", "dailyLimitPerSender": bad}
        refused = await mutate(gql, "updateSequence", update, SEQUENCE)
        assert refused["sequence"] is None
        assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
            (["input", "dailyLimitPerSender"], "OUT_OF_RANGE")
        ], bad
    async with db.read() as conn:
        count = sa.select(sa.func.count()).where(
            sequences.c.workspace_id == workspace.actor.workspace_id
        )
        assert (await conn.execute(count)).scalar_one() == 1  # no "Bad" sequence
    data = await gql.execute(
        "query($id: ID!) { sequence(id: $id) { name dailyLimitPerSender } }", {"id": seq_gid}
    )
    assert data["sequence"] == {"name": "Ok", "dailyLimitPerSender": 5}  # nothing changed


@pytest.mark.postgres_only
async def test_workers_sending_at_once_never_exceed_the_limit(
    delivery: Delivery, database_url: str, clock: FrozenClock
) -> None:
    seq = await delivery.sequence(daily_limit_per_sender=3)
    first = await delivery.enroll(seq, 1, prefix="Early")
    await delivery.engine(ScriptedTransport()).run_until_idle()  # today's count: 1
    assert (await delivery.states(first))[first[0]].last_sent_step == 1
    ids = await delivery.enroll(seq, 12)
    transports = [ScriptedTransport(pause=True) for _ in range(3)]
    await run_at_once(database_url, clock, transports, connect_first=True, batch_size=4)
    sent = [pk for t in transports for pk in t.accepted_for(ids)]
    assert len(sent) == 2 and len(set(sent)) == 2  # 3 a day, one of them sent earlier
    assert len(await delivery.sent_steps(ids)) == 2
    tomorrow = midnight_after(clock.now())
    waiting = {
        pk: s.next_run_at for pk, s in (await delivery.states(ids)).items() if pk not in sent
    }
    assert set(waiting.values()) == {tomorrow}
