"""The token cache shares one look-up among the callers that ask at the same moment
(10,000 websockets opened, or looked at again, together are one read, not 10,000); a
caller cancelled while it reads costs the others nothing."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event

from seqgql.persistence.database import Database
from seqgql.services.auth import TokenCache
from tests.helpers.workspace import Workspace


def token_reads(db: Database) -> list[str]:
    """The SELECTs of api_tokens the database is sent from now on."""
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "api_tokens" in statement:
            seen.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", before)
    return seen


async def test_callers_at_the_same_moment_share_one_read(
    db: Database, workspace: Workspace
) -> None:
    cache = TokenCache(db)
    reads = token_reads(db)
    actors = await asyncio.gather(*(cache.authenticate(workspace.token) for _ in range(50)))
    assert actors == [workspace.actor] * 50
    assert len(reads) == 1


async def test_a_reader_cancelled_midway_leaves_the_others_their_answer(
    db: Database, workspace: Workspace
) -> None:
    cache = TokenCache(db)
    first = asyncio.create_task(cache.authenticate(workspace.token))
    await asyncio.sleep(0)  # it has started reading
    others = [asyncio.create_task(cache.authenticate(workspace.token)) for _ in range(5)]
    await asyncio.sleep(0)  # they wait for its answer
    first.cancel()
    assert await asyncio.gather(*others) == [workspace.actor] * 5
    assert first.cancelled()
    assert await cache.authenticate(workspace.token) == workspace.actor
