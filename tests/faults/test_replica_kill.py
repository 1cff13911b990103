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
import itertools
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from httpx_ws import HTTPXWSException

from seqgql.events.log import EventCursor, last_number
from seqgql.persistence.database import Database
from tests.helpers.bulk import ids_of
from tests.helpers.factories import gid, make_enrolled
from tests.helpers.graphql_client import mutate
from tests.helpers.processes import Replica
from tests.helpers.subscriptions import CHANGES, ack, connect, next_data, subscribe
from tests.helpers.workspace import Workspace

pytestmark = [pytest.mark.postgres_only, pytest.mark.faults]

SUBSCRIBERS = 20
# changes every subscriber has seen through Redis on A before the kill, and the driver's
# changes after every subscriber is back on B
BEFORE_KILL = 20
AFTER_RECOVERY = 20


@dataclass
class Subscriber:
    """One websocket client that follows the sequence and resumes from its last cursor."""

    cursor: str  # where it starts: `since` of its first subscription
    numbers: list[int] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)  # the replica each change came from
    connections: list[int] = field(default_factory=list)  # the replica of each connection
    first_on_b: float | None = None  # time.monotonic() of its first change from B

    @property
    def last(self) -> int:
        return self.numbers[-1] if self.numbers else 0

    async def follow(
        self, replica: Callable[[], Replica], b: Replica, token: str, sequence: str
    ) -> None:
        """Follow the sequence on ``replica()`` (A, then B once A is killed) until cancelled;
        on losing the connection, subscribe again with the last cursor received."""
        while True:
            target = replica()
            try:
                async with connect(target.http, token) as ws:
                    self.connections.append(target.port)
                    await ack(ws)
                    await subscribe(ws, "c", CHANGES, {"seq": sequence, "since": self.cursor})
                    while True:
                        change = (await next_data(ws, seconds=30))["enrollmentStatusChanged"]
                        if target is b and self.first_on_b is None:
                            self.first_on_b = time.monotonic()
                        self.numbers.append(change["number"])
                        self.ports.append(target.port)
                        self.cursor = change["cursor"]
            except (HTTPXWSException, httpx.TransportError, OSError):
                await asyncio.sleep(0.05)  # the replica went away: connect again


def problems(numbers: list[int], last: int) -> str:
    """What is wrong with what a subscriber received, against the log 1..last."""
    counts = Counter(numbers)
    lost = sorted(set(range(1, last + 1)) - counts.keys())
    duplicated = sorted(n for n, c in counts.items() if c > 1)
    backwards = sum(1 for x, y in itertools.pairwise(numbers) if y <= x)
    return (
        f"lost {len(lost)} {lost[:10]}, duplicated {len(duplicated)} {duplicated[:10]}, "
        f"out of order {backwards}"
    )


async def test_a_replica_killed_with_sigkill_loses_nothing_and_duplicates_nothing(
    two_replicas: list[Replica], workspace: Workspace, db: Database, clock: Any
) -> None:
    a, b = two_replicas
    seq, ids = await make_enrolled(db, clock, workspace.actor, 4)
    sequence = gid("Sequence", seq)
    enrolled = await last_number(db, workspace.actor.workspace_id, seq)
    assert enrolled  # adding the contacts wrote their first changes

    async def upto(count: int, seconds: float, why: str) -> None:
        """Wait until every subscriber has received change ``count``; fail after
        ``seconds`` (or at once, if a subscriber failed)."""
        deadline = time.monotonic() + seconds
        while any(s.last < count for s in subscribers):
            for task in tasks:
                if task.done():
                    task.result()  # a subscriber's own assertion fails the test
            assert time.monotonic() < deadline, (
                f"{why}: not every subscriber reached change {count} in {seconds} s: "
                f"{sorted(s.last for s in subscribers)}; {report()}"
            )
            await asyncio.sleep(0.02)

    killed: float | None = None

    def report() -> str:
        recoveries = [s.first_on_b - killed for s in subscribers if s.first_on_b and killed]
        if not recoveries:
            return "no subscriber has received a change from B"
        return (
            f"kill -9 of a replica: {len(recoveries)} of {SUBSCRIBERS} subscribers received "
            f"their first change from the other replica {statistics.median(recoveries):.3f} s "
            f"(p50) / {max(recoveries):.3f} s (max) after the kill"
        )

    # the driver: pauses and resumes pairs of enrollments through B, without pause
    driving = asyncio.Event()
    driving.set()
    made_after_kill = 0

    async def drive() -> None:
        nonlocal made_after_kill
        steps = [("pauseEnrollments", ids[:2]), ("pauseEnrollments", ids[2:]),
                 ("resumeEnrollments", ids[:2]), ("resumeEnrollments", ids[2:])]  # fmt: skip
        async with b.gql(workspace.token) as gql:
            for step in range(10_000):
                if not driving.is_set():
                    return
                name, pks = steps[step % len(steps)]
                payload = await mutate(gql, name, {"selection": ids_of(pks)})
                assert payload["changedCount"] == 2, payload
                made_after_kill += killed is not None
                await asyncio.sleep(0.02)

    # plain HTTP to B, from before the kill to the end
    answers: list[int] = []

    async def probe() -> None:
        async with httpx.AsyncClient(base_url=b.base, timeout=2) as http:
            while driving.is_set():
                answers.append((await http.get("/readyz")).status_code)
                await asyncio.sleep(0.05)

    start = EventCursor(seq, 0).encode()  # from the start of the sequence's log
    subscribers = [Subscriber(start) for _ in range(SUBSCRIBERS)]
    target = a
    tasks = [
        asyncio.create_task(s.follow(lambda: target, b, workspace.token, sequence))
        for s in subscribers
    ]
    workers: list[asyncio.Task[None]] = []
    try:
        await upto(enrolled, 20, "catching up on A")
        workers = [asyncio.create_task(drive()), asyncio.create_task(probe())]
        await upto(enrolled + BEFORE_KILL, 20, "following the driver on A, through Redis")

        target = b  # from now on, whoever connects goes to B
        killed = time.monotonic()
        a.kill()
        deadline = killed + 20
        while any(s.first_on_b is None for s in subscribers):
            assert time.monotonic() < deadline, f"not back in 20 s: {report()}"
            for task in [*tasks, *workers]:
                if task.done():
                    task.result()
            await asyncio.sleep(0.01)
        resumed = await last_number(db, workspace.actor.workspace_id, seq)
        assert resumed is not None
        await upto(resumed + AFTER_RECOVERY, 20, "following the driver on B")

        driving.clear()
        await asyncio.gather(*workers)  # the driver and the probe met no error
        last = await last_number(db, workspace.actor.workspace_id, seq)
        assert last is not None
        await upto(last, 20, "receiving the last change")
        await asyncio.sleep(0.3)  # anything extra (a duplicate) would arrive now
    finally:
        driving.clear()
        for task in [*tasks, *workers]:
            task.cancel()
        await asyncio.gather(*tasks, *workers, return_exceptions=True)

    summary = report()
    print(summary)
    for i, s in enumerate(subscribers):
        assert s.numbers == list(range(1, last + 1)), (
            f"subscriber {i}: {problems(s.numbers, last)}; {summary}"
        )
        on_a = s.ports.count(a.port)
        assert enrolled + BEFORE_KILL <= on_a < last, f"subscriber {i}: {on_a} changes on A"
        assert s.connections[0] == a.port and s.connections[-1] == b.port, s.connections
    assert made_after_kill >= AFTER_RECOVERY // 2, made_after_kill
    assert len(answers) > 20 and set(answers) == {200}, answers
