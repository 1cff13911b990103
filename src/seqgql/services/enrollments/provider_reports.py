"""What a mail/SMS provider reports about a message: recorded, and applied to the status."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from seqgql.clock import Clock
from seqgql.domain.errors import ErrorCode, InputErrors, UserError, error
from seqgql.domain.kinds import BulkActionKind, DeliveryEventKind
from seqgql.domain.rules import Ruleset, company_of
from seqgql.domain.status import (
    ACTIVE_ELSEWHERE,
    Action,
    EnrollmentStatus,
    SkipReason,
    StatusReason,
    skip_reason,
    transition,
)
from seqgql.persistence.database import Database
from seqgql.persistence.tables import contacts, enrollments, sequences
from seqgql.persistence.types import Row
from seqgql.services.actor import Actor
from seqgql.services.enrollments.activity_log import NewActivity, record_activities
from seqgql.services.enrollments.bulk_action import BulkAction
from seqgql.services.enrollments.operation import BulkOperation
from seqgql.services.enrollments.results import BulkResult, Skips
from seqgql.services.enrollments.transitions import change_status, lock_sequences
from seqgql.services.reads import like_escaped

# How far in the future a provider's timestamp may be (clock skew), at most.
MAX_CLOCK_SKEW = timedelta(minutes=5)
# enrollments per IN list: well within both drivers' limits on parameters
_CHUNK = 1_000
_OPTED_OUT = DeliveryEventKind.OPTED_OUT

e = enrollments.c


@dataclass(slots=True)
class DeliveryResult:
    enrollment_id: int | None = None
    status_changed: bool = False
    skip: SkipReason | None = None
    errors: list[UserError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ReportOptions:
    enrollment_id: int
    kind: DeliveryEventKind
    return_date: date | None = None
    occurred_at: datetime | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class ReportOutcome:
    """What became of one report of ``apply_reports``."""

    changed: bool = False  # the status changed
    skip: SkipReason | None = None  # why the status stayed, when it should have changed
    error: UserError | None = None  # refused: nothing recorded


async def apply_report(op: BulkOperation, options: ReportOptions) -> BulkResult:
    """Record the report as activity and apply what it implies to the status, inside the
    bulk operation ``op`` (the work of ``record_delivery_event``; inbound mail runs it in
    the transaction that remembers the message). Raises InputErrors for a refused one."""
    [outcome] = await apply_reports(op, [options])
    if outcome.error is not None:
        raise InputErrors([outcome.error])
    if outcome.skip is not None:
        skips = Skips()
        skips.add(outcome.skip, 1, [options.enrollment_id])
        return BulkResult(skipped=skips.groups())
    return BulkResult(changed_count=int(outcome.changed))


async def apply_reports(op: BulkOperation, reports: Sequence[ReportOptions]) -> list[ReportOutcome]:
    """``apply_report`` for many reports at once (a provider's batch of events), in the
    order given: their activities recorded in one go, then the status changes they imply
    one by one. A refused report (a foreign enrollment, a moment in the future) records
    nothing and leaves the others be."""
    now = op.change.now
    errors = {i: _refusal(r, now) for i, r in enumerate(reports)}
    wanted = sorted({r.enrollment_id for i, r in enumerate(reports) if errors[i] is None})
    rows: dict[int, Row] = {}
    for start in range(0, len(wanted), _CHUNK):
        found = await op.conn.execute(
            sa.select(
                e.id,
                e.sequence_id,
                e.contact_id,
                e.status,
                e.last_sent_step,
                contacts.c.time_zone,
                contacts.c.email,
                sequences.c.sending_window,
                sequences.c.rules,
            )
            .join(contacts, contacts.c.id == e.contact_id)
            .join(sequences, sequences.c.id == e.sequence_id)
            .where(
                e.id.in_(wanted[start : start + _CHUNK]), e.workspace_id == op.actor.workspace_id
            )
        )
        rows.update({row.id: row for row in found})
    missing = error(["input", "enrollmentId"], ErrorCode.NOT_FOUND, "no such enrollment")
    for i, r in enumerate(reports):
        if errors[i] is None and r.enrollment_id not in rows:
            errors[i] = missing
    valid = [(i, r, rows[r.enrollment_id]) for i, r in enumerate(reports) if errors[i] is None]
    await record_activities(
        op.conn,
        [
            NewActivity(
                op.actor.workspace_id,
                row.sequence_id,
                r.enrollment_id,
                r.kind.activity_kind,
                r.occurred_at or now,
                row.last_sent_step or None,
                r.detail,
                op.actor.user_id,
            )
            for _, r, row in valid
        ],
    )
    opted_out = sorted({row.contact_id for _, r, row in valid if r.kind is _OPTED_OUT})
    for start in range(0, len(opted_out), _CHUNK):
        await op.conn.execute(
            contacts.update()
            .where(contacts.c.id.in_(opted_out[start : start + _CHUNK]))
            .values(opted_out=True)
        )
    outcomes = {i: ReportOutcome(error=problem) for i, problem in errors.items() if problem}
    statuses = {row.id: row.status for _, _, row in valid}
    for i, r, row in valid:
        outcomes[i] = await _apply_status(op, r, row, statuses)
    return [outcomes[i] for i in range(len(reports))]


def _refusal(options: ReportOptions, now: datetime) -> UserError | None:
    if options.return_date is not None and options.kind is not DeliveryEventKind.OUT_OF_OFFICE:
        return error(
            ["input", "returnDate"], ErrorCode.INVALID, "a return date goes only with OUT_OF_OFFICE"
        )
    if options.occurred_at is not None and options.occurred_at > now + MAX_CLOCK_SKEW:
        return error(["input", "occurredAt"], ErrorCode.INVALID, "must not be in the future")
    return None


async def _apply_status(
    op: BulkOperation, options: ReportOptions, row: Row, statuses: dict[int, EnrollmentStatus]
) -> ReportOutcome:
    """The status change the report implies, if any (``statuses``: each enrollment's as
    the reports before left it)."""
    action = options.kind.action
    rules = Ruleset.from_json(row.rules)
    if action is None or (action is Action.REPLY and not rules.finish_on_reply):
        return ReportOutcome()  # recorded as activity; the steps go on
    reason = skip_reason(action, statuses[row.id])
    if reason is not None:
        return ReportOutcome(skip=reason)
    rule = transition(action)
    assert rule.to_status is not None
    await lock_sequences(op.conn, [row.sequence_id])
    values: dict[str, Any] = {"resume_at": None}
    returns = options.return_date
    if action is Action.OUT_OF_OFFICE and returns is None and rules.out_of_office_default_days:
        # no return date: back after the sequence's default absence, in the contact's days
        zone = _zone(row.time_zone, row.sending_window)
        today = op.change.now.astimezone(zone).date()
        returns = today + timedelta(days=rules.out_of_office_default_days)
    if action is Action.OUT_OF_OFFICE and returns is not None:
        values["resume_at"] = _start_of(returns, row.time_zone, row.sending_window)
    changed = await change_status(
        op.conn,
        op.change,
        sequence_ids=[row.sequence_id],
        where=e.id == options.enrollment_id,
        allowed_from=rule.allowed_from,
        to=rule.to_status,
        reason=rule.to_reason,
        values=values,
    )
    if changed:
        statuses[row.id] = rule.to_status
    company = company_of(row.email)
    if action is Action.REPLY and changed and rules.finish_company_on_reply and company:
        await _finish_company(op, row.sequence_id, options.enrollment_id, company)
    return ReportOutcome(changed=changed > 0)


async def _finish_company(op: BulkOperation, sequence_id: int, replied: int, company: str) -> int:
    """The rule finishCompanyOnReply: the other enrollments of the sequence still going
    whose contact has an address at ``company`` become FINISHED (COMPANY_REPLIED)."""
    colleagues = sa.select(contacts.c.id).where(
        contacts.c.workspace_id == op.actor.workspace_id,
        sa.func.lower(contacts.c.email).like("%@" + like_escaped(company), escape="\\"),
    )
    return await change_status(
        op.conn,
        op.change,
        sequence_ids=[sequence_id],
        where=sa.and_(e.sequence_id == sequence_id, e.id != replied, e.contact_id.in_(colleagues)),
        allowed_from=ACTIVE_ELSEWHERE,  # still going: ACTIVE, PAUSED, NOT_SENT
        to=EnrollmentStatus.FINISHED,
        reason=StatusReason.COMPANY_REPLIED,
        values={"resume_at": None},
        rule="finishCompanyOnReply",
    )


_report = BulkAction(BulkActionKind.DELIVERY_EVENT, ReportOptions, apply_report)


async def record_delivery_event(
    db: Database,
    clock: Clock,
    actor: Actor,
    enrollment_id: int,
    kind: DeliveryEventKind,
    *,
    return_date: date | None = None,
    occurred_at: datetime | None = None,
    detail: str | None = None,
    idempotency_key: str | None = None,
) -> DeliveryResult:
    """Record the report as activity and apply what it implies to the status."""
    result = await _report(
        db,
        clock,
        actor,
        enrollment_id,
        kind,
        return_date=return_date,
        occurred_at=occurred_at,
        detail=detail,
        idempotency_key=idempotency_key,
    )
    if result.errors:
        return DeliveryResult(errors=result.errors)
    skip = result.skipped[0].reason if result.skipped else None
    return DeliveryResult(enrollment_id, result.changed_count > 0, skip)


def _zone(contact_zone: str | None, window: dict[str, Any] | None) -> ZoneInfo:
    """The contact's time zone, else the sequence's, else UTC."""
    return ZoneInfo(contact_zone or (window or {}).get("timeZone") or "UTC")


def _start_of(day: date, contact_zone: str | None, window: dict[str, Any] | None) -> datetime:
    """The start of ``day`` in the contact's time zone (else the sequence's, else UTC)."""
    return datetime.combine(day, time.min, tzinfo=_zone(contact_zone, window))
