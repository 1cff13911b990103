"""The engine moving contacts through steps, with a clock that jumps to the next due run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from seqgql.clock import FrozenClock
from seqgql.domain.kinds import StepChannel, Weekday
from seqgql.domain.selection import Selection
from seqgql.domain.sequence import SendingWindow, StepSpec
from seqgql.engine.worker import Engine
from seqgql.outbound.transport import OutboundMessage, RecordingTransport
from seqgql.persistence.database import Database
from seqgql.persistence.tables import activities, enrollments, events, sequences
from seqgql.services.enrollments import add_contacts, pause
from seqgql.services.sequences import create_sequence
from tests.helpers.engine import run_at_once
from tests.helpers.factories import make_contacts
from tests.helpers.workspace import Workspace

DAY = 24 * 60
STEPS = [
    StepSpec(StepChannel.EMAIL, 0, "Hi {{first_name}}", "Hello {{first_name}}"),
    StepSpec(StepChannel.EMAIL, DAY, "Following up, {{first_name}}"),
    StepSpec(StepChannel.SMS, 2 * DAY, "Quick text"),
]


def mine(transport: RecordingTransport, ids: list[int]) -> list[OutboundMessage]:
    """The messages sent for this test's enrollments (the engine serves every workspace,
    and the database is shared by the run's tests)."""
    wanted = set(ids)
    return [m for m in transport.sent if m.enrollment_id in wanted]


async def _sequence(db: Database, clock: FrozenClock, ws: Workspace, **kw: object) -> int:
    result = await create_sequence(
        db,
        clock,
        ws.actor,
        name="Engine",
        step_specs=STEPS,
        reply_window_minutes=3 * DAY,
        **kw,  # type: ignore[arg-type]
    )
    assert result.sequence_id is not None, result.errors
    return result.sequence_id


async def _enroll(
    db: Database, clock: FrozenClock, ws: Workspace, seq: int, n: int, **contact: object
) -> list[int]:
    contact_ids = await make_contacts(db, clock, ws.actor, n, **contact)
    for start in range(0, n, 1000):
        chunk = contact_ids[start : start + 1000]
        result = await add_contacts(db, clock, ws.actor, seq, chunk)
        assert not result.errors
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(enrollments.c.id)
            .where(enrollments.c.sequence_id == seq)
            .order_by(enrollments.c.id)
        )
        return [r.id for r in rows]


async def _started(
    db: Database, clock: FrozenClock, ws: Workspace, n: int, *,
    contact: dict[str, object] | None = None, **sequence: object,
) -> tuple[RecordingTransport, Engine, list[int]]:  # fmt: skip
    """An engine on a recording transport, and ``n`` contacts (``contact``'s fields) enrolled
    in a new sequence (``sequence``'s options): (transport, engine, enrollment ids)."""
    transport = RecordingTransport()
    engine = Engine(db, clock, transport)
    seq = await _sequence(db, clock, ws, **sequence)
    return transport, engine, await _enroll(db, clock, ws, seq, n, **(contact or {}))


async def _run_until_nothing_due(
    engine: Engine, db: Database, clock: FrozenClock, ids: list[int], limit: timedelta
) -> None:
    """Run, then jump the clock to the next moment one of ``ids`` is due, up to ``limit``."""
    end = clock.now() + limit
    while True:
        await engine.run_until_idle()
        due = sa.func.coalesce(enrollments.c.next_run_at, enrollments.c.resume_at)
        async with db.read() as conn:
            nxt = (
                await conn.execute(
                    sa.select(sa.func.min(due)).where(
                        enrollments.c.id.in_(ids), enrollments.c.status.in_(["ACTIVE", "PAUSED"])
                    )
                )
            ).scalar()
        if nxt is None:
            return
        nxt = nxt if isinstance(nxt, datetime) and nxt.tzinfo else nxt.replace(tzinfo=UTC)
        if nxt > end or nxt <= clock.now():  # nothing more will happen
            return
        clock.set(nxt)


async def _states(
    db: Database, ids: list[int]
) -> dict[int, tuple[str, str | None, int | None, int]]:
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(enrollments.c.id, enrollments.c.status, enrollments.c.reason,
                      enrollments.c.current_step, enrollments.c.last_sent_step)
            .where(enrollments.c.id.in_(ids))
        )  # fmt: skip
        return {r.id: (r.status, r.reason, r.current_step, r.last_sent_step) for r in rows}


async def test_thirty_days_of_a_sequence(
    db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    transport, engine, ids = await _started(db, clock, workspace, 4)
    start = clock.now()
    await _run_until_nothing_due(engine, db, clock, ids, timedelta(days=30))
    # every contact got the three steps, in order, each once
    per_enrollment: dict[int, list[str]] = {}
    for m in mine(transport, ids):
        per_enrollment.setdefault(m.enrollment_id, []).append(m.body)
    assert set(per_enrollment) == set(ids)
    for body in per_enrollment.values():
        assert body[0].startswith("Hi Contact")
        assert body[1].startswith("Following up, Contact")
        assert body[2] == "Quick text"
        assert len(body) == 3
    assert mine(transport, ids)[0].subject == "Hello Contact0"
    # then the reply window passed with no reply: finished, no response
    states = await _states(db, ids)
    assert set(states.values()) == {("FINISHED", "COMPLETED_NO_RESPONSE", None, 3)}
    async with db.read() as conn:
        outcomes = sa.select(enrollments.c.outcome).where(enrollments.c.id.in_(ids))
        assert {r.outcome for r in await conn.execute(outcomes)} == {"NO_RESPONSE"}
        sent = sa.select(activities.c.step).where(
            activities.c.enrollment_id == ids[0], activities.c.kind == "SENT"
        )
        sent_steps = [r.step for r in await conn.execute(sent.order_by(activities.c.id))]
        finish = sa.select(events.c.at).where(
            events.c.enrollment_id == ids[0], events.c.to_status == "FINISHED"
        )
        finished = (await conn.execute(finish)).scalar_one()
    assert sent_steps == [1, 2, 3]
    # steps at day 0, 1 and 3; finished 3 days after the last
    assert finished - start == timedelta(days=6)


async def test_a_step_that_cannot_be_sent_is_not_sent_with_its_reason(
    db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    _, engine, ids = await _started(db, clock, workspace, 2, contact={"email": None})
    await engine.run_until_idle()
    assert set((await _states(db, ids)).values()) == {("NOT_SENT", "MISSING_EMAIL", 1, 0)}


async def test_auto_resume_continues_from_the_step_it_was_on_with_the_wait_it_had_left(
    db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    transport, engine, ids = await _started(db, clock, workspace, 1)
    await engine.run_until_idle()  # step 1 sent
    back = clock.now() + timedelta(days=5)
    await pause(db, clock, workspace.actor, Selection(ids=tuple(ids)), resume_at=back)
    clock.advance(timedelta(days=4))
    await engine.run_until_idle()
    assert (await _states(db, ids))[ids[0]][0] == "PAUSED"
    clock.set(back)
    await engine.run_until_idle()
    # ACTIVE on step 2, which keeps the day it had left when paused
    assert (await _states(db, ids))[ids[0]] == ("ACTIVE", None, 2, 1)
    clock.advance(timedelta(days=1) - timedelta(seconds=1))
    await engine.run_until_idle()
    assert [m.body for m in mine(transport, ids)] == ["Hi Contact0"]
    clock.advance(timedelta(seconds=1))
    await engine.run_until_idle()
    assert (await _states(db, ids))[ids[0]] == ("ACTIVE", None, 3, 2)
    assert [m.body for m in mine(transport, ids)] == ["Hi Contact0", "Following up, Contact0"]


async def test_a_step_due_outside_the_window_waits_for_its_opening(
    db: Database, workspace: Workspace
) -> None:
    # Saturday 2026-11-28 10:00 UTC; the window is Mon-Fri 09:00-17:00 New York
    clock = FrozenClock(datetime(2026, 11, 28, 10, 0, tzinfo=UTC))
    window = SendingWindow(days=(Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY,
                                 Weekday.THURSDAY, Weekday.FRIDAY),
                           start="09:00", end="17:00", time_zone="America/New_York")  # fmt: skip
    transport, engine, ids = await _started(db, clock, workspace, 1, window=window)
    await engine.run_until_idle()
    assert mine(transport, ids) == []
    async with db.read() as conn:
        due = (
            await conn.execute(
                sa.select(enrollments.c.next_run_at).where(enrollments.c.id == ids[0])
            )
        ).scalar_one()
    assert due == datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # Monday 09:00 EST
    clock.set(due)
    await engine.run_until_idle()
    assert len(mine(transport, ids)) == 1


@pytest.mark.postgres_only
async def test_three_workers_send_every_step_exactly_once(
    database_url: str, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    seq = await _sequence(db, clock, workspace)
    ids = await _enroll(db, clock, workspace, seq, 3000)
    transports = [RecordingTransport() for _ in range(3)]
    await run_at_once(database_url, clock, transports, make_engine=Engine, batch_size=200)
    sent = [m.enrollment_id for t in transports for m in mine(t, ids)]
    assert sorted(sent) == sorted(ids)  # each once, none skipped
    assert sum(1 for t in transports if mine(t, ids)) >= 2  # the work was shared
    async with db.read() as conn:
        count = sa.select(sa.func.count()).where(
            activities.c.kind == "SENT", activities.c.enrollment_id.in_(ids)
        )
        recorded = (await conn.execute(count)).scalar_one()
        last = (
            await conn.execute(
                sa.select(sequences.c.last_event_number).where(sequences.c.id == seq)
            )
        ).scalar_one()
    assert recorded == 3000
    assert last == 6000  # each enrollment's event, and each SENT activity's
