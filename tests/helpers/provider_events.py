"""Email provider events in tests: keys of the test's own, requests signed as SendGrid and
Mailgun sign them, the events they post, and what was kept of them afterwards."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import orjson
import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from seqgql.persistence.database import Database
from seqgql.persistence.tables import activities, events, provider_events
from tests.helpers.workspace import Workspace

SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"


@dataclass(frozen=True)
class SendGridKey:
    """A P-256 key pair, as SendGrid's Signed Event Webhook has one: the public half in
    the form its Mail Settings page shows (base64 of the DER SubjectPublicKeyInfo)."""

    private: ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls) -> SendGridKey:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @property
    def public(self) -> str:
        der = self.private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def sign(self, timestamp: str, body: bytes) -> str:
        """The signature header's value: ECDSA (SHA-256) over the timestamp and the body."""
        signed = self.private.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return base64.b64encode(signed).decode()


def our_message_id(enrollment_id: int, step: int = 1) -> str:
    """The Message-ID seqgql gives a step's email (outbound/smtp.py's form)."""
    return f"<seqgql.{enrollment_id}.{step}.0@outreach.example.com>"


def sendgrid_event(
    name: str, email: str, enrollment_id: int | None, at: datetime, **fields: Any
) -> dict[str, Any]:
    """One event as SendGrid's Event Webhook posts it (its id new each time)."""
    event: dict[str, Any] = {
        "email": email,
        "timestamp": int(at.timestamp()),
        "event": name,
        "sg_event_id": base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="),
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
    }
    if enrollment_id is not None:
        event["smtp-id"] = our_message_id(enrollment_id)
    event.update(fields)
    return event


async def post_sendgrid(
    http: httpx.AsyncClient, workspace: Workspace, key: SendGridKey, body: bytes | list[Any],
    at: datetime, *, basic: bool = True, signature: str | None = None,
    timestamp: str | None = None, headers: dict[str, str] | None = None,
) -> httpx.Response:  # fmt: skip
    """POST ``body`` (events, or raw bytes) to /hooks/sendgrid, signed with ``key`` at
    ``at`` (``signature``/``timestamp``: sent instead of the true ones), with the
    workspace's token as the webhook URL's credentials (or as Bearer)."""
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    stamp = str(int(at.timestamp()))
    sent = {
        "content-type": "application/json",
        "authorization": credentials(workspace.token, basic=basic),
        SIGNATURE: signature if signature is not None else key.sign(stamp, raw),
        TIMESTAMP: timestamp if timestamp is not None else stamp,
        **(headers or {}),
    }
    return await http.post("/hooks/sendgrid", content=raw, headers=sent)


def credentials(token: str, *, basic: bool = True) -> str:
    if basic:  # what https://events:<token>@host/... sends
        return "Basic " + base64.b64encode(f"events:{token}".encode()).decode()
    return f"Bearer {token}"


def mailgun_signature(key: str, at: datetime, token: str | None = None) -> dict[str, str]:
    """A signature block as Mailgun signs it: HMAC-SHA256 of timestamp + token."""
    timestamp = str(int(at.timestamp()))
    token = token or secrets.token_hex(25)
    digest = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp, "token": token, "signature": digest}


def mailgun_event(
    name: str, email: str, enrollment_id: int | None, at: datetime, **fields: Any
) -> dict[str, Any]:
    """``event-data`` as Mailgun posts it (its Message-ID without angle brackets)."""
    data: dict[str, Any] = {
        "id": uuid.uuid4().hex[:22],
        "timestamp": at.timestamp(),
        "event": name,
        "recipient": email,
        "message": {"headers": {}},
    }
    if enrollment_id is not None:
        data["message"]["headers"]["message-id"] = our_message_id(enrollment_id).strip("<>")
    data.update(fields)
    return data


async def post_mailgun(
    http: httpx.AsyncClient, workspace: Workspace, body: bytes | dict[str, Any],
) -> httpx.Response:  # fmt: skip
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    headers = {"content-type": "application/json", "authorization": credentials(workspace.token)}
    return await http.post("/hooks/mailgun", content=raw, headers=headers)


async def kept_events(db: Database, workspace: Workspace) -> list[tuple[str, str, str]]:
    """The provider events kept for the workspace: (provider, event, decision), in order."""
    p = provider_events.c
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(p.provider, p.event, p.decision)
            .where(p.workspace_id == workspace.actor.workspace_id)
            .order_by(p.id)
        )
        return [(str(r.provider), r.event, str(r.decision)) for r in rows]


async def activity_log(db: Database, enrollment_id: int) -> list[str]:
    """The enrollment's activities as its sequence's log has them, in order."""
    v = events.c
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(v.activity)
            .where(v.enrollment_id == enrollment_id, v.activity.is_not(None))
            .order_by(v.number)
        )
        return [str(r.activity) for r in rows]


async def activity_count(db: Database, workspace: Workspace) -> int:
    async with db.read() as conn:
        count = await conn.execute(
            sa.select(sa.func.count())
            .select_from(activities)
            .where(activities.c.workspace_id == workspace.actor.workspace_id)
        )
        return int(count.scalar_one())
