"""Resuming selected enrollments: PAUSED (and NOT_SENT) ones back to ACTIVE, their step
due when it would have been (shifted by the time spent paused) or at once, optionally at
a chosen step; FAILED and BOUNCED ones retried at the step that failed when the contact
can now receive it; or, with a date, an auto-resume set. Which statuses resume, and which
only when reachable, is the domain's transition table (``Action.RESUME``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from seqgql.domain.errors import ErrorCode, InputErrors, error
from seqgql.domain.kinds import ActivityKind, BulkActionKind, PhoneType, ResumeMode, StepChannel
from seqgql.domain.selection import Selection
from seqgql.domain.status import Action, EnrollmentStatus, SkipReason, transition
from seqgql.persistence.moments import shifted_due
from seqgql.persistence.tables import activities, contacts, enrollments, steps
from seqgql.persistence.types import UTCDateTime
from seqgql.services.enrollments.bulk_action import BulkAction, check_step, in_future, select_for
from seqgql.services.enrollments.operation import BulkOperation
from seqgql.services.enrollments.resolution import ResolvedSelection, skip_where
from seqgql.services.enrollments.results import MAX_SKIPPED_IDS, BulkResult, Skips
from seqgql.services.enrollments.transitions import change_status

e = enrollments.c
c = contacts.c


@dataclass(frozen=True, slots=True)
class ResumeOptions:
    selection: Selection
    resume_at: datetime | None = None  # None: now; else set or replace the auto-resume
    mode: ResumeMode = ResumeMode.KEEP_REMAINING_WAIT
    at_step: int | None = None  # resume at this step rather than the current one


def resumed_values(
    mode: ResumeMode, now: datetime, step: sa.ColumnElement[Any] | None = None
) -> dict[str, Any]:
    """What resuming sets (a user's resume and the engine's auto-resume): a PAUSED one's
    step due when it would have been had the pause not happened (never in the past), or
    at once (SEND_NOW, and for the others: a step not sent, or a retry); ``step`` the step
    to resume at (default: the current one)."""
    due: Any = sa.literal(now, UTCDateTime())
    if mode is ResumeMode.KEEP_REMAINING_WAIT:
        due = sa.case((e.status == EnrollmentStatus.PAUSED, kept_wait(now)), else_=due)
    values: dict[str, Any] = {"resume_at": None, "next_run_at": due, "send_attempts": 0}
    if step is not None:
        values["current_step"] = step
    return values


def resumed_step(at_step: int | None, retries: frozenset[EnrollmentStatus]) -> Any:
    """The step an enrollment resumes at: ``at_step`` when given; for a retry (FAILED,
    BOUNCED), the step of its last failure (the step a provider's report was about), else
    its current step."""
    if at_step is not None:
        return sa.literal(at_step, sa.Integer)
    failed = (
        sa.select(activities.c.step)
        .where(
            activities.c.enrollment_id == e.id,
            activities.c.kind.in_([ActivityKind.FAILED, ActivityKind.BOUNCED]),
            activities.c.step.is_not(None),
        )
        .order_by(activities.c.id.desc())
        .limit(1)
        .correlate(enrollments)
        .scalar_subquery()
    )
    return sa.case(
        (e.status.in_(sorted(retries)), sa.func.coalesce(failed, e.current_step)),
        else_=e.current_step,
    )


def kept_wait(now: datetime) -> sa.ColumnElement[Any]:
    """When the step of an enrollment becoming ACTIVE again at ``now`` falls due: the
    wait it had left when it stopped being ACTIVE, counted from now (at once when it was
    due then, or when nothing was kept)."""
    known = e.paused_due_at.is_not(None)
    return sa.case(
        (known, shifted_due(e.paused_due_at, e.paused_at, now)),
        else_=sa.literal(now, UTCDateTime()),
    )


async def _resume(op: BulkOperation, options: ResumeOptions) -> BulkResult:
    in_future("resume_at", "resumeAt")(options, op.change.now)
    if options.resume_at is not None:
        if options.at_step is not None:
            raise InputErrors(
                [
                    error(
                        ["input", "atStep"],
                        ErrorCode.INVALID,
                        "a step to resume at is for resuming now, not with `resumeAt`",
                    )
                ]
            )
        return await _schedule(op, options.selection, options.resume_at)
    resolved, skips, locked = await select_for(op, options.selection, Action.RESUME)
    if options.at_step is not None:
        await check_step(op, resolved.sequence_ids, options.at_step, "atStep")
    rule = transition(Action.RESUME)
    assert rule.to_status is not None
    step = resumed_step(options.at_step, rule.if_reachable)
    blocked = await _skip_unreachable(op, resolved, rule.if_reachable, step, skips)
    changed = await change_status(
        op.conn,
        op.change,
        sequence_ids=resolved.sequence_ids,
        where=sa.and_(resolved.predicate, sa.not_(blocked)),
        allowed_from=rule.allowed_from,
        to=rule.to_status,
        reason=None,
        values=resumed_values(options.mode, op.change.now, step),
        locked=locked,
    )
    return BulkResult(changed_count=changed, skipped=skips.groups())


async def _schedule(op: BulkOperation, selection: Selection, resume_at: datetime) -> BulkResult:
    """Set when paused enrollments resume by themselves: a paused one keeps its status;
    one whose step was not sent is paused until then (PAUSED(MANUAL), resuming by
    itself). A retry (FAILED, BOUNCED) is not scheduled: skipped."""
    resolved, skips, locked = await select_for(op, selection, Action.RESUME)
    retries = transition(Action.RESUME).if_reachable
    retried = sa.and_(resolved.predicate, e.status.in_(sorted(retries)))
    await skip_where(op.conn, retried, SkipReason.INVALID_TRANSITION, skips)
    paused = sa.and_(resolved.predicate, e.status == EnrollmentStatus.PAUSED)
    result = await op.conn.execute(
        enrollments.update()
        .where(paused)
        .values(resume_at=resume_at, version=e.version + 1, updated_at=op.change.now)
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
        values={"resume_at": resume_at},
        locked=locked,
    )
    return BulkResult(changed_count=result.rowcount + held, skipped=skips.groups())


def _why_unreachable(step: Any) -> sa.Case[Any]:
    """Why the contact of an enrollment (``e``, joined to ``contacts``) cannot receive
    ``step`` (the one it would resume at): the engine's rule (``domain.kinds.unreachable``),
    and opted out; null when it can."""
    channel = (
        sa.select(steps.c.channel)
        .where(steps.c.sequence_id == e.sequence_id, steps.c.position == step)
        .correlate(enrollments)  # the enrollment of any enclosing statement
        .scalar_subquery()
    )
    sms = channel == StepChannel.SMS
    return sa.case(
        (c.opted_out, SkipReason.CONTACT_OPTED_OUT.value),
        (sa.and_(channel == StepChannel.EMAIL, c.email.is_(None)), SkipReason.MISSING_EMAIL.value),
        (sa.and_(sms, c.phone.is_(None)), SkipReason.MISSING_PHONE.value),
        (sa.and_(sms, c.phone_type == PhoneType.LANDLINE), SkipReason.LANDLINE.value),
        else_=sa.null(),
    )


async def _skip_unreachable(
    op: BulkOperation,
    resolved: ResolvedSelection,
    statuses: frozenset[EnrollmentStatus],
    step: Any,
    skips: Skips,
) -> sa.ColumnElement[bool]:
    """Count, by reason, the enrollments in ``statuses`` whose contact cannot receive
    ``step``; return the condition that leaves them out."""
    if not statuses:
        return sa.false()
    why = _why_unreachable(step)
    considered = sa.and_(resolved.predicate, e.status.in_(sorted(statuses)))
    ranked = (
        sa.select(
            e.id,
            why.label("why"),
            sa.func.row_number().over(partition_by=why, order_by=e.id).label("rank"),
            sa.func.count().over(partition_by=why).label("total"),
        )
        .select_from(enrollments.join(contacts, c.id == e.contact_id))
        .where(considered)
        .subquery()
    )
    rows = await op.conn.execute(
        sa.select(ranked.c.id, ranked.c.why, ranked.c.total)
        .where(ranked.c.why.is_not(None), ranked.c.rank <= MAX_SKIPPED_IDS)
        .order_by(ranked.c.id)
    )
    found: dict[str, tuple[int, list[int]]] = {}
    for row in rows:
        found.setdefault(row.why, (row.total, []))[1].append(row.id)
    for reason, (total, ids) in found.items():
        skips.add(SkipReason(reason), total, ids)
    if not found:
        return sa.false()
    blocked = sa.select(contacts.c.id).where(c.id == e.contact_id, why.is_not(None))
    return sa.and_(e.status.in_(sorted(statuses)), sa.exists(blocked))


resume = BulkAction(BulkActionKind.RESUME, ResumeOptions, _resume)
