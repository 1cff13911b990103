"""Lanes: an endpoint's place in one sequence's event log, the unit a worker leases.

A lane is due when its sequence has events past its number, its endpoint is enabled,
its next attempt has come and no worker holds it. Workers claim due lanes in one short
transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) and write a lease (owner and
until when): two workers never send the same lane's events at once. A lane's events go
out one after the other, and each batch's outcome (the lane's new place, its attempts,
every attempt's row) is written in one transaction that also renews or ends the lease;
a worker that died is replaced once its lease has run out, and sends again at most the
events of its last, unrecorded batch (with the same webhook-id)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from seqgql.domain.webhooks import FAILING_WINDOW, DeliveryStatus, DisabledReason
from seqgql.persistence.tables import (
    activities,
    enrollments,
    events,
    sequences,
    webhook_deliveries,
    webhook_endpoints,
    webhook_lanes,
)
from seqgql.persistence.types import Row

lane = webhook_lanes.c
ep = webhook_endpoints.c


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: int
    workspace_id: int
    url: str
    event_types: frozenset[str]
    secrets: tuple[str, ...]  # the current one first, then the previous one in its grace


@dataclass(frozen=True, slots=True)
class Lane:
    endpoint: Endpoint
    sequence_id: int
    number: int
    attempts: int


async def add_new_sequences(conn: AsyncConnection) -> None:
    """Lanes for the sequences with events that an endpoint sending every sequence's
    events has none for yet (those created after it): from their first event."""
    missing = (
        sa.select(ep.id, sequences.c.id, sa.literal(0), sa.literal(0))
        .join(sequences, sequences.c.workspace_id == ep.workspace_id)
        .where(
            ep.enabled.is_(True),
            ep.sequence_ids.is_(None),
            sequences.c.last_event_number > 0,
            ~sa.exists().where(lane.endpoint_id == ep.id, lane.sequence_id == sequences.c.id),
        )
    )
    insert: Any = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert
    columns = ["endpoint_id", "sequence_id", "number", "attempts"]
    await conn.execute(insert(webhook_lanes).from_select(columns, missing).on_conflict_do_nothing())


async def claim_lanes(
    conn: AsyncConnection,
    now: datetime,
    *,
    owner: str,
    lease: timedelta,
    limit: int,
    per_endpoint: int,
    exclude: set[tuple[int, int]],
) -> list[Lane]:
    """Lease up to ``limit`` due lanes, at most ``per_endpoint`` held at once per
    endpoint (by any worker), the longest idle first."""
    due = (
        sa.select(lane.endpoint_id, lane.sequence_id, lane.number, lane.attempts)
        .join(webhook_endpoints, ep.id == lane.endpoint_id)
        .join(sequences, sequences.c.id == lane.sequence_id)
        .where(
            ep.enabled.is_(True),
            lane.number < sequences.c.last_event_number,
            sa.or_(lane.next_attempt_at.is_(None), lane.next_attempt_at <= now),
            sa.or_(lane.lease_owner.is_(None), lane.lease_until <= now),
        )
        .order_by(lane.lease_until.asc().nulls_first(), lane.endpoint_id, lane.sequence_id)
        .limit(limit * 4 + len(exclude))
        .with_for_update(of=webhook_lanes, skip_locked=True)
    )
    candidates = [r for r in await conn.execute(due) if (r[0], r[1]) not in exclude]
    if not candidates:
        return []
    endpoint_ids = sorted({r.endpoint_id for r in candidates})
    leased = await conn.execute(
        sa.select(lane.endpoint_id, sa.func.count().label("n"))
        .where(
            lane.endpoint_id.in_(endpoint_ids),
            lane.lease_owner.is_not(None),
            lane.lease_until > now,
        )
        .group_by(lane.endpoint_id)
    )
    held: Counter[int] = Counter({r.endpoint_id: r.n for r in leased})
    chosen: list[Row] = []
    for row in candidates:
        if len(chosen) < limit and held[row.endpoint_id] < per_endpoint:
            held[row.endpoint_id] += 1
            chosen.append(row)
    if not chosen:
        return []
    keys = [(r.endpoint_id, r.sequence_id) for r in chosen]
    await conn.execute(
        webhook_lanes.update()
        .where(sa.tuple_(lane.endpoint_id, lane.sequence_id).in_(keys))
        .values(lease_owner=owner, lease_until=now + lease)
    )
    found = await endpoints_by_id(conn, sorted({r.endpoint_id for r in chosen}), now)
    return [Lane(found[r.endpoint_id], r.sequence_id, r.number, r.attempts) for r in chosen]


async def endpoints_by_id(
    conn: AsyncConnection, ids: list[int], now: datetime
) -> dict[int, Endpoint]:
    rows = await conn.execute(sa.select(webhook_endpoints).where(ep.id.in_(ids)))
    return {r.id: _endpoint(r, now) for r in rows}


def _endpoint(row: Row, now: datetime) -> Endpoint:
    secrets = [row.secret]
    if row.previous_secret and row.previous_secret_until and row.previous_secret_until > now:
        secrets.append(row.previous_secret)
    return Endpoint(row.id, row.workspace_id, row.url, frozenset(row.event_types), tuple(secrets))


async def events_after(
    conn: AsyncConnection, sequence_id: int, number: int, limit: int
) -> list[Row]:
    """Rows of the event log past ``number``, in order, whatever they record, with their
    enrollment's contact and, for an activity, its detail."""
    query = (
        sa.select(events, enrollments.c.contact_id, activities.c.detail)
        .outerjoin(enrollments, enrollments.c.id == events.c.enrollment_id)
        .outerjoin(activities, activities.c.id == events.c.activity_id)
        .where(events.c.sequence_id == sequence_id, events.c.number > number)
        .order_by(events.c.number)
        .limit(limit)
    )
    return list(await conn.execute(query))


@dataclass(slots=True)
class Attempt:
    """One POST of one event, as it went."""

    sequence_id: int
    event_number: int
    event_type: str
    message_id: str
    attempt: int
    attempted_at: datetime
    latency_ms: float | None
    status_code: int | None
    response: str | None
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(slots=True)
class Progress:
    """What a lane did since its last record: its place now, and the attempts made."""

    number: int
    attempts: int = 0
    attempts_made: list[Attempt] = field(default_factory=list)
    # the failed event's next attempt (None: none scheduled: the schedule is spent)
    next_attempt_at: datetime | None = None
    failed: bool = False


@dataclass(frozen=True, slots=True)
class Recorded:
    held: bool  # the lane is still this worker's (not replayed, not taken over)
    disabled: bool  # the endpoint was disabled by this failure


async def record(
    conn: AsyncConnection,
    lane_: Lane,
    progress: Progress,
    now: datetime,
    *,
    owner: str,
    lease_until: datetime | None,
) -> Recorded:
    """Write a lane's progress and attempts; renew its lease until ``lease_until``, or
    end it (None). A failure of an endpoint with no success for FAILING_WINDOW disables
    it (the lane stays on the failed event, resumed when it is enabled); a failure with
    the schedule spent gives the event up (the lane moves past it)."""
    endpoint = lane_.endpoint
    disabled = False
    if any(a.succeeded for a in progress.attempts_made):
        await conn.execute(
            webhook_endpoints.update()
            .where(ep.id == endpoint.id, ep.failing_since.is_not(None))
            .values(failing_since=None)
        )
    if progress.failed:
        since = (
            await conn.execute(
                webhook_endpoints.update()
                .where(ep.id == endpoint.id)
                .values(failing_since=sa.func.coalesce(ep.failing_since, now))
                .returning(ep.failing_since, ep.enabled)
            )
        ).one()
        if since.enabled and since.failing_since <= now - FAILING_WINDOW:
            disabled = True
            await conn.execute(
                webhook_endpoints.update()
                .where(ep.id == endpoint.id)
                .values(
                    enabled=False,
                    disabled_reason=DisabledReason.FAILING,
                    disabled_at=now,
                    updated_at=now,
                )
            )
            progress.next_attempt_at = None
        elif progress.next_attempt_at is None:  # given up: on to the next event
            progress.number = progress.attempts_made[-1].event_number
            progress.attempts = 0
    if progress.attempts_made:
        last = progress.attempts_made[-1]
        await conn.execute(
            webhook_deliveries.insert(),
            [
                {
                    "workspace_id": endpoint.workspace_id,
                    "endpoint_id": endpoint.id,
                    "sequence_id": a.sequence_id,
                    "event_number": a.event_number,
                    "event_type": a.event_type,
                    "message_id": a.message_id,
                    "attempt": a.attempt,
                    "status": DeliveryStatus.SUCCEEDED if a.succeeded else DeliveryStatus.FAILED,
                    "status_code": a.status_code,
                    "latency_ms": a.latency_ms,
                    "response": a.response,
                    "error": a.error,
                    "attempted_at": a.attempted_at,
                    "next_attempt_at": progress.next_attempt_at if a is last else None,
                }
                for a in progress.attempts_made
            ],
        )
    held = await conn.execute(
        webhook_lanes.update()
        .where(
            lane.endpoint_id == endpoint.id,
            lane.sequence_id == lane_.sequence_id,
            lane.lease_owner == owner,
        )
        .values(
            number=progress.number,
            attempts=progress.attempts,
            next_attempt_at=progress.next_attempt_at,
            lease_owner=owner if lease_until is not None else None,
            lease_until=lease_until if lease_until is not None else now,
        )
    )
    return Recorded(held=held.rowcount == 1, disabled=disabled)
