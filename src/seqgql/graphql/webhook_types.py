"""Webhook endpoints and their delivery attempts as GraphQL nodes, their connections, and
the admins' queries of them (``WebhookQueries``, a part of the Query root)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from seqgql.domain.webhooks import DeliveryStatus, DisabledReason, WebhookEventType
from seqgql.graphql.api_token_types import is_admin
from seqgql.graphql.context import Context
from seqgql.graphql.node import ContextInfo, Node
from seqgql.graphql.public_errors import PublicError
from seqgql.graphql.relay import (
    After,
    Before,
    Connection,
    First,
    InvalidId,
    Last,
    from_global_id,
    global_id,
    listing_connection,
    page_request,
)
from seqgql.graphql.webhook_enums import registered
from seqgql.persistence.types import Row
from seqgql.services.webhooks.deliveries import deliveries_by_ids, delivery_listing
from seqgql.services.webhooks.endpoints import endpoint_listing, endpoints_by_ids

assert registered


@strawberry.type(
    name="WebhookEndpoint",
    description="Where the workspace's events are posted, signed as Standard Webhooks sign "
    "(headers `webhook-id`, `webhook-timestamp`, `webhook-signature`), in order per "
    "sequence, at least once. Its secret is shown once, by createWebhookEndpoint and "
    "rotateWebhookSecret. Visible to admins only.",
)
class WebhookEndpointType(Node):
    url: str = strawberry.field(description="Where the events are posted (https).")
    event_types: list[WebhookEventType] = strawberry.field(
        description="The kinds of events posted to it."
    )
    sequence_ids: list[strawberry.ID] | None = strawberry.field(
        description="The sequences whose events it gets; null: every sequence of the "
        "workspace, those created later included."
    )
    enabled: bool = strawberry.field(
        description="Whether events are posted to it now. A disabled endpoint keeps its "
        "place in each sequence's log: enabled again, it gets what it missed."
    )
    disabled_reason: DisabledReason | None = strawberry.field(
        description="Why it is disabled (null while enabled)."
    )
    disabled_at: datetime | None = strawberry.field(
        description="When it was disabled (null while enabled)."
    )
    failing_since: datetime | None = strawberry.field(
        description="The first failed attempt since its last successful one (null: the "
        "last attempt succeeded). Three days of failures disable it (FAILING)."
    )
    previous_secret_expires_at: datetime | None = strawberry.field(
        description="After rotateWebhookSecret, messages are signed with the previous "
        "secret too (a second signature) until this moment; null when no previous secret "
        "signs."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it was last changed.")

    @classmethod
    def from_row(cls, row: Row) -> WebhookEndpointType:
        sequence_ids = row.sequence_ids
        return cls(
            id=global_id("WebhookEndpoint", row.id),
            url=row.url,
            event_types=[WebhookEventType(t) for t in row.event_types],
            sequence_ids=None
            if sequence_ids is None
            else [global_id("Sequence", pk) for pk in sequence_ids],
            enabled=row.enabled,
            disabled_reason=row.disabled_reason,
            disabled_at=row.disabled_at,
            failing_since=row.failing_since,
            previous_secret_expires_at=row.previous_secret_until,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.type(
    name="WebhookDelivery",
    description="One attempt to post one event to an endpoint, and what came of it.",
)
class WebhookDeliveryType(Node):
    webhook_id: str = strawberry.field(
        description="The message's `webhook-id` header: the same on every attempt and "
        "replay of the event (`evt_<sequence>_<number>`), for receivers to drop repeats."
    )
    event_type: WebhookEventType = strawberry.field(description="What the event reports.")
    sequence_id: strawberry.ID = strawberry.field(description="The event's sequence.")
    event_number: int = strawberry.field(
        description="The event's number in its sequence's log (`EnrollmentStatusChange.number`)."
    )
    attempt: int = strawberry.field(
        description="Which attempt at this event this was: 1, 2, ... (a replay starts again at 1)."
    )
    status: DeliveryStatus = strawberry.field(description="How the attempt ended.")
    status_code: int | None = strawberry.field(
        description="The HTTP status the endpoint answered (null: no answer)."
    )
    latency_ms: float | None = strawberry.field(
        description="Milliseconds from sending to the end of the answer (or the failure)."
    )
    response: str | None = strawberry.field(
        description="The start of the answer's body, at most 1 KB (null: none)."
    )
    error: str | None = strawberry.field(
        description="Why the attempt failed (null: it succeeded): no connection, a "
        "timeout, an answer other than 2xx, an address refused."
    )
    attempted_at: datetime = strawberry.field(description="When the attempt was made.")
    next_attempt_at: datetime | None = strawberry.field(
        description="When the event is tried again after this failure (null: it was "
        "delivered, given up after the last attempt, or the endpoint was disabled)."
    )

    @classmethod
    def from_row(cls, row: Row) -> WebhookDeliveryType:
        return cls(
            id=global_id("WebhookDelivery", row.id),
            webhook_id=row.message_id,
            event_type=WebhookEventType(row.event_type),
            sequence_id=global_id("Sequence", row.sequence_id),
            event_number=row.event_number,
            attempt=row.attempt,
            status=row.status,
            status_code=row.status_code,
            latency_ms=row.latency_ms,
            response=row.response,
            error=row.error,
            attempted_at=row.attempted_at,
            next_attempt_at=row.next_attempt_at,
        )


@strawberry.type(description="A page of the workspace's webhook endpoints, oldest first.")
class WebhookEndpointConnection(Connection[WebhookEndpointType]):
    pass


@strawberry.type(description="A page of an endpoint's delivery attempts, oldest first.")
class WebhookDeliveryConnection(Connection[WebhookDeliveryType]):
    pass


ADMINS_ONLY = "only admins can see the webhook endpoints"


async def webhook_node(ctx: Context, type_name: str, pk: int) -> Node | None:
    """A WebhookEndpoint or WebhookDelivery, for an admin of its workspace."""
    if not is_admin(ctx):
        return None
    if type_name == "WebhookEndpoint":
        row = (await endpoints_by_ids(ctx.db, ctx.workspace_id, [pk])).get(pk)
        return WebhookEndpointType.from_row(row) if row is not None else None
    row = (await deliveries_by_ids(ctx.db, ctx.workspace_id, [pk])).get(pk)
    return WebhookDeliveryType.from_row(row) if row is not None else None


@strawberry.type
class WebhookQueries:
    @strawberry.field(
        description="The workspace's webhook endpoints, disabled ones included, oldest "
        "first (never their secrets). Admins only: anyone else gets an error with code "
        "FORBIDDEN."
    )
    async def webhook_endpoints(
        self,
        info: ContextInfo,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> WebhookEndpointConnection:
        ctx = info.context
        if not is_admin(ctx):
            raise PublicError(ADMINS_ONLY, code="FORBIDDEN")
        return await listing_connection(
            WebhookEndpointConnection,
            ctx.db,
            endpoint_listing(ctx.workspace_id),
            page_request(first, after, last, before),
            WebhookEndpointType.from_row,
        )

    @strawberry.field(
        description="An endpoint's delivery attempts, oldest first: each POST with its "
        "answer, latency, error and next attempt. Admins only (FORBIDDEN otherwise)."
    )
    async def webhook_deliveries(
        self,
        info: ContextInfo,
        endpoint_id: Annotated[
            strawberry.ID, strawberry.argument(description="The endpoint (its global id).")
        ],
        status: Annotated[
            DeliveryStatus | None,
            strawberry.argument(description="Only the attempts that ended so (null: all)."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> WebhookDeliveryConnection:
        ctx = info.context
        if not is_admin(ctx):
            raise PublicError(ADMINS_ONLY, code="FORBIDDEN")
        try:
            pk = from_global_id(endpoint_id, "WebhookEndpoint")
        except InvalidId as exc:
            raise PublicError(str(exc), code="INVALID_ID", argument="endpointId") from exc
        request = page_request(first, after, last, before)
        if not await endpoints_by_ids(ctx.db, ctx.workspace_id, [pk]):
            raise PublicError("no such endpoint", code="NOT_FOUND", argument="endpointId")
        return await listing_connection(
            WebhookDeliveryConnection,
            ctx.db,
            delivery_listing(ctx.workspace_id, pk, status),
            request,
            WebhookDeliveryType.from_row,
        )
