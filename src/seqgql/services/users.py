"""Reading the workspace's users."""

from __future__ import annotations

import sqlalchemy as sa

from seqgql.persistence.database import Database
from seqgql.persistence.tables import users
from seqgql.persistence.types import Row
from seqgql.services.reads import Listing, rows_by_ids


async def users_by_ids(db: Database, workspace_id: int, ids: list[int]) -> dict[int, Row]:
    return await rows_by_ids(db, users, workspace_id, ids)


def user_listing(workspace_id: int) -> Listing:
    """The workspace's users, by name in any case (for a keyset page)."""
    sort_key = sa.func.lower(users.c.name).label("sort_key")
    query = sa.select(users, sort_key).where(users.c.workspace_id == workspace_id)
    return Listing(query, by="sort_key")
