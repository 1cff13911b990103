"""The sequence rule `whileActiveElsewhere`: a step due for a contact who is ACTIVE,
PAUSED or NOT_SENT in another sequence is not sent; the enrollment becomes NOT_SENT
(BLOCKED_BY_RULE) or PAUSED (ACTIVE_IN_OTHER_SEQUENCE), its event naming the rule. One
grouped statement per batch, only when a claimed row's sequence has the rule.

A pause of the rule ends by itself: once the contact is busy in no other sequence, the
engine resumes the enrollment (``ready_to_resume``, read through a partial index that
holds only such pauses). An enrollment the rule paused does not count as busy, so two
sequences with the rule never wait for each other."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from seqgql.domain.kinds import WhileActiveElsewhere
from seqgql.domain.rules import Ruleset
from seqgql.domain.status import ACTIVE_ELSEWHERE, EnrollmentStatus, StatusReason
from seqgql.engine.claims import DueRow
from seqgql.persistence.tables import enrollments

# made once: setting up an alias's columns costs ~0.1-0.5 ms a statement
_OTHER = enrollments.alias("other")

RULE = "whileActiveElsewhere"
e = enrollments.c


def busy_elsewhere() -> sa.ColumnElement[bool]:
    """An enrollment still going through its sequence, other than a pause of this rule."""
    return sa.and_(
        e.status.in_(sorted(ACTIVE_ELSEWHERE)),
        sa.or_(e.reason.is_(None), e.reason != StatusReason.ACTIVE_IN_OTHER_SEQUENCE),
    )


def ready_to_resume() -> sa.Select[tuple[int]]:
    """The enrollments this rule paused whose contact is now busy in no other sequence."""
    other = _OTHER
    busy = (
        sa.select(other.c.id)
        .where(
            other.c.contact_id == e.contact_id,
            other.c.id != e.id,
            other.c.status.in_(sorted(ACTIVE_ELSEWHERE)),
            sa.or_(
                other.c.reason.is_(None),
                other.c.reason != StatusReason.ACTIVE_IN_OTHER_SEQUENCE,
            ),
        )
        .exists()
    )
    return sa.select(e.id).where(
        e.reason == StatusReason.ACTIVE_IN_OTHER_SEQUENCE,
        e.status == EnrollmentStatus.PAUSED,
        ~busy,
    )


def _choice(row: DueRow) -> WhileActiveElsewhere:
    if not row.rules:
        return WhileActiveElsewhere.SEND
    return Ruleset.from_json(row.rules).while_active_elsewhere


async def blocked_by_rule(
    conn: AsyncConnection, rows: list[DueRow]
) -> dict[WhileActiveElsewhere, list[DueRow]]:
    """The rows the rule keeps from sending, by what it does to them (SKIP, PAUSE)."""
    candidates = [r for r in rows if _choice(r) is not WhileActiveElsewhere.SEND]
    if not candidates:
        return {}
    found = await conn.execute(
        sa.select(e.contact_id, e.sequence_id)
        .where(e.contact_id.in_(sorted({r.contact_id for r in candidates})), busy_elsewhere())
        .distinct()
    )
    active_in: dict[int, set[int]] = {}
    for contact_id, sequence_id in found:
        active_in.setdefault(contact_id, set()).add(sequence_id)
    blocked: dict[WhileActiveElsewhere, list[DueRow]] = {}
    paused_here: dict[int, set[int]] = {}  # by contact: sequences this batch pauses
    for row in candidates:
        busy = active_in.get(row.contact_id, set()) - {row.sequence_id}
        if busy - paused_here.get(row.contact_id, set()):
            choice = _choice(row)
            blocked.setdefault(choice, []).append(row)
            if choice is WhileActiveElsewhere.PAUSE:
                paused_here.setdefault(row.contact_id, set()).add(row.sequence_id)
    return blocked
