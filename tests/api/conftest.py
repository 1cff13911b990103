"""The API tests' fixtures beyond the common ones (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from seqgql.app import create_app
from seqgql.clock import FrozenClock
from tests.helpers.graphql_client import GraphQLClient
from tests.helpers.tokens import token_cache
from tests.helpers.twilio import app_settings
from tests.helpers.workspace import Workspace


@pytest.fixture
async def twilio_app(
    database_url: str, clock: FrozenClock, twilio_url: str
) -> AsyncIterator[Starlette]:
    """The app configured for Twilio (tests.helpers.twilio.app_settings): SMS go to the
    local server at twilio_url, and its webhooks are served."""
    app = create_app(app_settings(database_url, twilio_url), clock=clock)
    token_cache(app).clock = clock
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def twilio_http(twilio_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=twilio_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def twilio_gql(twilio_http: httpx.AsyncClient, workspace: Workspace) -> GraphQLClient:
    return GraphQLClient(twilio_http, workspace.token)
