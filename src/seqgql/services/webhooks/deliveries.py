"""An endpoint's delivery attempts, listed; and replays: an endpoint's lanes moved back
in the log, so the events since a moment (or after an event) are sent again, in order,
with their webhook-ids (a receiver that kept them sees repeats it can drop)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from seqgql.clock import Clock
from seqgql.domain.errors import ErrorCode, UserError, error
from seqgql.domain.webhooks import DeliveryStatus
from seqgql.events.log import BadCursor, EventCursor
from seqgql.persistence.database import Database
from seqgql.persistence.tables import events, sequences, webhook_deliveries, webhook_lanes
from seqgql.persistence.types import Row
from seqgql.services.actor import Actor
from seqgql.services.reads import Listing, rows_by_ids
from seqgql.services.webhooks.endpoints import endpoints_by_ids

d = webhook_deliveries.c
lane = webhook_lanes.c


def delivery_listing(
    workspace_id: int, endpoint_id: int, status: DeliveryStatus | None = None
) -> Listing:
    """An endpoint's attempts, oldest first (optionally those that ended so)."""
    query = sa.select(webhook_deliveries).where(
        d.workspace_id == workspace_id, d.endpoint_id == endpoint_id
    )
    if status is not None:
        query = query.where(d.status == status)
    return Listing(query)


async def deliveries_by_ids(db: Database, workspace_id: int, ids: list[int]) -> dict[int, Row]:
    return await rows_by_ids(db, webhook_deliveries, workspace_id, ids)


@dataclass(slots=True)
class Replayed:
    endpoint_id: int | None = None
    event_count: int = 0
    errors: list[UserError] = field(default_factory=list)


def _refused(path: list[str], code: ErrorCode, message: str) -> Replayed:
    return Replayed(errors=[error(["input", *path], code, message)])


async def replay(
    db: Database,
    clock: Clock,
    actor: Actor,
    endpoint_id: int,
    *,
    since: datetime | None = None,
    since_cursor: str | None = None,
) -> Replayed:
    """Send again the events made at or after ``since`` (of every sequence the endpoint
    gets), or those after ``since_cursor`` (an event's cursor, of its sequence). Lanes
    only move back; each starts at once, taken from any worker holding it."""
    if (since is None) == (since_cursor is None):
        return _refused(["since"], ErrorCode.INVALID, "give exactly one of since, sinceCursor")
    cursor = None
    if since_cursor is not None:
        try:
            cursor = EventCursor.decode(since_cursor)
        except BadCursor as exc:
            return _refused(["sinceCursor"], ErrorCode.INVALID, str(exc))
    if not await endpoints_by_ids(db, actor.workspace_id, [endpoint_id]):
        return _refused(["endpointId"], ErrorCode.NOT_FOUND, "no such endpoint")
    async with db.write() as conn:
        first_since: sa.ColumnElement[Any] = sa.null()
        if since is not None:  # the sequence's first event at or after it
            first_since = (
                sa.select(sa.func.min(events.c.number))
                .where(events.c.sequence_id == lane.sequence_id, events.c.at >= since)
                .scalar_subquery()
            )
        query = (
            sa.select(
                lane.sequence_id,
                lane.number,
                sequences.c.last_event_number,
                first_since.label("first"),
            )
            .join(sequences, sequences.c.id == lane.sequence_id)
            .where(lane.endpoint_id == endpoint_id)
            .with_for_update(of=webhook_lanes)
        )
        if cursor is not None:
            query = query.where(lane.sequence_id == cursor.sequence_id)
        rows = list(await conn.execute(query))
        if cursor is not None and not rows:
            return _refused(
                ["sinceCursor"], ErrorCode.NOT_FOUND, "the endpoint gets no events of its sequence"
            )
        moved = []
        for row in rows:
            if cursor is not None:
                start = min(cursor.number, row.last_event_number)
            else:
                start = row.last_event_number if row.first is None else row.first - 1
            moved.append({"sid": row.sequence_id, "number": min(start, row.number)})
        if moved:
            await conn.execute(
                webhook_lanes.update()
                .where(lane.endpoint_id == endpoint_id, lane.sequence_id == sa.bindparam("sid"))
                .values(
                    number=sa.bindparam("number"),
                    attempts=0,
                    next_attempt_at=None,
                    lease_owner=None,
                    lease_until=None,
                ),
                moved,
            )
    count = sum(r.last_event_number for r in rows) - sum(m["number"] for m in moved)
    return Replayed(endpoint_id=endpoint_id, event_count=count)
