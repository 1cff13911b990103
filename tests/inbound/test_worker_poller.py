"""`seqgql worker` reads the mailbox: with IMAP_* set, a reply delivered into a real
Dovecot finishes its enrollment, and SIGTERM stops the worker cleanly."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from seqgql.clock import SystemClock
from seqgql.domain.kinds import Role
from seqgql.persistence.database import Database
from seqgql.persistence.migrate import upgrade_async
from seqgql.persistence.tables import enrollments
from seqgql.services.actor import Actor
from seqgql.services.auth import issue_token
from tests.helpers.imap import PASSWORD, USER, PrivateDovecot, dovecot_program
from tests.helpers.inbound import corpus_message, enrolled_contact
from tests.helpers.processes import require_programs, seqgql, seqgql_env


@pytest.fixture
def dovecot() -> Iterator[PrivateDovecot]:
    require_programs(dovecot_program(), why="Dovecot (apt-get install dovecot-imapd) is")
    server = PrivateDovecot()
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.mark.sqlite_only
async def test_the_worker_reads_the_mailbox(
    database_url: str, dovecot: PrivateDovecot, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'worker.db'}"
    await upgrade_async(url)
    db = Database(url)
    clock = SystemClock()
    try:
        issued = await issue_token(
            db, clock, email="ops@inbound.example.com", workspace="Mail", role=Role.ADMIN
        )
        actor = Actor(issued.workspace_id, issued.user_id, Role.ADMIN)
        _, enrollment = await enrolled_contact(db, clock, actor, email="ada@acme.example.com")
        await dovecot.append(corpus_message("reply_gmail.eml", enrollment, "ada@acme.example.com"))
        env = seqgql_env(
            DATABASE_URL=url, IMAP_HOST="127.0.0.1", IMAP_PORT=str(dovecot.port),
            IMAP_USERNAME=USER, IMAP_PASSWORD=PASSWORD, IMAP_TLS="false",
            IMAP_WORKSPACE="Mail", IMAP_POLL_SECONDS="0.2", LOG_LEVEL="warning",
        )  # fmt: skip
        worker = seqgql("worker", env=env, stderr=subprocess.PIPE)
        try:
            status = None
            for _ in range(600):  # at most a minute
                async with db.read() as conn:
                    status = (
                        await conn.execute(
                            sa.select(enrollments.c.status).where(enrollments.c.id == enrollment)
                        )
                    ).scalar_one()
                if status == "FINISHED":
                    break
                await asyncio.sleep(0.1)
            assert status == "FINISHED"
        finally:
            worker.send_signal(signal.SIGTERM)
            _, stderr = worker.communicate(timeout=30)
        assert worker.returncode == 0, stderr.decode()
        assert b"Traceback" not in stderr
        assert all("\\Seen" in flags for flags in (await dovecot.flags()).values())
    finally:
        await db.dispose()
