"""In-process wake-ups for subscribers when a sequence's event log grows.

The event log in the database is the truth. A wake-up only says "look again"; a
subscriber that misses one still catches up at its next poll, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable


class EventBus:
    def __init__(self) -> None:
        self._waiters: dict[int, asyncio.Event] = {}
        self._any: asyncio.Event | None = None

    def notify(self, sequence_ids: Iterable[int]) -> None:
        if self._any is not None:
            self._any.set()
            self._any = None
        for sequence_id in sequence_ids:
            event = self._waiters.pop(sequence_id, None)
            if event is not None:
                event.set()

    def notify_all(self) -> None:
        """Wake every waiting subscriber (after a gap in what this process heard)."""
        self.notify(list(self._waiters))

    def waiter(self, sequence_id: int) -> asyncio.Event:
        """What the sequence's next notification sets. Take it *before* reading the log and
        wait on it after: a change committed while the read runs (after its snapshot) then
        still wakes the reader, instead of leaving it until its next poll."""
        event = self._waiters.get(sequence_id)
        if event is None:
            event = self._waiters[sequence_id] = asyncio.Event()
        return event

    def any_waiter(self) -> asyncio.Event:
        """What the next notification of any sequence sets (the webhook worker waits on
        it); take it before reading, as with ``waiter``."""
        if self._any is None:
            self._any = asyncio.Event()
        return self._any

    async def wait(
        self, sequence_id: int, seconds: float, waiter: asyncio.Event | None = None
    ) -> None:
        """Return when the sequence's log may have grown (since ``waiter`` was taken, when
        given), or after ``seconds``."""
        event = waiter if waiter is not None else self.waiter(sequence_id)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)
