"""The inputs of the bulk enrollment mutations, each turned into the options of its
service action (global ids decoded; each bad id or moment reported as a UserError that
names its field)."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from seqgql.graphql.context import Context
from seqgql.graphql.enums import (
    ActiveElsewhere,
    DeliveryEventKind,
    FinishReason,
    ResumeMode,
    StepChannel,
)
from seqgql.graphql.inputs import EnrollmentSelection, IdDecoder, require_aware, selection_spec
from seqgql.services.enrollments.actions import FinishOptions, GroupOptions, PauseOptions
from seqgql.services.enrollments.bulk_action import Selected
from seqgql.services.enrollments.enroll import EnrollOptions
from seqgql.services.enrollments.messaging import MessageOptions
from seqgql.services.enrollments.moves import MoveOptions, StepMoveOptions
from seqgql.services.enrollments.restart import RestartOptions
from seqgql.services.enrollments.resume import ResumeOptions

DRY_RUN = "Report what the action would do, change nothing (the idempotency key is not used)."
IDEMPOTENCY_KEY = (
    "Any string of yours, at most 200 characters: a retry with the same key and input "
    "answers as the first call did, without acting twice. Keys are per workspace; the same "
    "key with another input is refused (IDEMPOTENCY_KEY_REUSED)."
)
SELECTION = "The enrollments to act on."


@strawberry.input(description="Which contacts to enroll in which sequence.")
class AddContactsToSequenceInput:
    sequence_id: strawberry.ID = strawberry.field(
        description="The sequence: not archived, with at least one step."
    )
    contact_ids: list[strawberry.ID] = strawberry.field(
        description="The contacts to enroll: 1 to 1,000 Contact ids."
    )
    start_at_step: int | None = strawberry.field(
        default=None,
        description="Start at this step (its position, from 1) instead of step 1: new "
        "enrollments fall due after its wait; removed or finished ones re-enrolled start "
        "there (due at once), even if it was sent before. Null: step 1, or for a re-enrolled "
        "one the first step not yet sent.",
    )
    if_active_elsewhere: ActiveElsewhere | None = strawberry.field(
        default=None,
        description="What to do with a contact ACTIVE, PAUSED or NOT_SENT in another "
        "sequence: enroll it anyway, skip it (ACTIVE_IN_OTHER_SEQUENCE, grouped by that "
        "sequence), or move it here (its other enrollment ends REMOVED, reason MOVED, "
        "linked to the new one). Null: the sequence's rule `activeElsewhere` (ENROLL unless "
        "set); what the rule decides names it (`rule` on the skipped group and the events).",
    )
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)

    def to_options(self, ids: IdDecoder, ctx: Context) -> EnrollOptions:
        sequence_id = ids.one(self.sequence_id, "Sequence", ["input", "sequenceId"])
        contact_ids = ids.many(self.contact_ids, "Contact", ["input", "contactIds"])
        return EnrollOptions(
            sequence_id,
            list(contact_ids),
            start_at_step=self.start_at_step,
            if_active_elsewhere=self.if_active_elsewhere,
        )


@strawberry.input(
    description="Pause: ACTIVE and NOT_SENT enrollments become PAUSED (MANUAL); the others "
    "are skipped."
)
class PauseEnrollmentsInput:
    selection: EnrollmentSelection = strawberry.field(description=SELECTION)
    resume_at: datetime | None = strawberry.field(
        default=None,
        description="When they resume by themselves (ACTIVE again): a future moment, with "
        "its offset. Null: paused until resumed.",
    )
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)

    def to_options(self, ids: IdDecoder, ctx: Context) -> PauseOptions:
        selection = selection_spec(self.selection, ids)
        require_aware(self.resume_at, ["input", "resumeAt"], ids)
        return PauseOptions(selection, resume_at=self.resume_at)


@strawberry.input(
    description="Resume: PAUSED and NOT_SENT enrollments back to ACTIVE (now, or by themselves "
    "at `resumeAt`), and retry FAILED and BOUNCED ones at the step that failed when the "
    "contact can now receive it (otherwise skipped: CONTACT_OPTED_OUT, MISSING_EMAIL, "
    "MISSING_PHONE, LANDLINE); the others are skipped."
)
class ResumeEnrollmentsInput:
    selection: EnrollmentSelection = strawberry.field(description=SELECTION)
    resume_at: datetime | None = strawberry.field(
        default=None,
        description="Null: ACTIVE now. A future moment (with its offset): PAUSED ones resume "
        "then (it replaces any earlier one), NOT_SENT ones become PAUSED (MANUAL) until "
        "then; FAILED and BOUNCED ones are skipped (a retry happens now).",
    )
    mode: ResumeMode = strawberry.field(
        default=ResumeMode.KEEP_REMAINING_WAIT,
        description="When the step falls due once resumed (now, or at `resumeAt`): by default "
        "when it would have been, shifted by the time spent paused.",
    )
    at_step: int | None = strawberry.field(
        default=None,
        description="Resume at this step (its position, from 1; every selected sequence "
        "must have it) rather than the current one: skip ahead or go back. Not with "
        "`resumeAt`.",
    )
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)

    def to_options(self, ids: IdDecoder, ctx: Context) -> ResumeOptions:
        selection = selection_spec(self.selection, ids)
        require_aware(self.resume_at, ["input", "resumeAt"], ids)
        return ResumeOptions(
            selection, resume_at=self.resume_at, mode=self.mode, at_step=self.at_step
        )


@strawberry.input(
    description="Mark finished: enrollments in any status but REMOVED and FINISHED become "
    "FINISHED with the reason given."
)
class FinishEnrollmentsInput:
    selection: EnrollmentSelection = strawberry.field(description=SELECTION)
    reason: FinishReason = strawberry.field(description="Why: the reason they finish with.")
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)

    def to_options(self, ids: IdDecoder, ctx: Context) -> FinishOptions:
        return FinishOptions(selection_spec(self.selection, ids), reason=self.reason)


@strawberry.input(description="Remove: enrollments in any status but REMOVED become REMOVED.")
class RemoveEnrollmentsInput:
    selection: EnrollmentSelection = strawberry.field(description=SELECTION)
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)

    def to_options(self, ids: IdDecoder, ctx: Context) -> Selected:
        return Selected(selection_spec(self.selection, ids))


@strawberry.input(
    description="Restart: the contacts of the REMOVED and FINISHED enrollments selected are "
    "enrolled in a new clone of their sequence, or in `targetSequenceId`; give at most one "
    "of the two."
)
class RestartEnrollmentsInput:
    selection: EnrollmentSelection = strawberry.field(
        description="The enrollments whose contacts to restart; for a new clone, all of "
        "one sequence."
    )
    target_sequence_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="An existing sequence (not archived) to enroll them in, e.g. an earlier "
        "clone, instead of a new clone.",
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


@strawberry.input(description="Add the contacts of the selected enrollments to a group.")
class AddEnrollmentsToGroupInput:
    selection: EnrollmentSelection = strawberry.field(
        description="The enrollments whose contacts to add."
    )
    group_id: strawberry.ID = strawberry.field(description="The group to add them to.")
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)

    def to_options(self, ids: IdDecoder, ctx: Context) -> GroupOptions:
        selection = selection_spec(self.selection, ids)
        group_id = ids.one(self.group_id, "Group", ["input", "groupId"])
        return GroupOptions(selection, group_id=group_id)


@strawberry.input(
    description="One message, sent now to each selected contact individually (at most 10 contacts)."
)
class SendMessageInput:
    selection: EnrollmentSelection = strawberry.field(
        description="The enrollments whose contacts get the message: at most 10 contacts."
    )
    body: str = strawberry.field(
        description="The text sent, as written (no placeholders): 1 to 20,000 characters."
    )
    subject: str | None = strawberry.field(
        default=None, description="The subject of an email; an SMS has none."
    )
    channel: StepChannel = strawberry.field(
        default=StepChannel.SMS,
        description="SMS (the default) to the contact's phone, or EMAIL to their address.",
    )
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


@strawberry.input(description="A provider's report about a message to one enrollment's contact.")
class RecordDeliveryEventInput:
    enrollment_id: strawberry.ID = strawberry.field(
        description="The enrollment the message belonged to."
    )
    kind: DeliveryEventKind = strawberry.field(description="What happened.")
    return_date: date | None = strawberry.field(
        default=None,
        description="Only with OUT_OF_OFFICE: the day the contact is back. The enrollment "
        "resumes at its midnight in the contact's time zone (else the window's, else UTC).",
    )
    occurred_at: datetime | None = strawberry.field(
        default=None,
        description="When it happened, with its offset (at most 5 minutes ahead of the "
        "server's clock); default: now.",
    )
    detail: str | None = strawberry.field(
        default=None, description="Free text kept with the activity (the provider's words)."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input(
    description="Move to a step: ACTIVE, PAUSED and NOT_SENT enrollments are put on another "
    "step of their sequence (skip ahead or go back); their status and due time stay, so the "
    "wait running now leads to that step. Each move is an event with `fromStep`/`toStep`."
)
class MoveEnrollmentsToStepInput:
    selection: EnrollmentSelection = strawberry.field(description=SELECTION)
    step: int = strawberry.field(
        description="The step (its position, from 1); every selected sequence must have it."
    )
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)

    def to_options(self, ids: IdDecoder, ctx: Context) -> StepMoveOptions:
        return StepMoveOptions(selection_spec(self.selection, ids), step=self.step)


@strawberry.input(
    description="Move to another sequence, in one call that is applied whole or not at all: "
    "each selected enrollment's contact is enrolled in the target (as addContactsToSequence "
    "does), and the enrollment becomes REMOVED with reason MOVED, `movedTo` linking to the "
    "new one. REMOVED enrollments are skipped; so are those whose contact is already in the "
    "target (ALREADY_ENROLLED) or was sent every step of it (ALL_STEPS_SENT)."
)
class MoveEnrollmentsInput:
    selection: EnrollmentSelection = strawberry.field(description=SELECTION)
    target_sequence_id: strawberry.ID = strawberry.field(
        description="The sequence to move them to: not archived, not one of theirs."
    )
    start_at_step: int | None = strawberry.field(
        default=None, description="The step to start at in the target; null: as enrolling does."
    )
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)

    def to_options(self, ids: IdDecoder, ctx: Context) -> MoveOptions:
        target = ids.one(self.target_sequence_id, "Sequence", ["input", "targetSequenceId"])
        return MoveOptions(
            selection_spec(self.selection, ids),
            target_sequence_id=target,
            start_at_step=self.start_at_step,
        )
