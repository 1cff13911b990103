"""Mutation payloads: results plus `userErrors` (expected errors are data)."""

from __future__ import annotations

from dataclasses import fields
from typing import Self

import strawberry

from seqgql.domain import errors as domain_errors
from seqgql.graphql.contact_types import ContactType, GroupType
from seqgql.graphql.enrollment_types import EnrollmentType
from seqgql.graphql.enums import ErrorCode, SkipReason
from seqgql.graphql.relay import to_global_id
from seqgql.graphql.sequence_types import SequenceType
from seqgql.services.enrollments.results import BulkResult
from seqgql.services.enrollments.results import SkippedGroup as SkippedGroupResult


@strawberry.type(description="Invalid input: `field` is the path to it in the arguments.")
class UserError:
    field: list[str] | None
    code: ErrorCode
    message: str

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


@strawberry.type(description="Selected items an action left as they were, and why.")
class SkippedGroup:
    reason: SkipReason
    count: int
    ids: list[strawberry.ID] = strawberry.field(description="At most 100 of them.")
    message: str

    @classmethod
    def from_result(cls, group: SkippedGroupResult) -> SkippedGroup:
        return cls(
            reason=group.reason,
            count=group.count,
            ids=[strawberry.ID(to_global_id(group.kind, pk)) for pk in group.ids],
            message=group.message,
        )


def _bulk_fields(result: BulkResult) -> dict[str, object]:
    return {
        "changed_count": result.changed_count,
        "skipped": [SkippedGroup.from_result(g) for g in result.skipped],
        "dry_run": result.dry_run,
        "bulk_operation_id": strawberry.ID(to_global_id("BulkOperation", result.bulk_operation_id))
        if result.bulk_operation_id
        else None,
        "user_errors": user_errors(result.errors),
    }


@strawberry.type
class BulkEnrollmentPayload(Payload):
    changed_count: int = 0
    skipped: list[SkippedGroup] = strawberry.field(default_factory=list)
    dry_run: bool = False
    bulk_operation_id: strawberry.ID | None = None
    user_errors: list[UserError]

    @classmethod
    def from_result(cls, result: BulkResult) -> BulkEnrollmentPayload:
        return cls(**_bulk_fields(result))  # type: ignore[arg-type]


@strawberry.type
class RestartEnrollmentsPayload(Payload):
    sequence: SequenceType | None = strawberry.field(
        default=None, description="The clone enrolled into."
    )
    changed_count: int = 0
    skipped: list[SkippedGroup] = strawberry.field(default_factory=list)
    dry_run: bool = False
    bulk_operation_id: strawberry.ID | None = None
    user_errors: list[UserError]


@strawberry.type
class SendMessagePayload(Payload):
    sent_count: int = 0
    skipped: list[SkippedGroup] = strawberry.field(default_factory=list)
    dry_run: bool = False
    user_errors: list[UserError]


@strawberry.type
class RecordDeliveryEventPayload(Payload):
    enrollment: EnrollmentType | None = None
    status_changed: bool = strawberry.field(
        default=False, description="Whether the report changed the status."
    )
    skipped_reason: SkipReason | None = strawberry.field(
        default=None,
        description="Why the report left the status as it was, if it implies a change.",
    )
    user_errors: list[UserError]


@strawberry.type
class SequencePayload(Payload):
    sequence: SequenceType | None = None
    user_errors: list[UserError]


@strawberry.type
class CreateContactsPayload(Payload):
    contacts: list[ContactType] = strawberry.field(default_factory=list)
    user_errors: list[UserError]


@strawberry.type
class ContactPayload(Payload):
    contact: ContactType | None = None
    user_errors: list[UserError]


@strawberry.type
class GroupPayload(Payload):
    group: GroupType | None = None
    user_errors: list[UserError]
