"""Embedded mode under write load: 32 clients sending bulk actions at once through the API
all get their answer. SQLite's busy timeout is lowered to 20 ms here, so a write that
waited for SQLite's lock, rather than for its turn in the process's queue, would fail."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette

from seqgql.app import create_app
from seqgql.clock import FrozenClock
from seqgql.outbound.transport import RecordingTransport
from seqgql.persistence import database
from seqgql.persistence.database import Database
from seqgql.persistence.tables import enrollments, events
from seqgql.settings import Settings
from tests.helpers.factories import gids, make_enrolled
from tests.helpers.graphql_client import BULK, GraphQLClient
from tests.helpers.workspace import Workspace

CLIENTS = 32
ROUNDS = 3
PER_CLIENT = 5
ACTIONS = ("pauseEnrollments", "resumeEnrollments")


pytestmark = pytest.mark.sqlite_only


@pytest.fixture
async def busy_app(
    database_url: str,
    clock: FrozenClock,
    transport: RecordingTransport,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Starlette]:
    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_MS", 20)
    settings = Settings(database_url=database_url, auto_migrate=False, run_engine=False)
    app = create_app(settings, clock=clock, transport=transport)
    async with app.router.lifespan_context(app):
        yield app


async def test_concurrent_bulk_writers_all_get_their_answer(
    busy_app: Starlette, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    seq, ids = await make_enrolled(db, clock, workspace.actor, CLIENTS * PER_CLIENT)
    transport = httpx.ASGITransport(app=busy_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        gql = GraphQLClient(http, workspace.token)

        async def client(mine: list[int]) -> list[Any]:
            answers = []
            for _ in range(ROUNDS):
                for name in ACTIONS:
                    type_name = name[0].upper() + name[1:] + "Input"
                    query = f"mutation($i: {type_name}!) {{ {name}(input: $i) {{ {BULK} }} }}"
                    selection = {"selection": {"ids": gids("Enrollment", mine)}}
                    response = await gql.post(query, {"i": selection})
                    body = response.json()
                    answers.append(body.get("errors") or body["data"][name]["changedCount"])
            return answers

        answers = await asyncio.gather(*(client(ids[i::CLIENTS]) for i in range(CLIENTS)))

    assert answers == [[PER_CLIENT] * (ROUNDS * len(ACTIONS))] * CLIENTS
    async with db.read() as conn:
        statuses = (
            await conn.execute(
                sa.select(enrollments.c.status, sa.func.count())
                .where(enrollments.c.sequence_id == seq)
                .group_by(enrollments.c.status)
            )
        ).all()
        changes = await conn.scalar(
            sa.select(sa.func.count()).where(
                events.c.sequence_id == seq, events.c.from_status.is_not(None)
            )
        )
    assert [(str(s), n) for s, n in statuses] == [("ACTIVE", CLIENTS * PER_CLIENT)]
    assert changes == CLIENTS * PER_CLIENT * ROUNDS * len(ACTIONS)


async def test_a_write_inside_a_write_of_the_same_task_is_refused_at_once(db: Database) -> None:
    """It would wait for its own turn forever (before the queue: for SQLite's busy
    timeout, then fail)."""
    async with db.write():
        with pytest.raises(RuntimeError, match="a write inside a write"):
            async with asyncio.timeout(5), db.write():
                pass
    async with db.write() as conn:  # and the queue goes on
        assert await conn.scalar(sa.text("SELECT 1")) == 1
