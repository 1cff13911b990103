"""Alembic environment: runs migrations through the async engine on either database."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from seqgql.persistence.database import Database
from seqgql.persistence.tables import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            await conn.run_sync(_run)
            await conn.commit()
    finally:
        await db.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    asyncio.run(_run_async(config.get_main_option("sqlalchemy.url") or ""))


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `seqgql migrate`")
run_migrations_online()
