"""Signing a message as Standard Webhooks does (its reference library): HMAC-SHA256 of
``{webhook-id}.{webhook-timestamp}.{body}`` with each secret in force, the signatures
space-separated, so a receiver holding either the new or the previous secret of a
rotation verifies it."""

from __future__ import annotations

from datetime import datetime

from standardwebhooks.webhooks import Webhook

USER_AGENT = b"seqgql-webhooks/1"


class Signer:
    """Signs with one or two secrets (the current one, and the previous one during a
    rotation's grace period); the keys are decoded once."""

    def __init__(self, secrets: list[str]) -> None:
        self._keys = [Webhook(secret) for secret in secrets]

    def headers(self, message_id: str, body: bytes, at: datetime) -> list[tuple[bytes, bytes]]:
        """The headers of one attempt made at ``at`` (the wall clock's time: receivers
        refuse a timestamp more than 5 minutes from their own)."""
        text = body.decode()
        signatures = " ".join(key.sign(message_id, at, text) for key in self._keys)
        return [
            (b"webhook-id", message_id.encode()),
            (b"webhook-timestamp", str(int(at.timestamp())).encode()),
            (b"webhook-signature", signatures.encode()),
            (b"content-type", b"application/json"),
            (b"user-agent", USER_AGENT),
        ]
