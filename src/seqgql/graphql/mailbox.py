"""What waits to be sent to one subscriber of a shared feed: a bounded queue of encoded
payloads, and why it ended."""

from __future__ import annotations

import asyncio
from collections import deque

MAX_PENDING = 1_000


class Closed(Exception):
    """The feed ended: ``kind`` is "complete" or "error" (then ``payload`` holds errors),
    or "behind" when this subscriber was dropped for falling behind."""

    def __init__(self, kind: str, payload: object = None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.payload = payload


class Mailbox:
    """Payloads (encoded JSON) waiting to be sent to one subscriber."""

    __slots__ = ("_items", "_ready", "closed", "latest_only")

    def __init__(self, latest_only: bool) -> None:
        self._items: deque[str] = deque()
        self._ready = asyncio.Event()
        self.closed: Closed | None = None
        self.latest_only = latest_only

    def __len__(self) -> int:
        return len(self._items)

    def put(self, payload: str) -> bool:
        """Queue a payload; False when the subscriber is too far behind to keep."""
        if self.latest_only:
            self._items.clear()
        elif len(self._items) >= MAX_PENDING:
            return False
        self._items.append(payload)
        self._ready.set()
        return True

    def close(self, reason: Closed) -> None:
        if self.closed is None:
            self.closed = reason
            self._ready.set()

    async def get(self) -> str:
        """The next payload; raises Closed once the queue is empty and the feed has ended
        (at once for a subscriber dropped for falling behind)."""
        while True:
            if self.closed is not None and (self.closed.kind == "behind" or not self._items):
                raise self.closed
            if self._items:
                return self._items.popleft()
            self._ready.clear()
            await self._ready.wait()
