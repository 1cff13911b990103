"""The migrations build exactly the schema the tables declare, on both databases."""

from __future__ import annotations

import asyncio
import uuid
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from seqgql.clock import FrozenClock
from seqgql.domain.kinds import Role
from seqgql.persistence.database import Database
from seqgql.persistence.migrate import upgrade
from seqgql.persistence.tables import metadata
from seqgql.services.actor import Actor
from seqgql.services.api_tokens import token_listing
from seqgql.services.auth import authenticate, hash_token
from seqgql.services.pagination import PageRequest
from tests.helpers.clocks import START
from tests.helpers.databases import POSTGRES_URL, admin

# Created by the migrations outside the table declarations: on PostgreSQL only, or
# expression indexes written per dialect.
EXTRA_INDEXES = {
    "ix_contacts_search_trgm",
    "ix_enrollments_seq_next_send",
    "ix_enrollments_seq_step_order",
}


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    with warnings.catch_warnings():
        # the expression indexes of EXTRA_INDEXES cannot be reflected: SQLAlchemy says so
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        found = compare_metadata(context, metadata)
    return [d for d in found if not (d[0] == "remove_index" and d[1].name in EXTRA_INDEXES)]


async def test_migrated_database_matches_the_tables(db: Database) -> None:
    async with db.engine.connect() as conn:
        differences = await conn.run_sync(_diff)
    assert differences == []


@asynccontextmanager
async def fresh_database(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of the backend's kind, dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"seqgql_migration_{uuid.uuid4().hex[:12]}"
    await asyncio.to_thread(admin, f"CREATE DATABASE {name}")
    try:
        yield f"{POSTGRES_URL}/{name}"
    finally:
        await asyncio.to_thread(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def test_tokens_made_before_0006_keep_working(backend: str, tmp_path: Path) -> None:
    """0006 gives existing tokens no prefix, no name, no expiry and their user's role."""
    async with fresh_database(backend, tmp_path) as url:
        await asyncio.to_thread(upgrade, url, "0005")
        db = Database(url)
        try:
            now = FrozenClock(START).now()
            async with db.write() as conn:
                await conn.execute(
                    sa.text(
                        "INSERT INTO workspaces (id, name, created_at) VALUES (1, 'Old', :now)"
                    ),
                    {"now": now},
                )
                await conn.execute(
                    sa.text(
                        "INSERT INTO users (id, workspace_id, name, email, role, created_at) "
                        "VALUES (1, 1, 'Old', 'old@example.com', 'MEMBER', :now)"
                    ),
                    {"now": now},
                )
                await conn.execute(
                    sa.text(
                        "INSERT INTO api_tokens (id, user_id, token_hash, created_at) "
                        "VALUES (1, 1, :hash, :now)"
                    ),
                    {"hash": hash_token("sqg_made-before-0006"), "now": now},
                )
            await db.dispose()
            await asyncio.to_thread(upgrade, url)
            actor = await authenticate(db, "sqg_made-before-0006", FrozenClock(START))
            assert actor == Actor(workspace_id=1, user_id=1, role=Role.MEMBER)
            (row,) = (await token_listing(1).page(db, PageRequest())).rows
            assert (row.prefix, row.name, row.role, row.expires_at, row.revoked_at) == (
                None, None, "MEMBER", None, None
            )  # fmt: skip
            assert row.last_used_at == START  # recorded by that use
        finally:
            await db.dispose()
