"""Reading bulk operations after the fact: their records, the status changes each made
(the event log, by operation), and the enrollments those changes touched."""

from __future__ import annotations

import sqlalchemy as sa

from seqgql.persistence.database import Database
from seqgql.persistence.tables import bulk_operations, enrollments, events
from seqgql.persistence.types import Row
from seqgql.services.reads import Listing, rows_by_ids


async def operations_by_ids(db: Database, workspace_id: int, ids: list[int]) -> dict[int, Row]:
    return await rows_by_ids(db, bulk_operations, workspace_id, ids)


def operation_event_listing(workspace_id: int, operation_id: int) -> Listing:
    """The status changes an operation made, in the order they were made."""
    return Listing(
        sa.select(events).where(
            events.c.bulk_operation_id == operation_id, events.c.workspace_id == workspace_id
        )
    )


async def changed_enrollments(
    db: Database, workspace_id: int, operation_id: int, limit: int
) -> list[Row]:
    """The enrollments an operation changed the status of (as they are now), lowest id
    first, at most ``limit``."""
    changed = (
        sa.select(events.c.enrollment_id)
        .where(events.c.bulk_operation_id == operation_id, events.c.workspace_id == workspace_id)
        .distinct()
        .order_by(events.c.enrollment_id)
        .limit(limit)
        .subquery()
    )
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(enrollments)
            .join(changed, changed.c.enrollment_id == enrollments.c.id)
            .order_by(enrollments.c.id)
        )
        return list(rows)
