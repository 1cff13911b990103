"""The sequence engine: advances ACTIVE enrollments whose next run has come, and fires
auto-resumes. A batch is claimed in one transaction; on PostgreSQL with FOR UPDATE SKIP
LOCKED, so several workers share the work without taking the same row.

A status change (finished with no response, not sent, opted out, resumed) goes through
the same set-based path as the mutations, so it writes its events and reaches
subscribers. It needs its sequence's lock; while claiming, a worker never waits for one
(a bulk action holding it may be waiting for rows this worker claimed): it takes the
locks it can get at once and leaves the other rows due for its next batch.

Messages for an outside transport (SMTP, an SMS gateway) are sent after the claiming
transaction has written each one's key and committed (``engine.intents``), and each
outcome is recorded as it comes (``engine.outcomes``): a worker killed mid-batch can send
again at most the messages it had in flight. A transport that sends nothing (the
recording default) is used inside the claiming transaction. A sequence's per-sender daily
limit (``engine.limits``) holds the steps over it until the next day's window.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from seqgql.clock import Clock
from seqgql.domain.kinds import WaitingFor, WhileActiveElsewhere
from seqgql.domain.schedule import next_send_time
from seqgql.domain.sequence import SendingWindow
from seqgql.domain.status import Action, StatusReason
from seqgql.engine.changes import ASIDE_SECONDS, change_claimed, resume_due
from seqgql.engine.claims import DueRow, claim_due, try_lock
from seqgql.engine.contact_caps import ContactCaps
from seqgql.engine.intents import GroupCommit, mark_sending, renew, take_back
from seqgql.engine.limits import DailyLimits, next_day_opening
from seqgql.engine.outcomes import Done, RetryRules, record_outcomes, writes_events
from seqgql.engine.planning import Plan, plan
from seqgql.engine.rule_blocks import RULE, blocked_by_rule
from seqgql.engine.stats import BatchStats, count_steps
from seqgql.outbound.sending import Result, Stopping, deliver
from seqgql.outbound.transport import QUICK_RETRY, OutboundMessage, RetryPolicy, Transport
from seqgql.persistence.database import Database
from seqgql.persistence.tables import contacts, enrollments
from seqgql.services.enrollments.transitions import ChangeContext
from seqgql.settings import Settings

log = logging.getLogger("seqgql.engine")

# At most this many rows set aside (``engine.changes``) are remembered.
_MAX_ASIDE = 5_000
# Seconds between tries to record outcomes while the database is away (then give up:
# the steps keep their keys and are taken up again once their lease has run out).
_RECORD_RETRY = (0.2, 0.5, 1.0, 2.0, 4.0, None)
# Seconds before outcomes whose rows or sequence another transaction holds are tried again.
_BUSY_WAIT = 0.02
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
        send_lease_seconds: float = 60.0,
    ) -> None:
        self.db = db
        self.clock = clock
        self.transport = transport
        self.batch_size = batch_size
        self.send_concurrency = send_concurrency
        self.retry = retry
        self.rules = RetryRules(max_send_attempts, retry_after_minutes)
        self.send_lease_seconds = send_lease_seconds
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
            send_lease_seconds=settings.engine_send_lease_seconds,
        )

    async def run_once(self, stop: asyncio.Event | None = None) -> BatchStats:
        """Process one batch of due work; returns what it did (and counts it in the
        metrics). Once ``stop`` is set, no further message of the batch is started; what
        was sent is recorded."""
        stats = BatchStats()
        await self._batch(stats, stop)
        count_steps(stats)  # what was committed (a batch that failed counts nothing)
        return stats

    async def _batch(self, stats: BatchStats, stop: asyncio.Event | None) -> None:
        async with self.db.write() as conn:
            now = self.clock.now()
            ctx = ChangeContext(workspace_id=0, actor_id=None, bulk_operation_id=None, now=now)
            stats.resumed += await resume_due(conn, ctx)
            rows = await self._claim(conn, now)
            external = getattr(self.transport, "external", True)
            if rows and not external:
                rows = await self._with_sequences_held(conn, rows, stats)
            if not rows:
                return
            sends = await self._apply(conn, ctx, plan(rows, now), stats)
            if sends and not external:
                # nothing leaves the process: the batch's transaction records it all
                results = await self._send(sends, stop)
                done = [(r, m, res) for (r, m), res in zip(sends, results, strict=True)]
                await record_outcomes(conn, ctx, done, self.rules, stats, self._aside)
                return
            if sends:
                await mark_sending(conn, sends, self._lease_end())
        if sends:
            await self._send_and_record(ctx, sends, stats, stop)

    async def run_until_idle(self, max_batches: int = 10_000) -> BatchStats:
        """Batches until nothing is due (tests and the demo use it with a moved clock)."""
        total = BatchStats()
        for _ in range(max_batches):
            stats = await self.run_once()
            total.add(stats)
            if stats.processed == 0 and stats.resumed == 0:
                if not stats.deferred:
                    break
                await asyncio.sleep(_BUSY_WAIT)  # another holds their sequence: in a moment
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

    async def _with_sequences_held(
        self, conn: AsyncConnection, rows: list[DueRow], stats: BatchStats
    ) -> list[DueRow]:
        """The rows whose sequences this transaction could lock at once (it records their
        sends, which write events); the others give way for a moment: a bulk action holds
        their sequence, and may be waiting for these very rows."""
        held = set(await try_lock(conn, sorted({row.sequence_id for row in rows})))
        until = time.monotonic() + ASIDE_SECONDS
        busy = [row for row in rows if row.sequence_id not in held]
        self._aside.update(dict.fromkeys((row.id for row in busy), until))
        stats.deferred += len(busy)
        return [row for row in rows if row.sequence_id in held]

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
        self, conn: AsyncConnection, ctx: ChangeContext, plan: Plan, stats: BatchStats
    ) -> list[tuple[DueRow, OutboundMessage]]:
        """Status changes and waits; the messages the daily limits allow, to be sent."""
        blocked = await blocked_by_rule(conn, [row for row, _ in plan.sends])
        if blocked:
            held = {r.id for rows in blocked.values() for r in rows}
            plan.sends = [(row, m) for row, m in plan.sends if row.id not in held]
            for choice, (rule_action, rule_reason) in _RULE_CHANGES.items():
                if kept := blocked.get(choice):
                    changed, deferred = await change_claimed(
                        conn, ctx, rule_action, rule_reason, kept, self._aside, rule_name=RULE
                    )
                    stats.not_sent += len(changed)
                    stats.deferred += deferred
        limits = DailyLimits(ctx.now)
        await limits.load(conn, [row for row, _ in plan.sends])
        caps = ContactCaps(ctx.now)
        await caps.load(conn, [row for row, _ in plan.sends])
        sends = []
        waits = dict.fromkeys(plan.reschedule, WaitingFor.SENDING_WINDOW)
        for row, message in plan.sends:
            if not caps.take(row):
                opening = next_send_time(caps.tomorrow(), _window(row), row.time_zone)
                plan.reschedule[row.id] = opening
                waits[row.id] = WaitingFor.CONTACT_DAILY_CAP
                stats.held += 1
            elif limits.take(row):
                sends.append((row, message))
            else:
                caps.give_back(row)
                plan.reschedule[row.id] = next_day_opening(row, ctx.now)
                waits[row.id] = WaitingFor.DAILY_LIMIT
                stats.held += 1
        await limits.save(conn)
        if plan.reschedule:
            await conn.execute(
                enrollments.update()
                .where(e.id == sa.bindparam("eid"))
                .values(next_run_at=sa.bindparam("at"), waiting_for=sa.bindparam("why")),
                [{"eid": k, "at": v, "why": waits[k]} for k, v in plan.reschedule.items()],
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
        return sends

    async def _send(
        self,
        sends: list[tuple[DueRow, OutboundMessage]],
        stop: Stopping | None,
        settle: Callable[[int, Result], Awaitable[None]] | None = None,
    ) -> list[Result]:
        return await deliver(
            self.transport,
            [m for _, m in sends],
            stop=stop,
            concurrency=self.send_concurrency,
            retry=self.retry,
            settle=settle,
        )

    async def _record(self, ctx: ChangeContext, done: list[Done], stats: BatchStats) -> None:
        """Record these outcomes, those a bulk action holds a moment later, through a
        database blip (then give up: the steps keep their keys, and are taken up again
        once their lease has run out)."""
        changing = {d[0].id for d in done if writes_events(d)}
        waits = iter(_RECORD_RETRY)
        give_up = time.monotonic() + self.send_lease_seconds
        while done:
            try:
                async with self.db.write() as conn:
                    mine, later = await take_back(conn, [(r, m) for r, m, _ in done], changing)
                    owned = [d for d in done if d[0].id in mine]
                    await record_outcomes(conn, ctx, owned, self.rules, stats, self._aside)
            except Exception:
                wait = next(waits)
                if wait is None:
                    raise
                log.warning("recording sends failed; again in %.1fs", wait)
                await asyncio.sleep(wait)
                continue
            done = [d for d in done if d[0].id in later]
            if done:
                if time.monotonic() > give_up:
                    raise TimeoutError(f"enrollments {sorted(later)} stayed locked")
                await asyncio.sleep(_BUSY_WAIT)

    def _lease_end(self) -> datetime:
        return self.clock.now() + timedelta(seconds=self.send_lease_seconds)

    async def _send_and_record(
        self,
        ctx: ChangeContext,
        sends: list[tuple[DueRow, OutboundMessage]],
        stats: BatchStats,
        stop: asyncio.Event | None,
    ) -> None:
        """Send (the keys are committed) and record each outcome as it comes, a few at a
        time: a message's place goes to the next one once its outcome is committed."""
        out = {row.id for row, _ in sends}
        halt = _Halt(stop)

        async def write(done: list[Done]) -> None:
            try:
                await self._record(ctx, done, stats)
            finally:
                out.difference_update(row.id for row, _, _ in done)

        recorder: GroupCommit[Done] = GroupCommit(write)

        async def settle(i: int, result: Result) -> None:
            try:
                await recorder.add((*sends[i], result))
            except Exception:
                # left with its key: taken up again once the lease has run out
                log.exception("cannot record sends; the worker stops sending this batch")
                halt.halted = True

        async def keep_lease() -> None:
            while out:
                await asyncio.sleep(self.send_lease_seconds / 3)
                with contextlib.suppress(Exception):
                    async with self.db.write() as conn:
                        await renew(conn, sorted(out), self._lease_end())

        keeper = asyncio.create_task(keep_lease())
        try:
            await self._send(sends, halt, settle)
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper


class _Halt:
    """Set when the worker is stopping, or when this batch can no longer record."""

    def __init__(self, stop: asyncio.Event | None) -> None:
        self.stop = stop
        self.halted = False

    def is_set(self) -> bool:
        return self.halted or (self.stop is not None and self.stop.is_set())


def _window(row: DueRow) -> SendingWindow | None:
    return SendingWindow.from_json(row.sending_window) if row.sending_window else None


# what the rule whileActiveElsewhere does to a step it keeps from sending
_RULE_CHANGES = {
    WhileActiveElsewhere.SKIP: (Action.SKIP_STEP, StatusReason.BLOCKED_BY_RULE),
    WhileActiveElsewhere.PAUSE: (Action.PAUSE, StatusReason.ACTIVE_IN_OTHER_SEQUENCE),
}
