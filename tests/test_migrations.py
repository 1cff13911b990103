"""The migrations build exactly the schema the tables declare, on both databases."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from seqgql.persistence.database import Database
from seqgql.persistence.tables import metadata

# Created by the migration on PostgreSQL only, outside the table declarations.
EXTRA_INDEXES = {"ix_contacts_search_trgm"}


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return [
        d
        for d in compare_metadata(context, metadata)
        if not (d[0] == "remove_index" and d[1].name in EXTRA_INDEXES)
    ]


async def test_migrated_database_matches_the_tables(db: Database) -> None:
    async with db.engine.connect() as conn:
        differences = await conn.run_sync(_diff)
    assert differences == []
