"""What a batch will do with each claimed row, decided before anything is written:
send its step, wait for the sending window, or change its status (completed after the
last step, opted out, or not sent because the contact cannot receive the channel)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from seqgql.domain.kinds import StepChannel, Unreachable, unreachable
from seqgql.domain.schedule import next_send_time
from seqgql.domain.sequence import SendingWindow
from seqgql.domain.status import Action, StatusReason
from seqgql.engine.claims import DueRow
from seqgql.engine.templates import render
from seqgql.outbound.transport import OutboundMessage

# A step the contact cannot receive makes the enrollment NOT_SENT with this reason.
_NOT_SENT_REASONS = {
    Unreachable.MISSING_EMAIL: StatusReason.MISSING_EMAIL,
    Unreachable.MISSING_PHONE: StatusReason.MISSING_PHONE,
    Unreachable.LANDLINE: StatusReason.BLOCKED_BY_RULE,
}


@dataclass
class Plan:
    sends: list[tuple[DueRow, OutboundMessage]] = field(default_factory=list)
    reschedule: dict[int, datetime] = field(default_factory=dict)  # id -> next run
    changes: dict[tuple[Action, StatusReason | None], list[DueRow]] = field(
        default_factory=lambda: defaultdict(list)
    )


def plan(rows: list[DueRow], now: datetime) -> Plan:
    planned = Plan()
    for row in rows:
        window = SendingWindow.from_json(row.sending_window) if row.sending_window else None
        channel = row.channel
        if row.current_step is None or channel is None or row.body is None:
            planned.changes[(Action.COMPLETE, None)].append(row)
        elif row.opted_out:
            planned.changes[(Action.OPT_OUT, None)].append(row)
        elif (why := unreachable(channel, row.email, row.phone, row.phone_type)) is not None:
            planned.changes[(Action.SKIP_STEP, _NOT_SENT_REASONS[why])].append(row)
        elif (at := next_send_time(now, window, row.time_zone)) > now:
            planned.reschedule[row.id] = at
        else:
            address = row.email if channel == StepChannel.EMAIL else row.phone
            assert address is not None  # unreachable() said it is there
            values = {
                "first_name": row.first_name,
                "last_name": row.last_name or "",
                "email": row.email or "",
            }
            message = OutboundMessage(
                row.id,
                row.contact_id,
                StepChannel(channel),
                address,
                render(row.body, values),
                _one_line(render(row.subject, values)) if row.subject else None,
                key=f"{row.id}.{row.current_step}.{row.send_attempts}",
            )
            planned.sends.append((row, message))
    return planned


def _one_line(subject: str) -> str:
    """A rendered subject as one header line, whatever the contact's fields held."""
    return " ".join(subject.splitlines())
