"""The Activity node (one entry of an enrollment's history) and its connection."""

from __future__ import annotations

from datetime import datetime

import strawberry

from seqgql.graphql.enums import ActivityKind
from seqgql.graphql.node import Node
from seqgql.graphql.relay import Connection, global_id
from seqgql.persistence.types import Row


@strawberry.type(
    name="Activity",
    description="One entry of an enrollment's history: a message sent to the contact, or "
    "what came back (a provider's report, a failure).",
)
class ActivityType(Node):
    kind: ActivityKind = strawberry.field(description="What happened.")
    step: int | None = strawberry.field(
        description="The position of the step concerned: the step sent or refused, or, for "
        "a provider's report, the last step sent. Null for sendMessage messages."
    )
    at: datetime = strawberry.field(
        description="When it happened: a report's `occurredAt` when given, else when it was "
        "recorded."
    )
    detail: str | None = strawberry.field(
        description="Free text: a step's subject (or its body's first 200 characters), a "
        "sendMessage body, a report's `detail`, or why a message failed."
    )

    @classmethod
    def from_row(cls, row: Row) -> ActivityType:
        return cls(
            id=global_id("Activity", row.id),
            kind=row.kind,
            step=row.step,
            at=row.at,
            detail=row.detail,
        )


@strawberry.type(description="An enrollment's history, a page at a time, oldest first.")
class ActivityConnection(Connection[ActivityType]):
    pass
