"""Where a server's memory goes: tracemalloc in the server process, a snapshot written
on SIGUSR1, and the difference between two snapshots grouped by source line.

The server calls ``trace_on_signal(directory)`` at startup (tracemalloc slows it down:
only for a run that asks, ``bench.fanout --heap DIR``); the coordinator calls
``HeapSnapshots.take()`` before and after what it measures and ``summarize``."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import tracemalloc
from pathlib import Path


def trace_on_signal(directory: Path) -> None:
    """In the server: trace allocations (3 frames); SIGUSR1 writes a snapshot to
    ``directory/heap-<n>.snap``."""
    directory.mkdir(parents=True, exist_ok=True)
    tracemalloc.start(3)
    counter = itertools.count(1)

    def dump(signum: int, frame: object) -> None:
        path = directory / f"heap-{next(counter)}.snap"
        tracemalloc.take_snapshot().dump(str(path) + ".tmp")
        os.replace(str(path) + ".tmp", path)

    signal.signal(signal.SIGUSR1, dump)


class HeapSnapshots:
    """The coordinator's side: ask the server for snapshots, in order."""

    def __init__(self, directory: Path, pid: int) -> None:
        self.directory, self.pid = directory, pid
        self.taken = 0
        for old in directory.glob("heap-*.snap"):  # an earlier run's
            old.unlink()

    async def take(self) -> Path:
        self.taken += 1
        path = self.directory / f"heap-{self.taken}.snap"
        os.kill(self.pid, signal.SIGUSR1)
        for _ in range(600):
            if path.exists():
                return path
            await asyncio.sleep(0.1)
        raise RuntimeError("the server wrote no heap snapshot")


def summarize(before: Path, after: Path, subscribers: int, top: int = 30) -> None:
    """Print the allocations made between the snapshots and still alive, per subscriber,
    by file and line (the allocating line, the innermost frame), and by file."""
    old = tracemalloc.Snapshot.load(str(before))
    new = tracemalloc.Snapshot.load(str(after))
    skip = [tracemalloc.Filter(False, tracemalloc.__file__)]
    new, old = new.filter_traces(skip), old.filter_traces(skip)
    total = sum(s.size_diff for s in new.compare_to(old, "filename"))
    per = subscribers or 1
    print(f"    traced memory kept after opening: {total / 1024:,.0f} KiB, "
          f"{total / per / 1024:.2f} KiB per subscriber")  # fmt: skip
    print("    by file (bytes per subscriber, blocks per subscriber):")
    for stat in new.compare_to(old, "filename")[:12]:
        where = shorten(stat.traceback[0].filename)
        print(f"      {stat.size_diff / per:8.0f} B {stat.count_diff / per:6.1f}  {where}")
    print("    by line:")
    for stat in new.compare_to(old, "lineno")[:top]:
        frame = stat.traceback[0]
        print(f"      {stat.size_diff / per:8.0f} B {stat.count_diff / per:6.1f}  "
              f"{shorten(frame.filename)}:{frame.lineno}")  # fmt: skip


def shorten(path: str) -> str:
    for marker in ("site-packages/", "/src/", "/lib/python3.11/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path
