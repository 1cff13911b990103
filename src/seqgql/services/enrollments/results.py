"""What a bulk action reports: how many changed, and what it skipped and why."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from seqgql.domain.errors import UserError
from seqgql.domain.status import SkipReason

MAX_SKIPPED_IDS = 100

SKIP_MESSAGES: dict[SkipReason, str] = {
    SkipReason.INVALID_TRANSITION: "This action does not apply to enrollments in this status.",
    SkipReason.ALREADY_IN_STATUS: "Already in the status this action leads to.",
    SkipReason.ALREADY_ENROLLED: "The contact is already enrolled in this sequence.",
    SkipReason.ALL_STEPS_SENT: (
        "Every step was already sent to this contact; clone the sequence to restart them."
    ),
    SkipReason.ALREADY_IN_GROUP: "The contact is already in the group.",
    SkipReason.CONTACT_OPTED_OUT: "The contact has opted out of messages.",
    SkipReason.MISSING_EMAIL: "The contact has no email address.",
    SkipReason.MISSING_PHONE: "The contact has no phone number.",
    SkipReason.LANDLINE: "The contact's phone is a landline, which cannot receive SMS.",
    SkipReason.ACTIVE_IN_OTHER_SEQUENCE: "The contact is active in another sequence.",
    SkipReason.ALREADY_AT_STEP: "Already at that step.",
    SkipReason.CHANGED_SINCE: "The enrollment changed after that operation.",
}


@dataclass(slots=True)
class SkippedGroup:
    reason: SkipReason
    count: int
    ids: list[int]
    # what the ids are ids of: the enrollments selected, or the contacts to enroll
    kind: str = "Enrollment"
    # ACTIVE_IN_OTHER_SEQUENCE: the other sequence
    sequence_id: int | None = None
    # the sequence rule that left them out (domain.rules), if one did
    rule: str | None = None

    @property
    def message(self) -> str:
        return SKIP_MESSAGES.get(self.reason, self.reason.value)


@dataclass(slots=True)
class BulkResult:
    changed_count: int = 0
    skipped: list[SkippedGroup] = field(default_factory=list)
    dry_run: bool = False
    bulk_operation_id: int | None = None
    errors: list[UserError] = field(default_factory=list)
    # restart: the sequence the contacts were enrolled into
    sequence_id: int | None = None
    # undo: messages sent to the enrollments since the operation undone (not unsent)
    messages_sent: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "changed_count": self.changed_count,
            "skipped": [
                {
                    "reason": g.reason,
                    "count": g.count,
                    "ids": g.ids,
                    "kind": g.kind,
                    "sequence_id": g.sequence_id,
                    "rule": g.rule,
                }
                for g in self.skipped
            ],
            "bulk_operation_id": self.bulk_operation_id,
            "sequence_id": self.sequence_id,
            "messages_sent": self.messages_sent,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BulkResult:
        return cls(
            changed_count=data["changed_count"],
            skipped=[
                SkippedGroup(
                    SkipReason(g["reason"]),
                    g["count"],
                    list(g["ids"]),
                    g["kind"],
                    g.get("sequence_id"),
                    g.get("rule"),
                )
                for g in data["skipped"]
            ],
            bulk_operation_id=data["bulk_operation_id"],
            sequence_id=data.get("sequence_id"),
            messages_sent=data.get("messages_sent"),
        )


class Skips:
    """Collects skipped enrollments by reason, keeping at most 100 ids per reason."""

    def __init__(self) -> None:
        self._groups: dict[tuple[SkipReason, str, int | None], SkippedGroup] = {}

    def add(
        self,
        reason: SkipReason,
        count: int,
        ids: list[int],
        kind: str = "Enrollment",
        sequence_id: int | None = None,
        rule: str | None = None,
    ) -> None:
        if count <= 0:
            return
        key = (reason, kind, sequence_id)
        group = self._groups.setdefault(key, SkippedGroup(reason, 0, [], kind, sequence_id, rule))
        group.count += count
        room = MAX_SKIPPED_IDS - len(group.ids)
        group.ids.extend(sorted(ids)[:room])

    def groups(self) -> list[SkippedGroup]:
        for group in self._groups.values():
            group.ids.sort()
        return sorted(
            self._groups.values(), key=lambda g: (g.reason.value, g.kind, g.sequence_id or 0)
        )

    def extend(self, groups: list[SkippedGroup]) -> None:
        """Add groups another count found."""
        for g in groups:
            self.add(g.reason, g.count, g.ids, g.kind, g.sequence_id, g.rule)
