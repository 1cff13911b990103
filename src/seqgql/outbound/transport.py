"""How messages leave the system: one small interface, one implementation per channel.

``Transport.send`` either returns (the message was accepted) or raises one of the
failures below, which the engine acts on: ``PermanentFailure`` (the email bounces, the
SMS fails), ``TransientFailure`` (try again later), ``ConfigurationError`` (our own
settings are wrong: nobody's status changes, the step waits). A transport raises only
before the message was accepted, so retrying never sends it twice."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from seqgql.domain.kinds import StepChannel

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    enrollment_id: int
    contact_id: int
    channel: StepChannel
    to: str
    body: str
    subject: str | None = None
    # which logical message this is: "<enrollment>.<step>.<attempt>" for a step, one per
    # sendMessage call; the same for every try of it, and for no other message
    key: str | None = None


class Transport(Protocol):
    """Sends one message. A transport may say ``external = False`` (nothing leaves the
    process) and ``parallel = False`` (sending never waits: no point in doing it in tasks);
    both are true when not said. One that holds a connection has ``aclose()``."""

    async def send(self, message: OutboundMessage) -> None: ...


async def close_transport(transport: Transport) -> None:
    """Let go of what a transport holds (an HTTP session), if it holds anything: it says
    so with an ``aclose`` method."""
    close = getattr(transport, "aclose", None)
    if close is not None:
        await close()


class RecordingTransport:
    """The default: the message is recorded as activity by the caller; nothing is sent.
    Keeps what it was given, which tests and the demo can look at."""

    parallel = False  # sending does not wait on anything: no point in doing it in tasks
    # nothing leaves the process: the engine records its sends in the claiming transaction
    external = False

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []

    async def send(self, message: OutboundMessage) -> None:
        self.sent.append(message)


class DeliveryFailure(Exception):
    """A message was not accepted. ``code`` is the SMTP reply code when there was one."""

    def __init__(self, reason: str, *, code: int | None = None) -> None:
        super().__init__(reason if code is None else f"{code} {reason}")
        self.reason = reason
        self.code = code


class PermanentFailure(DeliveryFailure):
    """The server refused the recipient or the message for good (SMTP 5xx). Do not retry."""


class TransientFailure(DeliveryFailure):
    """The message may go through later (SMTP 4xx, connection refused/lost, timeout)."""


class ConfigurationError(TransientFailure):
    """Our SMTP settings are wrong (authentication refused, TLS unsupported).

    Not a bounce: the recipient is not at fault. ``send_with_retry`` does not retry it."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 3  # quick tries of one message
    base_delay: float = 0.2  # seconds before the second try; doubles after


QUICK_RETRY = RetryPolicy()


async def send_with_retry(
    transport: Transport,
    message: OutboundMessage,
    *,
    attempts: int = QUICK_RETRY.attempts,
    base_delay: float = QUICK_RETRY.base_delay,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> None:
    """Send, retrying ``TransientFailure`` with exponential backoff (base_delay, 2x, 4x...).

    ``PermanentFailure`` and ``ConfigurationError`` are raised at once; after ``attempts``
    transient failures the last one is raised. A send that returned is never repeated, and
    a transport raises only before the message was accepted, so nothing is sent twice."""
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    for attempt in range(attempts):
        try:
            await transport.send(message)
        except ConfigurationError:
            raise
        except TransientFailure as exc:
            if attempt + 1 >= attempts:
                raise
            delay = base_delay * 2**attempt
            log.info(
                "transient failure sending to enrollment %s (attempt %d/%d), retrying in %.2fs: %s",
                message.enrollment_id,
                attempt + 1,
                attempts,
                delay,
                exc,
            )
            await sleep(delay)
        else:
            return
