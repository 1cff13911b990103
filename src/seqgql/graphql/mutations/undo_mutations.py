"""undoBulkOperation: its input, its payload and the mutation."""

from __future__ import annotations

from typing import Annotated

import strawberry

from seqgql.graphql.bulk_inputs import DRY_RUN, IDEMPOTENCY_KEY
from seqgql.graphql.bulk_operation_types import SkippedGroup
from seqgql.graphql.context import Context
from seqgql.graphql.inputs import IdDecoder
from seqgql.graphql.mutations.enrollment_mutations import perform
from seqgql.graphql.node import ContextInfo
from seqgql.graphql.payloads import (
    BULK_OPERATION_ID,
    USER_ERRORS,
    Payload,
    RecordedOperation,
    UserError,
    bulk_fields,
)
from seqgql.graphql.payloads import (
    DRY_RUN as DRY_RUN_ECHO,
)
from seqgql.graphql.permissions import WriteAccess
from seqgql.services.enrollments.undo import UndoOptions, undo


@strawberry.input(description="The bulk operation to undo.")
class UndoBulkOperationInput:
    bulk_operation_id: strawberry.ID = strawberry.field(
        description="A payload's `bulkOperationId` (a BulkOperation's global id), at most 24 "
        "hours old."
    )
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)

    def to_options(self, ids: IdDecoder, ctx: Context) -> UndoOptions:
        pk = ids.one(self.bulk_operation_id, "BulkOperation", ["input", "bulkOperationId"])
        return UndoOptions(pk)


@strawberry.type(description="What undoBulkOperation put back (or, with `dryRun`, would).")
class UndoBulkOperationPayload(Payload, RecordedOperation):
    changed_count: int = strawberry.field(
        default=0, description="How many enrollments went back to their state before."
    )
    skipped: list[SkippedGroup] = strawberry.field(
        default_factory=list,
        description="The operation's enrollments left as they are: CHANGED_SINCE, those that "
        "changed after it (going back would lose that change).",
    )
    messages_sent: int = strawberry.field(
        default=0,
        description="Messages sent to those enrollments since the operation: they are not "
        "unsent (the enrollments still go back).",
    )
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN_ECHO)
    bulk_operation_id: strawberry.ID | None = strawberry.field(
        default=None, description=BULK_OPERATION_ID
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list, description=USER_ERRORS)


@strawberry.type
class UndoMutations:
    @strawberry.mutation(
        extensions=[WriteAccess()],
        description="Undo a bulk operation (pause, resume, finish, remove, move, enroll, "
        "restart, a delivery report, an undo) within 24 hours of it: each enrollment it "
        "changed and nothing has changed since goes back to its state before (status, "
        "reason, step, resume date; an ACTIVE one with the wait it had left). Others are "
        "skipped (CHANGED_SINCE). sendMessage and addEnrollmentsToGroup cannot be undone. "
        "The undo is a bulk operation itself, with its events (undo it to redo).",
    )
    async def undo_bulk_operation(
        self,
        info: ContextInfo,
        input: Annotated[
            UndoBulkOperationInput, strawberry.argument(description="The operation to undo.")
        ],
    ) -> UndoBulkOperationPayload:
        result = await perform(info, input, undo)
        fields = bulk_fields(result)
        return UndoBulkOperationPayload(
            messages_sent=result.messages_sent or 0,
            **fields,  # type: ignore[arg-type]
        )
