"""`seqgql serve --workers N`: N real processes sharing one port, each with its own app
(pool, broadcast listener), that hear each other through the broker: a subscriber on one
process receives the change a mutation made through the other. Refused, with exit status
2 and a message saying why, with a memory:// broadcast (the processes could not hear
each other), on SQLite (the one-process embedded mode) and with --demo. A process killed
is replaced while the other answers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from seqgql.clock import FrozenClock
from seqgql.persistence.database import Database
from tests.helpers.bulk import ids_of
from tests.helpers.factories import gid, gids, make_enrolled
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.processes import (
    PrivateRedis,
    free_port,
    seqgql,
    seqgql_env,
    stop_process,
    wait_for_port,
)
from tests.helpers.subscriptions import CHANGES, ack, connect, next_data, subscribe
from tests.helpers.workspace import Workspace

PID = re.compile(r'seqgql_process_info\{pid="(\d+)"\} 1\.0')
SUBSCRIBERS = re.compile(r"^seqgql_subscribers (\S+)$", re.MULTILINE)


def refused(tmp_path: Path, *args: str, **settings: str) -> tuple[int, str]:
    process = seqgql(
        "serve", "--port", str(free_port()), *args, env=seqgql_env(**settings),
        stderr=subprocess.PIPE, cwd=tmp_path,
    )  # fmt: skip
    try:
        _, stderr = process.communicate(timeout=60)
    finally:
        stop_process(process)
    return process.returncode, stderr.decode()


def test_a_memory_broadcast_is_refused(tmp_path: Path) -> None:
    status, stderr = refused(
        tmp_path, "--workers", "2", DATABASE_URL="postgresql://postgres@127.0.0.1:5432/x",
        BROADCAST_URL="memory://",
    )  # fmt: skip
    assert status == 2, stderr
    assert "--workers 2 needs BROADCAST_URL=redis://… or postgres://…" in stderr
    assert "memory://" in stderr


def test_sqlite_and_the_demo_are_refused(tmp_path: Path) -> None:
    sqlite = f"sqlite:///{tmp_path / 'one.db'}"
    status, stderr = refused(
        tmp_path, "--workers", "3", DATABASE_URL=sqlite, BROADCAST_URL="redis://127.0.0.1:1/0"
    )
    assert status == 2, stderr
    assert "--workers 3 needs PostgreSQL" in stderr
    status, stderr = refused(
        tmp_path, "--workers", "2", "--demo", DATABASE_URL="postgresql://postgres@127.0.0.1/x",
        BROADCAST_URL="redis://127.0.0.1:1/0",
    )  # fmt: skip
    assert status == 2, stderr
    assert "--demo runs one process" in stderr
    status, stderr = refused(tmp_path, "--workers", "0")
    assert status == 2
    assert "'0' is not a number of processes" in stderr
    assert not (tmp_path / "one.db").exists()  # refused before anything was opened


@pytest.fixture
def two_workers(database_url: str, redis_server: PrivateRedis) -> Iterator[tuple[int, int]]:
    """`seqgql serve --workers 2` on the test's database, broadcasting through a private
    Redis (polling every 60 s: within the test only the broker wakes a subscriber);
    yields the port and the PID of the supervising process."""
    port = free_port()
    env = seqgql_env(
        DATABASE_URL=database_url, BROADCAST_URL=redis_server.url, AUTO_MIGRATE="false",
        RUN_ENGINE="false", LOG_LEVEL="warning", SUBSCRIPTION_POLL_SECONDS="60",
    )  # fmt: skip
    process = seqgql("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2",
                     env=env)  # fmt: skip
    try:
        wait_for_port(port, 90, process)
        yield port, process.pid
    finally:
        stop_process(process)


async def worker_of(http: httpx.AsyncClient) -> tuple[int, float]:
    """The PID of the process at the other end of this (kept-alive) connection, and the
    subscriptions it holds (from its /metrics)."""
    text = (await http.get("/metrics")).text
    pid, subscribers = PID.search(text), SUBSCRIBERS.search(text)
    assert pid is not None and subscribers is not None, text[:500]
    return int(pid[1]), float(subscribers[1])


async def workers_seen(base: str, tries: int = 60) -> dict[int, float]:
    """Each process's subscriptions, by PID, from /metrics over fresh connections (the
    kernel hands each connection to one of the processes) until both answered."""
    seen: dict[int, float] = {}
    for _ in range(tries):
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            pid, subscribers = await worker_of(http)
            seen[pid] = subscribers
        if len(seen) == 2:
            break
    return seen


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(c) for c in (task / "children").read_text().split())
    return found


@pytest.mark.postgres_only
async def test_two_processes_answer_and_hear_each_other(
    two_workers: tuple[int, int], db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    port, supervisor = two_workers
    base = f"http://127.0.0.1:{port}"
    seq, ids = await make_enrolled(db, clock, workspace.actor, 3)
    async with contextlib.AsyncExitStack() as stack:
        # subscribers until each process holds at least one (connections are spread by
        # the kernel: almost always within a few)
        sockets = []
        seen: dict[int, float] = {}
        for n in range(20):
            ws = await stack.enter_async_context(connect(f"{base}/graphql", workspace.token))
            await ack(ws)
            await subscribe(ws, f"s{n}", CHANGES, {"seq": gid("Sequence", seq)})
            sockets.append(ws)
            await asyncio.sleep(0.2)  # subscribed
            seen = await workers_seen(base)
            if len(seen) == 2 and min(seen.values()) >= 1:
                break
        assert len(seen) == 2, seen  # two processes answered
        assert set(seen) <= children(supervisor), (seen, children(supervisor))
        assert min(seen.values()) >= 1, seen  # each holds subscribers
        assert sum(seen.values()) == len(sockets)
        # the mutation through one process (this connection's): the subscribers of the
        # other one hear it through Redis, those of this one directly
        async with httpx.AsyncClient(
            base_url=base, timeout=10, limits=httpx.Limits(max_connections=1)
        ) as http:
            writer, _ = await worker_of(http)
            assert writer in seen
            paused = await mutate(
                GraphQLClient(http, workspace.token), "pauseEnrollments",
                {"selection": ids_of(ids)},
            )  # fmt: skip
            assert (await worker_of(http))[0] == writer  # the same connection, process
        assert paused["changedCount"] == 3, paused
        for ws in sockets:
            changes = [(await next_data(ws))["enrollmentStatusChanged"] for _ in range(3)]
            assert sorted(c["enrollment"]["id"] for c in changes) == sorted(gids("Enrollment", ids))
            assert {c["toStatus"] for c in changes} == {"PAUSED"}


@pytest.mark.postgres_only
async def test_a_killed_process_is_replaced_and_requests_go_on(
    two_workers: tuple[int, int], workspace: Workspace
) -> None:
    """kill -9 one of the two: every request meanwhile is answered (by the other), and the
    supervisor starts a new process, so two answer again."""
    port, supervisor = two_workers
    base = f"http://127.0.0.1:{port}"
    first = await workers_seen(base)
    assert len(first) == 2, first
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    answered = 0
    for _ in range(40):
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            viewer = await GraphQLClient(http, workspace.token).execute("{ viewer { id } }")
            assert viewer["viewer"]["id"]
            answered += 1
            pid, _ = await worker_of(http)
            assert pid != victim
        await asyncio.sleep(0.05)
    assert answered == 40
    for _ in range(100):  # the replacement starts (an app's startup: a few seconds)
        seen = await workers_seen(base, tries=20)
        if len(seen) == 2:
            break
        await asyncio.sleep(0.5)
    assert len(seen) == 2 and victim not in seen, seen
    assert set(seen) <= children(supervisor)
