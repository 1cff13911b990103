"""The webhook tests' fixtures: an app that lets endpoints be local (http on 127.0.0.1,
as WEBHOOK_ALLOW_PRIVATE=true does), a dispatcher on the test's clock, and the test's
endpoints removed afterwards (so that no later test's worker posts to them)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from seqgql.app import create_app
from seqgql.clock import FrozenClock
from seqgql.persistence.database import Database
from seqgql.persistence.tables import webhook_endpoints
from seqgql.settings import Settings
from seqgql.webhooks.dispatcher import Dispatcher
from tests.helpers.graphql_client import GraphQLClient
from tests.helpers.tokens import token_cache
from tests.helpers.workspace import Workspace


@pytest.fixture
async def local_app(database_url: str, clock: FrozenClock) -> AsyncIterator[Starlette]:
    settings = Settings(
        database_url=database_url,
        auto_migrate=False,
        run_engine=False,
        webhook_allow_private=True,
    )
    application = create_app(settings, clock=clock)
    token_cache(application).clock = clock
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def local_gql(
    local_app: Starlette, workspace: Workspace, db: Database
) -> AsyncIterator[GraphQLClient]:
    """GraphQL to an app that accepts local endpoints, as the workspace's admin."""
    transport = httpx.ASGITransport(app=local_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield GraphQLClient(http, workspace.token)
    async with db.write() as conn:
        await conn.execute(
            webhook_endpoints.delete().where(
                webhook_endpoints.c.workspace_id == workspace.actor.workspace_id
            )
        )


@pytest.fixture
async def dispatcher(db: Database, clock: FrozenClock) -> AsyncIterator[Dispatcher]:
    """A webhook worker on the test's clock, posting to local endpoints, 2 s deadline."""
    worker = Dispatcher(db, clock, allow_private=True, timeout=2.0, per_endpoint=4)
    yield worker
    await worker.close()
