"""A sequence's enrollments counted per step (``Sequence.stepCounts``, the funnel) and
those that ended before its first step (``Sequence.endedBeforeFirstStep``)."""

from __future__ import annotations

import strawberry

from seqgql.graphql.enums import ActivityKind, StepChannel
from seqgql.persistence.types import Row
from seqgql.services.sequences.step_counts import EndedTally, StepCounts

KINDS = [k for k in ActivityKind if k is not ActivityKind.NOTE]


@strawberry.type(
    description="FINISHED enrollments by outcome (`Enrollment.outcome`). `total` also "
    "counts any finished before outcomes were kept that have none."
)
class OutcomeCounts:
    responded: int = strawberry.field(
        description="RESPONDED: a reply was detected (a REPLIED delivery report)."
    )
    no_response: int = strawberry.field(
        description="NO_RESPONSE: every step was sent and the reply window passed."
    )
    stopped: int = strawberry.field(
        description="STOPPED: a user finished them (finishEnrollments), whatever the reason."
    )
    total: int = strawberry.field(description="All of them.")

    @classmethod
    def of(cls, ended: EndedTally) -> OutcomeCounts:
        return cls(
            responded=ended.responded,
            no_response=ended.no_response,
            stopped=ended.stopped,
            total=ended.finished,
        )


FINISHED = "FINISHED enrollments, by outcome."
BOUNCED = "BOUNCED: an email refused for good."
FAILED = "FAILED: an SMS refused, or a step that kept failing to go out."
OPTED_OUT = "OPTED_OUT: the contact opted out."
OMITTED = "OMITTED: the contact could not be sent the sequence (opted out before, landline)."
REMOVED = "REMOVED from the sequence (moved to another one included)."


@strawberry.type(
    description="Enrollments that were sent no step and ended: finished, bounced, failed, "
    "opted out, omitted or removed before their first step went out (an email refused at "
    "the first step is here: a refused message is not a step sent)."
)
class EndedCounts:
    finished: OutcomeCounts = strawberry.field(description=FINISHED)
    bounced: int = strawberry.field(description=BOUNCED)
    failed: int = strawberry.field(description=FAILED)
    opted_out: int = strawberry.field(description=OPTED_OUT)
    omitted: int = strawberry.field(description=OMITTED)
    removed: int = strawberry.field(description=REMOVED)
    total: int = strawberry.field(description="All of them.")

    @classmethod
    def of(cls, ended: EndedTally) -> EndedCounts:
        return cls(
            finished=OutcomeCounts.of(ended),
            bounced=ended.bounced,
            failed=ended.failed,
            opted_out=ended.opted_out,
            omitted=ended.omitted,
            removed=ended.removed,
            total=ended.total,
        )


@strawberry.type(description="How many activities of one kind a step's messages met.")
class ActivityCount:
    kind: ActivityKind = strawberry.field(description="The kind of activity.")
    count: int = strawberry.field(description="How many were recorded for the step.")


AT_LAST_SENT = " whose last step sent (a message the transport accepted) is this one"


@strawberry.type(
    description="A sequence's enrollments at one of its steps. One still going through "
    "the sequence (active, paused, not sent) is at its current step, the one it waits to "
    "send; once every step is sent, at the last. One that ended (finished, bounced, failed, "
    "opted out, omitted, removed) is at the last step it was sent, or, sent none, in "
    "`Sequence.endedBeforeFirstStep`. So every enrollment, removed ones included, is "
    "counted once: at one step, or before the first. `reached` is the funnel: how many got "
    "this far, whatever became of them."
)
class StepCount:
    position: int = strawberry.field(description="The step's place in the sequence: 1, 2, 3...")
    channel: StepChannel = strawberry.field(description="How the step is sent.")
    reached: int = strawberry.field(
        description="Enrollments whose last step sent is this one or a later one, in any "
        "status: how many got this far (a step skipped by moveEnrollmentsToStep counts as "
        "passed). Never more than the previous step's."
    )
    active: int = strawberry.field(
        description="ACTIVE ones waiting to send this step (due at their `nextRunAt`)."
    )
    awaiting_reply: int = strawberry.field(
        description="ACTIVE ones that were sent every step, this one the last: the reply "
        "window is running (then FINISHED, NO_RESPONSE). Zero but at the last step."
    )
    paused: int = strawberry.field(
        description="PAUSED ones whose current step is this one (or, paused with every "
        "step sent, whose last step sent is this one)."
    )
    not_sent: int = strawberry.field(
        description="NOT_SENT ones: this step could not be sent to them (their `reason` "
        "says why); resumed, it is sent."
    )
    finished: OutcomeCounts = strawberry.field(
        description="FINISHED ones" + AT_LAST_SENT + ", by outcome: those who replied to "
        "this step, were stopped after it, or (at the last step) did not respond."
    )
    bounced: int = strawberry.field(
        description="BOUNCED ones" + AT_LAST_SENT + ": a bounce reported for this step's "
        "email, or the next step's email refused when sending it."
    )
    failed: int = strawberry.field(
        description="FAILED ones" + AT_LAST_SENT + " (an SMS refused, or the next step "
        "failing to go out)."
    )
    opted_out: int = strawberry.field(description="OPTED_OUT ones" + AT_LAST_SENT + ".")
    omitted: int = strawberry.field(description="OMITTED ones" + AT_LAST_SENT + ".")
    removed: int = strawberry.field(description="REMOVED ones" + AT_LAST_SENT + ".")
    ended: int = strawberry.field(
        description="All that ended here: `finished.total`, `bounced`, `failed`, "
        "`optedOut`, `omitted` and `removed` together."
    )
    activities: list[ActivityCount] = strawberry.field(
        description="What this step's messages met, per kind of activity, every kind "
        "listed (zero where none): SENT (each time the step went out), DELIVERED, OPENED, "
        "CLICKED, REPLIED, BOUNCED, DEFERRED... as recorded by the engine and by delivery "
        "reports (a report counts at the last step sent to its enrollment). Live with "
        "`sequenceStepCounts`."
    )


def step_count_list(steps: list[Row], counts: StepCounts) -> list[StepCount]:
    """One entry per step of the sequence, in order, zeros where none."""
    found = []
    for step in steps:
        at = counts.at(step.position)
        ended = at.ended
        found.append(
            StepCount(
                position=step.position,
                channel=step.channel,
                reached=at.reached,
                active=at.active,
                awaiting_reply=at.awaiting_reply,
                paused=at.paused,
                not_sent=at.not_sent,
                finished=OutcomeCounts.of(ended),
                bounced=ended.bounced,
                failed=ended.failed,
                opted_out=ended.opted_out,
                omitted=ended.omitted,
                removed=ended.removed,
                ended=ended.total,
                activities=[ActivityCount(kind=k, count=at.activities.get(k, 0)) for k in KINDS],
            )
        )
    return found
