"""The webhook worker: sends the event log to the endpoints, lane by lane.

Each leased lane (``lanes``) runs as a task of its own: its events go out one at a time,
in their order, each only after the one before it was accepted (a 2xx answer); a
failure stops the lane until its next attempt (``domain.webhooks.RETRY_SCHEDULE``).
Lanes of other sequences and other endpoints run beside it, up to ``concurrency`` at
once per worker and ``per_endpoint`` per endpoint (across workers), so a slow or dead
endpoint holds at most its own share and delays no one else. Every POST has a deadline
(``timeout``) for the whole exchange. The loop wakes when a sequence's log grows (the
event bus), when a lane finishes, and every ``idle_seconds``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from seqgql.clock import Clock, SystemClock
from seqgql.domain.webhooks import retry_delay
from seqgql.events.bus import EventBus
from seqgql.persistence.database import Database
from seqgql.persistence.types import Row
from seqgql.settings import Settings
from seqgql.webhooks.http11 import Client, Target
from seqgql.webhooks.lanes import (
    Attempt,
    Lane,
    Progress,
    add_new_sequences,
    claim_lanes,
    events_after,
    record,
)
from seqgql.webhooks.messages import Message, webhook_message
from seqgql.webhooks.posting import post
from seqgql.webhooks.signing import Signer

log = logging.getLogger("seqgql.webhooks")
# Seconds between looks for sequences created after an endpoint that gets every sequence.
_LOOK_FOR_SEQUENCES = 1.0
# Batches a lane sends before it gives its place to a lane that waits (longest first).
_TURN_BATCHES = 10


class Dispatcher:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        client: Client | None = None,
        allow_private: bool = False,
        timeout: float = 10.0,
        concurrency: int = 64,
        per_endpoint: int = 8,
        batch_size: int = 100,
        lease_seconds: float = 60.0,
        bus: EventBus | None = None,
        wall: Clock | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        # the signatures' timestamps: the real time, whatever ``clock`` says
        self.wall = wall or SystemClock()
        self.client = client or Client(allow_private=allow_private, max_idle=concurrency)
        self.timeout = timeout
        self.concurrency = concurrency
        self.per_endpoint = per_endpoint
        self.batch_size = batch_size
        self.lease = timedelta(seconds=lease_seconds)
        self.bus = bus
        self.owner = secrets.token_hex(8)
        self._stopping = False
        self._running: dict[tuple[int, int], asyncio.Task[int]] = {}
        self._looked_for_sequences = -_LOOK_FOR_SEQUENCES  # monotonic time

    @classmethod
    def from_settings(
        cls, db: Database, clock: Clock, settings: Settings, bus: EventBus | None = None
    ) -> Dispatcher:
        return cls(
            db,
            clock,
            allow_private=settings.webhook_allow_private,
            timeout=settings.webhook_timeout_seconds,
            concurrency=settings.webhook_concurrency,
            per_endpoint=settings.webhook_max_in_flight,
            lease_seconds=settings.webhook_lease_seconds,
            bus=bus,
        )

    async def close(self) -> None:
        await self.client.aclose()

    # ------------------------------------------------------------------ the loops

    async def run_once(self) -> int:
        """Claim the lanes due now and run them to their end; how many POSTs were made."""
        lanes = await self._claim(self.concurrency)
        done = await asyncio.gather(*(self._run_lane(lane) for lane in lanes))
        return sum(done)

    async def run_until_idle(self, max_rounds: int = 1_000) -> int:
        """Rounds until nothing is due (tests move their clock between calls)."""
        total = 0
        self._looked_for_sequences = -_LOOK_FOR_SEQUENCES
        for _ in range(max_rounds):
            lanes = await self._claim(self.concurrency)
            if not lanes:
                break
            total += sum(await asyncio.gather(*(self._run_lane(lane) for lane in lanes)))
        return total

    async def run_forever(self, stop: asyncio.Event, idle_seconds: float = 1.0) -> None:
        """Deliver until ``stop`` is set; the lanes running then end their current POST
        and record what they did."""
        stopped = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                woken = self.bus.any_waiter() if self.bus is not None else None
                free = self.concurrency - len(self._running)
                if free > 0:
                    try:
                        lanes = await self._claim(free, exclude=set(self._running))
                    except Exception:
                        log.exception("claiming webhook lanes failed; retrying")
                        lanes = []
                    for lane in lanes:
                        key = (lane.endpoint.id, lane.sequence_id)
                        self._running[key] = asyncio.create_task(self._run_lane(lane))
                        self._running[key].add_done_callback(self._finished(key))
                waits: set[asyncio.Future[Any]] = {stopped, *self._running.values()}
                if woken is not None and free > 0:
                    waits.add(asyncio.ensure_future(woken.wait()))
                done, _ = await asyncio.wait(
                    waits, timeout=idle_seconds, return_when=asyncio.FIRST_COMPLETED
                )
                for future in waits - done - {stopped, *self._running.values()}:
                    future.cancel()
        finally:
            self._stopping = True
            stopped.cancel()
            if self._running:
                await asyncio.wait(list(self._running.values()))

    def _finished(self, key: tuple[int, int]) -> Callable[[asyncio.Task[int]], None]:
        def forget(task: asyncio.Task[int]) -> None:
            self._running.pop(key, None)
            if not task.cancelled() and task.exception() is not None:
                log.error("a webhook lane failed", exc_info=task.exception())

        return forget

    async def _claim(self, limit: int, exclude: Iterable[tuple[int, int]] = ()) -> list[Lane]:
        now = self.clock.now()
        look = time.monotonic() - self._looked_for_sequences >= _LOOK_FOR_SEQUENCES
        async with self.db.write() as conn:
            if look:
                await add_new_sequences(conn)
                self._looked_for_sequences = time.monotonic()
            return await claim_lanes(
                conn,
                now,
                owner=self.owner,
                lease=self.lease,
                limit=limit,
                per_endpoint=self.per_endpoint,
                exclude=set(exclude),
            )

    # ------------------------------------------------------------------ one lane

    async def _run_lane(self, lane: Lane) -> int:
        """Send the lane's events in order until it is caught up, fails, is taken from
        this worker or the worker stops; returns how many POSTs were made."""
        signer = Signer(list(lane.endpoint.secrets))
        target = Target.parse(lane.endpoint.url)  # parsed once for the lane's POSTs
        number, attempts, posts = lane.number, lane.attempts, 0
        batches = 0
        try:
            while not self._stopping:
                async with self.db.read() as conn:
                    rows = await events_after(conn, lane.sequence_id, number, self.batch_size)
                if not rows:
                    break
                progress = Progress(number=number, attempts=attempts)
                posts += await self._send_batch(lane, target, signer, rows, progress)
                caught_up = len(rows) < self.batch_size and progress.number == rows[-1].number
                batches += 1
                # a long backlog gives way now and then: the endpoint's other lanes waiting
                # for a place (WEBHOOK_MAX_IN_FLIGHT) get theirs, this one is claimed again
                turn_over = batches >= _TURN_BATCHES
                finished = progress.failed or caught_up or turn_over or self._stopping
                held = await self._record(lane, progress, keep=not finished)
                number, attempts = progress.number, progress.attempts
                if finished or not held:
                    return posts
            await self._release(lane, number, attempts)
        except BaseException:
            with contextlib.suppress(Exception):
                await self._release(lane, number, attempts)
            raise
        return posts

    async def _send_batch(
        self, lane: Lane, target: Target, signer: Signer, rows: list[Row], progress: Progress
    ) -> int:
        """Send these events in order, each once the one before was accepted, into
        ``progress``; stop at a failure, or to renew the lease; how many POSTs."""
        renew_by = time.monotonic() + self.lease.total_seconds() / 3
        posts = 0
        for row in rows:
            message = webhook_message(row)
            if message is None or message.type.value not in lane.endpoint.event_types:
                progress.number = row.number  # not for this endpoint
                continue
            attempt = await self._post(
                lane, target, signer, message, row.number, progress.attempts + 1
            )
            posts += 1
            progress.attempts_made.append(attempt)
            if not attempt.succeeded:
                progress.attempts = attempt.attempt
                progress.failed = True
                delay = retry_delay(attempt.attempt)
                if delay is not None:
                    progress.next_attempt_at = self.clock.now() + delay
                break
            progress.number, progress.attempts = row.number, 0
            if self._stopping or time.monotonic() > renew_by:
                break
        return posts

    async def _record(self, lane: Lane, progress: Progress, *, keep: bool) -> bool:
        now = self.clock.now()
        async with self.db.write() as conn:
            done = await record(
                conn,
                lane,
                progress,
                now,
                owner=self.owner,
                lease_until=now + self.lease if keep else None,
            )
        if done.disabled:
            log.warning(
                "webhook endpoint %s disabled: no delivery succeeded for three days",
                lane.endpoint.id,
            )
        return done.held

    async def _release(self, lane: Lane, number: int, attempts: int) -> None:
        await self._record(lane, Progress(number=number, attempts=attempts), keep=False)

    async def _post(
        self,
        lane: Lane,
        target: Target,
        signer: Signer,
        message: Message,
        number: int,
        attempt: int,
    ) -> Attempt:
        headers = signer.headers(message.id, message.body, self.wall.now())
        attempted_at = self.clock.now()
        answer = await post(self.client, target, message.body, headers, self.timeout)
        return Attempt(
            sequence_id=lane.sequence_id,
            event_number=number,
            event_type=message.type.value,
            message_id=message.id,
            attempt=attempt,
            attempted_at=attempted_at,
            latency_ms=answer.latency_ms,
            status_code=answer.status_code,
            response=answer.response,
            error=answer.error,
        )
