"""Subscriptions: replay from the event log, then follow it live."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from typing import Annotated, TypeVar

import strawberry

from seqgql.events.log import BATCH, activity_events_after, events_after, last_numbers
from seqgql.graphql.activity_event_types import EnrollmentActivityEvent
from seqgql.graphql.context import Context, Loaders
from seqgql.graphql.enums import ActivityKind, EnrollmentStatus
from seqgql.graphql.node import ContextInfo
from seqgql.graphql.positions import position_of
from seqgql.graphql.sequence_step_counts import SequenceStepCounts
from seqgql.graphql.status_change_types import EnrollmentStatusChange, SequenceStatusCounts
from seqgql.graphql.subscription_args import (
    MAX_FOLLOWED_SEQUENCES,
    sequence_of,
    sequences_of,
    since_of,
)
from seqgql.persistence.database import patiently
from seqgql.persistence.types import Row
from seqgql.services.sequences.catalog import status_counts_by_sequence, steps_by_sequence
from seqgql.services.sequences.step_counts import StepCounts, step_counts_by_sequence

# Counts are sent at most this often: a bulk change is a few messages, not one per row.
COUNTS_INTERVAL_SECONDS = 0.25


def _refresh(ctx: Context) -> None:
    """Forget cached rows so every message shows the current state."""
    ctx.loaders = Loaders(ctx.db, ctx.workspace_id, patient=True)


T = TypeVar("T")


async def _coalesced(
    ctx: Context,
    seen: dict[int, int],
    read: Callable[[], Awaitable[T]],
    *,
    on_any_wake: bool = False,
) -> AsyncGenerator[T, None]:
    """What ``read()`` finds now, then again each time it differs from what was sent last,
    looking again when the event log of one of the sequences followed (``seen``: each one's
    last event number now) has moved — or, ``on_any_wake``, on any notification for them
    (the engine's sends move steps without an event; they notify the sequence all the
    same) — and at most every COUNTS_INTERVAL_SECONDS: a bulk change is a few messages,
    not one per row."""
    seen = dict(seen)
    pks = list(seen)
    sent: list[T] = []  # what was sent last (none yet)
    woken = ctx.bus.waiter_of_any(pks)  # before each read (see enrollment_status_changed)
    while True:
        value = await patiently(read)
        if not sent or value != sent[0]:
            sent[:] = [value]
            _refresh(ctx)
            yield value
        while True:
            await ctx.bus.wait(pks[0], ctx.poll_seconds, woken)
            notified = woken.is_set()
            woken = ctx.bus.waiter_of_any(pks)
            latest = await patiently(lambda: last_numbers(ctx.db, ctx.workspace_id, pks))
            if any(latest.get(pk, number) != number for pk, number in seen.items()):
                seen.update(latest)
                break
            if on_any_wake and notified:
                break
        await asyncio.sleep(COUNTS_INTERVAL_SECONDS)


SEQUENCE_ID = "The sequence to follow (its global id)."
SINCE = (
    "A cursor of this sequence's event log (a message's `cursor` from this subscription "
    "or the other one, or `Sequence.eventCursor`): what came after it comes first. Null: "
    "from now on."
)


@strawberry.type(
    description="Live updates over websockets (graphql-transport-ws, or the legacy "
    'graphql-ws); send the API token in `connection_init` as `{"authorization": '
    '"Bearer …"}`.'
)
class Subscription:
    @strawberry.subscription(
        description="Every status change in a sequence, in order. With `since` (a cursor "
        "from an earlier message), first replays the changes after it: nothing is lost "
        "and nothing is seen twice across reconnects."
    )
    async def enrollment_status_changed(
        self,
        info: ContextInfo,
        sequence_id: Annotated[strawberry.ID, strawberry.argument(description=SEQUENCE_ID)],
        statuses: Annotated[
            list[EnrollmentStatus] | None,
            strawberry.argument(description="Only changes to these statuses; null or empty: all."),
        ] = None,
        since: Annotated[
            str | None,
            strawberry.argument(
                description="A cursor of this sequence (a message's `cursor`, or "
                "`Sequence.eventCursor`): the changes after it come first. Null: from now on."
            ),
        ] = None,
    ) -> AsyncGenerator[EnrollmentStatusChange, None]:
        ctx = info.context
        pk, position = await sequence_of(ctx, sequence_id)
        position = since_of(pk, position, since)
        wanted = set(statuses) if statuses else None
        followed = position_of(ctx)  # a shared feed, or a catch-up run (``positions``)
        until = followed.until if followed else None
        if followed:
            followed.report(position)
        while until is None or position < until:
            woken = ctx.bus.waiter(pk)  # before the read: a commit during it wakes us too
            rows = await patiently(functools.partial(events_after, ctx.db, pk, position))
            if rows:
                _refresh(ctx)
            for row in rows:
                if until is not None and row.number > until:
                    return
                position = row.number
                if row.to_status is None:
                    continue  # an activity (enrollmentActivity)
                if wanted is None or row.to_status in wanted:
                    if followed:
                        followed.report(row.number)
                    yield EnrollmentStatusChange.from_row(row)
            if not rows or (until is None and len(rows) < BATCH):
                # a short read took all that was committed before it: what came since
                # set `woken` (a read that would find nothing, a change, saved)
                await ctx.bus.wait(pk, ctx.poll_seconds, woken)

    @strawberry.subscription(
        description="Every activity in a sequence, in order: steps sent, deliveries, opens, "
        "clicks, replies, bounces, deferrals, out-of-office replies, opt-outs. With `since`, "
        "first replays the activities after it: nothing is lost and nothing is seen twice "
        "across reconnects."
    )
    async def enrollment_activity(
        self,
        info: ContextInfo,
        sequence_id: Annotated[strawberry.ID, strawberry.argument(description=SEQUENCE_ID)],
        kinds: Annotated[
            list[ActivityKind] | None,
            strawberry.argument(description="Only activities of these kinds; null or empty: all."),
        ] = None,
        since: Annotated[str | None, strawberry.argument(description=SINCE)] = None,
    ) -> AsyncGenerator[EnrollmentActivityEvent, None]:
        ctx = info.context
        pk, position = await sequence_of(ctx, sequence_id)
        position = since_of(pk, position, since)
        wanted = set(kinds) if kinds else None
        while True:
            woken = ctx.bus.waiter(pk)  # before the read: a commit during it wakes us too
            read = functools.partial(activity_events_after, ctx.db, pk, position)
            last, rows = await patiently(read)
            if rows:
                _refresh(ctx)
            for row in rows:
                if wanted is None or row.activity in wanted:
                    yield EnrollmentActivityEvent.from_row(row)
            if last == position:
                await ctx.bus.wait(pk, ctx.poll_seconds, woken)
            position = last

    @strawberry.subscription(
        description="Counts per status: sent on subscribe, then when they change "
        "(coalesced: a few messages a second at most)."
    )
    async def sequence_status_counts(
        self,
        info: ContextInfo,
        sequence_id: Annotated[strawberry.ID, strawberry.argument(description=SEQUENCE_ID)],
    ) -> AsyncGenerator[SequenceStatusCounts, None]:
        ctx = info.context
        pk, seen = await sequence_of(ctx, sequence_id)

        async def read() -> dict[EnrollmentStatus, int]:
            found = await status_counts_by_sequence(ctx.db, ctx.workspace_id, [pk])
            return found.get(pk, {})

        async with aclosing(_coalesced(ctx, {pk: seen}, read)) as updates:
            async for counts in updates:
                yield SequenceStatusCounts.of(pk, counts)

    @strawberry.subscription(
        description="Counts per status of many sequences on one subscription (a list of "
        "sequences with their counts, beyond the limit of subscriptions per connection): "
        "one message per sequence on subscribe, in the order named, then one for each "
        "sequence whose counts change, coalesced like `sequenceStatusCounts` (a few messages "
        "a second at most)."
    )
    async def sequences_status_counts(
        self,
        info: ContextInfo,
        sequence_ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(
                description=f"The sequences to follow (global ids, at most "
                f"{MAX_FOLLOWED_SEQUENCES}; an id given twice is followed once). Null: "
                f"every sequence of the workspace when subscribing, archived ones included "
                f"(an error with code TOO_MANY when there are more than "
                f"{MAX_FOLLOWED_SEQUENCES}). An empty list, a malformed id (INVALID_ID) or a "
                f"sequence not in the workspace (NOT_FOUND) is refused."
            ),
        ] = None,
    ) -> AsyncGenerator[SequenceStatusCounts, None]:
        ctx = info.context
        seen = await sequences_of(ctx, sequence_ids)

        async def read() -> dict[int, dict[EnrollmentStatus, int]]:
            return await status_counts_by_sequence(ctx.db, ctx.workspace_id, list(seen))

        sent: dict[int, dict[EnrollmentStatus, int]] = {}
        async with aclosing(_coalesced(ctx, seen, read)) as updates:
            async for found in updates:
                for pk in seen:
                    counts = found.get(pk, {})
                    if sent.get(pk) != counts:
                        sent[pk] = counts
                        yield SequenceStatusCounts.of(pk, counts)

    @strawberry.subscription(
        description="Counts per step (Sequence.stepCounts): sent on subscribe, then when "
        "they change — a status change, a step move, or a step sent by the engine — "
        "coalesced like `sequenceStatusCounts` (a few messages a second at most)."
    )
    async def sequence_step_counts(
        self,
        info: ContextInfo,
        sequence_id: Annotated[strawberry.ID, strawberry.argument(description=SEQUENCE_ID)],
    ) -> AsyncGenerator[SequenceStepCounts, None]:
        ctx = info.context
        pk, seen = await sequence_of(ctx, sequence_id)

        async def read() -> tuple[list[Row], StepCounts]:
            steps = await steps_by_sequence(ctx.db, [pk])
            counts = await step_counts_by_sequence(ctx.db, ctx.workspace_id, [pk])
            return steps.get(pk, []), counts.get(pk) or StepCounts()

        async with aclosing(_coalesced(ctx, {pk: seen}, read, on_any_wake=True)) as updates:
            async for steps, counts in updates:
                yield SequenceStepCounts.of(pk, steps, counts)
