"""The engine's tests: sequences and enrollments to deliver, an engine whose quick retries do
not sleep, a transport that answers as scripted, and what the engine left in the database
(enrollment state, activities, status changes)."""

from __future__ import annotations

import asyncio
from collections import Counter
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


async def make_sequence(
    db: Database, clock: FrozenClock, actor: Actor, steps: list[StepSpec] | None = None,
    **options: Any,
) -> int:  # fmt: skip
    result = await create_sequence(
        db, clock, actor, name="Delivery", step_specs=steps or EMAILS, **options
    )
    assert result.sequence_id is not None, result.errors
    return result.sequence_id


async def enroll(
    db: Database, clock: FrozenClock, actor: Actor, sequence_id: int, count: int,
    *, prefix: str = "Contact",
) -> list[int]:  # fmt: skip
    """Enroll ``count`` new contacts (by ``actor``); their enrollment ids, in order."""
    contact_ids = await make_contacts(db, clock, actor, count, prefix=prefix)
    result = await add_contacts(db, clock, actor, sequence_id, contact_ids)
    assert not result.errors, result.errors
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(enrollments.c.id)
            .where(enrollments.c.sequence_id == sequence_id,
                   enrollments.c.contact_id.in_(contact_ids))
            .order_by(enrollments.c.id)
        )  # fmt: skip
        return [r.id for r in rows]


@dataclass(frozen=True)
class State:
    status: str
    reason: str | None
    current_step: int | None
    last_sent_step: int
    next_run_at: datetime | None
    send_attempts: int


async def states(db: Database, ids: list[int]) -> dict[int, State]:
    e = enrollments.c
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(e.id, e.status, e.reason, e.current_step, e.last_sent_step, e.next_run_at,
                      e.send_attempts).where(e.id.in_(ids))
        )  # fmt: skip
        return {
            r.id: State(str(r.status), None if r.reason is None else str(r.reason),
                        r.current_step, r.last_sent_step, r.next_run_at, r.send_attempts)
            for r in rows
        }  # fmt: skip


async def activity_rows(db: Database, ids: list[int]) -> list[tuple[int, str, int | None, str]]:
    """(enrollment, kind, step, detail) of the enrollments' activities, in order."""
    a = activities.c
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(a.enrollment_id, a.kind, a.step, a.detail)
            .where(a.enrollment_id.in_(ids))
            .order_by(a.id)
        )
        return [(r.enrollment_id, str(r.kind), r.step, r.detail or "") for r in rows]


def sent_steps(rows: list[tuple[int, str, int | None, str]]) -> list[tuple[int, int | None]]:
    return [(pk, step) for pk, kind, step, _ in rows if kind == "SENT"]


Change = tuple[int, str, str | None, str, str | None]


async def status_changes(db: Database, sequence_id: int) -> list[Change]:
    """The sequence's status changes after enrollment, as (enrollment, from, from reason, to,
    to reason), having checked that its events are numbered 1, 2, 3... with no gap and
    that the sequence's last event number is the last of them."""
    v = events.c
    async with db.read() as conn:
        rows = list(
            await conn.execute(
                sa.select(v.number, v.enrollment_id, v.from_status, v.from_reason, v.to_status,
                          v.to_reason).where(v.sequence_id == sequence_id).order_by(v.number)
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
