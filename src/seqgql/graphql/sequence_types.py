"""The Sequence node, its steps, sending window and status counts, and the connection
that lists sequences."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from seqgql.domain.sequence import SendingWindow as SendingWindowSpec
from seqgql.events.log import EventCursor
from seqgql.graphql.context import Context
from seqgql.graphql.enums import EnrollmentStatus, StepChannel, Weekday
from seqgql.graphql.node import ContextInfo, Node
from seqgql.graphql.relay import Connection, global_id, listing_connection
from seqgql.persistence.types import Row
from seqgql.services.sequences.catalog import sequence_listing


@strawberry.type(description="The number of enrollments in one status.")
class StatusCount:
    status: EnrollmentStatus
    count: int


def status_count_list(counts: dict[EnrollmentStatus, int]) -> list[StatusCount]:
    """Every status, in the model's order, zero where none."""
    return [StatusCount(status=s, count=counts.get(s, 0)) for s in EnrollmentStatus]


@strawberry.type(description="One touch of a sequence.")
class Step:
    position: int
    channel: StepChannel
    wait_minutes: int = strawberry.field(description="How long after the previous step.")
    subject: str | None
    body: str

    @classmethod
    def from_row(cls, row: Row) -> Step:
        return cls(
            position=row.position,
            channel=row.channel,
            wait_minutes=row.wait_minutes,
            subject=row.subject,
            body=row.body,
        )


@strawberry.type(description="When steps may be sent, in the contact's time zone.")
class SendingWindow:
    days: list[Weekday]
    start: str
    end: str
    time_zone: str = strawberry.field(description="For contacts without a time zone.")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SendingWindow:
        spec = SendingWindowSpec.from_json(data)
        return cls(days=list(spec.days), start=spec.start, end=spec.end, time_zone=spec.time_zone)


@strawberry.type(name="Sequence", description="An ordered list of steps contacts go through.")
class SequenceType(Node):
    name: str
    archived: bool
    reply_window_minutes: int = strawberry.field(
        description="After the last step, how long to wait for a reply before finishing."
    )
    sending_window: SendingWindow | None
    daily_limit_per_sender: int | None = strawberry.field(
        description="Steps sent per sender per day at most (null: no limit)."
    )
    created_at: datetime
    event_cursor: str = strawberry.field(
        description="The position of the sequence's latest status change: read it with a "
        "page of enrollments, then subscribe with `since` to miss nothing in between."
    )
    pk: strawberry.Private[int]
    cloned_from_pk: strawberry.Private[int | None]

    @strawberry.field
    async def cloned_from(self, info: ContextInfo) -> SequenceType | None:
        if self.cloned_from_pk is None:
            return None
        row = await info.context.loaders.sequences.load(self.cloned_from_pk)
        return SequenceType.from_row(row) if row else None

    @strawberry.field
    async def steps(self, info: ContextInfo) -> list[Step]:
        rows = await info.context.loaders.steps.load(self.pk) or []
        return [Step.from_row(r) for r in rows]

    @strawberry.field(description="Enrollments per status, every status listed.")
    async def status_counts(self, info: ContextInfo) -> list[StatusCount]:
        counts = await info.context.loaders.sequence_counts.load(self.pk) or {}
        return status_count_list(counts)

    @classmethod
    def from_row(cls, row: Row) -> SequenceType:
        return cls(
            id=global_id("Sequence", row.id),
            name=row.name,
            archived=row.archived,
            reply_window_minutes=row.reply_window_minutes,
            sending_window=SendingWindow.from_json(row.sending_window)
            if row.sending_window
            else None,
            daily_limit_per_sender=row.daily_limit_per_sender,
            created_at=row.created_at,
            event_cursor=EventCursor(row.id, row.last_event_number).encode(),
            pk=row.id,
            cloned_from_pk=row.cloned_from_id,
        )


@strawberry.type
class SequenceConnection(Connection[SequenceType]):
    pass


async def sequence_list(
    ctx: Context, first: int | None, after: str | None, include_archived: bool
) -> SequenceConnection:
    listing = sequence_listing(ctx.workspace_id, include_archived)
    return await listing_connection(
        SequenceConnection, ctx.db, listing, first, after, SequenceType.from_row
    )
