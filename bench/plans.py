"""Plans benchmark: every sort and filter of the Contacts tab (the `enrollments` list)
on 1,000,000 enrollments, each read through an index, never a sequential scan of
enrollments.

A fresh PostgreSQL database (created, migrated, dropped at the end) gets 10 sequences of
100,000 enrollments (the mixed spread of statuses; next sends on the ACTIVE ones, an
auto-resume on some PAUSED ones, an outcome on the FINISHED ones, status changes spread
over the year), 5 users and a group of 2% of the contacts; then VACUUM ANALYZE. For each
case (every sort both ways, every filter, combinations, backward pages with `last` and
pages after a cursor, a few with totalCount and statusCounts) one GraphQL request goes
to the real app in this process; the SQL statements it sends that read enrollments are
captured (a SQLAlchemy event, and the observers of the page's asyncpg reads, as
tests/api/test_sorts_and_filters.py does) and run
again under EXPLAIN ANALYZE with the same parameters: one untimed run, then --rounds.
It prints, per case: the plan's top node and first read of enrollments, the
enrollments indexes it reads, whether it scans enrollments sequentially (also in the
sixth run of it as a prepared statement, when PostgreSQL may switch to a generic plan),
and the median execution time beside the default page's (ENROLLED_AT, newest first) in
the same run. Exits 1 when any case's plan scans enrollments sequentially.

Run:  .venv/bin/python -m bench.plans [--postgres-url URL] [--scale 0.1] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from bench.harness.explain import (
    EnrollmentStatements,
    enrollments_indexes,
    explain,
    prepared_plan,
    reads_enrollments_sequentially,
    top_node,
)
from bench.harness.global_id import to_global_id
from bench.harness.http_client import check
from bench.harness.report import log
from bench.harness.scratch import (
    SequenceSpec,
    argument_parser,
    create_tenant,
    generate,
    require,
    scratch_database,
)
from bench.harness.servers import make_app

ENROLLMENTS = 1_000_000
PAGE_SIZE = 50
SEARCH = "ada"  # ~5% of the contacts

PAGE = """
query($seq: ID!, $first: Int, $after: String, $last: Int, $before: String,
      $order: EnrollmentOrder, $filter: EnrollmentFilter) {
  enrollments(sequenceId: $seq, first: $first, after: $after, last: $last, before: $before,
              orderBy: $order, filter: $filter) {%s
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { node { id status currentStep nextRunAt statusChangedAt resumeAt
                   contact { id firstName lastName email } } }
  }
}"""
COUNTS = "\n    totalCount statusCounts { status count }"


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    order: tuple[str, str] | None = None  # (field, direction); None: ENROLLED_AT DESC
    flt: dict[str, Any] = field(default_factory=dict)
    # "first": the first page; "last": the last page (`last`, backward); "after": the
    # second page (`after` the first page's end); "before": the page before the last one
    page: str = "first"
    counts: bool = False


@dataclass
class Result:
    case: Case
    statements: int = 0
    top: str = ""
    indexes: list[str] = field(default_factory=list)
    seq_scan: bool = False
    prepared_seq_scan: bool = False  # in the sixth run as a prepared statement
    rows: int = 0
    execution_ms: list[float] = field(default_factory=list)
    planning_ms: list[float] = field(default_factory=list)
    plans: list[str] = field(default_factory=list)  # text plans, kept for failures

    @property
    def median_ms(self) -> float:
        return statistics.median(self.execution_ms) if self.execution_ms else float("nan")

    @property
    def planning_median_ms(self) -> float:
        return statistics.median(self.planning_ms) if self.planning_ms else float("nan")


def cases(user_id: int, group_id: int, now: datetime) -> list[Case]:
    """The reference first, then every sort, every filter and some combinations."""

    def iso(moment: datetime) -> str:
        return moment.isoformat()

    hour = {"from": iso(now + timedelta(hours=1)), "to": iso(now + timedelta(hours=2))}
    later = {"from": iso(now + timedelta(days=2))}
    day = {"from": iso(now - timedelta(days=31)), "to": iso(now - timedelta(days=30))}
    week = {"from": iso(now - timedelta(days=7))}
    enrolled = {"enrolledAfter": iso(now - timedelta(days=107)),
                "enrolledBefore": iso(now - timedelta(days=100))}  # fmt: skip
    out = [Case("reference: default page (ENROLLED_AT DESC)")]
    fields = ["ENROLLED_AT", "CONTACT_NAME", "NEXT_SEND_AT", "STATUS_CHANGED_AT",
              "CURRENT_STEP", "STATUS"]  # fmt: skip
    for name in fields:
        for direction in ("ASC", "DESC"):
            out.append(Case(f"sort {name} {direction}", (name, direction)))
    for name in fields[2:]:
        out.append(Case(f"sort {name} ASC, last 50", (name, "ASC"), page="last"))
        out.append(Case(f"sort {name} DESC, page 2 (after)", (name, "DESC"), page="after"))
        out.append(Case(f"sort {name} ASC, last 50 before", (name, "ASC"), page="before"))
    out.append(Case("sort CONTACT_NAME ASC, last 50", ("CONTACT_NAME", "ASC"), page="last"))
    filters: list[tuple[str, dict[str, Any]]] = [
        ("statuses [PAUSED]", {"statuses": ["PAUSED"]}),
        ("statuses [REMOVED]", {"statuses": ["REMOVED"]}),
        ("includeRemoved", {"includeRemoved": True}),
        ("reasons [MANUAL]", {"reasons": ["MANUAL"]}),
        ("outcomes [RESPONDED]", {"outcomes": ["RESPONDED"]}),
        ("outcomes [RESPONDED, NO_RESPONSE]", {"outcomes": ["RESPONDED", "NO_RESPONSE"]}),
        ("outcomes [STOPPED] (none)", {"outcomes": ["STOPPED"]}),
        ("steps [2]", {"steps": [2]}),
        ("enrolledByIds [one of 5]", {"enrolledByIds": [to_global_id("User", user_id)]}),
        ("groupId (2% of contacts)", {"groupId": to_global_id("Group", group_id)}),
        (f"search {SEARCH!r}", {"search": SEARCH}),
        ("enrolledAfter + enrolledBefore (a week)", enrolled),
        ("resumeScheduled true", {"resumeScheduled": True}),
        ("resumeScheduled false", {"resumeScheduled": False}),
        ("nextSendBetween (an hour)", {"nextSendBetween": hour}),
        ("nextSendBetween (from in 2 days)", {"nextSendBetween": later}),
        ("statusChangedBetween (a day)", {"statusChangedBetween": day}),
        ("statusChangedBetween (the last week)", {"statusChangedBetween": week}),
    ]
    for name, flt in filters:
        out.append(Case(f"filter {name}", flt=flt))
    out += [
        Case("nextSendBetween (an hour), NEXT_SEND_AT ASC", ("NEXT_SEND_AT", "ASC"),
             {"nextSendBetween": hour}),
        Case("statuses [ACTIVE], NEXT_SEND_AT ASC", ("NEXT_SEND_AT", "ASC"),
             {"statuses": ["ACTIVE"]}),
        Case("statusChangedBetween (a day), STATUS_CHANGED_AT DESC, last 50",
             ("STATUS_CHANGED_AT", "DESC"), {"statusChangedBetween": day}, page="last"),
        Case("outcomes [RESPONDED], STATUS_CHANGED_AT DESC", ("STATUS_CHANGED_AT", "DESC"),
             {"outcomes": ["RESPONDED"]}),
        Case("outcomes [NO_RESPONSE], ENROLLED_AT ASC, page 2", ("ENROLLED_AT", "ASC"),
             {"outcomes": ["NO_RESPONSE"]}, page="after"),
        Case("statuses [ACTIVE] + steps [2], CURRENT_STEP ASC", ("CURRENT_STEP", "ASC"),
             {"statuses": ["ACTIVE"], "steps": [2]}),
        Case("steps [2, 3], CURRENT_STEP DESC, last 50", ("CURRENT_STEP", "DESC"),
             {"steps": [2, 3]}, page="last"),
        Case("resumeScheduled true, STATUS ASC, last 50", ("STATUS", "ASC"),
             {"resumeScheduled": True}, page="last"),
        Case("resumeScheduled true + statuses [PAUSED], CURRENT_STEP DESC",
             ("CURRENT_STEP", "DESC"), {"resumeScheduled": True, "statuses": ["PAUSED"]}),
        Case(f"search {SEARCH!r}, NEXT_SEND_AT DESC", ("NEXT_SEND_AT", "DESC"),
             {"search": SEARCH}),
        Case("statuses [FINISHED, BOUNCED], STATUS DESC, page 2", ("STATUS", "DESC"),
             {"statuses": ["FINISHED", "BOUNCED"]}, page="after"),
        Case("with counts: default page", counts=True),
        Case("with counts: resumeScheduled true", flt={"resumeScheduled": True}, counts=True),
        Case("with counts: nextSendBetween (an hour), NEXT_SEND_AT ASC",
             ("NEXT_SEND_AT", "ASC"), {"nextSendBetween": hour}, counts=True),
        Case("with counts: statusChangedBetween (a day)", flt={"statusChangedBetween": day},
             counts=True),
        Case("with counts: outcomes [RESPONDED]", flt={"outcomes": ["RESPONDED"]}, counts=True),
    ]  # fmt: skip
    return out


# =========================================================================== data


async def fill(url: str, args: argparse.Namespace) -> tuple[Any, list[int], int]:
    """The enrollments (through the shared generator), then a group of 2% of the
    contacts. Returns the tenant, the sequence ids and the group id."""
    tenant = await create_tenant(url, users=5)
    per_sequence = max(1, round(ENROLLMENTS * args.scale / args.sequences))
    seq_ids = await generate(url, tenant, [SequenceSpec(per_sequence)] * args.sequences,
                             events=False)  # fmt: skip
    conn = await asyncpg.connect(url)
    try:
        started = time.perf_counter()
        group_id = await conn.fetchval(
            "INSERT INTO groups (workspace_id, name, created_at) VALUES ($1, 'Bench', now())"
            " RETURNING id",
            tenant.workspace_id,
        )
        await conn.execute(
            "INSERT INTO group_members (group_id, contact_id, added_at)"
            " SELECT $1, id, now() FROM contacts WHERE workspace_id = $2 AND id % 50 = 0",
            group_id,
            tenant.workspace_id,
        )
        await conn.execute("VACUUM (ANALYZE)")
        log(f"made a group, vacuum analyze in {time.perf_counter() - started:.1f}s")
    finally:
        await conn.close()
    return tenant, seq_ids, group_id


# =========================================================================== the app


class AppClient:
    """The real app in this process (httpx's ASGI transport), and the statements reading
    enrollments that one request of it sends."""

    def __init__(self, url: str, token: str, sequence_id: int) -> None:
        self.app = make_app(url)
        self.token = token
        self.sequence = to_global_id("Sequence", sequence_id)
        self.statements_seen = EnrollmentStatements(self.app.state.db)
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://bench"
        )

    async def close(self) -> None:
        self.statements_seen.close()
        await self.client.aclose()
        await self.app.state.db.dispose()

    async def page(self, case: Case, **paging: Any) -> dict[str, Any]:
        variables: dict[str, Any] = {"seq": self.sequence, "filter": case.flt, **paging}
        if case.order:
            variables["order"] = {"field": case.order[0], "direction": case.order[1]}
        body = {"query": PAGE % (COUNTS if case.counts else ""), "variables": variables}
        headers = {"Authorization": f"Bearer {self.token}"}
        response = await self.client.post("/graphql", json=body, headers=headers)
        check(response)
        return response.json()["data"]["enrollments"]  # type: ignore[no-any-return]

    async def statements(self, case: Case) -> tuple[list[tuple[str, Any]], int]:
        """The statements of the case's request (after the requests that give its
        cursor), and the number of rows its page holds."""
        paging: dict[str, Any] = {"first": PAGE_SIZE}
        if case.page == "last":
            paging = {"last": PAGE_SIZE}
        elif case.page == "after":
            first = await self.page(case, first=PAGE_SIZE)
            paging = {"first": PAGE_SIZE, "after": first["pageInfo"]["endCursor"]}
        elif case.page == "before":
            last = await self.page(case, last=PAGE_SIZE)
            paging = {"last": PAGE_SIZE, "before": last["pageInfo"]["startCursor"]}
        await self.page(case, **paging)  # built and cached once per shape
        seen = self.statements_seen
        seen.captured = []
        try:
            answer = await self.page(case, **paging)
            return seen.captured, len(answer["edges"])
        finally:
            seen.captured = None


async def measure(client: AppClient, conn: asyncpg.Connection, case: Case, rounds: int) -> Result:
    statements, rows = await client.statements(case)
    require(bool(statements), f"{case.name}: no statement read enrollments")
    result = Result(case, statements=len(statements), rows=rows)
    for statement, parameters in statements:
        plan, text = await explain(conn, statement, parameters, analyze=False)
        result.plans.append(text)
        if reads_enrollments_sequentially(plan["Plan"]):
            result.seq_scan = True
        result.indexes += [i for i in enrollments_indexes(plan["Plan"]) if i not in result.indexes]
        result.top = result.top or top_node(plan["Plan"])
        if await prepared_plan(conn, statement, parameters):
            result.prepared_seq_scan = True
    for round_ in range(rounds + 1):  # the first warms the cache, untimed
        execution = planning = 0.0
        for statement, parameters in statements:
            plan, _ = await explain(conn, statement, parameters, analyze=True)
            execution += plan["Execution Time"]
            planning += plan["Planning Time"]
        if round_:
            result.execution_ms.append(execution)
            result.planning_ms.append(planning)
    return result


async def primary_key_lookup_ms(conn: asyncpg.Connection, sequence_id: int, rounds: int) -> float:
    pk = await conn.fetchval("SELECT max(id) FROM enrollments WHERE sequence_id = $1", sequence_id)
    times: list[float] = []
    for _ in range(rounds):
        [row] = await conn.fetch(
            "EXPLAIN (ANALYZE, FORMAT JSON) SELECT * FROM enrollments WHERE id = $1", pk
        )
        times.append(json.loads(row[0])[0]["Execution Time"])
    return statistics.median(times)


# =========================================================================== main


async def main(args: argparse.Namespace) -> int:
    async with scratch_database(args.postgres_url, "seqgql_bench_plans") as url:
        tenant, seq_ids, group_id = await fill(url, args)
        sequence_id = seq_ids[len(seq_ids) // 2]
        conn = await asyncpg.connect(url)
        client = AppClient(url, tenant.token, sequence_id)
        try:
            total = await conn.fetchval("SELECT count(*) FROM enrollments")
            in_sequence = await conn.fetchval(
                "SELECT count(*) FROM enrollments WHERE sequence_id = $1", sequence_id
            )
            now = await conn.fetchval("SELECT now()")
            log(f"{total:,} enrollments; measuring sequence {sequence_id} ({in_sequence:,})")
            started = time.perf_counter()
            results = []
            for case in cases(tenant.user_ids[1], group_id, now.astimezone(UTC)):
                results.append(await measure(client, conn, case, args.rounds))
            pk_ms = await primary_key_lookup_ms(conn, sequence_id, args.rounds)
            log(f"{len(results)} cases in {time.perf_counter() - started:.1f}s")
        finally:
            await client.close()
            await conn.close()
    return report(results, pk_ms, total, in_sequence, args)


def report(
    results: list[Result], pk_ms: float, total: int, in_sequence: int, args: argparse.Namespace
) -> int:
    reference = results[0].median_ms
    print(f"\n{total:,} enrollments over {args.sequences} sequences; the cases list one of "
          f"{in_sequence:,}, {PAGE_SIZE} a page; EXPLAIN ANALYZE, median of {args.rounds} "
          f"rounds; on {sys.platform}\n")  # fmt: skip
    print("| case | rows | plan: top node → first read of enrollments | enrollments indexes "
          "read | Seq Scan on enrollments: 1st / 6th run prepared | ms | x reference | "
          "planning ms |")  # fmt: skip
    print("|---|---:|---|---|---|---:|---:|---:|")
    for r in results:
        scan = "**YES**" if r.seq_scan else "no"
        prepared = "**YES**" if r.prepared_seq_scan else "no"
        ratio = r.median_ms / reference
        print(f"| {r.case.name} | {r.rows} | {r.top} | {', '.join(r.indexes) or '—'} | "
              f"{scan} / {prepared} | {r.median_ms:.2f} | {ratio:.1f} | "
              f"{r.planning_median_ms:.2f} |")  # fmt: skip
    print(
        f"\nreference: the default page, {reference:.2f} ms; a primary-key lookup of one "
        f"enrollment: {pk_ms:.3f} ms (the reference is {reference / pk_ms:.0f}x that)"
    )
    if total < 100_000:
        print("(a small table: PostgreSQL may rightly read it sequentially; the verdict "
              "means something at the default 1,000,000 rows)")  # fmt: skip
    failed = [r for r in results if r.seq_scan or r.prepared_seq_scan]
    if args.show_plans or failed:
        for r in results if args.show_plans else failed:
            print(f"\n{r.case.name}:")
            for text in r.plans:
                print("    " + text.replace("\n", "\n    "))
    if failed:
        print(f"\nFAILED: {len(failed)} case(s) scan enrollments sequentially: "
              + "; ".join(r.case.name for r in failed))  # fmt: skip
        return 1
    print("\nno case scans enrollments sequentially")
    return 0


def parse_args() -> argparse.Namespace:
    parser = argument_parser(__doc__)
    parser.add_argument(
        "--scale", type=float, default=1.0,
        help="multiply the data size (0.1 = 100,000 enrollments; figures mean little below)",
    )  # fmt: skip
    parser.add_argument("--sequences", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5, help="EXPLAIN ANALYZE runs per case")
    parser.add_argument("--show-plans", action="store_true", help="print every case's plan")
    args = parser.parse_args()
    if not (0 < args.scale <= 10 and 1 <= args.sequences <= 1000 and 1 <= args.rounds <= 100):
        parser.error("--scale, --sequences or --rounds out of range")
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
