"""Reading enrollments: the filtered, keyset-paginated list and the counts per status."""

from __future__ import annotations

import json
from binascii import b2a_base64
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa

from seqgql.domain import validation
from seqgql.domain.kinds import PhoneType, Role, WaitingFor
from seqgql.domain.selection import EnrollmentFilter, EnrollmentOrder, OrderDirection, OrderField
from seqgql.domain.status import VISIBLE_BY_DEFAULT, EnrollmentStatus, Outcome, StatusReason
from seqgql.iso_times import isoformat, isoformat_json
from seqgql.persistence.database import Database
from seqgql.persistence.direct_reads import PreparedRead
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
from seqgql.services.pagination import (
    BadPageRequest,
    CursorArgument,
    Page,
    PageRequest,
    decode_cursor,
    encode_cursor,
    not_a_cursor,
    row_id,
)

e = enrollments.c


class PageRow(NamedTuple):
    """One enrollment of a page, with its contact and the user who enrolled it (the
    ``enrolled_by_`` columns are null when there is none)."""

    id: int
    sequence_id: int
    contact_id: int
    status: EnrollmentStatus
    reason: StatusReason | None
    outcome: Outcome | None
    current_step: int | None
    enrolled_by_id: int | None
    enrolled_at: datetime
    resume_at: datetime | None
    next_run_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    status_changed_at: datetime
    moved_to_id: int | None
    waiting_for: WaitingFor | None
    paused_at: datetime | None
    paused_due_at: datetime | None
    contact_first_name: str
    contact_last_name: str | None
    contact_email: str | None
    contact_phone: str | None
    contact_phone_type: PhoneType
    contact_time_zone: str | None
    contact_opted_out: bool
    contact_created_at: datetime
    enrolled_by_name: str | None
    enrolled_by_email: str | None
    enrolled_by_role: Role | None


def _page_column(name: str) -> sa.ColumnElement[Any]:
    """The column a ``PageRow`` field is read from."""
    for prefix, table in (("contact_", contacts), ("enrolled_by_", users)):
        if name.startswith(prefix) and name != prefix + "id":
            return table.c[name.removeprefix(prefix)].label(name)
    return e[name]


# What a page row holds, in PageRow's order (then the sort key when sorting by name).
PAGE_COLUMNS = [_page_column(name) for name in PageRow._fields]
_WIDTH = len(PageRow._fields)
_SORT_KEY = _WIDTH  # the column after them when not sorting by enrollment time
_ID, _ENROLLED_AT = PageRow._fields.index("id"), PageRow._fields.index("enrolled_at")


def _only(columns: frozenset[str]) -> list[sa.ColumnElement[Any]]:
    """PAGE_COLUMNS with a NULL in the place of each column not in ``columns``."""
    kept = columns | {"id", "enrolled_at"}  # what cursors and the order are made of
    return [
        column if name in kept else sa.null().label(name)
        for name, column in zip(PageRow._fields, PAGE_COLUMNS, strict=True)
    ]


def _directed(
    order: EnrollmentOrder, key: sa.ColumnElement[Any], pk: sa.ColumnElement[Any]
) -> tuple[sa.ColumnElement[Any], sa.ColumnElement[Any]]:
    if order.direction is OrderDirection.DESC:
        return key.desc(), pk.desc()
    return key.asc(), pk.asc()


class _Key(NamedTuple):
    """What a list is sorted by (then id): its expression, the kind of value a cursor
    holds, whether it is the contact's."""

    expression: sa.ColumnElement[Any]
    kind: str  # "time", "text" or "int"
    on_contact: bool = False


# Each served by an index on PostgreSQL led by sequence_id (see tables.py, migration 0011).
_KEYS: dict[OrderField, _Key] = {
    OrderField.ENROLLED_AT: _Key(e.enrolled_at, "time"),
    OrderField.CONTACT_NAME: _Key(contacts.c.sort_name, "text", on_contact=True),
    OrderField.NEXT_SEND_AT: _Key(next_send_key(), "time"),
    OrderField.STATUS_CHANGED_AT: _Key(e.status_changed_at, "time"),
    # a written constant, not a bound one: the expression ix_enrollments_seq_step_order has
    OrderField.CURRENT_STEP: _Key(
        sa.func.coalesce(e.current_step, sa.literal_column(str(LAST_STEP), sa.Integer)), "int"
    ),
    OrderField.STATUS: _Key(e.status, "text"),
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


async def enrollment_page(
    db: Database,
    actor: Actor,
    sequence_id: int,
    flt: EnrollmentFilter,
    request: PageRequest,
    *,
    order: EnrollmentOrder,
    with_counts: bool = False,
    columns: frozenset[str] | None = None,
) -> tuple[Page[PageRow], dict[EnrollmentStatus, int] | None]:
    """One page of a sequence's enrollments, ordered by (sort key, id). ``with_counts``
    adds ``status_counts`` for the same filter, from the same statement (with a search,
    the enrollments matching all but the status part are found once for both).
    ``columns``: the ``PageRow`` fields to read (``id`` and ``enrolled_at`` always are);
    the others are None, and the rows are the driver's (on PostgreSQL asyncpg's records:
    an enum column's stored value, a time aware in UTC) in ``PageRow``'s order (maybe with
    more columns after), not ``PageRow``s: what the page's execution plan reads, by
    position, only what its document asks (every column costs decoding, ~0.3 us a
    value)."""
    prepared = prepare_page(
        db, actor.workspace_id, sequence_id, flt, request,
        order=order, with_counts=with_counts, columns=columns,
    )  # fmt: skip
    return await prepared.read(db)


class PreparedPage:
    """A page's read made ready (``prepare_page``): its statement with its values, and
    how its rows become the page. Read again and again when kept: a page's execution
    plan keeps the read of the arguments it saw (making it costs ~10 us)."""

    __slots__ = ("cursor_of", "raw", "request", "statement", "with_counts")

    def __init__(
        self,
        statement: PreparedRead,
        request: PageRequest,
        order: EnrollmentOrder,
        with_counts: bool,
        raw: bool,
    ) -> None:
        self.statement = statement
        self.request = request
        self.cursor_of = _CURSORS[order.field, order.direction]
        self.with_counts = with_counts
        self.raw = raw

    async def read(self, db: Database) -> tuple[Page[PageRow], dict[EnrollmentStatus, int] | None]:
        """The page (see ``enrollment_page``) and its counts."""
        result = await db.rows(self.statement, raw=self.raw)
        counts = None
        if self.with_counts:
            # a count row has a status count, a page row has none
            counts = {EnrollmentStatus(r[-2]): r[-1] for r in result if r[-2] is not None}
            result = [r for r in result if r[-2] is None]
        page = self.request.cut(result, self.cursor_of)
        if self.raw:  # a plan's: it reads the rows by position (PageRow's order)
            return page, counts
        rows = [PageRow._make(r[:_WIDTH]) for r in page.rows]
        return Page(rows, page.has_next, page.cursors, page.has_previous), counts


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
    """The read of ``enrollment_page`` (the same arguments, the actor's workspace), made
    ready; a bad cursor raises ``BadPageRequest``."""
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
        read = PAGE_COLUMNS if columns is None else _only(columns)
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


def _cursor_writer(field: OrderField, direction: OrderDirection) -> Callable[[Any], str]:
    """The cursor of a row of a page in this order: its sort key and id."""
    # encode_cursor's JSON written out as bytes when sorting by time (an id is an int:
    # %d writes it as str does), base64.urlsafe_b64encode's two steps called directly
    head = json.dumps([field.value, direction.value])[:-1].encode() + b", "
    names, kind = (field.value, direction.value), _KEYS[field].kind

    def cursor_of(r: Any) -> str:
        if field is OrderField.ENROLLED_AT:
            text = b"%s%s, %d]" % (head, isoformat_json(r[_ENROLLED_AT]), r[_ID])
            return b2a_base64(text, newline=False).translate(_URLSAFE).decode()
        value = r[_SORT_KEY]
        if kind == "time":
            value = isoformat(value)
        elif kind == "text":
            value = str(value)
        return encode_cursor([*names, value, r[_ID]])

    return cursor_of


_URLSAFE = bytes.maketrans(b"+/", b"-_")
_CURSORS = {(f, d): _cursor_writer(f, d) for f in OrderField for d in OrderDirection}


def _decode_position(
    cursor: str, order: EnrollmentOrder, argument: CursorArgument
) -> tuple[Any, int]:
    """The (sort key, id) of the row a cursor of this same ordering points at."""
    field, direction, raw_key, last_id = decode_cursor(cursor, 4, argument)
    if (field, direction) != (order.field.value, order.direction.value):
        raise BadPageRequest(argument, f"`{argument}` is a cursor of another `orderBy`")
    last_id = row_id(last_id, argument)
    kind = _KEYS[order.field].kind
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
