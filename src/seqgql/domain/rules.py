"""A sequence's rules: what happens to its contacts beyond the steps. Defaults keep the
behaviour a sequence always had; a sequence stores only its rules (JSON)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from seqgql.domain.errors import ErrorCode, UserError, error

MAX_OUT_OF_OFFICE_DAYS = 365


@dataclass(frozen=True, slots=True)
class Ruleset:
    # a reply detected finishes the enrollment (FINISHED, REPLIED); off: it is recorded
    # as activity and the steps go on
    finish_on_reply: bool = True
    # an out-of-office reply without a return date pauses this many days; None: until
    # resumed (or a return date)
    out_of_office_default_days: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Ruleset:
        """The rules a sequence stored (unknown keys ignored; missing ones default)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})

    def errors(self, path: list[str | int]) -> list[UserError]:
        days = self.out_of_office_default_days
        if days is not None and not 1 <= days <= MAX_OUT_OF_OFFICE_DAYS:
            message = f"must be from 1 to {MAX_OUT_OF_OFFICE_DAYS} days ({days} given)"
            return [error([*path, "outOfOfficeDefaultDays"], ErrorCode.OUT_OF_RANGE, message)]
        return []
