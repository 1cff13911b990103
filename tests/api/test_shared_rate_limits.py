"""Replicas that broadcast through Redis share each token's rate limits through it (a
private redis-server per test, so no two tests share counts): apps in process on the
test's clock, and real `seqgql serve` processes reading the settings from their
environment. When Redis stops answering, requests are still answered, counted per
replica, and the sharing resumes when it is back."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import timedelta

import httpx
import pytest

from seqgql.app import create_app
from seqgql.clock import FrozenClock
from seqgql.outbound.transport import RecordingTransport
from seqgql.services import rate_limits
from seqgql.settings import Settings
from tests.helpers.graphql_client import GraphQLClient
from tests.helpers.processes import PrivateRedis, replicas
from tests.helpers.workspace import Workspace

QUERY = "{ viewer { id } }"


@pytest.fixture
async def apps(
    database_url: str,
    clock: FrozenClock,
    transport: RecordingTransport,
    workspace: Workspace,
    redis_server: PrivateRedis,
) -> AsyncIterator[list[GraphQLClient]]:
    """Two apps on the test's database and Redis, 4 requests per token and window."""
    settings = Settings(
        database_url=database_url,
        broadcast_url=redis_server.url,
        auto_migrate=False,
        run_engine=False,
        rate_limit_requests=4,
        rate_limit_cost=0,
    )
    async with AsyncExitStack() as stack:
        clients = []
        for _ in range(2):
            app = create_app(settings, clock=clock, transport=transport)
            await stack.enter_async_context(app.router.lifespan_context(app))
            http = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://testserver"
                )
            )
            clients.append(GraphQLClient(http, workspace.token))
        yield clients


def remaining(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return response.headers["x-ratelimit-requests-remaining"]


async def test_two_replicas_spend_one_budget(apps: list[GraphQLClient], clock: FrozenClock) -> None:
    one, two = apps
    assert [remaining(await one.post(QUERY)), remaining(await two.post(QUERY))] == ["3", "2"]
    assert remaining(await one.post(QUERY)) == "1"
    assert remaining(await two.post(QUERY)) == "0"
    for replica in (one, two):
        refused = await replica.post(QUERY)
        assert refused.status_code == 429
        assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    clock.advance(timedelta(minutes=1))  # a new window, on both
    assert remaining(await two.post(QUERY)) == "3"
    assert remaining(await one.post(QUERY)) == "2"


async def test_redis_going_away_fails_no_request(
    apps: list[GraphQLClient],
    redis_server: PrivateRedis,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rate_limits, "REDIS_RETRY_SECONDS", 1.0)
    one, two = apps
    assert remaining(await one.post(QUERY)) == "3"
    redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="seqgql.rate_limits"):
        # each replica counts on its own meanwhile
        assert [remaining(await one.post(QUERY)) for _ in range(2)] == ["3", "2"]
        assert remaining(await two.post(QUERY)) == "3"
    warnings = [r for r in caplog.records if "Redis does not answer" in r.getMessage()]
    assert len(warnings) == 2  # once per replica, not once per request
    redis_server.start()
    await asyncio.sleep(1.1)  # then each replica asks Redis again
    assert remaining(await one.post(QUERY)) == "3"  # a fresh Redis: counting starts again
    assert remaining(await two.post(QUERY)) == "2"  # shared again


async def test_real_replicas_read_the_settings_and_share_the_budget(
    database_url: str, redis_server: PrivateRedis, workspace: Workspace
) -> None:
    """Two `seqgql serve` processes (the system clock: an hour's window, so one test does
    not straddle two), their rate limits read from the environment."""
    with replicas(
        2,
        DATABASE_URL=database_url,
        BROADCAST_URL=redis_server.url,
        RATE_LIMIT_WINDOW_SECONDS="3600",
        RATE_LIMIT_REQUESTS="3",
        RATE_LIMIT_COST="50",
        RATE_LIMIT_MAX_QUERY_COST="20",
    ) as (a, b):
        async with a.gql(workspace.token) as one, b.gql(workspace.token) as two:
            first = await one.post(QUERY)  # 2 points
            assert first.headers["x-ratelimit-limit"] == "50"
            assert first.headers["x-ratelimit-used"] == "2"
            assert remaining(first) == "2"
            reset = int(first.headers["x-ratelimit-reset"])
            assert reset % 3600 == 0 and 0 < reset - time.time() <= 3600
            costly = await two.post("{ contacts { edges { node { id } } } }")  # 151 > 20
            assert costly.json()["errors"][0]["extensions"]["maxCost"] == 20
            assert remaining(await one.post(QUERY)) == "0"  # shared: b's request counted
            refused = await two.post(QUERY)
            assert refused.status_code == 429
            assert 0 < int(refused.headers["retry-after"]) <= 3600
