"""SQLite under write load: concurrent clients sending bulk actions, with the process's
write queue (writes take turns, first come first served) and without it (SQLite's busy
timeout alone decides who writes next), side by side in the same run.

Embedded mode on a fresh SQLite file (migrated, removed at the end): one sequence, each
client owning its own slice of its enrollments. The real app is served by uvicorn in this
process; each client, on its own keep-alive connection, sends bulk actions one after the
other (pauseEnrollments, then resumeEnrollments of its slice, by ids), all clients at
once. Each round runs both variants, in alternating order. Printed per variant: each
figure's range over the rounds (latency p50 / p99 / max, errors, bulk actions per second).
No figure is checked against a goal: the machine is shared.

Run:  .venv/bin/python -m bench.sqlite_writes [--clients 32] [--actions 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.harness.global_id import to_global_id
from bench.harness.http_client import Connection
from bench.harness.report import log, pct, source_version
from bench.harness.servers import make_app, serving_in_process
from seqgql.clock import SystemClock
from seqgql.persistence.database import SQLITE_BUSY_TIMEOUT_MS, Database
from seqgql.persistence.migrate import upgrade
from seqgql.services.auth import issue_token

VARIANTS = {"queue": True, "no queue": False}  # Database.queue_writes
ACTIONS = ("pauseEnrollments", "resumeEnrollments")
CREATE = """mutation($seq: CreateSequenceInput!, $contacts: CreateContactsInput!) {
  createSequence(input: $seq) { sequence { id } userErrors { message } }
  createContacts(input: $contacts) { contacts { id } userErrors { message } }
}"""
ENROLL = """mutation($input: AddContactsToSequenceInput!) {
  addContactsToSequence(input: $input) { changedCount userErrors { message } }
}"""


@dataclass
class Run:
    latencies: list[float]  # seconds, one per bulk action answered
    errors: int
    seconds: float

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (32)")
    parser.add_argument(
        "--actions", type=int, default=10, help="bulk actions per client per run (10, even)"
    )
    parser.add_argument("--per-client", type=int, default=50, help="enrollments per client")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of both variants (3)")
    return parser.parse_args()


async def graphql(
    conn: Connection, token: str, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    """The answer's data; a RuntimeError for anything but a 200 without errors."""
    body = json.dumps({"query": query, "variables": variables}).encode()
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    answer = await conn.request("POST", "/graphql", body, headers)
    payload: dict[str, Any] = answer.json()
    if answer.status_code != 200 or payload.get("errors"):
        raise RuntimeError(f"{answer.status_code}: {answer.text[:300]}")
    data: dict[str, Any] = payload["data"]
    return data


async def seed(
    base_url: str, db: Database, token: str, clients: int, per_client: int
) -> list[list[str]]:
    """A sequence with clients x per_client contacts enrolled, through the API; each
    client's slice of its enrollment ids."""
    conn = await Connection.open(base_url)
    try:
        count = clients * per_client
        step = {"channel": "EMAIL", "waitMinutes": 0, "subject": "Hi", "body": "Hello"}
        people = [{"firstName": f"W{i}", "email": f"w{i}@example.com"} for i in range(count)]
        created = await graphql(conn, token, CREATE, {
            "seq": {"name": "SQLite writes", "steps": [step]}, "contacts": {"contacts": people},
        })  # fmt: skip
        seq = created["createSequence"]["sequence"]["id"]
        contact_ids = [c["id"] for c in created["createContacts"]["contacts"]]
        for start in range(0, count, 1_000):
            batch = contact_ids[start : start + 1_000]
            done = await graphql(conn, token, ENROLL, {
                "input": {"sequenceId": seq, "contactIds": batch}})  # fmt: skip
            assert done["addContactsToSequence"]["changedCount"] == len(batch), done
    finally:
        await conn.close()
    async with db.read() as read:
        rows = await read.execute(sa.text("SELECT id FROM enrollments ORDER BY id"))
        ids = [to_global_id("Enrollment", row.id) for row in rows]
    return [ids[i::clients] for i in range(clients)]


async def client(
    base_url: str, token: str, mine: list[str], actions: int
) -> tuple[list[float], int]:
    """Pause, resume, pause... its slice, one bulk action after the other: latencies of
    the actions answered, and the number of the others."""
    conn = await Connection.open(base_url)
    latencies: list[float] = []
    errors = 0
    try:
        for n in range(actions):
            name = ACTIONS[n % 2]
            type_name = name[0].upper() + name[1:] + "Input"
            query = f"mutation($i: {type_name}!) {{ {name}(input: $i) {{ changedCount }} }}"
            started = time.perf_counter()
            try:
                data = await graphql(conn, token, query, {"i": {"selection": {"ids": mine}}})
                if data[name]["changedCount"] != len(mine):
                    raise RuntimeError(f"changed {data[name]['changedCount']} of {len(mine)}")
            except RuntimeError:
                errors += 1
                continue
            latencies.append(time.perf_counter() - started)
    finally:
        await conn.close()
    return latencies, errors


async def run(base_url: str, token: str, slices: list[list[str]], actions: int) -> Run:
    started = time.perf_counter()
    done = await asyncio.gather(*(client(base_url, token, mine, actions) for mine in slices))
    seconds = time.perf_counter() - started
    return Run([t for latencies, _ in done for t in latencies], sum(e for _, e in done), seconds)


def span(values: list[float], fmt: str) -> str:
    """The range of ``values``, or the one value they all round to."""
    low, high = format(min(values), fmt), format(max(values), fmt)
    return low if low == high else f"{low}\N{EN DASH}{high}"


def report(args: argparse.Namespace, runs: dict[str, list[Run]]) -> None:
    src = Path(__file__).resolve().parents[1] / "src"
    busy = SQLITE_BUSY_TIMEOUT_MS / 1000
    print(f"\nSQLite writes{source_version(src)}: {args.clients} clients x {args.actions} bulk "
          f"actions of {args.per_client} enrollments each, {args.rounds} round(s), "
          f"busy timeout {busy:g} s; ranges over the rounds\n")  # fmt: skip
    rows = [
        ("bulk actions answered", lambda r: float(len(r.latencies)), ",.0f"),
        ("errors", lambda r: float(r.errors), ",.0f"),
        ("latency p50 ms", lambda r: pct(r.latencies, 0.50) * 1000, ",.0f"),
        ("latency p99 ms", lambda r: pct(r.latencies, 0.99) * 1000, ",.0f"),
        ("latency max ms", lambda r: max(r.latencies, default=float("nan")) * 1000, ",.0f"),
        ("bulk actions / s", lambda r: r.per_second, ",.1f"),
        ("whole run s", lambda r: r.seconds, ",.1f"),
    ]
    print(f"| figure | {' | '.join(VARIANTS)} |")
    print(f"|---|{'---:|' * len(VARIANTS)}")
    for label, figure, fmt in rows:
        cells = [span([figure(r) for r in runs[v]], fmt) for v in VARIANTS]
        print(f"| {label} | {' | '.join(cells)} |")


async def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="seqgql-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        await asyncio.to_thread(upgrade, url)  # alembic's env runs its own event loop
        db = Database(url)
        try:
            token = (await issue_token(db, SystemClock(), email="bench@example.com")).token
        finally:
            await db.dispose()
        app = make_app(url, run_engine=False)
        runs: dict[str, list[Run]] = {v: [] for v in VARIANTS}
        actions = args.actions + args.actions % 2  # even: every run ends as it started
        async with serving_in_process(app) as base_url:
            slices = await seed(base_url, app.state.db, token, args.clients, args.per_client)
            log(f"seeded {args.clients * args.per_client:,} enrollments")
            for n in range(args.rounds):
                order = list(VARIANTS) if n % 2 == 0 else list(reversed(VARIANTS))
                for variant in order:
                    app.state.db.queue_writes = VARIANTS[variant]
                    result = await run(base_url, token, slices, actions)
                    runs[variant].append(result)
                    log(f"round {n + 1}, {variant}: p99 {pct(result.latencies, 0.99):.2f} s, "
                        f"{result.errors} errors, {result.seconds:.1f} s")  # fmt: skip
    report(args, runs)


if __name__ == "__main__":
    asyncio.run(main())
