"""How messages leave the system: one small interface, one implementation per channel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from seqgql.domain.kinds import StepChannel


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    enrollment_id: int
    contact_id: int
    channel: StepChannel
    to: str
    body: str
    subject: str | None = None


class Transport(Protocol):
    async def send(self, message: OutboundMessage) -> None: ...


class RecordingTransport:
    """The default: the message is recorded as activity by the caller; nothing is sent.
    Keeps what it was given, which tests and the demo can look at."""

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []

    async def send(self, message: OutboundMessage) -> None:
        self.sent.append(message)
