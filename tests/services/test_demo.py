"""The demo workspace: seeded once, with every status on show, and a fresh token each time."""

from __future__ import annotations

import sqlalchemy as sa

from seqgql.clock import FrozenClock
from seqgql.demo import seed_demo
from seqgql.persistence.database import Database
from seqgql.persistence.tables import enrollments, sequences


async def test_demo_is_seeded_once_and_shows_the_statuses(db: Database, clock: FrozenClock) -> None:
    first = await seed_demo(db, clock)
    second = await seed_demo(db, clock)
    assert first.token != second.token
    assert first.workspace_id == second.workspace_id
    async with db.read() as conn:
        names = [r.name for r in await conn.execute(
            sa.select(sequences.c.name).where(sequences.c.workspace_id == first.workspace_id)
            .order_by(sequences.c.id))]  # fmt: skip
        statuses = {r.status for r in await conn.execute(
            sa.select(enrollments.c.status).where(
                enrollments.c.workspace_id == first.workspace_id).distinct())}  # fmt: skip
    assert names == ["Q4 Outbound", "Webinar follow-up", "Live demo (minutes)",
                     "Spring campaign (turned off)"]  # fmt: skip
    assert statuses >= {"ACTIVE", "PAUSED", "FINISHED", "BOUNCED", "FAILED", "OPTED_OUT",
                        "OMITTED", "REMOVED"}  # fmt: skip
    async with db.read() as conn:
        e = enrollments.c
        shown = await conn.execute(
            sa.select(
                sa.func.count().filter(e.reason == "MOVED"),
                sa.func.count().filter(e.moved_to_id.is_not(None)),
                sa.func.count().filter(e.resume_at.is_not(None)),
                sa.func.count().filter(e.outcome == "STOPPED"),
                sa.func.count().filter(e.outcome == "RESPONDED"),
            ).where(e.workspace_id == first.workspace_id)
        )
        moved, linked, scheduled, stopped, responded = shown.one()
        off = await conn.execute(
            sa.select(sequences.c.active).where(
                sequences.c.workspace_id == first.workspace_id,
                sequences.c.name.like("%turned off%"),
            )
        )
    # the Contacts tab's controls on show: moves, an auto-resume, every outcome, a
    # sequence turned off
    assert moved == linked == 2 and scheduled >= 2 and stopped and responded
    assert [r.active for r in off] == [False]
