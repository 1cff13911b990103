"""Sends to an outside transport, recorded before and after.

Before a batch's messages go out, the transaction that claimed them writes each one's key
on its enrollment (``sending_key``, the key the Message-ID is made of) with a lease
(``sending_until``) and commits: the rows are no longer locked, and no other worker claims
them while the lease runs. The worker renews the lease while it sends. Each outcome is
recorded in a short transaction that first takes the step back (locks it, where its key
is still the one written; recording clears the key): what it records happens once, even
if a second worker took the step up meanwhile. It waits for no lock (a bulk action may
hold the sequence while it waits for rows): what is held is tried again a moment later.

A worker killed between a send and its record leaves the key and a lease that runs out;
the next claim sends that step again under the same key (so the same Message-ID:
receivers can tell), and only the messages in flight at the kill (at most the send
concurrency) can go out twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import datetime
from typing import Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from seqgql.engine.claims import DueRow, try_lock
from seqgql.outbound.transport import OutboundMessage
from seqgql.persistence.tables import enrollments
from seqgql.persistence.types import UTCDateTime

e = enrollments.c
T = TypeVar("T")

_MARK_PG = sa.text("""
    UPDATE enrollments AS e SET sending_key = v.key, sending_until = :until
    FROM unnest(CAST(:ids AS bigint[]), CAST(:keys AS text[])) AS v(id, key)
    WHERE e.id = v.id
""").bindparams(sa.bindparam("until", type_=UTCDateTime()))
# one statement (one prepared statement) whatever the number of rows, unlike an IN list
_TAKE_BACK_PG = sa.text("""
    SELECT id, sending_key FROM enrollments
    WHERE id = ANY(CAST(:ids AS bigint[]))
    ORDER BY id
    FOR UPDATE SKIP LOCKED
""")


async def mark_sending(
    conn: AsyncConnection, sends: Sequence[tuple[DueRow, OutboundMessage]], until: datetime
) -> None:
    """Write each message's key on its enrollment, held until ``until``."""
    if conn.dialect.name == "postgresql":
        ids = [row.id for row, _ in sends]
        keys = [message.key for _, message in sends]
        await conn.execute(_MARK_PG, {"ids": ids, "keys": keys, "until": until})
        return
    await conn.execute(
        enrollments.update()
        .where(e.id == sa.bindparam("eid"))
        .values(sending_key=sa.bindparam("key"), sending_until=until),
        [{"eid": row.id, "key": message.key} for row, message in sends],
    )


async def renew(conn: AsyncConnection, ids: Sequence[int], until: datetime) -> None:
    """Hold the steps still being sent until ``until``."""
    if ids:
        await conn.execute(
            enrollments.update()
            .where(e.id.in_(ids), e.sending_key.is_not(None))
            .values(sending_until=until)
        )


async def take_back(
    conn: AsyncConnection,
    sends: Sequence[tuple[DueRow, OutboundMessage]],
    changing: Collection[int],
) -> tuple[set[int], set[int]]:
    """Lock the enrollments whose key is still the one written for their send (the
    outcomes this transaction may record; each statement that records one clears the
    key); and say which to try again in a moment. It never waits for a lock: the
    sequences of the enrollments whose status will change (``changing``) are locked if
    they can be, the rows if they can be; a bulk action holding one is done in a moment."""
    sequence_ids = sorted({row.sequence_id for row, _ in sends if row.id in changing})
    locked = set(await try_lock(conn, sequence_ids)) if sequence_ids else set()
    ready = {row.id for row, _ in sends if row.id not in changing or row.sequence_id in locked}
    keys = {}
    if ready:
        if conn.dialect.name == "postgresql":
            rows = await conn.execute(_TAKE_BACK_PG, {"ids": sorted(ready)})
        else:
            rows = await conn.execute(
                sa.select(e.id, e.sending_key)
                .where(e.id.in_(sorted(ready)))
                .order_by(e.id)
                .with_for_update(skip_locked=True)
            )
        keys = {row.id: row.sending_key for row in rows}
    mine = {row.id for row, message in sends if row.id in keys and keys[row.id] == message.key}
    # a busy sequence, or a row another transaction holds: in a moment
    return mine, {row.id for row, _ in sends} - keys.keys()


class GroupCommit(Generic[T]):
    """Items written together: ``add`` waits until a ``write`` that holds its item has
    finished (or raises what that write raised). While one write runs, the items added
    meanwhile gather for the next."""

    def __init__(self, write: Callable[[list[T]], Awaitable[None]]) -> None:
        self._write = write
        self._waiting: list[tuple[T, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def add(self, item: T) -> None:
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        await done

    async def _drain(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting, []
            try:
                await self._write([item for item, _ in group])
            except BaseException as exc:  # every waiter hears of it; the writer goes on
                for _, done in group:
                    if not done.done():
                        done.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
            else:
                for _, done in group:
                    if not done.done():
                        done.set_result(None)
