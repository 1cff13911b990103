"""Copying a sequence and its steps: on demand, or inside a restart into a new clone."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from seqgql.clock import Clock
from seqgql.domain.errors import InputErrors
from seqgql.domain.sequence import check_name
from seqgql.persistence.database import Database
from seqgql.persistence.tables import sequences, steps
from seqgql.services.actor import Actor
from seqgql.services.sequences.catalog import require_sequence
from seqgql.services.sequences.definitions import SequenceResult, insert_sequence


async def clone_sequence(
    db: Database, clock: Clock, actor: Actor, sequence_id: int, *, name: str | None = None
) -> SequenceResult:
    clean_name = None
    if name is not None:
        clean_name, errors = check_name(name, ["input", "name"])
        if errors:
            return SequenceResult(errors=errors)
    try:
        async with db.write() as conn:
            await require_sequence(conn, actor, sequence_id, ["input", "sequenceId"])
            clone_id = await clone_in(conn, actor, clock.now(), sequence_id, clean_name)
    except InputErrors as exc:
        return SequenceResult(errors=exc.errors)
    return SequenceResult(clone_id)


async def clone_in(
    conn: AsyncConnection, actor: Actor, now: datetime, sequence_id: int, name: str | None
) -> int:
    """Copy a sequence and its steps inside the caller's transaction; returns the new id."""
    source = (await conn.execute(sa.select(sequences).where(sequences.c.id == sequence_id))).one()
    clone_id = await insert_sequence(
        conn,
        actor,
        now,
        name=name or f"{source.name} (copy)",
        window=source.sending_window,
        reply_window_minutes=source.reply_window_minutes,
        daily_limit_per_sender=source.daily_limit_per_sender,
        cloned_from_id=sequence_id,
        rules=source.rules,
    )
    columns = ["position", "channel", "wait_minutes", "subject", "body"]
    copied = sa.select(sa.literal(clone_id, sa.BigInteger), *(steps.c[c] for c in columns)).where(
        steps.c.sequence_id == sequence_id
    )
    await conn.execute(steps.insert().from_select(["sequence_id", *columns], copied))
    return clone_id
