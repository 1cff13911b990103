"""Settings of a whole process, applied by the commands that own one (`seqgql serve`,
`seqgql worker`), never by the app factory: an app built in a test, or in another
program, leaves its process as it found it."""

from __future__ import annotations

import asyncio
import gc

_tuned = False

# After this many new subscribers and this long without a subscriber coming or going, the
# heap is frozen (``freeze_heap``): they are long-lived objects the collector need not
# walk. During a long burst it is frozen every FREEZE_DURING_BURST new ones too: else each
# full collection while 10,000 connect walks every connection made so far.
FREEZE_AFTER_SUBSCRIBERS = 100
FREEZE_DURING_BURST = 1_000
QUIET_SECONDS = 1.0
# Once RECLAIM_AFTER_LEFT subscribers (or half of those still open, if more) have left,
# and after QUIET_SECONDS without one coming or going, what they left is reclaimed
# (``reclaim_heap``); during a long churn, every RECLAIM_DURING_CHURN too.
RECLAIM_AFTER_LEFT = 1_000
RECLAIM_DURING_CHURN = 10_000


def tune_gc() -> None:
    """Keep the garbage collector's pauses short with a thousand subscribers, once per
    process, after startup: what startup made (modules, the schema, ...) is frozen out of
    its way, and collections run less often (young ones every 10,000 allocations instead
    of 700, full ones checked 50x less often). With the defaults, one full collection over
    ~155k connection objects paused the server 140 ms during a fan-out (bench/fanout.py)."""
    global _tuned
    if not _tuned:
        _tuned = True
        gc.collect()
        gc.freeze()
        gc.set_threshold(10_000, 50, 100)


def freeze_heap() -> None:
    """What is alive now will live long (many subscriptions just opened, hundreds of
    objects each): collect the youngest generation (a few ms), then freeze everything left
    out of the collector's way, so that no later collection walks 10,000 connections
    during a fan-out. Only in a process tune_gc() set up (an app in a test leaves GC
    alone). Cyclic garbage already in the older generations is frozen with it (kept until
    the process ends; collecting them first paused a server with 10,000 new subscribers
    266 ms): the caller freezes after bursts of new subscribers, not often."""
    if _tuned:
        gc.collect(0)
        gc.freeze()


def reclaim_heap() -> None:
    """Collect everything, the frozen heap included, then freeze what is still alive. A
    closed connection is cyclic garbage (its protocol, Strawberry's handler, the
    starlette WebSocket, the tracebacks of its cancelled tasks: ~140 objects, ~5.5 KiB):
    one frozen while it was open is never collected otherwise, and memory would grow by
    that much with every subscriber that ever left. A full collection's pause grows with
    the heap (0.1 to 0.3 s at 10,000 open subscribers): ``HeapKeeper`` reclaims only after
    many have left. Only in a process tune_gc() set up."""
    if _tuned:
        gc.unfreeze()
        gc.collect()
        gc.freeze()


class HeapKeeper:
    """When to freeze the heap and when to reclaim what it froze, from how subscribers come
    (``joined``) and go (``left``): freeze once a burst of newcomers settles (or during a
    long burst), reclaim once many have left (see the constants above)."""

    def __init__(self) -> None:
        self.open = 0  # subscribers now
        self._joined = 0  # subscribers joined since the heap was last frozen
        self._left = 0  # subscribers gone since the heap was last reclaimed
        self._last_change = 0.0
        self._timer: asyncio.TimerHandle | None = None

    def joined(self) -> None:
        self.open += 1
        self._joined += 1
        if self._joined >= FREEZE_DURING_BURST:
            self._joined = 0
            freeze_heap()
        self._changed()

    def left(self) -> None:
        self.open = max(self.open - 1, 0)
        self._left += 1
        if self._left >= RECLAIM_DURING_CHURN:
            self._reclaim()
        self._changed()

    def _changed(self) -> None:
        loop = asyncio.get_running_loop()
        self._last_change = loop.time()
        due = self._reclaim_due() or self._joined >= FREEZE_AFTER_SUBSCRIBERS
        if self._timer is None and due:
            self._timer = loop.call_later(QUIET_SECONDS, self._settled)

    def _settled(self) -> None:
        loop = asyncio.get_running_loop()
        quiet = loop.time() - self._last_change
        if quiet < QUIET_SECONDS:  # still coming or going: later
            self._timer = loop.call_later(QUIET_SECONDS - quiet, self._settled)
            return
        self._timer = None
        if self._reclaim_due():
            self._reclaim()
        elif self._joined >= FREEZE_AFTER_SUBSCRIBERS:
            self._joined = 0
            freeze_heap()

    def _reclaim_due(self) -> bool:
        return self._left >= max(RECLAIM_AFTER_LEFT, self.open // 2)

    def _reclaim(self) -> None:
        self._left = self._joined = 0
        reclaim_heap()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
