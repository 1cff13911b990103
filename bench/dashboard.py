"""Dashboard benchmark: the Contacts dashboard's own GraphQL requests against one
sequence of 1,000,000 enrollments, through the real app served by uvicorn.

The documents are the dashboard's: read from frontend/src/documents.js (its template
strings, with their ${...} constants filled in), never copied; the variables are built as
frontend/src/filters.js builds them (apiFilter), with the dashboard's page size
(contacts.js). A fresh PostgreSQL database (created, migrated, dropped at the end) gets
one sequence of 1,000,000 enrollments (the mixed spread of statuses, 3 steps, 5 users).
The app runs in its own uvicorn process; this process sends one request at a time on one
keep-alive connection and times it: every case once per round (--rounds), rounds
interleaved, p50 and range beside the first page's. Cases: the first page, the page after
walking --deep-page pages forward with `after`, the last page (`last`), the page before
it (`before`), each status tab and filter (step, enrolled by, search, enrolled date range)
with its first page, TAB_COUNTS (the tab bar: it reads every row the filter matches)
without a filter and with each one, SEQUENCE (the funnel) and SEQUENCES (the list).

Then the same requests go to the app in this process; the statements reading enrollments
are captured and EXPLAINed (bench/harness/explain.py, as bench/plans.py does). Exits 1
when a page statement scans enrollments sequentially.

Run:  .venv/bin/python -m bench.dashboard [--postgres-url URL] [--scale 0.01] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.harness.explain import (
    EnrollmentStatements,
    enrollments_indexes,
    enrollments_rows_read,
    explain,
    prepared_plan,
    reads_enrollments_sequentially,
    top_node,
)
from bench.harness.global_id import to_global_id
from bench.harness.http_client import Connection, check
from bench.harness.report import log, source_version
from bench.harness.scratch import (
    SequenceSpec,
    argument_parser,
    create_tenant,
    generate,
    require,
    scratch_database,
)
from bench.harness.servers import make_app, serve, start_server, stop_process

ENROLLMENTS = 1_000_000
FRONTEND = Path(__file__).resolve().parents[1] / "frontend" / "src"
SEARCH = "ada"  # a first name: ~5% of the contacts

# =========================================================================== the dashboard

_TEMPLATE = re.compile(r"^(?:export )?const (\w+) = `(.*?)`;", re.S | re.M)
_INTERPOLATION = re.compile(r"\$\{(\w+)\}")


def documents(path: Path = FRONTEND / "documents.js") -> dict[str, str]:
    """Every top-level template constant of documents.js, its ${NAME} filled in with the
    constants defined before it in that file."""
    found: dict[str, str] = {}

    def fill(match: re.Match[str]) -> str:
        require(match.group(1) in found, f"{path.name}: ${{{match.group(1)}}} is not defined")
        return found[match.group(1)]

    for name, body in _TEMPLATE.findall(path.read_text()):
        found[name] = _INTERPOLATION.sub(fill, body)
        require("${" not in found[name], f"{path.name}: {name} keeps an interpolation")
    return found


def js_number(path: Path, name: str) -> int:
    match = re.search(rf"^const {name} = (\d+);", path.read_text(), re.M)
    require(match is not None, f"{path.name}: no `const {name} = <number>;`")
    assert match is not None
    return int(match.group(1))


def js_strings(path: Path, name: str) -> list[str]:
    match = re.search(rf"^export const {name} = \[(.*?)\];", path.read_text(), re.S | re.M)
    require(match is not None, f"{path.name}: no `export const {name} = [...]`")
    assert match is not None
    return re.findall(r'"(\w+)"', match.group(1))


@dataclass(frozen=True, slots=True)
class Filters:
    """filters.js's filter state (NO_FILTERS): the tab's status and the form's values."""

    status: str | None = None
    step: str = ""
    enrolled_by: str = ""
    search: str = ""
    start: str = ""  # "from": an <input type="date"> value, YYYY-MM-DD
    to: str = ""


def api_filter(f: Filters, with_status: bool = True) -> dict[str, Any]:
    """filters.js's apiFilter: the EnrollmentFilter the dashboard sends (with_status for the
    rows; without, what the tab bar counts)."""
    out: dict[str, Any] = {}
    if with_status and f.status:
        out["statuses"] = [f.status]
    out["includeRemoved"] = not with_status or f.status == "REMOVED"
    if f.step:
        out["steps"] = [int(f.step)]
    if f.enrolled_by:
        out["enrolledByIds"] = [f.enrolled_by]
    if f.search.strip():
        out["search"] = f.search.strip()
    if f.start:
        out["enrolledAfter"] = f"{f.start}T00:00:00Z"  # format.js's dayStart
    if f.to:  # format.js's dayAfter: Date.toISOString() of the next day
        out["enrolledBefore"] = f"{date.fromisoformat(f.to) + timedelta(days=1)}T00:00:00.000Z"
    return out


# =========================================================================== cases


@dataclass
class Case:
    name: str
    document: str  # a documents.js constant
    variables: dict[str, Any]
    times_ms: list[float] = field(default_factory=list)
    answer: str = ""
    statements: int = 0
    top: str = ""
    indexes: list[str] = field(default_factory=list)
    seq_scan: bool = False
    prepared_seq_scan: bool = False
    pg_ms: float = 0.0  # PostgreSQL's execution time of its statements (EXPLAIN ANALYZE)
    rows_read: int = 0  # rows of enrollments those statements read (EXPLAIN ANALYZE)
    plans: list[str] = field(default_factory=list)

    @property
    def is_page(self) -> bool:
        return self.document == "PAGE"

    @property
    def p50(self) -> float:
        return statistics.median(self.times_ms) if self.times_ms else float("nan")


class Client:
    """One keep-alive connection to the served app, a request at a time."""

    def __init__(self, conn: Connection, docs: dict[str, str], token: str) -> None:
        self.conn, self.docs = conn, docs
        self.headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}

    async def send(self, document: str, variables: dict[str, Any]) -> tuple[Any, float]:
        body = json.dumps({"query": self.docs[document], "variables": variables}).encode()
        started = time.perf_counter()
        response = await self.conn.request("POST", "/graphql", body, self.headers)
        elapsed = (time.perf_counter() - started) * 1000
        check(response)
        return response.json()["data"], elapsed


def describe(case: Case, data: dict[str, Any]) -> str:
    """The answer in a few words (and the checks a dashboard user would notice)."""
    if case.document in ("PAGE", "TAB_COUNTS"):
        connection = data["enrollments"]
        if case.document == "PAGE":
            return f"{len(connection['edges'])} rows"
        return f"{sum(c['count'] for c in connection['statusCounts']):,} counted"
    if case.document == "SEQUENCE":
        steps = data["sequence"]["stepCounts"]
        return f"{len(steps)} steps, {sum(s['reached'] for s in steps):,} reached"
    return f"{len(data['sequences']['edges'])} sequences"


async def build_cases(
    client: Client, seq: str, users: list[str], email: str, page_size: int, deep: int,
    statuses: list[str],
) -> tuple[list[Case], list[float]]:  # fmt: skip
    """The cases, with the cursors their pages need (walking the list forward to the deep
    page; those requests' times are returned)."""

    def page(name: str, f: Filters, **paging: Any) -> Case:
        variables = {"seq": seq, "filter": api_filter(f), **(paging or {"first": page_size})}
        return Case(name, "PAGE", variables)

    today = date.today()
    week = Filters(start=str(today - timedelta(days=107)), to=str(today - timedelta(days=101)))
    filters = [
        (f"step {2}", Filters(step="2")),
        ("enrolled by (one of 5 users)", Filters(enrolled_by=users[1])),
        (f"search {SEARCH!r} (~5%)", Filters(search=SEARCH)),
        ("search one contact's email", Filters(search=email)),
        ("enrolled date range (a week)", week),
    ]
    cases = [page("reference: first page (All tab)", Filters())]

    walked: list[float] = []
    after: str | None = None
    seen: set[str] = set()
    everyone = {"seq": seq, "filter": api_filter(Filters())}
    for _ in range(deep - 1):
        paging = {"first": page_size, **({"after": after} if after else {})}
        data, elapsed = await client.send("PAGE", {**everyone, **paging})
        walked.append(elapsed)
        seen.update(e["node"]["id"] for e in data["enrollments"]["edges"])
        after = data["enrollments"]["pageInfo"]["endCursor"]
    require(len(seen) == (deep - 1) * page_size, f"the walk met {len(seen)} distinct rows")
    cases.append(page(f"page {deep} (after {deep - 1} pages forward)", Filters(),
                      first=page_size, after=after))  # fmt: skip
    last, _ = await client.send("PAGE", {**everyone, "last": page_size})
    start = last["enrollments"]["pageInfo"]["startCursor"]
    cases.append(page("last page (`last`)", Filters(), last=page_size))
    cases.append(page("the page before the last (`last` + `before`)", Filters(),
                      last=page_size, before=start))  # fmt: skip
    for status in statuses:
        cases.append(page(f"tab {status}", Filters(status=status)))
    for name, f in filters:
        cases.append(page(f"filter: {name}", f))
    combined = Filters(status="PAUSED", step="2", search=SEARCH)
    cases.append(page(f"tab PAUSED + step 2 + search {SEARCH!r}", combined))
    cases.append(Case("TAB_COUNTS: no filter", "TAB_COUNTS",
                      {"seq": seq, "filter": api_filter(Filters(), False)}))  # fmt: skip
    for name, f in filters:
        cases.append(Case(f"TAB_COUNTS: {name}", "TAB_COUNTS",
                          {"seq": seq, "filter": api_filter(f, False)}))  # fmt: skip
    cases.append(Case("SEQUENCE (the funnel: stepCounts)", "SEQUENCE", {"id": seq}))
    cases.append(Case("SEQUENCES (the list, with counts)", "SEQUENCES",
                      {"first": js_number(FRONTEND / "sequences.js", "PAGE")}))  # fmt: skip
    return cases, walked


# =========================================================================== measuring


async def time_requests(client: Client, cases: list[Case], rounds: int) -> None:
    for case in cases:  # warm-up (each statement built and cached once), and the answer
        data, _ = await client.send(case.document, case.variables)
        case.answer = describe(case, data)
    for round_ in range(rounds):
        for case in cases:
            _, elapsed = await client.send(case.document, case.variables)
            case.times_ms.append(elapsed)
        log(f"round {round_ + 1}/{rounds}: first page {cases[0].times_ms[-1]:.1f} ms")


async def explain_cases(url: str, token: str, docs: dict[str, str], cases: list[Case]) -> None:
    """Each case's request to the app in this process; its statements reading enrollments
    EXPLAINed (plan, and the sixth run as a prepared statement), then EXPLAIN ANALYZEd once."""
    app = make_app(url)
    seen = EnrollmentStatements(app.state.db)
    conn = await asyncpg.connect(url)
    headers = {"Authorization": f"Bearer {token}"}
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            for case in cases:
                body = {"query": docs[case.document], "variables": case.variables}
                check(await http.post("/graphql", json=body, headers=headers))
                seen.captured = []
                try:
                    check(await http.post("/graphql", json=body, headers=headers))
                    statements = seen.captured
                finally:
                    seen.captured = None
                case.statements = len(statements)
                for statement, parameters in statements:
                    plan, text = await explain(conn, statement, parameters, analyze=False)
                    case.plans.append(text)
                    case.seq_scan |= reads_enrollments_sequentially(plan["Plan"])
                    case.indexes += [
                        i for i in enrollments_indexes(plan["Plan"]) if i not in case.indexes
                    ]
                    case.top = case.top or top_node(plan["Plan"])
                    case.prepared_seq_scan |= await prepared_plan(conn, statement, parameters)
                    analyzed, _ = await explain(conn, statement, parameters, analyze=True)
                    case.pg_ms += analyzed["Execution Time"]
                    case.rows_read += enrollments_rows_read(analyzed["Plan"])
    finally:
        seen.close()
        await conn.close()
        await app.state.db.dispose()


# =========================================================================== main


async def main(args: argparse.Namespace) -> int:
    docs = documents()
    page_size = js_number(FRONTEND / "contacts.js", "PAGE_SIZE")
    statuses = js_strings(FRONTEND / "format.js", "STATUSES")
    load_before = os.getloadavg()
    n = max(page_size * 4, round(ENROLLMENTS * args.scale))
    async with scratch_database(args.postgres_url, "seqgql_bench_dashboard") as url:
        tenant = await create_tenant(url, users=5)
        [sequence_id] = await generate(url, tenant, [SequenceSpec(n)], events=False)
        pg = await asyncpg.connect(url)
        try:
            email = await pg.fetchval(
                "SELECT email FROM contacts ORDER BY id OFFSET $1 LIMIT 1", n // 2
            )
        finally:
            await pg.close()
        deep = max(2, min(args.deep_page, n // page_size - 1))
        process, port, _ = await start_server(
            "bench.dashboard", "--serve", "--database-url", url, name="the app"
        )
        started = time.perf_counter()
        try:
            conn = await Connection.open(f"http://127.0.0.1:{port}")
            try:
                client = Client(conn, docs, tenant.token)
                seq = to_global_id("Sequence", sequence_id)
                users = [to_global_id("User", u) for u in tenant.user_ids]
                cases, walked = await build_cases(
                    client, seq, users, email, page_size, deep, statuses
                )
                log(f"{len(cases)} cases; walked {deep - 1} pages; timing {args.rounds} rounds")
                await time_requests(client, cases, args.rounds)
            finally:
                await conn.close()
        finally:
            await stop_process(process)
        log(f"timed in {time.perf_counter() - started:.1f}s; explaining")
        await explain_cases(url, tenant.token, docs, cases)
    require(cases[0].answer == f"{page_size} rows", f"first page: {cases[0].answer}")
    return report(cases, walked, n, page_size, deep, load_before, args)


def report(
    cases: list[Case], walked: list[float], n: int, page_size: int, deep: int,
    load_before: tuple[float, float, float], args: argparse.Namespace,
) -> int:  # fmt: skip
    reference = cases[0].p50
    load = os.getloadavg()
    print(f"\none sequence of {n:,} enrollments; the dashboard's documents "
          f"(frontend/src/documents.js) and page size ({page_size}); the app under uvicorn "
          f"in its own process, one keep-alive connection; {args.rounds} rounds; "
          f"{os.cpu_count()} CPUs, load average {load_before[0]:.1f} before, "
          f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} after"
          f"{source_version(Path(__file__).parent)}\n")  # fmt: skip
    print("| request | answer | p50 ms | range ms | x first page | statements reading "
          "enrollments | plan: top node → first read of enrollments | enrollments indexes | "
          "Seq Scan on enrollments: 1st / 6th run prepared | enrollments rows read | "
          "PostgreSQL ms |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|---|---|---|---:|---:|")
    for c in cases:
        scan = "**YES**" if c.seq_scan else "no"
        prepared = "**YES**" if c.prepared_seq_scan else "no"
        print(f"| {c.name} | {c.answer} | {c.p50:.1f} | {min(c.times_ms):.1f}-"
              f"{max(c.times_ms):.1f} | {c.p50 / reference:.1f} | {c.statements} | {c.top} | "
              f"{', '.join(c.indexes) or '—'} | {scan} / {prepared} | {c.rows_read:,} | "
              f"{c.pg_ms:.1f} |")  # fmt: skip
    if walked:
        print(f"\nthe walk to page {deep} ({len(walked)} requests with `after`): p50 "
              f"{statistics.median(walked):.1f} ms, first {walked[0]:.1f} ms, last "
              f"{walked[-1]:.1f} ms, max {max(walked):.1f} ms")  # fmt: skip
    print(
        "(TAB_COUNTS leaves the status out of its filter, so a status tab reads the same "
        "counts as no filter; rows read and PostgreSQL ms: one EXPLAIN ANALYZE run of the "
        "statements)"
    )
    if n < 100_000:
        print("(a small table: PostgreSQL may rightly read it sequentially; the verdict "
              "means something at the default 1,000,000 rows)")  # fmt: skip
    failed = [c for c in cases if c.is_page and (c.seq_scan or c.prepared_seq_scan)]
    for c in cases if args.show_plans else failed:
        print(f"\n{c.name}:")
        for text in c.plans:
            print("    " + text.replace("\n", "\n    "))
    if failed:
        print(f"\nFAILED: {len(failed)} page(s) scan enrollments sequentially: "
              + "; ".join(c.name for c in failed))  # fmt: skip
        return 1
    print("\nno page statement scans enrollments sequentially")
    return 0


def parse_args() -> argparse.Namespace:
    parser = argument_parser(__doc__)
    parser.add_argument(
        "--scale", type=float, default=1.0,
        help="multiply the sequence's size (0.01 = 10,000 enrollments; figures mean little below)",
    )  # fmt: skip
    parser.add_argument("--rounds", type=int, default=5, help="timed requests per case")
    parser.add_argument(
        "--deep-page", type=int, default=200, help="the page reached by walking forward"
    )
    parser.add_argument("--show-plans", action="store_true", help="print every case's plan")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not (0 < args.scale <= 10 and 1 <= args.rounds <= 100 and 2 <= args.deep_page <= 10_000):
        parser.error("--scale, --rounds or --deep-page out of range")
    return args


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.serve:
        serve(make_app(arguments.database_url))
    else:
        sys.exit(asyncio.run(main(arguments)))
