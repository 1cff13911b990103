"""Stopping a worker: once told to stop it starts no new message, lets the ones in flight
finish, records what was sent and leaves the rest due, untouched. A new worker then sends
the rest: nothing is lost and nothing is sent twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta

import pytest

from seqgql.clock import FrozenClock
from seqgql.outbound.transport import OutboundMessage
from tests.helpers.engine import (
    HANG_GUARD_SECONDS,
    Delivery,
    GatedTransport,
    ScriptedTransport,
    State,
)

# The engine serves every workspace: a clock of its own keeps other tests' rows from being due.
pytestmark = pytest.mark.isolated_clock


class SlowTransport:
    """Takes a moment per message (it yields to the event loop) and says when
    ``signal_after`` messages have been accepted."""

    def __init__(self, signal_after: int) -> None:
        self.accepted: list[OutboundMessage] = []
        self.signal_after = signal_after
        self.went_out = asyncio.Event()

    async def send(self, message: OutboundMessage) -> None:
        await asyncio.sleep(0.001)
        self.accepted.append(message)
        if len(self.accepted) >= self.signal_after:
            self.went_out.set()


class StoppingTransport(ScriptedTransport):
    """Accepts messages, and sets ``stop`` (as a signal handler would) with the n-th."""

    def __init__(self, stop: asyncio.Event, stop_with: int) -> None:
        super().__init__()
        self.stop = stop
        self.stop_with = stop_with

    async def send(self, message: OutboundMessage) -> None:
        await super().send(message)
        if len(self.accepted) == self.stop_with:
            self.stop.set()


def untouched(state: State, due: datetime) -> bool:
    """Still due for step 1, as it was before the worker started."""
    return (
        state.status, state.reason, state.current_step, state.last_sent_step,
        state.send_attempts, state.next_run_at,
    ) == ("ACTIVE", None, 1, 0, 0, due)  # fmt: skip


async def test_graceful_shutdown_loses_nothing_and_sends_nothing_twice(
    delivery: Delivery, clock: FrozenClock
) -> None:
    seq, ids = await delivery.enrolled(50)
    due = clock.now()
    slow = SlowTransport(signal_after=5)
    stop = asyncio.Event()
    worker = asyncio.create_task(
        delivery.engine(slow, send_concurrency=1).run_forever(stop, idle_seconds=0.01)
    )
    await asyncio.wait_for(slow.went_out.wait(), HANG_GUARD_SECONDS)
    stop.set()
    await asyncio.wait_for(worker, HANG_GUARD_SECONDS)

    received = [m.enrollment_id for m in slow.accepted]
    assert 5 <= len(received) < 50
    assert len(set(received)) == len(received)
    assert sorted(await delivery.sent_steps(ids)) == sorted((pk, 1) for pk in received)
    got = await delivery.states(ids)
    for pk in received:
        assert (got[pk].status, got[pk].current_step, got[pk].last_sent_step) == ("ACTIVE", 2, 1)
    rest = [pk for pk in ids if pk not in set(received)]
    assert all(untouched(got[pk], due) for pk in rest)

    fresh = ScriptedTransport()
    await delivery.engine(fresh).run_until_idle()
    assert sorted(fresh.accepted_for(ids)) == rest
    assert sorted(received + fresh.accepted_for(ids)) == ids  # every one, once
    assert sorted(await delivery.sent_steps(ids)) == [(pk, 1) for pk in ids]
    assert await delivery.status_changes(seq) == []


async def test_messages_in_flight_finish_and_are_recorded(
    delivery: Delivery, clock: FrozenClock
) -> None:
    _, ids = await delivery.enrolled(20)
    due = clock.now()
    gated = GatedTransport(signal_after=5)
    stop = asyncio.Event()
    batch = asyncio.create_task(delivery.engine(gated, send_concurrency=5).run_once(stop))
    await asyncio.wait_for(gated.all_in_flight.wait(), HANG_GUARD_SECONDS)
    stop.set()  # five messages are with the transport now
    gated.gate.set()
    stats = await asyncio.wait_for(batch, HANG_GUARD_SECONDS)

    in_flight = [m.enrollment_id for m in gated.started]
    assert len(in_flight) == 5
    assert [m.enrollment_id for m in gated.accepted] == in_flight
    assert (stats.sent, stats.not_attempted) == (5, 15)
    assert sorted(await delivery.sent_steps(ids)) == sorted((pk, 1) for pk in in_flight)
    got = await delivery.states(ids)
    assert all(untouched(got[pk], due) for pk in ids if pk not in set(in_flight))


async def test_a_worker_told_to_stop_before_it_starts_sends_nothing(
    delivery: Delivery, clock: FrozenClock
) -> None:
    _, ids = await delivery.enrolled(3)
    due = clock.now()
    transport = ScriptedTransport()
    stop = asyncio.Event()
    stop.set()
    await delivery.engine(transport).run_once(stop)
    await delivery.engine(transport).run_forever(stop)  # returns at once
    assert transport.calls == {}
    assert await delivery.activity_rows(ids) == []
    assert all(untouched(s, due) for s in (await delivery.states(ids)).values())


async def test_steps_left_by_a_stopping_worker_do_not_count_against_the_daily_limit(
    delivery: Delivery, clock: FrozenClock
) -> None:
    _, ids = await delivery.enrolled(5, daily_limit_per_sender=3)
    stop = asyncio.Event()
    first = StoppingTransport(stop, stop_with=1)
    await delivery.engine(first, send_concurrency=1).run_once(stop)
    assert len(first.accepted) == 1  # then it stopped: two of today's three were left

    second = ScriptedTransport()
    await delivery.engine(second).run_until_idle()
    assert len(second.accepted_for(ids)) == 2  # today's other two
    sent = first.accepted_for(ids) + second.accepted_for(ids)
    got = await delivery.states(ids)
    tomorrow = datetime.combine(clock.now().date() + timedelta(days=1), time(0), UTC)
    assert [got[pk].next_run_at for pk in ids if pk not in sent] == [tomorrow, tomorrow]
