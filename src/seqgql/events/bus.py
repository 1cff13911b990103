"""In-process wake-ups for subscribers when a sequence's event log grows.

The event log in the database is the truth. A wake-up only says "look again"; a
subscriber that misses one still catches up at its next poll, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Iterable


class EventBus:
    def __init__(self) -> None:
        self._waiters: dict[int, asyncio.Event] = {}
        # waiters of several sequences at once (``waiter_of_any``), held weakly: one
        # dropped by its subscriber goes, though the sequences it named never notified
        self._shared: dict[int, weakref.WeakSet[asyncio.Event]] = {}
        self._any: asyncio.Event | None = None

    def notify(self, sequence_ids: Iterable[int]) -> None:
        if self._any is not None:
            self._any.set()
            self._any = None
        for sequence_id in sequence_ids:
            event = self._waiters.pop(sequence_id, None)
            if event is not None:
                event.set()
            for shared in self._shared.pop(sequence_id, ()):
                shared.set()

    def notify_all(self) -> None:
        """Wake every waiting subscriber (after a gap in what this process heard)."""
        self.notify({*self._waiters, *self._shared})

    def waiter(self, sequence_id: int) -> asyncio.Event:
        """What the sequence's next notification sets. Take it *before* reading the log and
        wait on it after: a change committed while the read runs (after its snapshot) then
        still wakes the reader, instead of leaving it until its next poll."""
        event = self._waiters.get(sequence_id)
        if event is None:
            event = self._waiters[sequence_id] = asyncio.Event()
        return event

    def waiter_of_any(self, sequence_ids: Iterable[int]) -> asyncio.Event:
        """What the next notification of any of these sequences sets (a subscriber that
        follows several); take it before reading, as with ``waiter``."""
        ids = set(sequence_ids)
        if len(ids) == 1:
            return self.waiter(ids.pop())
        event = asyncio.Event()
        for sequence_id in ids:
            self._shared.setdefault(sequence_id, weakref.WeakSet()).add(event)
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
