"""The sends a sequence will make in a period (`Query.scheduledSends`): the Contacts
tab's "scheduled" view, computed with the engine's own window rules."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from seqgql.graphql.enrollment_types import EnrollmentType
from seqgql.graphql.enums import StepChannel
from seqgql.graphql.inputs import IdDecoder, time_bound
from seqgql.graphql.node import ContextInfo
from seqgql.graphql.public_errors import PublicError
from seqgql.graphql.relay import (
    After,
    Before,
    Connection,
    Edge,
    First,
    Last,
    Lazy,
    page_info,
    page_request,
    paged,
)
from seqgql.services.enrollments.scheduled import PreviewRefused, scheduled_sends


@strawberry.type(description="One step the engine will send, and when.")
class ScheduledSend:
    at: datetime = strawberry.field(
        description="When it goes out: its due time moved into the sending window, in the "
        "contact's time zone (the daily limit is not simulated)."
    )
    step: int = strawberry.field(description="The step's position, from 1.")
    channel: StepChannel = strawberry.field(description="How it is sent.")
    enrollment_pk: strawberry.Private[int]

    @strawberry.field(description="The enrollment it is sent for.")
    async def enrollment(self, info: ContextInfo) -> EnrollmentType | None:
        row = await info.context.loaders.enrollments.load(self.enrollment_pk)
        return EnrollmentType.from_row(row) if row else None


@strawberry.type(description="Scheduled sends, a page at a time, in time order.")
class ScheduledSendConnection(Connection[ScheduledSend]):
    pass


@strawberry.type
class ScheduleQueries:
    @strawberry.field(
        description="The sends a sequence will make from `from` to `to` (at most 31 days), "
        "in time order: each ACTIVE enrollment's current step at the moment the engine "
        "will send it (the sending window in the contact's time zone). Contacts opted out "
        "or unreachable on the step's channel are not listed; a sequence turned off lists "
        "none. At most 100,000 enrollments due by `to` are read (TOO_MANY beyond)."
    )
    async def scheduled_sends(
        self,
        info: ContextInfo,
        sequence_id: Annotated[
            strawberry.ID, strawberry.argument(description="The sequence (its global id).")
        ],
        from_: Annotated[
            datetime,
            strawberry.argument(
                name="from", description="The start of the period (included); no offset: UTC."
            ),
        ],
        to: Annotated[
            datetime,
            strawberry.argument(description="The end of the period (excluded); no offset: UTC."),
        ],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ScheduledSendConnection:
        ctx = info.context
        ids = IdDecoder()
        pk = ids.one(sequence_id, "Sequence", ["sequenceId"])
        start = time_bound(from_, ids, ["from"])
        end = time_bound(to, ids, ["to"])
        if ids.errors or start is None or end is None:
            err = ids.errors[0]
            raise PublicError(err.message, code=err.code.value, argument=str(err.field[0]))
        request = page_request(first, after, last, before)
        try:
            page, total = await paged(
                scheduled_sends(ctx.db, ctx.actor, pk, start, end, ctx.clock.now(), request)
            )
        except PreviewRefused as exc:
            raise PublicError(str(exc), code=exc.code, argument=exc.argument) from exc
        nodes = [
            ScheduledSend(at=s.at, step=s.step, channel=s.channel, enrollment_pk=s.enrollment_id)
            for s in page.rows
        ]
        return ScheduledSendConnection(
            edges=[Edge(cursor=c, node=n) for n, c in zip(nodes, page.cursors, strict=True)],
            page_info=page_info(page),
            count=Lazy.of(total),
        )
