"""A throw-away PostgreSQL database, migrated with the project's own migrations, filled
with set-based SQL (generate_series), never row by row; the options and checks every
benchmark has.

Only loopback PostgreSQL URLs are accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import asyncpg
from sqlalchemy.engine import make_url

from bench.harness.report import log
from seqgql.clock import SystemClock
from seqgql.persistence.database import Database
from seqgql.persistence.migrate import upgrade
from seqgql.services.auth import issue_token

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432"
LOOPBACK = {"127.0.0.1", "localhost", "::1", None, ""}

FIRST_NAMES = [
    "Ada", "Alan", "Grace", "Linus", "Barbara", "Ken", "Margaret", "Dennis", "Frances",
    "Edsger", "Radia", "Donald", "Hedy", "Tim", "Katherine", "Guido", "Annie", "Niklaus",
    "Sophie", "John",
]  # fmt: skip
LAST_NAMES = [
    "Lovelace", "Turing", "Hopper", "Torvalds", "Liskov", "Thompson", "Hamilton", "Ritchie",
    "Allen", "Dijkstra", "Perlman", "Knuth", "Lamarr", "Berners-Lee", "Johnson", "van Rossum",
    "Easley", "Wirth", "Wilson", "McCarthy",
]  # fmt: skip


def argument_parser(doc: str | None) -> argparse.ArgumentParser:
    """A parser described by the first paragraph of ``doc``, with ``--postgres-url``."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="server to create the scratch database on (loopback only)",
    )
    return parser


def require(condition: bool, message: str) -> None:
    if not condition:
        raise RuntimeError(f"verification failed: {message}")


def database_url(base: str, name: str) -> str:
    url = make_url(base)
    if url.host not in LOOPBACK:
        raise SystemExit(f"refusing a non-loopback PostgreSQL host: {url.host!r}")
    return url.set(drivername="postgresql", database=name).render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def scratch_database(base_url: str, prefix: str) -> AsyncIterator[str]:
    """Create a uniquely named database, migrate it, and drop it afterwards (even on error)."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    admin_url = database_url(base_url, "postgres")
    url = database_url(base_url, name)
    await _execute(admin_url, f'CREATE DATABASE "{name}"')
    log(f"created database {name}")
    try:
        started = time.perf_counter()
        await asyncio.to_thread(upgrade, url)  # alembic's env runs its own event loop
        log(f"migrated in {time.perf_counter() - started:.1f}s")
        yield url
    finally:
        await _execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        log(f"dropped database {name}")


async def _execute(url: str, statement: str) -> None:
    """One statement on its own connection (CREATE/DROP DATABASE: no transaction)."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@dataclass(frozen=True, slots=True)
class Tenant:
    token: str
    workspace_id: int
    user_ids: list[int]  # user_ids[0] owns the token


async def create_tenant(url: str, users: int = 1) -> Tenant:
    """One workspace and its users (the first one ADMIN, with an API token), through the
    project's own issue_token."""
    db = Database(url, pool_size=1)
    try:
        issued = await issue_token(
            db, SystemClock(), email="bench@example.com", workspace="bench", name="Bench Admin"
        )
    finally:
        await db.dispose()
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            """
            INSERT INTO users (workspace_id, name, email, role, created_at)
            SELECT $1, 'Member ' || g, 'member' || g || '@example.com', 'MEMBER', now()
            FROM generate_series(2, $2::int) g
            RETURNING id
            """,
            issued.workspace_id,
            users,
        )
    finally:
        await conn.close()
    return Tenant(issued.token, issued.workspace_id, [issued.user_id, *(r["id"] for r in rows)])


@dataclass(frozen=True, slots=True)
class SequenceSpec:
    enrollments: int
    # "active": every enrollment ACTIVE (the bulk benchmark's selected rows);
    # "mixed": a realistic spread of statuses and reasons.
    mix: str = "mixed"


# Cumulative thresholds of the "mixed" spread; each (status, reason) pair is valid.
_MIXED_STATUS = """
    CASE
      WHEN x.mix = 'active' OR x.r < 0.60 THEN 'ACTIVE'
      WHEN x.r < 0.70 THEN 'PAUSED'
      WHEN x.r < 0.82 THEN 'FINISHED'
      WHEN x.r < 0.85 THEN 'BOUNCED'
      WHEN x.r < 0.87 THEN 'FAILED'
      WHEN x.r < 0.91 THEN 'NOT_SENT'
      WHEN x.r < 0.93 THEN 'OPTED_OUT'
      WHEN x.r < 0.96 THEN 'OMITTED'
      ELSE 'REMOVED'
    END
"""


async def generate(
    url: str,
    tenant: Tenant,
    sequences: Sequence[SequenceSpec],
    *,
    events: bool = True,
    steps_per_sequence: int = 3,
) -> list[int]:
    """Fill the database; returns the sequence ids in the order of ``sequences``.

    Contacts: as many as the largest sequence (enrollment k of any sequence is contact k).
    Rows are inserted in enrolled_at order, so the sequences are interleaved on disk as
    they would be in a real table. Secondary indexes are dropped during the load and
    rebuilt after; FK triggers are skipped (session_replication_role) for the load only.
    With ``events``, each enrollment gets its enroll event (numbers 1..n per sequence).
    A status other than ACTIVE was reached after enrolling (status_changed_at): a FINISHED
    one when it finished, the others anywhere between then and now.
    """
    ws = tenant.workspace_id
    n_contacts = max(s.enrollments for s in sequences)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SET session_replication_role = replica")
        await conn.execute("SET synchronous_commit = off")
        await conn.execute("SET maintenance_work_mem = '512MB'")
        await conn.execute("SET work_mem = '256MB'")
        await conn.execute("SELECT setseed(0.4242)")
        dropped = await _drop_secondary_indexes(conn, ["contacts", "enrollments", "events"])

        started = time.perf_counter()
        await conn.execute(
            """
            INSERT INTO contacts (workspace_id, first_name, last_name, email, phone, phone_type,
                                  time_zone, opted_out, search_text, sort_name, created_at)
            SELECT $1, f, l, lower(f || '.' || replace(l, ' ', '') || g) || '@example.com',
                   '+1555' || lpad(g::text, 7, '0'),
                   CASE WHEN g % 10 = 0 THEN 'LANDLINE' ELSE 'MOBILE' END,
                   (ARRAY['Europe/Paris', 'America/New_York', 'Asia/Tokyo'])[1 + g % 3],
                   false,
                   lower(f || ' ' || l || ' ' || f || '.' || replace(l, ' ', '') || g
                         || '@example.com'),
                   lower(f || ' ' || l),
                   now() - interval '400 days'
            FROM (SELECT g, ($2::text[])[1 + g % array_length($2::text[], 1)] AS f,
                            ($3::text[])[1 + (g / 7) % array_length($3::text[], 1)] AS l
                  FROM generate_series(1, $4::int) g) s
            ORDER BY g
            """,
            ws, FIRST_NAMES, LAST_NAMES, n_contacts,
        )  # fmt: skip
        contact_base = await conn.fetchval(
            "SELECT min(id) FROM contacts WHERE workspace_id = $1", ws
        )

        seq_rows = await conn.fetch(
            """
            INSERT INTO sequences (workspace_id, name, archived, reply_window_minutes,
                                   last_event_number, created_at)
            SELECT $1, 'Bench sequence ' || g, false, 4320, 0, now() - interval '400 days'
            FROM generate_series(1, $2::int) g ORDER BY g
            RETURNING id
            """,
            ws,
            len(sequences),
        )
        seq_ids = sorted(r["id"] for r in seq_rows)
        await conn.execute(
            """
            INSERT INTO steps (sequence_id, position, channel, wait_minutes, subject, body)
            SELECT s, p, CASE WHEN p = $2 AND p > 1 THEN 'SMS' ELSE 'EMAIL' END,
                   CASE WHEN p = 1 THEN 0 ELSE 2 * 1440 END,
                   CASE WHEN p = $2 AND p > 1 THEN NULL ELSE 'Step ' || p END,
                   'Hello {{first_name}}, this is step ' || p || '.'
            FROM unnest($1::bigint[]) s, generate_series(1, $2::int) p
            """,
            seq_ids,
            steps_per_sequence,
        )

        await conn.execute(
            f"""
            INSERT INTO enrollments (workspace_id, sequence_id, contact_id, status, reason,
                current_step, last_sent_step, enrolled_by_id, enrolled_at, resume_at,
                next_run_at, finished_at, updated_at, status_changed_at, outcome, version)
            SELECT $1, y.seq, $2::bigint + y.k - 1, y.status,
                CASE y.status
                  WHEN 'PAUSED' THEN 'MANUAL'
                  WHEN 'FINISHED' THEN CASE WHEN y.r2 < 0.5 THEN 'REPLIED'
                                            ELSE 'COMPLETED_NO_RESPONSE' END
                  WHEN 'NOT_SENT' THEN 'MISSING_EMAIL'
                  WHEN 'OMITTED' THEN 'OPTED_OUT'
                END,
                CASE WHEN y.status IN ('FINISHED', 'OMITTED') THEN NULL ELSE y.step END,
                CASE WHEN y.status = 'FINISHED' THEN $5::int
                     WHEN y.status = 'OMITTED' THEN 0 ELSE y.step - 1 END,
                ($3::bigint[])[1 + y.k % array_length($3::bigint[], 1)],
                y.enrolled_at,
                CASE WHEN y.status = 'PAUSED' AND y.r2 < 0.3
                     THEN now() + (y.r2 * interval '30 days') END,
                CASE WHEN y.status = 'ACTIVE'
                     THEN now() + (y.r2 * interval '3 days') END,
                CASE WHEN y.status = 'FINISHED'
                     THEN y.enrolled_at + interval '9 days' END,
                y.enrolled_at,
                CASE WHEN y.status = 'ACTIVE' THEN y.enrolled_at
                     WHEN y.status = 'FINISHED'
                     THEN LEAST(y.enrolled_at + interval '9 days', now())
                     ELSE y.enrolled_at
                          + (now() - y.enrolled_at) * ((y.k::bigint * 7919 % 1000) / 1000.0)::float8
                END,
                CASE WHEN y.status = 'FINISHED' THEN CASE WHEN y.r2 < 0.5 THEN 'RESPONDED'
                                                          ELSE 'NO_RESPONSE' END END,
                0
            FROM (
                SELECT x.seq, x.k, x.r, x.r2, {_MIXED_STATUS} AS status,
                       1 + x.k % $5::int AS step,
                       now() - interval '365 days' + (x.t * interval '360 days') AS enrolled_at
                FROM (
                    SELECT s.seq, s.mix, g AS k, random() AS r, random() AS r2, random() AS t
                    FROM unnest($4::bigint[], $6::int[], $7::text[]) AS s(seq, n, mix)
                    CROSS JOIN LATERAL generate_series(1, s.n) g
                ) x
            ) y
            ORDER BY y.enrolled_at
            """,
            ws, contact_base, tenant.user_ids, seq_ids, steps_per_sequence,
            [s.enrollments for s in sequences], [s.mix for s in sequences],
        )  # fmt: skip
        log(f"inserted {sum(s.enrollments for s in sequences):,} enrollments, "
            f"{n_contacts:,} contacts in {time.perf_counter() - started:.1f}s")  # fmt: skip

        if events:
            started = time.perf_counter()
            await conn.execute(
                """
                INSERT INTO events (workspace_id, sequence_id, number, enrollment_id,
                    from_status, from_reason, to_status, to_reason, actor_id,
                    bulk_operation_id, at)
                SELECT workspace_id, sequence_id,
                       row_number() OVER (PARTITION BY sequence_id ORDER BY id),
                       id, NULL, NULL, 'ACTIVE', NULL, enrolled_by_id, NULL, enrolled_at
                FROM enrollments WHERE workspace_id = $1
                ORDER BY id
                """,
                ws,
            )
            await conn.execute(
                """
                UPDATE sequences s SET last_event_number = m.n
                FROM (SELECT sequence_id, max(number) AS n FROM events GROUP BY sequence_id) m
                WHERE m.sequence_id = s.id
                """
            )
            log(f"inserted enroll events in {time.perf_counter() - started:.1f}s")

        started = time.perf_counter()
        for statement in dropped:
            await conn.execute(statement)
        log(f"rebuilt {len(dropped)} secondary indexes in {time.perf_counter() - started:.1f}s")
        await conn.execute("RESET session_replication_role")
        started = time.perf_counter()
        await conn.execute("VACUUM (ANALYZE)")
        await conn.execute("CHECKPOINT")
        log(f"vacuum analyze + checkpoint in {time.perf_counter() - started:.1f}s")
    finally:
        await conn.close()
    return seq_ids


async def _drop_secondary_indexes(conn: asyncpg.Connection, tables: list[str]) -> list[str]:
    """Drop the indexes that back no constraint; return the statements recreating them."""
    rows = await conn.fetch(
        """
        SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS ddl
        FROM pg_index i
        JOIN pg_class t ON t.oid = i.indrelid
        WHERE t.relname = ANY($1::text[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY 1
        """,
        tables,
    )
    for row in rows:
        await conn.execute(f"DROP INDEX {row['name']}")
    return [row["ddl"] for row in rows]
