"""Webhooks bench: deliveries per second of one webhook worker, and the latency from a
change's commit to its receipt, against raw httpx POSTs to the same receiver.

A fresh PostgreSQL database (created, migrated, dropped at the end) gets 100,000 ACTIVE
enrollments over `--sequences` sequences, one endpoint for every sequence on a receiver
on 127.0.0.1 (a raw asyncio HTTP/1.1 server in a process of its own: it answers 204 at
once and keeps each webhook-id with its time of receipt; it verifies one message in 100
with the Standard Webhooks verifier), then one bulk pause per sequence: 100,000 events
behind the endpoint. Each round:

- backlog: the endpoint's lanes are put back before those events, a worker process (a
  Dispatcher on the system clock, waking on PostgreSQL LISTEN/NOTIFY) starts, and is
  timed from GO to the receipt of the last of the 100,000 (each checked received once);
- keeping up: the same worker, caught up, while this process commits pauses of
  `--chunk` enrollments at `--rate` events/s (by default half the rate the worker just
  showed: a load it keeps up with) for `--seconds`, each pause taking enrollments of
  `--per-endpoint` sequences in turn (the load spread over as many lanes as the endpoint
  may run at once, as the backlog's was): each event's latency is its receipt time minus
  its pause's commit time (one machine, one clock);
- references, in processes of their own: 20,000 POSTs of a message of the same size with
  raw httpx (TCP_NODELAY, as the worker's connections), one after the other on one
  kept-alive connection (the ceiling of one sequence: its events go one at a time), and
  from as many connections as the worker's lanes for one endpoint
  (WEBHOOK_MAX_IN_FLIGHT).

Goals (one worker): at least 2,000 deliveries/s, and a p99 under 1 s while keeping up
(the exit status is 1 when missed).

Run:  .venv/bin/python -m bench.webhooks [--postgres-url URL] [--events 100000]
          [--sequences 20] [--rounds 2] [--rate 1000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.harness.report import log, pct, verdict
from bench.harness.scratch import (
    SequenceSpec,
    argument_parser,
    create_tenant,
    generate,
    require,
    scratch_database,
)
from bench.harness.servers import start_module, stop_process

GOAL_RATE = 2_000.0  # deliveries/s, one worker
GOAL_P99 = 1.0  # seconds from commit to receipt
TIMEOUT = 900.0
REFERENCE_POSTS = 20_000  # POSTs per reference run (enough for a steady rate)
# httpx sends headers and body in two writes: without this the body waits for the
# headers' ACK (Nagle), which halves one connection's rate on loopback
NO_DELAY = (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


# =========================================================================== the receiver


class Receiver:
    """POST /hook: keep (webhook-id, time); GET /stats, GET /dump, POST /reset {secret};
    anything else (the references' POSTs): 204."""

    def __init__(self) -> None:
        self.got: list[tuple[str, float]] = []
        self.secret: str | None = None
        self.bad = 0
        self.checked = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                at = time.time()
                request, *lines = head.decode("latin-1").split("\r\n")
                headers = {}
                for line in lines:
                    name, _, value = line.partition(":")
                    if value:
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                answer = b""
                if request.startswith("POST /hook"):
                    self.got.append((headers["webhook-id"], at))
                    if self.secret and len(self.got) % 100 == 1:
                        self.verify(body, headers)
                elif request.startswith("GET /stats"):
                    last = self.got[-1][1] if self.got else 0.0
                    stats = {"count": len(self.got), "last": last, "bad": self.bad}
                    answer = json.dumps({**stats, "checked": self.checked}).encode()
                elif request.startswith("GET /dump"):
                    answer = json.dumps(self.got).encode()
                elif request.startswith("POST /reset"):
                    self.got, self.bad, self.checked = [], 0, 0
                    self.secret = json.loads(body or b"{}").get("secret")
                status = "200 OK" if answer else "204 No Content"
                writer.write(
                    f"HTTP/1.1 {status}\r\ncontent-length: {len(answer)}\r\n\r\n".encode() + answer
                )
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def verify(self, body: bytes, headers: dict[str, str]) -> None:
        from standardwebhooks.webhooks import Webhook

        self.checked += 1
        try:
            Webhook(self.secret or "").verify(body, headers)
        except Exception:
            self.bad += 1


async def receive() -> None:
    receiver = Receiver()
    server = await asyncio.start_server(receiver.serve, "127.0.0.1", 0, backlog=1024)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    await asyncio.to_thread(sys.stdin.readline)  # until the parent says so
    server.close()


# =========================================================================== the worker


async def work(url: str, concurrency: int, per_endpoint: int, profile: str | None) -> None:
    """One webhook worker: READY, then deliver from GO until EXIT (sampled by
    pyinstrument, ``pip install pyinstrument``, its report written to ``profile``, if
    given)."""
    from seqgql.clock import SystemClock
    from seqgql.events.broadcast import create_broadcast
    from seqgql.events.bus import EventBus
    from seqgql.persistence.database import Database
    from seqgql.webhooks.dispatcher import Dispatcher

    db = Database(url, pool_size=4)
    broadcast = create_broadcast(url, EventBus())
    await broadcast.start()
    dispatcher = Dispatcher(
        db, SystemClock(), allow_private=True, concurrency=concurrency,
        per_endpoint=per_endpoint, bus=broadcast.bus,
    )  # fmt: skip
    try:
        await db.ping()
        print("READY", flush=True)
        if (await asyncio.to_thread(sys.stdin.readline)).strip() != "GO":
            return
        profiler = None
        if profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005, async_mode="disabled")
            profiler.start()
        stop = asyncio.Event()
        running = asyncio.create_task(dispatcher.run_forever(stop, 1.0))
        cpu = time.process_time()
        await asyncio.to_thread(sys.stdin.readline)
        stop.set()
        await running
        if profiler is not None and profile:
            profiler.stop()
            text = profiler.output_text(show_all=False)
            await asyncio.to_thread(Path(profile).write_text, text)
        print(f"DONE {time.process_time() - cpu:.2f}", flush=True)
    finally:
        await dispatcher.close()
        await broadcast.stop()
        await db.dispose()


# =========================================================================== the reference


async def reference(url: str, count: int, connections: int, size: int, which: str) -> None:
    """``count`` POSTs of a ``size``-byte JSON body, from ``connections`` kept-alive
    connections each posting one after the other, with raw httpx or the worker's own
    client (``seqgql.webhooks.http11``); prints the seconds taken."""
    body = json.dumps({"type": "enrollment.status_changed", "data": "x" * (size - 60)}).encode()
    headers = {"webhook-id": "evt_0_0", "webhook-timestamp": "0", "webhook-signature": "v1,x",
               "content-type": "application/json"}  # fmt: skip
    if which == "ours":
        await reference_ours(url, count, connections, body, headers)
        return
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    # TCP_NODELAY, as the webhook worker's connections have it (asyncio sets it)
    transport = httpx.AsyncHTTPTransport(limits=limits, socket_options=[NO_DELAY])
    async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
        await client.post(url, content=body, headers=headers)  # the connection's opening
        left = iter(range(count - 1))

        async def one_connection() -> None:
            for _ in left:
                answer = await client.post(url, content=body, headers=headers)
                answer.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(one_connection() for _ in range(connections)))
        print(f"SECONDS {time.perf_counter() - started:.4f}", flush=True)


async def reference_ours(
    url: str, count: int, connections: int, body: bytes, headers: dict[str, str]
) -> None:
    from seqgql.webhooks.http11 import Client, Target

    raw = [(k.encode(), v.encode()) for k, v in headers.items()]
    target = Target.parse(url)
    http = Client(allow_private=True, max_idle=connections)
    try:
        await http.post(target, raw, body)  # the connection's opening
        left = iter(range(count - 1))

        async def one_connection() -> None:
            for _ in left:
                answer = await http.post(target, raw, body)
                assert 200 <= answer.status < 300, answer

        started = time.perf_counter()
        await asyncio.gather(*(one_connection() for _ in range(connections)))
        print(f"SECONDS {time.perf_counter() - started:.4f}", flush=True)
    finally:
        await http.aclose()


# =========================================================================== measuring


@dataclass
class Round:
    number: int
    rate: float = 0.0  # deliveries/s, the backlog
    worker_cpu: float = 0.0
    p50: float = 0.0
    p99: float = 0.0
    latency_max: float = 0.0
    offered: float = 0.0  # events/s committed while keeping up
    serial: float = 0.0  # raw httpx POSTs/s, one connection
    parallel: float = 0.0  # raw httpx POSTs/s, per_endpoint connections
    client_serial: float = 0.0  # the worker's own client (webhooks.http11), one connection
    client_parallel: float = 0.0  # the same, per_endpoint connections
    checked: str = ""


@dataclass
class Setup:
    url: str
    receiver_url: str
    endpoint_id: int
    backlog: list[int]  # the sequences of the 100,000 events
    starts: dict[int, int]  # each of them: its lane's number before the events
    latency: list[int]  # the sequences paused while keeping up
    workspace_id: int
    user_id: int
    events: int
    body_size: int = 700
    extra: dict[str, Any] = field(default_factory=dict)


async def stats(http: httpx.AsyncClient, base: str) -> dict[str, Any]:
    return (await http.get(f"{base}/stats")).json()  # type: ignore[no-any-return]


async def read_line(process: asyncio.subprocess.Process, prefix: str, seconds: float) -> str:
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), seconds)).decode()
    if not line.startswith(prefix):
        raise RuntimeError(f"{process.pid}: expected {prefix!r}, got {line!r}")
    return line[len(prefix) :].strip()


async def tell(process: asyncio.subprocess.Process, word: str) -> None:
    assert process.stdin is not None
    process.stdin.write(f"{word}\n".encode())
    await process.stdin.drain()


async def reset(pg: asyncpg.Connection, setup: Setup, http: httpx.AsyncClient, secret: str) -> None:
    """The backlog due again from its first event; the latency sequences ACTIVE again."""
    await pg.execute("TRUNCATE webhook_deliveries")
    for sequence, number in setup.starts.items():
        await pg.execute(
            "UPDATE webhook_lanes SET number = $1, attempts = 0, next_attempt_at = NULL, "
            "lease_owner = NULL, lease_until = NULL WHERE endpoint_id = $2 AND sequence_id = $3",
            number, setup.endpoint_id, sequence,
        )  # fmt: skip
    await pg.execute(
        "UPDATE enrollments SET status = 'ACTIVE', reason = NULL, resume_at = NULL "
        "WHERE sequence_id = ANY($1::bigint[])",
        setup.latency,
    )
    await pg.execute("VACUUM (ANALYZE) webhook_lanes, events, enrollments")
    await http.post(f"{setup.receiver_url}/reset", json={"secret": secret})


async def backlog(setup: Setup, worker: asyncio.subprocess.Process, http: httpx.AsyncClient,
                  run: Round) -> None:  # fmt: skip
    started = time.time()
    await tell(worker, "GO")
    deadline = time.monotonic() + TIMEOUT
    while (now := await stats(http, setup.receiver_url))["count"] < setup.events:
        require(time.monotonic() < deadline, f"only {now['count']:,} received")
        await asyncio.sleep(0.1)
    run.rate = setup.events / (now["last"] - started)
    ids = [i for i, _ in (await http.get(f"{setup.receiver_url}/dump")).json()]
    require(len(ids) == len(set(ids)) == setup.events, "an event received twice or missed")
    require(now["bad"] == 0 and now["checked"] > 0, f"signatures: {now}")
    run.checked = f"{len(ids):,} distinct webhook-ids, {now['checked']} signatures verified"


async def keeping_up(setup: Setup, http: httpx.AsyncClient, args: argparse.Namespace,
                     run: Round) -> None:  # fmt: skip
    """Pauses at the offered rate; each event's receipt minus its commit."""
    from seqgql.clock import SystemClock
    from seqgql.domain.kinds import Role
    from seqgql.domain.selection import Selection
    from seqgql.events.broadcast import create_broadcast
    from seqgql.events.bus import EventBus
    from seqgql.persistence.database import Database
    from seqgql.services.actor import Actor
    from seqgql.services.enrollments import pause

    await http.post(f"{setup.receiver_url}/reset", json={})
    db = Database(setup.url, pool_size=2)
    broadcast = create_broadcast(setup.url, EventBus())
    db.commit_listeners.append(broadcast.committed)
    await broadcast.start()
    actor = Actor(setup.workspace_id, setup.user_id, Role.ADMIN)
    pg = await asyncpg.connect(setup.url)
    committed: dict[str, float] = {}
    try:
        ids = await pg.fetch(
            # each pause takes enrollments of every latency sequence (round robin), so the
            # load is spread over as many lanes as the endpoint may run at once
            "SELECT id, sequence_id FROM enrollments WHERE sequence_id = ANY($1::bigint[]) "
            "ORDER BY row_number() OVER (PARTITION BY sequence_id ORDER BY id), sequence_id",
            setup.latency,
        )
        chunks = [ids[i : i + args.chunk] for i in range(0, len(ids), args.chunk)]
        interval = args.chunk / (args.rate or run.rate / 2)
        count = min(len(chunks), int(args.seconds / interval))
        started = time.monotonic()
        for k in range(count):
            await asyncio.sleep(max(0.0, started + k * interval - time.monotonic()))
            chosen = tuple(r["id"] for r in chunks[k])
            result = await pause(db, SystemClock(), actor, Selection(ids=chosen))
            at = time.time()
            numbers = await pg.fetch(
                "SELECT sequence_id, number FROM events WHERE bulk_operation_id = $1",
                result.bulk_operation_id,
            )
            committed.update({f"evt_{r['sequence_id']}_{r['number']}": at for r in numbers})
        run.offered = len(committed) / (time.monotonic() - started)
        deadline = time.monotonic() + 60
        while (await stats(http, setup.receiver_url))["count"] < len(committed):
            require(time.monotonic() < deadline, "events committed while keeping up missed")
            await asyncio.sleep(0.1)
        got = dict((await http.get(f"{setup.receiver_url}/dump")).json())
        latencies = [got[i] - at for i, at in committed.items()]
        run.p50, run.p99, run.latency_max = (
            pct(latencies, 0.5),
            pct(latencies, 0.99),
            max(latencies),
        )
    finally:
        await pg.close()
        await broadcast.stop()
        await db.dispose()


async def references(setup: Setup, args: argparse.Namespace, run: Round) -> None:
    count = min(setup.events, REFERENCE_POSTS)
    for client in ("httpx", "ours"):
        for connections in (1, args.per_endpoint):
            process = await start_module(
                "bench.webhooks", "--reference", "--receiver", f"{setup.receiver_url}/reference",
                "--events", str(count), "--connections", str(connections),
                "--size", str(setup.body_size), "--client", client,
                stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
            seconds = float(await read_line(process, "SECONDS", TIMEOUT))
            await process.wait()
            rate = count / seconds
            field = "serial" if connections == 1 else "parallel"
            setattr(run, field if client == "httpx" else f"client_{field}", rate)


async def one_round(setup: Setup, args: argparse.Namespace, number: int, secret: str) -> Round:
    run = Round(number)
    pg = await asyncpg.connect(setup.url)
    async with httpx.AsyncClient(trust_env=False) as http:
        try:
            await reset(pg, setup, http, secret)
        finally:
            await pg.close()
        if number % 2 == 0 and args.references:
            await references(setup, args, run)
        pipe = asyncio.subprocess.PIPE
        worker = await start_module(
            "bench.webhooks", "--work", "--database-url", setup.url,
            "--per-endpoint", str(args.per_endpoint),
            *(["--profile", f"{args.profile}.{number}"] if args.profile else []),
            stdin=pipe, stdout=pipe,
        )  # fmt: skip
        try:
            await read_line(worker, "READY", 120)
            log(f"round {number}: {setup.events:,} events behind the endpoint; GO")
            await backlog(setup, worker, http, run)
            log(f"  backlog: {run.rate:,.0f} deliveries/s ({run.checked})")
            await keeping_up(setup, http, args, run)
            log(f"  keeping up at {run.offered:,.0f} events/s: p50 {run.p50 * 1000:.0f} ms, "
                f"p99 {run.p99 * 1000:.0f} ms")  # fmt: skip
            await tell(worker, "EXIT")
            run.worker_cpu = float(await read_line(worker, "DONE", 120))
        finally:
            await stop_process(worker)
        if number % 2 == 1 and args.references:
            await references(setup, args, run)
        log(f"  raw httpx: {run.serial:,.0f} POSTs/s on one connection, {run.parallel:,.0f} "
            f"on {args.per_endpoint}; the worker's client: {run.client_serial:,.0f}, "
            f"{run.client_parallel:,.0f}")  # fmt: skip
    return run


# =========================================================================== main


async def prepare(url: str, args: argparse.Namespace, receiver_url: str) -> tuple[Setup, str]:
    from seqgql.clock import SystemClock
    from seqgql.domain.kinds import Role
    from seqgql.domain.selection import Selection
    from seqgql.domain.webhooks import WebhookEventType, WebhookRules
    from seqgql.persistence.database import Database
    from seqgql.services.actor import Actor
    from seqgql.services.enrollments import pause
    from seqgql.services.webhooks.endpoints import create_endpoint

    per_sequence = args.events // args.sequences
    latency_total = max(args.chunk, int((args.rate or 2 * GOAL_RATE) * args.seconds))
    latency_sequences = args.per_endpoint  # one lane each: as many as may run at once
    specs = [SequenceSpec(per_sequence, mix="active") for _ in range(args.sequences)]
    specs += [SequenceSpec(latency_total // latency_sequences + args.chunk, mix="active")
              for _ in range(latency_sequences)]  # fmt: skip
    tenant = await create_tenant(url)
    ids = await generate(url, tenant, specs)
    backlog_ids, latency_ids = ids[: args.sequences], ids[args.sequences :]
    db = Database(url, pool_size=2)
    actor = Actor(tenant.workspace_id, tenant.user_ids[0], Role.ADMIN)
    try:
        created = await create_endpoint(
            db, SystemClock(), actor, WebhookRules(allow_private=True),
            url=f"{receiver_url}/hook", event_types=[WebhookEventType.ENROLLMENT_STATUS_CHANGED],
            sequence_ids=None,
        )  # fmt: skip
        assert created.endpoint_id is not None
        assert created.secret is not None
        pg = await asyncpg.connect(url)
        try:
            rows = await pg.fetch(
                "SELECT sequence_id, number FROM webhook_lanes WHERE endpoint_id = $1",
                created.endpoint_id,
            )
            starts = {
                r["sequence_id"]: r["number"] for r in rows if r["sequence_id"] in backlog_ids
            }
            started = time.perf_counter()
            for sequence in backlog_ids:
                await pause(db, SystemClock(), actor, Selection(sequence_id=sequence))
            log(f"paused {per_sequence * args.sequences:,} enrollments in "
                f"{time.perf_counter() - started:.1f}s")  # fmt: skip
        finally:
            await pg.close()
    finally:
        await db.dispose()
    setup = Setup(
        url=url, receiver_url=receiver_url, endpoint_id=created.endpoint_id,
        backlog=backlog_ids, starts=starts, latency=latency_ids,
        workspace_id=tenant.workspace_id, user_id=tenant.user_ids[0],
        events=per_sequence * args.sequences,
    )  # fmt: skip
    return setup, created.secret


async def main(args: argparse.Namespace) -> None:
    pipe = asyncio.subprocess.PIPE
    receiver = await start_module("bench.webhooks", "--receive", stdin=pipe, stdout=pipe)
    try:
        port = int(await read_line(receiver, "PORT", 60))
        async with scratch_database(args.postgres_url, "seqgql_bench_webhooks") as url:
            setup, secret = await prepare(url, args, f"http://127.0.0.1:{port}")
            rounds = [await one_round(setup, args, r + 1, secret) for r in range(args.rounds)]
    finally:
        await stop_process(receiver)
    if report(rounds, setup, args):
        sys.exit(1)


def _span(values: list[float], fmt: str) -> str:
    low, high = min(values), max(values)
    return format(low, fmt) if len(values) == 1 else f"{low:{fmt}} to {high:{fmt}}"


def report(rounds: list[Round], setup: Setup, args: argparse.Namespace) -> bool:
    """The table; True when a goal is missed."""
    per = [f"round {r.number}" for r in rounds]
    print()
    print(f"{setup.events:,} events over {args.sequences} sequence(s), one endpoint on "
          f"127.0.0.1, one worker (WEBHOOK_MAX_IN_FLIGHT={args.per_endpoint})")  # fmt: skip
    print()
    print("| figure | " + " | ".join(per) + " | range |")
    print("|---|" + "---|" * (len(rounds) + 1))
    lines: list[tuple[str, list[float], str]] = [
        ("deliveries/s, the backlog (the system)", [r.rate for r in rounds], ",.0f"),
        ("raw httpx POSTs/s, one connection (reference)", [r.serial for r in rounds], ",.0f"),
        (
            f"raw httpx POSTs/s, {args.per_endpoint} connections (reference)",
            [r.parallel for r in rounds],
            ",.0f",
        ),
        (
            "raw POSTs/s of the worker's HTTP client, one connection (reference)",
            [r.client_serial for r in rounds],
            ",.0f",
        ),
        (
            f"raw POSTs/s of the worker's HTTP client, {args.per_endpoint} connections (reference)",
            [r.client_parallel for r in rounds],
            ",.0f",
        ),
        ("worker CPU seconds (backlog + keeping up)", [r.worker_cpu for r in rounds], ".1f"),
        ("events/s committed while keeping up", [r.offered for r in rounds], ",.0f"),
        ("commit → receipt p50 (ms)", [r.p50 * 1000 for r in rounds], ",.0f"),
        ("commit → receipt p99 (ms)", [r.p99 * 1000 for r in rounds], ",.0f"),
        ("commit → receipt max (ms)", [r.latency_max * 1000 for r in rounds], ",.0f"),
    ]
    for name, values, fmt in lines:
        cells = " | ".join(format(v, fmt) for v in values)
        print(f"| {name} | {cells} | {_span(values, fmt)} |")
    rate_ok = min(r.rate for r in rounds) >= GOAL_RATE
    p99_ok = max(r.p99 for r in rounds) < GOAL_P99
    print()
    print(f"goal ≥ {GOAL_RATE:,.0f} deliveries/s (slowest round): {verdict(rate_ok)}")
    print(f"goal p99 < {GOAL_P99:g} s while keeping up (worst round): {verdict(p99_ok)}")
    return not (rate_ok and p99_ok)


def parse() -> argparse.Namespace:
    parser = argument_parser(__doc__)
    parser.add_argument("--events", type=int, default=100_000, help="events in the backlog")
    parser.add_argument("--sequences", type=int, default=20, help="sequences they are in")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--rate", type=float, default=0.0,
        help="events/s committed while keeping up (default: half the round's backlog rate)",
    )  # fmt: skip
    parser.add_argument("--seconds", type=float, default=10, help="how long to keep up")
    parser.add_argument("--chunk", type=int, default=50, help="enrollments per pause then")
    parser.add_argument("--per-endpoint", type=int, default=8,
                        help="WEBHOOK_MAX_IN_FLIGHT: lanes of one endpoint at once")  # fmt: skip
    parser.add_argument(
        "--profile",
        metavar="PATH",
        help="the worker's cProfile statistics, written to PATH.<round>",
    )
    parser.add_argument(
        "--no-references",
        dest="references",
        action="store_false",
        help="leave the raw httpx and raw client references out",
    )
    # the processes this script starts
    parser.add_argument("--receive", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--work", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--reference", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--receiver", help=argparse.SUPPRESS)
    parser.add_argument("--connections", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, default=700, help=argparse.SUPPRESS)
    parser.add_argument("--client", default="httpx", help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse()
    if arguments.receive:
        asyncio.run(receive())
    elif arguments.work:
        asyncio.run(work(arguments.database_url, 64, arguments.per_endpoint, arguments.profile))
    elif arguments.reference:
        asyncio.run(
            reference(
                arguments.receiver,
                arguments.events,
                arguments.connections,
                arguments.size,
                arguments.client,
            )
        )
    else:
        asyncio.run(main(arguments))
