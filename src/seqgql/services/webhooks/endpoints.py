"""A workspace's webhook endpoints: created (its secret in the answer), changed, turned
off and on, its secret rotated; listed and read (never with their secrets).

An endpoint starts at the end of the log: it gets the events made after it was created,
each sequence's from its lane (``webhooks.lanes``), made here for the sequences that
exist and by the worker for those created later."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from seqgql.clock import Clock
from seqgql.domain.errors import ErrorCode, UserError, error
from seqgql.domain.webhook_urls import BadUrl, destination
from seqgql.domain.webhooks import DisabledReason, WebhookEventType, WebhookRules, new_secret
from seqgql.persistence.database import Database
from seqgql.persistence.tables import sequences, webhook_endpoints, webhook_lanes
from seqgql.persistence.types import Row
from seqgql.services.actor import Actor
from seqgql.services.reads import Listing
from seqgql.webhooks.addresses import RefusedAddress, Unresolvable, allowed_addresses

ep = webhook_endpoints.c
lane = webhook_lanes.c
MAX_SEQUENCES = 1_000
# what an endpoint shows: everything but its secrets
_SHOWN = [c for c in webhook_endpoints.c if c.name not in ("secret", "previous_secret")]


def endpoint_listing(workspace_id: int) -> Listing:
    """The workspace's endpoints, oldest first."""
    return Listing(sa.select(*_SHOWN).where(ep.workspace_id == workspace_id))


async def endpoints_by_ids(db: Database, workspace_id: int, ids: list[int]) -> dict[int, Row]:
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(*_SHOWN).where(ep.workspace_id == workspace_id, ep.id.in_(ids))
        )
        return {r.id: r for r in rows}


@dataclass(slots=True)
class EndpointResult:
    endpoint_id: int | None = None
    secret: str | None = None  # set when one was made: shown once
    errors: list[UserError] = field(default_factory=list)


async def url_errors(url: str, rules: WebhookRules) -> list[UserError]:
    """Why webhooks cannot go to ``url``: not https, not a URL, or a host that does not
    resolve or resolves to a private address (unless the rules allow it)."""
    path = ["input", "url"]
    try:
        place = destination(url, allow_http=rules.allow_private)
    except BadUrl as exc:
        return [error(path, ErrorCode.INVALID_URL, str(exc))]
    try:
        await allowed_addresses(place.host, place.port, allow_private=rules.allow_private)
    except RefusedAddress as exc:
        return [error(path, ErrorCode.PRIVATE_ADDRESS, str(exc))]
    except Unresolvable as exc:
        return [error(path, ErrorCode.INVALID_URL, str(exc))]
    return []


def event_type_errors(event_types: list[WebhookEventType]) -> list[UserError]:
    if not event_types:
        return [error(["input", "eventTypes"], ErrorCode.REQUIRED, "name at least one event type")]
    return []


async def _sequence_errors(
    conn: AsyncConnection, workspace_id: int, ids: list[int] | None
) -> list[UserError]:
    if ids is None:
        return []
    path = ["input", "sequenceIds"]
    if not ids:
        return [error(path, ErrorCode.REQUIRED, "name a sequence, or leave it out for all")]
    if len(ids) > MAX_SEQUENCES:
        return [error(path, ErrorCode.TOO_MANY, f"at most {MAX_SEQUENCES:,} sequences")]
    found = set(
        (
            await conn.execute(
                sa.select(sequences.c.id).where(
                    sequences.c.workspace_id == workspace_id, sequences.c.id.in_(set(ids))
                )
            )
        ).scalars()
    )
    return [
        error([*path, i], ErrorCode.NOT_FOUND, "no such sequence")
        for i, pk in enumerate(ids)
        if pk not in found
    ]


async def _add_lanes(
    conn: AsyncConnection, endpoint_id: int, workspace_id: int, ids: list[int] | None
) -> None:
    """Lanes at the end of the log for these sequences (all the workspace's: None)."""
    chosen = sa.select(
        sa.literal(endpoint_id), sequences.c.id, sequences.c.last_event_number, sa.literal(0)
    ).where(sequences.c.workspace_id == workspace_id)
    if ids is not None:
        chosen = chosen.where(sequences.c.id.in_(set(ids)))
    insert: Any = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert
    columns = ["endpoint_id", "sequence_id", "number", "attempts"]
    await conn.execute(insert(webhook_lanes).from_select(columns, chosen).on_conflict_do_nothing())


async def create_endpoint(
    db: Database,
    clock: Clock,
    actor: Actor,
    rules: WebhookRules,
    *,
    url: str,
    event_types: list[WebhookEventType],
    sequence_ids: list[int] | None,
) -> EndpointResult:
    errors = await url_errors(url, rules) + event_type_errors(event_types)
    async with db.write() as conn:
        errors += await _sequence_errors(conn, actor.workspace_id, sequence_ids)
        if errors:
            return EndpointResult(errors=errors)
        now = clock.now()
        secret = new_secret()
        endpoint_id = (
            await conn.execute(
                webhook_endpoints.insert()
                .values(
                    workspace_id=actor.workspace_id,
                    url=url,
                    event_types=sorted({t.value for t in event_types}),
                    sequence_ids=_unique(sequence_ids),
                    secret=secret,
                    enabled=True,
                    created_at=now,
                    updated_at=now,
                )
                .returning(ep.id)
            )
        ).scalar_one()
        await _add_lanes(conn, endpoint_id, actor.workspace_id, sequence_ids)
    return EndpointResult(endpoint_id=endpoint_id, secret=secret)


def _unique(ids: list[int] | None) -> list[int] | None:
    return None if ids is None else list(dict.fromkeys(ids))


async def _mine(conn: AsyncConnection, actor: Actor, endpoint_id: int) -> Row | None:
    """The endpoint, locked, when it is the actor's workspace's."""
    return (
        await conn.execute(
            sa.select(webhook_endpoints)
            .where(ep.id == endpoint_id, ep.workspace_id == actor.workspace_id)
            .with_for_update()
        )
    ).first()


def _not_found(field_name: str = "id") -> EndpointResult:
    return EndpointResult(
        errors=[error(["input", field_name], ErrorCode.NOT_FOUND, "no such endpoint")]
    )


@dataclass(frozen=True, slots=True)
class EndpointChanges:
    """What updateWebhookEndpoint changes: None leaves a part as it is; ``sequence_ids``
    is changed only with ``change_sequences`` (then None means every sequence)."""

    url: str | None = None
    event_types: list[WebhookEventType] | None = None
    change_sequences: bool = False
    sequence_ids: list[int] | None = None


async def update_endpoint(
    db: Database,
    clock: Clock,
    actor: Actor,
    rules: WebhookRules,
    endpoint_id: int,
    changes: EndpointChanges,
) -> EndpointResult:
    errors = [] if changes.url is None else await url_errors(changes.url, rules)
    if changes.event_types is not None:
        errors += event_type_errors(changes.event_types)
    async with db.write() as conn:
        row = await _mine(conn, actor, endpoint_id)
        if row is None:
            return _not_found()
        if changes.change_sequences:
            errors += await _sequence_errors(conn, actor.workspace_id, changes.sequence_ids)
        if errors:
            return EndpointResult(errors=errors)
        values: dict[str, Any] = {"updated_at": clock.now()}
        if changes.url is not None:
            values["url"] = changes.url
        if changes.event_types is not None:
            values["event_types"] = sorted({t.value for t in changes.event_types})
        if changes.change_sequences:
            values["sequence_ids"] = _unique(changes.sequence_ids)
            if changes.sequence_ids is not None:
                await conn.execute(
                    webhook_lanes.delete().where(
                        lane.endpoint_id == endpoint_id,
                        lane.sequence_id.not_in(set(changes.sequence_ids)),
                    )
                )
            await _add_lanes(conn, endpoint_id, actor.workspace_id, changes.sequence_ids)
        await conn.execute(webhook_endpoints.update().where(ep.id == endpoint_id).values(values))
    return EndpointResult(endpoint_id=endpoint_id)


async def set_enabled(
    db: Database, clock: Clock, actor: Actor, endpoint_id: int, enabled: bool
) -> EndpointResult:
    """Turn an endpoint off (nothing is sent; its place in the log is kept) or on again
    (it goes on from where it stopped, failed events first, at once)."""
    async with db.write() as conn:
        row = await _mine(conn, actor, endpoint_id)
        if row is None:
            return _not_found()
        now = clock.now()
        if enabled and not row.enabled:
            await conn.execute(
                webhook_endpoints.update()
                .where(ep.id == endpoint_id)
                .values(
                    enabled=True,
                    disabled_reason=None,
                    disabled_at=None,
                    failing_since=None,
                    updated_at=now,
                )
            )
            await conn.execute(
                webhook_lanes.update()
                .where(lane.endpoint_id == endpoint_id)
                .values(attempts=0, next_attempt_at=None)
            )
        elif not enabled and row.enabled:
            await conn.execute(
                webhook_endpoints.update()
                .where(ep.id == endpoint_id)
                .values(
                    enabled=False,
                    disabled_reason=DisabledReason.MANUAL,
                    disabled_at=now,
                    updated_at=now,
                )
            )
    return EndpointResult(endpoint_id=endpoint_id)


async def rotate_secret(
    db: Database, clock: Clock, actor: Actor, rules: WebhookRules, endpoint_id: int
) -> EndpointResult:
    """A new secret; the one it replaces keeps signing beside it for the grace period."""
    async with db.write() as conn:
        row = await _mine(conn, actor, endpoint_id)
        if row is None:
            return _not_found()
        now = clock.now()
        secret = new_secret()
        grace_until: datetime | None = now + rules.secret_grace if rules.secret_grace else None
        await conn.execute(
            webhook_endpoints.update()
            .where(ep.id == endpoint_id)
            .values(
                secret=secret,
                previous_secret=row.secret if grace_until else None,
                previous_secret_until=grace_until,
                updated_at=now,
            )
        )
    return EndpointResult(endpoint_id=endpoint_id, secret=secret)
