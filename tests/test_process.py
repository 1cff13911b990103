"""Process-wide settings belong to the commands that own a process; bounded caches."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
from pathlib import Path

import pytest

from seqgql import process
from seqgql.app import create_app
from seqgql.caching import LRU
from seqgql.settings import Settings


async def test_the_app_leaves_the_process_garbage_collector_alone(tmp_path: Path) -> None:
    before = (gc.get_threshold(), gc.get_freeze_count())
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'gc.db'}", run_engine=False))
    async with app.router.lifespan_context(app):  # startup and shutdown
        assert (gc.get_threshold(), gc.get_freeze_count()) == before
    assert (gc.get_threshold(), gc.get_freeze_count()) == before


def test_serve_and_worker_tune_the_garbage_collector_once() -> None:
    code = (
        "import gc; from seqgql.process import tune_gc; tune_gc(); frozen = gc.get_freeze_count();"
        "tune_gc(); print(gc.get_threshold(), frozen > 0, gc.get_freeze_count() == frozen)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "(10000, 50, 100) True True"


def test_the_heap_is_frozen_after_a_burst_of_subscribers_only_in_a_tuned_process() -> None:
    """What a burst of subscribers made is moved out of the collector's way, once they
    stop coming; a process that did not call tune_gc() (an app in a test) is left alone."""
    code = (
        "import asyncio, gc, sys\n"
        "from seqgql import process\n"
        "process.QUIET_SECONDS = 0.05\n"
        "if sys.argv[1] == 'tuned': process.tune_gc()\n"
        "async def main():\n"
        "    heap = process.HeapKeeper()\n"
        "    frozen = gc.get_freeze_count()\n"
        "    kept = [[object() for _ in range(50)] for _ in range(200)]\n"
        "    for n in range(process.FREEZE_AFTER_SUBSCRIBERS):\n"
        "        heap.joined()\n"
        "    await asyncio.sleep(0.6)\n"
        "    print(gc.get_freeze_count() - frozen >= len(kept))\n"
        "    heap.close()\n"
        "asyncio.run(main())\n"
    )
    for mode, frozen in (("tuned", "True"), ("untouched", "False")):
        run = [sys.executable, "-c", code, mode]
        out = subprocess.run(run, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == frozen, (mode, out.stderr)


def test_what_subscribers_frozen_while_open_leave_behind_is_reclaimed_once_many_left() -> None:
    """A closed connection is cyclic garbage; one frozen while open would never be
    collected (the memory of every subscriber that ever left, kept). Once enough have
    left and none come or go for a moment, a tuned process collects the frozen heap too,
    and freezes what is still alive; not before, and an untuned one is left alone."""
    code = (
        "import asyncio, gc, sys, weakref\n"
        "from seqgql import process\n"
        "process.QUIET_SECONDS, process.RECLAIM_AFTER_LEFT = 0.05, 20\n"
        "if sys.argv[1] == 'tuned': process.tune_gc()\n"
        "class Connection:  # what a subscriber's connection is: a cycle\n"
        "    def __init__(self): self.me = self\n"
        "async def main():\n"
        "    heap = process.HeapKeeper()\n"
        "    connections = [Connection() for _ in range(process.FREEZE_AFTER_SUBSCRIBERS)]\n"
        "    for _ in connections: heap.joined()\n"
        "    alive = [weakref.ref(c) for c in connections]\n"
        "    await asyncio.sleep(0.6)  # settled: frozen (in a tuned process)\n"
        "    del connections  # cyclic garbage now, frozen with the rest\n"
        "    for _ in range(10): heap.left()\n"
        "    await asyncio.sleep(0.6)\n"
        "    gc.collect()\n"
        "    kept_after_ten = sum(r() is not None for r in alive)\n"
        "    for _ in range(90): heap.left()\n"
        "    await asyncio.sleep(0.6)\n"
        "    print(kept_after_ten, sum(r() is not None for r in alive), heap.open)\n"
        "    heap.close()\n"
        "asyncio.run(main())\n"
    )
    kept = {}
    for mode in ("tuned", "untouched"):
        run = [sys.executable, "-c", code, mode]
        out = subprocess.run(run, capture_output=True, text=True, check=True)
        kept[mode] = out.stdout.split()
    # tuned: frozen, so not collected after 10 left (below the threshold), then reclaimed
    assert kept["tuned"] == ["100", "0", "0"], kept
    # untouched (a test's app): never frozen, the collector frees them as usual
    assert kept["untouched"] == ["0", "0", "0"], kept


def test_an_lru_keeps_the_most_recently_used() -> None:
    cache: LRU[str, int] = LRU(maxsize=2)
    made: list[str] = []

    def make(key: str) -> int:
        made.append(key)
        return len(made)

    assert cache.get_or_make("a", lambda: make("a")) == 1
    assert cache.get_or_make("b", lambda: make("b")) == 2
    assert cache.get_or_make("a", lambda: make("a")) == 1  # kept, now the most recent
    assert cache.get_or_make("c", lambda: make("c")) == 3  # "b" goes
    assert len(cache) == 2
    assert cache.get_or_make("a", lambda: make("a")) == 1
    assert cache.get_or_make("b", lambda: make("b")) == 4  # made again
    assert made == ["a", "b", "c", "b"]
    with pytest.raises(ValueError, match="at least 1"):
        LRU(0)


async def test_a_reclaim_waits_for_half_of_those_open_to_leave_or_for_a_long_churn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Many open: a reclaim (a full collection, its pause growing with the heap) waits
    until half of them have left; during a churn that never settles, it comes every
    RECLAIM_DURING_CHURN departures, at once."""
    reclaims: list[int] = []
    monkeypatch.setattr(process, "reclaim_heap", lambda: reclaims.append(1))
    monkeypatch.setattr(process, "freeze_heap", lambda: None)
    monkeypatch.setattr(process, "QUIET_SECONDS", 0.02)
    monkeypatch.setattr(process, "RECLAIM_AFTER_LEFT", 10)
    heap = process.HeapKeeper()
    for _ in range(100):
        heap.joined()
    for _ in range(30):  # 30 of 100 left: past RECLAIM_AFTER_LEFT, not half of the 70 open
        heap.left()
    await asyncio.sleep(0.2)
    assert reclaims == []
    for _ in range(10):  # 40 left, 60 open: 40 >= 30
        heap.left()
    await asyncio.sleep(0.2)
    assert reclaims == [1]
    monkeypatch.setattr(process, "RECLAIM_DURING_CHURN", 5)
    for _ in range(10):
        heap.left()
    assert reclaims == [1, 1, 1]  # every 5 departures, not waiting for a quiet moment
    heap.close()
