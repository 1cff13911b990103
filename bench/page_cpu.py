"""The page's CPU in process: bench/page.py's POST of the Contacts tab's page driven
through the app's ASGI callable (from create_app, with a fake receive and send), layer by
layer, each timed by ``time.process_time`` over thousands of calls (the least of several
batches: other load only adds).

Unless ``--real-database``, asyncpg's pool hands out a connection that answers each
statement (and arguments) with the records the real one sent the first time: what is
timed is the Python above the driver (the part the app adds to any server's), not the
database's round trip. The layers, each inside the one before:

  app        the whole ASGI app: Starlette's middleware, the /graphql gate, the view
  gate       the gate (body, token) and the view
  view       the view: the plan's lookup, the charge, metrics, the answer's JSON
  plan       the plan's run (PagePlan.run): arguments, the page's read, its writing

for pages of 10 and 100 rows (the fixed cost and the cost per row) and bench/page.py's
page. ``--profile FILE`` writes cProfile's stats (process time) of the app layer.

Run:  .venv/bin/python -m bench.page_cpu [--postgres-url URL] [--calls 5000]
      [--real-database] [--profile FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg

from bench.harness.report import log
from bench.harness.scratch import (
    SequenceSpec,
    argument_parser,
    create_tenant,
    generate,
    scratch_database,
)
from bench.harness.servers import make_app
from bench.page import GROWTH_SIZES, shapes

BATCH = 500
Call = Callable[[], Awaitable[Any]]


@contextlib.contextmanager
def recorded_records() -> Any:
    """asyncpg's pool acquire: a connection whose ``fetch`` gives back, for each
    statement, what the real one read the first time."""
    real = asyncpg.pool.Pool.acquire
    kept: dict[tuple[Any, ...], list[Any]] = {}

    class Recorded:
        def __init__(self, pool: asyncpg.Pool) -> None:
            self.pool = pool

        async def fetch(self, sql: str, *args: Any) -> list[Any]:
            key = (sql, *args)
            if key not in kept:
                async with real(self.pool) as conn:
                    kept[key] = await conn.fetch(sql, *args)
            return kept[key]

    class Acquired:
        def __init__(self, pool: asyncpg.Pool) -> None:
            self.pool = pool

        async def __aenter__(self) -> Recorded:
            return Recorded(self.pool)

        async def __aexit__(self, *_: object) -> None:
            return None

    asyncpg.pool.Pool.acquire = lambda self, **_: Acquired(self)  # type: ignore[method-assign]
    try:
        yield
    finally:
        asyncpg.pool.Pool.acquire = real  # type: ignore[method-assign]


def asgi_call(app: Any, body: bytes, headers: list[tuple[bytes, bytes]], **scoped: Any) -> Call:
    """One POST /graphql of ``body`` to ``app``, as uvicorn would call it."""

    async def call() -> list[dict[str, Any]]:
        scope = {
            "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1", "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 50000), "scheme": "http", "method": "POST",
            "root_path": "", "path": "/graphql", "raw_path": b"/graphql",
            "query_string": b"", "headers": list(headers), "state": {}, **scoped,
        }  # fmt: skip
        sent: list[dict[str, Any]] = []
        given = False

        async def receive() -> dict[str, Any]:
            nonlocal given
            if given:
                await asyncio.Event().wait()  # the client stays
            given = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(scope, receive, send)
        return sent

    return call


async def cpu_us(call: Call, calls: int) -> float:
    """The least CPU per call over batches of ``BATCH`` calls, in microseconds."""
    for _ in range(min(calls, 300)):
        await call()
    gc.collect()
    best = float("inf")
    for _ in range(max(calls // BATCH, 1)):
        started = time.process_time()
        for _ in range(BATCH):
            await call()
        best = min(best, (time.process_time() - started) / BATCH * 1e6)
    return best


async def layers(app: Any, token: str, seq: int, shape_name: str) -> dict[str, Call]:
    from seqgql.graphql.request_scope import ACTOR_SCOPE_KEY, BODY_SCOPE_KEY

    shape = shapes("ada", False)[shape_name]
    payload = {"query": shape.query, "variables": shape.variables(seq)}
    body = json.dumps(payload).encode()
    headers = [(b"host", b"bench"), (b"content-length", str(len(body)).encode()),
               (b"authorization", f"Bearer {token}".encode()),
               (b"content-type", b"application/json")]  # fmt: skip
    gate = app.router.routes[0].app  # Route("/graphql", the gate)
    view = gate.view
    actor = await view.tokens.authenticate(token)
    plan = view.page_plans.get(payload["query"], None)
    if plan is None:
        raise RuntimeError("the page's document is not planned (GRAPHQL_FAST_PATH off?)")
    first = await asgi_call(app, body, headers)()
    if first[0]["status"] != 200 or b'"errors"' in first[1]["body"]:
        raise RuntimeError(f"the page did not answer: {first}")
    variables = payload["variables"]
    return {
        "app": asgi_call(app, body, headers),
        "gate": asgi_call(gate, body, headers),
        "view": asgi_call(view, body, headers,
                          **{ACTOR_SCOPE_KEY: actor, BODY_SCOPE_KEY: payload}),
        "plan": lambda: planned(plan.run(view.context_for(actor), variables)),
    }  # fmt: skip


async def planned(run: Awaitable[Any]) -> Any:
    if (data := await run) is None:
        raise RuntimeError("the plan left the page to the stock way")
    return data


@contextlib.asynccontextmanager
async def running_app(url: str) -> AsyncIterator[Any]:
    app = make_app(url)
    async with app.router.lifespan_context(app):
        yield app


async def main(args: argparse.Namespace) -> None:
    async with scratch_database(args.postgres_url, "seqgql_bench_page_cpu") as url:
        tenant = await create_tenant(url, users=5)
        seq = (await generate(url, tenant, [SequenceSpec(1000) for _ in range(20)]))[0]
        figures: dict[str, dict[str, float]] = {}
        with recorded_records() if args.stub else contextlib.nullcontext():
            async with running_app(url) as app:
                names = [f"rows{n}" for n in GROWTH_SIZES] + ["page"]
                for name in names:
                    calls = await layers(app, tenant.token, seq, name)
                    figures[name] = {k: await cpu_us(c, args.calls) for k, c in calls.items()}
                    each = ", ".join(f"{k} {v:.0f} µs" for k, v in figures[name].items())
                    log(f"{name}: {each}")
                if args.profile:
                    call = (await layers(app, tenant.token, seq, "page"))["app"]
                    profile = cProfile.Profile(time.process_time)
                    profile.enable()
                    for _ in range(args.calls):
                        await call()
                    profile.disable()
                    profile.dump_stats(args.profile)
    report(figures, args)


def report(figures: dict[str, dict[str, float]], args: argparse.Namespace) -> None:
    small, large = (f"rows{n}" for n in GROWTH_SIZES)
    span = GROWTH_SIZES[1] - GROWTH_SIZES[0]
    print()
    database = "database answers recorded" if args.stub else "real database"
    print(f"page CPU in process — {database}; the least of "
          f"{max(args.calls // BATCH, 1)} batches of {BATCH} calls")  # fmt: skip
    print("| layer | page µs | 10 rows µs | 100 rows µs | per row µs | fixed µs |")
    print("|---|---:|---:|---:|---:|---:|")
    for layer in figures["page"]:
        per_row = (figures[large][layer] - figures[small][layer]) / span
        fixed = figures[small][layer] - per_row * GROWTH_SIZES[0]
        print(f"| {layer} | {figures['page'][layer]:.0f} | {figures[small][layer]:.0f} | "
              f"{figures[large][layer]:.0f} | {per_row:.2f} | {fixed:.0f} |")  # fmt: skip


def parse_args() -> argparse.Namespace:
    parser = argument_parser(__doc__)
    parser.add_argument("--calls", type=int, default=5000, help="calls timed per layer and page")
    parser.add_argument("--real-database", dest="stub", action="store_false",
                        help="time the database's round trips too")  # fmt: skip
    parser.add_argument("--profile", help="write cProfile's stats of the app layer here")
    args = parser.parse_args()
    if not 1 <= args.calls <= 1_000_000:
        parser.error("--calls out of range")
    return args


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
