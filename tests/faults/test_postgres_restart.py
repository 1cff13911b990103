"""A PostgreSQL server restarted under a live API: a cluster of the test's own
(`private_postgres`: initdb and pg_ctl as the postgres user, on a free port), never the
shared one.

Subscribers on the app see every change made before and after the restart, once and in
order, with nothing but a delay; requests during the outage answer a retryable
SERVICE_UNAVAILABLE; the first request after it succeeds. The recovery time is printed.

Then the same with real processes: two `seqgql serve` replicas on the private cluster,
broadcasting through it (LISTEN/NOTIFY, so the restart takes the broker down too),
subscribers on one and a driver changing enrollments through the other without pause."""

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
from seqgql.events.log import EventCursor, last_number
from seqgql.persistence.database import Database
from seqgql.persistence.migrate import upgrade_async
from seqgql.services.actor import Actor
from seqgql.services.auth import IssuedToken, issue_token
from seqgql.services.enrollments import pause
from seqgql.settings import Settings
from tests.helpers.factories import gid, make_enrolled
from tests.helpers.faults import Driver, Followers, problems, spread
from tests.helpers.processes import PrivatePostgres, replicas
from tests.helpers.subscriptions import CHANGES, ack, connect, subscribe

pytestmark = [pytest.mark.postgres_only, pytest.mark.faults]


async def test_a_postgres_restart_loses_nothing_and_answers_retryable_errors(
    private_postgres: PrivatePostgres, clock: FrozenClock
) -> None:
    url = private_postgres.url
    writer = Database(url)
    issued, actor = await migrated_with_a_user(url, writer, clock)
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


async def migrated_with_a_user(
    url: str, db: Database, clock: FrozenClock
) -> tuple[IssuedToken, Actor]:
    """The private cluster (at ``url``, ``db``) migrated, with a workspace and its admin's
    token."""
    await upgrade_async(url)
    issued = await issue_token(db, clock, email="ops@example.com")
    return issued, Actor(issued.workspace_id, issued.user_id, Role.ADMIN)


async def next_number(ws: Any) -> int:
    while True:
        message = await asyncio.wait_for(ws.receive_json(), 20)
        if message["type"] == "ping":
            continue
        assert message["type"] == "next" and "errors" not in message["payload"], message
        return int(message["payload"]["data"]["enrollmentStatusChanged"]["number"])


SUBSCRIBERS = 5


async def test_a_postgres_restart_under_two_serve_processes_loses_nothing(
    private_postgres: PrivatePostgres, clock: FrozenClock
) -> None:
    url = private_postgres.url
    db = Database(url)
    try:
        issued, actor = await migrated_with_a_user(url, db, clock)
        seq, ids = await make_enrolled(db, clock, actor, 4)
        enrolled = await last_number(db, actor.workspace_id, seq)
        assert enrolled is not None
    finally:
        await db.dispose()
    sequence = gid("Sequence", seq)
    with replicas(2, DATABASE_URL=url, BROADCAST_URL=url, SUBSCRIPTION_POLL_SECONDS="60") as (
        [a, b]
    ):
        driver = Driver(b.base, issued.token, ids, unavailable_ok=True)
        stop = asyncio.Event()
        start = EventCursor(seq, 0).encode()
        followers = Followers(SUBSCRIBERS, lambda: a.http, issued.token, sequence, start)
        async with followers:
            await followers.reach(enrolled, 20, "catching up")
            driving = asyncio.create_task(driver.run(stop))
            try:
                await followers.reach(enrolled + 10, 20, "following the driver", driving)
                private_postgres.pg_ctl("-m", "fast", "stop")
                down = time.monotonic()
                await asyncio.sleep(1.0)
                private_postgres.pg_ctl("start")
                up = time.monotonic()
                await followers.until(
                    lambda f: f.times[-1] > up, 30, "a change after the restart", driving
                )
                back = [next(t for t in f.times if t > up) - up for f in followers.all]
                await followers.until(
                    lambda _f: sum(1 for t in driver.done if t > up) >= 10, 20,
                    "the driver going on", driving,
                )  # fmt: skip
            finally:
                stop.set()
                await driving
            db = Database(url)
            try:
                last = await last_number(db, actor.workspace_id, seq)
                assert last is not None
            finally:
                await db.dispose()
            await followers.reach(last, 30, "receiving the last change")
            await asyncio.sleep(0.3)  # anything more (a duplicate) would arrive now
    summary = (
        f"PostgreSQL restart under two serve processes: down {up - down:.2f} s; the first "
        f"change after it reached each subscriber {spread(back)} after the server was back; "
        f"{driver.unavailable} mutations answered SERVICE_UNAVAILABLE meanwhile"
    )
    print(summary)
    for i, follower in enumerate(followers.all):
        assert not problems(follower.numbers, last), f"{i}: {problems(follower.numbers, last)}"
        assert follower.connections == [a.http], "the subscription rode it out, no reconnect"
    assert driver.unavailable > 0, summary
