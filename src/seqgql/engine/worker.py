"""The sequence engine: advances ACTIVE enrollments whose next run has come, and fires
auto-resumes. Each batch is one transaction; on PostgreSQL the batch is claimed with
FOR UPDATE SKIP LOCKED, so several workers share the work without sending twice.

A status change (finished with no response, not sent, opted out, resumed) goes through
the same set-based path as the mutations, so it writes its events and reaches
subscribers. It needs its sequence's lock; a worker never waits for one (a bulk action
holding it may be waiting for rows this worker claimed): it takes the locks it can get
at once and leaves the other rows due for its next batch.

Messages go to the transport inside the batch's transaction, before anything is written,
so what is recorded is what happened to each one (``outbound.sending``): sent (recorded,
next step scheduled), refused (BOUNCED for an email, FAILED for an SMS), a transient
failure (tried again later with backoff; FAILED after ``max_send_attempts``), or not tried
because the worker is stopping (left due, untouched). A sequence's per-sender daily limit
(``engine.limits``) holds the steps over it until the next day's window.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from seqgql.clock import Clock
from seqgql.domain.kinds import ActivityKind
from seqgql.domain.status import Action
from seqgql.engine.changes import change_claimed, resume_due
from seqgql.engine.claims import DueRow, claim_due
from seqgql.engine.limits import DailyLimits, next_day_opening
from seqgql.engine.planning import Plan, plan
from seqgql.engine.recording import record_sent
from seqgql.engine.stats import BatchStats
from seqgql.outbound.sending import Outcome, Result, deliver, failure_kind
from seqgql.outbound.transport import QUICK_RETRY, RetryPolicy, Transport
from seqgql.persistence.database import Database
from seqgql.persistence.tables import activities, contacts, enrollments
from seqgql.services.enrollments.transitions import ChangeContext
from seqgql.settings import Settings

log = logging.getLogger("seqgql.engine")

# At most this many rows set aside (``engine.changes``) are remembered.
_MAX_ASIDE = 5_000
e = enrollments.c
c = contacts.c


class Engine:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        transport: Transport,
        *,
        batch_size: int = 500,
        send_concurrency: int = 10,
        retry: RetryPolicy = QUICK_RETRY,
        max_send_attempts: int = 8,
        retry_after_minutes: int = 5,
    ) -> None:
        self.db = db
        self.clock = clock
        self.transport = transport
        self.batch_size = batch_size
        self.send_concurrency = send_concurrency
        self.retry = retry
        self.max_send_attempts = max_send_attempts
        self.retry_after_minutes = retry_after_minutes
        # enrollments whose status change had to wait for a sequence lock, until when
        self._aside: dict[int, float] = {}

    @classmethod
    def from_settings(
        cls, db: Database, clock: Clock, transport: Transport, settings: Settings
    ) -> Engine:
        return cls(
            db,
            clock,
            transport,
            batch_size=settings.engine_batch_size,
            send_concurrency=settings.engine_send_concurrency,
            max_send_attempts=settings.engine_max_send_attempts,
        )

    async def run_once(self, stop: asyncio.Event | None = None) -> BatchStats:
        """Process one batch of due work; returns what it did. Once ``stop`` is set, no
        further message of the batch is started; what was sent is recorded."""
        stats = BatchStats()
        async with self.db.write() as conn:
            now = self.clock.now()
            ctx = ChangeContext(workspace_id=0, actor_id=None, bulk_operation_id=None, now=now)
            stats.resumed += await resume_due(conn, ctx)
            rows = await self._claim(conn, now)
            if rows:
                planned = plan(rows, now)
                await self._apply(conn, ctx, planned, stats, stop)
        return stats

    async def run_until_idle(self, max_batches: int = 10_000) -> BatchStats:
        """Batches until nothing is due (tests and the demo use it with a moved clock)."""
        total = BatchStats()
        for _ in range(max_batches):
            stats = await self.run_once()
            total.add(stats)
            if stats.processed == 0 and stats.resumed == 0:
                break
        return total

    async def run_forever(self, stop: asyncio.Event, idle_seconds: float = 1.0) -> None:
        """Work until ``stop`` is set. The batch in progress sends no further message and
        commits what it sent: nothing is lost and nothing is sent twice."""
        while not stop.is_set():
            try:
                stats = await self.run_once(stop)
            except Exception:
                log.exception("engine batch failed; retrying")
                stats = BatchStats()
            if stats.processed == 0 and stats.resumed == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), idle_seconds)

    async def _claim(self, conn: AsyncConnection, now: datetime) -> list[DueRow]:
        """Claim a batch of due rows. DueRows whose status change was deferred lately are set
        aside while other rows are due, so they cannot fill every batch."""
        clock = time.monotonic()
        self._aside = {i: t for i, t in self._aside.items() if t > clock}
        if self._aside:
            rows = await claim_due(conn, now, self.batch_size, list(self._aside)[-_MAX_ASIDE:])
            if rows:
                return rows
        return await claim_due(conn, now, self.batch_size, [])

    async def _apply(
        self,
        conn: AsyncConnection,
        ctx: ChangeContext,
        plan: Plan,
        stats: BatchStats,
        stop: asyncio.Event | None,
    ) -> None:
        if plan.sends:
            await self._deliver(conn, ctx, plan, stats, stop)
        if plan.reschedule:
            await conn.execute(
                enrollments.update()
                .where(e.id == sa.bindparam("eid"))
                .values(next_run_at=sa.bindparam("at")),
                [{"eid": k, "at": v} for k, v in plan.reschedule.items()],
            )
            stats.rescheduled += len(plan.reschedule)
        for (action, reason), rows in plan.changes.items():
            changed, deferred = await change_claimed(conn, ctx, action, reason, rows, self._aside)
            stats.deferred += deferred
            if action is Action.COMPLETE:
                stats.completed += len(changed)
            elif action is Action.OPT_OUT:
                stats.opted_out += len(changed)
            else:
                stats.not_sent += len(changed)

    async def _deliver(
        self,
        conn: AsyncConnection,
        ctx: ChangeContext,
        plan: Plan,
        stats: BatchStats,
        stop: asyncio.Event | None,
    ) -> None:
        """Send what the daily limits allow, then record what became of each message."""
        limits = DailyLimits(ctx.now)
        await limits.load(conn, [row for row, _ in plan.sends])
        sends = []
        for row, message in plan.sends:
            if limits.take(row):
                sends.append((row, message))
            else:
                plan.reschedule[row.id] = next_day_opening(row, ctx.now)
                stats.held += 1
        results = await deliver(
            self.transport,
            [m for _, m in sends],
            stop=stop,
            concurrency=self.send_concurrency,
            retry=self.retry,
        )
        by_outcome: dict[Outcome, list[tuple[DueRow, Result]]] = defaultdict(list)
        for (row, _), result in zip(sends, results, strict=True):
            by_outcome[result.outcome].append((row, result))
            if result.outcome is not Outcome.SENT:
                limits.give_back(row)
        await limits.save(conn)

        sent = [send for send, r in zip(sends, results, strict=True) if r.outcome is Outcome.SENT]
        await record_sent(conn, ctx.now, sent)
        stats.sent += len(by_outcome[Outcome.SENT])
        stats.not_attempted += len(by_outcome[Outcome.NOT_ATTEMPTED])
        for row, _ in by_outcome[Outcome.MISCONFIGURED]:
            plan.reschedule[row.id] = ctx.now + timedelta(minutes=self.retry_after_minutes)
        given_up: list[tuple[DueRow, Result]] = []
        retry = []
        for row, result in by_outcome[Outcome.RETRY]:
            if row.send_attempts + 1 >= self.max_send_attempts:
                given_up.append((row, result))
            else:
                backoff = self.retry_after_minutes * 2**row.send_attempts
                retry.append({"eid": row.id, "at": ctx.now + timedelta(minutes=backoff)})
        if retry:
            await conn.execute(
                enrollments.update()
                .where(e.id == sa.bindparam("eid"))
                .values(next_run_at=sa.bindparam("at"), send_attempts=e.send_attempts + 1),
                retry,
            )
            stats.retried += len(retry)
        # refused for good: an email bounced, an SMS failed; never got through: failed
        bounced: list[tuple[DueRow, Result]] = []
        failed = given_up
        for row, result in by_outcome[Outcome.REFUSED]:
            assert row.channel is not None
            kind = failure_kind(Outcome.REFUSED, row.channel)
            (bounced if kind is ActivityKind.BOUNCED else failed).append((row, result))
        await self._refuse(conn, ctx, bounced, Action.BOUNCE, stats)
        await self._refuse(conn, ctx, failed, Action.FAIL, stats)

    async def _refuse(
        self,
        conn: AsyncConnection,
        ctx: ChangeContext,
        refused: list[tuple[DueRow, Result]],
        action: Action,
        stats: BatchStats,
    ) -> None:
        """BOUNCED (an email) or FAILED: the status change, and the answer as activity."""
        if not refused:
            return
        changed, deferred = await change_claimed(
            conn, ctx, action, None, [r for r, _ in refused], self._aside
        )
        stats.deferred += deferred
        kind = ActivityKind.BOUNCED if action is Action.BOUNCE else ActivityKind.FAILED
        activity = [
            {
                "workspace_id": row.workspace_id,
                "enrollment_id": row.id,
                "kind": kind,
                "step": row.current_step,
                "at": ctx.now,
                "detail": (result.detail or "")[:500],
            }
            for row, result in refused
            if row.id in changed
        ]
        if activity:
            await conn.execute(activities.insert(), activity)
        if action is Action.BOUNCE:
            stats.bounced += len(activity)
        else:
            stats.failed += len(activity)
