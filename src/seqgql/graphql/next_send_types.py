"""When an enrollment's next step goes out, and what it waits for (`Enrollment.nextSend`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import strawberry

from seqgql.graphql.enums import EnrollmentStatus, StepChannel, WaitingFor
from seqgql.graphql.node import ContextInfo


@strawberry.type(
    description="The next step an enrollment will be sent, when, and what it waits for: "
    "why a contact is not in the sends of the moment (Apollo's \"check whether it skipped "
    'or blocked a contact").'
)
class NextSend:
    at: datetime | None = strawberry.field(
        description="When the engine next acts on it: the step's due time as the engine "
        "last scheduled or deferred it (the next opening of the sending window, the next "
        "day of a daily limit, the end of a retry backoff). For a PAUSED one with an "
        "auto-resume, when the step would go after resuming; null when nothing says when."
    )
    step: int = strawberry.field(description="The step's position, from 1.")
    channel: StepChannel = strawberry.field(description="How the step is sent.")
    waiting_for: WaitingFor = strawberry.field(description="What it waits for.")


@dataclass(frozen=True, slots=True)
class Schedule:
    """The enrollment's fields a NextSend is read from."""

    status: EnrollmentStatus
    sequence_pk: int
    current_step: int | None
    next_run_at: datetime | None
    waiting_for: WaitingFor | None
    resume_at: datetime | None
    paused_at: datetime | None
    paused_due_at: datetime | None


async def next_send(info: ContextInfo, s: Schedule) -> NextSend | None:
    """ACTIVE: as the engine stored it (a sequence turned off or archived says so);
    PAUSED: PAUSED, due after the auto-resume with the wait that was left; otherwise (or
    with no step left to send) null."""
    if s.current_step is None or s.status not in (
        EnrollmentStatus.ACTIVE,
        EnrollmentStatus.PAUSED,
    ):
        return None
    loaders = info.context.loaders
    sequence = await loaders.sequences.load(s.sequence_pk)
    steps = await loaders.steps.load(s.sequence_pk) or []
    step = next((r for r in steps if r.position == s.current_step), None)
    if sequence is None or step is None:
        return None
    channel = StepChannel(step.channel)
    if s.status is EnrollmentStatus.PAUSED:
        at = None
        if s.resume_at is not None:
            left = (
                s.paused_due_at - s.paused_at
                if s.paused_due_at is not None and s.paused_at is not None
                else None
            )
            kept = left is not None and left.total_seconds() > 0
            at = s.resume_at + left if kept and left is not None else s.resume_at
        return NextSend(at=at, step=s.current_step, channel=channel, waiting_for=WaitingFor.PAUSED)
    why = s.waiting_for or WaitingFor.WAIT
    if not sequence.active or sequence.archived:
        why = WaitingFor.SEQUENCE_INACTIVE
    return NextSend(at=s.next_run_at, step=s.current_step, channel=channel, waiting_for=why)
