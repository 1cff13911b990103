"""What the enrollmentActivity subscription sends: one activity of one enrollment (a
message sent, what came back), from the sequence's event log."""

from __future__ import annotations

from datetime import datetime

import strawberry

from seqgql.events.log import EventCursor
from seqgql.graphql.activity_types import ActivityType
from seqgql.graphql.context import loaded
from seqgql.graphql.enrollment_types import EnrollmentType
from seqgql.graphql.enums import ActivityKind
from seqgql.graphql.node import ContextInfo
from seqgql.graphql.relay import global_id
from seqgql.graphql.user_types import UserType
from seqgql.persistence.types import Row


@strawberry.type(
    description="One activity of one enrollment, from its sequence's event log: a step "
    "sent, a delivery, an open, a click, a reply, a bounce, a deferral..."
)
class EnrollmentActivityEvent:
    cursor: str = strawberry.field(
        description="Pass as `since` to resume after this activity (opaque). A cursor of "
        "the same log as `enrollmentStatusChanged`'s: either subscription takes the "
        "other's cursors."
    )
    number: int = strawberry.field(
        description="Its number in the sequence's event log (shared with status changes: "
        "numbers are gapless over both, so activities alone may skip some)."
    )
    kind: ActivityKind = strawberry.field(description="What happened.")
    step: int | None = strawberry.field(
        description="The step concerned (null for sendMessage messages)."
    )
    occurred_at: datetime = strawberry.field(
        description="When it happened (a provider's time when it gave one)."
    )
    activity: ActivityType = strawberry.field(
        description="The activity itself, as in `Enrollment.activities` (its detail: a "
        "subject, a reply's text, why a message failed)."
    )
    enrollment_pk: strawberry.Private[int]
    actor_pk: strawberry.Private[int | None]

    @strawberry.field(
        description="The enrollment, as it is when the message is sent (not as it was at "
        "the activity)."
    )
    async def enrollment(self, info: ContextInfo) -> EnrollmentType:
        row = await info.context.loaders.enrollments.load(self.enrollment_pk)
        assert row is not None
        return EnrollmentType.from_row(row)

    @strawberry.field(
        description="The user whose call recorded it (sendMessage, recordDeliveryEvent); "
        "null for the engine's sends and for hooks."
    )
    async def actor(self, info: ContextInfo) -> UserType | None:
        return await loaded(info.context.loaders.users, self.actor_pk, UserType.from_row)

    @classmethod
    def from_row(cls, row: Row) -> EnrollmentActivityEvent:
        """A row of ``events_after(..., activities=True)``: the event and its activity."""
        return cls(
            cursor=EventCursor(row.sequence_id, row.number).encode(),
            number=row.number,
            kind=row.activity,
            step=row.to_step,
            occurred_at=row.at,
            activity=ActivityType(
                id=global_id("Activity", row.activity_id),
                kind=row.activity,
                step=row.to_step,
                at=row.at,
                detail=row.detail,
            ),
            enrollment_pk=row.enrollment_id,
            actor_pk=row.actor_id,
        )
