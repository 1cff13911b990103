"""The webhook enums of the domain (``domain.webhooks``), registered with GraphQL with a
description of each value (as ``enums`` does for the others)."""

from __future__ import annotations

from seqgql.domain.webhooks import DeliveryStatus, DisabledReason, WebhookEventType
from seqgql.graphql.enums import describe

ACTIVITY_DATA = (
    "(an activity of the log, as `enrollmentActivity` sends it): `data` holds "
    "enrollmentId, sequenceId, contactId, number, cursor, activityId, kind, step, detail, "
    "actorId, occurredAt."
)

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
        WebhookEventType.ENROLLMENT_ACTIVITY_SENT: (
            "`enrollment.activity.sent`: a message went out (a step, or a sendMessage message) "
            + ACTIVITY_DATA
        ),
        WebhookEventType.ENROLLMENT_ACTIVITY_DELIVERED: (
            "`enrollment.activity.delivered`: a provider reported a message delivered "
            + ACTIVITY_DATA
        ),
        WebhookEventType.ENROLLMENT_ACTIVITY_OPENED: (
            "`enrollment.activity.opened`: a provider reported an email opened " + ACTIVITY_DATA
        ),
        WebhookEventType.ENROLLMENT_ACTIVITY_CLICKED: (
            "`enrollment.activity.clicked`: a provider reported a link clicked " + ACTIVITY_DATA
        ),
        WebhookEventType.ENROLLMENT_ACTIVITY_REPLIED: (
            "`enrollment.activity.replied`: the contact replied " + ACTIVITY_DATA
        ),
        WebhookEventType.ENROLLMENT_ACTIVITY_BOUNCED: (
            "`enrollment.activity.bounced`: an email bounced " + ACTIVITY_DATA
        ),
        WebhookEventType.ENROLLMENT_ACTIVITY_FAILED: (
            "`enrollment.activity.failed`: a message could not be delivered " + ACTIVITY_DATA
        ),
        WebhookEventType.ENROLLMENT_ACTIVITY_DEFERRED: (
            "`enrollment.activity.deferred`: a message was delayed and will be tried again "
            + ACTIVITY_DATA
        ),
        WebhookEventType.ENROLLMENT_ACTIVITY_OUT_OF_OFFICE: (
            "`enrollment.activity.out_of_office`: an automatic out-of-office reply came "
            + ACTIVITY_DATA
        ),
        WebhookEventType.ENROLLMENT_ACTIVITY_OPTED_OUT: (
            "`enrollment.activity.opted_out`: the contact asked to stop " + ACTIVITY_DATA
        ),
        WebhookEventType.ENROLLMENT_ACTIVITY_NOTE: (
            "`enrollment.activity.note`: a note (an SMS HELP, a START) " + ACTIVITY_DATA
        ),
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
