"""CPU used by processes and by the whole machine (from /proc), and the wall time of the
SQL statements an engine sends."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from typing import Any, NamedTuple

# The monotonic clock is system-wide on Linux (CLOCK_MONOTONIC), so times taken in
# different processes are comparable.
now = time.monotonic


def _stat_cpu(text_after_name: str) -> float:
    """utime + stime, in seconds, from what follows the ')' of a /proc/PID/stat line."""
    fields = text_after_name.split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) one process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        return _stat_cpu(f.read().rsplit(")", 1)[1])


def rss_kib(pid: int) -> int:
    """A process's resident set now (VmRSS), in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def postgres_cpu() -> dict[int, float]:
    """CPU seconds (user + system) of every PostgreSQL process on this machine, by pid."""
    seen: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                text = f.read()
        except OSError:
            continue
        name, rest = text[text.index("(") + 1 :].rsplit(")", 1)
        if name.startswith("postgres"):
            seen[int(entry)] = _stat_cpu(rest)
    return seen


class MachineCpu(NamedTuple):
    """CPU seconds of the whole machine (all cores) since boot, from /proc/stat."""

    busy: float  # user, nice, system, irq, softirq
    steal: float  # given by the hypervisor to others (a VM's "steal")
    total: float  # busy + steal + idle + iowait


def machine_cpu() -> MachineCpu:
    tick = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat") as f:
        user, nice, system, idle, iowait, irq, softirq, steal = (
            float(v) / tick for v in f.readline().split()[1:9]
        )
    busy = user + nice + system + irq + softirq
    return MachineCpu(busy, steal, busy + steal + idle + iowait)


def cores_busy(before: MachineCpu, after: MachineCpu) -> float:
    """How many cores were busy between two readings (steal time counted as busy)."""
    used = (after.busy + after.steal) - (before.busy + before.steal)
    elapsed = max(after.total - before.total, 1 / os.sysconf("SC_CLK_TCK"))
    return used / elapsed * (os.cpu_count() or 1)


async def machine_busy(seconds: float) -> float:
    """Cores busy over the next few seconds (whatever else runs on the machine)."""
    before = machine_cpu()
    await asyncio.sleep(seconds)
    return cores_busy(before, machine_cpu())


class Usage:
    """CPU used by a server (or several together), its client processes and the whole
    machine over a span."""

    def __init__(self, server_pid: int | list[int], client_pids: list[int]) -> None:
        self.server_pids = server_pid if isinstance(server_pid, list) else [server_pid]
        self.client_pids = client_pids
        self.started = now()
        self.server = sum(process_cpu_seconds(p) for p in self.server_pids)
        self.clients = [process_cpu_seconds(p) for p in client_pids]
        self.machine = machine_cpu()

    def done(self) -> dict[str, Any]:
        seconds = now() - self.started
        return {
            "started": self.started,
            "ended": self.started + seconds,
            "seconds": seconds,
            "server": (sum(process_cpu_seconds(p) for p in self.server_pids) - self.server)
            / seconds,
            "clients": [
                (process_cpu_seconds(p) - c) / seconds
                for p, c in zip(self.client_pids, self.clients, strict=True)
            ],
            "machine": cores_busy(self.machine, machine_cpu()),
            "cores": os.cpu_count() or 1,
        }


class StatementTimer:
    """Wall time of every SQL statement an engine sends between start() and stop(), as
    SQLAlchemy sees it (the round trip, PostgreSQL's work, the driver's encoding and
    decoding; on asyncpg a transaction's BEGIN goes out with its first statement). With
    ``commits``, each COMMIT as well, however many a call makes: from the engine's commit
    event until the connection is back in the pool (``Database.write`` returns it right
    after committing)."""

    def __init__(self, engine: Any, *, commits: bool = False) -> None:
        from sqlalchemy import event

        sync_engine = getattr(engine, "sync_engine", engine)
        self.active = False
        self.records: list[tuple[str, float, int]] = []  # statement, seconds, rowcount
        self._commits: dict[int, float] = {}  # DBAPI connection -> when its COMMIT began
        event.listen(sync_engine, "before_cursor_execute", self._before)
        event.listen(sync_engine, "after_cursor_execute", self._after)
        if commits:
            event.listen(sync_engine, "commit", self._commit)
            event.listen(sync_engine, "checkin", self._checkin)

    def _before(self, conn: Any, *_: Any) -> None:
        conn.info.setdefault("bench.t0", []).append(time.perf_counter())

    def _after(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        started = conn.info["bench.t0"].pop()
        if self.active:
            rowcount = getattr(cursor, "rowcount", -1)
            self.records.append((statement, time.perf_counter() - started, rowcount))

    def _commit(self, conn: Any) -> None:
        self._commits[id(conn.connection.dbapi_connection)] = time.perf_counter()

    def _checkin(self, dbapi_connection: Any, _record: Any) -> None:
        started = self._commits.pop(id(dbapi_connection), None)
        if started is not None and self.active:
            self.records.append(("COMMIT", time.perf_counter() - started, -1))

    def start(self) -> None:
        self.records = []
        self._commits.clear()
        self.active = True

    def stop(self) -> list[tuple[str, float, int]]:
        self.active = False
        return self.records

    def totals(self) -> dict[str, list[float]]:
        """Per statement (white space folded): [seconds, calls]."""
        totals: dict[str, list[float]] = {}
        for statement, seconds, _ in self.records:
            entry = totals.setdefault(" ".join(statement.split()), [0.0, 0])
            entry[0] += seconds
            entry[1] += 1
        return totals


def descendants(pid: int) -> list[int]:
    """The process's children, theirs, and so on (those alive now)."""
    found: list[int] = []
    pending = [pid]
    while pending:
        parent = pending.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children") as f:
                    children = [int(c) for c in f.read().split()]
            except OSError:
                continue
            found.extend(children)
            pending.extend(children)
    return found


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by a process and its live descendants (a server with
    worker processes)."""
    total = 0.0
    for each in [pid, *descendants(pid)]:
        with contextlib.suppress(OSError):  # ended meanwhile
            total += process_cpu_seconds(each)
    return total
