"""Undoing a bulk operation within 24 hours: each enrollment it changed that nothing has
changed since (its version is still the one the operation's event left) goes back to its
state before (status, reason, step, resume date, outcome; an ACTIVE one's step due with
the wait it had left); the others are skipped (CHANGED_SINCE). The undo is a bulk
operation of its own, with its events, set-based: one statement pair per earlier state.
Messages sent meanwhile are not unsent: the answer counts them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from seqgql.domain.errors import ErrorCode, InputErrors, error
from seqgql.domain.kinds import ActivityKind, BulkActionKind
from seqgql.domain.status import EnrollmentStatus, SkipReason, StatusReason
from seqgql.persistence.tables import activities, bulk_operations, enrollments, events
from seqgql.services.enrollments.bulk_action import BulkAction
from seqgql.services.enrollments.operation import BulkOperation
from seqgql.services.enrollments.resolution import skip_where
from seqgql.services.enrollments.results import BulkResult, Skips
from seqgql.services.enrollments.resume import kept_wait
from seqgql.services.enrollments.transitions import change_status, lock_sequences

# made once: setting up an alias's columns costs ~0.1-0.5 ms a statement
_MINE = events.alias("mine")

UNDO_WINDOW = timedelta(hours=24)
# what cannot be put back: messages cannot be unsent, and group memberships added are
# not recorded per operation
NOT_UNDOABLE = {
    BulkActionKind.SEND_MESSAGE: "messages that were sent cannot be unsent",
    BulkActionKind.ADD_TO_GROUP: "adding to a group cannot be undone: remove them from it",
}
FIELD = ["input", "bulkOperationId"]

e = enrollments.c
v = events.c


@dataclass(frozen=True, slots=True)
class UndoOptions:
    operation_id: int


async def _undo(op: BulkOperation, options: UndoOptions) -> BulkResult:
    conn, now = op.conn, op.change.now
    row = (
        await conn.execute(
            sa.select(bulk_operations.c.kind, bulk_operations.c.created_at).where(
                bulk_operations.c.id == options.operation_id,
                bulk_operations.c.workspace_id == op.actor.workspace_id,
            )
        )
    ).first()
    if row is None:
        raise InputErrors([error(FIELD, ErrorCode.NOT_FOUND, "no such bulk operation")])
    if row.kind in NOT_UNDOABLE:
        raise InputErrors([error(FIELD, ErrorCode.INVALID, NOT_UNDOABLE[row.kind])])
    if now - row.created_at > UNDO_WINDOW:
        message = "an operation can be undone within 24 hours of it"
        raise InputErrors([error(FIELD, ErrorCode.OUT_OF_RANGE, message)])

    # per enrollment the operation changed: its first event (the state before) and its
    # last (the version it left), each found through the enrollment's own events
    mine = _MINE

    def event_of(column: str, *, first: bool) -> sa.ScalarSelect[Any]:
        return (
            sa.select(mine.c[column])
            .where(
                mine.c.enrollment_id == e.id,
                mine.c.bulk_operation_id == options.operation_id,
            )
            .order_by(mine.c.id if first else mine.c.id.desc())
            .limit(1)
            .correlate(enrollments)
            .scalar_subquery()
        )

    touched = sa.select(v.enrollment_id).where(v.bulk_operation_id == options.operation_id)
    unchanged = sa.and_(e.id.in_(touched), e.version == event_of("version", first=False))
    sequence_ids = [
        r[0]
        for r in await conn.execute(sa.select(e.sequence_id).where(e.id.in_(touched)).distinct())
    ]
    await lock_sequences(conn, sequence_ids)
    skips = Skips()
    await skip_where(conn, sa.and_(e.id.in_(touched), ~unchanged), SkipReason.CHANGED_SINCE, skips)

    def earlier(column: str) -> sa.ScalarSelect[Any]:
        return event_of(column, first=True)

    states = await conn.execute(
        sa.select(earlier("from_status"), earlier("from_reason")).where(unchanged).distinct()
    )
    changed = 0
    for status, reason in states.all():
        to = EnrollmentStatus(status) if status else EnrollmentStatus.REMOVED
        to_reason = StatusReason(reason) if reason else None
        values: dict[str, Any] = {
            "current_step": earlier("from_step"),
            "resume_at": earlier("from_resume_at"),
            "outcome": earlier("from_outcome"),
            "moved_to_id": None,
        }
        if to is EnrollmentStatus.ACTIVE:
            values["next_run_at"] = kept_wait(now)
        was_status, was_reason = earlier("from_status"), earlier("from_reason")
        same_state = sa.and_(
            was_status.is_(None) if status is None else was_status == status,
            was_reason.is_(None) if reason is None else was_reason == reason,
        )
        changed += await change_status(
            conn,
            op.change,
            sequence_ids=sequence_ids,
            where=sa.and_(unchanged, same_state),
            allowed_from=list(EnrollmentStatus),
            to=to,
            reason=to_reason,
            values=values,
        )
    sent = sa.select(sa.func.count()).where(
        activities.c.enrollment_id.in_(touched),
        activities.c.kind == ActivityKind.SENT,
        activities.c.at >= row.created_at,
    )
    messages = (await conn.execute(sent)).scalar_one()
    return BulkResult(changed_count=changed, skipped=skips.groups(), messages_sent=messages)


undo = BulkAction(BulkActionKind.UNDO, UndoOptions, _undo)
