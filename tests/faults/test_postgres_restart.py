"""A PostgreSQL server restarted under a live API: a cluster of the test's own
(`private_postgres`: initdb and pg_ctl as the postgres user, on a free port), never the
shared one.

Subscribers on the app see every change made before and after the restart, once and in
order, with nothing but a delay; requests during the outage answer a retryable
SERVICE_UNAVAILABLE; the first request after it succeeds. The recovery time is printed."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

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
from tests.helpers.factories import gid, make_enrolled
from tests.helpers.processes import PrivatePostgres
from tests.helpers.subscriptions import CHANGES, ack, connect, subscribe

pytestmark = [pytest.mark.postgres_only, pytest.mark.faults]


async def test_a_postgres_restart_loses_nothing_and_answers_retryable_errors(
    private_postgres: PrivatePostgres, clock: FrozenClock
) -> None:
    url = private_postgres.url
    await upgrade_async(url)
    writer = Database(url)
    issued = await issue_token(writer, clock, email="ops@example.com")
    actor = Actor(issued.workspace_id, issued.user_id, Role.ADMIN)
    seq, ids = await make_enrolled(writer, clock, actor, 6)
    settings = Settings(
        database_url=url, auto_migrate=False, run_engine=False, subscription_poll_seconds=0.2
    )
    app = create_app(settings, clock=clock)
    headers = {"authorization": f"Bearer {issued.token}"}
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://t", headers=headers
            ) as http,
            connect(app, issued.token) as ws,
        ):
            await ack(ws)
            await subscribe(ws, "c", CHANGES, {"seq": gid("Sequence", seq)})
            await asyncio.sleep(0.5)
            await pause(writer, clock, actor, Selection(ids=(ids[0],)))
            numbers = [await next_number(ws)]

            private_postgres.pg_ctl("-m", "fast", "stop")
            down = time.monotonic()
            during = await http.post("/graphql", json={"query": "{ sequences { totalCount } }"})
            codes = [e["extensions"]["code"] for e in during.json()["errors"]]
            assert codes == ["SERVICE_UNAVAILABLE"], during.text
            await asyncio.sleep(1.0)
            private_postgres.pg_ctl("start")
            await writer.dispose()
            for pk in ids[1:4]:
                await pause(writer, clock, actor, Selection(ids=(pk,)))
            while len(numbers) < 4:
                numbers.append(await next_number(ws))
            recovered = time.monotonic() - down
            assert numbers == [numbers[0] + i for i in range(4)]
            after = await http.post("/graphql", json={"query": "{ sequences { totalCount } }"})
            assert after.json() == {"data": {"sequences": {"totalCount": 1}}}
            print(f"PostgreSQL restart: every change delivered {recovered:.2f} s after the stop")
    finally:
        await writer.dispose()


async def next_number(ws: Any) -> int:
    while True:
        message = await asyncio.wait_for(ws.receive_json(), 20)
        if message["type"] == "ping":
            continue
        assert message["type"] == "next" and "errors" not in message["payload"], message
        return int(message["payload"]["data"]["enrollmentStatusChanged"]["number"])
