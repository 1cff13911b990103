"""The database going away for a moment (connections dropped, connections refused):
requests answer a retryable SERVICE_UNAVAILABLE, never "Internal server error." or a
traceback per request, websockets opening meanwhile are closed with 1013 (try again
later), and the next request after it comes back succeeds. PostgreSQL
only, on a database of the test's own (its connections are cut)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from httpx_ws import WebSocketDisconnect, aconnect_ws

from seqgql.app import create_app
from seqgql.clock import FrozenClock
from seqgql.domain.kinds import Role
from seqgql.domain.selection import Selection
from seqgql.persistence.database import Database
from seqgql.persistence.migrate import upgrade_async
from seqgql.services.actor import Actor
from seqgql.services.auth import issue_token
from seqgql.services.enrollments import pause
from seqgql.settings import Settings
from tests.helpers.databases import POSTGRES_URL
from tests.helpers.factories import gid, make_enrolled
from tests.helpers.subscriptions import (
    CHANGES,
    COUNTS,
    ack,
    connect,
    in_process_client,
    next_data,
    subscribe,
)

pytestmark = pytest.mark.postgres_only
VIEWER = {"query": "{ viewer { email } }"}


@pytest.fixture
async def private_url(backend: str) -> AsyncIterator[str]:
    name = f"seqgql_blip_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(f"{POSTGRES_URL}/postgres")
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        url = f"{POSTGRES_URL}/{name}"
        await upgrade_async(url)
        yield url
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


async def cut_connections(url: str, *, refuse: bool | None = None) -> None:
    name = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(f"{POSTGRES_URL}/postgres")
    try:
        if refuse is not None:
            await admin.execute(f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS {not refuse}")
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
    finally:
        await admin.close()


@pytest.mark.parametrize("cache", [60.0, 0.0], ids=["token-cached", "token-looked-up"])
async def test_a_database_blip_answers_retryable_errors_then_recovers(
    private_url: str, clock: FrozenClock, caplog: pytest.LogCaptureFixture, cache: float
) -> None:
    db = Database(private_url)
    token = (await issue_token(db, clock, email="ops@example.com")).token
    await db.dispose()
    settings = Settings(
        database_url=private_url, auto_migrate=False, run_engine=False, token_cache_seconds=cache
    )
    app = create_app(settings, clock=clock)
    headers = {"authorization": f"Bearer {token}"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t", headers=headers
        ) as http,
    ):
        assert (await http.post("/graphql", json=VIEWER)).json()["data"]["viewer"]
        with caplog.at_level(logging.WARNING):
            await cut_connections(private_url, refuse=True)  # down, and staying down
            for _ in range(3):
                response = await http.post("/graphql", json=VIEWER)
                body = response.json()
                codes = [e["extensions"]["code"] for e in body["errors"]]
                assert codes == ["SERVICE_UNAVAILABLE"], body
                assert response.status_code in (200, 503)
                assert "retry" in body["errors"][0]["message"]
            assert (await http.get("/readyz")).status_code == 503
        assert "Traceback" not in caplog.text
        assert "Internal server error" not in caplog.text

        await cut_connections(private_url, refuse=False)  # back
        assert (await http.post("/graphql", json=VIEWER)).json()["data"]["viewer"] == {
            "email": "ops@example.com"
        }


async def test_live_subscriptions_ride_out_a_database_blip(
    private_url: str, clock: FrozenClock
) -> None:
    """The client sees a delay, not an error: reads retry with backoff and the feed goes
    on from where it was."""
    db = Database(private_url)
    issued = await issue_token(db, clock, email="ops@example.com")
    actor = Actor(workspace_id=issued.workspace_id, user_id=issued.user_id, role=Role.ADMIN)
    seq, ids = await make_enrolled(db, clock, actor, 3)
    settings = Settings(
        database_url=private_url,
        auto_migrate=False,
        run_engine=False,
        subscription_poll_seconds=0.2,
    )
    app = create_app(settings, clock=clock)
    variables = {"seq": gid("Sequence", seq)}
    try:
        async with app.router.lifespan_context(app), connect(app, issued.token) as ws:
            await ack(ws)
            await subscribe(ws, "counts", COUNTS, variables)
            first = await next_data(ws)
            assert first["sequenceStatusCounts"]["total"] == 3
            await subscribe(ws, "changes", CHANGES, variables)
            await asyncio.sleep(0.5)  # the changes feed has read the log

            await cut_connections(private_url, refuse=True)
            await asyncio.sleep(1.5)  # every feed has tried to read meanwhile
            await cut_connections(private_url, refuse=False)
            await db.dispose()  # (its connections were cut too)
            await pause(db, clock, actor, Selection(ids=(ids[0],)))

            received: dict[str, Any] = {}
            while len(received) < 2:
                message = await asyncio.wait_for(ws.receive_json(), 10)
                if message["type"] == "ping":
                    continue
                assert message["type"] == "next", message
                assert "errors" not in message["payload"], message
                received[message["id"]] = message["payload"]["data"]
            change = received["changes"]["enrollmentStatusChanged"]
            assert (change["toStatus"], change["enrollment"]["id"]) == (
                "PAUSED",
                gid("Enrollment", ids[0]),
            )
            counts = {
                c["status"]: c["count"]
                for c in received["counts"]["sequenceStatusCounts"]["counts"]
            }
            assert (counts["ACTIVE"], counts["PAUSED"]) == (2, 1)
    finally:
        await db.dispose()


@pytest.mark.parametrize("subprotocol", ["graphql-transport-ws", "graphql-ws"])
async def test_a_websocket_that_connects_during_an_outage_is_told_to_retry_later(
    private_url: str, clock: FrozenClock, caplog: pytest.LogCaptureFixture, subprotocol: str
) -> None:
    """Its connection_init cannot be checked: the connection is closed with 1013 (try
    again later), one line is logged, and once the database is back it connects."""
    db = Database(private_url)
    token = (await issue_token(db, clock, email="ops@example.com")).token
    await db.dispose()
    settings = Settings(
        database_url=private_url, auto_migrate=False, run_engine=False, token_cache_seconds=0
    )
    app = create_app(settings, clock=clock)
    init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
    async with (
        app.router.lifespan_context(app),
        in_process_client(app) as client,
    ):
        with caplog.at_level(logging.WARNING):
            await cut_connections(private_url, refuse=True)
            for _ in range(2):
                async with aconnect_ws("/graphql", client, subprotocols=[subprotocol]) as ws:
                    await ws.send_json(init)
                    with pytest.raises(WebSocketDisconnect) as closed:
                        await asyncio.wait_for(ws.receive_json(), 10)
                    assert closed.value.code == 1013, closed.value
        assert "Traceback" not in caplog.text
        assert caplog.text.count("told to retry") == 2, caplog.text

        await cut_connections(private_url, refuse=False)
        async with aconnect_ws("/graphql", client, subprotocols=[subprotocol]) as ws:
            await ws.send_json(init)
            assert (await asyncio.wait_for(ws.receive_json(), 10))["type"] == "connection_ack"
