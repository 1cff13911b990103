"""The sequence rule `whileActiveElsewhere`: a step due for a contact who is ACTIVE,
PAUSED or NOT_SENT in another sequence is not sent; the enrollment becomes NOT_SENT
(BLOCKED_BY_RULE) or PAUSED (MANUAL), its event naming the rule. One grouped statement
per batch, only when a claimed row's sequence has the rule."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from seqgql.domain.kinds import WhileActiveElsewhere
from seqgql.domain.rules import Ruleset
from seqgql.domain.status import ACTIVE_ELSEWHERE
from seqgql.engine.claims import DueRow
from seqgql.persistence.tables import enrollments

RULE = "whileActiveElsewhere"


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
    e = enrollments.c
    found = await conn.execute(
        sa.select(e.contact_id, e.sequence_id)
        .where(
            e.contact_id.in_(sorted({r.contact_id for r in candidates})),
            e.status.in_(sorted(ACTIVE_ELSEWHERE)),
        )
        .distinct()
    )
    active_in: dict[int, set[int]] = {}
    for contact_id, sequence_id in found:
        active_in.setdefault(contact_id, set()).add(sequence_id)
    blocked: dict[WhileActiveElsewhere, list[DueRow]] = {}
    for row in candidates:
        if active_in.get(row.contact_id, set()) - {row.sequence_id}:
            blocked.setdefault(_choice(row), []).append(row)
    return blocked
