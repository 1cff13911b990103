"""Counting enrollments per step: where each one is counted (the tally of grouped rows),
and on PostgreSQL, what the grouped statement reads for one sequence of a large table."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from seqgql.clock import FrozenClock
from seqgql.domain.status import EnrollmentStatus, Outcome
from seqgql.persistence.database import Database
from seqgql.services.sequences.step_counts import (
    StepCounts,
    step_counts_by_sequence,
    step_counts_statement,
    tally,
)
from tests.helpers.factories import make_enrolled, make_sequence
from tests.helpers.workspace import Workspace, make_workspace

_S = EnrollmentStatus


def test_each_enrollment_is_counted_once_where_it_is() -> None:
    counts = tally(
        [
            (_S.ACTIVE, None, 1, 0, 5),  # waiting to send step 1
            (_S.ACTIVE, None, 3, 2, 4),  # sent 1 and 2, waiting to send 3
            (_S.ACTIVE, None, None, 3, 2),  # every step sent: the reply window
            (_S.PAUSED, None, 2, 1, 3),
            (_S.PAUSED, None, None, 3, 1),  # paused in the reply window: at the last
            (_S.NOT_SENT, None, 2, 1, 1),
            (_S.FINISHED, Outcome.RESPONDED, 3, 2, 6),  # replied after step 2
            (_S.FINISHED, Outcome.NO_RESPONSE, None, 3, 7),
            (_S.FINISHED, Outcome.STOPPED, 1, 0, 8),  # stopped before anything was sent
            (_S.FINISHED, None, 2, 1, 1),  # finished before outcomes were kept
            (_S.BOUNCED, None, 2, 1, 2),  # the second email refused: at step 1
            (_S.BOUNCED, None, 1, 0, 3),  # the first email refused: before the first
            (_S.FAILED, None, 3, 2, 1),
            (_S.OPTED_OUT, None, 2, 1, 1),
            (_S.OMITTED, None, 1, 0, 9),
            (_S.REMOVED, None, 3, 3, 1),  # last sent 3 (moved back, then removed)
        ]
    )
    one, two, three = counts.at(1), counts.at(2), counts.at(3)
    assert (one.active, one.paused, one.not_sent, one.awaiting_reply) == (5, 0, 0, 0)
    assert (two.active, two.paused, two.not_sent) == (0, 3, 1)
    assert (three.active, three.paused, three.awaiting_reply) == (4, 1, 2)
    assert (one.ended.finished, one.ended.bounced, one.ended.opted_out) == (1, 2, 1)
    assert (two.ended.responded, two.ended.failed, two.ended.total) == (6, 1, 7)
    assert (three.ended.no_response, three.ended.removed, three.ended.total) == (7, 1, 8)
    before = counts.before_first_step
    assert (before.stopped, before.bounced, before.omitted, before.total) == (8, 3, 9, 20)
    # reached: the last step sent is this one or later, whatever the status
    assert [counts.at(p).reached for p in (1, 2, 3, 4)] == [30, 22, 11, 0]
    placed = sum(
        t.active + t.paused + t.not_sent + t.awaiting_reply + t.ended.total
        for t in counts.steps.values()
    )
    assert placed + before.total == 55  # every row's count, once


def test_a_step_with_no_one_at_it_still_says_how_many_passed_it() -> None:
    counts = tally([(_S.ACTIVE, None, None, 3, 4)])  # every step sent, nobody at 1 or 2
    assert 1 not in counts.steps
    assert [counts.at(p).reached for p in (1, 2, 3)] == [4, 4, 4]
    assert counts.at(1).active == 0 and counts.at(3).awaiting_reply == 4
    assert tally([]) == StepCounts()


async def test_one_statement_counts_several_sequences_of_the_workspace_only(
    db: Database, clock: FrozenClock, workspace: Workspace, other_workspace: Workspace
) -> None:
    seq_a, _ = await make_enrolled(db, clock, workspace.actor, 3)
    seq_b, _ = await make_enrolled(db, clock, workspace.actor, 2)
    empty = await make_sequence(db, clock, workspace.actor)
    foreign, _ = await make_enrolled(db, clock, other_workspace.actor, 4)
    found = await step_counts_by_sequence(
        db, workspace.actor.workspace_id, [seq_a, seq_b, empty, foreign]
    )
    assert set(found) == {seq_a, seq_b}
    assert (found[seq_a].at(1).active, found[seq_b].at(1).active) == (3, 2)


@pytest.fixture
async def other_workspace(db: Database, clock: FrozenClock) -> Workspace:
    return await make_workspace(db, clock)


# ---------------------------------------------------------------- the plan, on PostgreSQL

SEQUENCES = 20
CONTACTS = 5_000  # 20 x 5,000 = 100,000 enrollments


@pytest.mark.postgres_only
async def test_postgres_reads_only_the_sequences_rows_through_an_index(
    db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    """In a table of 100,000 enrollments (20 sequences of 5,000), counting one sequence's
    steps reads its rows through an index on sequence_id, never the whole table. The rows
    are made and read in one transaction that is rolled back: other tests never see them."""
    ws, now = workspace.actor.workspace_id, clock.now()
    async with db.engine.connect() as conn:
        transaction = await conn.begin()
        try:
            first = await _fill(conn, ws, now)
            await conn.execute(sa.text("ANALYZE enrollments"))
            statement = step_counts_statement(ws, [first])
            literal = statement.compile(
                dialect=conn.dialect, compile_kwargs={"literal_binds": True}
            )
            rows = await conn.execute(sa.text(f"EXPLAIN {literal}"))
            plan = "\n".join(row[0] for row in rows)
        finally:
            await transaction.rollback()
    print(plan)  # shown with -s: which index, and how
    assert "Seq Scan on enrollments" not in plan, plan
    assert "ix_enrollments_seq" in plan or "uq_enrollments_sequence_contact" in plan, plan


async def _fill(conn: AsyncConnection, ws: int, now: datetime) -> int:
    """SEQUENCES sequences of CONTACTS enrollments each, spread over steps and statuses;
    the first sequence's id."""
    params = {"ws": ws, "now": now}
    await conn.execute(
        sa.text(
            "INSERT INTO sequences (workspace_id, name, archived, active, reply_window_minutes,"
            " last_event_number, created_at) SELECT :ws, 'plan ' || g, false, true, 60, 0, :now"
            f" FROM generate_series(1, {SEQUENCES}) g"
        ),
        params,
    )
    await conn.execute(
        sa.text(
            "INSERT INTO contacts (workspace_id, first_name, phone_type, opted_out,"
            " search_text, sort_name, created_at) SELECT :ws, 'c' || g, 'UNKNOWN', false,"
            f" 'c' || g, 'c' || g, :now FROM generate_series(1, {CONTACTS}) g"
        ),
        params,
    )
    await conn.execute(
        sa.text(
            "INSERT INTO enrollments (workspace_id, sequence_id, contact_id, status,"
            " current_step, last_sent_step, enrolled_at, updated_at, status_changed_at,"
            " version, send_attempts)"
            " SELECT :ws, s.id, c.id,"
            " (ARRAY['ACTIVE','PAUSED','FINISHED','BOUNCED'])[1 + c.id % 4], 1 + c.id % 3,"
            " c.id % 3, :now, :now, :now, 0, 0"
            " FROM sequences s, contacts c"
            " WHERE s.workspace_id = :ws AND s.name LIKE 'plan %' AND c.workspace_id = :ws"
        ),
        params,
    )
    first = await conn.execute(
        sa.text("SELECT min(id) FROM sequences WHERE workspace_id = :ws AND name LIKE 'plan %'"),
        params,
    )
    return int(first.scalar_one())
