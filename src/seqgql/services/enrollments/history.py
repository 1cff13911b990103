"""An enrollment's history: what was sent to the contact and what came back."""

from __future__ import annotations

import sqlalchemy as sa

from seqgql.persistence.database import Database
from seqgql.persistence.tables import activities
from seqgql.persistence.types import Row
from seqgql.services.pagination import Page, decode_id_cursor, encode_cursor, page_size


async def activity_page(
    db: Database, workspace_id: int, enrollment_id: int, *, first: int | None, after: str | None
) -> Page[Row]:
    """An enrollment's history, oldest first."""
    size = page_size(first)
    query = sa.select(activities).where(
        activities.c.workspace_id == workspace_id, activities.c.enrollment_id == enrollment_id
    )
    if after is not None:
        query = query.where(activities.c.id > decode_id_cursor(after))
    async with db.read() as conn:
        rows = list((await conn.execute(query.order_by(activities.c.id).limit(size + 1))).all())
    return Page(
        rows=rows[:size],
        has_next=len(rows) > size,
        cursors=[encode_cursor([r.id]) for r in rows[:size]],
    )


async def activity_counts(db: Database, workspace_id: int, enrollment_id: int) -> int:
    async with db.read() as conn:
        return int(
            (
                await conn.execute(
                    sa.select(sa.func.count()).where(
                        activities.c.workspace_id == workspace_id,
                        activities.c.enrollment_id == enrollment_id,
                    )
                )
            ).scalar_one()
        )


async def activity_by_id(db: Database, workspace_id: int, activity_id: int) -> Row | None:
    async with db.read() as conn:
        query = sa.select(activities).where(
            activities.c.workspace_id == workspace_id, activities.c.id == activity_id
        )
        return (await conn.execute(query)).first()
