"""Input types, and their conversion into domain values (global ids decoded, each bad
id reported as a UserError naming its field)."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from seqgql.domain.errors import ErrorCode, UserError, error
from seqgql.domain.selection import EnrollmentFilter as FilterSpec
from seqgql.domain.selection import EnrollmentOrder as OrderSpec
from seqgql.domain.selection import Selection
from seqgql.domain.sequence import SendingWindow as WindowSpec
from seqgql.domain.sequence import StepSpec
from seqgql.graphql.enums import (
    DeliveryEventKind,
    EnrollmentOrderField,
    EnrollmentStatus,
    FinishReason,
    OrderDirection,
    PhoneType,
    StatusReason,
    StepChannel,
    Weekday,
)
from seqgql.graphql.relay import InvalidId, from_global_id

Path = list[str | int]


class IdDecoder:
    """Decodes global ids, collecting an error for each one that is not valid."""

    def __init__(self) -> None:
        self.errors: list[UserError] = []

    def one(self, value: str, type_name: str, path: Path) -> int:
        try:
            return from_global_id(value, type_name)
        except InvalidId as exc:
            self.errors.append(error(path, ErrorCode.INVALID_ID, str(exc)))
            return 0

    def many(self, values: list[strawberry.ID], type_name: str, path: Path) -> tuple[int, ...]:
        return tuple(self.one(v, type_name, [*path, i]) for i, v in enumerate(values))

    def optional(self, value: str | None, type_name: str, path: Path) -> int | None:
        return None if value is None else self.one(value, type_name, path)


@strawberry.input(description="Which enrollments to list or act on. Every part narrows.")
class EnrollmentFilter:
    statuses: list[EnrollmentStatus] | None = None
    reasons: list[StatusReason] | None = None
    steps: list[int] | None = strawberry.field(default=None, description="Current step positions.")
    enrolled_by_ids: list[strawberry.ID] | None = None
    group_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only contacts in this group."
    )
    search: str | None = strawberry.field(
        default=None, description="Part of the contact's name or email."
    )
    enrolled_after: datetime | None = None
    enrolled_before: datetime | None = None
    include_removed: bool = strawberry.field(
        default=False, description="Removed enrollments are hidden unless asked for."
    )

    def to_spec(self, ids: IdDecoder, path: Path) -> FilterSpec:
        return FilterSpec(
            statuses=tuple(self.statuses) if self.statuses else None,
            reasons=tuple(self.reasons) if self.reasons else None,
            steps=tuple(self.steps) if self.steps else None,
            enrolled_by_ids=ids.many(self.enrolled_by_ids, "User", [*path, "enrolledByIds"])
            if self.enrolled_by_ids
            else None,
            group_id=ids.optional(self.group_id, "Group", [*path, "groupId"]),
            search=self.search,
            enrolled_after=self.enrolled_after,
            enrolled_before=self.enrolled_before,
            include_removed=self.include_removed,
        )


def filter_spec(flt: EnrollmentFilter | None, ids: IdDecoder, path: Path) -> FilterSpec:
    return flt.to_spec(ids, path) if flt is not None else FilterSpec()


@strawberry.input
class EnrollmentOrder:
    field: EnrollmentOrderField = EnrollmentOrderField.ENROLLED_AT
    direction: OrderDirection = OrderDirection.DESC

    def to_spec(self) -> OrderSpec:
        return OrderSpec(field=self.field, direction=self.direction)


@strawberry.input(
    description="Which enrollments a bulk action applies to: exactly one of `ids` "
    "(at most 1,000), or `sequenceId` with an optional `filter` (no limit), "
    "minus `excludeIds`."
)
class EnrollmentSelection:
    ids: list[strawberry.ID] | None = None
    sequence_id: strawberry.ID | None = None
    filter: EnrollmentFilter | None = None
    exclude_ids: list[strawberry.ID] | None = None

    def to_spec(self, ids: IdDecoder, path: Path) -> Selection:
        return Selection(
            ids=ids.many(self.ids, "Enrollment", [*path, "ids"]) if self.ids is not None else None,
            sequence_id=ids.optional(self.sequence_id, "Sequence", [*path, "sequenceId"]),
            filter=filter_spec(self.filter, ids, [*path, "filter"]),
            exclude_ids=ids.many(self.exclude_ids, "Enrollment", [*path, "excludeIds"])
            if self.exclude_ids
            else (),
        )


def selection_spec(selection: EnrollmentSelection, ids: IdDecoder) -> Selection:
    return selection.to_spec(ids, ["input", "selection"])


@strawberry.input
class StepInput:
    channel: StepChannel
    wait_minutes: int = strawberry.field(description="How long after the previous step.")
    body: str
    subject: str | None = None

    def to_spec(self) -> StepSpec:
        return StepSpec(self.channel, self.wait_minutes, self.body, self.subject)


@strawberry.input(description="No window means steps may be sent at any time.")
class SendingWindowInput:
    days: list[Weekday]
    start: str = strawberry.field(description='Opening time, "HH:MM" (24-hour).')
    end: str = strawberry.field(description='Closing time, "HH:MM" (24-hour).')
    time_zone: str = strawberry.field(description="For contacts without a time zone.")

    def to_spec(self) -> WindowSpec:
        return WindowSpec(tuple(self.days), self.start, self.end, self.time_zone)


DAILY_LIMIT_DESCRIPTION = (
    "At most this many steps sent per sender (the user who enrolled the contact) per day, "
    "in the sending window's time zone (UTC without a window); over it, a step waits for "
    "the next day's window."
)


@strawberry.input
class CreateSequenceInput:
    name: str
    steps: list[StepInput]
    sending_window: SendingWindowInput | None = None
    reply_window_minutes: int = 4320
    daily_limit_per_sender: int | None = strawberry.field(
        default=None, description=DAILY_LIMIT_DESCRIPTION
    )


@strawberry.input(description="Only what is given changes; `steps` replaces all steps.")
class UpdateSequenceInput:
    sequence_id: strawberry.ID
    name: str | None = None
    steps: list[StepInput] | None = None
    sending_window: SendingWindowInput | None = strawberry.UNSET
    reply_window_minutes: int | None = None
    daily_limit_per_sender: int | None = strawberry.field(
        default=strawberry.UNSET, description=DAILY_LIMIT_DESCRIPTION + " null removes it."
    )


@strawberry.input
class CloneSequenceInput:
    sequence_id: strawberry.ID
    name: str | None = None


@strawberry.input
class ArchiveSequenceInput:
    sequence_id: strawberry.ID
    archived: bool = True


@strawberry.input
class ContactInput:
    first_name: str
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    phone_type: PhoneType | None = None
    time_zone: str | None = None
    opted_out: bool = False


@strawberry.input(
    description="Only the fields given change; null clears an optional one. Fixing an "
    "email or phone, then resuming, sends a step that was not sent."
)
class UpdateContactInput:
    contact_id: strawberry.ID
    first_name: str | None = strawberry.UNSET
    last_name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    phone_type: PhoneType | None = strawberry.UNSET
    time_zone: str | None = strawberry.UNSET
    opted_out: bool | None = strawberry.UNSET


@strawberry.input
class CreateContactsInput:
    contacts: list[ContactInput]


@strawberry.input
class CreateGroupInput:
    name: str


@strawberry.input
class AddContactsToSequenceInput:
    sequence_id: strawberry.ID
    contact_ids: list[strawberry.ID]
    dry_run: bool = False
    idempotency_key: str | None = None


@strawberry.input
class PauseEnrollmentsInput:
    selection: EnrollmentSelection
    resume_at: datetime | None = strawberry.field(
        default=None, description="Resume by itself at this moment."
    )
    dry_run: bool = False
    idempotency_key: str | None = None


@strawberry.input
class ResumeEnrollmentsInput:
    selection: EnrollmentSelection
    resume_at: datetime | None = strawberry.field(
        default=None, description="Null: resume now. A moment: set or replace the auto-resume."
    )
    dry_run: bool = False
    idempotency_key: str | None = None


@strawberry.input
class FinishEnrollmentsInput:
    selection: EnrollmentSelection
    reason: FinishReason
    dry_run: bool = False
    idempotency_key: str | None = None


@strawberry.input
class RemoveEnrollmentsInput:
    selection: EnrollmentSelection
    dry_run: bool = False
    idempotency_key: str | None = None


@strawberry.input
class RestartEnrollmentsInput:
    selection: EnrollmentSelection
    target_sequence_id: strawberry.ID | None = strawberry.field(
        default=None, description="An existing clone to enroll into."
    )
    new_sequence_name: str | None = strawberry.field(
        default=None, description="Name of the new clone (default: the name plus ' (copy)')."
    )
    dry_run: bool = False
    idempotency_key: str | None = None


@strawberry.input
class AddEnrollmentsToGroupInput:
    selection: EnrollmentSelection
    group_id: strawberry.ID
    dry_run: bool = False
    idempotency_key: str | None = None


@strawberry.input
class SendMessageInput:
    selection: EnrollmentSelection
    body: str
    subject: str | None = None
    channel: StepChannel = StepChannel.SMS
    dry_run: bool = False
    idempotency_key: str | None = None


@strawberry.input
class RecordDeliveryEventInput:
    enrollment_id: strawberry.ID
    kind: DeliveryEventKind
    return_date: date | None = strawberry.field(
        default=None, description="With OUT_OF_OFFICE: when the contact is back."
    )
    occurred_at: datetime | None = None
    detail: str | None = None
    idempotency_key: str | None = None


def require_aware(value: datetime | None, path: Path, ids: IdDecoder) -> None:
    """Moments must carry their offset (e.g. "2026-12-01T09:00:00Z")."""
    if value is not None and value.tzinfo is None:
        ids.errors.append(
            error(path, ErrorCode.INVALID, "give a time zone offset, e.g. 2026-12-01T09:00:00Z")
        )
