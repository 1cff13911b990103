"""Recording activities: each one a row of ``activities`` and an event of its sequence's
log, numbered after the sequence's last event, in the caller's transaction.

The one way anything records an activity (the engine's sends and failures, provider
reports, sendMessage): subscribers to ``enrollmentActivity`` and webhooks read them from
the log with the same guarantees as status changes. Three statements whatever the
number of rows: the sequences locked (in id order; a caller already holding them
waits for nothing), the activities inserted, their events inserted; then the sequences'
last numbers advanced."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from seqgql.domain.kinds import ActivityKind
from seqgql.persistence.database import mark_sequences_changed
from seqgql.persistence.tables import activities, events, sequences
from seqgql.services.enrollments.transitions import lock_sequences


@dataclass(frozen=True, slots=True)
class NewActivity:
    workspace_id: int
    sequence_id: int
    enrollment_id: int
    kind: ActivityKind
    at: datetime
    step: int | None = None
    detail: str | None = None
    actor_id: int | None = None


async def record_activities(conn: AsyncConnection, new: Sequence[NewActivity]) -> list[int]:
    """Insert the activities and their events (in the order given); their ids."""
    if not new:
        return []
    bases = await lock_sequences(conn, {a.sequence_id for a in new})
    inserted = await conn.execute(
        activities.insert().returning(activities.c.id, sort_by_parameter_order=True),
        [
            {
                "workspace_id": a.workspace_id,
                "enrollment_id": a.enrollment_id,
                "kind": a.kind,
                "step": a.step,
                "at": a.at,
                "detail": a.detail,
            }
            for a in new
        ],
    )
    ids = [r[0] for r in inserted]
    numbers: dict[int, int] = defaultdict(int)
    rows = []
    for a, activity_id in zip(new, ids, strict=True):
        numbers[a.sequence_id] += 1
        rows.append(
            {
                "workspace_id": a.workspace_id,
                "sequence_id": a.sequence_id,
                "number": bases[a.sequence_id] + numbers[a.sequence_id],
                "enrollment_id": a.enrollment_id,
                "to_status": None,
                "actor_id": a.actor_id,
                "at": a.at,
                "to_step": a.step,
                "activity": a.kind,
                "activity_id": activity_id,
            }
        )
    await conn.execute(events.insert(), rows)
    await conn.execute(
        sequences.update()
        .where(sequences.c.id == sa.bindparam("sid"))
        .values(last_event_number=sa.bindparam("last")),
        [{"sid": s, "last": bases[s] + n} for s, n in numbers.items()],
    )
    mark_sequences_changed(conn, numbers)
    return ids
