"""Test fixtures: every test runs once on SQLite and once on PostgreSQL.

Each run creates its own databases (a temporary SQLite file; a PostgreSQL database with
a unique name) and drops them at the end. Tests isolate themselves by workspace: each
test gets a fresh workspace and an admin token.

PostgreSQL is at SEQGQL_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432).
Where it cannot be reached the PostgreSQL half is skipped with a clear message, except
when CI is set: then the run fails.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from seqgql.app import create_app
from seqgql.clock import FrozenClock
from seqgql.domain.kinds import Role
from seqgql.graphql import subscriptions
from seqgql.outbound.transport import RecordingTransport
from seqgql.persistence.database import Database
from seqgql.persistence.migrate import upgrade
from seqgql.services.actor import Actor
from seqgql.services.auth import issue_token
from seqgql.settings import Settings

POSTGRES_URL = os.environ.get("SEQGQL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
BACKENDS = [b for b in os.environ.get("SEQGQL_TEST_BACKENDS", "sqlite,postgres").split(",") if b]
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked postgres_only run only in the PostgreSQL half (deselected, not skipped)."""
    keep, drop = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        on_sqlite = params is not None and params.params.get("database_url") == "sqlite"
        (drop if on_sqlite and item.get_closest_marker("postgres_only") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _postgres_available() -> str | None:
    async def probe() -> None:
        conn = await asyncpg.connect(f"{POSTGRES_URL}/postgres", timeout=5)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A freshly migrated database for this run, dropped afterwards."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("sqlite") / "seqgql-test.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        yield url
        return
    problem = _postgres_available()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {POSTGRES_URL} is required in CI: {problem}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL} ({problem}); skipped PG half")
    name = f"seqgql_test_{uuid.uuid4().hex[:12]}"
    _admin(f"CREATE DATABASE {name}")
    url = f"{POSTGRES_URL}/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _admin(sql: str) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(f"{POSTGRES_URL}/postgres")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture
def backend(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
def transport() -> RecordingTransport:
    return RecordingTransport()


@pytest.fixture
async def app(
    database_url: str, clock: FrozenClock, transport: RecordingTransport
) -> AsyncIterator[Starlette]:
    application = create_app(
        Settings(
            database_url=database_url, auto_migrate=False, allowed_origins=[], run_engine=False
        ),
        clock=clock,
        transport=transport,
    )
    async with application.router.lifespan_context(application):
        yield application


@dataclass
class Workspace:
    name: str
    token: str
    actor: Actor


async def make_workspace(db: Database, clock: FrozenClock, role: Role = Role.ADMIN) -> Workspace:
    name = f"ws-{uuid.uuid4().hex[:10]}"
    issued = await issue_token(db, clock, email=f"admin@{name}.test", workspace=name, role=role)
    return Workspace(name, issued.token, Actor(issued.workspace_id, issued.user_id, role))


@pytest.fixture
async def workspace(db: Database, clock: FrozenClock) -> Workspace:
    return await make_workspace(db, clock)


class GraphQLClient:
    """Speaks GraphQL over HTTP to the ASGI app, as a browser or integrator would."""

    def __init__(self, http: httpx.AsyncClient, token: str | None) -> None:
        self.http = http
        self.token = token

    async def post(self, query: str, variables: dict[str, Any] | None = None, *,
                   token: str | None = None) -> httpx.Response:  # fmt: skip
        headers = (
            {"authorization": f"Bearer {token or self.token}"} if (token or self.token) else {}
        )
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    async def execute(self, query: str, variables: dict[str, Any] | None = None, *,
                      token: str | None = None) -> dict[str, Any]:  # fmt: skip
        """The `data` of a successful request; fails the test on any GraphQL error."""
        response = await self.post(query, variables, token=token)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]  # type: ignore[no-any-return]

    async def errors(
        self, query: str, variables: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        response = await self.post(query, variables)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body.get("errors"), body
        return body["errors"]  # type: ignore[no-any-return]


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def gql(http: httpx.AsyncClient, workspace: Workspace) -> GraphQLClient:
    return GraphQLClient(http, workspace.token)


@pytest.fixture
def log_readers(monkeypatch: pytest.MonkeyPatch) -> set[asyncio.Task[Any]]:
    """The tasks that have read the event log for a change subscription.

    A subscription without `since` follows the log from the position it read when it
    started; its first `events_after` comes after that read, so once a feed's task is in
    here, a change made now reaches it.
    """
    tasks: set[asyncio.Task[Any]] = set()
    original = subscriptions.events_after

    async def recording(*args: Any, **kwargs: Any) -> Any:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        return await original(*args, **kwargs)

    monkeypatch.setattr(subscriptions, "events_after", recording)
    return tasks
