"""The sends a sequence will make in a period, in time order: each ACTIVE enrollment's
step at the moment the engine will send it, computed with the engine's own rules (the
sending window in the contact's time zone: ``domain.schedule.next_send_time``; a contact
opted out or unreachable on the step's channel is not sent to). The per-sender daily
limit is not simulated: a send over it moves to the next day's window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from seqgql.domain.kinds import StepChannel, unreachable
from seqgql.domain.schedule import next_send_time
from seqgql.domain.sequence import SendingWindow
from seqgql.domain.status import EnrollmentStatus
from seqgql.persistence.database import Database
from seqgql.persistence.tables import contacts, enrollments, sequences, steps
from seqgql.services.actor import Actor
from seqgql.services.pagination import (
    CursorArgument,
    Page,
    PageRequest,
    decode_cursor,
    encode_cursor,
    not_a_cursor,
    row_id,
)

MAX_SPAN = timedelta(days=31)
MAX_SCANNED = 100_000  # enrollments a preview reads at most

e = enrollments.c
c = contacts.c
SEND_COLUMNS = [e.id, e.next_run_at, e.current_step, steps.c.channel, c.time_zone, c.email,
                c.phone, c.phone_type, c.opted_out]  # fmt: skip
at_step = steps.c.position == e.current_step


class PreviewRefused(ValueError):
    """The period or the sequence cannot be previewed; ``argument`` names why."""

    def __init__(self, argument: str, code: str, message: str) -> None:
        super().__init__(message)
        self.argument, self.code = argument, code


@dataclass(frozen=True, slots=True)
class ScheduledSend:
    enrollment_id: int
    at: datetime
    step: int
    channel: StepChannel


async def scheduled_sends(
    db: Database,
    actor: Actor,
    sequence_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    request: PageRequest,
) -> tuple[Page[ScheduledSend], int]:
    """The sends in [start, end), a page at a time, ordered by (time, enrollment id), and
    how many there are in all."""
    if end <= start:
        raise PreviewRefused("to", "BAD_USER_INPUT", "`to` must be later than `from`")
    if end - start > MAX_SPAN:
        raise PreviewRefused("to", "BAD_USER_INPUT", "a period is at most 31 days long")
    async with db.read() as conn:
        sequence = (
            await conn.execute(
                sa.select(
                    sequences.c.sending_window, sequences.c.active, sequences.c.archived
                ).where(
                    sequences.c.id == sequence_id, sequences.c.workspace_id == actor.workspace_id
                )
            )
        ).first()
        if sequence is None:
            raise PreviewRefused("sequenceId", "NOT_FOUND", "no such sequence")
        if not sequence.active or sequence.archived:
            return request.cut([], _cursor), 0  # a sequence turned off sends nothing
        rows = (
            await conn.execute(
                sa.select(
                    e.id,
                    e.next_run_at,
                    e.current_step,
                    steps.c.channel,
                    c.time_zone,
                    c.email,
                    c.phone,
                    c.phone_type,
                    c.opted_out,
                )
                .join(contacts, c.id == e.contact_id)
                .join(
                    steps,
                    sa.and_(
                        steps.c.sequence_id == e.sequence_id, steps.c.position == e.current_step
                    ),
                )
                .where(
                    e.sequence_id == sequence_id,
                    e.status == EnrollmentStatus.ACTIVE,
                    e.next_run_at < end,
                )
                .order_by(e.next_run_at, e.id)
                .limit(MAX_SCANNED + 1)
            )
        ).all()
    if len(rows) > MAX_SCANNED:
        message = f"more than {MAX_SCANNED:,} sends fall due by `to`: ask for a shorter period"
        raise PreviewRefused("to", "TOO_MANY", message)
    window = SendingWindow.from_json(sequence.sending_window) if sequence.sending_window else None
    sends = []
    for row in rows:
        channel = StepChannel(row.channel)
        if row.opted_out or unreachable(channel, row.email, row.phone, row.phone_type):
            continue  # the engine will not send it (OPTED_OUT, NOT_SENT)
        at = next_send_time(max(row.next_run_at, now), window, row.time_zone)
        if start <= at < end:
            sends.append(ScheduledSend(row.id, at, row.current_step, channel))
    sends.sort(key=lambda s: (s.at, s.enrollment_id))
    total = len(sends)
    if request.after is not None:
        low = _position(request.after, "after")
        sends = [s for s in sends if (s.at, s.enrollment_id) > low]
    if request.before is not None:
        high = _position(request.before, "before")
        sends = [s for s in sends if (s.at, s.enrollment_id) < high]
    scanned = list(reversed(sends)) if request.backward else sends
    return request.cut(scanned[: request.size + 1], _cursor), total


def _cursor(send: ScheduledSend) -> str:
    return encode_cursor([send.at.isoformat(), send.enrollment_id])


def _position(cursor: str, argument: CursorArgument) -> tuple[datetime, int]:
    raw_at, raw_id = decode_cursor(cursor, 2, argument)
    try:
        at = datetime.fromisoformat(raw_at)
    except (TypeError, ValueError) as exc:
        raise not_a_cursor(argument) from exc
    if at.tzinfo is None:
        raise not_a_cursor(argument)
    return at, row_id(raw_id, argument)
