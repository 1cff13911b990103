"""Reading the workspace's users."""

from __future__ import annotations

import sqlalchemy as sa

from seqgql.persistence.database import Database
from seqgql.persistence.tables import users
from seqgql.persistence.types import Row
from seqgql.services.reads import rows_by_ids


async def users_by_ids(db: Database, workspace_id: int, ids: list[int]) -> dict[int, Row]:
    return await rows_by_ids(db, users, workspace_id, ids)


async def all_users(db: Database, workspace_id: int) -> list[Row]:
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(users).where(users.c.workspace_id == workspace_id).order_by(users.c.name)
        )
        return list(rows)
