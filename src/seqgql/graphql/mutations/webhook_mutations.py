"""Webhook endpoint mutations (admins only): create one (its secret shown once), change
it, turn it off and on, rotate its secret, replay its events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from seqgql.domain.webhooks import WebhookEventType
from seqgql.graphql.context import Context
from seqgql.graphql.inputs import IdDecoder, require_aware
from seqgql.graphql.node import ContextInfo
from seqgql.graphql.payloads import Payload, UserError, user_errors
from seqgql.graphql.permissions import AdminAccess
from seqgql.graphql.webhook_types import WebhookEndpointType
from seqgql.services.webhooks import deliveries, endpoints
from seqgql.services.webhooks.endpoints import EndpointChanges, EndpointResult

USER_ERRORS = "Why nothing was done, each naming the input field at fault; empty when it was done."
SEQUENCE_IDS = (
    "The sequences whose events it gets (at most 1,000); null or left out: every sequence "
    "of the workspace, those created later included."
)


@strawberry.input(description="A new webhook endpoint.")
class CreateWebhookEndpointInput:
    url: str = strawberry.field(
        description="Where to post: an https URL whose host resolves to public addresses "
        "(checked now and on every connection); no credentials, no #fragment; at most "
        "2,000 characters."
    )
    event_types: list[WebhookEventType] = strawberry.field(
        description="The kinds of events to post (at least one)."
    )
    sequence_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description=SEQUENCE_IDS
    )


@strawberry.input(description="What to change of a webhook endpoint; what is left out stays.")
class UpdateWebhookEndpointInput:
    id: strawberry.ID = strawberry.field(description="The endpoint's global id.")
    url: str | None = strawberry.field(
        default=None, description="A new URL (checked as createWebhookEndpoint checks it)."
    )
    event_types: list[WebhookEventType] | None = strawberry.field(
        default=None, description="The kinds of events to post from now on (at least one)."
    )
    sequence_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET,
        description="The sequences whose events it gets from now on; null: every sequence; "
        "left out: unchanged. A sequence added starts at its latest event.",
    )


@strawberry.input(description="The webhook endpoint to disable.")
class DisableWebhookEndpointInput:
    id: strawberry.ID = strawberry.field(description="The endpoint's global id.")


@strawberry.input(description="The webhook endpoint to enable.")
class EnableWebhookEndpointInput:
    id: strawberry.ID = strawberry.field(description="The endpoint's global id.")


@strawberry.input(description="The webhook endpoint whose secret to rotate.")
class RotateWebhookSecretInput:
    id: strawberry.ID = strawberry.field(description="The endpoint's global id.")


WebhookEndpointInput = (
    DisableWebhookEndpointInput | EnableWebhookEndpointInput | RotateWebhookSecretInput
)


@strawberry.input(
    description="Send an endpoint its events again from a point of the log: give `since` "
    "or `sinceCursor`."
)
class ReplayWebhookEventsInput:
    endpoint_id: strawberry.ID = strawberry.field(description="The endpoint's global id.")
    since: datetime | None = strawberry.field(
        default=None,
        description="The events made at or after this moment, of every sequence it gets.",
    )
    since_cursor: str | None = strawberry.field(
        default=None,
        description="The events after this one, of its sequence: an event's `cursor` (from "
        "a webhook's `data.cursor` or `enrollmentStatusChanged`).",
    )


@strawberry.type(description="The webhook endpoint, or why nothing was done.")
class WebhookEndpointPayload(Payload):
    webhook_endpoint: WebhookEndpointType | None = strawberry.field(
        default=None, description="The endpoint as it is now (null when refused)."
    )
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS)


@strawberry.type(description="The webhook endpoint and its new secret, or why none was made.")
class WebhookSecretPayload(Payload):
    webhook_endpoint: WebhookEndpointType | None = strawberry.field(
        default=None, description="The endpoint as it is now (null when refused)."
    )
    secret: str | None = strawberry.field(
        default=None,
        description="The signing secret (`whsec_…`), for the receiver's Standard Webhooks "
        "verifier. Shown this once: store it now.",
    )
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS)


@strawberry.type(description="What replayWebhookEvents set going, or why nothing.")
class ReplayWebhookEventsPayload(Payload):
    webhook_endpoint: WebhookEndpointType | None = strawberry.field(
        default=None, description="The endpoint (null when refused)."
    )
    event_count: int = strawberry.field(
        default=0,
        description="How many events of the log it will be sent from now, in order (those "
        "it was still due included; events of types it does not get are not sent).",
    )
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS)


async def _endpoint(ctx: Context, pk: int | None) -> WebhookEndpointType | None:
    if pk is None:
        return None
    row = (await endpoints.endpoints_by_ids(ctx.db, ctx.workspace_id, [pk])).get(pk)
    return WebhookEndpointType.from_row(row) if row is not None else None


async def _answer(ctx: Context, result: EndpointResult) -> WebhookEndpointPayload:
    if result.errors:
        return WebhookEndpointPayload.refused(result.errors)
    endpoint = await _endpoint(ctx, result.endpoint_id)
    return WebhookEndpointPayload(webhook_endpoint=endpoint, user_errors=[])


async def _with_secret(ctx: Context, result: EndpointResult) -> WebhookSecretPayload:
    if result.errors:
        return WebhookSecretPayload.refused(result.errors)
    endpoint = await _endpoint(ctx, result.endpoint_id)
    return WebhookSecretPayload(webhook_endpoint=endpoint, secret=result.secret, user_errors=[])


ADMINS = " Admins only (anyone else: a FORBIDDEN user error)."


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(
        extensions=[AdminAccess()],
        description="Start posting the workspace's events to a URL, from the events made "
        "after now; the signing secret is in the answer and nowhere else." + ADMINS,
    )
    async def create_webhook_endpoint(
        self,
        info: ContextInfo,
        input: Annotated[
            CreateWebhookEndpointInput,
            strawberry.argument(description="The URL, event types and sequences."),
        ],
    ) -> WebhookSecretPayload:
        ctx = info.context
        ids = IdDecoder()
        sequence_ids = (
            None
            if input.sequence_ids is None
            else list(ids.many(input.sequence_ids, "Sequence", ["input", "sequenceIds"]))
        )
        if ids.errors:
            return WebhookSecretPayload.refused(ids.errors)
        result = await endpoints.create_endpoint(
            ctx.db,
            ctx.clock,
            ctx.actor,
            ctx.webhook_rules,
            url=input.url,
            event_types=input.event_types,
            sequence_ids=sequence_ids,
        )
        return await _with_secret(ctx, result)

    @strawberry.mutation(
        extensions=[AdminAccess()],
        description="Change a webhook endpoint's URL, event types or sequences." + ADMINS,
    )
    async def update_webhook_endpoint(
        self,
        info: ContextInfo,
        input: Annotated[
            UpdateWebhookEndpointInput,
            strawberry.argument(description="The endpoint and what to change."),
        ],
    ) -> WebhookEndpointPayload:
        ctx = info.context
        ids = IdDecoder()
        pk = ids.one(input.id, "WebhookEndpoint", ["input", "id"])
        change_sequences = input.sequence_ids is not strawberry.UNSET
        sequence_ids = None
        if change_sequences and input.sequence_ids is not None:
            sequence_ids = list(ids.many(input.sequence_ids, "Sequence", ["input", "sequenceIds"]))
        if ids.errors:
            return WebhookEndpointPayload.refused(ids.errors)
        changes = EndpointChanges(
            url=input.url,
            event_types=input.event_types,
            change_sequences=change_sequences,
            sequence_ids=sequence_ids,
        )
        result = await endpoints.update_endpoint(
            ctx.db, ctx.clock, ctx.actor, ctx.webhook_rules, pk, changes
        )
        return await _answer(ctx, result)

    @strawberry.mutation(
        extensions=[AdminAccess()],
        description="Stop posting to a webhook endpoint (disabledReason MANUAL); it keeps "
        "its place in the log. Disabling it again changes nothing." + ADMINS,
    )
    async def disable_webhook_endpoint(
        self,
        info: ContextInfo,
        input: Annotated[
            DisableWebhookEndpointInput, strawberry.argument(description="Which one.")
        ],
    ) -> WebhookEndpointPayload:
        return await _set_enabled(info.context, input, enabled=False)

    @strawberry.mutation(
        extensions=[AdminAccess()],
        description="Post to a disabled webhook endpoint again: it gets what it missed, "
        "from where it stopped, in order, at once." + ADMINS,
    )
    async def enable_webhook_endpoint(
        self,
        info: ContextInfo,
        input: Annotated[EnableWebhookEndpointInput, strawberry.argument(description="Which one.")],
    ) -> WebhookEndpointPayload:
        return await _set_enabled(info.context, input, enabled=True)

    @strawberry.mutation(
        extensions=[AdminAccess()],
        description="Give a webhook endpoint a new signing secret, shown in the answer "
        "only. Messages carry a signature with the previous secret too for a grace period "
        "(`previousSecretExpiresAt`), so the receiver can switch without losing any." + ADMINS,
    )
    async def rotate_webhook_secret(
        self,
        info: ContextInfo,
        input: Annotated[RotateWebhookSecretInput, strawberry.argument(description="Which one.")],
    ) -> WebhookSecretPayload:
        ctx = info.context
        ids = IdDecoder()
        pk = ids.one(input.id, "WebhookEndpoint", ["input", "id"])
        if ids.errors:
            return WebhookSecretPayload.refused(ids.errors)
        result = await endpoints.rotate_secret(ctx.db, ctx.clock, ctx.actor, ctx.webhook_rules, pk)
        return await _with_secret(ctx, result)

    @strawberry.mutation(
        extensions=[AdminAccess()],
        description="Send an endpoint its events again from a moment or an event, in "
        "order, with their webhook-ids (a receiver that kept them can drop them)." + ADMINS,
    )
    async def replay_webhook_events(
        self,
        info: ContextInfo,
        input: Annotated[
            ReplayWebhookEventsInput,
            strawberry.argument(description="The endpoint, and from where."),
        ],
    ) -> ReplayWebhookEventsPayload:
        ctx = info.context
        ids = IdDecoder()
        pk = ids.one(input.endpoint_id, "WebhookEndpoint", ["input", "endpointId"])
        require_aware(input.since, ["input", "since"], ids)
        if ids.errors:
            return ReplayWebhookEventsPayload.refused(ids.errors)
        result = await deliveries.replay(
            ctx.db, ctx.clock, ctx.actor, pk, since=input.since, since_cursor=input.since_cursor
        )
        if result.errors:
            return ReplayWebhookEventsPayload(user_errors=user_errors(result.errors))
        return ReplayWebhookEventsPayload(
            webhook_endpoint=await _endpoint(ctx, pk),
            event_count=result.event_count,
            user_errors=[],
        )


async def _set_enabled(
    ctx: Context, input: WebhookEndpointInput, *, enabled: bool
) -> WebhookEndpointPayload:
    ids = IdDecoder()
    pk = ids.one(input.id, "WebhookEndpoint", ["input", "id"])
    if ids.errors:
        return WebhookEndpointPayload.refused(ids.errors)
    return await _answer(
        ctx, await endpoints.set_enabled(ctx.db, ctx.clock, ctx.actor, pk, enabled)
    )
