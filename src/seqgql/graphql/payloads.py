"""Mutation payloads: results plus `userErrors` (expected errors are data)."""

from __future__ import annotations

import strawberry

from seqgql.domain import errors as domain_errors
from seqgql.graphql.enums import SkipReason
from seqgql.graphql.ids import to_global_id
from seqgql.graphql.types import ContactType, EnrollmentType, GroupType, SequenceType
from seqgql.services.bulk import BulkResult
from seqgql.services.bulk import SkippedGroup as SkippedGroupResult


@strawberry.type(description="Invalid input: `field` is the path to it in the arguments.")
class UserError:
    field: list[str] | None
    code: str
    message: str

    @classmethod
    def from_domain(cls, err: domain_errors.UserError) -> UserError:
        return cls(field=list(err.field) or None, code=err.code.value, message=err.message)


def user_errors(errs: list[domain_errors.UserError]) -> list[UserError]:
    return [UserError.from_domain(e) for e in errs]


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
class BulkEnrollmentPayload:
    changed_count: int
    skipped: list[SkippedGroup]
    dry_run: bool
    bulk_operation_id: strawberry.ID | None
    user_errors: list[UserError]

    @classmethod
    def from_result(cls, result: BulkResult) -> BulkEnrollmentPayload:
        return cls(**_bulk_fields(result))  # type: ignore[arg-type]


@strawberry.type
class RestartEnrollmentsPayload:
    sequence: SequenceType | None = strawberry.field(description="The clone enrolled into.")
    changed_count: int
    skipped: list[SkippedGroup]
    dry_run: bool
    bulk_operation_id: strawberry.ID | None
    user_errors: list[UserError]


@strawberry.type
class SendMessagePayload:
    sent_count: int
    skipped: list[SkippedGroup]
    dry_run: bool
    user_errors: list[UserError]


@strawberry.type
class RecordDeliveryEventPayload:
    enrollment: EnrollmentType | None
    status_changed: bool = strawberry.field(description="Whether the report changed the status.")
    skipped_reason: SkipReason | None = strawberry.field(
        description="Why the report left the status as it was, if it implies a change."
    )
    user_errors: list[UserError]


@strawberry.type
class SequencePayload:
    sequence: SequenceType | None
    user_errors: list[UserError]


@strawberry.type
class CreateContactsPayload:
    contacts: list[ContactType]
    user_errors: list[UserError]


@strawberry.type
class ContactPayload:
    contact: ContactType | None
    user_errors: list[UserError]


@strawberry.type
class GroupPayload:
    group: GroupType | None
    user_errors: list[UserError]
