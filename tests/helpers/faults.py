"""What the fault tests (tests/faults/) share: websocket subscribers that follow a sequence on
real servers and resume with `since`, a driver that changes enrollments through a server
without pause, and what is wrong with what a subscriber received."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx
from httpx_ws import HTTPXWSException

from tests.helpers.bulk import ids_of
from tests.helpers.graphql_client import GraphQLClient, mutation
from tests.helpers.subscriptions import CHANGES, ack, connect, next_data, subscribe


@dataclass
class Follower:
    """A websocket client following a sequence's changes. When its connection is lost it
    subscribes again, wherever ``target()`` says then, with `since` = the cursor of the
    last change it received."""

    cursor: str | None  # `since` of its first subscription
    numbers: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # when each change came (monotonic)
    sources: list[str] = field(default_factory=list)  # the server each change came from
    connections: list[str] = field(default_factory=list)  # the server of each connection
    firsts: dict[str, float] = field(default_factory=dict)  # server -> its first change's time

    @property
    def last(self) -> int:
        return self.numbers[-1] if self.numbers else 0

    async def follow(self, target: Callable[[], str], token: str, sequence: str) -> None:
        """Until cancelled; an error message or an end of the subscription fails it."""
        while True:
            url = target()
            try:
                async with connect(url, token) as ws:
                    self.connections.append(url)
                    await ack(ws)
                    await subscribe(ws, "c", CHANGES, {"seq": sequence, "since": self.cursor})
                    while True:
                        change = (await next_data(ws, seconds=60))["enrollmentStatusChanged"]
                        self.times.append(time.monotonic())
                        self.firsts.setdefault(url, self.times[-1])
                        self.numbers.append(change["number"])
                        self.sources.append(url)
                        self.cursor = change["cursor"]
            except (HTTPXWSException, httpx.TransportError, OSError):
                await asyncio.sleep(0.05)  # the server went away: connect again


class Followers:
    """``count`` followers of one sequence from ``cursor``, each in a task of its own while
    the ``async with`` lasts."""

    def __init__(
        self, count: int, target: Callable[[], str], token: str, sequence: str,
        cursor: str | None,
    ) -> None:  # fmt: skip
        self.all = [Follower(cursor) for _ in range(count)]
        self._start = lambda f: asyncio.create_task(f.follow(target, token, sequence))
        self.tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Followers:
        self.tasks = [self._start(f) for f in self.all]
        return self

    async def __aexit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def until(
        self, done: Callable[[Follower], bool], seconds: float, why: str,
        *others: asyncio.Task[Any], report: Callable[[], str] = str,
    ) -> None:  # fmt: skip
        """Wait until ``done`` holds for every follower; fail after ``seconds``, or as soon
        as a follower's task or one of ``others`` fails."""
        deadline = time.monotonic() + seconds
        while not all(done(f) for f in self.all):
            for task in [*self.tasks, *others]:
                if task.done():
                    task.result()
            assert time.monotonic() < deadline, (
                f"{why}: not done in {seconds} s; last changes received: "
                f"{sorted(f.last for f in self.all)}; {report()}"
            )
            await asyncio.sleep(0.01)

    async def reach(self, number: int, seconds: float, why: str, *others: asyncio.Task[Any],
                    report: Callable[[], str] = str) -> None:  # fmt: skip
        """Wait until every follower has received change ``number``."""
        await self.until(lambda f: f.last >= number, seconds, why, *others, report=report)


def problems(numbers: list[int], last: int) -> str:
    """What is wrong with changes received, against the whole log (1..last); '' if nothing."""
    counts = Counter(numbers)
    lost = sorted(set(range(1, last + 1)) - counts.keys())
    duplicated = sorted(n for n, c in counts.items() if c > 1)
    backwards = sum(1 for x, y in itertools.pairwise(numbers) if y <= x)
    extra = sorted(n for n in counts if not 1 <= n <= last)
    if not (lost or duplicated or backwards or extra):
        return ""
    return (
        f"lost {len(lost)} {lost[:10]}, duplicated {len(duplicated)} {duplicated[:10]}, "
        f"out of order {backwards}, beyond the log {extra[:10]}"
    )


def spread(seconds: list[float]) -> str:
    """p50 and max of some durations."""
    return f"{statistics.median(seconds):.3f} s (p50) / {max(seconds):.3f} s (max)"


class Driver:
    """Pauses and resumes pairs of (four) enrollments through one server, one mutation after
    the other, until ``stop`` is set. Every answer must be a success that changed its pair,
    or, when ``unavailable_ok``, a retryable SERVICE_UNAVAILABLE (counted)."""

    def __init__(self, base: str, token: str, ids: list[int], *, unavailable_ok: bool = False):
        assert len(ids) == 4
        self.base, self.token, self.unavailable_ok = base, token, unavailable_ok
        self.steps = [("pauseEnrollments", ids[:2]), ("pauseEnrollments", ids[2:]),
                      ("resumeEnrollments", ids[:2]), ("resumeEnrollments", ids[2:])]  # fmt: skip
        self.done: list[float] = []  # when each successful mutation was answered
        self.unavailable = 0

    async def run(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(base_url=self.base, timeout=10) as http:
            gql = GraphQLClient(http, self.token)
            for step in itertools.count():
                if stop.is_set():
                    return
                name, pks = self.steps[step % len(self.steps)]
                answer = await gql.post(mutation(name), {"input": {"selection": ids_of(pks)}})
                body = answer.json()
                if "errors" in body:
                    codes = {e.get("extensions", {}).get("code") for e in body["errors"]}
                    assert self.unavailable_ok and codes == {"SERVICE_UNAVAILABLE"}, body
                    self.unavailable += 1
                    await asyncio.sleep(0.1)
                    continue
                if not self.unavailable_ok:  # (else a change answered as unavailable may
                    # have been committed, and this one then finds its pair changed already)
                    assert body["data"][name]["changedCount"] == 2, body
                self.done.append(time.monotonic())
                await asyncio.sleep(0.02)
