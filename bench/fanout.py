"""Fan-out benchmark: many websocket subscribers on one API process watching one sequence.

A fresh PostgreSQL database (created, migrated, dropped at the end) gets one sequence of
ACTIVE enrollments: 100,000 for the bulk change, 100 for the single ones, 5 for warm-ups.
The API runs under uvicorn in its own process on 127.0.0.1 (memory:// broadcast, no
engine). The subscribers are raw graphql-transport-ws connections (websockets' sans-I/O
protocol on plain asyncio transports, so that the client spends as little CPU per message
as possible), spread over --clients processes. This process sends the mutations over
HTTP and coordinates.

  phase 1  N subscribers on enrollmentStatusChanged(sequenceId) (the same document and
           variables for all: the dashboard case); after a warm-up change that everyone
           receives, 100 single changes (pauseEnrollments of one enrollment by id), one at
           a time: the next one 50 ms after every subscriber had the previous one.
           Latency = receipt time - the moment the mutation's HTTP response arrived (the
           commit happened before the response; receipts before it count as 0 ms).
  floor    first, the same N subscribers on the reference server (bench/harness/floor.py:
           plain asyncio, one pre-built frame written to each connection) and the same
           number of changes, measured the same way: the report puts the app's phase 1
           figures next to it, as multiples (--no-floor skips it).
  phase 2  N new subscribers on sequenceStatusCounts(sequenceId); one pauseEnrollments of
           the sequence's 100,000 ACTIVE enrollments (by filter); the messages each
           subscriber got and the time until every one of them holds the exact final
           counts (checked against SQL).

Goals: phase 1 p99 under 100 ms with 1,000 subscribers; phase 2 final counts everywhere
within 1 s of the bulk commit.

Every wait has a time limit (--timeout, --open-timeout) and the report says what was
missing; a subscription the server ends is reported and no longer waited for; what the
server logged is summarized. CPU is reported for the server, the clients and the whole
machine. --profile DIR records the server with py-spy during the measured parts.

Run:  .venv/bin/python -m bench.fanout [--subscribers 1000] [--changes 100] [--bulk 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.fanout_floor import floor_phase
from bench.fanout_goals import report_goals
from bench.fanout_report import Change, Phase, Results, report
from bench.harness.client_processes import Clients
from bench.harness.global_id import to_global_id
from bench.harness.heap import HeapSnapshots, trace_on_signal
from bench.harness.measure import Usage, machine_busy, now, process_cpu_seconds, rss_kib
from bench.harness.profiler import Profiler
from bench.harness.report import log, source_version
from bench.harness.scratch import (
    SequenceSpec,
    argument_parser,
    create_tenant,
    generate,
    scratch_database,
)
from bench.harness.servers import (
    make_app,
    raise_file_limit,
    serve,
    start_server,
    stop_process,
    watch_gc,
)

# Enrollments kept aside for warm-up changes (phase 1 repeats the warm-up while some
# subscriber has not received one, i.e. its subscription was not live yet).
MAX_WARMUPS = 5

CHANGES_DOC = """subscription Changes($seq: ID!) {
  enrollmentStatusChanged(sequenceId: $seq) {
    cursor fromStatus toStatus reason occurredAt number
    enrollment { id status }
  }
}"""
COUNTS_DOC = """subscription Counts($seq: ID!) {
  sequenceStatusCounts(sequenceId: $seq) { total counts { status count } }
}"""
# The client processes' kinds of subscription: document, root field.
SUBSCRIPTIONS = {
    "changes": (CHANGES_DOC, "enrollmentStatusChanged"),
    "counts": (COUNTS_DOC, "sequenceStatusCounts"),
}
PAUSE_DOC = """mutation Pause($input: PauseEnrollmentsInput!) {
  pauseEnrollments(input: $input) {
    changedCount skipped { reason count } userErrors { field code message }
  }
}"""


def serve_app(url: str, broadcast_url: str, heap: Path | None = None) -> None:
    """The server process (``--serve``): the app with that broadcast and no engine;
    its long GC pauses on stderr; prints where seqgql was imported from. With ``heap``,
    allocations traced, a snapshot written there on SIGUSR1 (``harness.heap``)."""
    raise_file_limit()
    if heap is not None:
        trace_on_signal(heap)
    watch_gc()
    app = make_app(url, broadcast_url=broadcast_url, run_engine=False)
    serve(app, note=str(Path(sys.modules["seqgql"].__file__ or "?").parent), like_serve=True)


# =========================================================================== the phases


class Api:
    def __init__(self, port: int, token: str) -> None:
        self.http = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=httpx.Timeout(600)
        )
        self.headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}

    async def pause(self, selection: dict[str, Any]) -> tuple[float, float, int]:
        """(request sent, response received, changedCount)."""
        body = json.dumps({"query": PAUSE_DOC, "variables": {"input": {"selection": selection}}})
        t0 = now()
        response = await self.http.post("/graphql", content=body, headers=self.headers)
        t1 = now()
        answer = response.json() if response.status_code == 200 else None
        if not answer or answer.get("errors") or answer["data"]["pauseEnrollments"]["userErrors"]:
            raise RuntimeError(f"pauseEnrollments failed {response.status_code}: {response.text}")
        return t0, t1, answer["data"]["pauseEnrollments"]["changedCount"]

    async def pause_ids(self, ids: list[int]) -> tuple[float, float, int]:
        return await self.pause({"ids": [to_global_id("Enrollment", i) for i in ids]})


@dataclass
class Bench:
    """What the phases work with."""

    args: argparse.Namespace
    res: Results
    clients: Clients
    api: Api
    pg: asyncpg.Connection
    profiler: Profiler
    heap: HeapSnapshots | None
    seq: int
    workspace_id: int
    server_pids: list[int]  # the replicas; the first one takes the mutations
    spare: list[int]  # enrollment ids for the single changes and the warm-ups
    open_cmd: dict[str, Any]  # port, token, timeout, concurrency

    async def sql_counts(self) -> dict[str, int]:
        rows = await self.pg.fetch(
            "SELECT status, count(*) AS n FROM enrollments WHERE workspace_id = $1 "
            "AND sequence_id = $2 GROUP BY status",
            self.workspace_id,
            self.seq,
        )
        return {r["status"]: r["n"] for r in rows if r["n"]}

    async def last_event_number(self) -> int:
        sql = "SELECT last_event_number FROM sequences WHERE id = $1"
        return int(await self.pg.fetchval(sql, self.seq))

    async def open(self, phase: Phase, kind: str, name: str) -> None:
        """Open --subscribers subscriptions of one kind (see SUBSCRIPTIONS)."""
        query, root = SUBSCRIPTIONS[kind]
        log(f"{name}: opening {self.args.subscribers:,} {root} subscriptions")
        heap_before = await self.heap.take() if self.heap else None
        rss_before = sum(rss_kib(p) for p in self.server_pids)
        await self.profiler.start(f"{name.replace(' ', '')}-open")
        cpu_before = sum(process_cpu_seconds(p) for p in self.server_pids)
        started = now()
        variables = {"seq": to_global_id("Sequence", self.seq)}
        phase.opened, errors = await self.clients.open(
            kind=kind, query=query, variables=variables, **self.open_cmd
        )
        phase.open_seconds = now() - started
        await asyncio.sleep(1.0)  # let the server start the last subscriptions
        phase.open_cpu = sum(process_cpu_seconds(p) for p in self.server_pids) - cpu_before
        phase.open_profile = await self.profiler.stop()
        phase.rss_kib = (rss_before, sum(rss_kib(p) for p in self.server_pids))
        if self.heap and heap_before:
            phase.heap = (heap_before, await self.heap.take())
        phase.errors.update(errors)

    @contextlib.asynccontextmanager
    async def measured(self, phase: Phase, name: str) -> AsyncIterator[Usage]:
        """CPU (and with --profile, py-spy) over the measured part of a phase."""
        await self.profiler.start(name)
        usage = Usage(self.server_pids, self.clients.pids)
        try:
            yield usage
        finally:
            phase.usage = usage.done()
            phase.profile = await self.profiler.stop()
            phase.py_spy_said = self.profiler.said

    async def collect(self, phase: Phase, settle: float) -> None:
        await asyncio.sleep(settle)  # late or duplicate messages
        phase.conns, phase.ended, errors = await self.clients.collect()
        phase.errors.update(errors)


async def phase1(bench: Bench) -> None:
    args, res, clients, phase = bench.args, bench.res, bench.clients, bench.res.one
    await bench.open(phase, "changes", "phase 1")
    log(f"phase 1: {phase.opened:,} subscribed in {phase.open_seconds:.1f}s"
        + (f" ({args.subscribers - phase.opened} failed)" if phase.opened < args.subscribers
           else ""))  # fmt: skip
    if phase.opened == 0:
        res.notes.append("phase 1: no subscription could be opened")
        return

    number = await bench.last_event_number()
    for attempt in range(1, MAX_WARMUPS + 1):
        number += 1
        await clients.target(number)
        t0, t1, changed = await bench.api.pause_ids([bench.spare.pop()])
        if changed != 1:
            raise RuntimeError(f"a warm-up change changed {changed} enrollments")
        res.warmups = attempt
        if await clients.all_reached("reached", args.timeout, number=number):
            log(f"phase 1: warm-up change reached every subscriber in {now() - t1:.2f}s")
            break
        reached, total = await clients.status()
        log(f"phase 1: warm-up {attempt}: {reached} of {total} subscribers had it after "
            f"{args.timeout:g}s; another warm-up")  # fmt: skip
    else:
        res.notes.append(f"phase 1: after {MAX_WARMUPS} warm-ups not every subscriber was live")
        return
    res.base_number = number
    await asyncio.sleep(args.gap)

    async with bench.measured(phase, "phase1") as usage:
        for k in range(args.changes):
            if now() - usage.started > args.phase_seconds:
                res.notes.append(f"phase 1 stopped after {k} of {args.changes} changes: "
                                 f"--phase-seconds ({args.phase_seconds:g} s) ran out")  # fmt: skip
                log(f"phase 1: {args.phase_seconds:g}s budget spent; no more changes")
                break
            number += 1
            await clients.target(number)
            t0, t1, changed = await bench.api.pause_ids([bench.spare.pop()])
            if changed != 1:
                raise RuntimeError(f"change {k + 1} changed {changed} enrollments")
            change = Change(number, t0, t1)
            res.changes.append(change)
            if await clients.all_reached("reached", args.timeout, number=number):
                change.done = now()
            else:
                res.timeouts += 1
                reached, total = await clients.status()
                log(f"phase 1: change {k + 1}: only {reached} of {total} subscribers had it "
                    f"after {args.timeout:g}s")  # fmt: skip
                if res.timeouts >= 3:
                    res.notes.append("phase 1 stopped after 3 changes that did not reach "
                                     "every subscriber in time")  # fmt: skip
                    break
            if (k + 1) % 10 == 0 or k == 0:
                spread = f"{change.done - t1:.3f}s" if change.done else "timed out"
                log(f"phase 1: change {k + 1}/{args.changes}: every subscriber had it {spread} "
                    "after the response")  # fmt: skip
            await asyncio.sleep(args.gap)
    await bench.collect(phase, min(args.settle, 5.0))
    written = await bench.last_event_number()
    if written != number:
        res.notes.append(f"phase 1: the log ends at {written}, expected {number}")


async def phase2(bench: Bench) -> None:
    args, res, clients, phase = bench.args, bench.res, bench.clients, bench.res.two
    res.phase2_ran = True
    spare = bench.spare
    if spare:  # pause the unused warm-up reserve, so the bulk change is exactly --bulk
        _, _, changed = await bench.api.pause_ids(spare)
        if changed != len(spare):
            raise RuntimeError(f"pausing the reserve changed {changed} of {len(spare)}")
    res.initial_counts = await bench.sql_counts()
    active = res.initial_counts.get("ACTIVE", 0)
    if active != args.bulk:
        res.notes.append(f"phase 2: {active:,} ACTIVE enrollments before the bulk change, "
                         f"not {args.bulk:,}")  # fmt: skip

    await bench.open(phase, "counts", "phase 2")
    log(f"phase 2: {phase.opened:,} subscribed (first message received) in "
        f"{phase.open_seconds:.1f}s")  # fmt: skip
    if phase.opened == 0:
        res.notes.append("phase 2: no subscription could be opened")
        return
    await clients.expect(res.initial_counts, "initial")
    if not await clients.all_reached("final", args.timeout, tag="initial"):
        reached, total = await clients.status()
        res.notes.append(f"phase 2: only {reached} of {total} subscribers showed the counts "
                         "before the bulk change")  # fmt: skip
    await asyncio.sleep(args.gap)

    async with bench.measured(phase, "phase2"):
        log(f"phase 2: pausing {active:,} enrollments in one mutation")
        seq_gid = to_global_id("Sequence", bench.seq)
        selection = {"sequenceId": seq_gid, "filter": {"statuses": ["ACTIVE"]}}
        res.bulk_t0, res.bulk_t1, res.bulk_changed = await bench.api.pause(selection)
        log(f"phase 2: the mutation answered in {res.bulk_t1 - res.bulk_t0:.2f}s "
            f"(changedCount {res.bulk_changed:,})")  # fmt: skip
        res.final_counts = await bench.sql_counts()
        await clients.expect(res.final_counts, "bulk")
        remaining = max(0.0, res.bulk_t1 + args.timeout - now())
        res.all_final = await clients.all_reached("final", remaining, tag="bulk")
        if res.all_final:
            log(f"phase 2: every subscriber holds the final counts, "
                f"{now() - res.bulk_t1:.2f}s after the response")  # fmt: skip
        else:
            reached, total = await clients.status()
            log(f"phase 2: only {reached} of {total} subscribers hold the final counts "
                f"{args.timeout:g}s after the response")  # fmt: skip
    await bench.collect(phase, args.settle)  # count any message that still follows


async def main(args: argparse.Namespace) -> Results:
    res = Results()
    size = args.bulk + args.changes + MAX_WARMUPS
    res.enrollments = size
    async with scratch_database(args.postgres_url, "seqgql_bench_fanout") as url:
        tenant = await create_tenant(url)
        [seq] = await generate(url, tenant, [SequenceSpec(size, mix="active")])
        pg = await asyncpg.connect(url)
        servers: list[asyncio.subprocess.Process] = []
        clients: Clients | None = None
        api: Api | None = None
        try:
            single_ids = await pg.fetch(
                "SELECT id FROM enrollments WHERE sequence_id = $1 ORDER BY id DESC LIMIT $2",
                seq, args.changes + MAX_WARMUPS,
            )  # fmt: skip
            res.busy_before = await machine_busy(2.0)
            ports = []
            for _ in range(args.replicas):
                server, port, res.source = await start_server(
                    "bench.fanout", "--serve", "--database-url", url,
                    "--broadcast-url", broadcast_url(args),
                    *(["--heap", str(args.heap)] if args.heap else []), log=res.server_log,
                )  # fmt: skip
                servers.append(server)
                ports.append(port)
                log(f"server pid {server.pid} on 127.0.0.1:{port}")
            res.source += source_version(Path(res.source))
            log(f"seqgql from {res.source}")
            clients = await Clients.start(args.clients, args.subscribers)
            if args.floor:  # the reference server first, the same clients
                variables = {"seq": to_global_id("Sequence", seq)}
                await floor_phase(args, res, clients, CHANGES_DOC, variables, tenant.token)
            api = Api(ports[0], tenant.token)
            bench = Bench(
                args, res, clients, api, pg, Profiler(args.profile, servers[0].pid),
                HeapSnapshots(args.heap, servers[0].pid) if args.heap else None,
                seq=seq, workspace_id=tenant.workspace_id,
                server_pids=[s.pid for s in servers], spare=[r["id"] for r in single_ids],
                open_cmd={"ports": ports, "token": tenant.token, "timeout": args.open_timeout,
                          "concurrency": args.open_concurrency, "deflate": args.deflate,
                          "websockets_parser": args.websockets_parser},
            )  # fmt: skip
            await phase1(bench)
            await clients.close()
            await phase2(bench)
            await clients.close()
        finally:
            if api is not None:
                await api.http.aclose()
            if clients is not None:
                await clients.stop()
            for server in servers:
                await stop_process(server)
            await pg.close()
    return res


def broadcast_url(args: argparse.Namespace) -> str:
    return "memory://" if args.broadcast == "memory" else args.redis_url


async def run_main(args: argparse.Namespace) -> Results:
    """main(), cancelled (so that everything is stopped and dropped) on SIGTERM too."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await main(args)


# --name: type, default, help
OPTIONS: dict[str, tuple[type, float, str]] = {
    "--subscribers": (int, 1000, "websocket subscribers"),
    "--changes": (int, 100, "single status changes"),
    "--bulk": (int, 100_000, "enrollments changed by the bulk change"),
    "--clients": (int, 2, "client processes the subscribers are spread over"),
    "--gap": (float, 0.05, "seconds between every subscriber having a change and the next "
              "change"),
    "--timeout": (float, 60.0, "seconds to wait for a change (or the bulk change's final "
                  "counts) to reach every subscriber"),
    "--open-timeout": (float, 300.0, "seconds to open the subscriptions"),
    "--phase-seconds": (float, 300.0, "phase 1 starts no new change after this many seconds "
                        "(a slow server)"),
    "--open-concurrency": (int, 25, "connections each client process opens at a time"),
    "--settle": (float, 2.0, "seconds to keep listening after the bulk change reached everyone"),
}  # fmt: skip


def parse_args() -> argparse.Namespace:
    parser = argument_parser(__doc__)
    for name, (kind, default, text) in OPTIONS.items():
        parser.add_argument(name, type=kind, default=default, help=text)
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="record the server with py-spy during phase 1 and the bulk change (raw stacks "
        "in DIR) and print a summary",
    )
    parser.add_argument(
        "--replicas", type=int, default=1,
        help="API processes side by side (the subscribers spread over them, the mutations "
        "sent to the first); more than one needs --broadcast redis",
    )  # fmt: skip
    parser.add_argument(
        "--broadcast", choices=["memory", "redis"], default="memory",
        help="how the API processes hear of commits (memory: one process only)",
    )  # fmt: skip
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0",
                        help="the Redis server for --broadcast redis")  # fmt: skip
    parser.add_argument(
        "--deflate",
        action="store_true",
        help="the clients offer permessage-deflate, as browsers do (the floor ignores it)",
    )
    parser.add_argument(
        "--websockets-parser", action="store_true",
        help="the clients read every frame with websockets' parser (~5 µs a message more): "
        "busier clients, which the server's sends then wake less often",
    )  # fmt: skip
    parser.add_argument(
        "--no-floor", dest="floor", action="store_false",
        help="skip the reference server (bench/harness/floor.py) measured before phase 1",
    )  # fmt: skip
    parser.add_argument(
        "--heap", type=Path, metavar="DIR",
        help="trace the server's allocations (tracemalloc: slower) and print what opening "
        "the subscriptions kept, per subscriber, by source line (snapshots in DIR)",
    )  # fmt: skip
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--broadcast-url", default="memory://", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.replicas > 1 and args.broadcast != "redis":
        parser.error("--replicas above 1 needs --broadcast redis: the processes must hear "
                     "each other's commits")  # fmt: skip
    if not 1 <= args.replicas <= args.clients:
        parser.error("--replicas must be between 1 and --clients (a client process talks "
                     "to one replica)")  # fmt: skip
    if not (1 <= args.subscribers <= 40_000 and 1 <= args.changes <= 10_000
            and 1 <= args.bulk <= 10_000_000 and 1 <= args.clients <= 16
            and args.gap >= 0 and args.timeout > 0):  # fmt: skip
        parser.error("a size or time is out of range")
    return args


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.serve:
        serve_app(arguments.database_url, arguments.broadcast_url, arguments.heap)
    else:
        began = now()
        results = asyncio.run(run_main(arguments))
        app, floor = report(arguments, results, now() - began)
        print()
        report_goals(arguments, results, app, floor)
