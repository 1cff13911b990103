"""Mutation payloads: results plus `userErrors` (expected errors are data)."""

from __future__ import annotations

from dataclasses import fields
from typing import Annotated, Self

import strawberry

from seqgql.domain import errors as domain_errors
from seqgql.graphql.bulk_operation_types import BulkOperationType, SkippedGroup
from seqgql.graphql.context import loaded
from seqgql.graphql.enrollment_types import ContactType, EnrollmentType
from seqgql.graphql.enums import ErrorCode, SkipReason
from seqgql.graphql.group_types import GroupType
from seqgql.graphql.node import ContextInfo
from seqgql.graphql.public_errors import PublicError
from seqgql.graphql.relay import to_global_id
from seqgql.graphql.sequence_types import SequenceType
from seqgql.services.enrollments.operation_records import changed_enrollments
from seqgql.services.enrollments.results import BulkResult

USER_ERRORS = "Why the call was refused; when there are any, nothing was changed."
DRY_RUN = "The input's `dryRun`: when true, nothing was changed and the counts say what would be."
BULK_OPERATION_ID = (
    "The id under which the operation was recorded (a BulkOperation: `node(id:)`, "
    "`bulkOperation(id:)`); null for a dry run or a refused call."
)
BULK_OPERATION = "The operation as recorded; null for a dry run or a refused call."
MAX_CHANGED = 100
SKIPPED = "The selected items left as they were, grouped by reason."


@strawberry.type(
    description="An expected refusal, returned as data: what is wrong with the input (or "
    "the caller's role), and where."
)
class UserError:
    field: list[str] | None = strawberry.field(
        description="The path to the value in the mutation's arguments, list indexes as "
        'strings (`["input", "contacts", "3", "email"]`); null when the whole call is refused.'
    )
    code: ErrorCode = strawberry.field(description="What kind of problem: a stable code.")
    message: str = strawberry.field(description="What is wrong, in a sentence for a person.")

    @classmethod
    def from_domain(cls, err: domain_errors.UserError) -> UserError:
        return cls(field=list(err.field) or None, code=err.code, message=err.message)


def user_errors(errs: list[domain_errors.UserError]) -> list[UserError]:
    return [UserError.from_domain(e) for e in errs]


class Payload:
    """What every mutation payload can do: answer a refusal (its errors, nothing else;
    ``dryRun`` echoed where the payload has it)."""

    @classmethod
    def refused(cls, errors: list[domain_errors.UserError], *, dry_run: bool = False) -> Self:
        extra = {"dry_run": dry_run} if "dry_run" in {f.name for f in fields(cls)} else {}  # type: ignore[arg-type]
        return cls(user_errors=user_errors(errors), **extra)  # type: ignore[call-arg]


def bulk_fields(result: BulkResult) -> dict[str, object]:
    return {
        "changed_count": result.changed_count,
        "skipped": [SkippedGroup.from_result(g) for g in result.skipped],
        "dry_run": result.dry_run,
        "bulk_operation_id": strawberry.ID(to_global_id("BulkOperation", result.bulk_operation_id))
        if result.bulk_operation_id
        else None,
        "user_errors": user_errors(result.errors),
        "operation_pk": result.bulk_operation_id,
    }


@strawberry.type(description="Not in the schema: the fields payloads of recorded calls share.")
class RecordedOperation:
    """What a recorded bulk action's payload can show: its operation, and the
    enrollments it changed, read when asked for."""

    operation_pk: strawberry.Private[int | None] = None

    @strawberry.field(description=BULK_OPERATION)
    async def bulk_operation(self, info: ContextInfo) -> BulkOperationType | None:
        return await loaded(
            info.context.loaders.operations, self.operation_pk, BulkOperationType.from_row
        )

    @strawberry.field(
        description="The enrollments whose status the call changed, as they are now, lowest "
        "id first: up to `first` of them, so that a client's cache updates without a "
        "refetch (all of them: `bulkOperation.events`). Empty for a dry run, a refused call "
        "and the calls that change no status (addEnrollmentsToGroup, sendMessage)."
    )
    async def changed_enrollments(
        self,
        info: ContextInfo,
        first: Annotated[
            int,
            strawberry.argument(description=f"How many at most: 0 to {MAX_CHANGED}."),
        ] = 50,
    ) -> list[EnrollmentType]:
        if not 0 <= first <= MAX_CHANGED:
            message = f"`first` must be from 0 to {MAX_CHANGED} ({first} given)"
            raise PublicError(message, code="BAD_USER_INPUT", argument="first")
        if self.operation_pk is None or first == 0:
            return []
        ctx = info.context
        rows = await changed_enrollments(ctx.db, ctx.workspace_id, self.operation_pk, first)
        return [EnrollmentType.from_row(r) for r in rows]


@strawberry.type(description="What a bulk action did (or, with `dryRun`, would do).")
class BulkEnrollmentPayload(Payload, RecordedOperation):
    changed_count: int = strawberry.field(
        default=0,
        description="How many changed: enrollments whose status changed, contacts enrolled "
        "(OMITTED ones included) or re-enrolled, or contacts added to the group.",
    )
    skipped: list[SkippedGroup] = strawberry.field(default_factory=list, description=SKIPPED)
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)
    bulk_operation_id: strawberry.ID | None = strawberry.field(
        default=None, description=BULK_OPERATION_ID
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list, description=USER_ERRORS)

    @classmethod
    def from_result(cls, result: BulkResult) -> BulkEnrollmentPayload:
        return cls(**bulk_fields(result))  # type: ignore[arg-type]


@strawberry.type(
    description="What restartEnrollments did (or, with `dryRun`, would do): the sequence "
    "the contacts were enrolled into, and the counts."
)
class RestartEnrollmentsPayload(Payload, RecordedOperation):
    sequence: SequenceType | None = strawberry.field(
        default=None,
        description="The sequence enrolled into: the new clone, or `targetSequenceId`; null "
        "for a dry run or a refused call.",
    )
    changed_count: int = strawberry.field(
        default=0, description="How many contacts were enrolled (or re-enrolled) in it."
    )
    skipped: list[SkippedGroup] = strawberry.field(
        default_factory=list,
        description="Selected enrollments not REMOVED or FINISHED (INVALID_TRANSITION), and "
        "contacts that could not be enrolled, grouped by reason.",
    )
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)
    bulk_operation_id: strawberry.ID | None = strawberry.field(
        default=None, description=BULK_OPERATION_ID
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list, description=USER_ERRORS)


@strawberry.type(description="What sendMessage did (or, with `dryRun`, would do).")
class SendMessagePayload(Payload, RecordedOperation):
    sent_count: int = strawberry.field(
        default=0,
        description="How many contacts the message is sent to, once each however many of "
        "their enrollments were selected. A delivery that then fails is recorded as FAILED "
        "or BOUNCED activity, without a status change.",
    )
    skipped: list[SkippedGroup] = strawberry.field(
        default_factory=list,
        description="Selected enrollments whose contact cannot get the message (opted out, "
        "no address, a landline for SMS), grouped by reason.",
    )
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)
    user_errors: list[UserError] = strawberry.field(default_factory=list, description=USER_ERRORS)


@strawberry.type(description="What recordDeliveryEvent did with a provider's report.")
class RecordDeliveryEventPayload(Payload):
    enrollment: EnrollmentType | None = strawberry.field(
        default=None, description="The enrollment, as it is after the report; null if refused."
    )
    status_changed: bool = strawberry.field(
        default=False, description="Whether the report changed the status."
    )
    skipped_reason: SkipReason | None = strawberry.field(
        default=None,
        description="Why a report that implies a status change left the status as it was "
        "(e.g. REPLIED for a FINISHED enrollment: ALREADY_IN_STATUS).",
    )
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS)


@strawberry.type(description="The sequence created or changed, or why not.")
class SequencePayload(Payload):
    sequence: SequenceType | None = strawberry.field(
        default=None, description="The sequence as it is now; null if refused."
    )
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS)


@strawberry.type(description="The contacts created, or why none was.")
class CreateContactsPayload(Payload):
    contacts: list[ContactType] = strawberry.field(
        default_factory=list,
        description="The contacts created, in the order given; empty if refused.",
    )
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS)


@strawberry.type(description="The contact changed, or why not.")
class ContactPayload(Payload):
    contact: ContactType | None = strawberry.field(
        default=None, description="The contact as it is now; null if refused."
    )
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS)


@strawberry.type(description="The group created, or why not.")
class GroupPayload(Payload):
    group: GroupType | None = strawberry.field(
        default=None, description="The group created; null if refused."
    )
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS)
