"""Mailgun's webhooks: one event per request, a JSON object ``{"signature": {"timestamp",
"token", "signature"}, "event-data": {…}}``; the signature is the HMAC-SHA256 (hex) of the
timestamp followed by the token, keyed with the webhook signing key of the Mailgun
account (``MAILGUN_WEBHOOK_SIGNING_KEY``). It does not cover the body: a token is taken
once (``services/provider_events.py`` refuses one seen before), and an old timestamp is
refused.

What each event reports:

==============================================  ===========================================
``delivered``                                   DELIVERED (activity)
``opened`` / ``clicked``                        OPENED / CLICKED (activity)
``failed``, reason "suppress-bounce"            BOUNCED (Mailgun did not send: it bounced)
``failed``, reason "suppress-unsubscribe",      OPTED_OUT (Mailgun did not send: the
"suppress-complaint"                            contact unsubscribed or complained)
``failed``, severity "permanent"                BOUNCED
``failed``, severity "temporary"                DEFERRED (activity; Mailgun retries)
``failed`` without a severity, ``rejected``     FAILED
``complained``, ``unsubscribed``                OPTED_OUT
``accepted``, ``stored``, anything else         nothing (kept as IGNORED)
==============================================  ===========================================
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from seqgql.domain.kinds import DeliveryEventKind, EmailProvider
from seqgql.provider_events.events import (
    MAX_EVENT_ID_CHARS,
    Batch,
    ProviderEvent,
    Unreadable,
    Unsigned,
    address,
    enrollment_ids,
    evidence,
    fresh,
    member,
    moment,
    text,
)

K = DeliveryEventKind
_PLAIN: dict[str, DeliveryEventKind] = {
    "delivered": K.DELIVERED,
    "opened": K.OPENED,
    "clicked": K.CLICKED,
    "complained": K.OPTED_OUT,
    "unsubscribed": K.OPTED_OUT,
    "rejected": K.FAILED,
}
_SUPPRESSED: dict[str, DeliveryEventKind] = {
    "suppress-bounce": K.BOUNCED,
    "suppress-unsubscribe": K.OPTED_OUT,
    "suppress-complaint": K.OPTED_OUT,
}
_SEVERITIES: dict[str, DeliveryEventKind] = {"permanent": K.BOUNCED, "temporary": K.DEFERRED}


class MailgunEvents:
    """Reads a signed Mailgun webhook request (see the module)."""

    provider = EmailProvider.MAILGUN

    def __init__(self, signing_key: str) -> None:
        if not signing_key.strip():
            raise ValueError("MAILGUN_WEBHOOK_SIGNING_KEY is empty")
        self._key = signing_key.strip().encode()

    def read(self, headers: Mapping[str, str], body: bytes, now: datetime) -> Batch:
        """The request's event (with its token); raises ``Unreadable`` (a body that is no
        JSON object) or ``Unsigned``."""
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise Unreadable("the body is not valid JSON (UTF-8)") from None
        if not isinstance(parsed, dict):
            raise Unreadable('the body must be a JSON object with "signature" and "event-data"')
        token = self._verified(parsed.get("signature"), now)
        batch = Batch(token=token)
        event = _event(parsed.get("event-data"))
        if isinstance(event, str):
            batch.invalid.append(f"event-data: {event}")
        else:
            batch.events.append(event)
        return batch

    def _verified(self, signed: Any, now: datetime) -> str:
        """The signature's token, once the signature is checked."""
        timestamp = member(signed, "timestamp")
        if isinstance(timestamp, int) and not isinstance(timestamp, bool):
            timestamp = str(timestamp)
        fields = [timestamp, member(signed, "token"), member(signed, "signature")]
        if not all(_ascii(f) for f in fields):
            raise Unsigned('"signature" must hold the strings timestamp, token and signature')
        timestamp, token, signature = (str(f) for f in fields)
        if len(token) > MAX_EVENT_ID_CHARS:
            raise Unsigned("the signature's token is too long")
        expected = hmac.new(self._key, (timestamp + token).encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise Unsigned("the signature does not match (or another key signed it)")
        fresh(moment(timestamp) if timestamp.isdigit() else None, now)
        return token


def _ascii(value: Any) -> bool:
    """A non-empty string of printable ASCII (what Mailgun's signature fields are)."""
    return isinstance(value, str) and bool(value) and value.isascii() and value.isprintable()


def _event(data: Any) -> ProviderEvent | str:
    """The event, or why it cannot be read."""
    if not isinstance(data, dict):
        return "not a JSON object"
    event_id = text(data.get("id"), MAX_EVENT_ID_CHARS + 1)
    name = text(data.get("event"), 64)
    if event_id is None or len(event_id) > MAX_EVENT_ID_CHARS:
        return f"no id (a string of at most {MAX_EVENT_ID_CHARS} characters)"
    if name is None:
        return f"{event_id}: no event name"
    kind, said = _reported(name.lower(), data)
    return ProviderEvent(
        EmailProvider.MAILGUN,
        event_id,
        name,
        kind,
        address(data.get("recipient")),
        enrollment_ids(text(member(data, "message", "headers", "message-id"))),
        moment(data.get("timestamp")),
        evidence(EmailProvider.MAILGUN, name, *said),
    )


def _reported(name: str, data: dict[str, Any]) -> tuple[DeliveryEventKind | None, list[str | None]]:
    """What the event reports, and the words of it worth keeping."""
    status = member(data, "delivery-status")
    code = member(status, "code")
    said = [
        str(code) if isinstance(code, int) and not isinstance(code, bool) else text(code),
        text(member(status, "message")),
        text(member(status, "description")),
    ]
    if name == "failed":
        reason, severity = text(data.get("reason")), text(data.get("severity"))
        kind = _SUPPRESSED.get(reason or "") or _SEVERITIES.get(severity or "", K.FAILED)
        return kind, [
            f"({severity})" if severity else None,
            f"reason {reason}" if reason else None,
            *said,
        ]
    if name == "clicked":
        return K.CLICKED, [text(data.get("url"))]
    if name == "rejected":
        return K.FAILED, [text(member(data, "reject", "reason")), *said]
    return _PLAIN.get(name), said
