"""The engine's status changes: completed, opted out, not sent, bounced or failed for
claimed rows, and auto-resumes. Each needs its sequence's lock, and a worker never waits
for one (a bulk action holding it may be waiting for rows this worker claimed): it
changes what it can lock at once and sets the other rows aside for a moment."""

from __future__ import annotations

import logging
import time
from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from seqgql.domain.kinds import ResumeMode
from seqgql.domain.status import Action, EnrollmentStatus, StatusReason, transition
from seqgql.engine.claims import DueRow, try_lock
from seqgql.engine.rule_blocks import RULE, ready_to_resume
from seqgql.persistence.tables import enrollments, sequences
from seqgql.services.enrollments.resume import resumed_values
from seqgql.services.enrollments.transitions import ChangeContext, change_status

log = logging.getLogger("seqgql.engine")

# A row whose change waited for a busy sequence gives way to other due rows this long
# (seconds of real time).
ASIDE_SECONDS = 2.0
e = enrollments.c


async def change_claimed(
    conn: AsyncConnection,
    ctx: ChangeContext,
    action: Action,
    reason: StatusReason | None,
    rows: list[DueRow],
    aside: dict[int, float],
    rule_name: str | None = None,
) -> tuple[set[int], int]:
    """Change what can be changed now: the ids changed, and how many were deferred
    (their ids go ``aside``, with the moment until which they give way to other rows).
    A row whose message was out may have been changed meanwhile (paused, say): the rule
    of ``action`` says whether it still changes."""
    by_sequence: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        by_sequence[row.sequence_id].append(row.id)
    locked = await try_lock(conn, list(by_sequence))
    ids = [i for s in locked for i in by_sequence[s]]
    deferred = len(rows) - len(ids)
    until = time.monotonic() + ASIDE_SECONDS
    for s in set(by_sequence) - set(locked):
        aside.update(dict.fromkeys(by_sequence[s], until))
    if not ids:
        return set(), deferred
    rule = transition(action)
    assert rule.to_status is not None
    changed = await change_status(
        conn,
        ctx,
        sequence_ids=locked,
        where=e.id.in_(ids),
        allowed_from=rule.allowed_from,
        to=rule.to_status,
        reason=reason or rule.to_reason,
        rule=rule_name,
    )
    if changed != len(ids):  # changed by someone while their message was out
        log.info("%s changed %d of %d enrollments", action, changed, len(ids))
    return set(ids), deferred


async def resume_due(conn: AsyncConnection, ctx: ChangeContext) -> int:
    """PAUSED enrollments whose resume-at has come, and those the rule whileActiveElsewhere
    paused whose contact is now busy in no other sequence, go back to ACTIVE, on their step,
    due when it would have been (the wait left at the pause, counted from now)."""
    dated = sa.and_(e.status == EnrollmentStatus.PAUSED, e.resume_at <= ctx.now)
    freed = [r[0] for r in await conn.execute(ready_to_resume())]
    resumed = await _resume(conn, ctx, dated, None)
    if freed:
        resumed += await _resume(conn, ctx, e.id.in_(freed), RULE)
    return resumed


async def _resume(
    conn: AsyncConnection, ctx: ChangeContext, ready: sa.ColumnElement[bool], rule: str | None
) -> int:
    # not in a sequence turned off or archived: it changes no status
    running = sa.select(sequences.c.id).where(
        sequences.c.active.is_(True), sequences.c.archived.is_(False)
    )
    ready = sa.and_(ready, e.sequence_id.in_(running))
    seq_ids = [r[0] for r in await conn.execute(sa.select(e.sequence_id).where(ready).distinct())]
    if not seq_ids:
        return 0
    locked = await try_lock(conn, seq_ids)
    if not locked:
        return 0
    transition_rule = transition(Action.RESUME)
    assert transition_rule.to_status is not None
    return await change_status(
        conn,
        ctx,
        sequence_ids=locked,
        where=sa.and_(ready, e.sequence_id.in_(locked)),
        allowed_from=transition_rule.allowed_from,
        to=transition_rule.to_status,
        reason=None,
        values=resumed_values(ResumeMode.KEEP_REMAINING_WAIT, ctx.now),
        rule=rule,
    )
