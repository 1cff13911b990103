"""Page benchmark: one page of the Contacts tab through the real app, against a plain
Starlette + asyncpg endpoint that serves the same 50 rows with one joined query.

A fresh PostgreSQL database (created, migrated, dropped at the end) gets 200,000
enrollments over 20 sequences (mixed statuses, 5 users). Each server runs under uvicorn
in its own process on 127.0.0.1 (the client is this process):

  latency     one client, keep-alive, N sequential requests: p50 / p90 / p99
  throughput  32 concurrent keep-alive connections for ~10 s: requests/s (+ p50/p99)

for two shapes of the query: the page alone, and the page plus totalCount and
statusCounts (the tab bar).

Run:  .venv/bin/python bench/page.py [--postgres-url URL] [--scale 0.1] [--requests 500]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import (
    DEFAULT_POSTGRES_URL,
    SequenceSpec,
    create_tenant,
    free_loopback_socket,
    generate,
    log,
    scratch_database,
)

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


def serve(kind: str, url: str) -> None:
    """The server subprocess: bind 127.0.0.1:0, print the port, serve until SIGTERM."""
    import uvicorn

    if kind == "app":
        from seqgql.app import create_app
        from seqgql.settings import Settings

        app: Any = create_app(Settings(database_url=url, auto_migrate=False, log_level="warning"))
    else:
        app = raw_app(url)
    sock = free_loopback_socket()
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


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
    import contextlib

    import asyncpg
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    state: dict[str, Any] = {}

    def gid(type_name: str, pk: int) -> str:
        return base64.b64encode(f"{type_name}:{pk}".encode()).decode()

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

    def pct(self, values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def rps(self) -> float:
        return self.load_requests / self.load_seconds if self.load_seconds else 0.0


def process_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Answer:
    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode(errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


class Connection:
    """A minimal HTTP/1.1 keep-alive client connection: one request at a time, a
    Content-Length body. The latency figures are the server's, not a client library's
    (httpx spends ~1-2 ms of this machine's CPU per request; ``--client httpx`` uses it)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, base_url: str) -> Connection:
        host, port = base_url.removeprefix("http://").split(":")
        return cls(*await asyncio.open_connection(host, int(port)))

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> Answer:
        head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self.writer.write(head.encode() + b"\r\n" + body)
        raw_head = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw_head.decode("latin-1").split("\r\n")
        length = None
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if length is None:
            raise RuntimeError(f"no Content-Length in the answer: {lines[:3]}")
        return Answer(int(lines[0].split()[1]), await self.reader.readexactly(length))

    async def close(self) -> None:
        self.writer.close()


class HttpxConnection:
    """The same interface over an httpx client (``--client httpx``)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    @classmethod
    async def open(cls, base_url: str) -> HttpxConnection:
        return cls(httpx.AsyncClient(base_url=base_url, trust_env=False, timeout=60))

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> Answer:
        response = await self.client.request(method, path, content=body or None, headers=headers)
        return Answer(response.status_code, response.content)

    async def close(self) -> None:
        await self.client.aclose()


Conn = Connection | HttpxConnection
Send = Callable[[Conn], Awaitable[Answer]]


def check(response: Answer) -> None:
    if response.status_code != 200 or b'"errors"' in response.content:
        raise RuntimeError(f"bad answer {response.status_code}: {response.text[:500]}")


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


async def start_server(kind: str, url: str) -> tuple[asyncio.subprocess.Process, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--serve", kind, "--database-url", url,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 60)
    if not line.startswith(b"PORT "):
        raise RuntimeError(f"{kind} server did not start: {line!r}")
    base_url = f"http://127.0.0.1:{int(line.split()[1])}"
    async with httpx.AsyncClient(base_url=base_url, trust_env=False) as client:
        for _ in range(300):
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return process, base_url
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{kind} server did not answer /healthz")


async def stop_server(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()
            await process.wait()


# =========================================================================== main


async def statements_per_request(url: str, token: str, body: dict[str, Any]) -> list[str]:
    """The SQL one GraphQL request sends (in-process, through httpx's ASGI transport)."""
    from sqlalchemy import event

    from seqgql.app import create_app
    from seqgql.settings import Settings

    app = create_app(Settings(database_url=url, auto_migrate=False))
    engine = app.state.db.engine.sync_engine
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(" ".join(a[2].split())))
    checkouts: list[int] = []
    event.listen(engine.pool, "checkout", lambda *a: checkouts.append(1))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            headers = {"Authorization": f"Bearer {token}"}
            check(await client.post("/graphql", json=body, headers=headers))  # warm
            seen.clear()
            checkouts.clear()
            check(await client.post("/graphql", json=body, headers=headers))
    finally:
        await app.state.db.dispose()
    return [f"{len(checkouts)} pool checkouts", *seen]


async def main(args: argparse.Namespace) -> None:
    from seqgql.graphql.ids import to_global_id

    per_sequence = round(args.enrollments * args.scale / args.sequences)
    specs = [SequenceSpec(per_sequence) for _ in range(args.sequences)]
    async with scratch_database(args.postgres_url, "seqgql_bench_page") as url:
        tenant = await create_tenant(url, users=args.users)
        seq_ids = await generate(url, tenant, specs)
        seq = seq_ids[0]
        flt = {"statuses": ["ACTIVE", "PAUSED"], "steps": [1, 2], "search": args.search}
        variables = {"seq": to_global_id("Sequence", seq), "filter": flt, "first": PAGE_SIZE}
        import asyncpg

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
            process, base_url = await start_server(kind, url)
            try:
                sends = {"healthz": health_send}
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
                await stop_server(process)

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
        print(f"  {kind:<8}{name:<13}{f.pct(f.latencies_ms, .5):8.2f}"
              f"{f.pct(f.latencies_ms, .9):8.2f}{f.pct(f.latencies_ms, .99):8.2f}"
              f"{f.rps:9.0f}{f.pct(f.load_latencies_ms, .5):10.1f}"
              f"{f.pct(f.load_latencies_ms, .99):10.1f}"
              f"{f.server_cpu:8.0%}{f.client_cpu:9.0%}")  # fmt: skip
    print("  (srv/cli CPU: share of one core used by the server / this client process during the"
          " load phase;\n   a client near 100% means the client, not the server, set that"
          " req/s: a lower bound)")  # fmt: skip
    print()
    for name in QUERIES:
        app, raw = results[("app", name)], results[("raw", name)]
        p50 = app.pct(app.latencies_ms, 0.5)
        verdict = "meets" if p50 < GOAL_P50_MS else "MISSES"
        print(f"  {name:<12} app/raw: p50 x{p50 / raw.pct(raw.latencies_ms, .5):.1f}, "
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
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="server to create the scratch database on (loopback only)",
    )
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
        serve(arguments.serve, arguments.database_url)
    else:
        asyncio.run(main(arguments))
