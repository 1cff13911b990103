"""The webhook enums of the domain (``domain.webhooks``), registered with GraphQL with a
description of each value (as ``enums`` does for the others)."""

from __future__ import annotations

from seqgql.domain.webhooks import DeliveryStatus, DisabledReason, WebhookEventType
from seqgql.graphql.enums import describe

describe(
    WebhookEventType,
    "WebhookEventType",
    "What a webhook message reports; its `type` in the body is the value's wire name "
    "(`enrollment.status_changed`).",
    {
        WebhookEventType.ENROLLMENT_STATUS_CHANGED: "`enrollment.status_changed`: an "
        "enrollment's status or step changed (one per event of the log, as "
        "`enrollmentStatusChanged` sends them): `data` holds enrollmentId, sequenceId, "
        "contactId, number, cursor, fromStatus, fromReason, toStatus, reason, fromStep, "
        "toStep, actorId, bulkOperationId, rule, occurredAt.",
    },
)
describe(
    DisabledReason,
    "WebhookDisabledReason",
    "Why a webhook endpoint is disabled.",
    {
        DisabledReason.MANUAL: "An admin disabled it (disableWebhookEndpoint).",
        DisabledReason.FAILING: "No attempt to deliver to it succeeded for three days: the "
        "worker disabled it. Fix the receiver, then enableWebhookEndpoint: it gets what it "
        "missed, in order.",
    },
)
describe(
    DeliveryStatus,
    "WebhookDeliveryStatus",
    "How one attempt to post an event ended.",
    {
        DeliveryStatus.SUCCEEDED: "The endpoint answered 2xx: the event is delivered.",
        DeliveryStatus.FAILED: "No answer in time, no connection, a refused address, or an "
        "answer other than 2xx (redirects are not followed): tried again on the schedule.",
    },
)

registered = True
