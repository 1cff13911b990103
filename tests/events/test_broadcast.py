"""Cross-process wake-ups through real Redis and PostgreSQL brokers.

Two Broadcast objects with their own buses stand for two API processes.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from redis import asyncio as aioredis

from seqgql.app import create_app
from seqgql.clock import FrozenClock
from seqgql.events.broadcast import LISTENER_NAME, Broadcast, create_broadcast
from seqgql.events.bus import EventBus
from seqgql.persistence.database import Database
from seqgql.settings import Settings
from tests.helpers.bulk import PAUSE
from tests.helpers.databases import POSTGRES_URL
from tests.helpers.factories import gid, gids, make_enrolled
from tests.helpers.graphql_client import GraphQLClient
from tests.helpers.subscriptions import CHANGES, ack, connect, next_data, subscribe
from tests.helpers.workspace import Workspace

REDIS_URL = os.environ.get("SEQGQL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def _redis_problem() -> str | None:
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        await client.aclose()
    return None


@pytest.fixture(params=["redis", "postgres"])
async def broker_url(request: pytest.FixtureRequest, database_url: str) -> str:
    if request.param == "redis":
        problem = await _redis_problem()
        if problem:
            if os.environ.get("CI"):
                pytest.fail(f"Redis at {REDIS_URL} is required in CI: {problem}")
            pytest.skip(f"Redis not reachable at {REDIS_URL} ({problem})")
        return REDIS_URL
    if database_url.startswith("sqlite"):
        # LISTEN/NOTIFY needs PostgreSQL: use the run's PostgreSQL server itself
        return f"{POSTGRES_URL}/postgres"
    return database_url


@pytest.fixture
async def pair(broker_url: str) -> AsyncIterator[tuple[Broadcast, EventBus, Broadcast, EventBus]]:
    bus_a, bus_b = EventBus(), EventBus()
    a, b = create_broadcast(broker_url, bus_a), create_broadcast(broker_url, bus_b)
    await a.start()
    await b.start()
    await asyncio.wait_for(a.connected.wait(), 5)
    await asyncio.wait_for(b.connected.wait(), 5)
    yield a, bus_a, b, bus_b
    await a.stop()
    await b.stop()


async def woken(bus: EventBus, sequence_id: int) -> asyncio.Task[None]:
    task = asyncio.create_task(bus.wait(sequence_id, 30))
    await asyncio.sleep(0.05)  # the waiter is registered
    return task


async def test_a_commit_in_one_process_wakes_subscribers_in_another(pair) -> None:  # type: ignore[no-untyped-def]
    a, _bus_a, _b, bus_b = pair
    sequence_id = uuid.uuid4().int % 1_000_000
    waiting = await woken(bus_b, sequence_id)
    other = await woken(bus_b, sequence_id + 1)
    a.committed({sequence_id})
    await asyncio.wait_for(waiting, 5)
    await asyncio.sleep(0.2)
    assert not other.done(), "only the sequence that changed wakes its subscribers"
    other.cancel()


async def test_the_listener_comes_back_after_losing_its_connection(pair, broker_url: str) -> None:  # type: ignore[no-untyped-def]
    a, _bus_a, b, bus_b = pair
    waiting = await woken(bus_b, 42)
    await _cut_listeners(broker_url)
    # after reconnecting, every local subscriber is woken to catch up from the log
    await asyncio.wait_for(waiting, 10)
    await asyncio.wait_for(b.connected.wait(), 10)
    again = await woken(bus_b, 43)
    a.committed({43})
    await asyncio.wait_for(again, 5)


async def _cut_listeners(broker_url: str) -> None:
    if broker_url.startswith("redis"):
        client = aioredis.Redis.from_url(broker_url)
        try:
            killed = await client.client_kill_filter(_type="pubsub")
            assert killed >= 1
        finally:
            await client.aclose()
        return
    import asyncpg

    conn = await asyncpg.connect(broker_url)
    try:
        killed = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = $1 AND datname = current_database()",
            LISTENER_NAME,
        )
        assert killed >= 1
    finally:
        await conn.close()


async def test_a_mutation_on_one_app_reaches_a_subscriber_on_another(
    broker_url: str, database_url: str, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    """Two app instances on one database: with polling made too slow to matter (60 s),
    only the broker can carry the change to the other app's subscriber in time."""
    seq, ids = await make_enrolled(db, clock, workspace.actor, 2)
    settings = Settings(
        database_url=database_url, broadcast_url=broker_url, auto_migrate=False,
        subscription_poll_seconds=60,
    )  # fmt: skip
    writer, reader = create_app(settings, clock=clock), create_app(settings, clock=clock)
    async with (
        writer.router.lifespan_context(writer),
        reader.router.lifespan_context(reader),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=writer), base_url="http://w") as http,
    ):
        # the broker's first connection (both apps also start their engine and webhook
        # dispatcher: on a busy machine that can take seconds)
        await asyncio.wait_for(reader.state.broadcast.connected.wait(), 20)
        async with connect(reader, workspace.token) as ws:
            await ack(ws)
            await subscribe(ws, "1", CHANGES, {"seq": gid("Sequence", seq)})
            await asyncio.sleep(0.3)  # the subscription has read the log and waits
            client = GraphQLClient(http, workspace.token)
            paused = await client.execute(
                PAUSE, {"input": {"selection": {"ids": gids("Enrollment", ids)}}}
            )
            assert paused["pauseEnrollments"]["changedCount"] == 2
            first = (await next_data(ws))["enrollmentStatusChanged"]
            second = (await next_data(ws))["enrollmentStatusChanged"]
            assert {first["toStatus"], second["toStatus"]} == {"PAUSED"}
