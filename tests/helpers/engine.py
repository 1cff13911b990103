"""The engine's tests: a Delivery (the test's sequences and enrollments, engines whose quick
retries do not sleep, and what they left in the database: enrollment state, activities,
status changes), a transport that answers as scripted, and engines run at once as separate
workers would be."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from seqgql.clock import FrozenClock
from seqgql.domain.kinds import StepChannel
from seqgql.domain.sequence import StepSpec
from seqgql.engine.worker import Engine
from seqgql.outbound.transport import OutboundMessage, RetryPolicy, Transport
from seqgql.persistence.database import Database
from seqgql.persistence.tables import activities, enrollments, events, sequences
from seqgql.services.actor import Actor
from seqgql.services.enrollments import add_contacts
from seqgql.services.sequences import create_sequence
from tests.helpers.factories import make_contacts

# The most a test waits for the engine to get somewhere (a guard against a hang, not a
# measurement: the engine gets there in milliseconds).
HANG_GUARD_SECONDS = 30
DAY = 24 * 60
EMAILS = [
    StepSpec(StepChannel.EMAIL, 0, "Hi {{first_name}}", "Hello {{first_name}}"),
    StepSpec(StepChannel.EMAIL, 7 * DAY, "Following up, {{first_name}}"),
]
TEXTS = [StepSpec(StepChannel.SMS, 0, "Quick text"), StepSpec(StepChannel.SMS, 7 * DAY, "Again")]


def engine_for(db: Database, clock: FrozenClock, transport: Transport, **options: Any) -> Engine:
    """An engine whose quick retries do not sleep."""
    options.setdefault("retry", RetryPolicy(attempts=2, base_delay=0))
    return Engine(db, clock, transport, **options)


@dataclass(frozen=True)
class State:
    status: str
    reason: str | None
    current_step: int | None
    last_sent_step: int
    next_run_at: datetime | None
    send_attempts: int
    waiting_for: str | None = None


Change = tuple[int, str, str | None, str, str | None]


def sent_steps(rows: list[tuple[int, str, int | None, str]]) -> list[tuple[int, int | None]]:
    return [(pk, step) for pk, kind, step, _ in rows if kind == "SENT"]


class Delivery:
    """One test's work for the engine: sequences and enrollments made in its workspace (by
    its admin unless ``by`` says otherwise), engines over its database and clock, and what
    they left in the database: enrollment state, activities, status changes."""

    def __init__(self, db: Database, clock: FrozenClock, actor: Actor) -> None:
        self.db = db
        self.clock = clock
        self.actor = actor

    async def sequence(self, steps: list[StepSpec] | None = None, **options: Any) -> int:
        result = await create_sequence(
            self.db, self.clock, self.actor, name="Delivery", step_specs=steps or EMAILS,
            **options,
        )  # fmt: skip
        assert result.sequence_id is not None, result.errors
        return result.sequence_id

    async def enroll(
        self, sequence_id: int, count: int, *, prefix: str = "Contact", by: Actor | None = None
    ) -> list[int]:
        """Enroll ``count`` new contacts; their enrollment ids, in order."""
        actor = by or self.actor
        contact_ids = await make_contacts(self.db, self.clock, actor, count, prefix=prefix)
        result = await add_contacts(self.db, self.clock, actor, sequence_id, contact_ids)
        assert not result.errors, result.errors
        async with self.db.read() as conn:
            rows = await conn.execute(
                sa.select(enrollments.c.id)
                .where(enrollments.c.sequence_id == sequence_id,
                       enrollments.c.contact_id.in_(contact_ids))
                .order_by(enrollments.c.id)
            )  # fmt: skip
            return [r.id for r in rows]

    async def enrolled(
        self, count: int, steps: list[StepSpec] | None = None, **options: Any
    ) -> tuple[int, list[int]]:
        """A new sequence (``steps``, ``options``) with ``count`` new contacts enrolled in it:
        (sequence id, enrollment ids in order)."""
        sequence_id = await self.sequence(steps, **options)
        return sequence_id, await self.enroll(sequence_id, count)

    def engine(self, transport: Transport, **options: Any) -> Engine:
        return engine_for(self.db, self.clock, transport, **options)

    async def states(self, ids: list[int]) -> dict[int, State]:
        e = enrollments.c
        async with self.db.read() as conn:
            rows = await conn.execute(
                sa.select(e.id, e.status, e.reason, e.current_step, e.last_sent_step,
                          e.next_run_at, e.send_attempts, e.waiting_for)
                .where(e.id.in_(ids))
            )  # fmt: skip
            return {
                r.id: State(str(r.status), None if r.reason is None else str(r.reason),
                            r.current_step, r.last_sent_step, r.next_run_at, r.send_attempts,
                            None if r.waiting_for is None else str(r.waiting_for))
                for r in rows
            }  # fmt: skip

    async def activity_rows(self, ids: list[int]) -> list[tuple[int, str, int | None, str]]:
        """(enrollment, kind, step, detail) of the enrollments' activities, in order."""
        a = activities.c
        async with self.db.read() as conn:
            rows = await conn.execute(
                sa.select(a.enrollment_id, a.kind, a.step, a.detail)
                .where(a.enrollment_id.in_(ids))
                .order_by(a.id)
            )
            return [(r.enrollment_id, str(r.kind), r.step, r.detail or "") for r in rows]

    async def sent_steps(self, ids: list[int]) -> list[tuple[int, int | None]]:
        """(enrollment, step) of each step sent to the enrollments, in order."""
        return sent_steps(await self.activity_rows(ids))

    async def status_changes(self, sequence_id: int) -> list[Change]:
        """The sequence's status changes after enrollment, as (enrollment, from, from reason,
        to, to reason), having checked that its events are numbered 1, 2, 3... with no gap
        and that the sequence's last event number is the last of them."""
        v = events.c
        async with self.db.read() as conn:
            rows = list(
                await conn.execute(
                    sa.select(v.number, v.enrollment_id, v.from_status, v.from_reason,
                              v.to_status, v.to_reason)
                    .where(v.sequence_id == sequence_id).order_by(v.number)
                )
            )  # fmt: skip
            last = (
                await conn.execute(
                    sa.select(sequences.c.last_event_number).where(sequences.c.id == sequence_id)
                )
            ).scalar_one()
        assert [r.number for r in rows] == list(range(1, len(rows) + 1))
        assert last == len(rows)
        return [
            (r.enrollment_id, r.from_status, r.from_reason, r.to_status, r.to_reason)
            for r in rows
            if r.from_status is not None
        ]


class ScriptedTransport:
    """Accepts messages, except that chosen enrollments' messages first raise the errors
    queued for them (one per call, in order), or raise one error on every call. With
    ``pause``, each call first yields to the event loop (lets other workers run)."""

    def __init__(self, *, pause: bool = False) -> None:
        self.pause = pause
        self.accepted: list[OutboundMessage] = []
        self.calls: Counter[int] = Counter()
        self.queued: dict[int, list[Exception]] = {}
        self.always: dict[int, Exception] = {}

    async def send(self, message: OutboundMessage) -> None:
        pk = message.enrollment_id
        self.calls[pk] += 1
        if self.pause:
            await asyncio.sleep(0.001)
        if pk in self.always:
            raise self.always[pk]
        if self.queued.get(pk):
            raise self.queued[pk].pop(0)
        self.accepted.append(message)

    def accepted_for(self, ids: list[int]) -> list[int]:
        wanted = set(ids)
        return [m.enrollment_id for m in self.accepted if m.enrollment_id in wanted]


class GatedTransport:
    """Holds every message until ``gate`` opens; says when ``signal_after`` are waiting."""

    def __init__(self, signal_after: int) -> None:
        self.started: list[OutboundMessage] = []
        self.accepted: list[OutboundMessage] = []
        self.gate = asyncio.Event()
        self.signal_after = signal_after
        self.all_in_flight = asyncio.Event()

    async def send(self, message: OutboundMessage) -> None:
        self.started.append(message)
        if len(self.started) >= self.signal_after:
            self.all_in_flight.set()
        await self.gate.wait()
        self.accepted.append(message)


async def run_at_once(
    database_url: str, clock: FrozenClock, transports: list[Any], *,
    make_engine: Callable[..., Engine] = engine_for, connect_first: bool = False,
    **options: Any,
) -> None:  # fmt: skip
    """One engine per transport, each on a database handle of its own (as separate worker
    processes would be), run until idle at the same time. With ``connect_first``, every
    handle has connected before any engine starts, so that their batches overlap."""
    workers = [Database(database_url) for _ in transports]
    try:
        if connect_first:
            for w in workers:
                async with w.write() as conn:
                    await conn.execute(sa.text("SELECT 1"))
        engines = [
            make_engine(w, clock, t, **options) for w, t in zip(workers, transports, strict=True)
        ]
        await asyncio.gather(*(engine.run_until_idle() for engine in engines))
    finally:
        for w in workers:
            await w.dispose()
