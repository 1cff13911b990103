"""An SMS the carrier could not deliver because the number is no mobile phone (Twilio
30006, 21614): the contact's phone becomes a LANDLINE, and the enrollment goes where the
engine puts a step due for a landline: NOT_SENT (BLOCKED_BY_RULE) at that step, so that
once the number is fixed, resuming sends it again."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from seqgql.domain.errors import ErrorCode, InputErrors, error
from seqgql.domain.kinds import ActivityKind, BulkActionKind, PhoneType
from seqgql.domain.status import Action, StatusReason, transition
from seqgql.persistence.tables import contacts, enrollments
from seqgql.services.enrollments.activity_log import NewActivity, record_activities
from seqgql.services.enrollments.bulk_action import BulkAction
from seqgql.services.enrollments.operation import BulkOperation
from seqgql.services.enrollments.results import BulkResult
from seqgql.services.enrollments.transitions import change_status

e = enrollments.c


@dataclass(frozen=True, slots=True)
class LandlineReport:
    enrollment_id: int
    step: int | None  # the step whose message it was; None for a sendMessage message
    detail: str


async def _report_landline(op: BulkOperation, options: LandlineReport) -> BulkResult:
    """The phone becomes a LANDLINE and the report a FAILED activity. If the message was
    the enrollment's step and no later step went out since, the enrollment becomes
    NOT_SENT (BLOCKED_BY_RULE) at that step (from ACTIVE, as the transition table says;
    in another status it stays, and the engine blocks its next SMS step)."""
    row = (
        await op.conn.execute(
            sa.select(e.contact_id, e.sequence_id, e.last_sent_step).where(
                e.id == options.enrollment_id, e.workspace_id == op.actor.workspace_id
            )
        )
    ).first()
    if row is None:
        raise InputErrors([error(["enrollmentId"], ErrorCode.NOT_FOUND, "no such enrollment")])
    await op.conn.execute(
        contacts.update()
        .where(contacts.c.id == row.contact_id)
        .values(phone_type=PhoneType.LANDLINE)
    )
    failed = NewActivity(
        op.actor.workspace_id, row.sequence_id, options.enrollment_id, ActivityKind.FAILED,
        op.change.now, options.step, options.detail,
    )  # fmt: skip
    await record_activities(op.conn, [failed])
    if options.step is None or row.last_sent_step != options.step:
        return BulkResult()
    rule = transition(Action.SKIP_STEP)
    changed = await change_status(
        op.conn,
        op.change,
        sequence_ids=[row.sequence_id],
        where=sa.and_(e.id == options.enrollment_id, e.last_sent_step == options.step),
        allowed_from=rule.allowed_from,
        to=rule.to_status,
        reason=StatusReason.BLOCKED_BY_RULE,
        values={"current_step": options.step},
    )
    return BulkResult(changed_count=changed)


report_landline = BulkAction(BulkActionKind.DELIVERY_EVENT, LandlineReport, _report_landline)
