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

    def notify(self, sequence_ids: Iterable[int]) -> None:
        for sequence_id in sequence_ids:
            event = self._waiters.pop(sequence_id, None)
            if event is not None:
                event.set()

    def notify_all(self) -> None:
        """Wake every waiting subscriber (after a gap in what this process heard)."""
        self.notify(list(self._waiters))

    async def wait(self, sequence_id: int, seconds: float) -> None:
        """Return when the sequence's log may have grown, or after ``seconds``."""
        event = self._waiters.get(sequence_id)
        if event is None:
            event = self._waiters[sequence_id] = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)
