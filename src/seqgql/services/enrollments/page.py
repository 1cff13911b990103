"""Reading enrollments: the filtered, keyset-paginated list and the counts per status."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa

from seqgql.domain import validation
from seqgql.domain.selection import EnrollmentFilter, EnrollmentOrder, OrderDirection, OrderField
from seqgql.domain.status import VISIBLE_BY_DEFAULT, EnrollmentStatus
from seqgql.persistence.database import Database
from seqgql.persistence.moments import LAST_STEP
from seqgql.persistence.tables import contacts, enrollments, users
from seqgql.persistence.types import Row
from seqgql.services.actor import Actor
from seqgql.services.enrollments.filters import (
    Param,
    filter_params,
    next_send_key,
    sequence_filter,
    status_clauses,
)
from seqgql.services.enrollments.page_read import (
    CURSOR_KINDS,
    PAGE_COLUMNS,
    PreparedPage,
    only,
)
from seqgql.services.pagination import (
    BadPageRequest,
    CursorArgument,
    PageRequest,
    decode_cursor,
    not_a_cursor,
    row_id,
)

e = enrollments.c


def _directed(
    order: EnrollmentOrder, key: sa.ColumnElement[Any], pk: sa.ColumnElement[Any]
) -> tuple[sa.ColumnElement[Any], sa.ColumnElement[Any]]:
    if order.direction is OrderDirection.DESC:
        return key.desc(), pk.desc()
    return key.asc(), pk.asc()


class _Key(NamedTuple):
    """What a list is sorted by (then id): its expression, whether it is the contact's
    (the kind of value a cursor holds: ``page_read.CURSOR_KINDS``)."""

    expression: sa.ColumnElement[Any]
    on_contact: bool = False


# Each served by an index on PostgreSQL led by sequence_id (see tables.py, migration 0011).
_KEYS: dict[OrderField, _Key] = {
    OrderField.ENROLLED_AT: _Key(e.enrolled_at),
    OrderField.CONTACT_NAME: _Key(contacts.c.sort_name, on_contact=True),
    OrderField.NEXT_SEND_AT: _Key(next_send_key()),
    OrderField.STATUS_CHANGED_AT: _Key(e.status_changed_at),
    # a written constant, not a bound one: the expression ix_enrollments_seq_step_order has
    OrderField.CURRENT_STEP: _Key(
        sa.func.coalesce(e.current_step, sa.literal_column(str(LAST_STEP), sa.Integer))
    ),
    OrderField.STATUS: _Key(e.status),
}


def _sort_key(order: EnrollmentOrder) -> sa.ColumnElement[Any]:
    return _KEYS[order.field].expression


# The list's statements, built once per shape (which filter parts are set, the order,
# whether there is a cursor) with named bind parameters: building and cache-keying a
# statement costs more Python than running it.
def _statement(
    db: Database,
    key: tuple[Any, ...],
    params: dict[str, Any],
    build: Callable[[Param], sa.Executable],
) -> sa.Executable:
    """The statement of this shape, built with ``build(param)`` the first time and kept
    in the database's statement cache; checks that it binds exactly ``params``."""

    def make() -> sa.Executable:
        bound: list[str] = []

        def bind(name: str, value: Any) -> sa.BindParameter[Any]:
            bound.append(name)
            return sa.bindparam(name, expanding=isinstance(value, list))

        statement = build(bind)
        if sorted(bound) != sorted(params):
            raise AssertionError(f"the statement binds {bound}, the parameters are {params}")
        return statement

    return db.statements.get_or_make(key, make)


def prepare_page(
    db: Database,
    workspace_id: int,
    sequence_id: int,
    flt: EnrollmentFilter,
    request: PageRequest,
    *,
    order: EnrollmentOrder,
    with_counts: bool = False,
    columns: frozenset[str] | None = None,
) -> PreparedPage:
    """The read of one page of a sequence's enrollments, ordered by (sort key, id), made
    ready (``PreparedPage.read`` reads it); a bad cursor raises ``BadPageRequest``.
    ``with_counts`` adds ``status_counts`` for the same filter, from the same statement
    (with a search, the enrollments matching all but the status part are found once for
    both). ``columns``: the ``PageRow`` fields to read (``id`` and ``enrolled_at`` always
    are); the others are None, and the rows are the driver's (on PostgreSQL asyncpg's
    records: an enum column's stored value, a time aware in UTC) in ``PageRow``'s order
    (maybe with more columns after), not ``PageRow``s: what the page's execution plan
    reads, by position, only what its document asks (every column costs decoding, ~0.3 us
    a value)."""
    size = request.size
    by_time = order.field is OrderField.ENROLLED_AT
    by_contact = _KEYS[order.field].on_contact
    search = bool(flt.search and flt.search.strip())
    params = {"workspace_id": workspace_id, "sequence_id": sequence_id}
    params.update(filter_params(flt))
    if order.field is OrderField.CURRENT_STEP and flt.steps:
        # the steps asked for, also as a range of the sort key: the index of the order
        # (ix_enrollments_seq_step_order) is then read from the first of them to the last,
        # not from the first step of the sequence
        params["steps_low"], params["steps_high"] = min(flt.steps), max(flt.steps)
    given: tuple[tuple[CursorArgument, str | None], ...] = (
        ("after", request.after),
        ("before", request.before),
    )
    bounds = [bound for bound, cursor in given if cursor is not None]
    for bound, cursor in given:
        if cursor is not None:
            position = _decode_position(cursor, order, bound)
            params[f"{bound}_key"], params[f"{bound}_id"] = position
    params["limit"] = size + 1
    descending = order.direction is OrderDirection.DESC
    # the statement reads the page first: the list's order, reversed when backward
    scan = EnrollmentOrder(
        order.field,
        OrderDirection.ASC if request.backward == descending else OrderDirection.DESC,
    )
    shape = (
        "page",
        with_counts,
        *params,
        flt.include_removed,
        flt.resume_scheduled,
        order.field,
        scan.direction,
        columns,
    )

    def build(param: Param) -> sa.Select[Any] | sa.CompoundSelect[Any]:
        # The page's ids first: the filter, the order and the limit over the enrollments
        # (joined to their contacts when searching or sorting by name); on PostgreSQL a
        # search probes each matching contact's enrollment in the sequence, by index
        # only. Then those rows, with their contact and enrolling user.
        key = _sort_key(order)
        source: sa.FromClause = enrollments
        if by_contact or search:
            source = enrollments.join(contacts, contacts.c.id == e.contact_id)
        ws, seq = workspace_id, sequence_id
        steps_range: list[sa.ColumnElement[bool]] = []
        if "steps_low" in params:
            steps_range.append(key.between(param("steps_low", None), param("steps_high", None)))
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
                    ),
                    *steps_range,
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
                .where(
                    sequence_filter(ws, seq, flt, contacts_joined=True, param=param),
                    *steps_range,
                )
            )
        keyset = sa.tuple_(sort_key, pk)
        for bound in bounds:
            position = sa.tuple_(
                sa.type_coerce(param(f"{bound}_key", None), key.type),
                sa.type_coerce(param(f"{bound}_id", None), e.id.type),
            )
            beyond = (bound == "after") != descending
            ids = ids.where(keyset > position if beyond else keyset < position)
        page = (
            ids.order_by(*_directed(scan, sort_key, pk))
            .limit(param("limit", None))
            .subquery("page")
        )
        key_column = e.enrolled_at if by_time else key.label("sort_key")
        read = PAGE_COLUMNS if columns is None else only(columns)
        rows = sa.select(*read, *([] if by_time else [key_column])).select_from(
            page.join(enrollments, e.id == page.c.id)
            .join(contacts, contacts.c.id == e.contact_id)
            .outerjoin(users, users.c.id == e.enrolled_by_id)
        )
        if not with_counts:
            return rows.order_by(*_directed(scan, key_column, e.id))
        # the counts as more rows: (nulls..., status, count)
        union = sa.union_all(
            rows.add_columns(sa.null().label("count_status"), sa.null().label("count")),
            sa.select(
                *(sa.null() for _ in rows.selected_columns),
                matched.c.status,
                sa.func.count(),
            ).group_by(matched.c.status),
        ).subquery("page_and_counts")
        return sa.select(union).order_by(*_directed(scan, union.c[key_column.name], union.c.id))

    statement = _statement(db, shape, params, build)
    return PreparedPage(
        db.prepare(statement, params), request, order, with_counts, raw=columns is not None
    )


def _decode_position(
    cursor: str, order: EnrollmentOrder, argument: CursorArgument
) -> tuple[Any, int]:
    """The (sort key, id) of the row a cursor of this same ordering points at."""
    field, direction, raw_key, last_id = decode_cursor(cursor, 4, argument)
    if (field, direction) != (order.field.value, order.direction.value):
        raise BadPageRequest(argument, f"`{argument}` is a cursor of another `orderBy`")
    last_id = row_id(last_id, argument)
    kind = CURSOR_KINDS[order.field]
    if kind == "text":
        if not isinstance(raw_key, str) or "\x00" in raw_key:
            raise not_a_cursor(argument)
        if order.field is OrderField.STATUS and raw_key not in set(EnrollmentStatus):
            raise not_a_cursor(argument)
        return raw_key, last_id
    if kind == "int":
        if not isinstance(raw_key, int) or isinstance(raw_key, bool) or abs(raw_key) > LAST_STEP:
            raise not_a_cursor(argument)
        return raw_key, last_id
    try:
        moment = validation.moment(datetime.fromisoformat(raw_key))
    except (TypeError, ValueError) as exc:  # validation.Invalid is a ValueError
        raise not_a_cursor(argument) from exc
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

    statement = _statement(db, ("counts", *params, flt.resume_scheduled), params, build)
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
