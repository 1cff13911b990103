"""The Sequence node, its steps, sending window, status and step counts, and the
connection that lists sequences."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from seqgql.domain.rules import Ruleset
from seqgql.domain.sequence import SendingWindow as SendingWindowSpec
from seqgql.events.log import EventCursor
from seqgql.graphql.context import Context, loaded
from seqgql.graphql.enums import (
    ActiveElsewhere,
    EnrollmentStatus,
    StepChannel,
    Weekday,
    WhileActiveElsewhere,
)
from seqgql.graphql.node import ContextInfo, Node
from seqgql.graphql.relay import Connection, global_id, listing_connection
from seqgql.graphql.step_count_types import EndedCounts, StepCount, step_count_list
from seqgql.persistence.types import Row
from seqgql.services.pagination import PageRequest
from seqgql.services.sequences.catalog import sequence_listing
from seqgql.services.sequences.step_counts import StepCounts


@strawberry.type(description="The number of enrollments in one status.")
class StatusCount:
    status: EnrollmentStatus = strawberry.field(description="The status counted.")
    count: int = strawberry.field(description="How many enrollments are in it.")


def status_count_list(counts: dict[EnrollmentStatus, int]) -> list[StatusCount]:
    """Every status, in the model's order, zero where none."""
    return [StatusCount(status=s, count=counts.get(s, 0)) for s in EnrollmentStatus]


@strawberry.type(description="One touch of a sequence: a message sent after a wait.")
class Step:
    position: int = strawberry.field(description="Its place in the sequence: 1, 2, 3...")
    channel: StepChannel = strawberry.field(description="How it is sent.")
    wait_minutes: int = strawberry.field(
        description="Minutes after the previous step was sent (for the first step, after "
        "enrollment) before it falls due; it then waits for the sending window."
    )
    subject: str | None = strawberry.field(
        description="An email step's subject (filled in like the body); null for SMS."
    )
    body: str = strawberry.field(
        description="The message; `{{first_name}}`, `{{last_name}}` and `{{email}}` are "
        "filled in from the contact when it is sent."
    )

    @classmethod
    def from_row(cls, row: Row) -> Step:
        return cls(
            position=row.position,
            channel=row.channel,
            wait_minutes=row.wait_minutes,
            subject=row.subject,
            body=row.body,
        )


@strawberry.type(
    description="When steps may be sent: on these days, from `start` to `end`, wall-clock "
    "time in the contact's time zone. A step due outside it waits for the next opening."
)
class SendingWindow:
    days: list[Weekday] = strawberry.field(description="The days steps may be sent on.")
    start: str = strawberry.field(description='Opening time, "HH:MM" (24-hour).')
    end: str = strawberry.field(
        description='Closing time, "HH:MM" (24-hour), later than `start`; a step is not '
        "sent at or after it."
    )
    time_zone: str = strawberry.field(
        description="IANA time zone for contacts without one; also the zone whose days the "
        "daily limit counts."
    )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SendingWindow:
        spec = SendingWindowSpec.from_json(data)
        return cls(days=list(spec.days), start=spec.start, end=spec.end, time_zone=spec.time_zone)


@strawberry.type(
    description="What happens to a sequence's contacts beyond its steps (updateSequence "
    "changes them; the defaults keep a sequence as it always was)."
)
class SequenceRules:
    finish_on_reply: bool = strawberry.field(
        description="A reply detected (a REPLIED delivery report) finishes the enrollment: "
        "FINISHED, REPLIED, outcome RESPONDED. Off: the reply is recorded as activity and "
        "the steps go on. Default on."
    )
    out_of_office_default_days: int | None = strawberry.field(
        description="An out-of-office reply without a return date pauses the contact this "
        "many days (1 to 365), resuming at the start of that day in the contact's time "
        "zone. Null (the default): paused until resumed."
    )
    finish_company_on_reply: bool = strawberry.field(
        description="A reply detected also finishes the other contacts of the same company "
        "(the same email domain; public mail domains such as gmail.com name none) still "
        "going in this sequence: FINISHED, reason COMPANY_REPLIED, the event's `rule` "
        "`finishCompanyOnReply`. Default off."
    )
    active_elsewhere: ActiveElsewhere = strawberry.field(
        description="What addContactsToSequence does, when the call does not say "
        "(`ifActiveElsewhere`), with contacts ACTIVE, PAUSED or NOT_SENT in another "
        "sequence: enroll them anyway (the default), skip them, or move them here. What it "
        "decides carries the rule's name, `activeElsewhere`."
    )

    while_active_elsewhere: WhileActiveElsewhere = strawberry.field(
        description="What the engine does with a step due for a contact ACTIVE, PAUSED or "
        "NOT_SENT in another sequence: send it (the default), skip it (NOT_SENT, "
        "BLOCKED_BY_RULE) or pause the enrollment; the event's `rule` is "
        "`whileActiveElsewhere`."
    )
    max_messages_per_contact_per_day: int | None = strawberry.field(
        description="A step waits for the next day (`waitingFor: CONTACT_DAILY_CAP`) once "
        "its contact was sent this many messages today (UTC), by any sequence: 1 to 100. "
        "Null (the default): no cap."
    )
    daily_limit_per_sender: int | None = strawberry.field(
        description="At most this many steps sent per sender (the user who enrolled the "
        "contact) per day; over it, a step waits for the next day (`waitingFor: "
        "DAILY_LIMIT`). The same setting as the sequence's `dailyLimitPerSender`. Null: no "
        "limit."
    )

    @classmethod
    def of(cls, rules: Ruleset, daily_limit_per_sender: int | None) -> SequenceRules:
        return cls(
            finish_on_reply=rules.finish_on_reply,
            out_of_office_default_days=rules.out_of_office_default_days,
            finish_company_on_reply=rules.finish_company_on_reply,
            active_elsewhere=rules.active_elsewhere,
            while_active_elsewhere=rules.while_active_elsewhere,
            max_messages_per_contact_per_day=rules.max_messages_per_contact_per_day,
            daily_limit_per_sender=daily_limit_per_sender,
        )


@strawberry.type(
    name="Sequence",
    description="An ordered list of steps that enrolled contacts go through, each "
    "individually, on the engine's schedule.",
)
class SequenceType(Node):
    name: str = strawberry.field(description="Its name: one line, at most 200 characters.")
    archived: bool = strawberry.field(
        description="Archived: the engine sends none of its steps, contacts cannot be added "
        "to it, and `sequences` lists it only with `includeArchived`."
    )
    active: bool = strawberry.field(
        description="On (the default): the engine sends its steps and changes its "
        "enrollments' statuses. Off (deactivateSequence): nothing is sent and no status "
        "changes, auto-resumes included, until activateSequence; enrolling still works."
    )
    reply_window_minutes: int = strawberry.field(
        description="Minutes to wait for a reply after the last step before the enrollment "
        "is FINISHED (COMPLETED_NO_RESPONSE); 4,320 (3 days) by default."
    )
    rules: SequenceRules = strawberry.field(description="Its rules.")
    sending_window: SendingWindow | None = strawberry.field(
        description="When steps may be sent; null: at any time."
    )
    daily_limit_per_sender: int | None = strawberry.field(
        description="At most this many steps sent per sender (the user who enrolled the "
        "contact) per day; over it, a step waits for the next day. Null: no limit."
    )
    created_at: datetime = strawberry.field(description="When the sequence was created.")
    event_cursor: str = strawberry.field(
        description="The position of the sequence's latest status change: read it with a "
        "page of enrollments, then subscribe with `since` to miss nothing in between."
    )
    pk: strawberry.Private[int]
    cloned_from_pk: strawberry.Private[int | None]

    @strawberry.field(
        description="The sequence this one was copied from (cloneSequence, "
        "restartEnrollments); null for an original."
    )
    async def cloned_from(self, info: ContextInfo) -> SequenceType | None:
        return await loaded(
            info.context.loaders.sequences, self.cloned_from_pk, SequenceType.from_row
        )

    @strawberry.field(description="Its steps, in order.")
    async def steps(self, info: ContextInfo) -> list[Step]:
        rows = await info.context.loaders.steps.load(self.pk) or []
        return [Step.from_row(r) for r in rows]

    @strawberry.field(
        description="Its enrollments per status, every status listed (zero where none), "
        "removed ones included."
    )
    async def status_counts(self, info: ContextInfo) -> list[StatusCount]:
        counts = await info.context.loaders.sequence_counts.load(self.pk) or {}
        return status_count_list(counts)

    @strawberry.field(
        description="Its enrollments per step: one entry per step, in order, zeros where "
        "none (see StepCount for where each enrollment is counted). Live: "
        "`sequenceStepCounts`."
    )
    async def step_counts(self, info: ContextInfo) -> list[StepCount]:
        loaders = info.context.loaders
        steps = await loaders.steps.load(self.pk) or []
        counts = await loaders.step_counts.load(self.pk)
        return step_count_list(steps, counts or StepCounts())

    @strawberry.field(
        description="Its enrollments that ended before any step was sent to them (with "
        "`stepCounts`, every enrollment is counted once)."
    )
    async def ended_before_first_step(self, info: ContextInfo) -> EndedCounts:
        counts = await info.context.loaders.step_counts.load(self.pk)
        return EndedCounts.of((counts or StepCounts()).before_first_step)

    @classmethod
    def from_row(cls, row: Row) -> SequenceType:
        return cls(
            id=global_id("Sequence", row.id),
            name=row.name,
            archived=row.archived,
            active=row.active,
            reply_window_minutes=row.reply_window_minutes,
            rules=SequenceRules.of(Ruleset.from_json(row.rules), row.daily_limit_per_sender),
            sending_window=SendingWindow.from_json(row.sending_window)
            if row.sending_window
            else None,
            daily_limit_per_sender=row.daily_limit_per_sender,
            created_at=row.created_at,
            event_cursor=EventCursor(row.id, row.last_event_number).encode(),
            pk=row.id,
            cloned_from_pk=row.cloned_from_id,
        )


@strawberry.type(description="Sequences, a page at a time, in the order they were created.")
class SequenceConnection(Connection[SequenceType]):
    pass


async def sequence_list(
    ctx: Context, request: PageRequest, include_archived: bool
) -> SequenceConnection:
    listing = sequence_listing(ctx.workspace_id, include_archived)
    return await listing_connection(
        SequenceConnection, ctx.db, listing, request, SequenceType.from_row
    )
