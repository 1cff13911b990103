"""What an email provider's webhook reports, read from its body: one ``ProviderEvent`` per
event, or why it could not be read; and the checks every provider's webhook shares."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from seqgql.domain.kinds import DeliveryEventKind, EmailProvider
from seqgql.outbound.smtp import sent_message_refs

# A signed request older than this is refused (a replay), as one from further ahead.
MAX_SIGNATURE_AGE = timedelta(minutes=10)
MAX_SIGNATURE_AHEAD = timedelta(minutes=5)
# The most events one POST may carry (a SendGrid batch holds far fewer).
MAX_EVENTS_PER_POST = 5_000
MAX_EVENT_ID_CHARS = 200
MAX_DETAIL_CHARS = 1_000
# timestamps outside these years are no provider's (and no datetime's)
_EARLIEST, _LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)


class Unsigned(Exception):
    """The request's signature is missing, wrong, or too old: nothing in it is believed."""


class Unreadable(Exception):
    """The body is not what the provider posts (not JSON, not the documented shape)."""


class TooManyEvents(Unreadable):
    """More events in one request than ``MAX_EVENTS_PER_POST``."""


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    """One event: what it reports (``kind``; None: nothing we act on, e.g. "processed"),
    about which message (our enrollment ids its Message-ID names) and whom."""

    provider: EmailProvider
    event_id: str  # the provider's id for it: a retry carries the same
    name: str  # the provider's name for it, e.g. "bounce"
    kind: DeliveryEventKind | None
    recipient: str | None  # lower-cased
    enrollment_ids: tuple[int, ...]  # named by the Message-ID of ours it is about
    occurred_at: datetime | None
    detail: str  # the evidence, e.g. "sendgrid bounce: 550 5.1.1 user unknown"


@dataclass(slots=True)
class Batch:
    """A request's events, those that could not be read (why, by position), and the
    signature's one-time token where the provider signs with one (Mailgun)."""

    events: list[ProviderEvent] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    token: str | None = None


class EventSource(Protocol):
    """A provider's webhook requests, read."""

    @property
    def provider(self) -> EmailProvider: ...

    def read(self, headers: Mapping[str, str], body: bytes, now: datetime) -> Batch:
        """The request's events; raises ``Unsigned`` or ``Unreadable``."""
        ...


def text(value: Any, limit: int = MAX_DETAIL_CHARS) -> str | None:
    """A string field's value, without NUL characters, stripped and cut to ``limit``;
    None for anything else or nothing."""
    if not isinstance(value, str):
        return None
    cleaned = value.replace("\x00", "").strip()[:limit]
    return cleaned or None


def member(value: Any, *path: str) -> Any:
    """``value[path[0]][path[1]]...``, or None where an object or a member is missing."""
    for name in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(name)
    return value


def moment(value: Any) -> datetime | None:
    """A Unix timestamp (seconds; a number or a string of one) as an aware datetime; None
    for anything else, or one no provider would send."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    if not _EARLIEST.timestamp() <= value < _LATEST.timestamp():
        return None
    return datetime.fromtimestamp(value, tz=UTC)


def fresh(signed_at: datetime | None, now: datetime) -> None:
    """Raises ``Unsigned`` unless the signature's timestamp is recent (a replay of an old
    request is refused)."""
    if signed_at is None:
        raise Unsigned("the signature's timestamp is missing or not a Unix time")
    if signed_at < now - MAX_SIGNATURE_AGE:
        raise Unsigned(f"the signature is older than {MAX_SIGNATURE_AGE.seconds // 60} minutes")
    if signed_at > now + MAX_SIGNATURE_AHEAD:
        raise Unsigned("the signature's timestamp is in the future")


def enrollment_ids(message_id: str | None) -> tuple[int, ...]:
    """The enrollments the Message-ID names, if it is one of ours (``<…>`` or bare)."""
    if not message_id:
        return ()
    bracketed = message_id if message_id.startswith("<") else f"<{message_id}>"
    return tuple(ref.enrollment_id for ref in sent_message_refs(bracketed))


def address(value: Any) -> str | None:
    """A recipient's address, lower-cased, if the value looks like one."""
    found = text(value, 320)
    if found is None or "@" not in found or any(c.isspace() for c in found):
        return None
    return found.lower()


def evidence(provider: EmailProvider, name: str, *parts: str | None) -> str:
    """An activity's detail: "sendgrid bounce: 5.1.1 user unknown"."""
    said = " ".join(dict.fromkeys(p for p in parts if p))
    head = f"{provider.value.lower()} {name}"
    return (f"{head}: {said}" if said else head)[:MAX_DETAIL_CHARS]
