"""What subscriptions send: one status change of one enrollment (also listed by a bulk
operation), and a sequence's counts per status."""

from __future__ import annotations

from datetime import datetime

import strawberry

from seqgql.events.log import EventCursor
from seqgql.graphql.context import loaded
from seqgql.graphql.enrollment_types import EnrollmentType
from seqgql.graphql.enums import EnrollmentStatus, StatusReason
from seqgql.graphql.node import ContextInfo
from seqgql.graphql.relay import Connection, to_global_id
from seqgql.graphql.sequence_types import SequenceType, StatusCount, status_count_list
from seqgql.graphql.user_types import UserType
from seqgql.persistence.types import Row


@strawberry.type(description="One status change of one enrollment, from the event log.")
class EnrollmentStatusChange:
    cursor: str = strawberry.field(
        description="Pass as `since` to resume after this change (opaque)."
    )
    from_status: EnrollmentStatus | None = strawberry.field(
        description="The status before; null when the enrollment was created by this change."
    )
    to_status: EnrollmentStatus = strawberry.field(description="The status after.")
    reason: StatusReason | None = strawberry.field(
        description="The reason that came with the new status; null for statuses without one."
    )
    occurred_at: datetime = strawberry.field(description="When the change was made.")
    number: int = strawberry.field(
        description="The change's number in its sequence's event log, in the order the "
        "changes were made: 1, 2, 3... without gaps over status changes and activities "
        "(`enrollmentActivity`) together, so status changes alone may skip numbers."
    )
    from_step: int | None = strawberry.field(
        description="The current step before the change (null: none, or a change recorded "
        "before steps were kept)."
    )
    to_step: int | None = strawberry.field(
        description="The current step after it. A step move (moveEnrollmentsToStep) changes "
        "only this: `fromStatus` and `toStatus` are then the same."
    )
    rule: str | None = strawberry.field(
        description="The sequence rule that made the change (`finishCompanyOnReply`, "
        "`activeElsewhere`); null when a user, a report or the engine's schedule did."
    )
    enrollment_pk: strawberry.Private[int]
    actor_pk: strawberry.Private[int | None]

    @strawberry.field(
        description="The enrollment that changed, as it is when the message is sent (not as "
        "it was at the change)."
    )
    async def enrollment(self, info: ContextInfo) -> EnrollmentType:
        row = await info.context.loaders.enrollments.load(self.enrollment_pk)
        assert row is not None
        return EnrollmentType.from_row(row)

    @strawberry.field(
        description="The user whose call made the change (for a delivery report, the "
        "webhook's token user); null for the engine's changes and deleted users."
    )
    async def actor(self, info: ContextInfo) -> UserType | None:
        return await loaded(info.context.loaders.users, self.actor_pk, UserType.from_row)

    @classmethod
    def from_row(cls, row: Row) -> EnrollmentStatusChange:
        return cls(
            cursor=EventCursor(row.sequence_id, row.number).encode(),
            from_status=row.from_status,
            to_status=row.to_status,
            reason=row.to_reason,
            occurred_at=row.at,
            number=row.number,
            from_step=row.from_step,
            to_step=row.to_step,
            rule=row.rule,
            enrollment_pk=row.enrollment_id,
            actor_pk=row.actor_id,
        )


@strawberry.type(
    description="A sequence's enrollments counted per status. Its `id` is the sequence's, "
    "so a client cache keeps one per sequence; select `sequence { id statusCounts { status "
    "count } }` to have a cache's Sequence take the pushed counts too."
)
class SequenceStatusCounts:
    id: strawberry.ID = strawberry.field(
        description="The sequence's global id (the same as `sequenceId`): these counts' "
        "identity in a client cache."
    )
    sequence_id: strawberry.ID = strawberry.field(description="The sequence counted.")
    total: int = strawberry.field(description="All its enrollments, removed ones included.")
    counts: list[StatusCount] = strawberry.field(
        description="Per status, every status listed (zero where none)."
    )
    pk: strawberry.Private[int]
    known: strawberry.Private[dict[EnrollmentStatus, int]]

    @strawberry.field(
        description="The sequence counted, its `statusCounts` being these counts (a client "
        "cache that holds the Sequence updates with them)."
    )
    async def sequence(self, info: ContextInfo) -> SequenceType | None:
        loaders = info.context.loaders
        loaders.sequence_counts.prime(self.pk, self.known, force=True)
        row = await loaders.sequences.load(self.pk)
        return SequenceType.from_row(row) if row else None

    @classmethod
    def of(cls, pk: int, counts: dict[EnrollmentStatus, int]) -> SequenceStatusCounts:
        sequence_id = strawberry.ID(to_global_id("Sequence", pk))
        return cls(
            id=sequence_id,
            sequence_id=sequence_id,
            total=sum(counts.values()),
            counts=status_count_list(counts),
            pk=pk,
            known=counts,
        )


@strawberry.type(description="Status changes, a page at a time, in the order they were made.")
class StatusChangeConnection(Connection[EnrollmentStatusChange]):
    pass
