"""Export benchmark: GET /export/enrollments.csv of a sequence of 1,000,000 enrollments,
through the real app under uvicorn, beside two references reading the same rows from
PostgreSQL with asyncpg: COPY ... TO STDOUT (CSV, streamed) and a plain SELECT of every
row at once.

A fresh PostgreSQL database (created, migrated, dropped at the end) gets one sequence of
N enrollments (mixed statuses). Each of the three runs in a process of its own, so that
its peak RSS (VmHWM, reset before the run where Linux allows it) is its own. It prints
rows/s and peak RSS side by side, and checks that the file holds every row once.

Run:  .venv/bin/python -m bench.export [--postgres-url URL] [--scale 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

import asyncpg
import httpx

from bench.harness.global_id import to_global_id
from bench.harness.report import log
from bench.harness.scratch import (
    SequenceSpec,
    argument_parser,
    create_tenant,
    generate,
    require,
    scratch_database,
)
from bench.harness.servers import make_app, serve, start_module, start_server, stop_process

ENROLLMENTS = 1_000_000
# The columns of the export, as one SELECT (the references read these)
REFERENCE_SQL = """
SELECT e.id, e.status, e.reason, e.current_step, e.enrolled_at, e.resume_at, e.next_run_at,
       e.finished_at, c.id, c.first_name, c.last_name, c.email, c.phone, c.phone_type,
       c.time_zone, c.opted_out, u.name, u.email
FROM enrollments e JOIN contacts c ON c.id = e.contact_id
LEFT JOIN users u ON u.id = e.enrolled_by_id
WHERE e.workspace_id = {ws} AND e.sequence_id = {seq} AND e.status <> 'REMOVED'
ORDER BY e.enrolled_at DESC, e.id DESC
"""


def peak_rss_mb(pid: int | str = "self") -> float:
    """The process's peak resident set (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak_rss(pid: int | str = "self") -> bool:
    """Start the peak over from the current RSS (Linux's clear_refs), where allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


async def reference(kind: str, url: str, workspace_id: int, sequence_id: int) -> None:
    """In a child process: read the rows as ``kind`` says; print rows, seconds, peak."""
    sql = REFERENCE_SQL.format(ws=workspace_id, seq=sequence_id)
    conn = await asyncpg.connect(url)
    try:
        reset_peak_rss()
        started = time.perf_counter()
        if kind == "copy":
            lines = 0

            async def count(chunk: bytes) -> None:
                nonlocal lines
                lines += chunk.count(b"\n")

            await conn.copy_from_query(sql, output=count, format="csv", header=True)
            rows = lines - 1
        else:
            rows = len(await conn.fetch(sql))
        seconds = time.perf_counter() - started
    finally:
        await conn.close()
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_mb": peak_rss_mb()}), flush=True)


async def run_reference(kind: str, url: str, workspace_id: int, sequence_id: int) -> dict:
    process = await start_module(
        "bench.export", "--reference", kind, url, str(workspace_id), str(sequence_id),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await process.communicate()
    require(process.returncode == 0, f"the {kind} reference failed")
    return json.loads(out.decode().strip().splitlines()[-1])  # type: ignore[no-any-return]


async def run_export(url: str, token: str, sequence_id: int, expected: int) -> dict:
    process, port, _ = await start_server("bench.export", "--serve", url, name="the app")
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", trust_env=False,
                                     timeout=600) as client:  # fmt: skip
            headers = {"authorization": f"Bearer {token}"}
            params = {"sequenceId": to_global_id("Sequence", sequence_id)}
            nobody = {**params, "filter": '{"search": "nobody"}'}
            warm = await client.get("/export/enrollments.csv", headers=headers, params=nobody)
            require(warm.status_code == 200, warm.text)
            idle_mb = peak_rss_mb(process.pid)
            reset = reset_peak_rss(process.pid)
            lines = chunks = size = 0
            started = time.perf_counter()
            async with client.stream("GET", "/export/enrollments.csv", headers=headers,
                                     params=params) as response:  # fmt: skip
                require(response.status_code == 200, f"status {response.status_code}")
                async for chunk in response.aiter_raw():
                    chunks += 1
                    size += len(chunk)
                    lines += chunk.count(b"\n")  # a CRLF may span two chunks
            seconds = time.perf_counter() - started
            peak = peak_rss_mb(process.pid)
    finally:
        await stop_process(process)
    require(lines - 1 == expected, f"the file holds {lines - 1:,} rows, not {expected:,}")
    return {"rows": lines - 1, "seconds": seconds, "peak_mb": peak, "idle_mb": idle_mb,
            "chunks": chunks, "bytes": size, "reset": reset}  # fmt: skip


async def main(args: argparse.Namespace) -> None:
    n = max(1, int(ENROLLMENTS * args.scale))
    async with scratch_database(args.postgres_url, "seqgql_bench_export") as url:
        tenant = await create_tenant(url)
        [seq] = await generate(url, tenant, [SequenceSpec(n)], events=False)
        conn = await asyncpg.connect(url)
        try:
            visible = await conn.fetchval(
                "SELECT count(*) FROM enrollments WHERE sequence_id = $1 AND status <> 'REMOVED'",
                seq,
            )
        finally:
            await conn.close()
        log(f"exporting {visible:,} enrollments (removed ones hidden, as in the list)")
        app = await run_export(url, tenant.token, seq, visible)
        copy = await run_reference("copy", url, tenant.workspace_id, seq)
        fetch = await run_reference("select", url, tenant.workspace_id, seq)
    require(copy["rows"] == fetch["rows"] == visible, "the references read other rows")
    print(f"\n{visible:,} rows (of {n:,} enrollments), on {sys.platform}\n")
    print("| what | seconds | rows/s | peak RSS (MB) |")
    print("|---|---|---|---|")
    for name, figures in (
        ("GET /export/enrollments.csv (app under uvicorn)", app),
        ("COPY … TO STDOUT (asyncpg, CSV, streamed)", copy),
        ("SELECT of every row at once (asyncpg fetch)", fetch),
    ):
        rate = figures["rows"] / figures["seconds"]
        print(f"| {name} | {figures['seconds']:.1f} | {rate:,.0f} | {figures['peak_mb']:.0f} |")
    print(
        f"\nthe app: {app['idle_mb']:.0f} MB before the export (peak "
        f"{'reset' if app['reset'] else 'not reset: a lifetime peak'}), "
        f"{app['bytes'] / 1e6:,.1f} MB sent in {app['chunks']:,} chunks"
    )


def cli() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--scale", type=float, default=1.0,
                        help=f"fraction of {ENROLLMENTS:,} enrollments")  # fmt: skip
    parser.add_argument("--serve", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--reference", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(make_app(args.serve))
    elif args.reference:
        kind, url, ws, seq = args.reference
        asyncio.run(reference(kind, url, int(ws), int(seq)))
    else:
        asyncio.run(main(args))


if __name__ == "__main__":
    cli()
