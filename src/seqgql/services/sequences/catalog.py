"""Reading sequences: by ids (for batch loaders), the list, their steps and status counts,
and the check that a sequence named in an input is the caller's."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from seqgql.domain.errors import ErrorCode, InputErrors, error
from seqgql.domain.status import EnrollmentStatus
from seqgql.persistence.database import Database
from seqgql.persistence.tables import enrollments, sequences, steps
from seqgql.persistence.types import Row
from seqgql.services.actor import Actor
from seqgql.services.reads import Listing, rows_by_ids


async def sequences_by_ids(db: Database, workspace_id: int, ids: list[int]) -> dict[int, Row]:
    return await rows_by_ids(db, sequences, workspace_id, ids)


async def steps_by_sequence(db: Database, sequence_ids: list[int]) -> dict[int, list[Row]]:
    """Steps in position order (the sequence ids were already checked by the caller)."""
    found: dict[int, list[Row]] = defaultdict(list)
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(steps)
            .where(steps.c.sequence_id.in_(sequence_ids))
            .order_by(steps.c.sequence_id, steps.c.position)
        )
        for row in rows:
            found[row.sequence_id].append(row)
    return found


async def status_counts_by_sequence(
    db: Database, workspace_id: int, sequence_ids: list[int]
) -> dict[int, dict[EnrollmentStatus, int]]:
    found: dict[int, dict[EnrollmentStatus, int]] = defaultdict(dict)
    e = enrollments.c
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(e.sequence_id, e.status, sa.func.count())
            .where(e.workspace_id == workspace_id, e.sequence_id.in_(sequence_ids))
            .group_by(e.sequence_id, e.status)
        )
        for sequence_id, status, count in rows:
            found[sequence_id][EnrollmentStatus(status)] = count
    return found


def sequence_listing(workspace_id: int, include_archived: bool) -> Listing:
    """The workspace's sequences (for a keyset page), archived ones only when asked for."""
    query = sa.select(sequences).where(sequences.c.workspace_id == workspace_id)
    if not include_archived:
        query = query.where(sequences.c.archived.is_(False))
    return Listing(query)


async def require_sequence(
    conn: AsyncConnection,
    actor: Actor,
    sequence_id: int,
    path: Iterable[str],
    *,
    not_archived: bool = False,
) -> Row:
    row = (
        await conn.execute(
            sa.select(
                sequences.c.id, sequences.c.name, sequences.c.archived, sequences.c.rules
            ).where(sequences.c.id == sequence_id, sequences.c.workspace_id == actor.workspace_id)
        )
    ).first()
    if row is None:
        raise InputErrors([error(list(path), ErrorCode.NOT_FOUND, "no such sequence")])
    if not_archived and row.archived:
        raise InputErrors(
            [error(list(path), ErrorCode.ARCHIVED, f"the sequence {row.name!r} is archived")]
        )
    return row
