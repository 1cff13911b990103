"""The parts of uvicorn's websocket protocol that ``ws_transport.LeanWebSocketProtocol``
replaces by ones allocating nothing while a connection is idle: its receive queue
(``Inbox``), its ``writable`` event (``Flag``) and its keepalive timer (``Pings``, one
schedule per event loop). An ``asyncio.Queue`` holds three deques and an ``Event`` a deque
of its own (~3.8 KiB a connection together), a ``TimerHandle`` with its bound method
~0.6 KiB: 10,000 idle subscribers paid for them for nothing (bench.fanout --heap). Nothing
here reads another library's private parts: ``ws_transport`` plugs them in."""

from __future__ import annotations

import asyncio
import math
import weakref
from collections.abc import Callable
from typing import Any


class Inbox:
    """What the protocol's receive queue is used for (``put_nowait``, ``get``, ``empty``),
    a list and, while ``get`` waits, one future."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items)

    async def get(self) -> Any:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)


class Flag:
    """What the protocol's ``writable`` event is used for; its waiters (``send`` while
    the transport's buffer is full) in a list made when one waits."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = True
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> bool:
        if self._set:
            return True
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)
        return True


class _Due:
    """A connection's next keepalive ping in ``Pings`` (what uvicorn keeps as
    ``ping_timer``: ``cancel`` is all it calls on it)."""

    __slots__ = ("protocol",)

    def __init__(self, protocol: Any) -> None:
        self.protocol: Any = protocol

    def cancel(self) -> None:
        self.protocol = None


class Pings:
    """Every connection's next keepalive ping on one event loop, by the second it is due,
    and one timer a second while any is due: a ``TimerHandle`` per connection (with its
    bound method, ~0.6 KiB) is what 10,000 idle subscribers held for it. ``ping(protocol)``
    sends one (the protocol's own business: ``ws_transport`` says how)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, ping: Callable[[Any], None]) -> None:
        self.loop = loop
        self.ping = ping
        self.due: dict[int, list[_Due]] = {}
        self.ticking = False

    def schedule(self, protocol: Any, delay: float) -> _Due:
        due = _Due(protocol)
        self.due.setdefault(math.ceil(self.loop.time() + delay), []).append(due)
        if not self.ticking:
            self.ticking = True
            self.loop.call_later(1.0, self._tick)
        return due

    def _tick(self) -> None:
        now = self.loop.time()
        for second in sorted(s for s in self.due if s <= now):
            for due in self.due.pop(second):
                protocol, due.protocol = due.protocol, None
                if protocol is not None:
                    try:
                        self.ping(protocol)
                    except Exception as exc:  # as the loop reports a timer's failure
                        self.loop.call_exception_handler(
                            {"message": "a keepalive ping failed", "exception": exc}
                        )
        self.ticking = bool(self.due)
        if self.ticking:
            self.loop.call_later(1.0, self._tick)


_pings: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Pings] = weakref.WeakKeyDictionary()


def pings_of(loop: asyncio.AbstractEventLoop, ping: Callable[[Any], None]) -> Pings:
    """The keepalive schedule of ``loop``'s connections (made with ``ping`` the first
    time)."""
    pings = _pings.get(loop)
    if pings is None:
        pings = _pings[loop] = Pings(loop, ping)
    return pings
