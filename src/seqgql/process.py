"""Settings of a whole process, applied by the commands that own one (`seqgql serve`,
`seqgql worker`), never by the app factory: an app built in a test, or in another
program, leaves its process as it found it."""

from __future__ import annotations

import gc

_tuned = False


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
