"""Reading enrollments: the filtered, keyset-paginated list and the counts per status."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from seqgql.domain.selection import EnrollmentFilter, EnrollmentOrder, OrderDirection, OrderField
from seqgql.domain.status import VISIBLE_BY_DEFAULT, EnrollmentStatus
from seqgql.persistence.database import Database
from seqgql.persistence.tables import activities, contacts, enrollments, users
from seqgql.persistence.types import Row
from seqgql.services.actor import Actor
from seqgql.services.enrollment_filters import (
    Param,
    filter_params,
    sequence_filter,
    status_clauses,
)
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
# What a page row holds: the columns the API shows (not the bookkeeping ones), its
# contact's prefixed with ``contact__``, its enrolling user's with ``enrolled_by__``.
PAGE_COLUMNS = [
    *(e[name] for name in ("id", "sequence_id", "contact_id", "status", "reason",
                           "current_step", "enrolled_by_id", "enrolled_at", "resume_at",
                           "next_run_at", "finished_at", "updated_at")),
    *(contacts.c[name].label(CONTACT_PREFIX + name)
      for name in ("id", "first_name", "last_name", "email", "phone", "phone_type",
                   "time_zone", "opted_out", "created_at")),
    *(users.c[name].label(USER_PREFIX + name) for name in ("id", "name", "email", "role")),
]  # fmt: skip


_ID = [c.name for c in PAGE_COLUMNS].index("id")
_ENROLLED_AT = [c.name for c in PAGE_COLUMNS].index("enrolled_at")
_SORT_KEY = len(PAGE_COLUMNS)  # the column after them when sorting by name


def _directed(
    order: EnrollmentOrder, key: sa.ColumnElement[Any], pk: sa.ColumnElement[Any]
) -> tuple[sa.ColumnElement[Any], sa.ColumnElement[Any]]:
    if order.direction is OrderDirection.DESC:
        return key.desc(), pk.desc()
    return key.asc(), pk.asc()


def _sort_key(order: EnrollmentOrder) -> sa.ColumnElement[Any]:
    column = contacts.c.sort_name if order.field is OrderField.CONTACT_NAME else e.enrolled_at
    return column


# The list's statements, built once per shape (which filter parts are set, the order,
# whether there is a cursor) with named bind parameters: building and cache-keying a
# statement costs more Python than running it.
_statements: dict[tuple[Any, ...], sa.Executable] = {}


def _statement(
    key: tuple[Any, ...], params: dict[str, Any], build: Callable[[Param], sa.Executable]
) -> sa.Executable:
    """The statement of this shape, built with ``build(param)`` the first time; checks
    that it binds exactly ``params``."""
    statement = _statements.get(key)
    if statement is None:
        bound: list[str] = []

        def bind(name: str, value: Any) -> sa.BindParameter[Any]:
            bound.append(name)
            return sa.bindparam(name, expanding=isinstance(value, list))

        statement = build(bind)
        if sorted(bound) != sorted(params):
            raise AssertionError(f"the statement binds {bound}, the parameters are {params}")
        _statements[key] = statement
    return statement


async def enrollment_page(
    db: Database,
    actor: Actor,
    sequence_id: int,
    flt: EnrollmentFilter,
    *,
    first: int | None,
    after: str | None,
    order: EnrollmentOrder,
    with_counts: bool = False,
) -> tuple[Page[Row], dict[EnrollmentStatus, int] | None]:
    """One page of a sequence's enrollments, ordered by (sort key, id): rows of
    ``PAGE_COLUMNS``, the enrolling user's null when there is none. ``with_counts``
    adds ``status_counts`` for the same filter, from the same statement (with a search,
    the enrollments matching all but the status part are found once for both)."""
    size = page_size(first)
    by_name = order.field is OrderField.CONTACT_NAME
    search = bool(flt.search and flt.search.strip())
    params = {"workspace_id": actor.workspace_id, "sequence_id": sequence_id}
    params.update(filter_params(flt))
    if after is not None:
        params["after_key"], params["after_id"] = _decode_position(after, order)
    params["limit"] = size + 1
    shape = ("page", with_counts, *params, flt.include_removed, order.field, order.direction)

    def build(param: Param) -> sa.Select[Any] | sa.CompoundSelect[Any]:
        # The page's ids first: the filter, the order and the limit over the enrollments
        # (joined to their contacts when searching or sorting by name); on PostgreSQL a
        # search probes each matching contact's enrollment in the sequence, by index
        # only. Then those rows, with their contact and enrolling user.
        key = _sort_key(order)
        source: sa.FromClause = enrollments
        if by_name or search:
            source = enrollments.join(contacts, contacts.c.id == e.contact_id)
        ws, seq = actor.workspace_id, sequence_id
        sort_key: sa.ColumnElement[Any]
        pk: sa.ColumnElement[Any]
        if with_counts:
            # the enrollments matching all but the status part, for the page and the
            # counts; computed once when searching, else planned apart for each
            matched = (
                sa.select(e.id, e.status, key.label("sort_key"))
                .select_from(source)
                .where(
                    sequence_filter(
                        ws, seq, flt.without_statuses(), contacts_joined=True, param=param
                    )
                )
                .cte("matched")
                .prefix_with("MATERIALIZED" if search else "NOT MATERIALIZED", dialect="postgresql")
            )
            sort_key, pk = matched.c.sort_key, matched.c.id
            ids = sa.select(pk).where(*status_clauses(flt, matched.c.status, param=param))
        else:
            sort_key, pk = key, e.id
            ids = (
                sa.select(pk)
                .select_from(source)
                .where(sequence_filter(ws, seq, flt, contacts_joined=True, param=param))
            )
        if after is not None:
            descending = order.direction is OrderDirection.DESC
            keyset = sa.tuple_(sort_key, pk)
            bound = sa.tuple_(
                sa.type_coerce(param("after_key", None), key.type),
                sa.type_coerce(param("after_id", None), e.id.type),
            )
            ids = ids.where(keyset < bound if descending else keyset > bound)
        page = (
            ids.order_by(*_directed(order, sort_key, pk))
            .limit(param("limit", None))
            .subquery("page")
        )
        key_column = key.label("sort_key") if by_name else e.enrolled_at
        rows = sa.select(*PAGE_COLUMNS, *([key_column] if by_name else [])).select_from(
            page.join(enrollments, e.id == page.c.id)
            .join(contacts, contacts.c.id == e.contact_id)
            .outerjoin(users, users.c.id == e.enrolled_by_id)
        )
        if not with_counts:
            return rows.order_by(*_directed(order, key_column, e.id))
        # the counts as more rows: (nulls..., status, count)
        union = sa.union_all(
            rows.add_columns(sa.null().label("count_status"), sa.null().label("count")),
            sa.select(
                *(sa.null() for _ in rows.selected_columns),
                matched.c.status,
                sa.func.count(),
            ).group_by(matched.c.status),
        ).subquery("page_and_counts")
        return sa.select(union).order_by(*_directed(order, union.c[key_column.name], union.c.id))

    statement = _statement(shape, params, build)
    async with db.read() as conn:
        result = list((await conn.execute(statement, params)).all())
    counts = None
    if with_counts:
        # a count row has a status count, a page row has none
        counts = {EnrollmentStatus(r[-2]): r[-1] for r in result if r[-2] is not None}
        result = [r for r in result if r[-2] is None]
    has_next = len(result) > size
    rows = result[:size]
    # (a row's columns by position: by name costs ~1 µs each)
    field, direction = order.field.value, order.direction.value
    if by_name:
        cursors = [encode_cursor([field, direction, r[_SORT_KEY], r[_ID]]) for r in rows]
    else:
        # encode_cursor's JSON written out: an ISO time has nothing to escape
        head = json.dumps([field, direction])[:-1]
        cursors = [
            base64.urlsafe_b64encode(
                f'{head}, "{r[_ENROLLED_AT].isoformat()}", {r[_ID]}]'.encode()
            ).decode()
            for r in rows
        ]
    return Page(rows=rows, has_next=has_next, cursors=cursors), counts


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


async def status_counts(
    db: Database, actor: Actor, sequence_id: int, flt: EnrollmentFilter
) -> dict[EnrollmentStatus, int]:
    """Counts per status for the filter without its status part (removed included)."""
    flt = flt.without_statuses()
    params = {"workspace_id": actor.workspace_id, "sequence_id": sequence_id}
    params.update(filter_params(flt))

    def build(param: Param) -> sa.Select[Any]:
        return (
            sa.select(e.status, sa.func.count())
            .where(sequence_filter(actor.workspace_id, sequence_id, flt, param=param))
            .group_by(e.status)
        )

    statement = _statement(("counts", *params), params, build)
    async with db.read() as conn:
        rows = await conn.execute(statement, params)
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
