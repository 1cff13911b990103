"""The run's database servers: which backends the suite runs on, and PostgreSQL's admin."""

from __future__ import annotations

import asyncio
import os

import asyncpg

POSTGRES_URL = os.environ.get("SEQGQL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
BACKENDS = [b for b in os.environ.get("SEQGQL_TEST_BACKENDS", "sqlite,postgres").split(",") if b]


def postgres_problem() -> str | None:
    """Why PostgreSQL at POSTGRES_URL cannot be reached, or None when it can."""

    async def probe() -> None:
        conn = await asyncpg.connect(f"{POSTGRES_URL}/postgres", timeout=5)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def admin(sql: str) -> None:
    """Run ``sql`` on the server's postgres database (CREATE/DROP DATABASE)."""

    async def run() -> None:
        conn = await asyncpg.connect(f"{POSTGRES_URL}/postgres")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())
