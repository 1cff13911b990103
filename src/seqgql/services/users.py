"""Reading the workspace's users."""

from __future__ import annotations

from seqgql.persistence.database import Database
from seqgql.persistence.tables import users
from seqgql.persistence.types import Row
from seqgql.services.reads import all_rows, rows_by_ids


async def users_by_ids(db: Database, workspace_id: int, ids: list[int]) -> dict[int, Row]:
    return await rows_by_ids(db, users, workspace_id, ids)


async def all_users(db: Database, workspace_id: int) -> list[Row]:
    return await all_rows(db, users, workspace_id, users.c.name)
