"""restartEnrollments into an existing sequence racing addContactsToSequence of the same
contacts back into their source sequence (PostgreSQL only: SQLite serialises writers).

Whatever the order, every enrollment in the target has the event that created it and
the restart reports what it enrolled (once, the restart answered 0 while the target
gained enrollments nobody was told of)."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from seqgql.clock import FrozenClock
from seqgql.domain.selection import Selection
from seqgql.domain.status import EnrollmentStatus, FinishReason
from seqgql.persistence.database import Database
from seqgql.persistence.tables import enrollments, events
from seqgql.services.enrollments import add_contacts, finish, restart
from tests.helpers.factories import make_enrolled, make_sequence
from tests.helpers.workspace import Workspace

ROUNDS = 12
COUNT = 40
e = enrollments.c


async def enrolled(db: Database, sequence_id: int) -> dict[int, str]:
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(e.contact_id, e.status).where(e.sequence_id == sequence_id)
        )
        return {r.contact_id: r.status for r in rows}


async def first_events(db: Database, sequence_id: int) -> int:
    async with db.read() as conn:
        query = sa.select(sa.func.count()).where(
            events.c.sequence_id == sequence_id, events.c.from_status.is_(None)
        )
        return int((await conn.execute(query)).scalar_one())


@pytest.mark.postgres_only
async def test_restart_into_a_sequence_racing_re_enrollment_into_the_source(
    db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    actor = workspace.actor
    orders: set[str] = set()
    for round_no in range(ROUNDS):
        source, ids = await make_enrolled(db, clock, actor, COUNT)
        target = await make_sequence(db, clock, actor, name="Target")
        done = await finish(db, clock, actor, Selection(ids=tuple(ids)), reason=FinishReason.OTHER)
        assert done.changed_count == COUNT
        contacts = list((await enrolled(db, source)).keys())

        restarting = restart(db, clock, actor, Selection(ids=tuple(ids)), target_sequence_id=target)
        re_enrolling = add_contacts(db, clock, actor, source, contacts)
        if round_no % 2:
            re_enrolled, restarted = await asyncio.gather(re_enrolling, restarting)
        else:
            restarted, re_enrolled = await asyncio.gather(restarting, re_enrolling)
        assert not restarted.errors and not re_enrolled.errors

        in_target = await enrolled(db, target)
        in_source = await enrolled(db, source)
        # every enrollment in the target came with its event, and the restart says so
        assert await first_events(db, target) == len(in_target)
        assert restarted.changed_count == len(in_target)
        # one order or the other, for all of them
        assert re_enrolled.changed_count == COUNT
        assert set(in_source.values()) == {EnrollmentStatus.ACTIVE}
        if len(in_target) == COUNT:
            orders.add("restart first")
        else:
            orders.add("re-enrolment first")
            assert len(in_target) == 0
            assert {g.reason.value: g.count for g in restarted.skipped} == {
                "INVALID_TRANSITION": COUNT
            }
    print(f"orders seen: {sorted(orders)}")
