"""The enrollment mutations: each turns its input into its action's options
(``graphql.bulk_inputs``) and runs one service action."""

from __future__ import annotations

from typing import Annotated, Any, Protocol

import strawberry

from seqgql.graphql.bulk_inputs import (
    AddContactsToSequenceInput,
    AddEnrollmentsToGroupInput,
    FinishEnrollmentsInput,
    MoveEnrollmentsInput,
    MoveEnrollmentsToStepInput,
    PauseEnrollmentsInput,
    RecordDeliveryEventInput,
    RemoveEnrollmentsInput,
    RestartEnrollmentsInput,
    ResumeEnrollmentsInput,
    SendMessageInput,
)
from seqgql.graphql.bulk_operation_types import SkippedGroup, described
from seqgql.graphql.context import Context
from seqgql.graphql.enrollment_types import EnrollmentType
from seqgql.graphql.inputs import IdDecoder, require_aware
from seqgql.graphql.node import ContextInfo
from seqgql.graphql.payloads import (
    BulkEnrollmentPayload,
    RecordDeliveryEventPayload,
    RestartEnrollmentsPayload,
    SendMessagePayload,
    user_errors,
)
from seqgql.graphql.permissions import WriteAccess
from seqgql.graphql.sequence_types import SequenceType
from seqgql.services import enrollments
from seqgql.services.enrollments.bulk_action import BulkAction
from seqgql.services.enrollments.results import BulkResult


class BulkInput(Protocol):
    dry_run: bool
    idempotency_key: str | None

    def to_options(self, ids: IdDecoder, ctx: Context) -> Any: ...


async def perform(info: ContextInfo, input: BulkInput, action: BulkAction[Any]) -> BulkResult:
    """Run ``action`` with the input's options, unless decoding them found errors."""
    ctx, ids = info.context, IdDecoder()
    options = input.to_options(ids, ctx)
    if ids.errors:
        return BulkResult(dry_run=input.dry_run, errors=ids.errors)
    recorded = described(input)
    for left_out in ("dryRun", "idempotencyKey"):
        recorded.pop(left_out, None)
    return await action.run(
        ctx.db,
        ctx.clock,
        ctx.actor,
        options,
        dry_run=input.dry_run,
        idempotency_key=input.idempotency_key,
        described=recorded,
    )


@strawberry.type
class EnrollmentMutations:
    @strawberry.mutation(
        extensions=[WriteAccess()],
        description="Enroll contacts: new ones start ACTIVE at step 1 (or OMITTED: opted out, "
        "SMS to a landline); removed or finished ones resume at the first step not yet sent "
        "(all sent: skipped); enrolled ones are skipped.",
    )
    async def add_contacts_to_sequence(
        self,
        info: ContextInfo,
        input: Annotated[
            AddContactsToSequenceInput,
            strawberry.argument(description="The sequence and the contacts to enroll."),
        ],
    ) -> BulkEnrollmentPayload:
        result = await perform(info, input, enrollments.add_contacts)
        return BulkEnrollmentPayload.from_result(result)

    @strawberry.mutation(
        extensions=[WriteAccess()],
        description="Pause: ACTIVE and NOT_SENT enrollments become PAUSED (MANUAL), "
        "optionally resuming by themselves at `resumeAt`; the others are skipped.",
    )
    async def pause_enrollments(
        self,
        info: ContextInfo,
        input: Annotated[
            PauseEnrollmentsInput,
            strawberry.argument(description="The enrollments, and when they resume."),
        ],
    ) -> BulkEnrollmentPayload:
        return BulkEnrollmentPayload.from_result(await perform(info, input, enrollments.pause))

    @strawberry.mutation(
        extensions=[WriteAccess()],
        description="Resume PAUSED and NOT_SENT enrollments: ACTIVE now (the current step "
        "due at once), or at `resumeAt`; the others are skipped.",
    )
    async def resume_enrollments(
        self,
        info: ContextInfo,
        input: Annotated[
            ResumeEnrollmentsInput,
            strawberry.argument(description="The enrollments, and when they resume."),
        ],
    ) -> BulkEnrollmentPayload:
        return BulkEnrollmentPayload.from_result(await perform(info, input, enrollments.resume))

    @strawberry.mutation(
        extensions=[WriteAccess()],
        description="Mark finished: any status but REMOVED and FINISHED becomes FINISHED with "
        "the reason given; nothing more is sent and history is kept.",
    )
    async def finish_enrollments(
        self,
        info: ContextInfo,
        input: Annotated[
            FinishEnrollmentsInput,
            strawberry.argument(description="The enrollments, and the reason."),
        ],
    ) -> BulkEnrollmentPayload:
        return BulkEnrollmentPayload.from_result(await perform(info, input, enrollments.finish))

    @strawberry.mutation(
        extensions=[WriteAccess()],
        description="Take out of the sequence (a mistaken enrollment): any status but REMOVED "
        "becomes REMOVED; history is kept, and removed enrollments are hidden unless asked "
        "for.",
    )
    async def remove_enrollments(
        self,
        info: ContextInfo,
        input: Annotated[
            RemoveEnrollmentsInput, strawberry.argument(description="The enrollments.")
        ],
    ) -> BulkEnrollmentPayload:
        return BulkEnrollmentPayload.from_result(await perform(info, input, enrollments.remove))

    @strawberry.mutation(
        extensions=[WriteAccess()],
        description="Put enrollments on another step of their sequence: skip ahead or go "
        "back (Salesloft's and Instantly's step moves).",
    )
    async def move_enrollments_to_step(
        self,
        info: ContextInfo,
        input: Annotated[
            MoveEnrollmentsToStepInput,
            strawberry.argument(description="The enrollments, and the step."),
        ],
    ) -> BulkEnrollmentPayload:
        result = await perform(info, input, enrollments.move_to_step)
        return BulkEnrollmentPayload.from_result(result)

    @strawberry.mutation(
        extensions=[WriteAccess()],
        description="Move contacts out of the wrong sequence into another, in one atomic "
        "call: enrolled in the target, and removed from the source (REMOVED, MOVED, linked "
        "by `movedTo`); one bulk operation.",
    )
    async def move_enrollments(
        self,
        info: ContextInfo,
        input: Annotated[
            MoveEnrollmentsInput,
            strawberry.argument(description="The enrollments, and where to move them."),
        ],
    ) -> BulkEnrollmentPayload:
        return BulkEnrollmentPayload.from_result(await perform(info, input, enrollments.move))

    @strawberry.mutation(
        extensions=[WriteAccess()],
        description="Start the contacts of REMOVED or FINISHED enrollments over, from step 1, "
        "in a clone of their sequence (new, or `targetSequenceId`); the selected "
        "enrollments stay as they are.",
    )
    async def restart_enrollments(
        self,
        info: ContextInfo,
        input: Annotated[
            RestartEnrollmentsInput,
            strawberry.argument(description="The enrollments, and where to restart them."),
        ],
    ) -> RestartEnrollmentsPayload:
        result = await perform(info, input, enrollments.restart)
        sequence = None
        if result.sequence_id is not None and not result.dry_run:
            row = await info.context.loaders.sequences.load(result.sequence_id)
            sequence = SequenceType.from_row(row) if row else None
        bulk = BulkEnrollmentPayload.from_result(result)
        return RestartEnrollmentsPayload(
            sequence=sequence,
            changed_count=bulk.changed_count,
            skipped=bulk.skipped,
            dry_run=bulk.dry_run,
            bulk_operation_id=bulk.bulk_operation_id,
            user_errors=bulk.user_errors,
            operation_pk=result.bulk_operation_id,
        )

    @strawberry.mutation(
        extensions=[WriteAccess()],
        description="Add the selected enrollments' contacts to a group, whatever their status "
        "(no status changes); those already in it are skipped.",
    )
    async def add_enrollments_to_group(
        self,
        info: ContextInfo,
        input: Annotated[
            AddEnrollmentsToGroupInput,
            strawberry.argument(description="The enrollments, and the group."),
        ],
    ) -> BulkEnrollmentPayload:
        result = await perform(info, input, enrollments.add_to_group)
        return BulkEnrollmentPayload.from_result(result)

    @strawberry.mutation(
        extensions=[WriteAccess()],
        description="Send one message now to at most 10 contacts, each individually, recorded "
        "as SENT activity on each selected enrollment; no status changes.",
    )
    async def send_message(
        self,
        info: ContextInfo,
        input: Annotated[
            SendMessageInput, strawberry.argument(description="The enrollments, and the message.")
        ],
    ) -> SendMessagePayload:
        result = await perform(info, input, enrollments.send_message)
        return SendMessagePayload(
            sent_count=result.changed_count,
            skipped=[SkippedGroup.from_result(g) for g in result.skipped],
            dry_run=result.dry_run,
            user_errors=user_errors(result.errors),
            operation_pk=result.bulk_operation_id,
        )

    @strawberry.mutation(
        extensions=[WriteAccess()],
        description="Record what a mail/SMS provider reports about a message (its webhook "
        "calls this): kept as activity, and the status changes it implies applied.",
    )
    async def record_delivery_event(
        self,
        info: ContextInfo,
        input: Annotated[RecordDeliveryEventInput, strawberry.argument(description="The report.")],
    ) -> RecordDeliveryEventPayload:
        ctx = info.context
        ids = IdDecoder()
        pk = ids.one(input.enrollment_id, "Enrollment", ["input", "enrollmentId"])
        require_aware(input.occurred_at, ["input", "occurredAt"], ids)
        if ids.errors:
            return RecordDeliveryEventPayload.refused(ids.errors)
        result = await enrollments.record_delivery_event(
            ctx.db,
            ctx.clock,
            ctx.actor,
            pk,
            input.kind,
            return_date=input.return_date,
            occurred_at=input.occurred_at,
            detail=input.detail,
            idempotency_key=input.idempotency_key,
        )
        node = None
        if result.enrollment_id is not None:
            row = await ctx.loaders.enrollments.load(result.enrollment_id)
            node = EnrollmentType.from_row(row) if row else None
        return RecordDeliveryEventPayload(
            enrollment=node,
            status_changed=result.status_changed,
            skipped_reason=result.skip,
            user_errors=user_errors(result.errors),
        )
