"""Engine benchmark: steps sent per second by `seqgql worker` processes on PostgreSQL.

A fresh PostgreSQL database (created, migrated, dropped at the end) gets 100,000 ACTIVE
enrollments over 10 sequences (no sending window, 3 steps: EMAIL, EMAIL after 2 days,
SMS), every contact with an email. Before each run all of them are made due at step 1
(one set-based UPDATE, activities emptied, VACUUM + CHECKPOINT); then N worker processes,
each with its own Database and Engine (SystemClock, a transport), call run_once() until a
batch processes nothing. Timed from the start signal until the last worker has finished;
steps/s = steps sent / that wall time.

Two transports, side by side in each round (`--transports`), both accepting every
message at once:
- recording: nothing leaves the process (external = False, as the project's
  RecordingTransport): each batch is claimed, sent and recorded in one transaction;
- external: says it is an outside transport (external = True, as SMTP), so the engine
  records each send before and after: the claiming transaction writes each message's key
  and commits, then outcomes are recorded in small group commits, with at most
  `--send-concurrency` messages between a send and its recorded outcome. Its rate over
  the recording one's is what that recording costs.

Each run is checked with SQL: one SENT activity per enrollment (none twice, none
missing), every enrollment on step 2, no key left, nothing still due. Goal (recording
transport): at least 5,000 steps/s with one worker, and two workers faster than one (the
exit status is 1 when missed). The external transport's figures have no goal.

It prints, per run, the CPU seconds of each worker process, of the PostgreSQL backends
serving them, of the other PostgreSQL processes and of everything else on the machine
(a warning when other programs took a real share), and for one worker where its wall
time went: each SQL statement (totals), COMMIT, and Python outside SQL.

Run:  .venv/bin/python -m bench.engine [--postgres-url URL] [--scale 0.1]
          [--workers 1,2] [--batch-sizes 500,2000] [--rounds N]
          [--transports recording,external] [--send-concurrency 10]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from bench.harness.measure import StatementTimer, machine_cpu, postgres_cpu
from bench.harness.report import log, short_sql
from bench.harness.scratch import (
    SequenceSpec,
    argument_parser,
    create_tenant,
    generate,
    require,
    scratch_database,
)
from bench.harness.servers import start_module

GOAL_ONE_WORKER = 5_000.0  # steps/s
WORKER_TIMEOUT = 1800.0  # seconds a run may take before it is called a failure


# =========================================================================== worker process


class RecordingTransport:
    """Keeps every message the engine sends, nothing leaves (as the project's own
    RecordingTransport: sent one after the other, not in tasks, inside the claiming
    transaction)."""

    parallel = False
    external = False

    def __init__(self) -> None:
        self.sent: list[Any] = []

    async def send(self, message: Any) -> None:
        self.sent.append(message)


class InstantExternalTransport(RecordingTransport):
    """Accepts every message at once, but says it is an outside transport (as SMTP, whose
    `external` is true when not said): the engine sends in tasks and records each send
    before and after (``seqgql.engine.intents``). What it costs over RecordingTransport is
    that recording."""

    parallel = True
    external = True


TRANSPORTS: dict[str, type[RecordingTransport]] = {
    "recording": RecordingTransport,
    "external": InstantExternalTransport,
}


async def work(url: str, batch_size: int, transport_name: str, concurrency: int) -> None:
    """One worker process: build the engine, say READY, wait for GO, run batches until
    one processes nothing, report DONE with its figures, wait for EXIT (so the parent can
    read the PostgreSQL backends' CPU while the connection is still open)."""
    from seqgql.clock import SystemClock
    from seqgql.engine.worker import Engine
    from seqgql.persistence.database import Database

    db = Database(url, pool_size=1)
    try:
        transport = TRANSPORTS[transport_name]()
        engine = Engine(
            db, SystemClock(), transport, batch_size=batch_size, send_concurrency=concurrency
        )
        timer = StatementTimer(db.engine, commits=True)
        if not await db.ping():  # opens the pool's connection before the clock starts
            raise RuntimeError("worker cannot reach the database")
        timer.start()
        print("READY", flush=True)
        if (await asyncio.to_thread(sys.stdin.readline)).strip() != "GO":
            return
        totals: dict[str, int] = {}
        batches = 0
        slowest = 0.0
        cpu_started = time.process_time()
        started = time.perf_counter()
        while True:
            batch_started = time.perf_counter()
            stats = await engine.run_once()
            slowest = max(slowest, time.perf_counter() - batch_started)
            batches += 1
            for name, value in dataclasses.asdict(stats).items():  # every counter it has
                totals[name] = totals.get(name, 0) + value
            if stats.processed == 0 and stats.resumed == 0:
                break
        report = {
            "seconds": time.perf_counter() - started,
            "cpu": time.process_time() - cpu_started,
            "batches": batches,
            "slowest_batch": slowest,
            "transport": len(transport.sent),
            "sent": totals.get("sent", 0),
            "stats": totals,
            "statements": timer.totals(),
        }
        print("DONE " + json.dumps(report), flush=True)
        await asyncio.to_thread(sys.stdin.readline)
    finally:
        await db.dispose()


# =========================================================================== measuring


@dataclass
class Run:
    workers: int
    batch_size: int
    transport: str = "recording"
    concurrency: int = 10  # the engine's send concurrency (used by the external transport)
    round: int = 1
    seconds: float = 0.0
    sent: int = 0
    reports: list[dict[str, Any]] = field(default_factory=list)
    # CPU seconds during the run: the PostgreSQL backends serving the workers; every
    # other PostgreSQL process (WAL writer, checkpointer, autovacuum, other databases')
    postgres_cpu: float = 0.0
    postgres_other_cpu: float = 0.0
    machine_cpu: float = 0.0  # CPU seconds the whole machine was busy during the run
    machine_share: float = 0.0  # share of all its cores that were busy
    steal: float = 0.0  # CPU seconds the hypervisor gave to others (a VM's "steal")
    check: str = ""

    @property
    def rate(self) -> float:
        return self.sent / self.seconds

    @property
    def label(self) -> str:
        return f"{self.workers} worker(s), batch {self.batch_size}, {self.transport}"

    @property
    def worker_cpu(self) -> float:
        return float(sum(report["cpu"] for report in self.reports))

    @property
    def rest_cpu(self) -> float:
        """CPU seconds used by everything else on the machine during the run."""
        used = self.worker_cpu + self.postgres_cpu + self.postgres_other_cpu
        return max(self.machine_cpu - used, 0.0)


async def start_worker(run: Run, url: str) -> asyncio.subprocess.Process:
    pipe = asyncio.subprocess.PIPE
    return await start_module(
        "bench.engine", "--work", "--database-url", url, "--batch-size", str(run.batch_size),
        "--transport", run.transport, "--send-concurrency", str(run.concurrency),
        stdin=pipe, stdout=pipe,
    )  # fmt: skip


async def read_line(process: asyncio.subprocess.Process, prefix: str, seconds: float) -> str:
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), seconds)).decode()
    if not line.startswith(prefix):
        raise RuntimeError(f"worker {process.pid}: expected {prefix!r}, got {line!r}")
    return line[len(prefix) :].strip()


async def tell(processes: list[asyncio.subprocess.Process], word: str) -> None:
    for p in processes:
        assert p.stdin is not None
        p.stdin.write(f"{word}\n".encode())
    await asyncio.gather(*(p.stdin.drain() for p in processes if p.stdin is not None))


async def worker_backends(pg: asyncpg.Connection) -> set[int]:
    """The pids of the PostgreSQL backends connected to this database, but this one."""
    rows = await pg.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid()"
    )
    return {r["pid"] for r in rows}


async def timed_run(pg: asyncpg.Connection, url: str, run: Run) -> Run:
    processes = [await start_worker(run, url) for _ in range(run.workers)]
    try:
        for p in processes:
            await read_line(p, "READY", 120)
        backends = await worker_backends(pg)
        pg_before = postgres_cpu()
        machine_before = machine_cpu()
        started = time.perf_counter()
        await tell(processes, "GO")

        async def finished(p: asyncio.subprocess.Process) -> tuple[float, dict[str, Any]]:
            report = json.loads(await read_line(p, "DONE", WORKER_TIMEOUT))
            return time.perf_counter(), report

        ends = await asyncio.gather(*(finished(p) for p in processes))
        run.seconds = max(at for at, _ in ends) - started
        machine_after = machine_cpu()
        pg_after = postgres_cpu()
        backends |= await worker_backends(pg)
        run.reports = [report for _, report in ends]
        run.sent = sum(r["sent"] for r in run.reports)
        used = {pid: cpu - pg_before.get(pid, 0.0) for pid, cpu in pg_after.items()}
        run.postgres_cpu = sum(cpu for pid, cpu in used.items() if pid in backends)
        run.postgres_other_cpu = sum(cpu for pid, cpu in used.items() if pid not in backends)
        run.machine_cpu = machine_after.busy - machine_before.busy
        run.machine_share = run.machine_cpu / max(machine_after.total - machine_before.total, 0.01)
        run.steal = machine_after.steal - machine_before.steal
        await tell(processes, "EXIT")
        for p in processes:
            if await asyncio.wait_for(p.wait(), 60) != 0:
                raise RuntimeError(f"worker {p.pid} exited with {p.returncode}")
    finally:
        for p in processes:
            if p.returncode is None:
                p.kill()
                await p.wait()
    return run


# =========================================================================== data


async def make_due(pg: asyncpg.Connection, ws: int) -> int:
    """Every enrollment ACTIVE and due now at step 1 (next runs spread over the last
    10 minutes, in id order, which interleaves the sequences), no activity recorded;
    then VACUUM and CHECKPOINT so every run starts from the same state."""
    await pg.execute("TRUNCATE activities")
    status = await pg.execute(
        """
        UPDATE enrollments
        SET status = 'ACTIVE', reason = NULL, current_step = 1, last_sent_step = 0,
            resume_at = NULL, finished_at = NULL, updated_at = now(), send_attempts = 0,
            sending_key = NULL, sending_until = NULL,
            next_run_at = now() - interval '10 minutes'
                          + (id % 600) * interval '1 second'
        WHERE workspace_id = $1
        """,
        ws,
    )
    await pg.execute("VACUUM (ANALYZE) enrollments, activities, contacts, sequences, steps")
    await pg.execute("CHECKPOINT")
    await pg.fetchval(  # read the rows once: the runs all start with them in cache
        "SELECT count(*) + sum(c.id) FROM enrollments e JOIN contacts c ON c.id = e.contact_id "
        "WHERE e.workspace_id = $1",
        ws,
    )
    return int(status.split()[-1])


async def verify(pg: asyncpg.Connection, ws: int, expected: int, run: Run) -> str:
    """Exactly once: one SENT activity per enrollment, each enrollment moved on one step,
    no send key left behind, nothing left due, and the workers' counts agree."""
    act = await pg.fetchrow(
        """
        SELECT count(*) AS n,
               count(*) FILTER (WHERE kind = 'SENT' AND step = 1) AS sent_step1,
               count(DISTINCT enrollment_id) AS enrollments
        FROM activities WHERE workspace_id = $1
        """,
        ws,
    )
    enr = await pg.fetchrow(
        """
        SELECT count(*) AS n,
               count(*) FILTER (WHERE status = 'ACTIVE' AND current_step = 2
                                AND last_sent_step = 1 AND next_run_at > now()) AS advanced,
               count(*) FILTER (WHERE status = 'ACTIVE' AND next_run_at <= now()) AS still_due,
               count(*) FILTER (WHERE sending_key IS NOT NULL
                                OR sending_until IS NOT NULL) AS keyed
        FROM enrollments WHERE workspace_id = $1
        """,
        ws,
    )
    require(enr["n"] == expected, f"{enr['n']} enrollments, expected {expected}")
    require(act["n"] == expected, f"{act['n']} activities, expected {expected}: {dict(act)}")
    require(act["sent_step1"] == expected, f"not all SENT at step 1: {dict(act)}")
    require(act["enrollments"] == expected, f"an enrollment sent twice or never: {dict(act)}")
    require(enr["advanced"] == expected, f"enrollments not moved on one step: {dict(enr)}")
    require(enr["still_due"] == 0, f"enrollments still due: {dict(enr)}")
    require(enr["keyed"] == 0, f"send keys left on enrollments: {dict(enr)}")
    require(run.sent == expected, f"workers report {run.sent} sent, expected {expected}")
    transported = sum(r["transport"] for r in run.reports)
    require(transported == expected, f"the transports got {transported} messages")
    others: dict[str, int] = {}
    for r in run.reports:
        for name, value in r["stats"].items():
            if name != "sent" and value:
                others[name] = others.get(name, 0) + value
    require(not others, f"workers did something besides sending: {others}")
    return (
        f"{act['sent_step1']:,} SENT activities for {act['enrollments']:,} distinct "
        f"enrollments; {enr['advanced']:,} on step 2; {enr['still_due']} still due"
    )


# =========================================================================== main


def run_plan(args: argparse.Namespace) -> list[Run]:
    """Every run, round by round: each worker count and batch size with each transport
    one after the other (their order alternating from round to round, so that what the
    machine does meanwhile weighs on both alike)."""
    runs = []
    for r in range(args.rounds):
        transports = args.transports if r % 2 == 0 else args.transports[::-1]
        for batch_size in args.batch_sizes:
            for workers in args.workers:
                for transport in transports:
                    run = Run(workers, batch_size, transport, args.send_concurrency, r + 1)
                    runs.append(run)
    return runs


async def main(args: argparse.Namespace) -> None:
    total = round(args.enrollments * args.scale)
    per_sequence = total // args.sequences
    if per_sequence < 1:
        raise SystemExit("fewer enrollments than sequences")
    specs = [SequenceSpec(per_sequence, mix="active") for _ in range(args.sequences)]
    total = per_sequence * args.sequences
    async with scratch_database(args.postgres_url, "seqgql_bench_engine") as url:
        tenant = await create_tenant(url, users=1)
        await generate(url, tenant, specs)
        ws = tenant.workspace_id
        pg = await asyncpg.connect(url)
        runs: list[Run] = []
        try:
            windows = await pg.fetchval(
                "SELECT count(*) FROM sequences WHERE workspace_id = $1 "
                "AND sending_window IS NOT NULL",
                ws,
            )
            require(windows == 0, "a sequence has a sending window")
            for run in run_plan(args):
                due = await make_due(pg, ws)
                require(due == total, f"{due} enrollments made due, expected {total}")
                log(f"round {run.round}: {due:,} due; {run.label}")
                await timed_run(pg, url, run)
                run.check = await verify(pg, ws, total, run)
                log(f"  {run.sent:,} steps in {run.seconds:.2f}s = {run.rate:,.0f} steps/s"
                    f" — {run.check}")  # fmt: skip
                runs.append(run)
        finally:
            await pg.close()
    failed = report(runs, total, args.sequences)
    if failed:
        sys.exit(1)


def report(runs: list[Run], total: int, sequences: int) -> bool:
    """Print the table, the external transport's ratio and the goal check; True when the
    goal is missed."""
    print()
    cores = os.cpu_count()
    concurrency = runs[0].concurrency
    print(f"engine — {total:,} due enrollments over {sequences} sequences, PostgreSQL; "
          f"{cores} cores shared by PostgreSQL and the workers")  # fmt: skip
    print("  transports: recording = nothing leaves the process, sent and recorded in the")
    print("  claiming transaction; external = accepts at once but is an outside transport:")
    print("  keys written and committed before sending, outcomes recorded after, in group")
    print(f"  commits, send concurrency {concurrency}")
    print()
    rounds = max(r.round for r in runs)
    head = f"  {'round':>5}" if rounds > 1 else ""
    print(f"{head}  {'workers':>7} {'batch':>6} {'transport':>9} {'steps':>9} {'seconds':>8}"
          f" {'steps/s':>9} {'batches':>8} {'commits':>8} {'worker CPU s':>13}"
          f" {'backends':>9} {'PG other':>9} {'rest':>6} {'machine':>8}")  # fmt: skip
    for r in runs:
        cpu = " + ".join(f"{rep['cpu']:.1f}" for rep in r.reports)
        batches = sum(rep["batches"] for rep in r.reports)
        head = f"  {r.round:>5}" if rounds > 1 else ""
        print(f"{head}  {r.workers:>7} {r.batch_size:>6} {r.transport:>9} {r.sent:>9,}"
              f" {r.seconds:>8.2f} {r.rate:>9,.0f} {batches:>8} {commits(r):>8,} {cpu:>13}"
              f" {r.postgres_cpu:>9.1f} {r.postgres_other_cpu:>9.1f} {r.rest_cpu:>6.1f}"
              f" {r.machine_share:>8.0%}")  # fmt: skip
    print("  commits: transactions the workers committed. CPU seconds during the run: worker")
    print("  CPU, each worker process; backends, the PostgreSQL backends serving the workers;")
    print("  PG other, every other PostgreSQL process (WAL writer, checkpointer, autovacuum,")
    print("  other databases' backends); rest, everything else on the machine. machine: share")
    print("  of all cores busy.")
    crowded = [r for r in runs if r.rest_cpu > 0.1 * r.machine_cpu]
    if len(crowded) > 3:
        shares = [r.rest_cpu / r.machine_cpu for r in crowded]
        print(f"  WARNING: other programs used {min(shares):.0%}-{max(shares):.0%} of the"
              f" CPU busy in {len(crowded)} of the {len(runs)} runs; their figures may be"
              f" low")  # fmt: skip
    for r in crowded if len(crowded) <= 3 else []:
        print(f"  WARNING: {r.label} (round {r.round}): other programs used"
              f" {r.rest_cpu:.1f} of the {r.machine_cpu:.1f} CPU s busy;"
              f" its figure may be low")  # fmt: skip
    stolen = sum(r.steal for r in runs)
    if stolen >= 0.5:
        print(f"  (the hypervisor also took {stolen:.1f} CPU seconds away: steal time)")
    print()
    print("  every run verified: one SENT activity per enrollment, none twice, none left due,")
    print("  no send key left")
    print()
    kinds = sorted({(r.transport, r.workers, r.batch_size) for r in runs})
    medians = {k: median_run([r for r in runs if (r.transport, r.workers, r.batch_size) == k])
               for k in kinds}  # fmt: skip
    for (_, workers, _), run in sorted(medians.items(), key=lambda kv: kv[0][2]):
        if workers == 1:
            breakdown(run, rounds)
    ratios(runs, rounds)
    return goals({(w, b): run for (t, w, b), run in medians.items() if t == "recording"}, rounds)


def commits(run: Run) -> int:
    return sum(int(rep["statements"].get("COMMIT", [0, 0])[1]) for rep in run.reports)


def spread(values: list[float], form: str) -> str:
    """The median, and the range when there is more than one value."""
    middle = sorted(values)[(len(values) - 1) // 2]
    if len(values) == 1:
        return format(middle, form)
    return f"{middle:{form}} ({min(values):{form}}-{max(values):{form}})"


def ratios(runs: list[Run], rounds: int) -> None:
    """The external transport's steps/s over the recording one's, run against run in
    each round: the median and the range over the rounds."""
    pairs: dict[tuple[int, int], list[tuple[Run, Run]]] = {}
    for r in runs:
        if r.transport != "external":
            continue
        for other in runs:
            if (other.transport, other.workers, other.batch_size, other.round) == (
                "recording",
                r.workers,
                r.batch_size,
                r.round,
            ):
                pairs.setdefault((r.workers, r.batch_size), []).append((other, r))
    if not pairs:
        return
    over = f" (median, and range over {rounds} rounds)" if rounds > 1 else ""
    concurrency = runs[0].concurrency
    print(f"  recorded before and after (send concurrency {concurrency}) against recorded in "
          f"the claiming transaction{over}:")  # fmt: skip
    for (workers, batch_size), both in sorted(pairs.items(), key=lambda kv: kv[0][::-1]):
        recording = spread([a.rate for a, _ in both], ",.0f")
        external = spread([b.rate for _, b in both], ",.0f")
        ratio = spread([b.rate / a.rate for a, b in both], ".2f")
        per_commit = spread([b.sent / max(commits(b), 1) for _, b in both], ".1f")
        print(f"    {workers} worker(s), batch {batch_size}: recording {recording} steps/s,"
              f" external {external} steps/s: ratio {ratio}; {per_commit} steps per"
              f" commit")  # fmt: skip
    print()


def goals(medians: dict[tuple[int, int], Run], rounds: int) -> bool:
    """The goal check on the recording transport's runs (medians); True when missed."""
    if not medians:
        print("  no recording-transport run: no goal checked")
        return False
    if rounds > 1:
        print(f"  goal check on the median of {rounds} rounds (recording transport):")
    failed = False
    for batch_size in sorted({b for _, b in medians}):
        rates = {w: run.rate for (w, b), run in medians.items() if b == batch_size}
        if 1 in rates:
            ok = rates[1] >= GOAL_ONE_WORKER
            failed |= not ok
            verdict = "meets" if ok else "MISSES"
            print(f"  batch {batch_size}: 1 worker {rates[1]:,.0f} steps/s — "
                  f"{verdict} the goal (>= {GOAL_ONE_WORKER:,.0f})")  # fmt: skip
        if 1 in rates and 2 in rates:
            ok = rates[2] > rates[1]
            failed |= not ok
            print(f"  batch {batch_size}: 2 workers {rates[2]:,.0f} steps/s = "
                  f"{rates[2] / rates[1]:.2f}x one — "
                  f"{'meets' if ok else 'MISSES'} the goal (two faster than one)")  # fmt: skip
    return failed


def median_run(runs: list[Run]) -> Run:
    """The run with the median rate (the lower middle one of an even number)."""
    return sorted(runs, key=lambda r: r.rate)[(len(runs) - 1) // 2]


def breakdown(run: Run, rounds: int) -> None:
    """Where one worker's wall time went: each statement (totals over the run), COMMIT,
    and the rest (Python: planning, rendering, the transport, building parameters)."""
    (report,) = run.reports
    statements = sorted(report["statements"].items(), key=lambda kv: -kv[1][0])
    per_step = 1e6 / max(run.sent, 1)
    which = f" (round {run.round}, the median)" if rounds > 1 else ""
    print(f"  1 worker, batch {run.batch_size}, {run.transport}{which}: where its"
          f" {report['seconds']:.2f} s went (µs per step sent, calls)")  # fmt: skip
    in_sql = 0.0
    calls = 0
    for statement, (seconds, count) in statements:
        in_sql += seconds
        calls += count if statement != "COMMIT" else 0
        print(f"    {seconds * per_step:7.1f} µs {count:>6}  {short_sql(statement, 78)}")
    rest = report["seconds"] - in_sql
    print(f"    {rest * per_step:7.1f} µs         outside SQL (Python in the worker)")
    print(f"    {report['seconds'] * per_step:7.1f} µs         in all; the worker process used "
          f"{report['cpu'] * per_step:.1f} µs of CPU, its PostgreSQL backend "
          f"{run.postgres_cpu * per_step:.1f} µs")  # fmt: skip
    transactions = commits(run)
    print(f"    {transactions:,} transactions ({run.sent / max(transactions, 1):,.1f} steps"
          f" each), {calls / max(run.sent, 1):.3f} statements per step")  # fmt: skip
    print()


def int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError as error:
        message = f"not a comma-separated list of integers: {text!r}"
        raise argparse.ArgumentTypeError(message) from error
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers: {text!r}")
    return values


def transport_list(text: str) -> list[str]:
    values = [v.strip() for v in text.split(",") if v.strip()]
    unknown = [v for v in values if v not in TRANSPORTS]
    if not values or unknown or len(set(values)) != len(values):
        raise argparse.ArgumentTypeError(f"expected some of {', '.join(TRANSPORTS)}: {text!r}")
    return values


def parse_args() -> argparse.Namespace:
    parser = argument_parser(__doc__)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply the size (0.1 = 10,000 due)"
    )
    parser.add_argument("--enrollments", type=int, default=100_000, help="due enrollments")
    parser.add_argument("--sequences", type=int, default=10, help="sequences sharing them")
    parser.add_argument(
        "--workers", type=int_list, default=[1, 2], help="worker counts to run (default 1,2)"
    )
    parser.add_argument(
        "--batch-sizes",
        type=int_list,
        default=[500, 2000],
        help="engine batch sizes to run each worker count with (default 500,2000)",
    )
    parser.add_argument(
        "--transports",
        type=transport_list,
        default=list(TRANSPORTS),
        help="transports to run each with, side by side (default recording,external)",
    )
    parser.add_argument(
        "--send-concurrency",
        type=int,
        default=10,
        help="the engine's send concurrency: messages at most between a send and its "
        "recorded outcome, for the external transport (default 10, as "
        "ENGINE_SEND_CONCURRENCY)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="repeat every run; the goal is checked on the medians",
    )
    parser.add_argument("--work", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, default=500, help=argparse.SUPPRESS)
    parser.add_argument("--transport", default="recording", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not (0 < args.scale <= 10 and 1 <= args.sequences <= 1000):
        parser.error("--scale or --sequences out of range")
    if max(args.workers) > 16:
        parser.error("at most 16 workers")
    if not 1 <= args.rounds <= 10:
        parser.error("--rounds must be between 1 and 10")
    if not 1 <= args.send_concurrency <= 1000:
        parser.error("--send-concurrency must be between 1 and 1000")
    return args


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.work:
        asyncio.run(
            work(
                arguments.database_url,
                arguments.batch_size,
                arguments.transport,
                arguments.send_concurrency,
            )
        )
    else:
        asyncio.run(main(arguments))
