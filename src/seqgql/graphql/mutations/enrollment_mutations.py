"""Bulk enrollment mutations: each decodes its input and calls one service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry

from seqgql.domain.selection import Selection
from seqgql.graphql.context import Context
from seqgql.graphql.enrollment_types import EnrollmentType
from seqgql.graphql.inputs import (
    AddContactsToSequenceInput,
    AddEnrollmentsToGroupInput,
    FinishEnrollmentsInput,
    IdDecoder,
    PauseEnrollmentsInput,
    RecordDeliveryEventInput,
    RemoveEnrollmentsInput,
    RestartEnrollmentsInput,
    ResumeEnrollmentsInput,
    SendMessageInput,
    require_aware,
    selection_spec,
)
from seqgql.graphql.node import ContextInfo
from seqgql.graphql.payloads import (
    BulkEnrollmentPayload,
    RecordDeliveryEventPayload,
    RestartEnrollmentsPayload,
    SendMessagePayload,
    SkippedGroup,
    user_errors,
)
from seqgql.graphql.permissions import WriteAccess
from seqgql.graphql.sequence_types import SequenceType
from seqgql.services import enrollments
from seqgql.services.enrollments.results import BulkResult


def _failed(ids: IdDecoder, dry_run: bool) -> BulkEnrollmentPayload | None:
    if not ids.errors:
        return None
    return BulkEnrollmentPayload.from_result(BulkResult(dry_run=dry_run, errors=ids.errors))


async def _act(
    ctx: Context, input: Any, ids: IdDecoder, selection: Selection,
    action: Callable[..., Awaitable[BulkResult]], **options: Any,
) -> BulkResult:  # fmt: skip
    """Run a bulk action on a selection, unless decoding the input found errors."""
    if ids.errors:
        return BulkResult(dry_run=input.dry_run, errors=ids.errors)
    return await action(
        ctx.db, ctx.clock, ctx.actor, selection,
        dry_run=input.dry_run, idempotency_key=input.idempotency_key, **options,
    )  # fmt: skip


@strawberry.type
class EnrollmentMutations:
    @strawberry.mutation(
        extensions=[WriteAccess()],
        description="Enroll contacts: new ones start at step 1 (or are omitted: opted out, "
        "SMS to a landline); removed or finished ones resume at the first step not yet sent.",
    )
    async def add_contacts_to_sequence(
        self, info: ContextInfo, input: AddContactsToSequenceInput
    ) -> BulkEnrollmentPayload:
        ctx = info.context
        ids = IdDecoder()
        sequence_id = ids.one(input.sequence_id, "Sequence", ["input", "sequenceId"])
        contact_ids = list(ids.many(input.contact_ids, "Contact", ["input", "contactIds"]))
        if failed := _failed(ids, input.dry_run):
            return failed
        result = await enrollments.add_contacts(
            ctx.db, ctx.clock, ctx.actor, sequence_id, contact_ids,
            dry_run=input.dry_run, idempotency_key=input.idempotency_key,
        )  # fmt: skip
        return BulkEnrollmentPayload.from_result(result)

    @strawberry.mutation(
        extensions=[WriteAccess()],
        description="Pause (ACTIVE, NOT_SENT), optionally until a moment.",
    )
    async def pause_enrollments(
        self, info: ContextInfo, input: PauseEnrollmentsInput
    ) -> BulkEnrollmentPayload:
        ids = IdDecoder()
        selection = selection_spec(input.selection, ids)
        require_aware(input.resume_at, ["input", "resumeAt"], ids)
        result = await _act(
            info.context, input, ids, selection, enrollments.pause, resume_at=input.resume_at
        )
        return BulkEnrollmentPayload.from_result(result)

    @strawberry.mutation(
        extensions=[WriteAccess()],
        description="Resume paused enrollments now, or set when they resume.",
    )
    async def resume_enrollments(
        self, info: ContextInfo, input: ResumeEnrollmentsInput
    ) -> BulkEnrollmentPayload:
        ids = IdDecoder()
        selection = selection_spec(input.selection, ids)
        require_aware(input.resume_at, ["input", "resumeAt"], ids)
        result = await _act(
            info.context,
            input,
            ids,
            selection,
            enrollments.resume,
            resume_at=input.resume_at,
        )
        return BulkEnrollmentPayload.from_result(result)

    @strawberry.mutation(
        extensions=[WriteAccess()], description="Mark finished with a reason; history is kept."
    )
    async def finish_enrollments(
        self, info: ContextInfo, input: FinishEnrollmentsInput
    ) -> BulkEnrollmentPayload:
        ids = IdDecoder()
        selection = selection_spec(input.selection, ids)
        result = await _act(
            info.context, input, ids, selection, enrollments.finish, reason=input.reason
        )
        return BulkEnrollmentPayload.from_result(result)

    @strawberry.mutation(
        extensions=[WriteAccess()], description="Take out of the sequence (a mistaken enrollment)."
    )
    async def remove_enrollments(
        self, info: ContextInfo, input: RemoveEnrollmentsInput
    ) -> BulkEnrollmentPayload:
        ids = IdDecoder()
        selection = selection_spec(input.selection, ids)
        result = await _act(info.context, input, ids, selection, enrollments.remove)
        return BulkEnrollmentPayload.from_result(result)

    @strawberry.mutation(
        extensions=[WriteAccess()],
        description="Start removed or finished contacts over from step 1 in a clone.",
    )
    async def restart_enrollments(
        self, info: ContextInfo, input: RestartEnrollmentsInput
    ) -> RestartEnrollmentsPayload:
        ctx = info.context
        ids = IdDecoder()
        selection = selection_spec(input.selection, ids)
        target = ids.optional(input.target_sequence_id, "Sequence", ["input", "targetSequenceId"])
        result = await _act(
            ctx, input, ids, selection, enrollments.restart,
            target_sequence_id=target, new_sequence_name=input.new_sequence_name,
        )  # fmt: skip
        sequence = None
        if result.sequence_id is not None and not result.dry_run:
            row = await ctx.loaders.sequences.load(result.sequence_id)
            sequence = SequenceType.from_row(row) if row else None
        bulk = BulkEnrollmentPayload.from_result(result)
        return RestartEnrollmentsPayload(
            sequence=sequence,
            changed_count=bulk.changed_count,
            skipped=bulk.skipped,
            dry_run=bulk.dry_run,
            bulk_operation_id=bulk.bulk_operation_id,
            user_errors=bulk.user_errors,
        )

    @strawberry.mutation(
        extensions=[WriteAccess()], description="Add the selected enrollments' contacts to a group."
    )
    async def add_enrollments_to_group(
        self, info: ContextInfo, input: AddEnrollmentsToGroupInput
    ) -> BulkEnrollmentPayload:
        ids = IdDecoder()
        selection = selection_spec(input.selection, ids)
        group_id = ids.one(input.group_id, "Group", ["input", "groupId"])
        result = await _act(
            info.context, input, ids, selection, enrollments.add_to_group,
            group_id=group_id,
        )  # fmt: skip
        return BulkEnrollmentPayload.from_result(result)

    @strawberry.mutation(
        extensions=[WriteAccess()],
        description="Send one message now to at most 10 contacts, each individually.",
    )
    async def send_message(self, info: ContextInfo, input: SendMessageInput) -> SendMessagePayload:
        ctx = info.context
        ids = IdDecoder()
        selection = selection_spec(input.selection, ids)
        result = await _act(
            ctx, input, ids, selection, enrollments.send_message, transport=ctx.transport,
            body=input.body, subject=input.subject, channel=input.channel,
        )  # fmt: skip
        return SendMessagePayload(
            sent_count=result.changed_count,
            skipped=[SkippedGroup.from_result(g) for g in result.skipped],
            dry_run=result.dry_run,
            user_errors=user_errors(result.errors),
        )

    @strawberry.mutation(
        extensions=[WriteAccess()],
        description="What a mail/SMS provider reports about a message (its webhook calls this).",
    )
    async def record_delivery_event(
        self, info: ContextInfo, input: RecordDeliveryEventInput
    ) -> RecordDeliveryEventPayload:
        ctx = info.context
        ids = IdDecoder()
        pk = ids.one(input.enrollment_id, "Enrollment", ["input", "enrollmentId"])
        require_aware(input.occurred_at, ["input", "occurredAt"], ids)
        if ids.errors:
            return RecordDeliveryEventPayload(
                enrollment=None, status_changed=False, skipped_reason=None,
                user_errors=user_errors(ids.errors),
            )  # fmt: skip
        result = await enrollments.record_delivery_event(
            ctx.db, ctx.clock, ctx.actor, pk, input.kind,
            return_date=input.return_date, occurred_at=input.occurred_at, detail=input.detail,
            idempotency_key=input.idempotency_key,
        )  # fmt: skip
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
