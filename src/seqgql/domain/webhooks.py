"""Webhooks out, as rules: the event types an endpoint subscribes to, the retry schedule,
when a failing endpoint is turned off, and what the secrets look like (Standard Webhooks).
No I/O here: sending is ``seqgql.webhooks``, endpoints are ``services.webhooks``."""

from __future__ import annotations

import base64
import enum
import secrets
from dataclasses import dataclass
from datetime import timedelta

from seqgql.domain.kinds import ActivityKind


class WebhookEventType(enum.StrEnum):
    """What a webhook message reports; the value is its `type` on the wire: a status
    change, or an activity of one kind (``activity_event_type``)."""

    ENROLLMENT_STATUS_CHANGED = "enrollment.status_changed"
    ENROLLMENT_ACTIVITY_SENT = "enrollment.activity.sent"
    ENROLLMENT_ACTIVITY_DELIVERED = "enrollment.activity.delivered"
    ENROLLMENT_ACTIVITY_OPENED = "enrollment.activity.opened"
    ENROLLMENT_ACTIVITY_CLICKED = "enrollment.activity.clicked"
    ENROLLMENT_ACTIVITY_REPLIED = "enrollment.activity.replied"
    ENROLLMENT_ACTIVITY_BOUNCED = "enrollment.activity.bounced"
    ENROLLMENT_ACTIVITY_FAILED = "enrollment.activity.failed"
    ENROLLMENT_ACTIVITY_DEFERRED = "enrollment.activity.deferred"
    ENROLLMENT_ACTIVITY_OUT_OF_OFFICE = "enrollment.activity.out_of_office"
    ENROLLMENT_ACTIVITY_OPTED_OUT = "enrollment.activity.opted_out"
    ENROLLMENT_ACTIVITY_NOTE = "enrollment.activity.note"


def activity_event_type(kind: ActivityKind) -> WebhookEventType:
    """The event type of an activity of this kind."""
    return WebhookEventType(f"enrollment.activity.{kind.value.lower()}")


class DisabledReason(enum.StrEnum):
    MANUAL = "MANUAL"  # disableWebhookEndpoint
    FAILING = "FAILING"  # no delivery succeeded during FAILING_WINDOW


class DeliveryStatus(enum.StrEnum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


# The wait before each attempt of one message, as Svix has it and then 10 hours apart
# until about three days have passed: attempt 1 at once, 2 after 5 s, 3 after 5 min...
RETRY_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(0),
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    *(timedelta(hours=10),) * 7,
)
# An endpoint with no successful delivery for this long, at a failure, is disabled.
FAILING_WINDOW = timedelta(days=3)
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24
MAX_URL_LENGTH = 2_000
# At most this much of a receiver's answer is kept with the attempt.
MAX_RESPONSE_EXCERPT = 1_024


def retry_delay(failed_attempts: int) -> timedelta | None:
    """How long after the ``failed_attempts``-th failed attempt of a message the next
    one is made; None once the schedule is spent (the message is given up)."""
    if failed_attempts < len(RETRY_SCHEDULE):
        return RETRY_SCHEDULE[failed_attempts]
    return None


def new_secret() -> str:
    """A signing secret as Standard Webhooks writes them: ``whsec_`` and base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def message_id(sequence_id: int, number: int) -> str:
    """The ``webhook-id`` of an event: the same on every attempt and every replay, so a
    receiver can drop what it already has."""
    return f"evt_{sequence_id}_{number}"


@dataclass(frozen=True, slots=True)
class WebhookRules:
    """What a deployment allows: ``allow_private`` lets endpoints be plain http and
    resolve to private, loopback or link-local addresses (development and tests);
    ``secret_grace`` is how long a rotated secret keeps signing beside the new one."""

    allow_private: bool = False
    secret_grace: timedelta = timedelta(hours=24)
