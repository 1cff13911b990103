"""The events table: one row per status change, with from/to status and reason, actor,
bulk operation, and per-sequence numbers that are gapless 1..n."""

from __future__ import annotations

import itertools
import random
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from seqgql.clock import FrozenClock
from seqgql.domain.kinds import ActivityKind, BulkActionKind, DeliveryEventKind, Role
from seqgql.domain.selection import EnrollmentFilter, Selection
from seqgql.domain.status import EnrollmentStatus, FinishReason, is_valid_state
from seqgql.outbound.transport import RecordingTransport
from seqgql.persistence.database import Database
from seqgql.persistence.tables import bulk_operations, enrollments, events, sequences
from seqgql.services.actor import Actor
from seqgql.services.auth import issue_token
from seqgql.services.contacts import create_group
from seqgql.services.enrollments import (
    add_contacts,
    add_to_group,
    finish,
    pause,
    record_delivery_event,
    remove,
    restart,
    resume,
    send_message,
)
from tests.helpers.factories import make_contacts, make_enrolled, make_sequence
from tests.helpers.workspace import Workspace

Change = tuple[int, str | None, str | None, str, str | None]  # enrollment, from, reason, to, reason


async def events_of(db: Database, sequence_id: int, after: int = 0) -> list[Any]:
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(events)
            .where(events.c.sequence_id == sequence_id, events.c.number > after)
            .order_by(events.c.number)
        )
        return list(rows)


def changes(rows: list[Any]) -> list[Change]:
    return sorted(
        (r.enrollment_id, r.from_status, r.from_reason, r.to_status, r.to_reason) for r in rows
    )


class Log:
    """Follows one sequence's events: each check sees only what was written since."""

    def __init__(self, db: Database, sequence_id: int) -> None:
        self.db, self.sequence_id, self.seen = db, sequence_id, 0

    async def new(self) -> list[Any]:
        rows = await events_of(self.db, self.sequence_id, self.seen)
        assert [r.number for r in rows] == list(range(self.seen + 1, self.seen + len(rows) + 1))
        self.seen += len(rows)
        return rows

    async def expect(
        self, expected: list[Change], *, actor: Actor, operation: int | None, clock: FrozenClock,
        activities: tuple[ActivityKind, ...] = (),
    ) -> list[Any]:  # fmt: skip
        logged = await self.new()
        rows = [r for r in logged if r.to_status is not None]  # status changes
        # a delivery report's activity is an event too, numbered with them
        assert [r.activity for r in logged if r.to_status is None] == list(activities)
        assert changes(rows) == sorted(expected)
        for r in rows:
            assert r.actor_id == actor.user_id
            assert r.at == clock.now()
            assert r.workspace_id == actor.workspace_id
            if operation is not None:
                assert r.bulk_operation_id == operation
            else:
                assert r.bulk_operation_id is not None
        return rows


def sel(*ids: int) -> Selection:
    return Selection(ids=tuple(ids))


async def contact_of(db: Database, enrollment_id: int) -> int:
    async with db.read() as conn:
        query = sa.select(enrollments.c.contact_id).where(enrollments.c.id == enrollment_id)
        return int((await conn.execute(query)).scalar_one())


async def test_every_status_change_writes_one_event(
    db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    admin = workspace.actor
    issued = await issue_token(
        db, clock, email=f"member@{workspace.name}.test", workspace=workspace.name,
        role=Role.MEMBER,
    )  # fmt: skip
    member = Actor(issued.workspace_id, issued.user_id, Role.MEMBER)
    seq = await make_sequence(db, clock, admin)
    people = await make_contacts(db, clock, admin, 4)
    log = Log(db, seq)
    S = EnrollmentStatus

    result = await add_contacts(db, clock, admin, seq, people)
    rows = await log.new()
    a, b, c, d = ids = sorted(r.enrollment_id for r in rows)
    assert changes(rows) == [(pk, None, None, S.ACTIVE, None) for pk in ids]
    assert {(r.actor_id, r.bulk_operation_id) for r in rows} == {
        (admin.user_id, result.bulk_operation_id)
    }

    clock.advance(timedelta(minutes=1))
    result = await pause(db, clock, member, sel(a, b), resume_at=clock.now() + timedelta(days=2))
    assert result.changed_count == 2
    await log.expect(
        [(a, S.ACTIVE, None, S.PAUSED, "MANUAL"), (b, S.ACTIVE, None, S.PAUSED, "MANUAL")],
        actor=member, operation=result.bulk_operation_id, clock=clock,
    )  # fmt: skip

    # resume at a date: the enrollments stay paused, so no event
    result = await resume(db, clock, admin, sel(a, b), resume_at=clock.now() + timedelta(days=5))
    assert result.changed_count == 2
    assert await log.new() == []

    clock.advance(timedelta(minutes=1))
    result = await resume(db, clock, admin, sel(a, c))  # c is skipped
    await log.expect(
        [(a, S.PAUSED, "MANUAL", S.ACTIVE, None)],
        actor=admin, operation=result.bulk_operation_id, clock=clock,
    )  # fmt: skip

    result = await finish(db, clock, member, sel(b), reason=FinishReason.MEETING_BOOKED)
    await log.expect(
        [(b, S.PAUSED, "MANUAL", S.FINISHED, "MEETING_BOOKED")],
        actor=member, operation=result.bulk_operation_id, clock=clock,
    )  # fmt: skip

    result = await remove(db, clock, admin, sel(c))
    await log.expect(
        [(c, S.ACTIVE, None, S.REMOVED, None)],
        actor=admin, operation=result.bulk_operation_id, clock=clock,
    )  # fmt: skip

    clock.advance(timedelta(hours=1))
    result = await add_contacts(db, clock, member, seq, [await contact_of(db, c)])
    await log.expect(
        [(c, S.REMOVED, None, S.ACTIVE, None)],
        actor=member, operation=result.bulk_operation_id, clock=clock,
    )  # fmt: skip

    for pk, kind, extra, change in (
        (d, DeliveryEventKind.OUT_OF_OFFICE, {"return_date": date(2026, 12, 24)},
         (d, S.ACTIVE, None, S.PAUSED, "OUT_OF_OFFICE")),
        (d, DeliveryEventKind.REPLIED, {}, (d, S.PAUSED, "OUT_OF_OFFICE", S.FINISHED, "REPLIED")),
        (a, DeliveryEventKind.BOUNCED, {}, (a, S.ACTIVE, None, S.BOUNCED, None)),
        (a, DeliveryEventKind.OPTED_OUT, {}, (a, S.BOUNCED, None, S.OPTED_OUT, None)),
        (c, DeliveryEventKind.FAILED, {}, (c, S.ACTIVE, None, S.FAILED, None)),
    ):  # fmt: skip
        clock.advance(timedelta(minutes=7))
        outcome = await record_delivery_event(db, clock, admin, pk, kind, **extra)
        assert outcome.status_changed and not outcome.errors
        rows = await log.expect(
            [change], actor=admin, operation=None, clock=clock, activities=(kind.activity_kind,)
        )
        async with db.read() as conn:
            op = (
                await conn.execute(
                    sa.select(bulk_operations).where(
                        bulk_operations.c.id == rows[0].bulk_operation_id
                    )
                )
            ).one()
        assert (op.kind, op.changed_count) == (BulkActionKind.DELIVERY_EVENT, 1)

    # restart: the events are in the clone, numbered from 1; none in the source
    result = await restart(db, clock, admin, sel(b, d), new_sequence_name="Again")
    assert result.changed_count == 2 and result.sequence_id is not None
    assert await log.new() == []
    clone_rows = await events_of(db, result.sequence_id)
    assert [r.number for r in clone_rows] == [1, 2]
    assert {(r.from_status, r.to_status, r.bulk_operation_id) for r in clone_rows} == {
        (None, S.ACTIVE, result.bulk_operation_id)
    }
    assert await log_is_consistent(db, [seq, result.sequence_id])


async def test_actions_that_change_no_status_write_no_status_event(
    db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    actor = workspace.actor
    seq, ids = await make_enrolled(db, clock, actor, 5)
    await pause(db, clock, actor, sel(*ids[:2]))
    log = Log(db, seq)
    await log.new()
    group = await create_group(db, clock, actor, "G")
    assert group.group_id is not None
    group_id = group.group_id
    transport = RecordingTransport()
    later = clock.now() + timedelta(days=1)
    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: resume(db, clock, actor, sel(*ids), resume_at=later),
        lambda: add_to_group(db, clock, actor, sel(*ids), group_id=group_id),
        lambda: send_message(db, clock, actor, sel(*ids[2:]), transport=transport, body="Hi"),
        lambda: record_delivery_event(db, clock, actor, ids[2], DeliveryEventKind.DELIVERED),
        lambda: record_delivery_event(db, clock, actor, ids[2], DeliveryEventKind.OPENED),
        lambda: record_delivery_event(db, clock, actor, ids[2], DeliveryEventKind.CLICKED),
        # dry runs, and actions whose every item is skipped
        lambda: finish(db, clock, actor, sel(*ids), reason=FinishReason.OTHER, dry_run=True),
        lambda: pause(db, clock, actor, sel(*ids[:2])),
        lambda: restart(db, clock, actor, sel(*ids), dry_run=True),
    ]
    activities = [(), (), (ActivityKind.SENT,) * 3, (ActivityKind.DELIVERED,),
                  (ActivityKind.OPENED,), (ActivityKind.CLICKED,), (), (), ()]  # fmt: skip
    for call, logged in zip(calls, activities, strict=True):
        await call()
        # no status change; an activity recorded is an event of the log
        assert [(r.to_status, r.activity) for r in await log.new()] == [
            (None, kind) for kind in logged
        ]
    assert len(transport.sent) == 3


async def log_is_consistent(db: Database, sequence_ids: list[int]) -> bool:
    """Gapless numbers, the sequences' last numbers, and per-enrollment chains that
    end at the current status — asserted; returns True so callers can assert it."""
    async with db.read() as conn:
        for seq in sequence_ids:
            rows = await events_of(db, seq)
            assert [r.number for r in rows] == list(range(1, len(rows) + 1))
            last = (
                await conn.execute(
                    sa.select(sequences.c.last_event_number).where(sequences.c.id == seq)
                )
            ).scalar_one()
            assert last == len(rows)
            current = {
                r.id: (r.status, r.reason)
                for r in await conn.execute(
                    sa.select(enrollments.c.id, enrollments.c.status, enrollments.c.reason).where(
                        enrollments.c.sequence_id == seq
                    )
                )
            }
            chains: dict[int, list[Any]] = {}
            for r in rows:
                if r.to_status is not None:  # a status change, not an activity
                    chains.setdefault(r.enrollment_id, []).append(r)
            assert set(chains) == set(current)  # every enrollment was born with an event
            for pk, chain in chains.items():
                assert (chain[0].from_status, chain[0].from_reason) == (None, None)
                for before, after in itertools.pairwise(chain):
                    assert (after.from_status, after.from_reason) == (
                        before.to_status, before.to_reason,
                    ), pk  # fmt: skip
                    assert after.to_status != after.from_status or (
                        after.to_reason != after.from_reason
                    )
                assert (chain[-1].to_status, chain[-1].to_reason) == current[pk]
                assert is_valid_state(EnrollmentStatus(current[pk][0]), current[pk][1])
    return True


async def test_numbers_stay_gapless_across_many_random_operations(
    db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    actor = workspace.actor
    rng = random.Random(20261123)
    first, ids_a = await make_enrolled(db, clock, actor, 25)
    second, ids_b = await make_enrolled(db, clock, actor, 25, prefix="Other")
    everyone = ids_a + ids_b
    logs = {first: Log(db, first), second: Log(db, second)}
    for log in logs.values():
        await log.new()
    owner = dict.fromkeys(ids_a, first) | dict.fromkeys(ids_b, second)
    reasons = list(FinishReason)
    status_kinds = {
        BulkActionKind.PAUSE, BulkActionKind.RESUME, BulkActionKind.FINISH,
        BulkActionKind.REMOVE, BulkActionKind.ENROLL, BulkActionKind.DELIVERY_EVENT,
    }  # fmt: skip

    for round_no in range(60):
        clock.advance(timedelta(minutes=rng.randint(1, 90)))
        picked = sel(*rng.sample(everyone, rng.randint(1, 20)))
        by_filter = Selection(
            sequence_id=rng.choice([first, second]),
            filter=EnrollmentFilter(statuses=(rng.choice(list(EnrollmentStatus)),)),
        )
        selection = rng.choice([picked, picked, by_filter])
        choice = rng.randrange(7)
        if choice == 0:
            result = await pause(db, clock, actor, selection)
        elif choice == 1:
            result = await resume(db, clock, actor, selection)
        elif choice == 2:
            result = await finish(db, clock, actor, selection, reason=rng.choice(reasons))
        elif choice == 3:
            result = await remove(db, clock, actor, selection)
        elif choice == 4:
            seq = rng.choice([first, second])
            members = [pk for pk in everyone if owner[pk] == seq]
            chosen = rng.sample(members, 5)
            result = await add_contacts(
                db, clock, actor, seq, [await contact_of(db, pk) for pk in chosen]
            )
        else:
            pk = rng.choice(everyone)
            kind = rng.choice(list(DeliveryEventKind))
            outcome = await record_delivery_event(db, clock, actor, pk, kind)
            assert not outcome.errors
            written = [r for log in logs.values() for r in await log.new()]
            changed = [r for r in written if r.to_status is not None]
            assert len(changed) == int(outcome.status_changed), (round_no, kind)
            # its activity, then whatever it changed (finishCompanyOnReply: more)
            assert written[0].activity is kind.activity_kind, (round_no, kind)
            assert len(written) - len(changed) == 1, (round_no, kind)
            continue
        assert not result.errors, (round_no, result.errors)
        written = [r for log in logs.values() for r in await log.new()]
        assert len(written) == result.changed_count, round_no
        assert {r.bulk_operation_id for r in written} <= {result.bulk_operation_id}

    assert await log_is_consistent(db, [first, second])
    async with db.read() as conn:
        ops = await conn.execute(
            sa.select(
                bulk_operations.c.id, bulk_operations.c.kind, bulk_operations.c.changed_count
            ).where(bulk_operations.c.workspace_id == actor.workspace_id)
        )
        per_op = dict(
            (
                await conn.execute(
                    sa.select(events.c.bulk_operation_id, sa.func.count())
                    .where(events.c.workspace_id == actor.workspace_id)
                    .group_by(events.c.bulk_operation_id)
                )
            ).all()
        )
        for op in ops:
            if op.kind in status_kinds:
                assert per_op.get(op.id, 0) == op.changed_count, op
