"""Sending one message now to a few selected contacts, each individually."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import sqlalchemy as sa

from seqgql.domain import validation
from seqgql.domain.errors import ErrorCode, InputErrors, error
from seqgql.domain.kinds import ActivityKind, BulkActionKind, StepChannel, unreachable
from seqgql.domain.selection import Selection
from seqgql.domain.status import SkipReason
from seqgql.outbound.sending import Outcome, deliver, failure_kind
from seqgql.outbound.transport import OutboundMessage, Transport
from seqgql.persistence.tables import contacts, enrollments
from seqgql.persistence.types import Row
from seqgql.services.enrollments.activity_log import NewActivity, record_activities
from seqgql.services.enrollments.bulk_action import BulkAction
from seqgql.services.enrollments.operation import BulkOperation
from seqgql.services.enrollments.resolution import resolve_selection
from seqgql.services.enrollments.results import BulkResult, Skips

log = logging.getLogger(__name__)

MAX_MESSAGE_CONTACTS = 10

e = enrollments.c
c = contacts.c


@dataclass(frozen=True, slots=True)
class MessageOptions:
    selection: Selection
    transport: Transport = field(compare=False)  # how it leaves, not what is asked
    body: str
    subject: str | None = None
    channel: StepChannel = StepChannel.SMS


async def _send_message(op: BulkOperation, options: MessageOptions) -> BulkResult:
    """Send the body once to each selected contact (at most 10), recorded as activity on
    each selected enrollment. The messages go to the transport once that is committed;
    what did not go through is recorded then (``outbound.sending.failure_kind``)."""
    _check_text(options.body, options.subject, options.channel)
    resolved = await resolve_selection(op.conn, op.actor, options.selection)
    rows = (
        await op.conn.execute(
            sa.select(
                e.id, e.sequence_id, e.contact_id, c.email, c.phone, c.phone_type, c.opted_out
            )
            .join(contacts, c.id == e.contact_id)
            .where(resolved.predicate)
            .order_by(e.id)
            .limit(MAX_MESSAGE_CONTACTS * 20 + 1)
        )
    ).all()
    if len({r.contact_id for r in rows}) > MAX_MESSAGE_CONTACTS:
        raise InputErrors(
            [
                error(
                    ["input", "selection"],
                    ErrorCode.TOO_MANY,
                    f"a message goes to at most {MAX_MESSAGE_CONTACTS} contacts at once",
                )
            ]
        )
    skips = Skips()
    messages: dict[int, OutboundMessage] = {}  # one per contact, however often selected
    recorded: list[tuple[int, int]] = []  # every selected enrollment (and its sequence)
    for row in rows:
        reason = _cannot_send(row, options.channel)
        if reason is not None:
            skips.add(reason, 1, [row.id])
            continue
        recorded.append((row.id, row.sequence_id))
        if row.contact_id not in messages:
            address = row.email if options.channel is StepChannel.EMAIL else row.phone
            messages[row.contact_id] = OutboundMessage(
                row.id,
                row.contact_id,
                options.channel,
                address,
                options.body,
                options.subject,
                key=f"{row.id}.message.{op.change.bulk_operation_id}",
            )
    await record_activities(
        op.conn,
        [
            NewActivity(
                op.actor.workspace_id, sequence_id, enrollment_id, ActivityKind.SENT,
                op.change.now, None, options.body, op.actor.user_id,
            )
            for enrollment_id, sequence_id in recorded
        ],
    )  # fmt: skip

    async def deliver_after_commit() -> None:
        sent = list(messages.values())
        results = await deliver(options.transport, sent, concurrency=1)
        sequence_of = dict(recorded)
        failures = []
        for message, result in zip(sent, results, strict=True):
            if result.outcome is Outcome.SENT:
                continue
            log.warning("message to contact %s not sent: %s", message.contact_id, result.detail)
            failures.append(
                NewActivity(
                    op.actor.workspace_id,
                    sequence_of[message.enrollment_id],
                    message.enrollment_id,
                    failure_kind(result.outcome, message.channel),
                    op.clock.now(),
                    None,
                    (result.detail or "")[:500],
                    op.actor.user_id,
                )
            )
        if failures:
            async with op.db.write() as conn:
                await record_activities(conn, failures)

    op.after_commit.append(deliver_after_commit)
    return BulkResult(changed_count=len(messages), skipped=skips.groups())


send_message = BulkAction(BulkActionKind.SEND_MESSAGE, MessageOptions, _send_message)


def _check_text(body: str, subject: str | None, channel: StepChannel) -> None:
    if not body.strip():
        raise InputErrors([error(["input", "body"], ErrorCode.REQUIRED, "must not be empty")])
    if len(body) > validation.MAX_BODY_LENGTH:
        raise InputErrors(
            [
                error(
                    ["input", "body"],
                    ErrorCode.TOO_LONG,
                    f"must be at most {validation.MAX_BODY_LENGTH} characters",
                )
            ]
        )
    if channel is StepChannel.SMS and subject:
        raise InputErrors([error(["input", "subject"], ErrorCode.INVALID, "an SMS has no subject")])


def _cannot_send(row: Row, channel: StepChannel) -> SkipReason | None:
    if row.opted_out:
        return SkipReason.CONTACT_OPTED_OUT
    why = unreachable(channel, row.email, row.phone, row.phone_type)
    return SkipReason(why.value) if why is not None else None
