"""A slow endpoint and a dead one delay no healthy endpoint; the address is checked again
at each connection (DNS rebinding: a name that resolves to a private address after the
endpoint was saved gets nothing); and two `seqgql worker` processes deliver each event
once (PostgreSQL)."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from seqgql.clock import FrozenClock
from seqgql.domain.selection import Selection
from seqgql.domain.webhooks import WebhookEventType, WebhookRules
from seqgql.persistence.database import Database
from seqgql.persistence.migrate import upgrade_async
from seqgql.persistence.tables import webhook_deliveries
from seqgql.services.enrollments import pause
from seqgql.services.webhooks.endpoints import create_endpoint as create
from seqgql.webhooks.dispatcher import Dispatcher
from tests.helpers.databases import POSTGRES_URL, admin
from tests.helpers.factories import gid, make_enrolled
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.processes import seqgql, seqgql_env, stop_process
from tests.helpers.webhooks import create_endpoint, dead_url, deliveries, receiver, running
from tests.helpers.workspace import Workspace, make_workspace

pytestmark = pytest.mark.isolated_clock


async def test_slow_and_dead_endpoints_do_not_delay_a_healthy_one(
    local_gql: GraphQLClient,
    db: Database,
    clock: FrozenClock,
    workspace: Workspace,
    dispatcher: Dispatcher,
) -> None:
    sequences = [await make_enrolled(db, clock, workspace.actor, 10) for _ in range(3)]
    async with receiver() as healthy, receiver(delay=5) as slow:
        healthy_id, secret = await create_endpoint(local_gql, healthy.url)
        slow_id, _ = await create_endpoint(local_gql, slow.url)
        dead_id, _ = await create_endpoint(local_gql, dead_url())
        async with running(dispatcher):
            started = time.monotonic()
            for sequence, _ in sequences:
                paused = await mutate(
                    local_gql,
                    "pauseEnrollments",
                    {"selection": {"sequenceId": gid("Sequence", sequence)}},
                )
                assert paused["changedCount"] == 10
            await healthy.wait_for(30, seconds=5)
            took = time.monotonic() - started
            print(f"healthy endpoint: 30 events in {took:.2f} s beside a slow and a dead one")
            assert took < 1.9  # before the slow endpoint's first POST timed out (2 s)
            assert len(slow.received) <= 3  # one per sequence, each waiting for its answer
        assert len({r.verified(secret)["data"]["number"] for r in healthy.received}) <= 30
        dead = await deliveries(local_gql, dead_id)
        assert dead and {d["status"] for d in dead} == {"FAILED"}
        assert all("ConnectError" in d["error"] for d in dead)
        timed_out = await deliveries(local_gql, slow_id)
        assert timed_out and all("no answer within 2 s" in d["error"] for d in timed_out)
        assert len(await deliveries(local_gql, healthy_id)) == 30


async def test_the_address_is_checked_again_when_connecting(
    local_gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    """Saved while local addresses were allowed; a worker that does not allow them (the
    same as a name now resolving to 127.0.0.1) connects nowhere."""
    sequence, _ = await make_enrolled(db, clock, workspace.actor, 1)
    strict = Dispatcher(db, clock, allow_private=False)
    try:
        async with receiver() as hooks:
            endpoint_id, _ = await create_endpoint(
                local_gql, hooks.url.replace("127.0.0.1", "localhost")
            )
            await mutate(
                local_gql,
                "pauseEnrollments",
                {"selection": {"sequenceId": gid("Sequence", sequence)}},
            )
            assert await strict.run_until_idle() == 1
            assert hooks.received == []
        (refused,) = await deliveries(local_gql, endpoint_id)
        assert refused["status"] == "FAILED" and "public addresses only" in refused["error"]
    finally:
        await strict.close()


@pytest.fixture
def own_database(backend: str) -> Iterator[str]:
    """A database of the test's own: the workers take every due lane they find."""
    if backend != "postgresql":
        pytest.skip("several worker processes share the work on PostgreSQL")
    name = f"seqgql_webhooks_{uuid.uuid4().hex[:12]}"
    admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_URL}/{name}"
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres_only
async def test_two_worker_processes_deliver_each_event_once(own_database: str) -> None:
    await upgrade_async(own_database)
    db = Database(own_database)
    clock = FrozenClock(datetime.now(UTC))  # the workers' clock is the system's
    workers: list[subprocess.Popen[bytes]] = []
    try:
        owner = await make_workspace(db, clock)
        sequences = [await make_enrolled(db, clock, owner.actor, 50) for _ in range(6)]
        async with receiver() as hooks:
            created = await create(
                db, clock, owner.actor, WebhookRules(allow_private=True),
                url=hooks.url, event_types=[WebhookEventType.ENROLLMENT_STATUS_CHANGED],
                sequence_ids=None,
            )  # fmt: skip
            assert created.errors == []
            env = seqgql_env(
                DATABASE_URL=own_database, AUTO_MIGRATE="false", BROADCAST_URL="memory://",
                WEBHOOK_ALLOW_PRIVATE="true", WEBHOOK_MAX_IN_FLIGHT="3",
                ENGINE_IDLE_SECONDS="0.1",
            )  # fmt: skip
            workers = [seqgql("worker", env=env, stderr=subprocess.DEVNULL) for _ in range(2)]
            for _, ids in sequences:
                result = await pause(db, clock, owner.actor, Selection(ids=tuple(ids)))
                assert result.changed_count == 50
                await asyncio.sleep(0.05)
            await hooks.wait_for(300, seconds=60)
            await asyncio.sleep(1)  # anything sent twice would have come by now
        counts = Counter(hooks.ids())
        assert len(counts) == 300 and set(counts.values()) == {1}
        async with db.read() as conn:
            attempts = (
                await conn.execute(sa.select(sa.func.count()).select_from(webhook_deliveries))
            ).scalar_one()
        assert attempts == 300
    finally:
        for worker in workers:
            stop_process(worker)
        await db.dispose()
