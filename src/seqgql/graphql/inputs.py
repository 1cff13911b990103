"""Input types, and their conversion into domain values (global ids decoded, each bad
id reported as a UserError naming its field)."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from seqgql.domain import validation
from seqgql.domain.errors import ErrorCode, UserError, error
from seqgql.domain.selection import EnrollmentFilter as FilterSpec
from seqgql.domain.selection import EnrollmentOrder as OrderSpec
from seqgql.domain.selection import Selection, filter_errors
from seqgql.graphql.enums import (
    EnrollmentOrderField,
    EnrollmentOutcome,
    EnrollmentStatus,
    OrderDirection,
    StatusReason,
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


@strawberry.input(
    description="A range of moments: from `from` (included) to `to` (excluded); either may "
    "be left out. A date (`2026-01-01`) or a time without an offset is taken as UTC."
)
class TimeRange:
    from_: datetime | None = strawberry.field(
        default=None, name="from", description="The first moment in the range."
    )
    to: datetime | None = strawberry.field(
        default=None, description="The first moment after the range."
    )


def time_range(
    value: TimeRange | None, name: str, ids: IdDecoder, path: Path
) -> dict[str, datetime | None]:
    """A range's bounds as a filter's ``<name>_after`` / ``<name>_before``."""
    if value is None:
        return {}
    return {
        f"{name}_after": time_bound(value.from_, ids, [*path, "from"]),
        f"{name}_before": time_bound(value.to, ids, [*path, "to"]),
    }


@strawberry.input(
    description="Which enrollments to list or act on. Every part given narrows; a list "
    "matches any of its values (at most 1,000 values each)."
)
class EnrollmentFilter:
    statuses: list[EnrollmentStatus] | None = strawberry.field(
        default=None,
        description="Only these statuses; naming REMOVED shows removed enrollments "
        "whatever `includeRemoved` says. A connection's `statusCounts` ignore this part.",
    )
    reasons: list[StatusReason] | None = strawberry.field(
        default=None, description="Only enrollments whose reason is one of these."
    )
    outcomes: list[EnrollmentOutcome] | None = strawberry.field(
        default=None,
        description="Only FINISHED enrollments that ended so (RESPONDED, NO_RESPONSE, STOPPED).",
    )
    steps: list[int] | None = strawberry.field(
        default=None, description="Only enrollments whose current step is at these positions."
    )
    enrolled_by_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only enrollments made by these users (User ids)."
    )
    group_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only enrollments whose contact is in this group."
    )
    search: str | None = strawberry.field(
        default=None,
        description="Part of the contact's first name, last name or email, in any case (at "
        "most 200 characters).",
    )
    enrolled_after: datetime | None = strawberry.field(
        default=None,
        description="Enrolled at or after this moment. A date (`2026-01-01`) or a time "
        "without an offset is taken as UTC.",
    )
    enrolled_before: datetime | None = strawberry.field(
        default=None,
        description="Enrolled before this moment. A date or a time without an offset is "
        "taken as UTC.",
    )
    include_removed: bool = strawberry.field(
        default=False, description="Include REMOVED enrollments, hidden by default."
    )
    resume_scheduled: bool | None = strawberry.field(
        default=None,
        description="true: only enrollments with an auto-resume date (`resumeAt`); false: "
        'only those without one (Apollo\'s "auto-resume scheduled / not scheduled").',
    )
    next_send_between: TimeRange | None = strawberry.field(
        default=None,
        description="Only ACTIVE enrollments whose next step falls due (`nextRunAt`) in "
        "this range.",
    )
    status_changed_between: TimeRange | None = strawberry.field(
        default=None,
        description="Only enrollments whose status last changed (`statusChangedAt`) in this range.",
    )

    def to_spec(self, ids: IdDecoder, path: Path) -> FilterSpec:
        return FilterSpec(
            statuses=tuple(self.statuses) if self.statuses else None,
            reasons=tuple(self.reasons) if self.reasons else None,
            outcomes=tuple(self.outcomes) if self.outcomes else None,
            steps=tuple(self.steps) if self.steps else None,
            enrolled_by_ids=ids.many(self.enrolled_by_ids, "User", [*path, "enrolledByIds"])
            if self.enrolled_by_ids
            else None,
            group_id=ids.optional(self.group_id, "Group", [*path, "groupId"]),
            search=self.search,
            enrolled_after=time_bound(self.enrolled_after, ids, [*path, "enrolledAfter"]),
            enrolled_before=time_bound(self.enrolled_before, ids, [*path, "enrolledBefore"]),
            include_removed=self.include_removed,
            resume_scheduled=self.resume_scheduled,
            **time_range(self.next_send_between, "next_send", ids, [*path, "nextSendBetween"]),
            **time_range(
                self.status_changed_between, "status_changed", ids, [*path, "statusChangedBetween"]
            ),
        )


def time_bound(value: datetime | None, ids: IdDecoder, path: Path) -> datetime | None:
    """A filter's bound: a moment; a date, or a time without an offset, is taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return validation.moment(value)
    except validation.Invalid as exc:
        ids.errors.append(error(path, ErrorCode.INVALID, str(exc)))
        return None


def filter_spec(flt: EnrollmentFilter | None, ids: IdDecoder, path: Path) -> FilterSpec:
    return flt.to_spec(ids, path) if flt is not None else FilterSpec()


def checked_filter(flt: EnrollmentFilter | None, path: Path) -> tuple[FilterSpec, list[UserError]]:
    """The domain filter of a list's ``filter`` argument, and what is wrong with it (bad
    ids first, then its values): the ``enrollments`` query and the CSV export alike."""
    ids = IdDecoder()
    spec = filter_spec(flt, ids, path)
    return spec, ids.errors or filter_errors(spec, path)


@strawberry.input(
    description="How enrollments are ordered; a cursor continues only the order it was "
    "given out with."
)
class EnrollmentOrder:
    field: EnrollmentOrderField = strawberry.field(
        default=EnrollmentOrderField.ENROLLED_AT, description="What to sort by."
    )
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.DESC, description="Which way (newest first by default)."
    )

    def to_spec(self) -> OrderSpec:
        return OrderSpec(field=self.field, direction=self.direction)


@strawberry.input(
    description="Which enrollments a bulk action applies to: exactly one of `ids` "
    "(at most 1,000), or `sequenceId` with an optional `filter` (no limit), "
    "minus `excludeIds`."
)
class EnrollmentSelection:
    ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="These enrollments (1 to 1,000 ids), of any sequences."
    )
    sequence_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The enrollments of this sequence that match `filter` (all but the "
        "removed ones without a filter).",
    )
    filter: EnrollmentFilter | None = strawberry.field(
        default=None,
        description="Narrows a `sequenceId` selection; with `ids` it is refused "
        "(`INVALID_SELECTION`).",
    )
    exclude_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Enrollments to leave out (at most 1,000 ids)."
    )

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


def require_aware(value: datetime | None, path: Path, ids: IdDecoder) -> None:
    """Moments must carry their offset (e.g. "2026-12-01T09:00:00Z") and exist in UTC."""
    if value is None:
        return
    try:
        validation.moment(value)
    except validation.Invalid as exc:
        ids.errors.append(error(path, ErrorCode.INVALID, str(exc)))
