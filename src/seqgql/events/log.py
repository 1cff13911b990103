"""Reading the event log (status changes and activities): by per-sequence number, with
opaque resumable cursors."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

import sqlalchemy as sa

from seqgql.persistence.database import Database
from seqgql.persistence.tables import activities, events, sequences
from seqgql.persistence.types import Row

BATCH = 500
# a cursor's numbers, as this API writes them (and within int64)
_SEQUENCE_ID = re.compile(r"[1-9][0-9]{0,17}")
_NUMBER = re.compile(r"0|[1-9][0-9]{0,17}")


class BadCursor(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class EventCursor:
    sequence_id: int
    number: int

    def encode(self) -> str:
        return base64.urlsafe_b64encode(f"ev:{self.sequence_id}:{self.number}".encode()).decode()

    @classmethod
    def decode(cls, value: str) -> EventCursor:
        try:
            tag, seq, number = base64.urlsafe_b64decode(value.encode()).decode().split(":")
            if tag != "ev" or not _SEQUENCE_ID.fullmatch(seq) or not _NUMBER.fullmatch(number):
                raise ValueError(tag)
            return cls(int(seq), int(number))
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            raise BadCursor(f"{value!r} is not an event cursor this API gave out") from exc


async def last_number(db: Database, workspace_id: int, sequence_id: int) -> int | None:
    """The sequence's last event number, or None when it is not in the workspace."""
    return (await last_numbers(db, workspace_id, [sequence_id])).get(sequence_id)


async def last_numbers(
    db: Database, workspace_id: int, sequence_ids: list[int] | None, *, limit: int | None = None
) -> dict[int, int]:
    """The last event number of each of these sequences that is in the workspace (of all
    its sequences when ``sequence_ids`` is None, the first ``limit`` by id), by id."""
    c = sequences.c
    query = sa.select(c.id, c.last_event_number).where(c.workspace_id == workspace_id)
    if sequence_ids is not None:
        query = query.where(c.id.in_(sequence_ids))
    async with db.read() as conn:
        rows = await conn.execute(query.order_by(c.id).limit(limit))
        return {row.id: row.last_event_number for row in rows}


async def events_after(
    db: Database, sequence_id: int, number: int, limit: int = BATCH
) -> list[Row]:
    """The sequence's events after ``number``, in order: status changes and activities."""
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(events)
            .where(events.c.sequence_id == sequence_id, events.c.number > number)
            .order_by(events.c.number)
            .limit(limit)
        )
        return list(rows)


async def activity_events_after(
    db: Database, sequence_id: int, number: int, limit: int = BATCH
) -> tuple[int, list[Row]]:
    """The sequence's activities after ``number`` among its next ``limit`` events, each with
    its activity's detail; and the number of the last event looked at (``number`` when
    there was none), from where to read on."""
    async with db.read() as conn:
        window = (
            sa.select(events)
            .where(events.c.sequence_id == sequence_id, events.c.number > number)
            .order_by(events.c.number)
            .limit(limit)
            .subquery()
        )
        rows = list(
            await conn.execute(
                sa.select(window, activities.c.detail)
                .outerjoin(activities, activities.c.id == window.c.activity_id)
                .order_by(window.c.number)
            )
        )
    last = rows[-1].number if rows else number
    return last, [r for r in rows if r.activity is not None]
