"""An API replica killed with `kill -9` under its subscribers.

Two `seqgql serve` replicas share the test's PostgreSQL database and a Redis broker of the
test's own. Twenty websocket subscribers follow one sequence on replica A; a driver changes
enrollments through replica B without pause (the subscribers on A hear of them through
Redis); A is killed with SIGKILL mid-stream; each subscriber reconnects to B with `since`
= the cursor of the last change it received, and the driver goes on. Each subscriber must
end with exactly the sequence's whole log: every number from 1 to the last, once, in
order. B answers plain HTTP throughout. The recovery time (the kill to a subscriber's
first change from B) is printed, p50 and max.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from seqgql.events.log import EventCursor, last_number
from tests.helpers.factories import gid, make_enrolled
from tests.helpers.faults import Driver, Followers, problems, spread
from tests.helpers.processes import Replica
from tests.helpers.workspace import Workspace

pytestmark = [pytest.mark.postgres_only, pytest.mark.faults]

SUBSCRIBERS = 20
# changes every subscriber receives on A (through Redis) before the kill, and on B after
# every subscriber is back
BEFORE_KILL = 20
AFTER_RECOVERY = 20


async def test_a_replica_killed_with_sigkill_loses_nothing_and_duplicates_nothing(
    two_replicas: list[Replica], workspace: Workspace, db, clock
) -> None:
    a, b = two_replicas
    seq, ids = await make_enrolled(db, clock, workspace.actor, 4)
    sequence = gid("Sequence", seq)

    async def log_end() -> int:
        number = await last_number(db, workspace.actor.workspace_id, seq)
        assert number is not None
        return number

    enrolled = await log_end()  # adding the contacts wrote their first changes
    killed: float | None = None

    def report() -> str:
        back = [f.firsts[b.http] - killed for f in followers.all if killed and b.http in f.firsts]
        if not back:
            return "no subscriber has received a change from B"
        return (
            f"kill -9 of a replica: {len(back)} of {SUBSCRIBERS} subscribers received their "
            f"first change from the other replica {spread(back)} after the kill"
        )

    # plain HTTP to B, from before the kill to the end
    stop = asyncio.Event()
    answers: list[tuple[float, int]] = []  # (when, status)

    async def probe() -> None:
        async with httpx.AsyncClient(base_url=b.base, timeout=2) as http:
            while not stop.is_set():
                status = (await http.get("/readyz")).status_code
                answers.append((time.monotonic(), status))
                await asyncio.sleep(0.05)

    driver = Driver(b.base, workspace.token, ids)
    target = a  # where a subscriber connects: A, then B once A is killed
    start = EventCursor(seq, 0).encode()  # the start of the sequence's log
    followers = Followers(SUBSCRIBERS, lambda: target.http, workspace.token, sequence, start)
    async with followers:
        await followers.reach(enrolled, 20, "catching up on A")
        workers = [asyncio.create_task(driver.run(stop)), asyncio.create_task(probe())]
        try:
            await followers.reach(
                enrolled + BEFORE_KILL, 20, "following the driver on A through Redis", *workers
            )
            target = b
            killed = time.monotonic()
            a.kill()
            await followers.until(
                lambda f: b.http in f.firsts, 20, "back on B", *workers, report=report
            )
            resumed = await log_end()
            await followers.reach(
                resumed + AFTER_RECOVERY, 20, "following the driver on B", *workers
            )
        finally:
            stop.set()
            outcomes = await asyncio.gather(*workers, return_exceptions=True)
        for outcome in outcomes:  # the driver and the probe met no error
            if isinstance(outcome, BaseException):
                raise outcome
        last = await log_end()
        await followers.reach(last, 20, "receiving the last change", report=report)
        await asyncio.sleep(0.3)  # anything more (a duplicate) would arrive now

    summary = report()
    print(summary)
    for i, follower in enumerate(followers.all):
        assert not problems(follower.numbers, last), (
            f"subscriber {i}: {problems(follower.numbers, last)}; {summary}"
        )
        assert follower.numbers == list(range(1, last + 1))
        on_a = follower.sources.count(a.http)
        assert enrolled + BEFORE_KILL <= on_a < last, f"subscriber {i}: {on_a} changes from A"
        assert follower.connections[0] == a.http and follower.connections[-1] == b.http
    assert sum(1 for t in driver.done if t > killed) >= AFTER_RECOVERY // 2, "the driver went on"
    # B answered plain HTTP all along: before the kill and after it, always ready
    assert {status for _, status in answers} == {200}, answers
    assert any(t < killed for t, _ in answers) and any(t > killed for t, _ in answers), answers
