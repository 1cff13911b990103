"""Engine workers as real processes (`seqgql worker`, three of them) sending two email
steps to every enrollment through a real SMTP server, one worker stopped mid-run.

- SIGTERM: the worker finishes the messages in flight, records them and exits; the others
  send the rest. Every message arrives exactly once.
- SIGKILL: nothing of the killed worker runs again. The steps it had claimed are taken up
  by the others once its lease has run out, under the same Message-ID; at most the
  messages it had in flight (ENGINE_SEND_CONCURRENCY) arrive twice, none is missing, and
  each step is recorded as sent exactly once.

The run's own database (the workers serve every workspace in it). Recovery times are
printed."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from seqgql.clock import FrozenClock
from seqgql.domain.kinds import StepChannel
from seqgql.domain.sequence import StepSpec
from seqgql.persistence.database import Database
from seqgql.persistence.migrate import upgrade_async
from seqgql.persistence.tables import activities, enrollments
from tests.helpers.clocks import START
from tests.helpers.databases import POSTGRES_URL, admin
from tests.helpers.engine import Delivery
from tests.helpers.processes import seqgql, seqgql_env
from tests.helpers.smtp import SENDER, RecordingHandler, smtp_server
from tests.helpers.workspace import make_workspace

pytestmark = [pytest.mark.postgres_only, pytest.mark.faults]

CONTACTS = 1_500
WORKERS = 3
CONCURRENCY = 10
LEASE_SECONDS = 2.0
STEPS = [
    StepSpec(StepChannel.EMAIL, 0, "Hi {{first_name}}", "First {{first_name}}"),
    StepSpec(StepChannel.EMAIL, 0, "Again {{first_name}}", "Second {{first_name}}"),
]
KEY = re.compile(r"<seqgql\.(\d+\.\d+\.\d+)@")
DONE_WITHIN = 120.0  # seconds: a guard against a hang, not a measurement


class SlowSink(RecordingHandler):
    """Takes a few milliseconds per message, so that a worker has messages in flight."""

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.005)
        return await super().handle_DATA(server, session, envelope)

    def keys(self) -> list[str]:
        with self.lock:
            ids = [str(d.message["Message-ID"]) for d in self.delivered]
        found = [KEY.search(i) for i in ids]
        assert all(found), ids[:5]
        return [m.group(1) for m in found if m]


@pytest.fixture
def own_database(database_url: str) -> Iterator[str]:
    """A database of the test's own: the workers take every due step they find."""
    name = f"seqgql_workers_{uuid.uuid4().hex[:12]}"
    admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_URL}/{name}"
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Run:
    db: Database
    url: str
    enrollment_ids: list[int]

    def expected_keys(self) -> set[str]:
        return {f"{pk}.{step}.0" for pk in self.enrollment_ids for step in (1, 2)}

    async def steps_recorded(self) -> int:
        async with self.db.read() as conn:
            return int(
                (
                    await conn.execute(
                        sa.select(sa.func.coalesce(sa.func.sum(enrollments.c.last_sent_step), 0))
                    )
                ).scalar_one()
            )

    async def sent_activities(self) -> Counter[tuple[int, int]]:
        a = activities.c
        async with self.db.read() as conn:
            rows = await conn.execute(sa.select(a.enrollment_id, a.step).where(a.kind == "SENT"))
            return Counter((r.enrollment_id, r.step) for r in rows)


@pytest.fixture
async def run(own_database: str) -> AsyncIterator[Run]:
    await upgrade_async(own_database)
    db = Database(own_database)
    try:
        clock = FrozenClock(START)  # long past: every step is due for the workers' clock
        workspace = await make_workspace(db, clock)
        delivery = Delivery(db, clock, workspace.actor)
        sequence_id = await delivery.sequence(STEPS, reply_window_minutes=60)
        ids = []
        for part in range(0, CONTACTS, 1_000):  # the API takes 1,000 per call
            count = min(1_000, CONTACTS - part)
            ids += await delivery.enroll(sequence_id, count, prefix=f"Part{part}x")
        yield Run(db, own_database, ids)
    finally:
        await db.dispose()


def _workers(url: str, smtp_port: int) -> list[subprocess.Popen[bytes]]:
    env = seqgql_env(
        DATABASE_URL=url,
        AUTO_MIGRATE="false",
        BROADCAST_URL="memory://",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp_port),
        SMTP_FROM=SENDER,
        SMTP_STARTTLS="false",
        SMTP_TIMEOUT_SECONDS="60",
        ENGINE_SEND_CONCURRENCY=str(CONCURRENCY),
        ENGINE_SEND_LEASE_SECONDS=str(LEASE_SECONDS),
        ENGINE_BATCH_SIZE="200",
        ENGINE_IDLE_SECONDS="0.2",
    )
    return [seqgql("worker", env=env, stderr=subprocess.DEVNULL) for _ in range(WORKERS)]


async def _until(condition, seconds: float = DONE_WITHIN) -> float:  # type: ignore[no-untyped-def]
    """Wait until ``condition()`` (awaited) holds; the moment it did."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition():
            return time.monotonic()
        await asyncio.sleep(0.05)
    raise AssertionError(f"not reached within {seconds} s")


async def _stop_one_midway(run: Run, sig: signal.Signals) -> tuple[SlowSink, float, float]:
    """Three workers send everything; one gets ``sig`` a third of the way. The sink, and
    the seconds from the signal to the last step sent and recorded, and to the signalled
    worker's exit."""
    sink = SlowSink()
    total = len(run.expected_keys())
    with smtp_server(sink) as port:
        workers = _workers(run.url, port)
        try:

            async def a_third_out() -> bool:
                with sink.lock:
                    return len(sink.delivered) >= total // 3

            await _until(a_third_out)
            signalled = time.monotonic()
            workers[0].send_signal(sig)

            async def exited() -> bool:
                return workers[0].poll() is not None

            exit_after = await _until(exited, 30) - signalled

            async def all_recorded() -> bool:
                return await run.steps_recorded() == total

            done_after = await _until(all_recorded) - signalled
        finally:
            for worker in workers:
                worker.kill()
                worker.wait(10)
    return sink, done_after, exit_after


async def test_a_worker_stopped_with_sigterm_sends_nothing_twice(run: Run) -> None:
    sink, done_after, exit_after = await _stop_one_midway(run, signal.SIGTERM)
    keys = sink.keys()
    twice = [k for k, n in Counter(keys).items() if n > 1]
    print(
        f"\nSIGTERM: the worker exited {exit_after:.2f} s after it; every step sent "
        f"{done_after:.2f} s after it; {len(keys)} messages, {len(twice)} twice"
    )
    assert set(keys) == run.expected_keys()
    assert twice == []
    sent = await run.sent_activities()
    assert len(sent) == len(run.expected_keys()) and set(sent.values()) == {1}


async def test_a_worker_killed_sends_again_at_most_what_it_had_in_flight(run: Run) -> None:
    sink, done_after, _ = await _stop_one_midway(run, signal.SIGKILL)
    keys = sink.keys()
    twice = {k: n for k, n in Counter(keys).items() if n > 1}
    print(
        f"\nSIGKILL: every step sent {done_after:.2f} s after the kill (lease "
        f"{LEASE_SECONDS:.0f} s); {len(keys)} messages, {len(twice)} sent twice "
        f"(at most {CONCURRENCY} allowed)"
    )
    assert set(keys) == run.expected_keys(), "a message is missing"
    assert set(twice.values()) <= {2} and len(twice) <= CONCURRENCY, twice
    sent = await run.sent_activities()
    assert len(sent) == len(run.expected_keys()) and set(sent.values()) == {1}
