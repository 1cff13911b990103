"""The sequence engine: advances ACTIVE enrollments whose next run has come, and fires
auto-resumes. Each batch is one transaction; on PostgreSQL the batch is claimed with
FOR UPDATE SKIP LOCKED, so several workers share the work without sending twice.

A status change (finished with no response, not sent, opted out, resumed) goes through
the same set-based path as the mutations, so it writes its events and reaches
subscribers. It needs its sequence's lock; a worker never waits for one (a bulk action
holding it may be waiting for rows this worker claimed): it takes the locks it can get
at once and leaves the other rows due for its next batch.

Messages go to the transport inside the batch's transaction, before anything is written,
so what is recorded is what happened to each one (``engine.delivery``): sent (recorded,
next step scheduled), refused (BOUNCED for an email, FAILED for an SMS), a transient
failure (tried again later with backoff; FAILED after ``max_send_attempts``), or not tried
because the worker is stopping (left due, untouched). A sequence's per-sender daily limit
(``engine.limits``) holds the steps over it until the next day's window.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import defaultdict, namedtuple
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from seqgql.clock import Clock
from seqgql.domain.kinds import ActivityKind, StepChannel, Unreachable, unreachable
from seqgql.domain.schedule import next_send_time, step_due
from seqgql.domain.sequence import SendingWindow
from seqgql.domain.status import Action, EnrollmentStatus, StatusReason, transition
from seqgql.engine.delivery import Outcome, Result, deliver
from seqgql.engine.limits import DailyLimits, next_day_opening
from seqgql.engine.templates import render
from seqgql.persistence.database import Database
from seqgql.persistence.tables import activities, contacts, enrollments, sequences, steps
from seqgql.persistence.types import Row, UTCDateTime
from seqgql.services.status_changes import ChangeContext, change_status
from seqgql.services.transport import QUICK_RETRY, OutboundMessage, RetryPolicy, Transport
from seqgql.settings import Settings

log = logging.getLogger("seqgql.engine")

# A row whose change waited for a busy sequence gives way to other due rows this long
# (seconds of real time), and at most this many such rows are remembered.
_ASIDE_SECONDS = 2.0
_MAX_ASIDE = 5_000
e = enrollments.c
c = contacts.c


@dataclass
class BatchStats:
    sent: int = 0
    rescheduled: int = 0
    completed: int = 0
    not_sent: int = 0
    opted_out: int = 0
    resumed: int = 0
    bounced: int = 0
    failed: int = 0
    retried: int = 0  # transient transport failures, tried again later
    held: int = 0  # over the sequence's daily limit for the sender: waiting for tomorrow
    deferred: int = 0  # status changes left for a later batch (sequence lock busy)
    not_attempted: int = 0  # the worker was stopping: left due

    @property
    def processed(self) -> int:
        return (
            self.sent + self.rescheduled + self.completed + self.not_sent + self.opted_out
            + self.bounced + self.failed + self.retried + self.held
        )  # fmt: skip

    def add(self, other: BatchStats) -> None:
        for name, value in vars(other).items():
            setattr(self, name, getattr(self, name) + value)


@dataclass
class _Plan:
    sends: list[tuple[Row, OutboundMessage]] = field(default_factory=list)
    reschedule: dict[int, datetime] = field(default_factory=dict)
    changes: dict[tuple[Action, StatusReason | None], list[Row]] = field(
        default_factory=lambda: defaultdict(list)
    )


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
            db, clock, transport,
            batch_size=settings.engine_batch_size,
            send_concurrency=settings.engine_send_concurrency,
            max_send_attempts=settings.engine_max_send_attempts,
        )  # fmt: skip

    async def run_once(self, stop: asyncio.Event | None = None) -> BatchStats:
        """Process one batch of due work; returns what it did. Once ``stop`` is set, no
        further message of the batch is started; what was sent is recorded."""
        stats = BatchStats()
        async with self.db.write() as conn:
            now = self.clock.now()
            ctx = ChangeContext(workspace_id=0, actor_id=None, bulk_operation_id=None, now=now)
            await self._resume(conn, ctx, stats)
            rows = await self._claim(conn, now)
            if rows:
                plan = self._plan(rows, now)
                await self._apply(conn, ctx, plan, stats, stop)
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

    async def _claim(self, conn: AsyncConnection, now: datetime) -> list[Row]:
        """Claim a batch of due rows. Rows whose status change was deferred lately are set
        aside while other rows are due, so they cannot fill every batch."""
        clock = time.monotonic()
        self._aside = {i: t for i, t in self._aside.items() if t > clock}
        if self._aside:
            rows = await self._claim_rows(conn, now, list(self._aside)[-_MAX_ASIDE:])
            if rows:
                return rows
        return await self._claim_rows(conn, now, [])

    async def _claim_rows(
        self, conn: AsyncConnection, now: datetime, exclude: list[int]
    ) -> list[Row]:
        step = steps.alias("step")
        following = steps.alias("following")
        step_count = (
            sa.select(sa.func.count())
            .where(steps.c.sequence_id == e.sequence_id)
            .scalar_subquery()
            .label("step_count")
        )
        due = (
            sa.select(e.id)
            .join(sequences, sequences.c.id == e.sequence_id)
            .where(
                e.status == EnrollmentStatus.ACTIVE,
                e.next_run_at <= now,
                sequences.c.archived.is_(False),
                e.id.not_in(exclude),
            )
            .order_by(e.next_run_at, e.id)
            .limit(self.batch_size)
            .with_for_update(of=enrollments, skip_locked=True)
        )
        query = (
            sa.select(
                e.id, e.workspace_id, e.sequence_id, e.contact_id, e.current_step,
                e.last_sent_step, e.next_run_at, e.enrolled_by_id, e.send_attempts,
                c.first_name, c.last_name, c.email, c.phone, c.phone_type, c.time_zone,
                c.opted_out,
                sequences.c.sending_window, sequences.c.reply_window_minutes,
                sequences.c.daily_limit_per_sender,
                step.c.channel, step.c.subject, step.c.body, step_count,
                following.c.wait_minutes.label("next_wait"),
            )
            .join(contacts, c.id == e.contact_id)
            .join(sequences, sequences.c.id == e.sequence_id)
            .outerjoin(
                step, sa.and_(step.c.sequence_id == e.sequence_id,
                              step.c.position == e.current_step),
            )
            .outerjoin(
                following, sa.and_(following.c.sequence_id == e.sequence_id,
                                   following.c.position == e.current_step + 1),
            )
            .where(e.id.in_(list((await conn.execute(due)).scalars())))
            .order_by(e.id)
        )  # fmt: skip
        result = await conn.execute(query)
        # as named tuples: a batch reads ~20 columns of each row, ~1 µs each on a Row
        cls = _due_row_class(tuple(result.keys()))
        # (read like Rows: by attribute)
        return cast(list[Row], [cls._make(r) for r in result.all()])

    def _plan(self, rows: list[Row], now: datetime) -> _Plan:
        plan = _Plan()
        for row in rows:
            window = SendingWindow.from_json(row.sending_window) if row.sending_window else None
            if row.current_step is None or row.channel is None:
                plan.changes[(Action.COMPLETE, None)].append(row)
            elif row.opted_out:
                plan.changes[(Action.OPT_OUT, None)].append(row)
            elif (reason := _blocked(row)) is not None:
                plan.changes[(Action.SKIP_STEP, reason)].append(row)
            elif (at := next_send_time(now, window, row.time_zone)) > now:
                plan.reschedule[row.id] = at
            else:
                address = row.email if row.channel == StepChannel.EMAIL else row.phone
                values = {"first_name": row.first_name, "last_name": row.last_name or "",
                          "email": row.email or ""}  # fmt: skip
                message = OutboundMessage(
                    row.id, row.contact_id, StepChannel(row.channel), address,
                    render(row.body, values),
                    render(row.subject, values) if row.subject else None,
                )  # fmt: skip
                plan.sends.append((row, message))
        return plan

    async def _apply(
        self, conn: AsyncConnection, ctx: ChangeContext, plan: _Plan, stats: BatchStats,
        stop: asyncio.Event | None,
    ) -> None:  # fmt: skip
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
            changed, deferred = await self._change(conn, ctx, action, reason, rows)
            stats.deferred += deferred
            if action is Action.COMPLETE:
                stats.completed += len(changed)
            elif action is Action.OPT_OUT:
                stats.opted_out += len(changed)
            else:
                stats.not_sent += len(changed)

    async def _deliver(
        self, conn: AsyncConnection, ctx: ChangeContext, plan: _Plan, stats: BatchStats,
        stop: asyncio.Event | None,
    ) -> None:  # fmt: skip
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
            self.transport, [m for _, m in sends], stop=stop,
            concurrency=self.send_concurrency, retry=self.retry,
        )  # fmt: skip
        by_outcome: dict[Outcome, list[tuple[Row, Result]]] = defaultdict(list)
        for (row, _), result in zip(sends, results, strict=True):
            by_outcome[result.outcome].append((row, result))
            if result.outcome is not Outcome.SENT:
                limits.give_back(row)
        await limits.save(conn)

        sent = [send for send, r in zip(sends, results, strict=True) if r.outcome is Outcome.SENT]
        await self._record_sent(conn, ctx, sent)
        stats.sent += len(by_outcome[Outcome.SENT])
        stats.not_attempted += len(by_outcome[Outcome.NOT_ATTEMPTED])
        for row, _ in by_outcome[Outcome.MISCONFIGURED]:
            plan.reschedule[row.id] = ctx.now + timedelta(minutes=self.retry_after_minutes)
        given_up: list[tuple[Row, Result]] = []
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
        refused = by_outcome[Outcome.REFUSED]
        bounced = [(row, result) for row, result in refused if row.channel == StepChannel.EMAIL]
        failed = [(row, result) for row, result in refused if row.channel != StepChannel.EMAIL]
        failed += given_up
        await self._refuse(conn, ctx, bounced, Action.BOUNCE, stats)
        await self._refuse(conn, ctx, failed, Action.FAIL, stats)

    async def _refuse(
        self, conn: AsyncConnection, ctx: ChangeContext, refused: list[tuple[Row, Result]],
        action: Action, stats: BatchStats,
    ) -> None:  # fmt: skip
        """BOUNCED (an email) or FAILED: the status change, and the answer as activity."""
        if not refused:
            return
        changed, deferred = await self._change(conn, ctx, action, None, [r for r, _ in refused])
        stats.deferred += deferred
        kind = ActivityKind.BOUNCED if action is Action.BOUNCE else ActivityKind.FAILED
        activity = [
            {"workspace_id": row.workspace_id, "enrollment_id": row.id, "kind": kind,
             "step": row.current_step, "at": ctx.now, "detail": (result.detail or "")[:500]}
            for row, result in refused if row.id in changed
        ]  # fmt: skip
        if activity:
            await conn.execute(activities.insert(), activity)
        if action is Action.BOUNCE:
            stats.bounced += len(activity)
        else:
            stats.failed += len(activity)

    async def _record_sent(
        self, conn: AsyncConnection, ctx: ChangeContext, sends: list[tuple[Row, OutboundMessage]]
    ) -> None:
        """Record each step as sent and schedule the next."""
        if not sends:
            return
        now = ctx.now
        details = [message.subject or message.body[:200] for _, message in sends]
        if conn.dialect.name == "postgresql":
            # one statement over arrays (as _ADVANCE_PG below)
            await conn.execute(_SENT_ACTIVITIES_PG, {
                "ws": [row.workspace_id for row, _ in sends], "ids": [row.id for row, _ in sends],
                "steps": [row.current_step for row, _ in sends], "details": details,
                "kind": ActivityKind.SENT.value, "now": now,
            })  # fmt: skip
        else:
            await conn.execute(
                activities.insert(),
                [
                    {"workspace_id": row.workspace_id, "enrollment_id": row.id,
                     "kind": ActivityKind.SENT, "step": row.current_step, "at": now,
                     "detail": detail}
                    for (row, _), detail in zip(sends, details, strict=True)
                ],
            )  # fmt: skip
        updates = []
        for row, _message in sends:
            last = row.current_step >= row.step_count
            # after the last step, wait the reply window, then finish with no response
            wait = row.reply_window_minutes if last else row.next_wait
            updates.append({
                "eid": row.id,
                "sent": row.current_step,
                "next_step": None if last else row.current_step + 1,
                "at": step_due(now, wait),
            })  # fmt: skip
        if conn.dialect.name == "postgresql":
            # one statement over arrays: an executemany costs a round of work per row
            await conn.execute(_ADVANCE_PG, {
                "ids": [u["eid"] for u in updates], "sent": [u["sent"] for u in updates],
                "next": [u["next_step"] for u in updates], "at": [u["at"] for u in updates],
                "now": now,
            })  # fmt: skip
            return
        await conn.execute(
            enrollments.update()
            .where(e.id == sa.bindparam("eid"))
            .values(
                last_sent_step=sa.bindparam("sent"),
                current_step=sa.bindparam("next_step"),
                next_run_at=sa.bindparam("at"),
                send_attempts=0,
                updated_at=now,
            ),
            updates,
        )

    async def _change(
        self, conn: AsyncConnection, ctx: ChangeContext, action: Action,
        reason: StatusReason | None, rows: list[Row],
    ) -> tuple[set[int], int]:  # fmt: skip
        """Change what can be changed now: the ids changed, and how many were deferred.
        The rows are claimed ACTIVE rows, so every one whose sequence is locked changes."""
        by_sequence: dict[int, list[int]] = defaultdict(list)
        for row in rows:
            by_sequence[row.sequence_id].append(row.id)
        locked = await _try_lock(conn, list(by_sequence))
        ids = [i for s in locked for i in by_sequence[s]]
        deferred = len(rows) - len(ids)
        until = time.monotonic() + _ASIDE_SECONDS
        for s in set(by_sequence) - set(locked):
            self._aside.update(dict.fromkeys(by_sequence[s], until))
        if not ids:
            return set(), deferred
        rule = transition(action)
        assert rule.to_status is not None
        changed = await change_status(
            conn, ctx, locked, e.id.in_(ids), rule.allowed_from, rule.to_status,
            reason or rule.to_reason,
        )  # fmt: skip
        if changed != len(ids):  # cannot happen: the rows are claimed and ACTIVE
            log.error("%s changed %d of %d claimed enrollments", action, changed, len(ids))
        return set(ids), deferred

    async def _resume(self, conn: AsyncConnection, ctx: ChangeContext, stats: BatchStats) -> None:
        """PAUSED enrollments whose resume-at has come go back to ACTIVE, on their step."""
        ready = sa.and_(e.status == EnrollmentStatus.PAUSED, e.resume_at <= ctx.now)
        seq_ids = [
            r[0] for r in await conn.execute(sa.select(e.sequence_id).where(ready).distinct())
        ]
        if not seq_ids:
            return
        locked = await _try_lock(conn, seq_ids)
        if not locked:
            return
        rule = transition(Action.RESUME)
        assert rule.to_status is not None
        stats.resumed += await change_status(
            conn, ctx, locked, sa.and_(ready, e.sequence_id.in_(locked)), rule.allowed_from,
            rule.to_status, None, {"resume_at": None, "next_run_at": ctx.now},
        )  # fmt: skip


# Sent steps recorded on PostgreSQL: the step sent, the next one and when it falls due.
_SENT_ACTIVITIES_PG = sa.text("""
    INSERT INTO activities (workspace_id, enrollment_id, kind, step, at, detail)
    SELECT v.workspace_id, v.enrollment_id, :kind, v.step, :now, v.detail
    FROM unnest(CAST(:ws AS bigint[]), CAST(:ids AS bigint[]), CAST(:steps AS integer[]),
                CAST(:details AS text[])) AS v(workspace_id, enrollment_id, step, detail)
""").bindparams(sa.bindparam("now", type_=UTCDateTime()))
_ADVANCE_PG = sa.text("""
    UPDATE enrollments AS e
    SET last_sent_step = v.sent, current_step = v.next_step, next_run_at = v.at,
        send_attempts = 0, updated_at = :now
    FROM unnest(CAST(:ids AS bigint[]), CAST(:sent AS integer[]), CAST(:next AS integer[]),
                CAST(:at AS timestamptz[])) AS v(id, sent, next_step, at)
    WHERE e.id = v.id
""").bindparams(sa.bindparam("now", type_=UTCDateTime()))


# A step the contact cannot receive makes the enrollment NOT_SENT with this reason.
_NOT_SENT_REASONS = {
    Unreachable.MISSING_EMAIL: StatusReason.MISSING_EMAIL,
    Unreachable.MISSING_PHONE: StatusReason.MISSING_PHONE,
    Unreachable.LANDLINE: StatusReason.BLOCKED_BY_RULE,
}


@functools.cache
def _due_row_class(columns: tuple[str, ...]) -> Any:
    return namedtuple("DueRow", columns)


def _blocked(row: Row) -> StatusReason | None:
    """Why this step cannot be sent to this contact, if it cannot."""
    why = unreachable(StepChannel(row.channel), row.email, row.phone, row.phone_type)
    return _NOT_SENT_REASONS[why] if why is not None else None


async def _try_lock(conn: AsyncConnection, sequence_ids: list[int]) -> list[int]:
    """Lock what can be locked at once (in id order); skip sequences another holds."""
    rows = await conn.execute(
        sa.select(sequences.c.id)
        .where(sequences.c.id.in_(sorted(sequence_ids)))
        .order_by(sequences.c.id)
        .with_for_update(skip_locked=True)
    )
    return [r.id for r in rows]
