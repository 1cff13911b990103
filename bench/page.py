"""Page benchmark: one page of the Contacts tab through the real app, against a plain
Starlette + asyncpg endpoint that serves the same 50 rows with one joined query.

A fresh PostgreSQL database (created, migrated, dropped at the end) gets 200,000
enrollments over 20 sequences (mixed statuses, 5 users). Each server runs under uvicorn
in its own process on 127.0.0.1 (the client is this process):

  latency     one client, keep-alive, N sequential requests: p50 / p90 / p99
  throughput  32 concurrent keep-alive connections for ~10 s: requests/s (+ p50/p99)

for two shapes of the query: the page alone, and the page plus totalCount and
statusCounts (the tab bar).

Run:  .venv/bin/python -m bench.page [--postgres-url URL] [--scale 0.1] [--requests 500]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import statistics
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
import httpx

from bench.harness.global_id import to_global_id
from bench.harness.http_client import Answer, Conn, Connection, HttpxConnection, Send, check
from bench.harness.measure import StatementTimer, process_cpu_seconds
from bench.harness.report import log, pct
from bench.harness.scratch import (
    SequenceSpec,
    argument_parser,
    create_tenant,
    generate,
    scratch_database,
)
from bench.harness.servers import make_app, serve, start_server, stop_process

GOAL_P50_MS = 10.0
PAGE_SIZE = 50

NODE_FIELDS = """
      cursor
      node {
        id status reason currentStep enrolledAt nextRunAt
        contact { id firstName lastName email }
        enrolledBy { name }
      }"""
QUERIES = {
    "page": "query Page($seq: ID!, $filter: EnrollmentFilter, $first: Int) {\n"
    "  enrollments(sequenceId: $seq, filter: $filter, first: $first) {\n"
    f"    edges {{{NODE_FIELDS}\n    }}\n"
    "    pageInfo { hasNextPage endCursor }\n  }\n}",
    "page+counts": "query PageCounts($seq: ID!, $filter: EnrollmentFilter, $first: Int) {\n"
    "  enrollments(sequenceId: $seq, filter: $filter, first: $first) {\n"
    "    totalCount statusCounts { status count }\n"
    f"    edges {{{NODE_FIELDS}\n    }}\n"
    "    pageInfo { hasNextPage endCursor }\n  }\n}",
}
STATUSES = ["ACTIVE", "PAUSED", "FINISHED", "BOUNCED", "FAILED", "NOT_SENT", "OPTED_OUT",
            "OMITTED", "REMOVED"]  # fmt: skip


# =========================================================================== servers


def serve_kind(kind: str, url: str) -> None:
    """The server subprocess (``--serve app|raw``): serve until SIGTERM."""
    serve(make_app(url) if kind == "app" else raw_app(url))


RAW_PAGE_SQL = r"""
SELECT e.id, e.status, e.reason, e.current_step, e.enrolled_at, e.next_run_at,
       c.id AS contact_id, c.first_name, c.last_name, c.email, u.name AS enrolled_by_name
FROM enrollments e
JOIN contacts c ON c.id = e.contact_id AND c.workspace_id = $1
LEFT JOIN users u ON u.id = e.enrolled_by_id AND u.workspace_id = $1
WHERE e.workspace_id = $1 AND e.sequence_id = $2
  AND e.status = ANY($3::varchar[]) AND e.current_step = ANY($4::int[])
  AND e.contact_id IN (SELECT id FROM contacts WHERE search_text LIKE $5 ESCAPE '\')
ORDER BY e.enrolled_at DESC, e.id DESC
LIMIT $6
"""
RAW_COUNTS_SQL = r"""
SELECT e.status, count(*) FROM enrollments e
WHERE e.workspace_id = $1 AND e.sequence_id = $2 AND e.current_step = ANY($3::int[])
  AND e.contact_id IN (SELECT id FROM contacts WHERE search_text LIKE $4 ESCAPE '\')
GROUP BY e.status
"""


def raw_app(url: str) -> Any:
    """The baseline: no GraphQL, no ORM, no auth; one joined query (plus the counts query
    when asked), the same JSON shape, global ids and cursors as the GraphQL answer."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    state: dict[str, Any] = {}
    gid = to_global_id

    def cursor(enrolled_at: datetime, pk: int) -> str:
        raw = json.dumps(["ENROLLED_AT", "DESC", enrolled_at.isoformat(), pk])
        return base64.urlsafe_b64encode(raw.encode()).decode()

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        state["pool"] = await asyncpg.create_pool(url, min_size=10, max_size=20)
        state["workspace_id"] = await state["pool"].fetchval("SELECT min(id) FROM workspaces")
        try:
            yield
        finally:
            await state["pool"].close()

    async def page(request: Request) -> Response:
        body = await request.json()
        variables = body["variables"]
        flt = variables["filter"]
        _, seq = base64.b64decode(variables["seq"]).decode().split(":")
        size = int(variables.get("first") or PAGE_SIZE)
        pattern = "%" + flt["search"].lower().replace("\\", "\\\\").replace("%", "\\%") + "%"
        ws = state["workspace_id"]
        async with state["pool"].acquire() as conn:
            rows = await conn.fetch(
                RAW_PAGE_SQL, ws, int(seq), flt["statuses"], flt["steps"], pattern, size + 1
            )
            counts = None
            if request.query_params.get("counts"):
                counts = dict(await conn.fetch(RAW_COUNTS_SQL, ws, int(seq), flt["steps"], pattern))
        edges = [
            {
                "cursor": cursor(r["enrolled_at"], r["id"]),
                "node": {
                    "id": gid("Enrollment", r["id"]),
                    "status": r["status"],
                    "reason": r["reason"],
                    "currentStep": r["current_step"],
                    "enrolledAt": iso(r["enrolled_at"]),
                    "nextRunAt": iso(r["next_run_at"]),
                    "contact": {
                        "id": gid("Contact", r["contact_id"]),
                        "firstName": r["first_name"],
                        "lastName": r["last_name"],
                        "email": r["email"],
                    },
                    "enrolledBy": {"name": r["enrolled_by_name"]}
                    if r["enrolled_by_name"] is not None
                    else None,
                },
            }
            for r in rows[:size]
        ]
        result: dict[str, Any] = {
            "edges": edges,
            "pageInfo": {
                "hasNextPage": len(rows) > size,
                "endCursor": edges[-1]["cursor"] if edges else None,
            },
        }
        if counts is not None:
            wanted = set(flt["statuses"])
            result["totalCount"] = sum(n for s, n in counts.items() if s in wanted)
            result["statusCounts"] = [{"status": s, "count": counts.get(s, 0)} for s in STATUSES]
        return JSONResponse({"data": {"enrollments": result}})

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[Route("/page", page, methods=["POST"]), Route("/healthz", healthz)],
        lifespan=lifespan,
    )


# =========================================================================== client


@dataclass
class Figures:
    latencies_ms: list[float] = field(default_factory=list)
    load_latencies_ms: list[float] = field(default_factory=list)
    load_requests: int = 0
    load_seconds: float = 0.0
    server_cpu: float = 0.0  # fraction of one core during the load phase
    client_cpu: float = 0.0

    @property
    def rps(self) -> float:
        return self.load_requests / self.load_seconds if self.load_seconds else 0.0


async def measure(base_url: str, send: Send, server_pid: int, args: argparse.Namespace) -> Figures:
    figures = Figures()
    kind = Connection if args.client == "lean" else HttpxConnection
    connections = [await kind.open(base_url) for _ in range(args.concurrency)]
    try:
        client = connections[0]
        for _ in range(args.warmup):
            check(await send(client))
        for _ in range(args.requests):
            started = time.perf_counter()
            response = await send(client)
            figures.latencies_ms.append((time.perf_counter() - started) * 1000)
            check(response)

        deadline = time.perf_counter() + args.duration
        cap = args.max_load_requests
        done = 0

        async def worker(conn: Conn) -> None:
            nonlocal done
            while time.perf_counter() < deadline and done < cap:
                done += 1
                started = time.perf_counter()
                response = await send(conn)
                figures.load_latencies_ms.append((time.perf_counter() - started) * 1000)
                check(response)

        server_cpu0, client_cpu0 = process_cpu_seconds(server_pid), time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(worker(conn) for conn in connections))
        figures.load_seconds = time.perf_counter() - started
        figures.load_requests = len(figures.load_latencies_ms)
        figures.server_cpu = (process_cpu_seconds(server_pid) - server_cpu0) / figures.load_seconds
        figures.client_cpu = (time.process_time() - client_cpu0) / figures.load_seconds
    finally:
        for conn in connections:
            await conn.close()
    return figures


# =========================================================================== main


async def statements_per_request(url: str, token: str, body: dict[str, Any]) -> list[str]:
    """The SQL one GraphQL request sends (in-process, through httpx's ASGI transport)."""
    from sqlalchemy import event

    app = make_app(url)
    timer = StatementTimer(app.state.db.engine)
    checkouts: list[int] = []
    event.listen(app.state.db.engine.sync_engine.pool, "checkout", lambda *a: checkouts.append(1))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            headers = {"Authorization": f"Bearer {token}"}
            check(await client.post("/graphql", json=body, headers=headers))  # warm
            timer.start()
            checkouts.clear()
            check(await client.post("/graphql", json=body, headers=headers))
            seen = [" ".join(statement.split()) for statement, _, _ in timer.stop()]
    finally:
        await app.state.db.dispose()
    return [f"{len(checkouts)} pool checkouts", *seen]


async def main(args: argparse.Namespace) -> None:
    per_sequence = round(args.enrollments * args.scale / args.sequences)
    specs = [SequenceSpec(per_sequence) for _ in range(args.sequences)]
    async with scratch_database(args.postgres_url, "seqgql_bench_page") as url:
        tenant = await create_tenant(url, users=args.users)
        seq_ids = await generate(url, tenant, specs)
        seq = seq_ids[0]
        flt = {"statuses": ["ACTIVE", "PAUSED"], "steps": [1, 2], "search": args.search}
        variables = {"seq": to_global_id("Sequence", seq), "filter": flt, "first": PAGE_SIZE}
        pg = await asyncpg.connect(url)
        try:
            matching = await pg.fetchval(
                "SELECT count(*) FROM enrollments e JOIN contacts c ON c.id = e.contact_id "
                "WHERE e.sequence_id = $1 AND e.status = ANY($2::varchar[]) "
                "AND e.current_step = ANY($3::int[]) AND c.search_text LIKE $4",
                seq, flt["statuses"], flt["steps"], f"%{args.search.lower()}%",
            )  # fmt: skip
        finally:
            await pg.close()
        total = sum(s.enrollments for s in specs)
        log(f"{total:,} enrollments over {len(specs)} sequences; the filter matches "
            f"{matching:,} of sequence {seq}'s {per_sequence:,}")  # fmt: skip
        if matching <= PAGE_SIZE:
            log("warning: the filter matches no more than one page; try another --search")

        bodies = {name: {"query": q, "variables": variables} for name, q in QUERIES.items()}
        sql = {
            name: await statements_per_request(url, tenant.token, body)
            for name, body in bodies.items()
        }
        auth = {"Authorization": f"Bearer {tenant.token}"}

        def graphql_send(name: str) -> Send:
            body = json.dumps(bodies[name]).encode()
            headers = {**auth, "content-type": "application/json"}
            return lambda conn: conn.request("POST", "/graphql", body, headers)

        def raw_send(name: str) -> Send:
            body = json.dumps(bodies[name]).encode()
            path = "/page?counts=1" if name == "page+counts" else "/page"
            headers = {"content-type": "application/json"}
            return lambda conn: conn.request("POST", path, body, headers)

        def health_send(conn: Conn) -> Awaitable[Answer]:
            return conn.request("GET", "/healthz")

        results: dict[tuple[str, str], Figures] = {}
        answers: dict[tuple[str, str], Any] = {}
        for kind in ("app", "raw"):
            process, port, _ = await start_server(
                "bench.page", "--serve", kind, "--database-url", url, name=f"{kind} server"
            )
            base_url = f"http://127.0.0.1:{port}"
            try:
                sends: dict[str, Send] = {"healthz": health_send}
                for name in QUERIES:
                    sends[name] = (graphql_send if kind == "app" else raw_send)(name)
                conn = await Connection.open(base_url)
                try:
                    for name in QUERIES:
                        answers[(kind, name)] = (await sends[name](conn)).json()
                finally:
                    await conn.close()
                for name, send in sends.items():
                    log(f"{kind} {name}: measuring")
                    results[(kind, name)] = await measure(base_url, send, process.pid, args)
            finally:
                await stop_process(process)

        for name in QUERIES:
            app_data = answers[("app", name)]["data"]["enrollments"]
            raw_data = answers[("raw", name)]["data"]["enrollments"]
            if app_data != raw_data:
                raise RuntimeError(f"{name}: the two servers disagree:\n{app_data}\n{raw_data}")
        report(results, sql, args, total, matching)


def report(
    results: dict[tuple[str, str], Figures],
    sql: dict[str, list[str]],
    args: argparse.Namespace,
    total: int,
    matching: int,
) -> None:
    print()
    print(
        f"page benchmark — {total:,} enrollments; filter statuses [ACTIVE, PAUSED], steps "
        f"[1, 2], search {args.search!r}: {matching:,} rows match, first: {PAGE_SIZE}"
    )
    print("  (both servers: uvicorn, uvloop + httptools, 1 worker, no access log; the raw one "
          "is identical JSON, verified)")  # fmt: skip
    print(f"  latency: {args.requests} sequential requests, 1 client ({args.client}), keep-alive; "
          f"load: {args.concurrency} connections for {args.duration:g} s")  # fmt: skip
    print()
    header = (
        f"  {'server':<8}{'query':<13}{'p50 ms':>8}{'p90 ms':>8}{'p99 ms':>8}"
        f"{'req/s':>9}{'load p50':>10}{'load p99':>10}{'srv CPU':>9}{'cli CPU':>9}"
    )
    print(header)
    for (kind, name), f in results.items():
        print(f"  {kind:<8}{name:<13}{pct(f.latencies_ms, .5):8.2f}"
              f"{pct(f.latencies_ms, .9):8.2f}{pct(f.latencies_ms, .99):8.2f}"
              f"{f.rps:9.0f}{pct(f.load_latencies_ms, .5):10.1f}"
              f"{pct(f.load_latencies_ms, .99):10.1f}"
              f"{f.server_cpu:8.0%}{f.client_cpu:9.0%}")  # fmt: skip
    print("  (srv/cli CPU: share of one core used by the server / this client process during the"
          " load phase;\n   a client near 100% means the client, not the server, set that"
          " req/s: a lower bound)")  # fmt: skip
    print()
    for name in QUERIES:
        app, raw = results[("app", name)], results[("raw", name)]
        p50 = pct(app.latencies_ms, 0.5)
        verdict = "meets" if p50 < GOAL_P50_MS else "MISSES"
        print(f"  {name:<12} app/raw: p50 x{p50 / pct(raw.latencies_ms, .5):.1f}, "
              f"req/s x{app.rps / raw.rps:.2f};  app p50 {p50:.2f} ms {verdict} the goal "
              f"(< {GOAL_P50_MS:g} ms)")  # fmt: skip
    for name, statements in sql.items():
        print()
        print(
            f"  SQL of one GraphQL '{name}' request ({statements[0]}, "
            f"{len(statements) - 1} statements):"
        )
        for statement in statements[1:]:
            print(f"    {statement[:150]}{'…' if len(statement) > 150 else ''}")
    print(f"\n  mean of {statistics.mean(results[('app', 'page')].latencies_ms):.2f} ms "
          f"(app page) vs {statistics.mean(results[('raw', 'page')].latencies_ms):.2f} ms "
          "(raw page)")  # fmt: skip


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
    parser.add_argument(
        "--requests", type=int, default=500, help="sequential requests for the latency figures"
    )
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of concurrent load")
    parser.add_argument(
        "--max-load-requests",
        type=int,
        default=200_000,
        help="upper bound on requests in the load phase",
    )
    parser.add_argument(
        "--client",
        choices=["lean", "httpx"],
        default="lean",
        help="the HTTP client: a minimal keep-alive one (default) or httpx",
    )
    parser.add_argument("--serve", choices=["app", "raw"], help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)  # fmt: skip
    args = parser.parse_args()
    if not (1 <= args.requests <= 100_000 and 1 <= args.concurrency <= 256
            and 0 < args.duration <= 600):  # fmt: skip
        parser.error("--requests, --concurrency or --duration out of range")
    return args


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.serve:
        serve_kind(arguments.serve, arguments.database_url)
    else:
        asyncio.run(main(arguments))
