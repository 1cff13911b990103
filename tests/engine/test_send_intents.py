"""Sends recorded before and after (engine.intents): a step whose message is out belongs
to the worker sending it until its lease runs out; its outcome is recorded once, whatever
happened to the enrollment meanwhile. (Real worker processes killed mid-run:
tests/faults/test_worker_kill.py.)"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa

from seqgql.clock import FrozenClock
from seqgql.domain.selection import Selection
from seqgql.persistence.database import Database
from seqgql.persistence.tables import enrollments
from seqgql.services.enrollments import pause
from tests.helpers.engine import HANG_GUARD_SECONDS, Delivery, GatedTransport, ScriptedTransport
from tests.helpers.workspace import Workspace

pytestmark = pytest.mark.isolated_clock
LEASE = 60.0


async def _keys(db: Database, ids: list[int]) -> dict[int, str | None]:
    e = enrollments.c
    async with db.read() as conn:
        rows = await conn.execute(sa.select(e.id, e.sending_key).where(e.id.in_(ids)))
        return {r.id: r.sending_key for r in rows}


async def test_a_step_being_sent_is_not_taken_by_another_worker(delivery: Delivery) -> None:
    _, ids = await delivery.enrolled(20)
    gated = GatedTransport(signal_after=5)
    first = delivery.engine(gated, send_concurrency=5, send_lease_seconds=LEASE)
    batch = asyncio.create_task(first.run_once())
    await asyncio.wait_for(gated.all_in_flight.wait(), HANG_GUARD_SECONDS)

    other = ScriptedTransport()
    stats = await delivery.engine(other).run_once()  # the rows are no longer locked
    assert (stats.processed, other.accepted) == (0, [])
    assert set((await _keys(delivery.db, ids)).values()) == {f"{pk}.1.0" for pk in ids}

    gated.gate.set()
    assert (await asyncio.wait_for(batch, HANG_GUARD_SECONDS)).sent == 20
    assert sorted(m.enrollment_id for m in gated.accepted) == ids
    assert sorted(await delivery.sent_steps(ids)) == [(pk, 1) for pk in ids]
    assert set((await _keys(delivery.db, ids)).values()) == {None}


async def test_the_steps_of_a_worker_that_died_are_taken_up_after_its_lease(
    delivery: Delivery, clock: FrozenClock
) -> None:
    """The worker dies with five messages out and fifteen not started: nothing is sent
    until its lease runs out; then another sends all twenty under the same keys (the five
    may have gone out: receivers see the same Message-ID), and records each once."""
    _, ids = await delivery.enrolled(20)
    gated = GatedTransport(signal_after=5)
    dying = delivery.engine(gated, send_concurrency=5, send_lease_seconds=LEASE)
    batch = asyncio.create_task(dying.run_once())
    await asyncio.wait_for(gated.all_in_flight.wait(), HANG_GUARD_SECONDS)
    batch.cancel()  # nothing of it runs again
    with pytest.raises(asyncio.CancelledError):
        await batch

    other = ScriptedTransport()
    heir = delivery.engine(other, send_lease_seconds=LEASE)
    clock.advance(timedelta(seconds=LEASE - 1))
    assert (await heir.run_once()).processed == 0
    clock.advance(timedelta(seconds=2))
    assert (await heir.run_once()).sent == 20
    assert sorted(m.key or "" for m in other.accepted) == sorted(f"{pk}.1.0" for pk in ids)
    in_flight = {m.key for m in gated.started}
    assert in_flight <= {m.key for m in other.accepted} and len(in_flight) == 5
    assert sorted(await delivery.sent_steps(ids)) == [(pk, 1) for pk in ids]


async def test_a_step_paused_while_its_message_is_out_records_the_send(
    delivery: Delivery, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    seq, ids = await delivery.enrolled(1)
    gated = GatedTransport(signal_after=1)
    batch = asyncio.create_task(delivery.engine(gated, send_lease_seconds=LEASE).run_once())
    await asyncio.wait_for(gated.all_in_flight.wait(), HANG_GUARD_SECONDS)
    paused = await pause(db, clock, workspace.actor, Selection(ids=tuple(ids)))
    assert paused.changed_count == 1
    gated.gate.set()
    assert (await asyncio.wait_for(batch, HANG_GUARD_SECONDS)).sent == 1

    state = (await delivery.states(ids))[ids[0]]
    assert (state.status, state.current_step, state.last_sent_step) == ("PAUSED", 2, 1)
    assert await delivery.sent_steps(ids) == [(ids[0], 1)]
    assert await delivery.status_changes(seq) == [(ids[0], "ACTIVE", None, "PAUSED", "MANUAL")]
    assert await _keys(db, ids) == {ids[0]: None}


@pytest.mark.postgres_only
async def test_an_outcome_whose_row_another_transaction_holds_is_recorded_once_it_is_free(
    delivery: Delivery, database_url: str
) -> None:
    """A bulk action holding the row when the outcome comes: the worker does not wait for
    it (it might be waiting for the worker), it tries again a moment later."""
    _, ids = await delivery.enrolled(3)
    gated = GatedTransport(signal_after=3)
    engine = delivery.engine(gated, send_concurrency=3, send_lease_seconds=LEASE)
    batch = asyncio.create_task(engine.run_once())
    await asyncio.wait_for(gated.all_in_flight.wait(), HANG_GUARD_SECONDS)
    holder = Database(database_url)
    try:
        async with holder.write() as conn:
            await conn.execute(
                sa.select(enrollments.c.id).where(enrollments.c.id == ids[1]).with_for_update()
            )
            gated.gate.set()
            await asyncio.sleep(0.3)
            assert not batch.done()
            assert sorted(await delivery.sent_steps(ids)) == [(ids[0], 1), (ids[2], 1)]
        assert (await asyncio.wait_for(batch, HANG_GUARD_SECONDS)).sent == 3
    finally:
        await holder.dispose()
    assert sorted(await delivery.sent_steps(ids)) == [(pk, 1) for pk in ids]
    assert set((await _keys(delivery.db, ids)).values()) == {None}
    again = ScriptedTransport()
    await delivery.engine(again).run_until_idle()
    assert again.accepted_for(ids) == []  # not sent again
