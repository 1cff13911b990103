"""The bulk actions on selected enrollments, each declared once: pause, resume, finish,
remove, add to group. Where each may go, and why it skips what it skips, is the domain's
transition table (``domain/status.py``); ``bulk_action`` says how a declaration runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from seqgql.domain.errors import ErrorCode, InputErrors, error
from seqgql.domain.kinds import BulkActionKind
from seqgql.domain.selection import Selection
from seqgql.domain.status import Action, EnrollmentStatus, FinishReason, SkipReason, transition
from seqgql.persistence.tables import enrollments, group_members, groups
from seqgql.services.enrollments.bulk_action import (
    BulkAction,
    Selected,
    apply_transition,
    in_future,
    select_for,
    transition_action,
)
from seqgql.services.enrollments.operation import BulkOperation
from seqgql.services.enrollments.resolution import resolve_selection
from seqgql.services.enrollments.results import BulkResult, Skips
from seqgql.services.enrollments.transitions import change_status

e = enrollments.c


@dataclass(frozen=True, slots=True)
class PauseOptions:
    selection: Selection
    resume_at: datetime | None = None  # resume by itself then


@dataclass(frozen=True, slots=True)
class ResumeOptions:
    selection: Selection
    resume_at: datetime | None = None  # None: now; else set or replace the auto-resume


@dataclass(frozen=True, slots=True)
class FinishOptions:
    selection: Selection
    reason: FinishReason


@dataclass(frozen=True, slots=True)
class GroupOptions:
    selection: Selection
    group_id: int


pause = transition_action(
    BulkActionKind.PAUSE,
    PauseOptions,
    Action.PAUSE,
    checks=[in_future("resume_at", "resumeAt")],
    values=lambda o, _now: {"resume_at": o.resume_at},
)

finish = transition_action(
    BulkActionKind.FINISH,
    FinishOptions,
    Action.FINISH,
    reason=lambda o: o.reason.status_reason,
    values=lambda _o, _now: {"resume_at": None},
)

remove = transition_action(
    BulkActionKind.REMOVE,
    Selected,
    Action.REMOVE,
    values=lambda _o, _now: {"resume_at": None},
)


async def _resume(op: BulkOperation, options: ResumeOptions) -> BulkResult:
    """Resume now (PAUSED -> ACTIVE, due at once), or set when paused enrollments resume
    by themselves: a paused one keeps its status; one whose step was not sent is paused
    until then (PAUSED(MANUAL), resuming by itself)."""
    in_future("resume_at", "resumeAt")(options, op.change.now)
    if options.resume_at is None:
        return await apply_transition(
            op,
            options.selection,
            Action.RESUME,
            values={"resume_at": None, "next_run_at": op.change.now},
        )
    resolved, skips = await select_for(op, options.selection, Action.RESUME)
    paused = sa.and_(resolved.predicate, e.status == EnrollmentStatus.PAUSED)
    result = await op.conn.execute(
        enrollments.update()
        .where(paused)
        .values(resume_at=options.resume_at, version=e.version + 1, updated_at=op.change.now)
    )
    rule = transition(Action.PAUSE)
    assert rule.to_status is not None
    held = await change_status(
        op.conn,
        op.change,
        sequence_ids=resolved.sequence_ids,
        where=resolved.predicate,
        allowed_from=[EnrollmentStatus.NOT_SENT],
        to=rule.to_status,
        reason=rule.to_reason,
        values={"resume_at": options.resume_at},
    )
    return BulkResult(changed_count=result.rowcount + held, skipped=skips.groups())


resume = BulkAction(BulkActionKind.RESUME, ResumeOptions, _resume)


async def _add_to_group(op: BulkOperation, options: GroupOptions) -> BulkResult:
    """Add the contacts of the selected enrollments to a group (no status change); those
    already in it are skipped."""
    conn, group_id = op.conn, options.group_id
    found = (
        await conn.execute(
            sa.select(groups.c.id).where(
                groups.c.id == group_id, groups.c.workspace_id == op.actor.workspace_id
            )
        )
    ).first()
    if found is None:
        raise InputErrors([error(["input", "groupId"], ErrorCode.NOT_FOUND, "no such group")])
    resolved = await resolve_selection(conn, op.actor, options.selection)
    member = sa.exists().where(
        group_members.c.group_id == group_id, group_members.c.contact_id == e.contact_id
    )
    already = sa.and_(resolved.predicate, member)
    skips = Skips()
    skipped_count = (await conn.execute(sa.select(sa.func.count()).where(already))).scalar_one()
    if skipped_count:
        sample = await conn.execute(sa.select(e.id).where(already).order_by(e.id).limit(100))
        skips.add(SkipReason.ALREADY_IN_GROUP, skipped_count, [r.id for r in sample])
    new_members = (
        sa.select(
            sa.literal(group_id, sa.BigInteger),
            e.contact_id,
            sa.literal(op.change.now, group_members.c.added_at.type),
        )
        .where(resolved.predicate, ~member)
        .distinct()
    )
    inserted = await conn.execute(
        group_members.insert().from_select(["group_id", "contact_id", "added_at"], new_members)
    )
    return BulkResult(changed_count=inserted.rowcount, skipped=skips.groups())


add_to_group = BulkAction(BulkActionKind.ADD_TO_GROUP, GroupOptions, _add_to_group)
