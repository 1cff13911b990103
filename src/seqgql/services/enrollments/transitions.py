"""Set-based status changes that write their events in the same transaction.

Event numbers are gapless per sequence, so every transaction that writes events for a
sequence first locks that sequence's row: status changes on one sequence are
serialised, and what a change reads cannot be changed under it by another.

A change is two statements whatever the number of rows:
1. INSERT INTO events SELECT … FROM enrollments WHERE <selection> AND status IN (<allowed>)
   (numbered after the sequence's last event, recording each row's from-status);
2. UPDATE enrollments … WHERE id IN (the enrollments of the events just written).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from seqgql.domain.kinds import WaitingFor
from seqgql.domain.status import EnrollmentStatus, StatusReason, outcome_of
from seqgql.persistence.database import mark_sequences_changed
from seqgql.persistence.tables import enrollments, events, sequences

# made once: setting up an alias's columns costs ~0.1-0.5 ms a statement
_S = sequences.alias("s")
# statements of a fixed shape, made once (their ids bound when run): building one and its
# cache key cost more than PostgreSQL's running it
_IDS: sa.BindParameter[list[int]] = sa.bindparam("ids", expanding=True)
_LOCK = (
    sa.select(sequences.c.id, sequences.c.last_event_number)
    .where(sequences.c.id.in_(_IDS))
    .order_by(sequences.c.id)
    .with_for_update()
)
_LAST_NUMBER = (
    sa.select(sa.func.max(events.c.number))
    .where(events.c.sequence_id == sequences.c.id)
    .scalar_subquery()
)
_ADVANCE = (
    sequences.update()
    .where(sequences.c.id.in_(_IDS))
    .values(last_event_number=sa.func.coalesce(_LAST_NUMBER, sequences.c.last_event_number))
)

e = enrollments.c
# the columns an event row is written with, in the order the SELECTs below produce them
EVENT_COLUMNS = [
    "workspace_id",
    "sequence_id",
    "number",
    "enrollment_id",
    "from_status",
    "from_reason",
    "to_status",
    "to_reason",
    "actor_id",
    "bulk_operation_id",
    "at",
    "from_step",
    "to_step",
    "from_resume_at",
    "from_outcome",
    "version",
    "rule",
]


@dataclass(frozen=True, slots=True)
class ChangeContext:
    """Who changes what, when, as part of which bulk operation."""

    workspace_id: int
    actor_id: int | None
    bulk_operation_id: int | None
    now: datetime


async def lock_sequences(conn: AsyncConnection, sequence_ids: Iterable[int]) -> dict[int, int]:
    """Lock the sequences (in id order, so lockers never deadlock) and return their
    last event numbers."""
    ids = sorted(set(sequence_ids))
    if not ids:
        return {}
    return {r.id: r.last_event_number for r in await conn.execute(_LOCK, {"ids": ids})}


async def change_status(
    conn: AsyncConnection,
    ctx: ChangeContext,
    *,
    sequence_ids: Iterable[int],
    where: sa.ColumnElement[bool],
    allowed_from: Iterable[EnrollmentStatus],
    to: EnrollmentStatus | None,
    reason: StatusReason | None,
    values: Mapping[str, Any] | None = None,
    rule: str | None = None,
    locked: Mapping[int, int] | None = None,
) -> int:
    """Move every enrollment matching ``where`` whose status is in ``allowed_from`` to
    ``to``/``reason`` (plus ``values``), writing one event each. Returns the number
    changed. ``sequence_ids`` are all the sequences ``where`` can reach. ``to=None``
    keeps each one's status and reason: a change of its step (``values``) only. ``rule``
    names the sequence rule that made the change, on its events. ``locked``: what
    ``lock_sequences`` returned for ``sequence_ids`` in this transaction, when nothing
    has written their events since (they are not locked and read again)."""
    allowed = sorted(set(allowed_from))
    bases = dict(locked) if locked is not None else await lock_sequences(conn, sequence_ids)
    if not allowed or not bases:
        return 0
    selected = sa.and_(where, e.status.in_(allowed))
    to_status: Any = e.status if to is None else sa.literal(to.value, sa.String)
    to_reason: Any = e.reason if to is None else sa.literal(reason and reason.value, sa.String)
    step = (values or {}).get("current_step", e.current_step)
    to_step = step if isinstance(step, sa.ColumnElement) else sa.literal(step, sa.Integer)

    s = _S
    numbered = (
        sa.select(
            e.workspace_id,
            e.sequence_id,
            (
                s.c.last_event_number
                + sa.func.row_number().over(partition_by=e.sequence_id, order_by=e.id)
            ).label("number"),
            e.id.label("enrollment_id"),
            e.status.label("from_status"),
            e.reason.label("from_reason"),
            to_status.label("to_status"),
            to_reason.label("to_reason"),
            sa.literal(ctx.actor_id, sa.BigInteger).label("actor_id"),
            sa.literal(ctx.bulk_operation_id, sa.BigInteger).label("bulk_operation_id"),
            sa.literal(ctx.now, events.c.at.type).label("at"),
            e.current_step.label("from_step"),
            to_step.label("to_step"),
            e.resume_at.label("from_resume_at"),
            e.outcome.label("from_outcome"),
            (e.version + 1).label("version"),
            sa.literal(rule, sa.String).label("rule"),
        )
        .select_from(enrollments.join(s, s.c.id == e.sequence_id))
        .where(selected)
    )
    inserted = await conn.execute(
        events.insert().from_select(
            EVENT_COLUMNS,
            numbered,
        )
    )
    count = inserted.rowcount
    if not count:
        return 0

    new_events = sa.or_(
        *(
            sa.and_(events.c.sequence_id == seq_id, events.c.number > base)
            for seq_id, base in bases.items()
        )
    )
    # a join (UPDATE … FROM events), not IN (subquery): each new event names a different
    # enrollment, and the join lets PostgreSQL visit the table's pages in order
    await conn.execute(
        enrollments.update()
        .where(e.id == events.c.enrollment_id, new_events)
        .values(**_new_values(ctx, to, reason, values))
    )
    await advance_event_numbers(conn, bases)
    return count


def _new_values(
    ctx: ChangeContext,
    to_status: EnrollmentStatus | None,
    to_reason: StatusReason | None,
    values: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """What a change to ``to_status`` sets (None: the status stays). Only ACTIVE
    enrollments are scheduled; leaving ACTIVE keeps when, and when the step was due (to
    resume with the wait that was left); a FINISHED one records when and how it ended.
    ``values`` adds to (or overrides) that. SET reads the row as it was."""
    new: dict[str, Any] = {"version": e.version + 1, "updated_at": ctx.now}
    if to_status is None:
        return {**new, **(values or {})}
    new["status"] = to_status
    new["reason"] = to_reason
    new["status_changed_at"] = ctx.now
    if to_status is EnrollmentStatus.ACTIVE:
        new["paused_at"] = None
        new["paused_due_at"] = None
        new["waiting_for"] = WaitingFor.WAIT
    else:
        new["next_run_at"] = None
        new["waiting_for"] = None
        was_active = e.status == EnrollmentStatus.ACTIVE
        new["paused_at"] = sa.case((was_active, ctx.now), else_=e.paused_at)
        new["paused_due_at"] = sa.case((was_active, e.next_run_at), else_=e.paused_due_at)
    if to_status is EnrollmentStatus.FINISHED:
        new["finished_at"] = ctx.now
    # a finish detected or by the engine; a user's finish says so in ``values``
    new["outcome"] = outcome_of(to_status, to_reason, by_user=False)
    return {**new, **(values or {})}


async def advance_event_numbers(conn: AsyncConnection, bases: Mapping[int, int]) -> None:
    """Set each sequence's last event number to the highest number now written."""
    mark_sequences_changed(conn, bases)
    await conn.execute(_ADVANCE, {"ids": list(bases)})


async def record_new_enrollments(
    conn: AsyncConnection,
    ctx: ChangeContext,
    sequence_id: int,
    base: int,
    new_enrollments: sa.ColumnElement[bool],
) -> int:
    """Write the events of enrollments just inserted (from no status to their first).
    ``base`` is the sequence's last event number, read under its lock."""
    numbered = sa.select(
        e.workspace_id,
        e.sequence_id,
        (sa.literal(base, sa.BigInteger) + sa.func.row_number().over(order_by=e.id)).label(
            "number"
        ),
        e.id,
        sa.null(),
        sa.null(),
        e.status,
        e.reason,
        sa.literal(ctx.actor_id, sa.BigInteger),
        sa.literal(ctx.bulk_operation_id, sa.BigInteger),
        sa.literal(ctx.now, events.c.at.type),
        sa.null(),
        e.current_step,
        sa.null(),
        sa.null(),
        e.version,
        sa.null(),
    ).where(e.sequence_id == sequence_id, new_enrollments)
    result = await conn.execute(
        events.insert().from_select(
            EVENT_COLUMNS,
            numbered,
        )
    )
    await advance_event_numbers(conn, {sequence_id: base})
    return result.rowcount
