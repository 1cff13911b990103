"""What a list or a bulk action applies to, in domain terms (ids are database ids)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from seqgql.domain.status import EnrollmentStatus, StatusReason

MAX_SELECTED_IDS = 1_000
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class EnrollmentFilter:
    statuses: tuple[EnrollmentStatus, ...] | None = None
    reasons: tuple[StatusReason, ...] | None = None
    steps: tuple[int, ...] | None = None
    enrolled_by_ids: tuple[int, ...] | None = None
    group_id: int | None = None
    search: str | None = None
    enrolled_after: datetime | None = None
    enrolled_before: datetime | None = None
    include_removed: bool = False

    def without_statuses(self) -> EnrollmentFilter:
        """The same filter minus its status part (what the status tab counts use)."""
        return EnrollmentFilter(
            reasons=self.reasons,
            steps=self.steps,
            enrolled_by_ids=self.enrolled_by_ids,
            group_id=self.group_id,
            search=self.search,
            enrolled_after=self.enrolled_after,
            enrolled_before=self.enrolled_before,
            include_removed=True,
        )


@dataclass(frozen=True, slots=True)
class Selection:
    """Exactly one of: explicit enrollment ids, or a sequence with a filter."""

    ids: tuple[int, ...] | None = None
    sequence_id: int | None = None
    filter: EnrollmentFilter = field(default_factory=EnrollmentFilter)
    exclude_ids: tuple[int, ...] = ()


class OrderField(enum.StrEnum):
    ENROLLED_AT = "ENROLLED_AT"
    CONTACT_NAME = "CONTACT_NAME"


class OrderDirection(enum.StrEnum):
    ASC = "ASC"
    DESC = "DESC"


@dataclass(frozen=True, slots=True)
class EnrollmentOrder:
    field: OrderField = OrderField.ENROLLED_AT
    direction: OrderDirection = OrderDirection.DESC
