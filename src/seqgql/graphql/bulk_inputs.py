"""The inputs of the bulk enrollment mutations, each turned into the options of its
service action (global ids decoded; each bad id or moment reported as a UserError that
names its field)."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from seqgql.graphql.context import Context
from seqgql.graphql.enums import DeliveryEventKind, FinishReason, StepChannel
from seqgql.graphql.inputs import EnrollmentSelection, IdDecoder, require_aware, selection_spec
from seqgql.services.enrollments.actions import (
    FinishOptions,
    GroupOptions,
    PauseOptions,
    ResumeOptions,
)
from seqgql.services.enrollments.bulk_action import Selected
from seqgql.services.enrollments.enroll import EnrollOptions
from seqgql.services.enrollments.messaging import MessageOptions
from seqgql.services.enrollments.restart import RestartOptions

DRY_RUN = "Report what the action would do, change nothing."
IDEMPOTENCY_KEY = (
    "Any string of yours, at most 200 characters: a retry with the same key and input "
    "answers as the first call did, without acting twice."
)


@strawberry.input
class AddContactsToSequenceInput:
    sequence_id: strawberry.ID
    contact_ids: list[strawberry.ID]
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)

    def to_options(self, ids: IdDecoder, ctx: Context) -> EnrollOptions:
        sequence_id = ids.one(self.sequence_id, "Sequence", ["input", "sequenceId"])
        contact_ids = ids.many(self.contact_ids, "Contact", ["input", "contactIds"])
        return EnrollOptions(sequence_id, list(contact_ids))


@strawberry.input
class PauseEnrollmentsInput:
    selection: EnrollmentSelection
    resume_at: datetime | None = strawberry.field(
        default=None, description="Resume by itself at this moment."
    )
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)

    def to_options(self, ids: IdDecoder, ctx: Context) -> PauseOptions:
        selection = selection_spec(self.selection, ids)
        require_aware(self.resume_at, ["input", "resumeAt"], ids)
        return PauseOptions(selection, resume_at=self.resume_at)


@strawberry.input
class ResumeEnrollmentsInput:
    selection: EnrollmentSelection
    resume_at: datetime | None = strawberry.field(
        default=None, description="Null: resume now. A moment: set or replace the auto-resume."
    )
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)

    def to_options(self, ids: IdDecoder, ctx: Context) -> ResumeOptions:
        selection = selection_spec(self.selection, ids)
        require_aware(self.resume_at, ["input", "resumeAt"], ids)
        return ResumeOptions(selection, resume_at=self.resume_at)


@strawberry.input
class FinishEnrollmentsInput:
    selection: EnrollmentSelection
    reason: FinishReason
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)

    def to_options(self, ids: IdDecoder, ctx: Context) -> FinishOptions:
        return FinishOptions(selection_spec(self.selection, ids), reason=self.reason)


@strawberry.input
class RemoveEnrollmentsInput:
    selection: EnrollmentSelection
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)

    def to_options(self, ids: IdDecoder, ctx: Context) -> Selected:
        return Selected(selection_spec(self.selection, ids))


@strawberry.input
class RestartEnrollmentsInput:
    selection: EnrollmentSelection
    target_sequence_id: strawberry.ID | None = strawberry.field(
        default=None, description="An existing clone to enroll into."
    )
    new_sequence_name: str | None = strawberry.field(
        default=None, description="Name of the new clone (default: the name plus ' (copy)')."
    )
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)

    def to_options(self, ids: IdDecoder, ctx: Context) -> RestartOptions:
        selection = selection_spec(self.selection, ids)
        target = ids.optional(self.target_sequence_id, "Sequence", ["input", "targetSequenceId"])
        return RestartOptions(selection, target, self.new_sequence_name)


@strawberry.input
class AddEnrollmentsToGroupInput:
    selection: EnrollmentSelection
    group_id: strawberry.ID
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)

    def to_options(self, ids: IdDecoder, ctx: Context) -> GroupOptions:
        selection = selection_spec(self.selection, ids)
        group_id = ids.one(self.group_id, "Group", ["input", "groupId"])
        return GroupOptions(selection, group_id=group_id)


@strawberry.input
class SendMessageInput:
    selection: EnrollmentSelection
    body: str
    subject: str | None = None
    channel: StepChannel = StepChannel.SMS
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)

    def to_options(self, ids: IdDecoder, ctx: Context) -> MessageOptions:
        return MessageOptions(
            selection_spec(self.selection, ids),
            transport=ctx.transport,
            body=self.body,
            subject=self.subject,
            channel=self.channel,
        )


@strawberry.input
class RecordDeliveryEventInput:
    enrollment_id: strawberry.ID
    kind: DeliveryEventKind
    return_date: date | None = strawberry.field(
        default=None, description="With OUT_OF_OFFICE: when the contact is back."
    )
    occurred_at: datetime | None = None
    detail: str | None = None
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)
