"""Reading enrollments: the filtered, keyset-paginated list and the counts per status."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from seqgql.domain.selection import EnrollmentFilter, EnrollmentOrder, OrderDirection, OrderField
from seqgql.domain.status import VISIBLE_BY_DEFAULT, EnrollmentStatus
from seqgql.persistence.database import Database
from seqgql.persistence.tables import activities, contacts, enrollments, users
from seqgql.persistence.types import Row
from seqgql.services.actor import Actor
from seqgql.services.enrollment_filters import sequence_filter
from seqgql.services.pagination import (
    BadPageRequest,
    Page,
    decode_cursor,
    decode_id_cursor,
    encode_cursor,
    page_size,
)

e = enrollments.c


CONTACT_PREFIX = "contact__"
USER_PREFIX = "enrolled_by__"
RELATED_COLUMNS = [c.label(CONTACT_PREFIX + c.name) for c in contacts.c] + [
    c.label(USER_PREFIX + c.name) for c in users.c
]


def _sort_key(order: EnrollmentOrder) -> sa.ColumnElement[Any]:
    column = contacts.c.sort_name if order.field is OrderField.CONTACT_NAME else e.enrolled_at
    return column


async def enrollment_page(
    db: Database,
    actor: Actor,
    sequence_id: int,
    flt: EnrollmentFilter,
    *,
    first: int | None,
    after: str | None,
    order: EnrollmentOrder,
) -> Page[Row]:
    """One page of a sequence's enrollments, ordered by (sort key, id). Each row also
    holds its contact's columns (prefixed ``contact__``) and its enrolling user's
    (``enrolled_by__``, null when there is none)."""
    size = page_size(first)
    key = _sort_key(order)
    descending = order.direction is OrderDirection.DESC
    # the contact and the enrolling user come in the same query: a page is one read
    query = (
        sa.select(enrollments, key.label("sort_key"), *RELATED_COLUMNS)
        .select_from(
            enrollments.join(contacts, contacts.c.id == e.contact_id).outerjoin(
                users, users.c.id == e.enrolled_by_id
            )
        )
        .where(sequence_filter(actor.workspace_id, sequence_id, flt))
    )
    if after is not None:
        last_key, last_id = _decode_position(after, order)
        keyset = sa.tuple_(key, e.id)
        bound = sa.tuple_(sa.literal(last_key, key.type), sa.literal(last_id))
        query = query.where(keyset < bound if descending else keyset > bound)
    if descending:
        query = query.order_by(key.desc(), e.id.desc())
    else:
        query = query.order_by(key.asc(), e.id.asc())
    async with db.read() as conn:
        rows = list((await conn.execute(query.limit(size + 1))).all())
    has_next = len(rows) > size
    rows = rows[:size]
    cursors = [
        encode_cursor([order.field.value, order.direction.value, _json_key(r.sort_key), r.id])
        for r in rows
    ]
    return Page(rows=rows, has_next=has_next, cursors=cursors)


def _decode_position(cursor: str, order: EnrollmentOrder) -> tuple[Any, int]:
    """The (sort key, id) a cursor of this same ordering points after."""
    field, direction, raw_key, last_id = decode_cursor(cursor, 4)
    if (field, direction) != (order.field.value, order.direction.value):
        raise BadPageRequest("after", "`after` is a cursor of another `orderBy`")
    if not isinstance(last_id, int) or isinstance(last_id, bool):
        raise BadPageRequest("after", "`after` is not a cursor this list gave out")
    if order.field is OrderField.CONTACT_NAME:
        if not isinstance(raw_key, str):
            raise BadPageRequest("after", "`after` is not a cursor this list gave out")
        return raw_key, last_id
    try:
        moment = datetime.fromisoformat(raw_key)
    except (TypeError, ValueError) as exc:
        raise BadPageRequest("after", "`after` is not a cursor this list gave out") from exc
    if moment.tzinfo is None:
        raise BadPageRequest("after", "`after` is not a cursor this list gave out")
    return moment, last_id


def _json_key(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def status_counts(
    db: Database, actor: Actor, sequence_id: int, flt: EnrollmentFilter
) -> dict[EnrollmentStatus, int]:
    """Counts per status for the filter without its status part (removed included)."""
    query = (
        sa.select(e.status, sa.func.count())
        .where(sequence_filter(actor.workspace_id, sequence_id, flt.without_statuses()))
        .group_by(e.status)
    )
    async with db.read() as conn:
        rows = await conn.execute(query)
        return {EnrollmentStatus(r[0]): r[1] for r in rows}


def total_from_counts(counts: dict[EnrollmentStatus, int], flt: EnrollmentFilter) -> int:
    """The number of enrollments the filter matches, from its status counts."""
    if flt.statuses:
        wanted = set(flt.statuses)
    elif flt.include_removed:
        wanted = set(EnrollmentStatus)
    else:
        wanted = set(VISIBLE_BY_DEFAULT)
    return sum(n for status, n in counts.items() if status in wanted)


async def enrollments_by_ids(db: Database, workspace_id: int, ids: list[int]) -> dict[int, Row]:
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(enrollments).where(e.workspace_id == workspace_id, e.id.in_(ids))
        )
        return {r.id: r for r in rows}


async def activity_page(
    db: Database, workspace_id: int, enrollment_id: int, *, first: int | None, after: str | None
) -> Page[Row]:
    """An enrollment's history, oldest first."""
    size = page_size(first)
    query = sa.select(activities).where(
        activities.c.workspace_id == workspace_id, activities.c.enrollment_id == enrollment_id
    )
    if after is not None:
        query = query.where(activities.c.id > decode_id_cursor(after))
    async with db.read() as conn:
        rows = list((await conn.execute(query.order_by(activities.c.id).limit(size + 1))).all())
    return Page(
        rows=rows[:size],
        has_next=len(rows) > size,
        cursors=[encode_cursor([r.id]) for r in rows[:size]],
    )


async def activity_counts(db: Database, workspace_id: int, enrollment_id: int) -> int:
    async with db.read() as conn:
        return int(
            (
                await conn.execute(
                    sa.select(sa.func.count()).where(
                        activities.c.workspace_id == workspace_id,
                        activities.c.enrollment_id == enrollment_id,
                    )
                )
            ).scalar_one()
        )
