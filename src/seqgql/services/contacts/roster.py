"""Reading contacts: by ids (for batch loaders) and the searchable list."""

from __future__ import annotations

import sqlalchemy as sa

from seqgql.persistence.database import Database
from seqgql.persistence.tables import contacts
from seqgql.persistence.types import Row
from seqgql.services.reads import Listing, like_pattern, rows_by_ids


async def contacts_by_ids(db: Database, workspace_id: int, ids: list[int]) -> dict[int, Row]:
    return await rows_by_ids(db, contacts, workspace_id, ids)


def contact_listing(workspace_id: int, search: str | None) -> Listing:
    """The workspace's contacts, those whose name or email contains ``search`` if given."""
    query = sa.select(contacts).where(contacts.c.workspace_id == workspace_id)
    if search and search.strip():
        query = query.where(contacts.c.search_text.like(like_pattern(search.strip()), escape="\\"))
    return Listing(query)
