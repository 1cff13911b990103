"""SendGrid's Event Webhook: a JSON array of events, signed (the Signed Event Webhook) with
ECDSA over the timestamp header followed by the raw body; checked with SendGrid's own
helper (``sendgrid.helpers.eventwebhook``) and the verification key of Mail Settings →
Event Webhook (``SENDGRID_WEBHOOK_PUBLIC_KEY``).

What each event reports:

========================================  =================================================
``delivered``                             DELIVERED (activity)
``deferred``                              DEFERRED (activity; the status stays)
``open`` / ``click``                      OPENED / CLICKED (activity)
``bounce`` (``type`` "bounce")            BOUNCED: the address does not take mail
``bounce`` (``type`` "blocked")           FAILED: the receiving server refused the message
                                          (content, reputation), not the address
``dropped``, reason "Bounced Address",    BOUNCED: SendGrid did not send, the address
"Invalid"                                 bounced before or is no address
``dropped``, reason "Unsubscribed          OPTED_OUT: the contact asked SendGrid to stop
Address", "Spam Reporting Address"
``dropped``, any other reason             FAILED
``spamreport``, ``unsubscribe``,          OPTED_OUT
``group_unsubscribe``
``processed``, ``group_resubscribe``,     nothing (kept as IGNORED): "processed" is our
anything else                             own SENT, the others change nothing here
========================================  =================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from sendgrid.helpers.eventwebhook import EventWebhook, EventWebhookHeader

from seqgql.domain.kinds import DeliveryEventKind, EmailProvider
from seqgql.provider_events.events import (
    MAX_EVENT_ID_CHARS,
    MAX_EVENTS_PER_POST,
    Batch,
    ProviderEvent,
    TooManyEvents,
    Unreadable,
    Unsigned,
    address,
    enrollment_ids,
    evidence,
    fresh,
    moment,
    text,
)

K = DeliveryEventKind
SIGNATURE_HEADER = EventWebhookHeader.SIGNATURE
TIMESTAMP_HEADER = EventWebhookHeader.TIMESTAMP
_PLAIN: dict[str, DeliveryEventKind] = {
    "delivered": K.DELIVERED,
    "deferred": K.DEFERRED,
    "open": K.OPENED,
    "click": K.CLICKED,
    "spamreport": K.OPTED_OUT,
    "unsubscribe": K.OPTED_OUT,
    "group_unsubscribe": K.OPTED_OUT,
}
_DROPPED: dict[str, DeliveryEventKind] = {
    "bounced address": K.BOUNCED,
    "invalid": K.BOUNCED,
    "unsubscribed address": K.OPTED_OUT,
    "spam reporting address": K.OPTED_OUT,
}


class SendGridEvents:
    """Reads a signed SendGrid Event Webhook request (see the module)."""

    provider = EmailProvider.SENDGRID

    def __init__(self, public_key: str) -> None:
        """``public_key``: the verification key as SendGrid shows it (base64, or PEM).
        Raises ValueError for one that is no ECDSA public key."""
        self._webhook = EventWebhook()
        lines = [line.strip() for line in public_key.strip().splitlines() if "-----" not in line]
        try:
            key = self._webhook.convert_public_key_to_ecdsa("".join(lines))
        except Exception as exc:  # what cryptography raises for a malformed key varies
            raise ValueError(
                f"SENDGRID_WEBHOOK_PUBLIC_KEY is not an ECDSA public key ({exc})"
            ) from None
        if not isinstance(key, EllipticCurvePublicKey):
            raise ValueError("SENDGRID_WEBHOOK_PUBLIC_KEY is not an ECDSA public key")
        self._key = key

    def read(self, headers: Mapping[str, str], body: bytes, now: datetime) -> Batch:
        """The request's events (``headers``: case-insensitive, as Starlette's); raises
        ``Unsigned`` (the signature, checked first) or ``Unreadable``."""
        signature, timestamp = headers.get(SIGNATURE_HEADER), headers.get(TIMESTAMP_HEADER)
        if not signature or not timestamp:
            raise Unsigned(f"the headers {SIGNATURE_HEADER} and {TIMESTAMP_HEADER} are required")
        try:
            payload = body.decode("utf-8")  # what SendGrid's helper verifies
        except UnicodeDecodeError:
            raise Unreadable("the body is not UTF-8 (so no JSON SendGrid posts)") from None
        if not self._verified(payload, signature, timestamp):
            raise Unsigned("the signature does not match the body (or another key signed it)")
        fresh(moment(timestamp) if timestamp.isdigit() else None, now)
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise Unreadable("the body is not valid JSON (UTF-8)") from None
        if not isinstance(parsed, list):
            raise Unreadable("the body must be a JSON array of events")
        if len(parsed) > MAX_EVENTS_PER_POST:
            raise TooManyEvents(f"at most {MAX_EVENTS_PER_POST:,} events per request")
        batch = Batch()
        for position, item in enumerate(parsed):
            event = _event(item)
            if isinstance(event, str):
                batch.invalid.append(f"event {position}: {event}")
            else:
                batch.events.append(event)
        return batch

    def _verified(self, payload: str, signature: str, timestamp: str) -> bool:
        try:
            return bool(self._webhook.verify_signature(payload, signature, timestamp, self._key))
        except Exception:  # a signature that is no base64, or no DER
            return False


def _event(item: Any) -> ProviderEvent | str:
    """The event, or why it cannot be read."""
    if not isinstance(item, dict):
        return "not a JSON object"
    event_id = text(item.get("sg_event_id"), MAX_EVENT_ID_CHARS + 1)
    name = text(item.get("event"), 64)
    if event_id is None or len(event_id) > MAX_EVENT_ID_CHARS:
        return f"no sg_event_id (a string of at most {MAX_EVENT_ID_CHARS} characters)"
    if name is None:
        return f"{event_id}: no event name"
    kind, said = _reported(name.lower(), item)
    return ProviderEvent(
        EmailProvider.SENDGRID,
        event_id,
        name,
        kind,
        address(item.get("email")),
        enrollment_ids(text(item.get("smtp-id"))),
        moment(item.get("timestamp")),
        evidence(EmailProvider.SENDGRID, name, *said),
    )


def _reported(name: str, item: dict[str, Any]) -> tuple[DeliveryEventKind | None, list[str | None]]:
    """What the event reports, and the words of it worth keeping."""
    reason, status, response = (
        text(item.get("reason")),
        text(item.get("status")),
        text(item.get("response")),
    )
    if name == "bounce":
        blocked = text(item.get("type")) == "blocked"
        kind = K.FAILED if blocked else K.BOUNCED
        return kind, ["(blocked)" if blocked else None, status, reason]
    if name == "dropped":
        return _DROPPED.get((reason or "").lower(), K.FAILED), [reason]
    if name == "deferred":
        attempt = item.get("attempt")
        attempt = text(str(attempt)) if isinstance(attempt, str | int) else None
        return K.DEFERRED, [response, f"(attempt {attempt})" if attempt else None]
    if name == "delivered":
        return K.DELIVERED, [response]
    if name == "click":
        return K.CLICKED, [text(item.get("url"))]
    return _PLAIN.get(name), [reason]
