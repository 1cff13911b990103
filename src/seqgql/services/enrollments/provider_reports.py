"""What a mail/SMS provider reports about a message: recorded, and applied to the status."""

from __future__ import annotations

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
from seqgql.services.actor import Actor
from seqgql.services.enrollments.activity_log import NewActivity, record_activities
from seqgql.services.enrollments.bulk_action import BulkAction
from seqgql.services.enrollments.operation import BulkOperation
from seqgql.services.enrollments.results import BulkResult, Skips
from seqgql.services.enrollments.transitions import change_status, lock_sequences
from seqgql.services.reads import like_escaped

# How far in the future a provider's timestamp may be (clock skew), at most.
MAX_CLOCK_SKEW = timedelta(minutes=5)

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


async def apply_report(op: BulkOperation, options: ReportOptions) -> BulkResult:
    """Record the report as activity and apply what it implies to the status, inside the
    bulk operation ``op`` (the work of ``record_delivery_event``; inbound mail runs it in
    the transaction that remembers the message)."""
    now = op.change.now
    if options.return_date is not None and options.kind is not DeliveryEventKind.OUT_OF_OFFICE:
        raise InputErrors(
            [
                error(
                    ["input", "returnDate"],
                    ErrorCode.INVALID,
                    "a return date goes only with OUT_OF_OFFICE",
                )
            ]
        )
    if options.occurred_at is not None and options.occurred_at > now + MAX_CLOCK_SKEW:
        raise InputErrors(
            [error(["input", "occurredAt"], ErrorCode.INVALID, "must not be in the future")]
        )
    row = (
        await op.conn.execute(
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
            .where(e.id == options.enrollment_id, e.workspace_id == op.actor.workspace_id)
        )
    ).first()
    if row is None:
        raise InputErrors(
            [error(["input", "enrollmentId"], ErrorCode.NOT_FOUND, "no such enrollment")]
        )
    activity = NewActivity(
        op.actor.workspace_id,
        row.sequence_id,
        options.enrollment_id,
        options.kind.activity_kind,
        options.occurred_at or now,
        row.last_sent_step or None,
        options.detail,
        op.actor.user_id,
    )
    await record_activities(op.conn, [activity])
    if options.kind is DeliveryEventKind.OPTED_OUT:
        await op.conn.execute(
            contacts.update().where(contacts.c.id == row.contact_id).values(opted_out=True)
        )
    action = options.kind.action
    rules = Ruleset.from_json(row.rules)
    if action is None or (action is Action.REPLY and not rules.finish_on_reply):
        return BulkResult()  # recorded as activity; the steps go on
    skips = Skips()
    reason = skip_reason(action, row.status)
    if reason is not None:
        skips.add(reason, 1, [options.enrollment_id])
        return BulkResult(skipped=skips.groups())
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
    company = company_of(row.email)
    if action is Action.REPLY and changed and rules.finish_company_on_reply and company:
        await _finish_company(op, row.sequence_id, options.enrollment_id, company)
    return BulkResult(changed_count=changed)


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
