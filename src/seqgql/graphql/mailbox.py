"""What waits to be sent to one subscriber of a shared feed: a bounded queue of encoded
payloads, and why it ended.

On a connection whose frames can be written directly (``compat.ws_transport``), a
subscriber that has nothing queued is written to by the feed itself: ``put`` writes the
message's frame to the connection's transport, and no task of the subscriber's runs (it
has none then). When the transport's buffer is over its high-water mark (a client
reading slowly) the payload is queued instead and the mailbox's ``on_wake`` starts a
sender task (``graphql.ws``), which sends the queue through ASGI (waiting for the buffer
to drain) until it is empty again, then ends; past ``MAX_PENDING`` queued payloads the
subscriber is dropped, as before. The feed's end wakes it the same way."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from seqgql.compat.ws_transport import Frames, text_frame

MAX_PENDING = 1_000


class Closed(Exception):
    """The feed ended: ``kind`` is "complete" or "error" (then ``payload`` holds errors),
    or "behind" when this subscriber was dropped for falling behind."""

    def __init__(self, kind: str, payload: object = None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.payload = payload


class Mailbox:
    """Payloads (encoded JSON) waiting to be sent to one subscriber. ``prefix`` is the
    start of the subscriber's "next" message (its operation id in it): a message is
    ``prefix + payload + b"}"``."""

    __slots__ = (
        "_items", "_waiter", "closed", "direct", "frames", "latest_only", "on_wake", "prefix",
        "sender",
    )  # fmt: skip

    def __init__(
        self, latest_only: bool, prefix: bytes = b"", frames: Frames | None = None
    ) -> None:
        # made when first needed: most subscribers never queue anything (~1 KiB each)
        self._items: deque[bytes] | None = None
        self._waiter: asyncio.Future[None] | None = None  # set while ``get`` waits
        self.closed: Closed | None = None
        self.latest_only = latest_only
        self.prefix = prefix
        self.frames = frames
        self.direct = False  # the feed writes the frames (see ``deliver_directly``)
        # called when there is something to send (or the end to tell) and nobody waits in
        # ``get``: its owner starts a task that does
        self.on_wake: Callable[[Mailbox], None] | None = None
        self.sender: asyncio.Task[None] | None = None  # the owner's task sending it, if any

    def __len__(self) -> int:
        return len(self._items) if self._items is not None else 0

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            if not waiter.done():
                waiter.set_result(None)
        elif self.on_wake is not None:
            self.on_wake(self)

    def put(self, payload: bytes, framed: dict[bytes, bytes] | None = None) -> bool:
        """Write or queue a payload; False when the subscriber is too far behind to keep.
        ``framed``: the frames of this payload built so far, by prefix (subscribers with
        the same operation id share one)."""
        if self.direct:
            assert self.frames is not None
            frame = framed.get(self.prefix) if framed is not None else None
            if frame is None:
                frame = text_frame(self.prefix + payload + b"}")
                if framed is not None:
                    framed[self.prefix] = frame
            if self.frames.write(frame):
                return True
            self.direct = False  # the task sends from now on, waiting as it must
        items = self._items
        if items is None:
            items = self._items = deque()
        if self.latest_only:
            items.clear()
        elif len(items) >= MAX_PENDING:
            return False
        items.append(payload)
        self._wake()
        return True

    def deliver_directly(self) -> None:
        """Let ``put`` write frames itself, when nothing is queued (the subscriber's task
        calls it between sends, so a queued payload always goes first)."""
        if self.frames is not None and not self._items and self.closed is None:
            self.direct = True
            self._items = None  # an empty deque holds ~0.6 KiB: made again when needed

    def close(self, reason: Closed) -> None:
        if self.closed is None:
            self.closed = reason
            self.direct = False
            self._wake()

    async def get(self) -> bytes:
        """The next payload; raises Closed once the queue is empty and the feed has ended
        (at once for a subscriber dropped for falling behind)."""
        while True:
            if self.closed is not None and (self.closed.kind == "behind" or not self._items):
                raise self.closed
            if self._items:
                return self._items.popleft()
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
