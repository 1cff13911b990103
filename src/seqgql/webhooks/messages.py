"""What an event of the log becomes on the wire: its type, its ``webhook-id`` and its
JSON body. ``webhook_message`` is the one place that decides it, for any row of the
events table (read generically, by sequence and number), so that new kinds of rows
(activities) become new event types here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from strawberry.relay import GlobalID

from seqgql.domain.kinds import ActivityKind
from seqgql.domain.webhooks import WebhookEventType, activity_event_type, message_id
from seqgql.events.log import EventCursor
from seqgql.persistence.types import Row


@dataclass(frozen=True, slots=True)
class Message:
    type: WebhookEventType
    id: str  # the webhook-id header: the same on every attempt
    body: bytes  # the JSON signed and posted: the same on every attempt


def _id(type_name: str, pk: int | None) -> str | None:
    return None if pk is None else str(GlobalID(type_name, str(pk)))


def _moment(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def webhook_message(row: Row) -> Message | None:
    """The message for one event row (with its enrollment's ``contact_id`` and, for an
    activity, its ``detail``); None for a row no event type reports."""
    data: dict[str, Any] = {
        "enrollmentId": _id("Enrollment", row.enrollment_id),
        "sequenceId": _id("Sequence", row.sequence_id),
        "contactId": _id("Contact", row.contact_id),
        "number": row.number,
        "cursor": EventCursor(row.sequence_id, row.number).encode(),
    }
    if row.activity is not None:
        kind = activity_event_type(ActivityKind(row.activity))
        data |= {
            "activityId": _id("Activity", row.activity_id),
            "kind": row.activity,
            "step": row.to_step,
            "detail": row.detail,
        }
    elif row.to_status is not None:
        kind = WebhookEventType.ENROLLMENT_STATUS_CHANGED
        data |= {
            "fromStatus": row.from_status,
            "fromReason": row.from_reason,
            "toStatus": row.to_status,
            "reason": row.to_reason,
            "fromStep": row.from_step,
            "toStep": row.to_step,
            "bulkOperationId": _id("BulkOperation", row.bulk_operation_id),
            "rule": row.rule,
        }
    else:
        return None
    data |= {"actorId": _id("User", row.actor_id), "occurredAt": _moment(row.at)}
    body = {"type": kind.value, "timestamp": _moment(row.at), "data": data}
    return Message(kind, message_id(row.sequence_id, row.number), orjson.dumps(body))
