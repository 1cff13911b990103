"""The Redis broker restarted under two live `seqgql serve` replicas (a redis-server of the
test's own).

Subscribers follow a sequence on one replica; a driver changes enrollments through the
other without pause, and goes on while Redis is down (those changes are published into
the void), then stops. Polling is 60 s, so what the subscribers receive after that came
from the listener's catch-up when Redis was back: each must have the sequence's whole
log, once, in order, without reconnecting. The time from Redis back to every change
received is printed."""

from __future__ import annotations

import asyncio
import time

import pytest

from seqgql.events.log import EventCursor, last_number
from tests.helpers.factories import gid, make_enrolled
from tests.helpers.faults import Driver, Followers, problems, spread
from tests.helpers.processes import PrivateRedis, Replica
from tests.helpers.workspace import Workspace

pytestmark = [pytest.mark.postgres_only, pytest.mark.faults]

SUBSCRIBERS = 5


async def test_a_redis_restart_loses_nothing_and_duplicates_nothing(
    two_replicas: list[Replica], redis_server: PrivateRedis, workspace: Workspace, db, clock
) -> None:
    writer, reader = two_replicas
    seq, ids = await make_enrolled(db, clock, workspace.actor, 4)

    async def log_end() -> int:
        number = await last_number(db, workspace.actor.workspace_id, seq)
        assert number is not None
        return number

    enrolled = await log_end()
    driver = Driver(writer.base, workspace.token, ids)
    stop = asyncio.Event()
    start = EventCursor(seq, 0).encode()
    followers = Followers(
        SUBSCRIBERS, lambda: reader.http, workspace.token, gid("Sequence", seq), start
    )
    async with followers:
        await followers.reach(enrolled, 20, "catching up")
        driving = asyncio.create_task(driver.run(stop))
        try:
            await followers.reach(enrolled + 10, 20, "following the driver", driving)
            redis_server.stop()  # the broker goes away while subscribers listen
            down = time.monotonic()
            await followers.until(
                lambda _f: sum(1 for t in driver.done if t > down) >= 10, 20,
                "changing enrollments while Redis is down", driving,
            )  # fmt: skip
        finally:
            stop.set()
            await driving
        last = await log_end()
        redis_server.start()  # back: the listener reconnects and catches up from the log
        up = time.monotonic()
        await followers.reach(last, 20, "receiving the changes made while Redis was down")
        received = [f.times[-1] - up for f in followers.all]
        await asyncio.sleep(0.3)  # anything more (a duplicate) would arrive now

    summary = (
        f"Redis restart: down {up - down:.2f} s; every change reached each subscriber "
        f"{spread(received)} after Redis was back"
    )
    print(summary)
    for i, follower in enumerate(followers.all):
        assert not problems(follower.numbers, last), f"{i}: {problems(follower.numbers, last)}"
        assert follower.connections == [reader.http], "no reconnect was needed"
