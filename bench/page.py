"""Page benchmark: one page of the Contacts tab through the real app, against its floor
("exact": a Starlette + asyncpg server sending the app's own SQL statement and writing the
same JSON with orjson, checked byte for byte) and, with ``--peer postgraphile``,
PostGraphile 4 with the connection-filter plugin on the same database (same rows checked).

A fresh PostgreSQL database (created, migrated, dropped at the end) gets 200,000
enrollments over 20 sequences (mixed statuses, 5 users). Each server runs in its own
process on 127.0.0.1 (the client is this process). The servers are measured in turn,
round after round (round k: app, exact, peer, ...), each round:

  latency     one keep-alive client per server, N sequential requests of the page to each,
              one request to each server in turn (the same moment's machine for all):
              p50 / p90 / p99
  per row     server CPU per request for pages of 10 and of 100 rows (no search): the
              growth per row
  load        32 concurrent keep-alive connections for ~10 s: requests/s, p50, and the
              server's CPU per page (its process CPU time over the pages served)

and prints each round, the ratios to exact and to the peer with their range over rounds,
and the goals. ``--workers-figure`` adds `seqgql serve --workers 2` (requests/s of two
worker processes against one).

Run:  .venv/bin/python -m bench.page [--postgres-url URL] [--scale 0.1] [--rounds 3]
      [--peer postgraphile]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import orjson

from bench.harness import postgraphile
from bench.harness.global_id import to_global_id
from bench.harness.http_client import Conn, Connection, HttpxConnection, Send, check
from bench.harness.measure import machine_busy, tree_cpu_seconds
from bench.harness.report import log, pct
from bench.harness.scratch import (
    SequenceSpec,
    argument_parser,
    create_tenant,
    generate,
    scratch_database,
)
from bench.harness.servers import Process, make_app, serve, start_server, stop_process
from bench.page_capture import capture_statements
from bench.page_exact import exact_app

PAGE_SIZE = 50
GROWTH_SIZES = (10, 100)
DASH = "\u2013"  # ranges: 1.2\u20131.5
# the goals of issue 15
GOAL_CPU_MS = 1.2  # server CPU per page of 50, under load
GOAL_P50_RATIO = 1.3  # app p50 / exact p50
GOAL_RPS_RATIO = 0.7  # app req/s / exact req/s, 32 connections
GOAL_ROW_US = 15.0  # server CPU per row

NODE_FIELDS = """
      cursor
      node {
        id status reason currentStep enrolledAt nextRunAt
        contact { id firstName lastName email }
        enrolledBy { name }
      }"""
PAGE_QUERY = (
    "query Page($seq: ID!, $filter: EnrollmentFilter, $first: Int) {\n"
    "  enrollments(sequenceId: $seq, filter: $filter, first: $first) {\n"
    f"    edges {{{NODE_FIELDS}\n    }}\n"
    "    pageInfo { hasNextPage endCursor }\n  }\n}"
)
COUNTS_QUERY = (
    "query PageCounts($seq: ID!, $filter: EnrollmentFilter, $first: Int) {\n"
    "  enrollments(sequenceId: $seq, filter: $filter, first: $first) {\n"
    "    totalCount statusCounts { status count }\n"
    f"    edges {{{NODE_FIELDS}\n    }}\n"
    "    pageInfo { hasNextPage endCursor }\n  }\n}"
)


@dataclass
class Shape:
    """One request of the benchmark: the document, its filter and page size."""

    name: str
    query: str
    flt: dict[str, Any]
    first: int

    def variables(self, seq: int) -> dict[str, Any]:
        return {"seq": to_global_id("Sequence", seq), "filter": self.flt, "first": self.first}


def shapes(search: str, counts: bool) -> dict[str, Shape]:
    page_filter = {"statuses": ["ACTIVE", "PAUSED"], "steps": [1, 2], "search": search}
    wide = {"statuses": ["ACTIVE", "PAUSED"]}
    found = {
        "page": Shape("page", PAGE_QUERY, page_filter, PAGE_SIZE),
        "rows10": Shape("rows10", PAGE_QUERY, wide, GROWTH_SIZES[0]),
        "rows100": Shape("rows100", PAGE_QUERY, wide, GROWTH_SIZES[1]),
    }
    if counts:
        found["counts"] = Shape("counts", COUNTS_QUERY, page_filter, PAGE_SIZE)
    return found


# =========================================================================== servers


def serve_kind(kind: str, url: str, spec: str | None) -> None:
    """The server subprocess (``--serve app|exact``): serve until SIGTERM."""
    if kind == "app":
        pool = int(os.environ.get("BENCH_POOL", "0"))
        serve(make_app(url, **({"db_pool_size": pool} if pool else {})))
    else:
        assert spec is not None
        serve(exact_app(url, spec))


@dataclass
class Server:
    """A running server and how to send each shape to it."""

    name: str
    process: Process
    base_url: str
    sends: dict[str, Send]


def app_sends(token: str, seq: int, all_shapes: dict[str, Shape]) -> dict[str, Send]:
    headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}

    def send(shape: Shape) -> Send:
        body = json.dumps({"query": shape.query, "variables": shape.variables(seq)}).encode()
        return lambda conn: conn.request("POST", "/graphql", body, headers)

    return {name: send(shape) for name, shape in all_shapes.items()}


def exact_sends(seq: int, all_shapes: dict[str, Shape]) -> dict[str, Send]:
    headers = {"content-type": "application/json"}

    def send(shape: Shape) -> Send:
        body = json.dumps({"query": shape.query, "variables": shape.variables(seq)}).encode()
        return lambda conn: conn.request("POST", f"/page/{shape.name}", body, headers)

    return {name: send(shape) for name, shape in all_shapes.items()}


def peer_sends(workspace_id: int, seq: int, all_shapes: dict[str, Shape]) -> dict[str, Send]:
    headers = {"content-type": "application/json"}

    def send(shape: Shape) -> Send:
        flt = shape.flt
        query = postgraphile.page_document(search="search" in flt, steps="steps" in flt)
        variables = {"ws": str(workspace_id), "seq": str(seq), "first": shape.first,
                     "statuses": flt["statuses"], "steps": flt.get("steps"),
                     "search": flt.get("search", "").lower() or None}  # fmt: skip
        body = json.dumps({"query": query, "variables": variables}).encode()
        return lambda conn: conn.request("POST", "/graphql", body, headers)

    return {name: send(shape) for name, shape in all_shapes.items() if name != "counts"}


# =========================================================================== client


@dataclass
class Figures:
    """One server's figures in one round."""

    latencies_ms: list[float] = field(default_factory=list)
    cpu_per_request_ms: dict[str, float] = field(default_factory=dict)  # shape -> ms
    load_latencies_ms: list[float] = field(default_factory=list)
    load_seconds: float = 0.0
    load_cpu_ms: float = 0.0  # server CPU per page under load
    connections_per_s: float = float("nan")  # PostgreSQL sessions opened under load
    counts_p50_ms: float = float("nan")
    counts_rps: float = float("nan")

    @property
    def p50(self) -> float:
        return pct(self.latencies_ms, 0.5)

    @property
    def rps(self) -> float:
        return len(self.load_latencies_ms) / self.load_seconds if self.load_seconds else 0.0

    @property
    def row_us(self) -> float:
        small, large = (self.cpu_per_request_ms[f"rows{n}"] for n in GROWTH_SIZES)
        return (large - small) / (GROWTH_SIZES[1] - GROWTH_SIZES[0]) * 1000


async def sequential(conn: Conn, send: Send, n: int) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        response = await send(conn)
        times.append((time.perf_counter() - started) * 1000)
        check(response)
    return times


async def load(
    server: Server, name: str, args: argparse.Namespace, seconds: float | None = None
) -> tuple[list[float], float]:
    """``args.concurrency`` fresh keep-alive connections (an idle one may have been
    closed by the server meanwhile) each send one request after the other for
    ``seconds`` (``args.duration``)."""
    kind = Connection if args.client == "lean" else HttpxConnection
    connections = [await kind.open(server.base_url) for _ in range(args.concurrency)]
    send, cap = server.sends[name], args.max_load_requests
    latencies: list[float] = []
    deadline = time.perf_counter() + (seconds or args.duration)

    async def worker(conn: Conn) -> None:
        while time.perf_counter() < deadline and len(latencies) < cap:
            started = time.perf_counter()
            response = await send(conn)
            latencies.append((time.perf_counter() - started) * 1000)
            check(response)

    try:
        started = time.perf_counter()
        await asyncio.gather(*(worker(conn) for conn in connections))
        return latencies, time.perf_counter() - started
    finally:
        for conn in connections:
            await conn.close()


async def latencies(servers: list[Server], args: argparse.Namespace) -> dict[str, list[float]]:
    """The page's latency at each server, one request to each in turn (app, exact, peer,
    app, ...), one keep-alive client each: every server answers under the same moment's
    conditions (this VM's speed moves by tens of percent over seconds), so their p50s
    compare request for request."""
    kind = Connection if args.client == "lean" else HttpxConnection
    clients = [await kind.open(server.base_url) for server in servers]
    times: dict[str, list[float]] = {server.name: [] for server in servers}
    try:
        for server, client in zip(servers, clients, strict=True):
            await sequential(client, server.sends["page"], args.warmup)
        for _ in range(args.requests):
            for server, client in zip(servers, clients, strict=True):
                times[server.name] += await sequential(client, server.sends["page"], 1)
    finally:
        for client in clients:
            await client.close()
    return times


async def measure(server: Server, args: argparse.Namespace, latencies_ms: list[float]) -> Figures:
    figures = Figures(latencies_ms=latencies_ms)
    kind = Connection if args.client == "lean" else HttpxConnection
    client = await kind.open(server.base_url)
    pid = server.process.pid
    try:
        for size in GROWTH_SIZES:
            send = server.sends[f"rows{size}"]
            await sequential(client, send, 10)
            cpu = tree_cpu_seconds(pid)
            await sequential(client, send, args.growth_requests)
            per = (tree_cpu_seconds(pid) - cpu) / args.growth_requests * 1000
            figures.cpu_per_request_ms[f"rows{size}"] = per
        if "counts" in server.sends:
            counted = await sequential(client, server.sends["counts"], args.requests)
            figures.counts_p50_ms = pct(counted, 0.5)
    finally:
        await client.close()
    await load(server, "page", args, seconds=1.0)  # the pools at their size (not measured)
    cpu, sessions = tree_cpu_seconds(pid), await pg_sessions(args)
    figures.load_latencies_ms, figures.load_seconds = await load(server, "page", args)
    figures.load_cpu_ms = (
        (tree_cpu_seconds(pid) - cpu) / max(len(figures.load_latencies_ms), 1) * 1000
    )
    await asyncio.sleep(1.0)  # PostgreSQL's statistics catch up
    figures.connections_per_s = (await pg_sessions(args) - sessions) / figures.load_seconds
    if "counts" in server.sends:
        done, seconds = await load(server, "counts", args)
        figures.counts_rps = len(done) / seconds
    return figures


async def pg_sessions(args: argparse.Namespace) -> int:
    """Sessions ever opened to the benchmark's database (pg_stat_database)."""
    await args.stats.execute("SELECT pg_stat_clear_snapshot()")
    found: int = await args.stats.fetchval(
        "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
    )
    return found


async def first_answers(server: Server) -> dict[str, bytes]:
    conn = await Connection.open(server.base_url)
    try:
        answers = {}
        for name, send in server.sends.items():
            answer = await send(conn)
            check(answer)
            answers[name] = answer.content
        return answers
    finally:
        await conn.close()


def check_answers(answers: dict[str, dict[str, bytes]]) -> None:
    """exact's answers are the app's, byte for byte; the peer's rows are the same rows."""
    for name, body in answers["app"].items():
        if answers["exact"][name] != body:
            raise RuntimeError(
                f"{name}: exact's answer is not the app's:\n{body[:400]!r}\n"
                f"{answers['exact'][name][:400]!r}"
            )
    if "peer" in answers:
        for name, body in answers["peer"].items():
            ours = orjson.loads(answers["app"][name])["data"]["enrollments"]
            theirs = orjson.loads(body)["data"]["allEnrollments"]
            mine = [
                (_pk(e["node"]["id"]), _pk(e["node"]["contact"]["id"]), e["node"]["status"])
                for e in ours["edges"]
            ]
            peer = [
                (int(e["node"]["id"]), int(e["node"]["contactByContactId"]["id"]),
                 e["node"]["status"])
                for e in theirs["edges"]
            ]  # fmt: skip
            if mine != peer or ours["pageInfo"]["hasNextPage"] != theirs["pageInfo"]["hasNextPage"]:
                raise RuntimeError(f"{name}: PostGraphile's rows are not the app's")


def _pk(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().split(":")[1])


# =========================================================================== main


async def start_servers(
    url: str, token: str, workspace_id: int, seq: int, all_shapes: dict[str, Shape],
    spec_file: str, args: argparse.Namespace,
) -> list[Server]:  # fmt: skip
    servers: list[Server] = []
    try:
        env_pool = {"BENCH_POOL": str(args.pool)} if args.pool else {}
        os.environ.update(env_pool)
        process, port, _ = await start_server(
            "bench.page", "--serve", "app", "--database-url", url, name="the app"
        )
        servers.append(
            Server("app", process, f"http://127.0.0.1:{port}", app_sends(token, seq, all_shapes))
        )
        process, port, _ = await start_server(
            "bench.page", "--serve", "exact", "--database-url", url, "--spec", spec_file,
            name="the exact server",
        )  # fmt: skip
        servers.append(
            Server("exact", process, f"http://127.0.0.1:{port}", exact_sends(seq, all_shapes))
        )
        if args.peer == "postgraphile":
            log("starting PostGraphile (installed into ~/.cache/seqgql-bench the first time)")
            process, port = await postgraphile.start(url, args.peer_pool)
            servers.append(
                Server("peer", process, f"http://127.0.0.1:{port}",
                       peer_sends(workspace_id, seq, all_shapes))
            )  # fmt: skip
        if args.workers_figure:
            for workers in (1, 2):
                process, port = await start_seqgql_serve(url, workers, args)
                servers.append(
                    Server(f"serve x{workers}", process, f"http://127.0.0.1:{port}",
                           {"page": app_sends(token, seq, all_shapes)["page"]})
                )  # fmt: skip
    except BaseException:
        for server in servers:
            await stop_process(server.process)
        raise
    return servers


async def start_seqgql_serve(
    url: str, workers: int, args: argparse.Namespace
) -> tuple[Process, int]:
    """`seqgql serve --workers N` on a free port (redis broadcast: the processes must hear
    each other)."""
    from bench.harness.servers import free_loopback_socket

    with free_loopback_socket() as sock:
        port = sock.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": url, "AUTO_MIGRATE": "false", "LOG_LEVEL": "warning",
           "BROADCAST_URL": args.redis_url, "RATE_LIMIT_WINDOW_SECONDS": "0"}  # fmt: skip
    if args.pool:
        env["DB_POOL_SIZE"] = str(args.pool)
    seqgql = os.path.join(os.path.dirname(sys.executable), "seqgql")
    process = await asyncio.create_subprocess_exec(
        seqgql, "serve", "--port", str(port), "--workers", str(workers), env=env,
        stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", trust_env=False) as c:
        for _ in range(600):
            try:
                if (await c.get("/healthz")).status_code == 200:
                    return process, port
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    await stop_process(process)
    raise RuntimeError(f"seqgql serve --workers {workers} did not start")


async def main(args: argparse.Namespace) -> None:
    per_sequence = round(args.enrollments * args.scale / args.sequences)
    specs = [SequenceSpec(per_sequence) for _ in range(args.sequences)]
    all_shapes = shapes(args.search, args.counts)
    async with scratch_database(args.postgres_url, "seqgql_bench_page") as url:
        tenant = await create_tenant(url, users=args.users)
        seq = (await generate(url, tenant, specs))[0]
        total = sum(s.enrollments for s in specs)
        log(f"{total:,} enrollments over {len(specs)} sequences")
        captured = await capture_statements(url, tenant.token, seq, all_shapes)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as spec:
            json.dump({"workspace_id": tenant.workspace_id, "pool": args.exact_pool,
                       "shapes": {n: c.to_json() for n, c in captured.items()}}, spec)  # fmt: skip
        servers = await start_servers(
            url, tenant.token, tenant.workspace_id, seq, all_shapes, spec.name, args
        )
        await settled()
        rounds: list[dict[str, Figures]] = []
        load_before = os.getloadavg()
        args.stats = await asyncpg.connect(url)
        try:
            answers = {s.name: await first_answers(s) for s in servers if s.name[0] != "s"}
            check_answers(answers)
            log("exact's answers are the app's, byte for byte" +
                ("; PostGraphile's rows are the same" if "peer" in answers else ""))  # fmt: skip
            for k in range(args.rounds):
                figures: dict[str, Figures] = {}
                paged = [s for s in servers if not s.name.startswith("serve")]
                log(f"round {k + 1}: latency, " + ", ".join(s.name for s in paged) + " in turn")
                latency = await latencies(paged, args)
                for server in servers:
                    log(f"round {k + 1}: {server.name}")
                    if server.name.startswith("serve"):
                        figures[server.name] = await measure_load_only(server, args)
                    else:
                        figures[server.name] = await measure(server, args, latency[server.name])
                rounds.append(figures)
                print_round(k + 1, figures)
        finally:
            await args.stats.close()
            for server in servers:
                await stop_process(server.process)
            os.unlink(spec.name)
        report(rounds, captured, args, total, load_before, os.getloadavg())


async def settled(most: float = 0.3, within: float = 30.0) -> None:
    """Wait until the machine is quiet (at most ``most`` cores busy over a second) or
    ``within`` seconds have passed: servers just started (node's compiler, `serve`'s
    workers) otherwise weigh on the first round, and on this VM's two cores (SMT siblings)
    another process's work raises a server's own CPU time too."""
    deadline = time.perf_counter() + within
    busy = await machine_busy(1.0)
    while busy > most and time.perf_counter() < deadline:
        busy = await machine_busy(1.0)
    log(f"servers started; the machine's cores busy over the last second: {busy:.2f}")


async def measure_load_only(server: Server, args: argparse.Namespace) -> Figures:
    figures = Figures()
    client = await Connection.open(server.base_url)
    try:
        await sequential(client, server.sends["page"], args.warmup)
    finally:
        await client.close()
    cpu = tree_cpu_seconds(server.process.pid)
    figures.load_latencies_ms, figures.load_seconds = await load(server, "page", args)
    figures.load_cpu_ms = (
        (tree_cpu_seconds(server.process.pid) - cpu) / max(len(figures.load_latencies_ms), 1) * 1000
    )
    return figures


# =========================================================================== report


def print_round(k: int, figures: dict[str, Figures]) -> None:
    print(f"\nround {k}")
    print(f"  {'server':<11}{'p50 ms':>8}{'p90 ms':>8}{'p99 ms':>8}{'req/s':>8}"
          f"{'load p50':>10}{'CPU/page':>10}{'µs/row':>8}"
          f"{'counts p50':>12}{'counts r/s':>12}{'new conn/s':>12}")  # fmt: skip
    for name, f in figures.items():
        if name.startswith("serve"):
            print(f"  {name:<11}{'':>24}{f.rps:8.0f}{pct(f.load_latencies_ms, .5):10.2f}"
                  f"{f.load_cpu_ms:8.2f}ms")  # fmt: skip
            continue
        print(f"  {name:<11}{f.p50:8.2f}{pct(f.latencies_ms, .9):8.2f}"
              f"{pct(f.latencies_ms, .99):8.2f}{f.rps:8.0f}{pct(f.load_latencies_ms, .5):10.2f}"
              f"{f.load_cpu_ms:8.2f}ms{f.row_us:8.1f}"
              f"{f.counts_p50_ms:12.2f}{f.counts_rps:12.0f}"
              f"{f.connections_per_s:12.1f}")  # fmt: skip
    sys.stdout.flush()


def span(values: list[float], fmt: str = "{:.2f}") -> str:
    low, high = min(values), max(values)
    return (
        fmt.format(low)
        if fmt.format(low) == fmt.format(high)
        else (f"{fmt.format(low)}{DASH}{fmt.format(high)}")
    )


def report(
    rounds: list[dict[str, Figures]], captured: dict[str, Any], args: argparse.Namespace,
    total: int, load_before: tuple[float, ...], load_after: tuple[float, ...],
) -> None:  # fmt: skip
    print()
    print(f"page benchmark — {total:,} enrollments; page: statuses [ACTIVE, PAUSED], steps "
          f"[1, 2], search {args.search!r}, first {PAGE_SIZE}; {len(rounds)} rounds, "
          f"servers interleaved")  # fmt: skip
    print(f"  latency: {args.requests} sequential requests to each, one to each server in "
          f"turn, on one keep-alive connection each "
          f"({args.client} client); load: {args.concurrency} connections for "
          f"{args.duration:g} s; CPU/page: the server's process CPU under load over the pages "
          f"served; µs/row: CPU per request, pages of {GROWTH_SIZES[1]} minus "
          f"{GROWTH_SIZES[0]} rows, over {GROWTH_SIZES[1] - GROWTH_SIZES[0]}")  # fmt: skip
    print(f"  load average (1, 5, 15 min) before {_loads(load_before)}, after "
          f"{_loads(load_after)}; {os.cpu_count()} cores")  # fmt: skip
    names = [n for n in rounds[0] if not n.startswith("serve")]
    print()
    print(
        "| server | p50 ms | req/s (32 conn.) | load p50 ms | CPU ms/page | CPU µs/row "
        "| new connections/s | with counts: p50 ms, req/s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in names:
        fs = [r[name] for r in rounds]
        print(f"| {name} | {span([f.p50 for f in fs])} | {span([f.rps for f in fs], '{:.0f}')} | "
              f"{span([pct(f.load_latencies_ms, .5) for f in fs], '{:.1f}')} | "
              f"{span([f.load_cpu_ms for f in fs])} | "
              f"{span([f.row_us for f in fs], '{:.1f}')} | "
              f"{span([f.connections_per_s for f in fs], '{:.1f}')} | "
              f"{span([f.counts_p50_ms for f in fs])}, "
              f"{span([f.counts_rps for f in fs], '{:.0f}')} |")  # fmt: skip
    app = [r["app"] for r in rounds]
    exact = [r["exact"] for r in rounds]
    p50_ratio = [a.p50 / e.p50 for a, e in zip(app, exact, strict=True)]
    rps_ratio = [a.rps / e.rps for a, e in zip(app, exact, strict=True)]
    print()
    print("goals (issue 15), per round:")
    rows = [
        ("server CPU per page of 50", f"≤ {GOAL_CPU_MS} ms",
         [a.load_cpu_ms for a in app], lambda v: v <= GOAL_CPU_MS, "{:.2f} ms"),
        ("p50 / exact's", f"≤ {GOAL_P50_RATIO}x", p50_ratio,
         lambda v: v <= GOAL_P50_RATIO, "{:.2f}x"),
        ("req/s at 32 connections / exact's", f"≥ {GOAL_RPS_RATIO}x", rps_ratio,
         lambda v: v >= GOAL_RPS_RATIO, "{:.2f}x"),
        ("CPU per row", f"≤ {GOAL_ROW_US:g} µs", [a.row_us for a in app],
         lambda v: v <= GOAL_ROW_US, "{:.1f} µs"),
    ]  # fmt: skip
    if "peer" in rounds[0]:
        peer = [r["peer"] for r in rounds]
        rows.append(("p50 / PostGraphile's", "< 1x", [a.p50 / p.p50 for a, p in
                     zip(app, peer, strict=True)], lambda v: v < 1, "{:.2f}x"))  # fmt: skip
        rows.append(("req/s / PostGraphile's", "> 1x", [a.rps / p.rps for a, p in
                     zip(app, peer, strict=True)], lambda v: v > 1, "{:.2f}x"))  # fmt: skip
    print("| goal | target | rounds | range | met in |")
    print("|---|---|---|---|---|")
    for label, target, values, ok, fmt in rows:
        met = sum(ok(v) for v in values)
        each = ", ".join(fmt.format(v) for v in values)
        print(f"| {label} | {target} | {each} | {span(values, fmt)} | {met} of {len(values)} |")
    if "serve x1" in rounds[0]:
        one = [r["serve x1"].rps for r in rounds]
        two = [r["serve x2"].rps for r in rounds]
        print()
        print(f"`seqgql serve --workers 2` vs `--workers 1` (redis broadcast), 32 connections: "
              f"{span(two, '{:.0f}')} vs {span(one, '{:.0f}')} req/s, ratio "
              f"{span([t / o for t, o in zip(two, one, strict=True)], '{:.2f}')}x")  # fmt: skip
    print()
    for name, shape in captured.items():
        print(f"  exact's statement for {name!r} (the app's): {' '.join(shape.sql.split())[:160]}…")


def _loads(values: tuple[float, ...]) -> str:
    return " ".join(f"{v:.2f}" for v in values)


def parse_args() -> argparse.Namespace:
    parser = argument_parser(__doc__)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply the data size (0.1 = 20,000 enrollments)"
    )
    parser.add_argument("--enrollments", type=int, default=200_000)
    parser.add_argument("--sequences", type=int, default=20)
    parser.add_argument("--users", type=int, default=5)
    parser.add_argument(
        "--search", default="ada", help="free-text part of the filter (matches ~5%% of contacts)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every server, interleaved")
    parser.add_argument(
        "--requests", type=int, default=500, help="sequential requests for the latency figures"
    )
    parser.add_argument(
        "--growth-requests", type=int, default=300,
        help="sequential requests of each page size for the CPU per row",
    )  # fmt: skip
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of concurrent load")
    parser.add_argument(
        "--max-load-requests", type=int, default=200_000,
        help="upper bound on requests in a load phase",
    )  # fmt: skip
    parser.add_argument("--counts", action="store_true",
                        help="also measure the page with totalCount and statusCounts")  # fmt: skip
    parser.add_argument("--peer", choices=["postgraphile"],
                        help="also measure PostGraphile 4.14 with the connection-filter plugin "
                        "(installed from the npm registry into ~/.cache/seqgql-bench)")  # fmt: skip
    parser.add_argument("--peer-pool", type=int, default=10,
                        help="PostGraphile's PostgreSQL connections (as the app)")  # fmt: skip
    parser.add_argument("--exact-pool", type=int, default=10,
                        help="the exact server's PostgreSQL connections")  # fmt: skip
    parser.add_argument("--pool", type=int, default=0,
                        help="the app's DB_POOL_SIZE (default: the app's own default)")  # fmt: skip
    parser.add_argument("--workers-figure", action="store_true",
                        help="also measure `seqgql serve --workers 2` against `--workers 1` "
                        "(load only; needs Redis, --redis-url)")  # fmt: skip
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--client", choices=["lean", "httpx"], default="lean",
        help="the HTTP client: a minimal keep-alive one (default) or httpx",
    )  # fmt: skip
    parser.add_argument("--serve", choices=["app", "exact"], help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not (1 <= args.requests <= 100_000 and 1 <= args.concurrency <= 256
            and 0 < args.duration <= 600 and 1 <= args.rounds <= 20):  # fmt: skip
        parser.error("--requests, --concurrency, --duration or --rounds out of range")
    return args


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.serve:
        serve_kind(arguments.serve, arguments.database_url, arguments.spec)
    else:
        asyncio.run(main(arguments))
