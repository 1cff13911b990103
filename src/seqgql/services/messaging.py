"""Sending one message now to a few selected contacts, each individually."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from seqgql.clock import Clock
from seqgql.domain import validation
from seqgql.domain.errors import ErrorCode, InputErrors, error
from seqgql.domain.kinds import ActivityKind, BulkActionKind, StepChannel, unreachable
from seqgql.domain.selection import Selection
from seqgql.domain.status import SkipReason
from seqgql.persistence.database import Database
from seqgql.persistence.tables import activities, contacts, enrollments
from seqgql.persistence.types import Row
from seqgql.services.actor import Actor
from seqgql.services.bulk import BulkOperation, BulkResult, Skips, run_bulk
from seqgql.services.selection import resolve_selection
from seqgql.services.transport import (
    OutboundMessage,
    PermanentFailure,
    Transport,
    send_with_retry,
)

log = logging.getLogger(__name__)

MAX_MESSAGE_CONTACTS = 10

e = enrollments.c
c = contacts.c


async def send_message(
    db: Database,
    clock: Clock,
    actor: Actor,
    selection: Selection,
    *,
    transport: Transport,
    body: str,
    subject: str | None = None,
    channel: StepChannel = StepChannel.SMS,
    dry_run: bool = False,
    idempotency_key: str | None = None,
) -> BulkResult:
    """Send ``body`` once to each selected contact (at most 10), recorded as activity on
    each selected enrollment. The messages go to the transport once that is committed."""

    async def work(op: BulkOperation) -> BulkResult:
        _check_text(body, subject, channel)
        resolved = await resolve_selection(op.conn, op.actor, selection)
        rows = (
            await op.conn.execute(
                sa.select(e.id, e.contact_id, c.email, c.phone, c.phone_type, c.opted_out)
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
        recorded: list[int] = []  # every selected enrollment of a contact messaged
        for row in rows:
            reason = _cannot_send(row, channel)
            if reason is not None:
                skips.add(reason, 1, [row.id])
                continue
            recorded.append(row.id)
            if row.contact_id not in messages:
                address = row.email if channel is StepChannel.EMAIL else row.phone
                messages[row.contact_id] = OutboundMessage(
                    row.id, row.contact_id, channel, address, body, subject
                )
        if recorded:
            await op.conn.execute(
                activities.insert(),
                [
                    {
                        "workspace_id": op.actor.workspace_id,
                        "enrollment_id": enrollment_id,
                        "kind": ActivityKind.SENT,
                        "step": None,
                        "at": op.change.now,
                        "detail": body,
                    }
                    for enrollment_id in recorded
                ],
            )

        async def deliver() -> None:
            failures = []
            for message in messages.values():
                try:
                    await send_with_retry(transport, message)
                except Exception as exc:  # recorded on the enrollment; the others still go
                    log.warning("message to contact %s not sent: %s", message.contact_id, exc)
                    bounced = isinstance(exc, PermanentFailure) and channel is StepChannel.EMAIL
                    failures.append({
                        "workspace_id": op.actor.workspace_id,
                        "enrollment_id": message.enrollment_id,
                        "kind": ActivityKind.BOUNCED if bounced else ActivityKind.FAILED,
                        "step": None, "at": clock.now(), "detail": str(exc)[:500],
                    })  # fmt: skip
            if failures:
                async with db.write() as conn:
                    await conn.execute(activities.insert(), failures)

        op.after_commit.append(deliver)
        return BulkResult(changed_count=len(messages), skipped=skips.groups())

    return await run_bulk(
        db,
        clock,
        actor,
        BulkActionKind.SEND_MESSAGE,
        work,
        request={"selection": selection, "body": body, "subject": subject, "channel": channel},
        dry_run=dry_run,
        idempotency_key=idempotency_key,
    )


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
