"""The BulkOperation node: a bulk action as recorded — who called it with what, what it
changed and skipped — and the status changes it made."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.utils.str_converters import to_camel_case

from seqgql.graphql.context import loaded
from seqgql.graphql.enums import BulkActionKind, SkipReason
from seqgql.graphql.node import ContextInfo, Node
from seqgql.graphql.relay import (
    After,
    Before,
    First,
    Last,
    global_id,
    listing_connection,
    page_request,
    to_global_id,
)
from seqgql.graphql.sequence_types import SequenceType
from seqgql.graphql.status_change_types import EnrollmentStatusChange, StatusChangeConnection
from seqgql.graphql.user_types import UserType
from seqgql.persistence.types import Row
from seqgql.services.enrollments.operation_records import operation_event_listing
from seqgql.services.enrollments.results import BulkResult
from seqgql.services.enrollments.results import SkippedGroup as SkippedGroupResult


@strawberry.type(description="Selected items an action left as they were, and why.")
class SkippedGroup:
    reason: SkipReason = strawberry.field(description="Why they were left as they were.")
    count: int = strawberry.field(description="How many, in all.")
    ids: list[strawberry.ID] = strawberry.field(
        description="At most 100 of them, lowest first: enrollment ids, or contact ids for "
        "contacts that were not enrolled (addContactsToSequence's ALREADY_ENROLLED, "
        "ALL_STEPS_SENT, ACTIVE_IN_OTHER_SEQUENCE)."
    )
    message: str = strawberry.field(description="The reason in a sentence, to show a person.")
    rule: str | None = strawberry.field(
        default=None,
        description="The sequence rule that left them out (e.g. `activeElsewhere`); null "
        "when the call itself or the status model did.",
    )
    sequence_pk: strawberry.Private[int | None] = None

    @strawberry.field(
        description="ACTIVE_IN_OTHER_SEQUENCE: the other sequence these contacts are active "
        "in; null for the other reasons."
    )
    async def sequence(self, info: ContextInfo) -> SequenceType | None:
        return await loaded(info.context.loaders.sequences, self.sequence_pk, SequenceType.from_row)

    @classmethod
    def from_result(cls, group: SkippedGroupResult) -> SkippedGroup:
        return cls(
            reason=group.reason,
            count=group.count,
            ids=[strawberry.ID(to_global_id(group.kind, pk)) for pk in group.ids],
            message=group.message,
            rule=group.rule,
            sequence_pk=group.sequence_id,
        )


@strawberry.type(
    name="BulkOperation",
    description="One call of a bulk mutation (addContactsToSequence, pauseEnrollments, "
    "resumeEnrollments, finishEnrollments, removeEnrollments, restartEnrollments, "
    "moveEnrollmentsToStep, moveEnrollments, addEnrollmentsToGroup, sendMessage, "
    "recordDeliveryEvent, undoBulkOperation), as recorded: who made it "
    "with what input, what it changed and skipped, and the status changes it made. Dry "
    "runs and refused calls are not recorded.",
)
class BulkOperationType(Node):
    action: BulkActionKind = strawberry.field(description="The mutation called.")
    created_at: datetime = strawberry.field(description="When it ran.")
    changed_count: int = strawberry.field(
        description="How many it changed (the payload's `changedCount` or `sentCount`)."
    )
    options: JSON | None = strawberry.field(
        description="The input it was called with, as the caller wrote it (GraphQL field "
        "names, global ids; fields left out or null, `dryRun` and `idempotencyKey` not "
        "shown). Null for operations recorded before inputs were kept."
    )
    skipped: list[SkippedGroup] = strawberry.field(
        description="The selected items it left as they were, grouped by reason, with up to "
        "100 ids per reason."
    )
    pk: strawberry.Private[int]
    actor_pk: strawberry.Private[int | None]

    @strawberry.field(
        description="The user whose API token made the call; null if that user no longer exists."
    )
    async def actor(self, info: ContextInfo) -> UserType | None:
        return await loaded(info.context.loaders.users, self.actor_pk, UserType.from_row)

    @strawberry.field(
        description="The status changes it made, one per enrollment changed, in the order "
        "they were made (none for addEnrollmentsToGroup and sendMessage, which change no "
        "status)."
    )
    async def events(
        self,
        info: ContextInfo,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> StatusChangeConnection:
        ctx = info.context
        listing = operation_event_listing(ctx.workspace_id, self.pk)
        request = page_request(first, after, last, before)
        return await listing_connection(
            StatusChangeConnection, ctx.db, listing, request, EnrollmentStatusChange.from_row
        )

    @classmethod
    def from_row(cls, row: Row) -> BulkOperationType:
        result = BulkResult.from_json(row.result) if row.result else BulkResult()
        return cls(
            id=global_id("BulkOperation", row.id),
            action=row.kind,
            created_at=row.created_at,
            changed_count=row.changed_count,
            options=row.options,
            skipped=[SkippedGroup.from_result(g) for g in result.skipped],
            pk=row.id,
            actor_pk=row.actor_id,
        )


def described(value: Any) -> Any:
    """A GraphQL input object (or a value in one) as JSON, with its GraphQL field names:
    what the caller wrote, after coercion, without the fields left out or null."""
    if isinstance(value, enum.Enum):
        return value.name  # its GraphQL name
    definition = getattr(value, "__strawberry_definition__", None)
    if definition is not None:
        return {
            f.graphql_name or to_camel_case(f.python_name): described(getattr(value, f.python_name))
            for f in definition.fields
            if getattr(value, f.python_name) not in (None, strawberry.UNSET)
        }
    if isinstance(value, list):
        return [described(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
