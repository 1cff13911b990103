"""An enrollment's history: what was sent to the contact and what came back."""

from __future__ import annotations

import sqlalchemy as sa

from seqgql.persistence.database import Database
from seqgql.persistence.tables import activities
from seqgql.persistence.types import Row
from seqgql.services.pagination import Page, PageRequest
from seqgql.services.reads import Listing


async def activity_page(
    db: Database, workspace_id: int, enrollment_id: int, request: PageRequest
) -> Page[Row]:
    """An enrollment's history, oldest first."""
    query = sa.select(activities).where(
        activities.c.workspace_id == workspace_id, activities.c.enrollment_id == enrollment_id
    )
    return await Listing(query).page(db, request)


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
