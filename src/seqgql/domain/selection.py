"""What a list or a bulk action applies to, in domain terms (ids are database ids)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from seqgql.domain import validation
from seqgql.domain.errors import ErrorCode, UserError, error
from seqgql.domain.status import EnrollmentStatus, Outcome, StatusReason

MAX_SELECTED_IDS = 1_000
MAX_SEARCH_LENGTH = 200
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class EnrollmentFilter:
    statuses: tuple[EnrollmentStatus, ...] | None = None
    reasons: tuple[StatusReason, ...] | None = None
    outcomes: tuple[Outcome, ...] | None = None
    steps: tuple[int, ...] | None = None
    enrolled_by_ids: tuple[int, ...] | None = None
    group_id: int | None = None
    search: str | None = None
    enrolled_after: datetime | None = None
    enrolled_before: datetime | None = None
    include_removed: bool = False
    resume_scheduled: bool | None = None  # whether an auto-resume date is set
    next_send_after: datetime | None = None
    next_send_before: datetime | None = None
    status_changed_after: datetime | None = None
    status_changed_before: datetime | None = None

    def without_statuses(self) -> EnrollmentFilter:
        """The same filter minus its status part (what the status tab counts use)."""
        return EnrollmentFilter(
            reasons=self.reasons,
            outcomes=self.outcomes,
            steps=self.steps,
            enrolled_by_ids=self.enrolled_by_ids,
            group_id=self.group_id,
            search=self.search,
            enrolled_after=self.enrolled_after,
            enrolled_before=self.enrolled_before,
            include_removed=True,
            resume_scheduled=self.resume_scheduled,
            next_send_after=self.next_send_after,
            next_send_before=self.next_send_before,
            status_changed_after=self.status_changed_after,
            status_changed_before=self.status_changed_before,
        )


@dataclass(frozen=True, slots=True)
class Selection:
    """Exactly one of: explicit enrollment ids, or a sequence with a filter."""

    ids: tuple[int, ...] | None = None
    sequence_id: int | None = None
    filter: EnrollmentFilter = field(default_factory=EnrollmentFilter)
    exclude_ids: tuple[int, ...] = ()


Path = list[str | int]


def filter_errors(flt: EnrollmentFilter, path: Path) -> list[UserError]:
    """What is wrong with a filter's values (each error names its field)."""
    errors: list[UserError] = []
    for attribute, label in (
        ("statuses", "statuses"),
        ("reasons", "reasons"),
        ("outcomes", "outcomes"),
        ("steps", "steps"),
        ("enrolled_by_ids", "enrolledByIds"),
    ):
        values = getattr(flt, attribute)
        if values is not None and len(values) > MAX_SELECTED_IDS:
            message = f"at most {MAX_SELECTED_IDS} values ({len(values)} given)"
            errors.append(error([*path, label], ErrorCode.TOO_MANY, message))
    if flt.search is not None and len(flt.search) > MAX_SEARCH_LENGTH:
        message = f"must be at most {MAX_SEARCH_LENGTH} characters"
        errors.append(error([*path, "search"], ErrorCode.TOO_LONG, message))
    for attribute, label in (
        ("enrolled_after", "enrolledAfter"),
        ("enrolled_before", "enrolledBefore"),
        ("next_send_after", "nextSendBetween.from"),
        ("next_send_before", "nextSendBetween.to"),
        ("status_changed_after", "statusChangedBetween.from"),
        ("status_changed_before", "statusChangedBetween.to"),
    ):
        value = getattr(flt, attribute)
        if value is not None and value.tzinfo is not None:
            try:
                validation.moment(value)
            except validation.Invalid as exc:
                errors.append(error([*path, *label.split(".")], ErrorCode.INVALID, str(exc)))
    return errors


def selection_errors(selection: Selection, path: Path) -> list[UserError]:
    """What is wrong with a selection's lists and filter (its shape is checked apart)."""
    errors = filter_errors(selection.filter, [*path, "filter"])
    if len(selection.exclude_ids) > MAX_SELECTED_IDS:
        message = f"at most {MAX_SELECTED_IDS} ids ({len(selection.exclude_ids)} given)"
        errors.append(error([*path, "excludeIds"], ErrorCode.TOO_MANY, message))
    return errors


class OrderField(enum.StrEnum):
    ENROLLED_AT = "ENROLLED_AT"
    CONTACT_NAME = "CONTACT_NAME"
    NEXT_SEND_AT = "NEXT_SEND_AT"
    STATUS_CHANGED_AT = "STATUS_CHANGED_AT"
    CURRENT_STEP = "CURRENT_STEP"
    STATUS = "STATUS"


class OrderDirection(enum.StrEnum):
    ASC = "ASC"
    DESC = "DESC"


@dataclass(frozen=True, slots=True)
class EnrollmentOrder:
    field: OrderField = OrderField.ENROLLED_AT
    direction: OrderDirection = OrderDirection.DESC
