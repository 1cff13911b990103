"""Reading sequences, steps, contacts, groups and users: by ids (for batch loaders)
and as keyset-paginated lists. Every read is confined to one workspace."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from seqgql.domain.status import EnrollmentStatus
from seqgql.persistence.database import Database
from seqgql.persistence.tables import (
    activities,
    contacts,
    enrollments,
    group_members,
    groups,
    sequences,
    users,
)
from seqgql.persistence.tables import steps as steps_table
from seqgql.persistence.types import Row
from seqgql.services.enrollment_filters import like_pattern
from seqgql.services.pagination import Page, decode_id_cursor, encode_cursor, page_size


async def _by_ids(
    db: Database, table: sa.Table, workspace_id: int, ids: list[int]
) -> dict[int, Row]:
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(table).where(table.c.workspace_id == workspace_id, table.c.id.in_(ids))
        )
        return {r.id: r for r in rows}


async def sequences_by_ids(db: Database, workspace_id: int, ids: list[int]) -> dict[int, Row]:
    return await _by_ids(db, sequences, workspace_id, ids)


async def contacts_by_ids(db: Database, workspace_id: int, ids: list[int]) -> dict[int, Row]:
    return await _by_ids(db, contacts, workspace_id, ids)


async def users_by_ids(db: Database, workspace_id: int, ids: list[int]) -> dict[int, Row]:
    return await _by_ids(db, users, workspace_id, ids)


async def groups_by_ids(db: Database, workspace_id: int, ids: list[int]) -> dict[int, Row]:
    return await _by_ids(db, groups, workspace_id, ids)


async def steps_by_sequence(db: Database, sequence_ids: list[int]) -> dict[int, list[Row]]:
    """Steps in position order (the sequence ids were already checked by the caller)."""
    found: dict[int, list[Row]] = defaultdict(list)
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(steps_table)
            .where(steps_table.c.sequence_id.in_(sequence_ids))
            .order_by(steps_table.c.sequence_id, steps_table.c.position)
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


async def page_of(
    db: Database, query: sa.Select[Any], first: int | None, after: str | None
) -> Page[Row]:
    """A page of ``query``'s rows in id order (keyset on the ``id`` it selects)."""
    id_column = query.selected_columns["id"]
    size = page_size(first)
    if after is not None:
        query = query.where(id_column > decode_id_cursor(after))
    async with db.read() as conn:
        rows = (await conn.execute(query.order_by(id_column).limit(size + 1))).all()
    rows_on_page = rows[:size]
    return Page(
        rows=rows_on_page,
        has_next=len(rows) > size,
        cursors=[encode_cursor([r.id]) for r in rows_on_page],
    )


async def count_of(db: Database, query: sa.Select[Any]) -> int:
    async with db.read() as conn:
        counted = sa.select(sa.func.count()).select_from(query.subquery())
        return int((await conn.execute(counted)).scalar_one())


def sequences_query(workspace_id: int, include_archived: bool) -> sa.Select[Any]:
    query = sa.select(sequences).where(sequences.c.workspace_id == workspace_id)
    if not include_archived:
        query = query.where(sequences.c.archived.is_(False))
    return query


def contacts_query(workspace_id: int, search: str | None) -> sa.Select[Any]:
    query = sa.select(contacts).where(contacts.c.workspace_id == workspace_id)
    if search and search.strip():
        query = query.where(contacts.c.search_text.like(like_pattern(search.strip()), escape="\\"))
    return query


def group_contacts_query(workspace_id: int, group_id: int) -> sa.Select[Any]:
    members = sa.select(group_members.c.contact_id).where(group_members.c.group_id == group_id)
    return sa.select(contacts).where(
        contacts.c.workspace_id == workspace_id, contacts.c.id.in_(members)
    )


async def all_groups(db: Database, workspace_id: int) -> list[Row]:
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(groups).where(groups.c.workspace_id == workspace_id).order_by(groups.c.name)
        )
        return list(rows)


async def all_users(db: Database, workspace_id: int) -> list[Row]:
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(users).where(users.c.workspace_id == workspace_id).order_by(users.c.name)
        )
        return list(rows)


async def activity_by_id(db: Database, workspace_id: int, activity_id: int) -> Row | None:
    async with db.read() as conn:
        query = sa.select(activities).where(
            activities.c.workspace_id == workspace_id, activities.c.id == activity_id
        )
        return (await conn.execute(query)).first()
