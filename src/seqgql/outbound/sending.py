"""Handing a batch's messages to the transport, and what came of each.

Each message is sent with ``send_with_retry`` (a transient failure is retried a few times
with backoff; a message the transport accepted is never sent again), several at once up
to ``concurrency``. Once ``stop`` is set no new message is started: the ones in flight
finish, the others are reported as not attempted and stay due.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from seqgql.domain.kinds import ActivityKind, StepChannel
from seqgql.outbound.transport import (
    QUICK_RETRY,
    ConfigurationError,
    OutboundMessage,
    PermanentFailure,
    RetryPolicy,
    TransientFailure,
    Transport,
    send_with_retry,
)

log = logging.getLogger("seqgql.engine")


class Outcome(enum.Enum):
    SENT = "sent"
    REFUSED = "refused"  # a permanent failure: the email bounced, the SMS failed
    RETRY = "retry"  # a transient failure, still after the quick retries
    MISCONFIGURED = "misconfigured"  # our transport settings are wrong; not the contact's fault
    NOT_ATTEMPTED = "not_attempted"  # the worker is stopping


def failure_kind(outcome: Outcome, channel: StepChannel) -> ActivityKind:
    """What a message that did not go through is recorded as: an email refused for good
    bounced; anything else (an SMS refused, tries that never got through, our own
    settings wrong) failed."""
    if outcome is Outcome.REFUSED and channel is StepChannel.EMAIL:
        return ActivityKind.BOUNCED
    return ActivityKind.FAILED


class Stopping(Protocol):
    """Says when no further message should be started (an ``asyncio.Event`` does)."""

    def is_set(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Result:
    outcome: Outcome
    detail: str | None = None


async def deliver(
    transport: Transport,
    messages: Sequence[OutboundMessage],
    *,
    stop: Stopping | None = None,
    concurrency: int = 10,
    retry: RetryPolicy = QUICK_RETRY,
    settle: Callable[[int, Result], Awaitable[None]] | None = None,
) -> list[Result]:
    """Send every message (in parallel up to ``concurrency``); one Result per message.
    ``settle(i, result)``, when given, is awaited for each message before its place is
    given to the next one: at most ``concurrency`` messages are ever between being handed
    to the transport and being settled (the engine records each outcome there)."""
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(i: int, message: OutboundMessage) -> Result:
        async with gate:
            result = await attempt(message)
            if settle is not None:
                await settle(i, result)
            return result

    async def attempt(message: OutboundMessage) -> Result:
        if stop is not None and stop.is_set():
            return Result(Outcome.NOT_ATTEMPTED)
        try:
            await send_with_retry(
                transport, message, attempts=retry.attempts, base_delay=retry.base_delay
            )
        except PermanentFailure as exc:
            return Result(Outcome.REFUSED, str(exc))
        except ConfigurationError as exc:
            log.error("the transport is misconfigured; steps wait: %s", exc)
            return Result(Outcome.MISCONFIGURED, str(exc))
        except TransientFailure as exc:
            return Result(Outcome.RETRY, str(exc))
        except Exception as exc:  # a transport's bug: the step waits, the batch goes on
            log.exception(
                "the transport failed unexpectedly for enrollment %s", message.enrollment_id
            )
            return Result(Outcome.RETRY, f"unexpected error: {exc!r}")
        return Result(Outcome.SENT)

    # a transport that never waits (the recording one) gains nothing from tasks
    if concurrency <= 1 or len(messages) <= 1 or not getattr(transport, "parallel", True):
        return [await one(i, m) for i, m in enumerate(messages)]
    return list(await asyncio.gather(*(one(i, m) for i, m in enumerate(messages))))
