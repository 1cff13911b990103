"""Bulk pause benchmark: the pauseEnrollments mutation against the hand-written SQL, and
undoing it (undoBulkOperation) against the pause it undoes.

On a fresh PostgreSQL database (created, migrated, dropped at the end) holding
1,000,000 enrollments over 100 sequences, three sequences hold 100,000 ACTIVE
enrollments each (same shape, interleaved on disk with everything else). Timed:

  (a) pauseEnrollments(input: {selection: {sequenceId, filter: {statuses: [ACTIVE]}}})
      over HTTP against the real app served by uvicorn on 127.0.0.1;
  (b) the same change as one raw UPDATE (same columns, same predicate);
  (c) that raw UPDATE plus an INSERT ... SELECT of one event row each (gapless numbers),
      the hand-written reference for what the mutation has to do;
  (d) undoBulkOperation of (a) over HTTP: every row back to ACTIVE with its events (the
      goal: within 2x of (a)).

Run:  .venv/bin/python -m bench.bulk [--postgres-url URL] [--scale 0.1] [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx

from bench.harness.global_id import from_global_id, to_global_id
from bench.harness.measure import StatementTimer
from bench.harness.report import log, short_sql
from bench.harness.scratch import (
    SequenceSpec,
    Tenant,
    argument_parser,
    create_tenant,
    generate,
    require,
    scratch_database,
)
from bench.harness.servers import make_app, serving_in_process

GOAL_RATIO = 2.0

UNDO = """
mutation Undo($input: UndoBulkOperationInput!) {
  undoBulkOperation(input: $input) {
    changedCount skipped { reason count } userErrors { field code message }
  }
}
"""

PAUSE = """
mutation Pause($input: PauseEnrollmentsInput!) {
  pauseEnrollments(input: $input) {
    changedCount dryRun bulkOperationId
    skipped { reason count }
    userErrors { field code message }
  }
}
"""

RAW_SET = (
    "status = 'PAUSED', reason = 'MANUAL', resume_at = NULL, next_run_at = NULL, "
    "version = e.version + 1, updated_at = now()"
)
RAW_WHERE = "e.workspace_id = $1 AND e.sequence_id = $2 AND e.status IN ('ACTIVE', 'NOT_SENT')"


@dataclass
class Round:
    rows: int
    mutation: float = 0.0
    raw: float = 0.0
    raw_commit: float = 0.0
    raw_events: float = 0.0
    undo: float = 0.0
    undo_statements: list[tuple[str, float, int]] = field(default_factory=list)
    statements: list[tuple[str, float, int]] = field(default_factory=list)
    raw_events_parts: list[tuple[str, float]] = field(default_factory=list)


# --------------------------------------------------------------------------- the three runs


async def prepare(pg: asyncpg.Connection, ws: int, seq: int) -> None:
    """Same starting point for every run: the previous run's dead tuples vacuumed away
    (their pages are shared with every sequence), no pending checkpoint work, rows read
    once."""
    await pg.execute("VACUUM enrollments, events, sequences")
    await pg.execute("CHECKPOINT")
    await pg.fetchval(
        "SELECT count(*) + sum(version) FROM enrollments WHERE workspace_id = $1 "
        "AND sequence_id = $2",
        ws,
        seq,
    )


async def run_mutation(
    client: httpx.AsyncClient, timer: StatementTimer, seq: int
) -> tuple[float, dict[str, Any], list[tuple[str, float, int]]]:
    variables = {
        "input": {
            "selection": {
                "sequenceId": to_global_id("Sequence", seq),
                "filter": {"statuses": ["ACTIVE"]},
            }
        }
    }
    timer.start()
    started = time.perf_counter()
    response = await client.post("/graphql", json={"query": PAUSE, "variables": variables})
    elapsed = time.perf_counter() - started
    statements = timer.stop()
    response.raise_for_status()
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(f"mutation failed: {json.dumps(body['errors'])}")
    payload = body["data"]["pauseEnrollments"]
    if payload["userErrors"]:
        raise RuntimeError(f"mutation refused: {payload['userErrors']}")
    return elapsed, payload, statements


async def run_undo(client: httpx.AsyncClient, operation: str, expected: int) -> float:
    variables = {"input": {"bulkOperationId": operation}}
    started = time.perf_counter()
    response = await client.post("/graphql", json={"query": UNDO, "variables": variables})
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(f"undo failed: {json.dumps(body['errors'])}")
    payload = body["data"]["undoBulkOperation"]
    require(payload["changedCount"] == expected and not payload["userErrors"], str(payload))
    return elapsed


async def run_raw(pg: asyncpg.Connection, ws: int, seq: int) -> tuple[float, float, int]:
    started = time.perf_counter()
    tx = pg.transaction()
    await tx.start()
    status = await pg.execute(f"UPDATE enrollments e SET {RAW_SET} WHERE {RAW_WHERE}", ws, seq)
    before_commit = time.perf_counter()
    await tx.commit()
    done = time.perf_counter()
    return done - started, done - before_commit, int(status.split()[-1])


async def run_raw_events(
    pg: asyncpg.Connection, ws: int, user_id: int, seq: int
) -> tuple[float, int, int, list[tuple[str, float]]]:
    parts: list[tuple[str, float]] = []
    started = mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        parts.append((name, now - mark))
        mark = now

    tx = pg.transaction()
    await tx.start()
    base = await pg.fetchval(
        "SELECT last_event_number FROM sequences WHERE id = $1 FOR UPDATE", seq
    )
    op_id = await pg.fetchval(
        "INSERT INTO bulk_operations (workspace_id, kind, actor_id, changed_count, created_at) "
        "VALUES ($1, 'PAUSE', $2, 0, now()) RETURNING id",
        ws,
        user_id,
    )
    lap("lock sequence + bulk_operations row")
    status = await pg.execute(
        f"""
        WITH old AS (
            SELECT e.id, e.status, e.reason FROM enrollments e WHERE {RAW_WHERE}
        ), upd AS (
            UPDATE enrollments e SET {RAW_SET}
            FROM old WHERE e.id = old.id
            RETURNING e.id, e.workspace_id, e.sequence_id, old.status, old.reason
        )
        INSERT INTO events (workspace_id, sequence_id, number, enrollment_id, from_status,
                            from_reason, to_status, to_reason, actor_id, bulk_operation_id, at)
        SELECT workspace_id, sequence_id, $3::bigint + row_number() OVER (ORDER BY id), id,
               status, reason, 'PAUSED', 'MANUAL', $4, $5, now()
        FROM upd
        """,
        ws,
        seq,
        base,
        user_id,
        op_id,
    )
    count = int(status.split()[-1])
    lap("UPDATE ... RETURNING -> INSERT INTO events (one statement)")
    await pg.execute(
        "UPDATE sequences SET last_event_number = last_event_number + $2 WHERE id = $1",
        seq,
        count,
    )
    await pg.execute("UPDATE bulk_operations SET changed_count = $2 WHERE id = $1", op_id, count)
    lap("advance last_event_number + operation count")
    await tx.commit()
    lap("COMMIT")
    return time.perf_counter() - started, count, op_id, parts


async def verify(
    pg: asyncpg.Connection, seq: int, expected: int, base: int, op_id: int | None
) -> str:
    paused = await pg.fetchval(
        "SELECT count(*) FROM enrollments WHERE sequence_id = $1 AND status = 'PAUSED' "
        "AND reason = 'MANUAL'",
        seq,
    )
    require(paused == expected, f"sequence {seq}: {paused} paused, expected {expected}")
    if op_id is None:
        return f"{paused:,} PAUSED/MANUAL"
    row = await pg.fetchrow(
        "SELECT count(*) AS n, count(DISTINCT number) AS distinct_numbers, "
        "count(DISTINCT enrollment_id) AS enrollments, min(number) AS lo, max(number) AS hi "
        "FROM events WHERE sequence_id = $1 AND bulk_operation_id = $2",
        seq,
        op_id,
    )
    log_row = await pg.fetchrow(
        "SELECT count(*) AS n, max(number) AS hi, "
        "(SELECT last_event_number FROM sequences WHERE id = $1) AS last "
        "FROM events WHERE sequence_id = $1",
        seq,
    )
    require(row["n"] == expected, f"{row['n']} events written, expected {expected}")
    require(row["distinct_numbers"] == expected, f"duplicate event numbers: {dict(row)}")
    require(row["enrollments"] == expected, f"not one event per enrollment: {dict(row)}")
    require(row["lo"] == base + 1, f"numbers do not follow {base}: {dict(row)}")
    require(row["hi"] == base + expected, f"numbers have gaps: {dict(row)}")
    require(log_row["n"] == log_row["hi"] == log_row["last"], f"log not gapless: {dict(log_row)}")
    return (
        f"{paused:,} PAUSED/MANUAL; {row['n']:,} events numbered {row['lo']:,}..{row['hi']:,} "
        f"(gapless, one per enrollment); whole log 1..{log_row['hi']:,} gapless"
    )


# --------------------------------------------------------------------------- main


def layout(args: argparse.Namespace) -> tuple[list[SequenceSpec], int]:
    total = round(args.enrollments * args.scale)
    selected = round(args.selected * args.scale)
    big = 3 * args.rounds
    others = args.sequences - big
    rest = total - big * selected
    if others <= 0 or rest < others:
        raise SystemExit("not enough sequences/enrollments for this many rounds")
    specs = [SequenceSpec(selected, "active") for _ in range(big)]
    specs += [SequenceSpec(rest // others + (1 if i < rest % others else 0)) for i in range(others)]
    return specs, selected


async def run_round(
    r: int,
    client: httpx.AsyncClient,
    timer: StatementTimer,
    pg: asyncpg.Connection,
    tenant: Tenant,
    seq_ids: list[int],
    selected: int,
) -> Round:
    """Round r: (a), (b) and (c), each on its own sequence, in an order rotated by r."""
    ws, user_id = tenant.workspace_id, tenant.user_ids[0]
    trio = seq_ids[3 * r : 3 * r + 3]
    result = Round(rows=selected)
    order = ["mutation", "raw", "raw_events"]
    order = order[r % 3 :] + order[: r % 3]  # rotate which runs first
    for kind in order:
        seq = trio[["mutation", "raw", "raw_events"].index(kind)]
        await prepare(pg, ws, seq)
        base = await pg.fetchval("SELECT last_event_number FROM sequences WHERE id = $1", seq)
        if kind == "mutation":
            elapsed, payload, statements = await run_mutation(client, timer, seq)
            require(payload["changedCount"] == selected, str(payload))
            result.mutation, result.statements = elapsed, statements
            op_id = from_global_id(payload["bulkOperationId"], "BulkOperation")
            check = await verify(pg, seq, selected, base, op_id)
            await prepare(pg, ws, seq)
            timer.start()
            result.undo = await run_undo(client, payload["bulkOperationId"], selected)
            result.undo_statements = timer.stop()
            active = await pg.fetchval(
                "SELECT count(*) FROM enrollments WHERE sequence_id = $1 AND status = 'ACTIVE'",
                seq,
            )
            require(active == selected, f"after the undo {active} ACTIVE, expected {selected}")
            check += f"; undone in {result.undo:.3f}s, {active:,} ACTIVE again"
        elif kind == "raw":
            result.raw, result.raw_commit, n = await run_raw(pg, ws, seq)
            require(n == selected, f"{n} rows changed")
            check = await verify(pg, seq, selected, base, None)
        else:
            result.raw_events, n, op_id, parts = await run_raw_events(pg, ws, user_id, seq)
            result.raw_events_parts = parts
            require(n == selected, f"{n} rows changed")
            check = await verify(pg, seq, selected, base, op_id)
        log(f"round {r + 1} {kind}: {getattr(result, kind):.3f}s — {check}")
    return result


async def main(args: argparse.Namespace) -> None:
    specs, selected = layout(args)
    async with scratch_database(args.postgres_url, "seqgql_bench_bulk") as url:
        tenant = await create_tenant(url, users=1)
        seq_ids = await generate(url, tenant, specs, events=not args.no_events)
        total = sum(s.enrollments for s in specs)
        log(f"{total:,} enrollments over {len(specs)} sequences; "
            f"{3 * args.rounds} of them hold {selected:,} ACTIVE each")  # fmt: skip

        app = make_app(url)
        timer = StatementTimer(app.state.db.engine)
        pg = await asyncpg.connect(url)
        rounds: list[Round] = []
        try:
            async with (
                serving_in_process(app) as base_url,
                httpx.AsyncClient(
                    base_url=base_url,
                    headers={"Authorization": f"Bearer {tenant.token}"},
                    timeout=httpx.Timeout(1800),
                    trust_env=False,
                ) as client,
            ):
                # warm the app: pool connections, statement and schema caches (dry run
                # on a small mixed sequence: same statements, rolled back)
                warm = await client.post("/graphql", json={"query": "{ viewer { name } }"})
                warm.raise_for_status()
                small = to_global_id("Sequence", seq_ids[-1])
                selection = {"sequenceId": small, "filter": {"statuses": ["ACTIVE"]}}
                dry = {"input": {"dryRun": True, "selection": selection}}
                warm = await client.post("/graphql", json={"query": PAUSE, "variables": dry})
                warm.raise_for_status()
                for r in range(args.rounds):
                    rounds.append(await run_round(r, client, timer, pg, tenant, seq_ids, selected))
        finally:
            await pg.close()
        report(rounds, total, len(specs))


def report(rounds: list[Round], total: int, sequences: int) -> None:
    def med(values: list[float]) -> float:
        return statistics.median(values)

    mutation = med([r.mutation for r in rounds])
    raw = med([r.raw for r in rounds])
    raw_events = med([r.raw_events for r in rounds])
    rows = rounds[0].rows
    print()
    print(f"bulk pause — {total:,} enrollments, {sequences} sequences, "
          f"{len(rounds)} round(s), medians")  # fmt: skip
    print(f"  rows changed per run                 {rows:>12,}")
    print(f"  (a) pauseEnrollments over HTTP       {mutation:>12.3f} s")
    print(f"  (b) raw UPDATE (+COMMIT)             {raw:>12.3f} s   "
          f"(commit {med([r.raw_commit for r in rounds]):.3f} s)")  # fmt: skip
    print(f"  (c) raw UPDATE + events INSERT       {raw_events:>12.3f} s")
    ratio = mutation / raw
    verdict = "meets" if ratio <= GOAL_RATIO else "MISSES"
    print(f"  ratio (a)/(b)                        {ratio:>12.2f}   "
          f"{verdict} the goal (<= {GOAL_RATIO:.0f}x the raw statement)")  # fmt: skip
    print(f"  ratio (a)/(c)                        {mutation / raw_events:>12.2f}")
    undo = med([r.undo for r in rounds])
    undo_verdict = "meets" if undo / mutation <= GOAL_RATIO else "MISSES"
    print(f"  (d) undoBulkOperation of (a)         {undo:>12.3f} s")
    print(f"  ratio (d)/(a)                        {undo / mutation:>12.2f}   "
          f"{undo_verdict} the goal (<= {GOAL_RATIO:.0f}x the pause it undoes)")  # fmt: skip
    print(f"  rows/s: (a) {rows / mutation:,.0f}  (b) {rows / raw:,.0f}  "
          f"(c) {rows / raw_events:,.0f}")  # fmt: skip
    if len(rounds) > 1:
        for i, r in enumerate(rounds, 1):
            print(f"    round {i}: (a) {r.mutation:.3f}  (b) {r.raw:.3f}  (c) {r.raw_events:.3f}"
                  f"  (d) {r.undo:.3f}")  # fmt: skip

    last = rounds[-1]
    print()
    print("  (a) broken down: every SQL statement the app sent (wall time seen by the app)")
    in_sql = 0.0
    for statement, seconds, rowcount in last.statements:
        in_sql += seconds
        rc = f"{rowcount:,}" if rowcount is not None and rowcount >= 0 else "-"
        print(f"    {seconds * 1000:9.1f} ms  {rc:>9} rows  {short_sql(statement)}")
    print(f"    {in_sql * 1000:9.1f} ms  in {len(last.statements)} statements")
    rest = last.mutation - in_sql
    print(f"    {rest * 1000:9.1f} ms  outside them (HTTP, auth, GraphQL, Python, COMMIT)")
    print()
    print("  (d) broken down")
    for statement, seconds, rowcount in last.undo_statements:
        rc = f"{rowcount:,}" if rowcount is not None and rowcount >= 0 else "-"
        print(f"    {seconds * 1000:9.1f} ms  {rc:>9} rows  {short_sql(statement)}")
    print()
    print("  (c) broken down")
    for name, seconds in last.raw_events_parts:
        print(f"    {seconds * 1000:9.1f} ms  {name}")


def parse_args() -> argparse.Namespace:
    parser = argument_parser(__doc__)
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply the sizes (0.1 = 100k enrollments, 10k selected)",
    )
    parser.add_argument("--enrollments", type=int, default=1_000_000)
    parser.add_argument("--sequences", type=int, default=100)
    parser.add_argument(
        "--selected", type=int, default=100_000, help="enrollments paused per timed run"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="repeat (a), (b), (c) on fresh sequences; medians are printed",
    )
    parser.add_argument("--no-events", action="store_true",
                        help="do not pre-fill the event log with enroll events")  # fmt: skip
    args = parser.parse_args()
    if not 1 <= args.rounds <= 10:
        parser.error("--rounds must be between 1 and 10")
    return args


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
