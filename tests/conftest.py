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
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from seqgql.app import create_app
from seqgql.clock import FrozenClock
from seqgql.graphql import subscriptions
from seqgql.outbound.transport import RecordingTransport
from seqgql.persistence.database import Database
from seqgql.persistence.migrate import upgrade
from seqgql.settings import Settings
from tests.helpers.clocks import START, isolated_clock
from tests.helpers.databases import BACKENDS, POSTGRES_URL, admin, postgres_problem
from tests.helpers.graphql_client import GraphQLClient
from tests.helpers.processes import (
    PrivatePostgres,
    PrivateRedis,
    Replica,
    postgres_program,
    replicas,
    require_programs,
)
from tests.helpers.smtp import RecordingHandler, smtp_server
from tests.helpers.tokens import token_cache
from tests.helpers.twilio import FakeTwilio, twilio_server
from tests.helpers.workspace import Workspace, make_workspace


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "isolated_clock: the test's clock is one of its own, weeks before any other test's "
        "(tests.helpers.clocks.isolated_clock), for tests that run the engine",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked postgres_only run only in the PostgreSQL half, and those marked
    sqlite_only only in the SQLite half (deselected, not skipped)."""
    keep, drop = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        backend = params.params.get("database_url") if params is not None else None
        other = {"sqlite": "postgres_only", "postgres": "sqlite_only"}.get(str(backend))
        (drop if other and item.get_closest_marker(other) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


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
    problem = postgres_problem()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {POSTGRES_URL} is required in CI: {problem}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL} ({problem}); skipped PG half")
    name = f"seqgql_test_{uuid.uuid4().hex[:12]}"
    admin(f"CREATE DATABASE {name}")
    url = f"{POSTGRES_URL}/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def backend(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


@pytest.fixture
def clock(request: pytest.FixtureRequest) -> FrozenClock:
    """START, or a clock of the test's own where it is marked isolated_clock."""
    if request.node.get_closest_marker("isolated_clock"):
        return isolated_clock()
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
    # tokens expire by the app's clock (create_app does not hand it to its token cache)
    token_cache(application).clock = clock
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def workspace(db: Database, clock: FrozenClock) -> Workspace:
    return await make_workspace(db, clock)


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


@pytest.fixture
def smtp_handler() -> RecordingHandler:
    return RecordingHandler()


@pytest.fixture
def smtp_port(smtp_handler: RecordingHandler) -> Iterator[int]:
    """A real SMTP server answering with smtp_handler; its port."""
    with smtp_server(smtp_handler) as port:
        yield port


@pytest.fixture
def fake_twilio() -> FakeTwilio:
    return FakeTwilio()


@pytest.fixture
def twilio_url(fake_twilio: FakeTwilio) -> Iterator[str]:
    """A local server speaking Twilio's Messages API as fake_twilio says; its base URL."""
    with twilio_server(fake_twilio) as url:
        yield url


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A redis-server of the test's own (PrivateRedis), stopped afterwards."""
    require_programs(PrivateRedis.program(), why="redis-server is")
    server = PrivateRedis(tmp_path)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def private_postgres(backend: str) -> Iterator[PrivatePostgres]:
    """A PostgreSQL cluster of the test's own (PrivatePostgres), removed afterwards."""
    require_programs(
        postgres_program("initdb"), postgres_program("pg_ctl"),
        why="PostgreSQL's server programs (initdb, pg_ctl) are",
    )  # fmt: skip
    server = PrivatePostgres()
    try:
        server.pg_ctl("start")
        yield server
    finally:
        server.remove()


@pytest.fixture
def broker(request: pytest.FixtureRequest, database_url: str) -> str:
    """Where real replicas broadcast: a private Redis, or PostgreSQL itself when a test
    parametrizes it (indirectly) with "postgres"."""
    if getattr(request, "param", "redis") == "postgres":
        return database_url
    return request.getfixturevalue("redis_server").url  # type: ignore[no-any-return]


@pytest.fixture
def two_replicas(database_url: str, broker: str) -> Iterator[list[Replica]]:
    """Two `seqgql serve` processes on the test's database, broadcasting through ``broker``.

    Polling is set to 60 s: within a test's time only the broker (or, after it comes
    back, the listener's catch-up) wakes a subscriber on the other replica."""
    with replicas(
        2, DATABASE_URL=database_url, BROADCAST_URL=broker, SUBSCRIPTION_POLL_SECONDS="60"
    ) as started:
        yield started
